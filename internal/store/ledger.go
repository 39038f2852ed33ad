package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The rectification ledger (issue 16): waivers, cases, the scans whose cases are still to be
// brought up to date, and the waived violations of each report. The rules live in
// internal/ledger; this file only keeps the documents. Every change of a waiver or a case is a
// compare-and-set on its revision (Rev), made under the write lease (LockLedger): FerretDB v1
// has no transactions and applies a conditional update by reading and writing the document, so
// only the lease keeps two processes from both storing a change made on the same state.
const (
	waiversColl = "waivers"
	// Cases are kept in a table per organ (casesPrefix + organ, in the organ's shard database:
	// shards.go): the embedded store reads a whole table to update or delete one document in
	// it, so a case moves at the cost of its organ's cases, not of every case. caseOrganColl
	// names the organ of each case id.
	casesPrefix    = "cases."
	caseOrganColl  = "case_organs"
	ledgerSyncColl = "ledger_sync"
	ledgerMarkColl = "ledger_asof"
	// ledgerDueColl holds, per organ, how many cases of each department fall due on each day.
	ledgerDueColl = "ledger_due"
)

// InsertWaiver stores a new waiver request.
func (s *Store) InsertWaiver(ctx context.Context, w *duty.Waiver) error {
	if _, err := s.db.Collection(waiversColl).InsertOne(ctx, w); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("waiver %s: %w: it exists", w.ID, duty.ErrConflict)
		}
		return fmt.Errorf("save waiver %s: %w", w.ID, unavailable(err))
	}
	return nil
}

// GetWaiver returns one waiver.
func (s *Store) GetWaiver(ctx context.Context, id string) (*duty.Waiver, error) {
	var w duty.Waiver
	err := s.db.Collection(waiversColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("waiver %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read waiver %q: %w", id, unavailable(err))
	}
	return &w, nil
}

// ReplaceWaiver stores w over revision w.Rev-1; duty.ErrConflict when the stored waiver has
// changed since it was read.
func (s *Store) ReplaceWaiver(ctx context.Context, w *duty.Waiver) error {
	return s.replaceRev(ctx, s.db.Collection(waiversColl), w.ID, w.Rev, w)
}

// Waivers lists the waivers, optionally only those of one status and one policy, by id.
func (s *Store) Waivers(ctx context.Context, status, policy string) ([]duty.Waiver, error) {
	filter := bson.D{}
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: status})
	}
	if policy != "" {
		filter = append(filter, bson.E{Key: "policy", Value: policy})
	}
	out := []duty.Waiver{}
	if err := s.findAll(ctx, s.db.Collection(waiversColl), filter, &out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b duty.Waiver) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// InsertCases stores new cases; a case whose id is already stored is left as it is (a sync
// run again after a crash opens nothing twice). It returns the ids it inserted.
func (s *Store) InsertCases(ctx context.Context, cases []duty.Case) ([]string, error) {
	byOrgan := map[string][]duty.Case{}
	var organs []string
	for _, c := range cases {
		if byOrgan[c.Organ] == nil {
			organs = append(organs, c.Organ)
		}
		byOrgan[c.Organ] = append(byOrgan[c.Organ], c)
	}
	slices.Sort(organs)
	var inserted []string
	for _, organ := range organs {
		part := byOrgan[organ]
		index := make([]any, len(part))
		docs := make([]any, len(part))
		for i := range part {
			index[i] = bson.D{{Key: "_id", Value: part[i].ID}, {Key: "organ", Value: organ}}
			docs[i] = part[i]
		}
		// The index first: a case is never stored without the entry that finds it.
		if _, err := insertNew(ctx, s.db.Collection(caseOrganColl), index); err != nil {
			return inserted, fmt.Errorf("save cases: %w", err)
		}
		dup, err := insertNew(ctx, s.casesColl(organ), docs)
		if err != nil {
			return inserted, fmt.Errorf("save cases: %w", err)
		}
		for i := range part {
			if !dup[i] {
				inserted = append(inserted, part[i].ID)
			}
		}
	}
	return inserted, nil
}

// insertNew inserts docs, leaving those whose _id is stored already; it returns their indexes.
func insertNew(ctx context.Context, coll *mongo.Collection, docs []any) (map[int]bool, error) {
	dup := map[int]bool{}
	for start := 0; start < len(docs); start += 500 {
		part := docs[start:min(start+500, len(docs))]
		_, err := coll.InsertMany(ctx, part, options.InsertMany().SetOrdered(false))
		if err == nil {
			continue
		}
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return nil, unavailable(err)
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return nil, unavailable(err)
			}
			dup[start+we.Index] = true
		}
	}
	return dup, nil
}

