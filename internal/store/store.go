// Package store keeps dutycheck's records, scans and reports in MongoDB (or the embedded
// FerretDB, through the same driver). It is the only importer of the MongoDB driver; it hands
// out and takes in duty types only.
//
// Every record is stored with _id = its id and an organ stamp (duty.OrganField), so that one
// organ's records come back with one indexed query per collection. Batches are validated whole
// before the first write and written as idempotent upserts: FerretDB has no multi-document
// transactions, so every write is journaled first and completed after a crash (journal.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/passwd"
)

// Config says which MongoDB to use.
type Config struct {
	URI      string
	Database string // default "dutycheck"
	// Exclusive says that this process is the only one using the database (the embedded store,
	// whose folder lock the process holds): every journal entry and running scan of another
	// process found at Open is a dead process's. Without it, processes tell each other alive by
	// leases (see KeepAlive).
	Exclusive bool
	// Hook, for tests, is called at named points of writes and scans ("put.journal-chunks",
	// "put.after-journal", "put.mid-batch", "put.before-audit", "put.after-first-audit",
	// "delete.after-journal",
	// "rebuild.mid", "scan.organ-read", "scan.progress"); an error aborts the operation there as
	// a crash would (but for "scan.progress", whose error a scan ignores).
	// A kill test's child blocks in it until it is killed.
	Hook func(point string) error
	// Passwords hashes and verifies the users' passwords; nil is argon2id with passwd.Default,
	// two hashes at a time.
	Passwords *passwd.Hasher
	// Clock is the store's one time source: the expiry of tokens, browser sessions and every
	// lease (this process's, the write lease, a shared scan's chunks, the retention), and the
	// times it stamps on what it writes. Tests move a fake one by hand; nil means the machine's
	// clock. Leases are renewed at a real-time pace (a third of their lifetime), each renewal
	// reading this clock.
	Clock clock.Clock
	// OnTakeover, when set, is told each time this process takes over a lease whose holder
	// stopped renewing it ("write", "scan_chunk"): the metrics.
	OnTakeover func(lease string)
	// AdoptScans says that this process runs scans (serve): on a shared store, a running scan
	// whose coordinator died is taken over by the first such process that finds it dead, once,
	// instead of being failed (TakeAdopted). Other processes on a shared store leave such a
	// scan to them; a scan whose second coordinator died is failed by any.
	AdoptScans bool
	// ChunkLeaseTTL is the lifetime of a shared scan's chunk holding without renewal; 0 means
	// DefaultChunkLeaseTTL.
	ChunkLeaseTTL time.Duration
	// Dialer, for tests, opens the connections to the database instead of the driver's own
	// dialer: a fault-injecting one breaks a connection at a chosen command (fault_test.go).
	Dialer options.ContextDialer
}

// Store is a connection to the database.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	// shards hold the tables kept per organ (shards.go).
	shards []*mongo.Database
	cfg    Config
	// instance names this process in the journal, on its scans and in its lease.
	instance string

	genMu sync.Mutex
	gen   int64         // the generation of organ tables in force
	refs  map[int64]int // generation → scans of this process reading it
	// pinMu orders this process's pins and unpins with their records in the store.
	pinMu sync.Mutex

	recMu   sync.Mutex
	rec     Recovery
	adopted []string // scans taken over from dead coordinators, not yet run (TakeAdopted)

	// writeMu serialises record writes in this process, so that a batch's reference checks and
	// its writes are not interleaved with another batch's.
	writeMu sync.Mutex
	// fence is the write lease this process holds while it writes (writelease.go), nil
	// otherwise; a write checks it before each step.
	fence atomic.Pointer[writeFence]
	// usersMu serialises changes of users, so that two demotions cannot both pass the check
	// that one active admin remains.
	usersMu sync.Mutex

	// reports keeps the report documents last read (reports.go).
	reports reportCache
	// counts keeps the per-department counts of the scans last read (countscache.go).
	counts scanCache[map[string]DepartmentCounts]
	// heads keeps the decoded indexes of the scans last read (headscache.go).
	heads scanCache[*keptHead]
	// latestMu serialises the moves of the latest-report pointers in this process.
	latestMu sync.Mutex

	deptLoad    sync.Mutex // held while the departments are read from the store
	deptMu      sync.Mutex
	depts       []duty.Doc // the departments last read, nil when unknown
	deptTree    *duty.Tree // their tree, nil until asked for
	deptVersion int64      // their version
}

