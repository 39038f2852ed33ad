package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Crash consistency. FerretDB v1 has no transactions, so every write of records (a batch, an
// import, a deletion, a department move with its rebuild of the organ tables) is an operation
// with a journal entry:
//
//  1. the entry's payload is written first: the stored form of every record the batch writes
//     and the before/after hashes of its audit entries, in chunks far below the 16 MiB document
//     limit, in a table of the operation's own ("journal.<op>": dropping it is one cheap
//     command, where deleting big documents one by one makes the embedded store parse them
//     all each time), then its head (journal), which names the chunks — a head exists only
//     once its payload is complete;
//  2. then the data: the records, the organ tables, the versions, the audit entries (their ids
//     come from the operation, so writing one twice leaves one);
//  3. last, the head is removed, then the table of its chunks.
//
// A process killed anywhere in 2 leaves the head. Recovery (Open, and for a shared MongoDB the
// lease watch of KeepAlive) completes every operation of a dead process: it writes its records
// again from the journal (upserts of the same documents converge), applies its deletion again,
// writes its missing audit entries, restamps when the operation moved a department or a person
// to another organ, and builds the organ tables again from the collections. A put of new
// records only journals their ids (journalHead.Undo) and is undone instead, unless its audit
// entries were begun. Killed in 1, the operation wrote nothing: its chunks are removed. No
// timestamp decides anything. A living process whose journaled write fails completes it at
// once (finishFailed).
//
// Who is dead: with the embedded store, the process holds the folder's lock, so every operation
// and running scan of another instance found at Open is a dead process's (Config.Exclusive).
// With a shared MongoDB each process keeps a lease (instances) that KeepAlive renews; an
// operation or scan whose owner's lease has lapsed, or that has no lease, is a dead process's.

const (
	journalColl = "journal"
	// chunkTablePrefix starts the name of an operation's table of chunks.
	chunkTablePrefix = "journal."
	instancesColl    = "instances"
	// journalChunkBytes bounds the records of one journal chunk (BSON bytes), far below the
	// 16 MiB document limit whatever the batch.
	journalChunkBytes = 4 << 20
	// leaseTTL is how long a process's lease lasts without renewal (shared MongoDB only).
	leaseTTL = 30 * time.Second
)

type journalHead struct {
	ID    string `bson:"_id"`
	Kind  string `bson:"kind"` // "put", "delete", "rebuild"
	Owner string `bson:"owner"`
	Actor string `bson:"actor"`
	At    string `bson:"at"`
	// Chunks is how many chunks (op/0 …) hold the records of a put.
	Chunks int `bson:"chunks"`
	// Restamp: the put moves a department or a person to another organ.
	Restamp bool `bson:"restamp,omitempty"`
	// Undo: every record of the put is new (an import into an empty store, new records), so the
	// journal holds only their ids and audit hashes, not the records: a put cut short before
	// its audit entries is undone (its records deleted) instead of completed. Its first audit
	// entry is written after its last data write, so once it exists the put is completed.
	Undo        bool `bson:"undo,omitempty"`
	Departments bool `bson:"departments,omitempty"`
	// Organs are the organs whose versions the operation marks as being written.
	Organs []string `bson:"organs"`
	// A deletion: the record and its audit hash.
	Collection string `bson:"collection,omitempty"`
	DocID      string `bson:"doc_id,omitempty"`
	Before     string `bson:"before,omitempty"`
}

type journalChunk struct {
	ID         string     `bson:"_id"`
	Op         string     `bson:"op"`
	Owner      string     `bson:"owner"`
	Collection string     `bson:"collection"`
	IDs        []string   `bson:"ids"`
	Docs       []bson.Raw `bson:"docs"`
	Before     []string   `bson:"before"`
	After      []string   `bson:"after"`
}

func chunkKey(op string, i int) string { return op + "/" + strconv.Itoa(i) }

func (s *Store) chunkTable(op string) *mongo.Collection {
	return s.db.Collection(chunkTablePrefix + op)
}

// auditID is the id of the i-th audit entry of an operation: the same when written again.
func auditID(h *journalHead, i int) string { return h.At + "-" + h.ID + "-" + strconv.Itoa(i) }

// newOp starts the head of an operation of this process.
func (s *Store) newOp(kind string, actor duty.Principal) *journalHead {
	return &journalHead{ID: randomHex(8), Kind: kind, Owner: s.instance, Actor: actor.User, At: s.stamp()}
}

// pendingPut is a collection's records of a batch with the hashes of its audit entries.
type pendingPut struct {
	collection    string
	ids           []string
	docs          []bson.D
	before, after []string
}

// journalPut writes the chunks, then the head, of a put. It returns the chunks without their
// documents (written, they are not needed again unless the process dies), for the audit entries.
func (s *Store) journalPut(ctx context.Context, h *journalHead, puts []pendingPut) ([]journalChunk, error) {
	var chunks []journalChunk
	var cur *journalChunk
	size := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		if _, err := s.chunkTable(h.ID).InsertOne(ctx, cur); err != nil {
			return fmt.Errorf("write the journal: %w", unavailable(err))
		}
		cur.Docs = nil
		chunks = append(chunks, *cur)
		cur = nil
		return nil
	}
	for _, p := range puts {
		if err := flush(); err != nil {
			return nil, err
		}
		for i, d := range p.docs {
			var raw bson.Raw
			if !h.Undo {
				var err error
				if raw, err = bson.Marshal(d); err != nil {
					return nil, fmt.Errorf("journal %s %q: %w", p.collection, p.ids[i], err)
				}
			}
			if cur != nil && (size+len(raw) > journalChunkBytes || len(cur.IDs) >= auditChunk) {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			if cur == nil {
				cur = &journalChunk{ID: chunkKey(h.ID, len(chunks)), Op: h.ID, Owner: h.Owner, Collection: p.collection}
				size = 0
			}
			cur.IDs = append(cur.IDs, p.ids[i])
			if raw != nil {
				cur.Docs = append(cur.Docs, raw)
			}
			cur.Before = append(cur.Before, p.before[i])
			cur.After = append(cur.After, p.after[i])
			size += len(raw)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	h.Chunks = len(chunks)
	if err := s.hook("put.journal-chunks"); err != nil {
		return nil, err
	}
	if err := s.writeHead(ctx, h); err != nil {
		return nil, err
	}
	return chunks, nil
}

func (s *Store) writeHead(ctx context.Context, h *journalHead) error {
	if _, err := s.db.Collection(journalColl).InsertOne(ctx, h); err != nil {
		return fmt.Errorf("write the journal: %w", unavailable(err))
	}
	return nil
}

// finishOp removes an operation's journal entry: the head first, so that a head never names
// missing chunks.
func (s *Store) finishOp(ctx context.Context, h *journalHead) error {
	if _, err := s.db.Collection(journalColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: h.ID}}); err != nil {
		return fmt.Errorf("close the journal entry %s: %w", h.ID, unavailable(err))
	}
	if h.Chunks > 0 {
		if err := s.chunkTable(h.ID).Drop(ctx); err != nil {
			return fmt.Errorf("close the journal entry %s: %w", h.ID, unavailable(err))
		}
	}
	return nil
}

// auditChunkOf writes the audit entry of one journal chunk (idempotent).
func (s *Store) auditChunkOf(ctx context.Context, h *journalHead, i int, c *journalChunk) error {
	e := duty.AuditEntry{ID: auditID(h, i), At: h.At, Actor: h.Actor, Action: "records.put", Collection: c.Collection,
		Before: c.Before, After: c.After, IDs: c.IDs}
	return s.auditOnce(ctx, e)
}

// auditOnce appends an audit entry whose id is fixed, unless it is there already.
func (s *Store) auditOnce(ctx context.Context, e duty.AuditEntry) error {
	if e.IDs == nil {
		e.IDs = []string{}
	}
	_, err := s.db.Collection(auditColl).InsertOne(ctx, e)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write audit trail: %w", unavailable(err))
	}
	return nil
}