// GetCase returns one case.
func (s *Store) GetCase(ctx context.Context, id string) (*duty.Case, error) {
	var ix struct {
		Organ string `bson:"organ"`
	}
	err := s.db.Collection(caseOrganColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&ix)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("case %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read case %q: %w", id, unavailable(err))
	}
	var c duty.Case
	err = s.casesColl(ix.Organ).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("case %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read case %q: %w", id, unavailable(err))
	}
	return &c, nil
}

// ReplaceCase stores c over revision c.Rev-1; duty.ErrConflict when the stored case has changed
// since it was read.
func (s *Store) ReplaceCase(ctx context.Context, c *duty.Case) error {
	return s.replaceRev(ctx, s.casesColl(c.Organ), c.ID, c.Rev, c)
}

// Cases lists every case, optionally of one organ, by id.
func (s *Store) Cases(ctx context.Context, organ string) ([]duty.Case, error) {
	tables := []*mongo.Collection{s.casesColl(organ)}
	if organ == "" {
		var err error
		if tables, err = s.shardColls(ctx, casesPrefix); err != nil {
			return nil, err
		}
	}
	out := []duty.Case{}
	for _, t := range tables {
		var part []duty.Case
		if err := s.findAll(ctx, t, bson.D{}, &part); err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	slices.SortFunc(out, func(a, b duty.Case) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// AuditOnce appends an audit entry whose id the caller chose (e.ID), once: writing it again
// changes nothing, so a step run again after a crash does not audit twice.
func (s *Store) AuditOnce(ctx context.Context, e duty.AuditEntry) error {
	if e.ID == "" {
		return fmt.Errorf("an audit entry written once needs its id: %w", duty.ErrInvalid)
	}
	if e.At == "" {
		e.At = s.stamp()
	}
	if e.IDs == nil {
		e.IDs = []string{}
	}
	if _, err := s.db.Collection(auditColl).InsertOne(ctx, e); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write audit trail: %w", unavailable(err))
	}
	return nil
}

// MarkLedgerPending records that the cases are to be brought up to date with scan id; it is
// written before the scan is marked done, so that a process killed in between leaves the mark.
func (s *Store) MarkLedgerPending(ctx context.Context, scanID string) error {
	_, err := s.db.Collection(ledgerSyncColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: scanID}},
		bson.D{{Key: "_id", Value: scanID}, {Key: "at", Value: s.stamp()}}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mark scan %s for the ledger: %w", scanID, unavailable(err))
	}
	return nil
}

// LedgerPending lists the scans whose cases are still to be brought up to date, oldest first
// (scan ids sort by time).
func (s *Store) LedgerPending(ctx context.Context) ([]string, error) {
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := s.findAll(ctx, s.db.Collection(ledgerSyncColl), bson.D{}, &docs); err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	return ids, nil
}

// ClearLedgerPending removes the mark of scan id.
func (s *Store) ClearLedgerPending(ctx context.Context, scanID string) error {
	if _, err := s.db.Collection(ledgerSyncColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: scanID}}); err != nil {
		return fmt.Errorf("clear the ledger mark of scan %s: %w", scanID, unavailable(err))
	}
	return nil
}

// LedgerAsOf returns the latest as-of date of the scans the cases were brought up to date with,
// among those of the given scopes ("" is the whole store); "" when there is none.
func (s *Store) LedgerAsOf(ctx context.Context, scopes []string) (string, error) {
	var docs []struct {
		AsOf string `bson:"as_of"`
	}
	if err := s.findAll(ctx, s.db.Collection(ledgerMarkColl), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: scopes}}}}, &docs); err != nil {
		return "", err
	}
	latest := ""
	for _, d := range docs {
		latest = max(latest, d.AsOf)
	}
	return latest, nil
}

// SetLedgerAsOf records that the cases of scope were brought up to date with a scan as of asOf.
func (s *Store) SetLedgerAsOf(ctx context.Context, scope, asOf string) error {
	_, err := s.db.Collection(ledgerMarkColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: scope}},
		bson.D{{Key: "_id", Value: scope}, {Key: "as_of", Value: asOf}}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record the ledger's date: %w", unavailable(err))
	}
	return nil
}

