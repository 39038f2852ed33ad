package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Organ tables. Besides its collection, every record is kept in the table of its organ (a
// collection "organ.<id>" holding the record's fields with _id "<collection>/<id>"), written by
// the same calls that write the record. A scan reads organ by organ from these tables: each
// record once, an organ's records together, so that organs are evaluated while the next ones
// are read and a re-scan reads only the organs that changed.
//
// This is what makes a scan fast on the embedded store: FerretDB v1 (SQLite) answers every query
// but a whole-table read by parsing every row of the table (even `_id` equality: its _id index
// is on another expression than the one its queries use), so a query for one organ's records in
// a collection of a million costs as much as reading them all; reading one organ's table costs
// only that organ's records. On MongoDB the tables cost one more write per record and spare the
// scan its per-collection queries.
//
// organ_versions keeps, for every organ, a version that every write to one of its records (or
// its table) increases, before and after the write, and the count of writes under way. A scan
// reuses an organ's previous results only when its version is the same and no write is under
// way (see scan.Service).

const (
	organVersionsColl = "organ_versions"
	metaColl          = "store_meta"
	organTablePrefix  = "organ."
	// organTablesFormat is the layout of the organ tables; a store whose meta document says
	// otherwise (or nothing: a store written before them) has them rebuilt when opened.
	organTablesFormat = 1
)

var safeOrganID = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,119}$`)

// organTable returns the name of the table of organ: "organ.<id>" when the id is a plain
// name, else "organ.~<hash>".
func organTable(organ string) string {
	if safeOrganID.MatchString(organ) {
		return organTablePrefix + organ
	}
	h := sha256.Sum256([]byte(organ))
	return organTablePrefix + "~" + hex.EncodeToString(h[:12])
}

// tableKey is a record's _id in its organ's table.
func tableKey(collection, id string) string { return collection + "/" + id }

// tableDoc is a record's document in its organ's table: the fields of the record as stored in
// its collection (stored, a bson.D or bson.Raw) under another _id, without the organ stamp.
func tableDoc(collection, id string, stored any) (bson.D, error) {
	out := bson.D{{Key: "_id", Value: tableKey(collection, id)}}
	switch d := stored.(type) {
	case bson.D:
		for _, e := range d {
			if e.Key != "_id" && e.Key != duty.OrganField {
				out = append(out, e)
			}
		}
	case bson.Raw:
		elems, err := d.Elements()
		if err != nil {
			return nil, err
		}
		for _, e := range elems {
			if k := e.Key(); k != "_id" && k != duty.OrganField {
				out = append(out, bson.E{Key: k, Value: e.Value()})
			}
		}
	default:
		return nil, fmt.Errorf("unexpected record type %T", stored)
	}
	return out, nil
}

type organVersionDoc struct {
	ID        string `bson:"_id"`
	Version   int64  `bson:"version"`
	Pending   int64  `bson:"pending"`
	UpdatedAt string `bson:"updated_at"`
}

// OrganVersion is the state of one organ's records.
type OrganVersion struct {
	// Version increases with every write to one of the organ's records.
	Version int64
	// Settled is false while a write to the organ is under way (or was interrupted): its
	// records may be changing, so no result computed from them is reused.
	Settled bool
}

// OrganVersions returns the version of every organ that has, or had, records.
func (s *Store) OrganVersions(ctx context.Context) (map[string]OrganVersion, error) {
	cur, err := s.db.Collection(organVersionsColl).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read organ versions: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := map[string]OrganVersion{}
	for cur.Next(ctx) {
		var d organVersionDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode organ version: %w", err)
		}
		out[d.ID] = OrganVersion{Version: d.Version, Settled: d.Pending == 0}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read organ versions: %w", unavailable(err))
	}
	return out, nil
}

// beginOrgans marks a write to the organs as under way, and endOrgans as finished; each
// increases their versions. A scan that read a version before or during the write sees another
// one afterwards, so it never reuses results computed from records the write was changing.
func (s *Store) beginOrgans(ctx context.Context, organs []string) error {
	return s.stepOrgans(ctx, organs, 1)
}

func (s *Store) endOrgans(ctx context.Context, organs []string) error {
	return s.stepOrgans(ctx, organs, -1)
}

func (s *Store) stepOrgans(ctx context.Context, organs []string, pending int64) error {
	if len(organs) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, 0, len(organs))
	at := now()
	for _, o := range organs {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: o}}).
			SetUpdate(bson.D{
				{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}, {Key: "pending", Value: pending}}},
				{Key: "$set", Value: bson.D{{Key: "updated_at", Value: at}}},
			}).
			SetUpsert(true))
	}
	for start := 0; start < len(models); start += updatesPerCommand {
		part := models[start:min(start+updatesPerCommand, len(models))]
		if _, err := s.db.Collection(organVersionsColl).BulkWrite(ctx, part, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("update organ versions: %w", unavailable(err))
		}
	}
	return nil
}

// organWrites collects the changes a batch makes to the organ tables.
type organWrites map[string]*organChange

type organChange struct {
	insert, replace []any // new to the table, already in it
	insertIDs       []string
	replaceIDs      []string
	remove          []string // table keys
}

func (w organWrites) change(organ string) *organChange {
	c := w[organ]
	if c == nil {
		c = &organChange{}
		w[organ] = c
	}
	return c
}

func (w organWrites) organs() []string {
	out := make([]string, 0, len(w))
	for o := range w {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// apply writes the changes to the organ tables.
func (w organWrites) apply(ctx context.Context, s *Store) error {
	for _, organ := range w.organs() {
		c := w[organ]
		coll := s.db.Collection(organTable(organ))
		for _, key := range c.remove {
			if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
				return fmt.Errorf("write the table of organ %q: %w", organ, unavailable(err))
			}
		}
		if err := insertOrReplace(ctx, coll, c.insertIDs, c.insert); err != nil {
			return fmt.Errorf("write the table of organ %q: %w", organ, err)
		}
		if err := replaceAll(ctx, coll, c.replaceIDs, c.replace); err != nil {
			return fmt.Errorf("write the table of organ %q: %w", organ, err)
		}
	}
	return nil
}

// insertOrReplace inserts documents (ids[i] is docs[i]'s _id) that should be new; any that
// exists after all (written meanwhile, or left by an interrupted write) is replaced. Inserting
// is much cheaper than an upsert on the embedded store, whose upserts look the _id up by
// reading the whole table.
func insertOrReplace(ctx context.Context, coll *mongo.Collection, ids []string, docs []any) error {
	for start := 0; start < len(docs); start += 1000 {
		part := docs[start:min(start+1000, len(docs))]
		_, err := coll.InsertMany(ctx, part, options.InsertMany().SetOrdered(false))
		if err == nil {
			continue
		}
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return unavailable(err)
		}
		var dupIDs []string
		var dups []any
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 || we.Index < 0 || we.Index >= len(part) {
				return unavailable(err)
			}
			dupIDs = append(dupIDs, ids[start+we.Index])
			dups = append(dups, docs[start+we.Index])
		}
		if err := replaceAll(ctx, coll, dupIDs, dups); err != nil {
			return err
		}
	}
	return nil
}

// updatesPerCommand is the most updates sent in one command. The embedded store keeps the
// query of each update of a command open until the command ends, one SQLite connection each,
// from a pool of 100: a command of 100 updates that match waits forever for a connection.
const updatesPerCommand = 32

// replaceAll upserts documents by _id (ids[i] is docs[i]'s).
func replaceAll(ctx context.Context, coll *mongo.Collection, ids []string, docs []any) error {
	models := make([]mongo.WriteModel, len(docs))
	for i, d := range docs {
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: ids[i]}}).SetReplacement(d).SetUpsert(true)
	}
	for start := 0; start < len(models); start += updatesPerCommand {
		if _, err := coll.BulkWrite(ctx, models[start:min(start+updatesPerCommand, len(models))], options.BulkWrite().SetOrdered(true)); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// ReadOrgan reads every record of organ from its table, decoding each with b, and calls fn
// with its collection and value. It reads nothing else.
func ReadOrgan[T any](ctx context.Context, s *Store, organ string, b duty.ValueBuilder[T], fn func(c *duty.Collection, rec T)) error {
	cur, err := s.db.Collection(organTable(organ)).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read organ %q: %w", organ, unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	w := walker[T]{b: b}
	for cur.Next(ctx) {
		key, _ := cur.Current.Lookup("_id").StringValueOK()
		name, _, _ := strings.Cut(key, "/")
		c := duty.Lookup(name)
		if c == nil {
			return fmt.Errorf("read organ %q: a table document of no collection: %q", organ, key)
		}
		v, err := w.document(cur.Current, false)
		if err != nil {
			return fmt.Errorf("read organ %q: decode %s: %w", organ, name, err)
		}
		fn(c, v)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read organ %q: %w", organ, unavailable(err))
	}
	return nil
}

// ReadAll reads every record of every collection as a plain client would, one collection
// after the other, without decoding them, and returns how many it read. It is the baseline a
// scan's reading is measured against.
func (s *Store) ReadAll(ctx context.Context) (int, error) {
	n := 0
	for _, c := range duty.Collections {
		cur, err := s.db.Collection(c.Name).Find(ctx, bson.D{})
		if err != nil {
			return n, fmt.Errorf("read %s: %w", c.Name, unavailable(err))
		}
		for cur.Next(ctx) {
			n++
		}
		err = cur.Err()
		cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return n, fmt.Errorf("read %s: %w", c.Name, unavailable(err))
		}
	}
	return n, nil
}

// RebuildOrganTables recomputes every organ table from the collections: it drops them, reads
// each collection once and writes each record into the table its organ stamp names, and
// increases every organ's version. It runs at the end of Restamp, when a store written before
// the organ tables is opened, and after an interrupted write; it is idempotent. Like Restamp,
// it must not run alongside a write.
func (s *Store) RebuildOrganTables(ctx context.Context) error {
	old, err := s.OrganVersions(ctx)
	if err != nil {
		return err
	}
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", unavailable(err))
	}
	organs := map[string]bool{}
	for o := range old {
		organs[o] = true
	}
	if err := s.beginOrgans(ctx, keys(organs)); err != nil {
		return err
	}
	s.deptMu.Lock()
	s.depts = nil // the rebuild is also the time to forget what this process remembers
	s.deptMu.Unlock()
	for _, n := range names {
		if strings.HasPrefix(n, organTablePrefix) {
			if err := s.db.Collection(n).Drop(ctx); err != nil {
				return fmt.Errorf("drop %s: %w", n, unavailable(err))
			}
		}
	}
	const flushAt = 256
	buf := map[string]*organChange{}
	flush := func(organ string) error {
		c := buf[organ]
		if c == nil || len(c.insert) == 0 {
			return nil
		}
		err := insertOrReplace(ctx, s.db.Collection(organTable(organ)), c.insertIDs, c.insert)
		c.insert, c.insertIDs = c.insert[:0], c.insertIDs[:0]
		if err != nil {
			return fmt.Errorf("write the table of organ %q: %w", organ, err)
		}
		return nil
	}
	for _, coll := range duty.Collections {
		cur, err := s.db.Collection(coll.Name).Find(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("read %s: %w", coll.Name, unavailable(err))
		}
		for cur.Next(ctx) {
			organ, _ := cur.Current.Lookup(duty.OrganField).StringValueOK()
			id, _ := cur.Current.Lookup("_id").StringValueOK()
			if organ == "" || id == "" {
				continue
			}
			organs[organ] = true
			c := buf[organ]
			if c == nil {
				c = &organChange{}
				buf[organ] = c
			}
			doc, err := tableDoc(coll.Name, id, bson.Raw(slices.Clone(cur.Current)))
			if err != nil {
				cur.Close(context.WithoutCancel(ctx))
				return fmt.Errorf("decode %s %q: %w", coll.Name, id, err)
			}
			c.insertIDs = append(c.insertIDs, tableKey(coll.Name, id))
			c.insert = append(c.insert, doc)
			if len(c.insert) >= flushAt {
				if err := flush(organ); err != nil {
					cur.Close(context.WithoutCancel(ctx))
					return err
				}
			}
		}
		err = cur.Err()
		cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("read %s: %w", coll.Name, unavailable(err))
		}
	}
	for organ := range buf {
		if err := flush(organ); err != nil {
			return err
		}
	}
	var before, found []string
	for o := range organs {
		if _, ok := old[o]; ok {
			before = append(before, o)
		} else {
			found = append(found, o)
		}
	}
	if err := s.endOrgans(ctx, before); err != nil {
		return err
	}
	if err := s.stepOrgans(ctx, found, 0); err != nil {
		return err
	}
	_, err = s.db.Collection(metaColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "organ_tables"}},
		bson.D{{Key: "_id", Value: "organ_tables"}, {Key: "format", Value: organTablesFormat}, {Key: "built_at", Value: now()}},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record the organ tables: %w", unavailable(err))
	}
	return nil
}

// staleWrite is how long a write may stay under way before the store, when opened, takes it
// for interrupted.
const staleWrite = 10 * time.Minute

// checkOrganTables rebuilds the organ tables when they are missing or of another layout, or
// when a write to them was interrupted (under way for longer than staleWrite).
func (s *Store) checkOrganTables(ctx context.Context) error {
	var meta struct {
		Format int `bson:"format"`
	}
	err := s.db.Collection(metaColl).FindOne(ctx, bson.D{{Key: "_id", Value: "organ_tables"}}).Decode(&meta)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return fmt.Errorf("read store metadata: %w", unavailable(err))
	case meta.Format == organTablesFormat:
		stale, err := s.db.Collection(organVersionsColl).CountDocuments(ctx, bson.D{
			{Key: "pending", Value: bson.D{{Key: "$gt", Value: 0}}},
			{Key: "updated_at", Value: bson.D{{Key: "$lt", Value: time.Now().Add(-staleWrite).UTC().Format(duty.TimeFormat)}}},
		})
		if err != nil {
			return fmt.Errorf("read organ versions: %w", unavailable(err))
		}
		if stale == 0 {
			return nil
		}
	}
	if err := s.RebuildOrganTables(ctx); err != nil {
		return err
	}
	// The tables now match the collections: the interrupted writes are over.
	_, err = s.db.Collection(organVersionsColl).UpdateMany(ctx, bson.D{{Key: "pending", Value: bson.D{{Key: "$ne", Value: int64(0)}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: int64(0)}}}})
	if err != nil {
		return fmt.Errorf("update organ versions: %w", unavailable(err))
	}
	return nil
}