// ErrSimulatedCrash, returned by a test hook (Config.Hook), stops an operation where it is as
// a crash would: nothing after it is written, and the store does not complete it itself. Any
// other error from a hook stands for a failed write.
var ErrSimulatedCrash = errors.New("simulated crash")

// hook calls the test hook at a named point; its error aborts the operation there.
// At the steps of a write it then checks that this process still holds the write lease
// (checkFence): a test hook stands for a stall there.
func (s *Store) hook(point string) error {
	if s.cfg.Hook != nil {
		if err := s.cfg.Hook(point); err != nil {
			return fmt.Errorf("at %s: %w", point, err)
		}
	}
	if writePoint(point) {
		if err := s.checkFence(context.Background(), true); err != nil {
			return fmt.Errorf("at %s: %w", point, err)
		}
	}
	return nil
}

// Recovery is what Open found and did: the operations of dead processes it completed and the
// scans it marked failed.
type Recovery struct {
	Completed   []string // "put 3f2a… (import fixtures/sample, 1169 records)"
	FailedScans []string
	// AdoptedScans are the running scans of dead processes this process took over (AdoptScans).
	AdoptedScans []string
	Rebuilt      bool
	// Undone counts the batches of new records undone (cut short before their first audit
	// entry) among Completed.
	Undone int
}