// SubjectDepartment returns the department the record d of collection belongs to (as
// duty.DepartmentOfDoc, with people read from the store): "" when the person it names is not
// stored, an error when the person cannot be read (a store error would otherwise be kept as
// "no department" on what is stored with it).
func (s *Store) SubjectDepartment(ctx context.Context, collection string, d duty.Doc) (string, error) {
	var readErr error
	dept := duty.DepartmentOfDoc(collection, d, func(p string) string {
		person, err := s.Get(ctx, "people", p)
		if err != nil {
			if !errors.Is(err, duty.ErrNotFound) {
				readErr = err
			}
			return ""
		}
		return person.Str("department_id")
	})
	if readErr != nil {
		return "", fmt.Errorf("the department of %s %q: %w", collection, d.ID(), readErr)
	}
	return dept, nil
}

func (s *Store) replaceRev(ctx context.Context, coll *mongo.Collection, id string, rev int64, doc any) error {
	res, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "rev", Value: rev - 1}}, doc)
	if err != nil {
		return fmt.Errorf("save %s %s: %w", coll.Name(), id, unavailable(err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s %s: %w: it was changed meanwhile; read it again", coll.Name(), id, duty.ErrConflict)
	}
	return nil
}

func (s *Store) findAll(ctx context.Context, coll *mongo.Collection, filter bson.D, out any) error {
	cur, err := coll.Find(ctx, filter)
	if err != nil {
		return fmt.Errorf("read %s: %w", coll.Name(), unavailable(err))
	}
	if err := cur.All(ctx, out); err != nil {
		return fmt.Errorf("read %s: %w", coll.Name(), unavailable(err))
	}
	return nil
}

// LockLedger serialises the ledger's read-modify-writes of cases, waivers and due counts with
// every other writer of the store, in this process and in the others sharing it: it takes the
// store's write lease (writeMu, and the lease document across processes), since FerretDB v1 has
// no transactions and no atomic conditional update, so a compare-and-set on a revision alone is
// not enough when two processes update one case. unlock gives it back. The caller must not
// write records while holding it.
func (s *Store) LockLedger(ctx context.Context) (unlock func(), err error) {
	return s.lockWrites(ctx)
}

// CaseMark is what bringing the cases up to date with a scan reads of every case of an organ:
// the fields that say whether the scan moves it, and those the due counts are made of.
type CaseMark struct {
	ID         string `bson:"_id"`
	State      string `bson:"state"`
	Department string `bson:"department"`
	ScanAsOf   string `bson:"scan_as_of"`
	DueOn      string `bson:"due_on"`
}

// CaseMarks returns the marks of every case of an organ (only those fields are read).
func (s *Store) CaseMarks(ctx context.Context, organ string) ([]CaseMark, error) {
	cur, err := s.casesColl(organ).Find(ctx, bson.D{}, options.Find().SetProjection(
		bson.D{{Key: "state", Value: 1}, {Key: "department", Value: 1}, {Key: "scan_as_of", Value: 1}, {Key: "due_on", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read the cases of %s: %w", organ, unavailable(err))
	}
	out := []CaseMark{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read the cases of %s: %w", organ, unavailable(err))
	}
	return out, nil
}

// DueCount is how many cases of a department that are still to be worked (neither closed,
// resolved nor waived) fall due on one day: the department standing counts the overdue ones
// from these without reading the cases.
type DueCount struct {
	Department string `bson:"department"`
	DueOn      string `bson:"due_on"`
	N          int    `bson:"n"`
}

// SetLedgerDue stores the due counts of an organ's cases (a document per organ in ledger_due).
func (s *Store) SetLedgerDue(ctx context.Context, organ string, counts []DueCount) error {
	if counts == nil {
		counts = []DueCount{}
	}
	_, err := s.db.Collection(ledgerDueColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: organ}},
		bson.D{{Key: "_id", Value: organ}, {Key: "counts", Value: counts}}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store the due counts of %s: %w", organ, unavailable(err))
	}
	return nil
}

// LedgerDue returns the due counts of an organ's cases; found is false when none were stored
// (no sync since the counts were introduced).
func (s *Store) LedgerDue(ctx context.Context, organ string) (counts []DueCount, found bool, err error) {
	var doc struct {
		Counts []DueCount `bson:"counts"`
	}
	err = s.db.Collection(ledgerDueColl).FindOne(ctx, bson.D{{Key: "_id", Value: organ}}).Decode(&doc)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read the due counts of %s: %w", organ, unavailable(err))
	}
	return doc.Counts, true, nil
}

// DropLedgerDue removes the due counts of an organ (tests: a store from before the counts).
func (s *Store) DropLedgerDue(ctx context.Context, organ string) error {
	if _, err := s.db.Collection(ledgerDueColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: organ}}); err != nil {
		return fmt.Errorf("drop the due counts of %s: %w", organ, unavailable(err))
	}
	return nil
}