const (
	scansColl = "scans"
)

// Open connects, checks that the server answers and creates the indexes.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Database == "" {
		cfg.Database = "dutycheck"
	}
	if n := len(shardName(cfg.Database, 0)); n > maxDatabaseName {
		return nil, fmt.Errorf("database name %q: its shards' names (%s) would be %d bytes, over the %d MongoDB and FerretDB allow: use a name of at most %d bytes",
			cfg.Database, shardName(cfg.Database, 0), n, maxDatabaseName, maxDatabaseName-(n-len(cfg.Database)))
	}
	if cfg.Passwords == nil {
		cfg.Passwords = passwd.New(passwd.Default, 2)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	copts := options.Client().ApplyURI(cfg.URI).SetServerSelectionTimeout(10 * time.Second)
	if cfg.Dialer != nil {
		copts.SetDialer(cfg.Dialer)
	}
	client, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", errors.Join(duty.ErrUnavailable, err))
	}
	s := &Store{client: client, db: client.Database(cfg.Database), cfg: cfg, refs: map[int64]int{},
		instance: cfg.Clock.Now().UTC().Format("20060102T150405") + "-" + randomHex(6)}
	s.counts.n, s.heads.n = countsKept, headsKept
	for i := range shardCount {
		s.shards = append(s.shards, client.Database(shardName(cfg.Database, i)))
	}
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.checkShards(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.registerInstance(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	// Findings and cases tables of the layout before the shards, before anything reads them
	// (the recovery below included).
	if err := s.moveToShards(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("move the organs' tables to the shard databases: %w", err)
	}
	// Before anything is served: complete what dead processes left half-done.
	if err := s.recoverDead(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("recover the store: %w", err)
	}
	// Reports of the previous layout are moved, then the latest-report pointers recomputed
	// (a scan marked done just before a crash may not have moved its pointer).
	if err := s.migrateReports(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("move the reports to the current layout: %w", err)
	}
	if err := s.rebuildLatest(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, c := range duty.Collections {
		_, err := s.db.Collection(c.Name).Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: duty.OrganField, Value: 1}},
		})
		if err != nil {
			return fmt.Errorf("create index on %s: %w", c.Name, unavailable(err))
		}
	}
	_, err := s.db.Collection(scansColl).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "scope", Value: 1}, {Key: "started_at", Value: -1}},
	})
	if err != nil {
		return fmt.Errorf("create index on scans: %w", unavailable(err))
	}
	return nil
}

// Close gives up this process's lease and disconnects.
func (s *Store) Close(ctx context.Context) error {
	_, _ = s.db.Collection(instancesColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: s.instance}})
	return s.client.Disconnect(ctx)
}

// tookOver counts a lease taken over from a holder that stopped renewing it.
func (s *Store) tookOver(lease string) {
	if s.cfg.OnTakeover != nil {
		s.cfg.OnTakeover(lease)
	}
}

// Shared says whether other processes may use the store at once (not Config.Exclusive): scans
// are then shared between them (scanwork.go).
func (s *Store) Shared() bool { return !s.cfg.Exclusive }

// Instance is the name of this process in the journal, on its scans and in its lease.
func (s *Store) Instance() string { return s.instance }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("ping MongoDB: %w", unavailable(err))
	}
	return nil
}

func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.Join(duty.ErrUnavailable, err)
}

// toBSON turns a record into its stored form: _id, the fields, and the organ stamp.
func toBSON(d duty.Doc, organ string) bson.D {
	out := make(bson.D, 0, len(d)+2)
	out = append(out, bson.E{Key: "_id", Value: d.ID()})
	for k, v := range d {
		out = append(out, bson.E{Key: k, Value: v})
	}
	return append(out, bson.E{Key: duty.OrganField, Value: organ})
}