// maxAdoptions is how many times a scan is taken over from a dead coordinator before it is
// failed: a scan that kills whoever runs it (out of memory) must not take every replica down
// in turn.
const maxAdoptions = 1

// Recovered returns what the last recovery did (at Open, or since by KeepAlive).
func (s *Store) Recovered() Recovery {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	return s.rec
}

// registerInstance records this process's lease (shared MongoDB) so that others can tell it is
// alive.
func (s *Store) registerInstance(ctx context.Context) error {
	_, err := s.db.Collection(instancesColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: s.instance}},
		bson.D{{Key: "_id", Value: s.instance}, {Key: "started_at", Value: s.stamp()},
			{Key: "expires_at", Value: s.clock().Add(leaseTTL).UTC().Format(duty.TimeFormat)}},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record this process's lease: %w", unavailable(err))
	}
	return nil
}

// alive returns whether owner is a live process: this one, or (shared MongoDB) one whose lease
// has not lapsed. With an exclusive store every other instance is dead.
func (s *Store) aliveFunc(ctx context.Context) (func(owner string) bool, error) {
	if s.cfg.Exclusive {
		return func(owner string) bool { return owner == s.instance }, nil
	}
	cur, err := s.db.Collection(instancesColl).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	live := map[string]bool{s.instance: true}
	at := s.stamp()
	for cur.Next(ctx) {
		var d struct {
			ID      string `bson:"_id"`
			Expires string `bson:"expires_at"`
		}
		if cur.Decode(&d) == nil && d.Expires > at {
			live[d.ID] = true
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read leases: %w", unavailable(err))
	}
	return func(owner string) bool { return live[owner] }, nil
}

// KeepAlive renews this process's lease and completes the operations and fails the scans of
// processes whose leases lapsed, until ctx ends. With an exclusive store it returns at once:
// Open did all there is to do.
func (s *Store) KeepAlive(ctx context.Context, onError func(error)) {
	if s.cfg.Exclusive {
		return
	}
	// This process's lease is held like any other (keepHolding), for as long as ctx lasts; it is
	// never released: it lapses once the process stops renewing it.
	stop := keepHolding(ctx, leaseTTL, func(ctx context.Context) {
		err := s.registerInstance(ctx)
		if err == nil {
			err = s.recoverDead(ctx)
		}
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
	}, func(context.Context) {})
	<-ctx.Done()
	stop()
}

// recoverDead completes the journal entries and fails the running scans of dead processes,
// then makes the organ tables equal to the collections if anything was completed or the
// tables are missing, of another layout or half-built.
func (s *Store) recoverDead(ctx context.Context) error {
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return s.recoverDeadLocked(ctx)
}

// recoverDeadLocked is recoverDead for a caller holding the write lock (lockWrites).
func (s *Store) recoverDeadLocked(ctx context.Context) error {
	alive, err := s.aliveFunc(ctx)
	if err != nil {
		return err
	}
	var rec Recovery

	// The shared work of dead coordinators first, then their scans: nobody will take its
	// findings, and a scan seen failed has no work left.
	if err := s.closeDeadScanWork(ctx, alive); err != nil {
		return err
	}
	// Scans first: a scan of a dead process will never finish.
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{{Key: "status", Value: duty.ScanRunning}})
	if err != nil {
		return fmt.Errorf("read scans: %w", unavailable(err))
	}
	// Every running scan is read, or the recovery fails: one skipped would stay running with no
	// live owner while the service runs.
	var dead []scanDoc
	for cur.Next(ctx) {
		var d scanDoc
		if err := cur.Decode(&d); err != nil {
			cur.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("decode a running scan: %w", err)
		}
		if !alive(d.Owner) {
			dead = append(dead, d)
		}
	}
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("read scans: %w", unavailable(err))
	}
	failed := 0
	for _, d := range dead {
		if !s.cfg.Exclusive && d.Adoptions < maxAdoptions {
			if !s.cfg.AdoptScans {
				continue // left to a process that runs scans (serve), which takes it over
			}
			ok, err := s.adoptScan(ctx, &d)
			if err != nil {
				return err
			}
			if ok {
				s.recMu.Lock()
				s.adopted = append(s.adopted, d.ID)
				s.recMu.Unlock()
				rec.AdoptedScans = append(rec.AdoptedScans, d.ID)
			}
			continue
		}
		reason := "interrupted: the process running the scan stopped before it finished (it was killed or crashed); run the scan again"
		if err := s.failScanOf(ctx, d.ID, d.Owner, reason); err != nil {
			return err
		}
		rec.FailedScans = append(rec.FailedScans, d.ID)
		failed++
	}
	if failed > 0 {
		// What the dead scans wrote is collected by the next prune (retention.go).
		if err := s.setCollectPending(ctx, true); err != nil {
			return err
		}
	}

	// Journal entries of dead processes, oldest first.
	var heads []journalHead
	cur, err = s.db.Collection(journalColl).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read the journal: %w", unavailable(err))
	}
	for cur.Next(ctx) {
		var h journalHead
		if err := cur.Decode(&h); err != nil {
			cur.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("decode a journal entry: %w", err)
		}
		if !alive(h.Owner) {
			heads = append(heads, h)
		}
	}
	// Part of the journal read is no recovery: the entries not read would stay half-visible.
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("read the journal: %w", unavailable(err))
	}
	slices.SortFunc(heads, func(a, b journalHead) int { return strings.Compare(a.At+a.ID, b.At+b.ID) })

	format, gen, err := s.readTablesMeta(ctx)
	if err != nil {
		return err
	}
	s.setGen(gen)
	rebuild := format != organTablesFormat
	if s.cfg.Exclusive && !rebuild {
		// A write counted as under way with no journal entry (a store written by an earlier
		// version): the tables may lag behind the collections.
		n, err := s.db.Collection(organVersionsColl).CountDocuments(ctx, bson.D{{Key: "pending", Value: bson.D{{Key: "$gt", Value: int64(0)}}}})
		if err != nil {
			return fmt.Errorf("read organ versions: %w", unavailable(err))
		}
		rebuild = n > 0
	}
	if err := s.completeOps(ctx, heads, rebuild, &rec); err != nil {
		return err
	}
	// Chunks of operations killed before their head was written: they wrote nothing.
	if err := s.dropOrphanChunks(ctx, alive); err != nil {
		return err
	}
	if err := s.dropStaleTables(ctx); err != nil {
		return err
	}
	s.recMu.Lock()
	if len(rec.Completed)+len(rec.FailedScans)+len(rec.AdoptedScans) > 0 || rec.Rebuilt {
		s.rec = rec
	}
	s.recMu.Unlock()
	return nil
}

