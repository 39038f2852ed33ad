package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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
// its table) increases, before and after the write, and the operations under way on it
// (pending_ops, by journal id). A scan reuses an organ's previous results only when its version
// is the same and no write is under way (see scan.Service).
//
// Generations. The tables are built in generations: "organ_g<N>.<id>" holds organ id's records
// in generation N, and store_meta "organ_tables" names the generation in force. A rebuild (a
// department moved to another organ, recovery after a crash) writes a whole new generation
// beside the one in force, then switches the pointer in one write, then drops the old tables
// once no scan of this process reads them (PinTables). A scan thus reads one consistent
// generation from its first organ to its last, never a table being rebuilt; a rebuild killed
// half-way leaves the generation in force untouched and its own tables as garbage, dropped at
// the next start.
//
// Shards. The tables are not in the store's database but in the shard database of their organ
// (shards.go): the embedded store's every query costs in proportion to the collections of its
// database, and the tables are two thousand at 1,000 organs.

const (
	organVersionsColl = "organ_versions"
	metaColl          = "store_meta"
	// legacyTablePrefix is the prefix of the tables of format 1, before generations.
	legacyTablePrefix = "organ."
	organTablePrefix  = "organ_g"
	// organTablesFormat is the layout of the organ tables; a store whose meta document says
	// otherwise (or nothing: a store written before them) has them rebuilt when opened.
	// Format 2 kept them in the store's database, format 3 in the shards.
	organTablesFormat = 3
)