// fromRaw turns a stored record back into a duty.Doc and its organ stamp, with the decoder a
// scan reads records with (walker), building duty.DocValues.
func fromRaw(raw bson.Raw) (duty.Doc, string, error) {
	if id, err := raw.LookupErr("_id"); err == nil && id.Type != bson.TypeString {
		// Not one of the store's ids (an ObjectId of a record written by another tool): the
		// record is read without it, as the walker knows only the types records hold.
		elems, err := raw.Elements()
		if err != nil {
			return nil, "", err
		}
		var fields [][]byte
		for _, e := range elems {
			if e.Key() != "_id" {
				fields = append(fields, e)
			}
		}
		raw = bsoncore.BuildDocument(nil, fields...)
	}
	w := walker[any]{b: duty.DocValues{}}
	v, err := w.document(raw, false)
	if err != nil {
		return nil, "", err
	}
	d := duty.Doc(v.(map[string]any))
	organ, _ := d[duty.OrganField].(string)
	delete(d, "_id")
	delete(d, duty.OrganField)
	return d, organ, nil
}

// Get returns one record.
func (s *Store) Get(ctx context.Context, collection, id string) (duty.Doc, error) {
	d, _, err := s.get(ctx, collection, id)
	return d, err
}

// GetWithOrgan returns one record and the organ it belongs to.
func (s *Store) GetWithOrgan(ctx context.Context, collection, id string) (duty.Doc, string, error) {
	return s.get(ctx, collection, id)
}

func (s *Store) get(ctx context.Context, collection, id string) (duty.Doc, string, error) {
	if duty.Lookup(collection) == nil {
		return nil, "", fmt.Errorf("collection %q: %w", collection, duty.ErrNotFound)
	}
	raw, err := s.db.Collection(collection).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, "", fmt.Errorf("%s %q: %w", collection, id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s %q: %w", collection, id, unavailable(err))
	}
	d, organ, err := fromRaw(raw)
	if err != nil {
		return nil, "", fmt.Errorf("decode %s %q: %w", collection, id, err)
	}
	return d, organ, nil
}