// completeOps completes journaled operations: each is applied again from its journal, the
// organ stamps are recomputed when one moved records to another organ, the organ tables are
// rebuilt (also when rebuild is set), their writes are marked over, and their entries removed.
// The caller holds writeMu.
func (s *Store) completeOps(ctx context.Context, heads []journalHead, rebuild bool, rec *Recovery) error {
	restamp := false
	var ops []string
	for i := range heads {
		h := &heads[i]
		n, err := s.redo(ctx, h)
		if err != nil {
			return fmt.Errorf("complete the interrupted %s %s of %s: %w", h.Kind, h.ID, h.Actor, err)
		}
		rebuild, restamp = true, restamp || h.Restamp
		ops = append(ops, h.ID)
		what := "completed"
		if n < 0 {
			what, n = "undone", -n
			rec.Undone++
		}
		rec.Completed = append(rec.Completed, fmt.Sprintf("%s %s %s (%s, %d records)", h.Kind, h.ID, what, h.Actor, n))
	}
	if restamp {
		if err := s.restampStamps(ctx); err != nil {
			return err
		}
	}
	if rebuild {
		if err := s.rebuildTables(ctx, ""); err != nil {
			return err
		}
		rec.Rebuilt = true
	}
	if len(ops) > 0 || (s.cfg.Exclusive && rebuild) {
		if err := s.settle(ctx, ops); err != nil {
			return err
		}
	}
	for i := range heads {
		if err := s.finishOp(ctx, &heads[i]); err != nil {
			return err
		}
	}
	return nil
}

