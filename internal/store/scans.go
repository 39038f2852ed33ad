package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// chunkSize is how many violations one stored chunk holds: a report of any size is kept as
// chunks far below the 16 MiB document limit, each read by _id (which FerretDB pushes down).
const chunkSize = 500

type scanDoc struct {
	duty.Scan `bson:",inline"`
	Resolved  int `bson:"resolved_chunks"`
	Waived    int `bson:"waived_chunks,omitempty"` // chunks of waived violations (ledger.go)
	// Owner is the instance running the scan (Store.Instance): a scan whose owner died is
	// marked failed by recovery.
	Owner string `bson:"owner,omitempty"`
	// Adoptions counts the times the scan was taken over from a dead coordinator (Adopted).
	Adoptions int    `bson:"adoptions,omitempty"`
	UpdatedAt string `bson:"updated_at"`
	Generated string `bson:"generated_at,omitempty"`
	// Format is reportFormat for scans whose findings are kept by department (reports.go);
	// legacyReportFormat for scans of the previous layout, moved at start.
	Format int `bson:"format,omitempty"`
	// Pruned says that the retention removed the scan's findings; its summaries stay.
	Pruned    bool   `bson:"pruned,omitempty"`
	ScopeHash string `bson:"scope_hash,omitempty"`
	// SummaryJSON keeps the summary as JSON text: its maps are keyed by policy ids such as
	// "talk.pre_appointment", and FerretDB refuses field names with dots. It holds no
	// by_department, which grows with the store and is kept in report_summaries instead: every
	// listing of scans reads this document.
	SummaryJSON string `bson:"summary_json,omitempty"`
}

func (d *scanDoc) decodeSummary() {
	if d.SummaryJSON == "" {
		return
	}
	var sum duty.Summary
	if json.Unmarshal([]byte(d.SummaryJSON), &sum) == nil {
		d.Summary = &sum
	}
}

// PrunedNote is the error of a done scan whose findings the retention removed.
const PrunedNote = "the findings of this scan were removed by the retention of old scans (serve --keep-scans, --keep-days); its summary is kept"

// encodeSummary is the summary as stored with the scan: without by_department.
func encodeSummary(sum duty.Summary) (string, error) {
	sum.ByDepartment = nil
	b, err := json.Marshal(sum)
	return string(b), err
}

// CreateScan stores a new running scan.
func (s *Store) CreateScan(ctx context.Context, sc *duty.Scan) error {
	doc := scanDoc{Scan: *sc, UpdatedAt: s.stamp(), Owner: s.instance}
	doc.Report = nil
	if _, err := s.db.Collection(scansColl).InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("save scan %s: %w", sc.ID, unavailable(err))
	}
	return nil
}

// UpdateProgress records a running scan's progress.
func (s *Store) UpdateProgress(ctx context.Context, id string, p duty.Progress) error {
	defer func() { _ = s.hook("scan.progress") }()
	_, err := s.db.Collection(scansColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "progress", Value: p}, {Key: "updated_at", Value: s.stamp()}}}})
	if err != nil {
		return fmt.Errorf("update scan %s: %w", id, unavailable(err))
	}
	return nil
}

// FailScan marks a running scan of this process failed with the reason; a scan another process
// took over (Adopted) is left to it.
func (s *Store) FailScan(ctx context.Context, id, reason string) error {
	return s.failScanOf(ctx, id, s.instance, reason)
}

// failScanOf marks a running scan of owner failed.
func (s *Store) failScanOf(ctx context.Context, id, owner, reason string) error {
	_, err := s.db.Collection(scansColl).UpdateOne(ctx, ownedScan(id, owner), bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: duty.ScanFailed}, {Key: "error", Value: reason},
		{Key: "finished_at", Value: s.stamp()}, {Key: "updated_at", Value: s.stamp()},
	}}})
	if err != nil {
		return fmt.Errorf("fail scan %s: %w", id, unavailable(err))
	}
	return nil
}

// ownedScan selects scan id while it runs under owner ("": a scan stored by an earlier version,
// without an owner).
func ownedScan(id, owner string) bson.D {
	f := bson.D{{Key: "_id", Value: id}, {Key: "status", Value: duty.ScanRunning}}
	if owner == "" {
		return append(f, bson.E{Key: "owner", Value: bson.D{{Key: "$exists", Value: false}}})
	}
	return append(f, bson.E{Key: "owner", Value: owner})
}

