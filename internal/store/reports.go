package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Reports by organ. A scan writes each organ's violations as soon as the organ is evaluated,
// in chunks of at most chunkSize, into a table of its own ("report.<scan id>"), and at the end
// an index ("report_index.<scan id>") saying, for every organ of the scan, where its
// violations are: in its own table, or in the table of an earlier scan whose results for that
// organ it reused (same records, policies and as-of date). A re-scan after a small change thus
// writes only the organs that changed. Tables, not one shared collection, because the embedded
// store reads a whole table to answer any query: a report is read at the cost of its own size,
// whatever the history.
//
// Scans written before this layout (format 0) keep their chunks in scan_chunks and are read as
// before.

const (
	reportFormat      = 2
	reportTablePrefix = "report."
	indexTablePrefix  = "report_index."
	indexChunk        = 2000
)

// OrganResult says where the violations of one organ in a scan are kept.
type OrganResult struct {
	Organ string `bson:"o"`
	// Version is the organ's version the violations were computed from; -1 when they must not
	// be reused (the organ was being written while the scan read it).
	Version int64 `bson:"v"`
	// Source is the scan whose report table holds the violations.
	Source string `bson:"s"`
	Count  int    `bson:"n"`
	Chunks int    `bson:"c"`
}

type organChunk struct {
	ID         string           `bson:"_id"`
	Organ      string           `bson:"organ"`
	Violations []duty.Violation `bson:"violations"`
}

type indexDoc struct {
	ID      string        `bson:"_id"`
	Entries []OrganResult `bson:"entries"`
}

func chunkID(organ string, i int) string { return "v/" + organ + "/" + strconv.Itoa(i) }

// PutOrganViolations stores the violations of one organ found by scan scanID and returns its
// entry in the scan's index.
func (s *Store) PutOrganViolations(ctx context.Context, scanID, organ string, version int64, vs []duty.Violation) (OrganResult, error) {
	r := OrganResult{Organ: organ, Version: version, Source: scanID, Count: len(vs)}
	var ids []string
	var docs []any
	for start := 0; start < len(vs); start += chunkSize {
		c := organChunk{ID: chunkID(organ, r.Chunks), Organ: organ, Violations: vs[start:min(start+chunkSize, len(vs))]}
		ids, docs = append(ids, c.ID), append(docs, c)
		r.Chunks++
	}
	if err := insertOrReplace(ctx, s.db.Collection(reportTablePrefix+scanID), ids, docs); err != nil {
		return r, fmt.Errorf("save report of scan %s: %w", scanID, err)
	}
	return r, nil
}

// FinishIndexedScan stores the index of a scan whose organs' violations were stored with
// PutOrganViolations (or reused from earlier scans), and the checks it resolved; then marks the
// scan done. keyHash identifies the set of departments the scan reported on (see
// ScanMeta.ScopeHash).
func (s *Store) FinishIndexedScan(ctx context.Context, sc *duty.Scan, results []OrganResult, keyHash string) error {
	rep := sc.Report
	idx := s.db.Collection(indexTablePrefix + sc.ID)
	var ids []string
	var docs []any
	for start, i := 0, 0; start < len(results); start, i = start+indexChunk, i+1 {
		d := bson.D{{Key: "_id", Value: "i/" + strconv.Itoa(i)}, {Key: "entries", Value: results[start:min(start+indexChunk, len(results))]}}
		ids, docs = append(ids, "i/"+strconv.Itoa(i)), append(docs, d)
	}
	if err := insertOrReplace(ctx, idx, ids, docs); err != nil {
		return fmt.Errorf("save the index of scan %s: %w", sc.ID, err)
	}
	resolved := 0
	for start := 0; start < len(rep.Resolved); start += chunkSize {
		c := chunk{ID: "r/" + strconv.Itoa(resolved), ScanID: sc.ID, Violations: rep.Resolved[start:min(start+chunkSize, len(rep.Resolved))]}
		_, err := s.db.Collection(reportTablePrefix+sc.ID).ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, c, options.Replace().SetUpsert(true))
		if err != nil {
			return fmt.Errorf("save report of scan %s: %w", sc.ID, unavailable(err))
		}
		resolved++
	}
	waived, err := s.putWaived(ctx, sc.ID, rep.Waived)
	if err != nil {
		return err
	}
	sum, err := json.Marshal(rep.Summary)
	if err != nil {
		return fmt.Errorf("encode summary of scan %s: %w", sc.ID, err)
	}
	_, err = s.db.Collection(scansColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: sc.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: duty.ScanDone},
		{Key: "progress", Value: sc.Progress},
		{Key: "policy_revision", Value: rep.PolicyRevision},
		{Key: "finished_at", Value: sc.FinishedAt},
		{Key: "summary_json", Value: string(sum)},
		{Key: "format", Value: reportFormat},
		{Key: "scope_hash", Value: keyHash},
		{Key: "index_chunks", Value: len(docs)},
		{Key: "resolved_chunks", Value: resolved},
		{Key: "waived_chunks", Value: waived},
		{Key: "generated_at", Value: rep.GeneratedAt},
		{Key: "updated_at", Value: now()},
	}}})
	if err != nil {
		return fmt.Errorf("finish scan %s: %w", sc.ID, unavailable(err))
	}
	return nil
}