// finishFailed completes an operation of this process that failed after its journal entry was
// written (the store answered an error, or the request was cancelled): rather than leave it
// half-visible until the next start, it is completed at once, as recovery would. A simulated
// crash (ErrSimulatedCrash) is left to the next start, like a real one. When completion fails
// too, the entry stays and the next start (or, with a shared MongoDB, another process once this
// one's lease lapses) completes it. The caller holds writeMu.
func (s *Store) finishFailed(ctx context.Context, h *journalHead, err error) error {
	if errors.Is(err, ErrSimulatedCrash) {
		return err
	}
	if errors.Is(err, ErrWriteLeaseLost) {
		// A lost lease: the process that took it over completes the write.
		return fmt.Errorf("%w (%w)", err, duty.ErrCompletedLater)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
	defer cancel()
	var rec Recovery
	if cerr := s.completeOps(ctx, []journalHead{*h}, false, &rec); cerr != nil {
		return errors.Join(err, fmt.Errorf("complete the write after the failure (left to the next start): %w: %w", cerr, duty.ErrCompletedLater))
	}
	if rec.Undone > 0 {
		return fmt.Errorf("%w (%w)", err, duty.ErrUndone)
	}
	return fmt.Errorf("%w (%w)", err, duty.ErrCompletedAnyway)
}

// redo applies a dead process's operation again, from its journal: every record of a put is
// written again (inserted, or replaced when there), a deletion deleted again, and the missing
// audit entries written. The organ tables are rebuilt afterwards by the caller. It returns the
// number of records.
func (s *Store) redo(ctx context.Context, h *journalHead) (int, error) {
	n := 0
	if h.Departments || (h.Kind == "delete" && h.Collection == "departments") {
		if err := s.bumpDepartments(ctx); err != nil {
			return 0, err
		}
	}
	switch h.Kind {
	case "put":
		if h.Undo {
			return s.redoOrUndo(ctx, h)
		}
		for i := 0; i < h.Chunks; i++ {
			var c journalChunk
			err := s.chunkTable(h.ID).FindOne(ctx, bson.D{{Key: "_id", Value: chunkKey(h.ID, i)}}).Decode(&c)
			if err != nil {
				return n, fmt.Errorf("read journal chunk %d: %w", i, unavailable(err))
			}
			ids, docs, err := s.stillToWrite(ctx, &c)
			if err != nil {
				return n, err
			}
			if err := insertOrRewrite(ctx, s.db.Collection(c.Collection), ids, docs); err != nil {
				return n, fmt.Errorf("write %s: %w", c.Collection, err)
			}
			n += len(docs)
			if err := s.auditChunkOf(ctx, h, i, &c); err != nil {
				return n, err
			}
		}
	case "delete":
		if _, err := s.db.Collection(h.Collection).DeleteOne(ctx, bson.D{{Key: "_id", Value: h.DocID}}); err != nil {
			return 0, fmt.Errorf("delete %s %q: %w", h.Collection, h.DocID, unavailable(err))
		}
		n = 1
		err := s.auditOnce(ctx, duty.AuditEntry{ID: auditID(h, 0), At: h.At, Actor: h.Actor, Action: "records.delete",
			Collection: h.Collection, IDs: []string{h.DocID}, Before: []string{h.Before}, After: []string{""}})
		if err != nil {
			return n, err
		}
	case "rebuild":
	default:
		return 0, fmt.Errorf("a journal entry of unknown kind %q", h.Kind)
	}
	if h.Departments || (h.Kind == "delete" && h.Collection == "departments") {
		if err := s.bumpDepartments(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// redoOrUndo completes a put of new records whose audit entries were begun (the records are
// all written), else undoes it: its records are deleted. It returns how many records it
// completed, or minus how many it undid.
func (s *Store) redoOrUndo(ctx context.Context, h *journalHead) (int, error) {
	err := s.db.Collection(auditColl).FindOne(ctx, bson.D{{Key: "_id", Value: auditID(h, 0)}}).Err()
	audited := err == nil
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	n := 0
	for i := 0; i < h.Chunks; i++ {
		var c journalChunk
		err := s.chunkTable(h.ID).FindOne(ctx, bson.D{{Key: "_id", Value: chunkKey(h.ID, i)}}).Decode(&c)
		if err != nil {
			return n, fmt.Errorf("read journal chunk %d: %w", i, unavailable(err))
		}
		if audited {
			if err := s.auditChunkOf(ctx, h, i, &c); err != nil {
				return n, err
			}
			n += len(c.IDs)
			continue
		}
		ids := c.IDs
		if !s.cfg.Exclusive { // leave alone what a live process wrote since
			stored, err := s.docsByID(ctx, c.Collection, c.IDs)
			if err != nil {
				return n, err
			}
			ids = nil
			for j, id := range c.IDs {
				if d, ok := stored[id]; ok && docHash(d) == c.After[j] {
					ids = append(ids, id)
				}
			}
		}
		for start := 0; start < len(ids); start += 1000 {
			part := ids[start:min(start+1000, len(ids))]
			if _, err := s.db.Collection(c.Collection).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: part}}}}); err != nil {
				return n, fmt.Errorf("undo %s: %w", c.Collection, unavailable(err))
			}
		}
		n -= len(c.IDs)
	}
	return n, nil
}