// adoptScan makes this process the owner of a running scan whose owner died; false when the
// scan changed meanwhile. The caller holds the write lease, which every recovery takes, so no
// two processes adopt one scan.
func (s *Store) adoptScan(ctx context.Context, d *scanDoc) (bool, error) {
	res, err := s.db.Collection(scansColl).UpdateOne(ctx, ownedScan(d.ID, d.Owner), bson.D{{Key: "$set", Value: bson.D{
		{Key: "owner", Value: s.instance}, {Key: "adoptions", Value: d.Adoptions + 1}, {Key: "updated_at", Value: s.stamp()},
	}}})
	if err != nil {
		return false, fmt.Errorf("take over scan %s: %w", d.ID, unavailable(err))
	}
	return res.MatchedCount == 1, nil
}

// TakeAdopted returns the scans this process took over from dead coordinators since the last
// call (Config.AdoptScans); the scan service runs them to their end.
func (s *Store) TakeAdopted() []string {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := s.adopted
	s.adopted = nil
	return out
}

// GetScan returns a scan, with its report when it is done.
func (s *Store) GetScan(ctx context.Context, id string) (*duty.Scan, error) {
	var d scanDoc
	err := s.db.Collection(scansColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("scan %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read scan %q: %w", id, unavailable(err))
	}
	return s.withReport(ctx, &d)
}

func (s *Store) withReport(ctx context.Context, d *scanDoc) (*duty.Scan, error) {
	d.decodeSummary()
	sc := d.Scan
	if sc.Status != duty.ScanDone {
		return &sc, nil
	}
	if d.Format != reportFormat {
		return nil, fmt.Errorf("scan %s: %w: its report is in a format this version does not read", sc.ID, duty.ErrNotFound)
	}
	if d.Pruned {
		// The summary stays (the trend shows it); the findings are gone.
		sc.Error = PrunedNote
		return &sc, nil
	}
	rep, err := s.fullReport(ctx, sc.ID)
	if err != nil {
		return nil, err
	}
	rep.ScanID, rep.AsOf, rep.PolicyRevision, rep.GeneratedAt = sc.ID, sc.AsOf, sc.PolicyRevision, d.Generated
	// A report's lists are lists also when empty (docs/report.md; the API's OpenAPI document).
	if rep.Violations == nil {
		rep.Violations = []duty.Violation{}
	}
	if rep.Warnings == nil {
		rep.Warnings = []duty.Warning{}
	}
	if sc.Department != "" {
		dept := sc.Department
		rep.Department = &dept
	}
	if sc.Summary != nil {
		rep.Summary = *sc.Summary
		rep.Summary.ByDepartment = duty.Summarize(rep.Violations).ByDepartment
	} else {
		rep.Summary = summaryOf(rep)
	}
	sc.Summary = &rep.Summary
	sc.Report = rep
	return &sc, nil
}

// LatestScan returns, with its report, the latest done scan whose scope is one of scopes ("" is
// the whole store): the one with the latest as-of date, and of those the last finished (a scan
// run today as of last June is not newer than last December's). duty.ErrNotFound when there is
// none.
func (s *Store) LatestScan(ctx context.Context, scopes []string) (*duty.Scan, error) {
	l, err := s.latest(ctx, scopes)
	if err != nil {
		return nil, err
	}
	return s.GetScan(ctx, l.Scan)
}

// latestScanDoc finds the done scan of one of scopes with the latest as-of date, on or before
// asOf unless asOf is "", the last finished among those.
func (s *Store) latestScanDoc(ctx context.Context, scopes []string, asOf string) (*scanDoc, error) {
	filter := bson.D{{Key: "status", Value: duty.ScanDone}, {Key: "scope", Value: bson.D{{Key: "$in", Value: scopes}}}}
	if asOf != "" {
		filter = append(filter, bson.E{Key: "as_of", Value: bson.D{{Key: "$lte", Value: asOf}}})
	}
	var d scanDoc
	err := s.db.Collection(scansColl).FindOne(ctx, filter,
		options.FindOne().SetSort(bson.D{{Key: "as_of", Value: -1}, {Key: "finished_at", Value: -1}, {Key: "_id", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("no finished scan covers %v: %w", scopes, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read scans: %w", unavailable(err))
	}
	return &d, nil
}

// ListScans returns the most recent scans, newest first, without reports.
func (s *Store) ListScans(ctx context.Context, limit int) ([]duty.Scan, error) {
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "started_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read scans: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var out []duty.Scan
	for cur.Next(ctx) {
		var d scanDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode scan: %w", err)
		}
		d.decodeSummary()
		out = append(out, d.Scan)
	}
	return out, cur.Err()
}