// ScanMeta is what a new scan needs to know of an earlier one to compare with it and reuse its
// results.
type ScanMeta struct {
	ID, AsOf, PolicyRevision string
	// Department is the scan's scope, "" for the whole store.
	Department string
	// ScopeHash identifies the departments the scan reported on.
	ScopeHash string
	// Indexed is true for scans whose violations are kept by organ (ScanIndex).
	Indexed bool
}

// PreviousScanMeta returns, without its report, the done scan a new scan at asOf over one of
// scopes compares with: among the done scans of those scopes ("" is the whole store) with an
// as-of date on or before asOf, the latest as-of date, and of those the last finished.
// duty.ErrNotFound when there is none. A scan never compares with a later date's report, so it
// never claims as resolved what was found only after its date, and a first_seen it inherits is
// never after its own as-of date.
func (s *Store) PreviousScanMeta(ctx context.Context, scopes []string, asOf string) (*ScanMeta, error) {
	d, err := s.latestScanDoc(ctx, scopes, asOf)
	if err != nil {
		return nil, err
	}
	return &ScanMeta{ID: d.ID, AsOf: d.AsOf, PolicyRevision: d.PolicyRevision, Department: d.Department,
		ScopeHash: d.ScopeHash, Indexed: d.Format == reportFormat}, nil
}

// ScanIndex returns where the violations of each organ of an indexed scan are kept.
func (s *Store) ScanIndex(ctx context.Context, scanID string) ([]OrganResult, error) {
	cur, err := s.db.Collection(indexTablePrefix+scanID).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the index of scan %s: %w", scanID, unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var docs []indexDoc
	for cur.Next(ctx) {
		var d indexDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode the index of scan %s: %w", scanID, err)
		}
		docs = append(docs, d)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read the index of scan %s: %w", scanID, unavailable(err))
	}
	slices.SortFunc(docs, func(a, b indexDoc) int { return strings.Compare(a.ID, b.ID) })
	var out []OrganResult
	for _, d := range docs {
		out = append(out, d.Entries...)
	}
	return out, nil
}

// OrganViolations returns the violations the entries point to, by organ.
func (s *Store) OrganViolations(ctx context.Context, entries []OrganResult) (map[string][]duty.Violation, error) {
	out := make(map[string][]duty.Violation, len(entries))
	bySource := map[string]map[string]OrganResult{}
	for _, e := range entries {
		if e.Count == 0 {
			continue
		}
		if bySource[e.Source] == nil {
			bySource[e.Source] = map[string]OrganResult{}
		}
		bySource[e.Source][e.Organ] = e
	}
	for source, organs := range bySource {
		coll := s.db.Collection(reportTablePrefix + source)
		add := func(raw bson.Raw) error {
			var c organChunk
			if err := bson.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("decode report of scan %s: %w", source, err)
			}
			if _, ok := organs[c.Organ]; ok && strings.HasPrefix(c.ID, "v/") {
				out[c.Organ] = append(out[c.Organ], c.Violations...)
			}
			return nil
		}
		chunks := 0
		for _, e := range organs {
			chunks += e.Chunks
		}
		if chunks <= fewIDs {
			for _, e := range organs {
				for i := range e.Chunks {
					raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: chunkID(e.Organ, i)}}).Raw()
					if err != nil {
						return nil, fmt.Errorf("read report of scan %s: %w", source, unavailable(err))
					}
					if err := add(raw); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("read report of scan %s: %w", source, unavailable(err))
		}
		for cur.Next(ctx) {
			if err := add(cur.Current); err != nil {
				cur.Close(context.WithoutCancel(ctx))
				return nil, err
			}
		}
		err = cur.Err()
		cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("read report of scan %s: %w", source, unavailable(err))
		}
	}
	for organ, vs := range out {
		for i := range vs {
			if vs[i].Evidence == nil {
				vs[i].Evidence = []duty.Ref{}
			}
		}
		out[organ] = vs
	}
	return out, nil
}

// indexedViolations reads the violations and the resolved checks of an indexed scan.
func (s *Store) indexedViolations(ctx context.Context, d *scanDoc) ([]duty.Violation, []duty.Violation, error) {
	entries, err := s.ScanIndex(ctx, d.ID)
	if err != nil {
		return nil, nil, err
	}
	byOrgan, err := s.OrganViolations(ctx, entries)
	if err != nil {
		return nil, nil, err
	}
	vs := []duty.Violation{}
	for _, e := range entries {
		vs = append(vs, byOrgan[e.Organ]...)
	}
	duty.SortViolations(vs)
	resolved := []duty.Violation{}
	for i := range d.Resolved {
		var c chunk
		err := s.db.Collection(reportTablePrefix+d.ID).FindOne(ctx, bson.D{{Key: "_id", Value: "r/" + strconv.Itoa(i)}}).Decode(&c)
		if err != nil {
			return nil, nil, fmt.Errorf("read report of scan %s: %w", d.ID, unavailable(err))
		}
		resolved = append(resolved, c.Violations...)
	}
	return vs, resolved, nil
}