// stillToWrite returns the records of a chunk to write again. With an exclusive store, all of
// them: nobody else wrote since. With a shared MongoDB, a live process may have written one of
// them after the dead one did; a record whose stored version is neither the one before the
// batch nor the batch's own is left as it is (the later write wins).
func (s *Store) stillToWrite(ctx context.Context, c *journalChunk) ([]string, []any, error) {
	var stored map[string]duty.Doc
	if !s.cfg.Exclusive {
		var err error
		if stored, err = s.docsByID(ctx, c.Collection, c.IDs); err != nil {
			return nil, nil, err
		}
	}
	ids, docs := make([]string, 0, len(c.IDs)), make([]any, 0, len(c.IDs))
	for j, id := range c.IDs {
		if stored != nil {
			h := docHash(stored[id])
			if h != c.Before[j] && h != c.After[j] {
				continue
			}
		}
		ids, docs = append(ids, id), append(docs, c.Docs[j])
	}
	return ids, docs, nil
}

// insertOrRewrite is insertOrReplace for recovery: the documents already there are deleted
// and inserted again, one command per thousand, instead of one upsert each (which the embedded
// store answers by reading the whole table).
func insertOrRewrite(ctx context.Context, coll *mongo.Collection, ids []string, docs []any) error {
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
			dups = append(dups, part[we.Index])
		}
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: dupIDs}}}}); err != nil {
			return unavailable(err)
		}
		if _, err := coll.InsertMany(ctx, dups, options.InsertMany().SetOrdered(false)); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// settle marks the writes of the given operations over (and, with an exclusive store, every
// write counted by an earlier version): the tables were just rebuilt from the collections.
func (s *Store) settle(ctx context.Context, ops []string) error {
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}
	if len(ops) > 0 {
		update = append(update, bson.E{Key: "$pullAll", Value: bson.D{{Key: "pending_ops", Value: ops}}})
	}
	if s.cfg.Exclusive {
		update = append(update, bson.E{Key: "$set", Value: bson.D{{Key: "pending", Value: int64(0)}, {Key: "pending_ops", Value: bson.A{}}}})
		update = slices.DeleteFunc(update, func(e bson.E) bool { return e.Key == "$pullAll" })
	}
	if _, err := s.db.Collection(organVersionsColl).UpdateMany(ctx, bson.D{}, update); err != nil {
		return fmt.Errorf("update organ versions: %w", unavailable(err))
	}
	return nil
}

// dropOrphanChunks drops the tables of chunks of dead processes' operations that no head
// names: killed before their head was written, they wrote nothing else.
func (s *Store) dropOrphanChunks(ctx context.Context, alive func(string) bool) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", unavailable(err))
	}
	for _, n := range names {
		op, ok := strings.CutPrefix(n, chunkTablePrefix)
		if !ok {
			continue
		}
		err := s.db.Collection(journalColl).FindOne(ctx, bson.D{{Key: "_id", Value: op}}).Err()
		switch {
		case err == nil:
			continue // a live process's operation under way
		case !errors.Is(err, mongo.ErrNoDocuments):
			return fmt.Errorf("read the journal: %w", unavailable(err))
		}
		var c journalChunk
		err = s.db.Collection(n).FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "owner", Value: 1}})).Decode(&c)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("read %s: %w", n, unavailable(err))
		}
		if err == nil && alive(c.Owner) {
			continue // its head is about to be written
		}
		if err := s.db.Collection(n).Drop(ctx); err != nil {
			return fmt.Errorf("drop %s: %w", n, unavailable(err))
		}
	}
	return nil
}