// all reads every record of a collection matching filter, with its organ stamp.
func (s *Store) all(ctx context.Context, collection string, filter any, fn func(d duty.Doc, organ string)) error {
	cur, err := s.db.Collection(collection).Find(ctx, filter)
	if err != nil {
		return fmt.Errorf("read %s: %w", collection, unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		d, organ, err := fromRaw(cur.Current)
		if err != nil {
			return fmt.Errorf("decode %s: %w", collection, err)
		}
		fn(d, organ)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read %s: %w", collection, unavailable(err))
	}
	return nil
}

// Departments returns every stored department. Callers must not change the documents.
//
// The departments are read on every write and by most pages, and a province holds tens of
// thousands of them, so the store keeps the last list it read together with the departments'
// version (store_meta "departments", increased before and after every write of a department):
// while the version is the same, the list is.
func (s *Store) Departments(ctx context.Context) ([]duty.Doc, error) {
	depts, _, err := s.departments(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(depts), nil
}

// departments returns the departments kept (brought up to date first), not a copy, and their
// version: callers must change neither.
func (s *Store) departments(ctx context.Context) ([]duty.Doc, int64, error) {
	var meta struct {
		Version int64 `bson:"version"`
	}
	err := s.db.Collection(metaColl).FindOne(ctx, bson.D{{Key: "_id", Value: "departments"}}).Decode(&meta)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, 0, fmt.Errorf("read store metadata: %w", unavailable(err))
	}
	kept := func() ([]duty.Doc, bool) {
		s.deptMu.Lock()
		defer s.deptMu.Unlock()
		return s.depts, s.depts != nil && s.deptVersion == meta.Version
	}
	if out, ok := kept(); ok {
		return out, meta.Version, nil
	}
	// One reader at a time: the others wait for its list instead of all reading the table at
	// once (a cold start under load), then find it kept.
	s.deptLoad.Lock()
	defer s.deptLoad.Unlock()
	if out, ok := kept(); ok {
		return out, meta.Version, nil
	}
	out := []duty.Doc{}
	if err := s.all(ctx, "departments", bson.D{}, func(d duty.Doc, _ string) { out = append(out, d) }); err != nil {
		return nil, 0, err
	}
	s.deptMu.Lock()
	s.depts, s.deptVersion, s.deptTree = out, meta.Version, nil
	s.deptMu.Unlock()
	return out, meta.Version, nil
}

// Tree returns the tree of the stored departments. Like the departments, it is kept while
// their version is the same: callers must not change it (a duty.Tree is read-only).
func (s *Store) Tree(ctx context.Context) (*duty.Tree, error) {
	// The kept list, not a copy (Departments copies 71,000 departments at 1,000 organs).
	depts, version, err := s.departments(ctx)
	if err != nil {
		return nil, err
	}
	s.deptMu.Lock()
	defer s.deptMu.Unlock()
	if s.depts == nil || s.deptVersion != version {
		return duty.NewTree(depts), nil // changed since: the tree of the list read
	}
	if s.deptTree == nil {
		s.deptTree = duty.NewTree(s.depts)
	}
	return s.deptTree, nil
}

// bumpDepartments increases the departments' version, before and after a write of departments.
func (s *Store) bumpDepartments(ctx context.Context) error {
	err := upsertRetry(func() error {
		_, err := s.db.Collection(metaColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: "departments"}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}, options.UpdateOne().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("update store metadata: %w", unavailable(err))
	}
	s.deptMu.Lock()
	s.depts, s.deptTree = nil, nil
	s.deptMu.Unlock()
	return nil
}

// LoadOrgans reads the records of the given organs (all organs when ids is nil), each
// collection once, and returns them split by organ, sorted by id, with the department tree.
func (s *Store) LoadOrgans(ctx context.Context, ids []string) ([]*duty.Organ, *duty.Tree, error) {
	depts, err := s.Departments(ctx)
	if err != nil {
		return nil, nil, err
	}
	tree := duty.NewTree(depts)
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	organs := map[string]*duty.Organ{}
	var order []*duty.Organ
	for _, id := range tree.Organs() {
		if ids == nil || want[id] {
			o := &duty.Organ{ID: id, Docs: map[string][]duty.Doc{}}
			organs[id] = o
			order = append(order, o)
		}
	}
	var filter any = bson.D{}
	if ids != nil {
		filter = bson.D{{Key: duty.OrganField, Value: bson.D{{Key: "$in", Value: ids}}}}
	}
	for _, c := range duty.Collections {
		add := func(d duty.Doc, organ string) {
			if o := organs[organ]; o != nil {
				o.Docs[c.Name] = append(o.Docs[c.Name], d)
			}
		}
		if c.Name == "departments" {
			for _, d := range depts {
				add(d, tree.Organ(d.ID()))
			}
			continue
		}
		if err := s.all(ctx, c.Name, filter, add); err != nil {
			return nil, nil, err
		}
	}
	return order, tree, nil
}

func isNotFound(err error) bool { return errors.Is(err, duty.ErrNotFound) }

// Drop deletes the store's database and its shards: every record, scan and report. Tests use
// it.
func (s *Store) Drop(ctx context.Context) error {
	s.deptMu.Lock()
	s.depts = nil
	s.deptMu.Unlock()
	var errs []error
	for _, db := range s.databases() {
		errs = append(errs, db.Drop(ctx))
	}
	return errors.Join(errs...)
}

// OrgansWithAppointmentsIn returns the organs holding an appointment to one of the departments:
// an appointment lives with its person's organ but is reported under its own department.
func (s *Store) OrgansWithAppointmentsIn(ctx context.Context, departments map[string]bool) ([]string, error) {
	ids := make([]string, 0, len(departments))
	for d := range departments {
		ids = append(ids, d)
	}
	set := map[string]bool{}
	cur, err := s.db.Collection("appointments").Find(ctx, bson.D{{Key: "department_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: duty.OrganField, Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read appointments: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		if o, ok := cur.Current.Lookup(duty.OrganField).StringValueOK(); ok {
			set[o] = true
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read appointments: %w", unavailable(err))
	}
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	return out, nil
}

// DropDatabase drops the store database name at uri and its shards, for tests that leave a
// database of their own on a shared server (MONGODB_URI) and must not leave it behind.
func DropDatabase(ctx context.Context, uri, name string) error {
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	errs := []error{c.Database(name).Drop(ctx)}
	for i := range shardCount {
		errs = append(errs, c.Database(shardName(name, i)).Drop(ctx))
	}
	return errors.Join(errs...)
}

// upsertRetry runs an upsert again when it lost a race: two processes upserting the same new
// _id at once may both try the insert, and the loser gets a duplicate key error (E11000) from
// MongoDB and FerretDB alike. Run again, it finds the document and updates it. Only for
// upserts whose repetition is harmless.
func upsertRetry(f func() error) error {
	var err error
	for range 3 {
		if err = f(); !mongo.IsDuplicateKeyError(err) {
			return err
		}
	}
	return err
}