var safeOrganID = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,119}$`)

// genPrefix is the prefix of the tables of generation gen.
func genPrefix(gen int64) string { return organTablePrefix + strconv.FormatInt(gen, 10) + "." }

// organTable returns the name of the table of organ in generation gen: "organ_g<gen>.<id>" when
// the id is a plain name, else "organ_g<gen>.~<hash>".
func organTable(gen int64, organ string) string {
	if safeOrganID.MatchString(organ) {
		return genPrefix(gen) + organ
	}
	h := sha256.Sum256([]byte(organ))
	return genPrefix(gen) + "~" + hex.EncodeToString(h[:12])
}

// tableGen returns the generation of an organ table's name, or -1 for other names (tables of
// format 1 included).
func tableGen(name string) int64 {
	rest, ok := strings.CutPrefix(name, organTablePrefix)
	if !ok {
		return -1
	}
	num, _, ok := strings.Cut(rest, ".")
	if !ok {
		return -1
	}
	g, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return -1
	}
	return g
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
	ID         string   `bson:"_id"`
	Version    int64    `bson:"version"`
	Pending    int64    `bson:"pending"` // format 1's count of writes under way
	PendingOps []string `bson:"pending_ops"`
	UpdatedAt  string   `bson:"updated_at"`
}

// OrganVersion is the state of one organ's records (duty.OrganVersion).
type OrganVersion = duty.OrganVersion

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
		out[d.ID] = OrganVersion{Version: d.Version, Settled: d.Pending == 0 && len(d.PendingOps) == 0}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read organ versions: %w", unavailable(err))
	}
	return out, nil
}

// beginOrgans marks the write op to the organs as under way, and endOrgans as finished; each
// increases their versions. A scan that read a version before or during the write sees another
// one afterwards, so it never reuses results computed from records the write was changing. The
// operation is named (its journal id) so that recovery can end exactly the writes of a dead
// process.
func (s *Store) beginOrgans(ctx context.Context, organs []string, op string) error {
	return s.stepOrgans(ctx, organs, bson.E{Key: "$addToSet", Value: bson.D{{Key: "pending_ops", Value: op}}})
}

func (s *Store) endOrgans(ctx context.Context, organs []string, op string) error {
	return s.stepOrgans(ctx, organs, bson.E{Key: "$pullAll", Value: bson.D{{Key: "pending_ops", Value: bson.A{op}}}})
}

func (s *Store) stepOrgans(ctx context.Context, organs []string, change bson.E) error {
	if len(organs) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, 0, len(organs))
	at := s.stamp()
	for _, o := range organs {
		update := bson.D{
			{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
			{Key: "$set", Value: bson.D{{Key: "updated_at", Value: at}}},
		}
		if change.Key != "" {
			update = append(update, change)
		}
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: o}}).
			SetUpdate(update).
			SetUpsert(true))
	}
	for start := 0; start < len(models); start += updatesPerCommand {
		part := models[start:min(start+updatesPerCommand, len(models))]
		// Retried whole on a lost upsert race: $inc twice still changes the version, and
		// $addToSet and $pullAll are idempotent.
		if err := upsertRetry(func() error {
			_, err := s.db.Collection(organVersionsColl).BulkWrite(ctx, part, options.BulkWrite().SetOrdered(false))
			return err
		}); err != nil {
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

// apply writes the changes to the organ tables of generation gen.
func (w organWrites) apply(ctx context.Context, s *Store, gen int64) error {
	for _, organ := range w.organs() {
		c := w[organ]
		coll := s.organColl(gen, organ)
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
		if err := fenced(ctx); err != nil {
			return err
		}
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
		if err := fenced(ctx); err != nil {
			return err
		}
		if _, err := coll.BulkWrite(ctx, models[start:min(start+updatesPerCommand, len(models))], options.BulkWrite().SetOrdered(true)); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// ReadOrgan reads every record of organ from its table in the generation in force, decoding
// each with b, and calls fn with its collection and value. It reads nothing else. A scan uses
// ReadOrganIn, which reads the generation it pinned.
func ReadOrgan[T any](ctx context.Context, s *Store, organ string, b duty.ValueBuilder[T], fn func(c *duty.Collection, rec T)) error {
	return readOrgan(ctx, s, s.currentGen(), organ, b, fn)
}

// ReadOrganIn is ReadOrgan in the generation of t.
func ReadOrganIn[T any](ctx context.Context, t *Tables, organ string, b duty.ValueBuilder[T], fn func(c *duty.Collection, rec T)) error {
	if err := readOrgan(ctx, t.s, t.gen, organ, b, fn); err != nil {
		return err
	}
	return t.s.hook("scan.organ-read")
}

func readOrgan[T any](ctx context.Context, s *Store, gen int64, organ string, b duty.ValueBuilder[T], fn func(c *duty.Collection, rec T)) error {
	cur, err := s.organColl(gen, organ).Find(ctx, bson.D{})
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

// RebuildOrganTables builds a new generation of the organ tables from the collections and
// puts it in force (see Generations above); scans under way finish on the generation they
// pinned. It runs when a department moves to another organ (Restamp), when a store written
// before the current layout is opened, and in recovery; it is idempotent and journaled.
func (s *Store) RebuildOrganTables(ctx context.Context) error {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.loadGen(ctx); err != nil {
		return err
	}
	h := s.newOp("rebuild", duty.System("store"))
	if err := s.writeHead(ctx, h); err != nil {
		return err
	}
	if err := s.rebuildTables(ctx, h.ID); err != nil {
		return s.finishFailed(ctx, h, err)
	}
	return s.finishOp(ctx, h)
}

// eachTableDoc reads every collection whole and calls fn, record by record, with each stamped
// record's organ and the key and document it has in its organ's table (tableKey, tableDoc): what
// the tables in force must hold. An error of fn ends the walk and is returned as it is.
func (s *Store) eachTableDoc(ctx context.Context, fn func(organ, key string, doc bson.D) error) error {
	for _, coll := range duty.Collections {
		if err := s.eachTableDocOf(ctx, coll.Name, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) eachTableDocOf(ctx context.Context, collection string, fn func(organ, key string, doc bson.D) error) error {
	cur, err := s.db.Collection(collection).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read %s: %w", collection, unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		organ, _ := cur.Current.Lookup(duty.OrganField).StringValueOK()
		id, _ := cur.Current.Lookup("_id").StringValueOK()
		if organ == "" || id == "" {
			continue
		}
		doc, err := tableDoc(collection, id, bson.Raw(slices.Clone(cur.Current)))
		if err != nil {
			return fmt.Errorf("decode %s %q: %w", collection, id, err)
		}
		if err := fn(organ, tableKey(collection, id), doc); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read %s: %w", collection, unavailable(err))
	}
	return nil
}

// rebuildTables writes a new generation of the organ tables from the collections, switches
// to it and drops the old one when no scan of this process reads it. The caller holds writeMu.
// op, when not "", is the journal entry the rebuild belongs to: the organs are marked as being
// written by it until the switch.
func (s *Store) rebuildTables(ctx context.Context, op string) error {
	old, err := s.OrganVersions(ctx)
	if err != nil {
		return err
	}
	organs := map[string]bool{}
	for o := range old {
		organs[o] = true
	}
	if op != "" {
		if err := s.beginOrgans(ctx, keys(organs), op); err != nil {
			return err
		}
	}
	s.deptMu.Lock()
	s.depts = nil // the rebuild is also the time to forget what this process remembers
	s.deptMu.Unlock()
	gen, err := s.nextGen(ctx)
	if err != nil {
		return err
	}
	const flushAt = 256
	buf := map[string]*organChange{}
	flushed := false
	flush := func(organ string) error {
		c := buf[organ]
		if c == nil || len(c.insert) == 0 {
			return nil
		}
		err := insertOrReplace(ctx, s.organColl(gen, organ), c.insertIDs, c.insert)
		c.insert, c.insertIDs = c.insert[:0], c.insertIDs[:0]
		if err != nil {
			return fmt.Errorf("write the table of organ %q: %w", organ, err)
		}
		if !flushed {
			flushed = true
			return s.hook("rebuild.mid")
		}
		return nil
	}
	err = s.eachTableDoc(ctx, func(organ, key string, doc bson.D) error {
		organs[organ] = true
		c := buf[organ]
		if c == nil {
			c = &organChange{}
			buf[organ] = c
		}
		c.insertIDs = append(c.insertIDs, key)
		c.insert = append(c.insert, doc)
		if len(c.insert) >= flushAt {
			return flush(organ)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, organ := range keys(boolKeys(buf)) {
		if err := flush(organ); err != nil {
			return err
		}
	}
	if err := s.switchGen(ctx, gen); err != nil {
		return err
	}
	var before, found []string
	for o := range organs {
		if _, ok := old[o]; ok {
			before = append(before, o)
		} else {
			found = append(found, o)
		}
	}
	if op != "" {
		if err := s.endOrgans(ctx, before, op); err != nil {
			return err
		}
	} else if err := s.stepOrgans(ctx, before, bson.E{}); err != nil {
		return err
	}
	return s.stepOrgans(ctx, found, bson.E{})
}

func boolKeys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// readTablesMeta returns the layout and the generation in force of the organ tables (0, 0
// when none was recorded).
func (s *Store) readTablesMeta(ctx context.Context) (int, int64, error) {
	var meta struct {
		Format     int   `bson:"format"`
		Generation int64 `bson:"generation"`
	}
	err := s.db.Collection(metaColl).FindOne(ctx, bson.D{{Key: "_id", Value: "organ_tables"}}).Decode(&meta)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, 0, fmt.Errorf("read store metadata: %w", unavailable(err))
	}
	return meta.Format, meta.Generation, nil
}

// nextGen takes a generation number never used before.
func (s *Store) nextGen(ctx context.Context) (int64, error) {
	var d struct {
		Seq int64 `bson:"seq"`
	}
	err := upsertRetry(func() error {
		return s.db.Collection(metaColl).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "organ_tables_seq"}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	})
	if err != nil {
		return 0, fmt.Errorf("take a generation of the organ tables: %w", unavailable(err))
	}
	_, cur, err := s.readTablesMeta(ctx)
	if err != nil {
		return 0, err
	}
	if d.Seq <= cur { // a store whose sequence document was lost: stay above the generation in force
		return s.nextGenAbove(ctx, cur)
	}
	return d.Seq, nil
}

func (s *Store) nextGenAbove(ctx context.Context, cur int64) (int64, error) {
	err := upsertRetry(func() error {
		_, err := s.db.Collection(metaColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "organ_tables_seq"}},
			bson.D{{Key: "_id", Value: "organ_tables_seq"}, {Key: "seq", Value: cur + 1}}, options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("take a generation of the organ tables: %w", unavailable(err))
	}
	return cur + 1, nil
}

// switchGen puts generation gen in force: one write of the pointer, then the old generation's
// tables are dropped unless a scan of this process still reads them (the last to release them
// drops them).
func (s *Store) switchGen(ctx context.Context, gen int64) error {
	s.genMu.Lock()
	err := upsertRetry(func() error {
		_, err := s.db.Collection(metaColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "organ_tables"}},
			bson.D{{Key: "_id", Value: "organ_tables"}, {Key: "format", Value: organTablesFormat},
				{Key: "generation", Value: gen}, {Key: "built_at", Value: s.stamp()}},
			options.Replace().SetUpsert(true))
		return err
	})
	if err != nil {
		s.genMu.Unlock()
		return fmt.Errorf("record the organ tables: %w", unavailable(err))
	}
	s.gen = gen
	s.genMu.Unlock()
	return s.dropStaleTables(ctx)
}

// dropStaleTables drops the organ tables of every generation before the one in force that no
// scan reads, in the shards and in the store's database (format 2), and the tables of format 1.
// With an exclusive store it also drops the tables of generations after it: rebuilds killed
// before their switch.
func (s *Store) dropStaleTables(ctx context.Context) error {
	pinned, err := s.pinnedGens(ctx)
	if err != nil {
		return err
	}
	cur := s.currentGen()
	for _, db := range s.databases() {
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("list collections of %s: %w", db.Name(), unavailable(err))
		}
		for _, n := range names {
			g := tableGen(n)
			stale := g >= 0 && g != cur && !pinned[g] && (g < cur || s.cfg.Exclusive)
			if !stale && !(g < 0 && strings.HasPrefix(n, legacyTablePrefix)) {
				continue
			}
			if err := db.Collection(n).Drop(ctx); err != nil {
				return fmt.Errorf("drop %s of %s: %w", n, db.Name(), unavailable(err))
			}
		}
	}
	return nil
}

// Pins. A scan pins the generation it reads; this process counts its own pins (refs) and, on a
// shared store, records that it reads a generation in table_pins ("<instance>/<generation>"),
// so that no other process drops those tables while it reads them — the other half of the
// rebuild into a new generation (issue 18: a restarting replica's rebuild dropped the tables
// another replica's scans were reading). A pin is written before the scan checks that its
// generation is in force (Tables.Current) and a rebuild lists the pins after its switch, so
// one of the two sees the other. Pins of dead processes count for nothing and are removed.
const tablePinsColl = "table_pins"

type pinDoc struct {
	ID       string `bson:"_id"`
	Instance string `bson:"instance"`
	Gen      int64  `bson:"generation"`
}

func pinID(instance string, gen int64) string { return instance + "/" + strconv.FormatInt(gen, 10) }

// pinnedGens returns the generations some scan reads: of this process, and on a shared store
// of every live process.
func (s *Store) pinnedGens(ctx context.Context) (map[int64]bool, error) {
	s.genMu.Lock()
	out := make(map[int64]bool, len(s.refs))
	for g := range s.refs {
		out[g] = true
	}
	s.genMu.Unlock()
	if s.cfg.Exclusive {
		return out, nil
	}
	cur, err := s.db.Collection(tablePinsColl).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the pins of the organ tables: %w", unavailable(err))
	}
	var pins []pinDoc
	if err := cur.All(ctx, &pins); err != nil {
		return nil, fmt.Errorf("read the pins of the organ tables: %w", unavailable(err))
	}
	if len(pins) == 0 {
		return out, nil
	}
	alive, err := s.aliveFunc(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pins {
		if alive(p.Instance) {
			out[p.Gen] = true
		} else {
			_, _ = s.db.Collection(tablePinsColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: p.ID}})
		}
	}
	return out, nil
}

// pin counts a scan of this process reading generation gen and, for the first, records the pin
// in the store.
func (s *Store) pin(ctx context.Context, gen int64) (*Tables, error) {
	s.pinMu.Lock()
	defer s.pinMu.Unlock()
	s.genMu.Lock()
	first := s.refs[gen] == 0
	s.genMu.Unlock()
	if first && !s.cfg.Exclusive {
		err := upsertRetry(func() error {
			_, err := s.db.Collection(tablePinsColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: pinID(s.instance, gen)}},
				pinDoc{ID: pinID(s.instance, gen), Instance: s.instance, Gen: gen}, options.Replace().SetUpsert(true))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("pin the organ tables: %w", unavailable(err))
		}
	}
	s.genMu.Lock()
	s.refs[gen]++
	s.genMu.Unlock()
	return &Tables{s: s, gen: gen}, nil
}

// genTables returns every table of generation gen, in the store's database and its shards, by
// "<database>/<table>".
func (s *Store) genTables(ctx context.Context, gen int64) (map[string]*mongo.Collection, error) {
	tables := map[string]*mongo.Collection{}
	for _, db := range s.databases() {
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", db.Name(), unavailable(err))
		}
		for _, n := range names {
			if tableGen(n) == gen {
				tables[db.Name()+"/"+n] = db.Collection(n)
			}
		}
	}
	return tables, nil
}

// dropGen drops every table of generation gen.
func (s *Store) dropGen(ctx context.Context, gen int64) error {
	tables, err := s.genTables(ctx, gen)
	if err != nil {
		return err
	}
	for name, t := range tables {
		if err := t.Drop(ctx); err != nil {
			return fmt.Errorf("drop %s: %w", name, unavailable(err))
		}
	}
	return nil
}

func (s *Store) setGen(gen int64) {
	s.genMu.Lock()
	s.gen = gen
	s.genMu.Unlock()
}

func (s *Store) currentGen() int64 {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	return s.gen
}

// loadGen reads the generation in force: another process sharing the store may have switched it.
func (s *Store) loadGen(ctx context.Context) error {
	_, gen, err := s.readTablesMeta(ctx)
	if err != nil {
		return err
	}
	s.setGen(gen)
	return nil
}

// Tables is one generation of the organ tables pinned for a scan. Release it when done.
type Tables struct {
	s    *Store
	gen  int64
	once sync.Once
}

// PinTables pins the generation in force for a scan: its tables stay until Release, whatever
// rebuild happens meanwhile, in this process or (shared store) another. A scan reads the
// organs' versions after pinning and then asks Current: when the generation is still in force,
// the versions are those of the records in its tables, so results are never recorded under a
// version of records they were not computed from (a rebuild steps every version after its
// switch).
func (s *Store) PinTables(ctx context.Context) (*Tables, error) {
	if !s.cfg.Exclusive {
		if err := s.loadGen(ctx); err != nil {
			return nil, err
		}
	}
	return s.pin(ctx, s.currentGen())
}

// PinGeneration pins generation gen, which another process's shared scan pinned (ScanWork), for
// this process's part of that scan.
func (s *Store) PinGeneration(ctx context.Context, gen int64) (*Tables, error) {
	return s.pin(ctx, gen)
}

// Current says whether the pinned generation is still the one in force.
func (t *Tables) Current(ctx context.Context) (bool, error) {
	if !t.s.cfg.Exclusive {
		if err := t.s.loadGen(ctx); err != nil {
			return false, err
		}
	}
	return t.s.currentGen() == t.gen, nil
}

// Release unpins the tables; the last scan to release a generation no longer in force drops
// its tables, unless another process still reads them.
func (t *Tables) Release() {
	t.once.Do(func() {
		s := t.s
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.pinMu.Lock()
		s.genMu.Lock()
		s.refs[t.gen]--
		last := s.refs[t.gen] <= 0
		if last {
			delete(s.refs, t.gen)
		}
		s.genMu.Unlock()
		if last && !s.cfg.Exclusive {
			// Should this fail, the pin counts for nothing once this process is gone.
			_, _ = s.db.Collection(tablePinsColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: pinID(s.instance, t.gen)}})
		}
		s.pinMu.Unlock()
		if !last {
			return
		}
		if !s.cfg.Exclusive {
			if err := s.loadGen(ctx); err != nil {
				return
			}
		}
		if t.gen == s.currentGen() {
			return
		}
		if pinned, err := s.pinnedGens(ctx); err == nil && !pinned[t.gen] {
			_ = s.dropGen(ctx, t.gen)
		}
	})
}

// Check says whether the pinned tables were intact for the whole scan. With an exclusive store
// they are (the pin keeps them); with a shared one they are while this process's pin stands,
// which other processes remove only when they find this process dead (its lease lapsed: it
// stalled for longer than the lease lasts), and the scan must then fail rather than report what
// it read.
func (t *Tables) Check(ctx context.Context) error {
	if t.s.cfg.Exclusive {
		return nil
	}
	n, err := t.s.db.Collection(tablePinsColl).CountDocuments(ctx, bson.D{{Key: "_id", Value: pinID(t.s.instance, t.gen)}})
	if err != nil {
		return fmt.Errorf("read the pins of the organ tables: %w", unavailable(err))
	}
	if n == 0 {
		return fmt.Errorf("the organ tables this scan read may have been dropped by another process (it took this process for dead): %w", duty.ErrConflict)
	}
	return nil
}

// Generation is the generation of the pinned tables.
func (t *Tables) Generation() int64 { return t.gen }

// VerifyOrganTables compares the organ tables in force with the collections: every record in
// the table its organ stamp names, with the same fields, and nothing else. It reads the whole
// store; tests and the kill tests' restarts use it.
func (s *Store) VerifyOrganTables(ctx context.Context) error {
	if err := s.loadGen(ctx); err != nil {
		return err
	}
	gen := s.currentGen()
	want := map[string]map[string]string{} // organ → table key → fields
	err := s.eachTableDoc(ctx, func(organ, key string, doc bson.D) error {
		if want[organ] == nil {
			want[organ] = map[string]string{}
		}
		want[organ][key] = canonicalFields(doc)
		return nil
	})
	if err != nil {
		return err
	}
	tables, err := s.genTables(ctx, gen) // "<database>/<table>" → the table
	if err != nil {
		return err
	}
	var problems []string
	for organ, recs := range want {
		coll := s.organColl(gen, organ)
		name := coll.Database().Name() + "/" + coll.Name()
		delete(tables, name)
		got := map[string]string{}
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("read %s: %w", name, unavailable(err))
		}
		for cur.Next(ctx) {
			var d bson.D
			if err := bson.Unmarshal(cur.Current, &d); err != nil {
				cur.Close(context.WithoutCancel(ctx))
				return err
			}
			key, _ := cur.Current.Lookup("_id").StringValueOK()
			got[key] = canonicalFields(d)
		}
		err = cur.Err()
		cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("read %s: %w", name, unavailable(err))
		}
		for k, v := range recs {
			switch g, ok := got[k]; {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s missing from the table of organ %s", k, organ))
			case g != v:
				problems = append(problems, fmt.Sprintf("%s differs in the table of organ %s", k, organ))
			}
		}
		for k := range got {
			if _, ok := recs[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s in the table of organ %s, not in its collection with that organ", k, organ))
			}
		}
	}
	for name, coll := range tables {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("read %s: %w", name, unavailable(err))
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("table %s holds %d records of no organ", name, n))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("… and %d more", len(problems)-20))
		}
		return fmt.Errorf("the organ tables differ from the collections: %s", strings.Join(problems, "; "))
	}
	return nil
}

// canonicalFields renders a table document's fields with every object's keys in order (a
// record's nested objects come from Go maps, so two writes of the same record may order them
// differently).
func canonicalFields(d bson.D) string {
	b, err := json.Marshal(plainValue(d))
	if err != nil {
		return fmt.Sprint(d)
	}
	return string(b)
}

func plainValue(v any) any {
	switch x := v.(type) {
	case bson.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Key] = plainValue(e.Value)
		}
		return m
	case bson.M:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plainValue(e)
		}
		return m
	case bson.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	case bson.RawValue:
		var out any
		if x.Unmarshal(&out) != nil {
			return x.String()
		}
		return plainValue(out)
	}
	return v
}
