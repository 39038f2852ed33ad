package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Shared scans. On a shared store (several replicas on one server) a scan's coordinator — the
// process that started it — publishes the organs it evaluates in chunks (scan_work), and every
// process that is free, the coordinator included, claims chunks through a lease per chunk
// (leases.go; scan_chunks, "<scan>/<chunk>/<n>"), reads their organs from the generation of
// organ tables the coordinator pinned, evaluates them on the same policy revision, and stores
// what it found (scan_results, "<scan>/<organ>/<n>", n the holding's number: the fencing
// counter) before marking its holding done. The coordinator takes the findings of the chunks
// done by others as if it had evaluated them, and compares, writes and summarises the report
// alone, so the report is the one a single process makes. A holder renews its holding while it
// works; a process killed mid-chunk stops renewing, and once the holding lapses (by Config.Clock)
// any free process, the coordinator at the latest, takes the chunk again. A coordinator that
// dies fails its scan as before (recovery), and the others stop helping with it.

const (
	scanWorkColl    = "scan_work"
	scanChunksColl  = "scan_chunks"
	scanResultsColl = "scan_results"
	// DefaultChunkLeaseTTL is how long a chunk's holding lasts without renewal; the holder
	// renews it every third of that.
	DefaultChunkLeaseTTL = 10 * time.Second
	// ChunkMaxHold is how long another process may hold a chunk, renewed or not, before the
	// coordinator takes it: a replica that renews its leases but makes no progress (stuck on a
	// read that never answers) does not hold a scan up for ever. A chunk is at most 8 organs,
	// seconds of work.
	ChunkMaxHold = 2 * time.Minute
)

// ScanWork is a shared scan's work as its coordinator published it.
type ScanWork struct {
	Scan       string     `bson:"_id"`
	Owner      string     `bson:"owner"`
	AsOf       string     `bson:"as_of"`
	Revision   string     `bson:"revision"`
	Generation int64      `bson:"generation"`
	Chunks     [][]string `bson:"-"`
}

// ChunkLeaseTTL is the lifetime of a chunk's holding without renewal.
func (s *Store) ChunkLeaseTTL() time.Duration {
	if s.cfg.ChunkLeaseTTL > 0 {
		return s.cfg.ChunkLeaseTTL
	}
	return DefaultChunkLeaseTTL
}

// workDoc is ScanWork as stored: FerretDB v1 stores no arrays of arrays.
type workDoc struct {
	ScanWork `bson:",inline"`
	Chunks   []chunkDoc `bson:"chunks"`
}

type chunkDoc struct {
	Organs []string `bson:"organs"`
}

func (d workDoc) work() ScanWork {
	w := d.ScanWork
	w.Chunks = make([][]string, len(d.Chunks))
	for i, c := range d.Chunks {
		w.Chunks[i] = c.Organs
	}
	return w
}

// PublishScanWork offers a scan's chunks to every process: w's organs, read from the tables t
// pins (which the coordinator keeps pinned until the scan ends).
func (s *Store) PublishScanWork(ctx context.Context, t *Tables, w ScanWork) (*ScanWork, error) {
	w.Owner, w.Generation = s.instance, t.gen
	d := workDoc{ScanWork: w}
	for _, c := range w.Chunks {
		d.Chunks = append(d.Chunks, chunkDoc{Organs: c})
	}
	if _, err := s.db.Collection(scanWorkColl).InsertOne(ctx, d); err != nil {
		return nil, fmt.Errorf("publish the work of scan %s: %w", w.Scan, unavailable(err))
	}
	return &w, s.hook("scan.published")
}

// OpenScanWork lists the shared scans of other live processes that may have chunks left.
func (s *Store) OpenScanWork(ctx context.Context) ([]ScanWork, error) {
	cur, err := s.db.Collection(scanWorkColl).Find(ctx, bson.D{{Key: "owner", Value: bson.D{{Key: "$ne", Value: s.instance}}}})
	if err != nil {
		return nil, fmt.Errorf("read shared scans: %w", unavailable(err))
	}
	var all []workDoc
	err = cur.All(ctx, &all)
	if err != nil {
		return nil, fmt.Errorf("read shared scans: %w", unavailable(err))
	}
	if len(all) == 0 {
		return nil, nil
	}
	alive, err := s.aliveFunc(ctx)
	if err != nil {
		return nil, err
	}
	var out []ScanWork
	for _, d := range all {
		if alive(d.Owner) {
			out = append(out, d.work())
		}
	}
	return out, nil
}

// CloseScanWork removes a shared scan's work, its chunks' holdings and the findings others
// stored for it: the coordinator's last step, done or failed, and recovery's for a dead one.
func (s *Store) CloseScanWork(ctx context.Context, scanID string) error {
	for _, del := range []struct {
		coll   string
		filter bson.D
	}{
		{scanWorkColl, bson.D{{Key: "_id", Value: scanID}}},
		{scanChunksColl, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: scanID + "/"}, {Key: "$lt", Value: scanID + "0"}}}}},
		{scanResultsColl, bson.D{{Key: "scan", Value: scanID}}},
	} {
		if _, err := s.db.Collection(del.coll).DeleteMany(ctx, del.filter); err != nil {
			return fmt.Errorf("remove the shared work of scan %s: %w", scanID, unavailable(err))
		}
	}
	return nil
}

// closeDeadScanWork removes the shared work of scans whose coordinator is dead, and the holdings
// and findings left of scans whose work is gone (a replica finishing a chunk just after the
// coordinator closed its scan).
func (s *Store) closeDeadScanWork(ctx context.Context, alive func(string) bool) error {
	// The chunks and findings first, the work after: a chunk is claimed only once its scan's
	// work is published, so a scan whose work is missing after is closed, not being opened.
	named := map[string]bool{}
	for _, coll := range []string{scanChunksColl, scanResultsColl} {
		cur, err := s.db.Collection(coll).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return fmt.Errorf("read shared scans: %w", unavailable(err))
		}
		var ids []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return fmt.Errorf("read shared scans: %w", unavailable(err))
		}
		for _, d := range ids {
			// Both are keyed "<scan>/…"; a scan id holds no "/".
			if scan, _, ok := strings.Cut(d.ID, "/"); ok {
				named[scan] = true
			}
		}
	}
	cur, err := s.db.Collection(scanWorkColl).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "owner", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read shared scans: %w", unavailable(err))
	}
	var all []ScanWork
	if err := cur.All(ctx, &all); err != nil {
		return fmt.Errorf("read shared scans: %w", unavailable(err))
	}
	for _, w := range all {
		if alive(w.Owner) {
			delete(named, w.Scan)
		} else {
			named[w.Scan] = true
		}
	}
	for scan := range named {
		if err := s.CloseScanWork(ctx, scan); err != nil {
			return err
		}
	}
	return nil
}

func chunkPrefix(scanID string, chunk int) string { return fmt.Sprintf("%s/%05d/", scanID, chunk) }

// ChunkState is what a chunk's latest holding says.
type ChunkState struct {
	// Done says a process finished the chunk; Fence is its holding's number, under which its
	// findings are stored, and Owner that process.
	Done  bool
	Fence int64
	Token string
	Owner string
	// Failed says the last holder could not store the chunk's findings (too large for one
	// document): only the coordinator evaluates it again.
	Failed bool
	// Free says the coordinator may claim the chunk (ClaimChunk decides, reading it again).
	Free bool
}

// ChunkClaim is a holding of a chunk of a shared scan.
type ChunkClaim struct {
	s     *Store
	id    string
	scan  string
	Chunk int
	// Fence is the holding's number.
	Fence int64
	token string
}

// ClaimChunk takes chunk of scan scanID when it is free: never taken, released, or lapsed (its
// holder stopped renewing it). It returns nil and the chunk's state otherwise. A chunk that a
// holder failed, or has held for longer than ChunkMaxHold, is taken only by the coordinator.
func (s *Store) ClaimChunk(ctx context.Context, scanID string, chunk int, coordinator bool) (*ChunkClaim, ChunkState, error) {
	coll := s.db.Collection(scanChunksColl)
	prefix := chunkPrefix(scanID, chunk)
	latest, n, err := latestHolding(ctx, coll, prefix)
	if err != nil {
		return nil, ChunkState{}, err
	}
	st, tookOver := s.judge(latest, n, coordinator)
	if !st.Free {
		return nil, st, nil
	}
	token := randomHex(8)
	id, ok, err := insertHolding(ctx, coll, prefix, n+1, s.instance, token, s.clock(), s.clock().Add(s.ChunkLeaseTTL()))
	if err != nil || !ok {
		return nil, ChunkState{Fence: n + 1}, err
	}
	if tookOver {
		s.tookOver("scan_chunk")
	}
	return &ChunkClaim{s: s, id: id, scan: scanID, Chunk: chunk, Fence: n + 1, token: token},
		ChunkState{Fence: n + 1, Token: token, Owner: s.instance}, nil
}

// judge says what a chunk's latest holding (nil: never taken) means to a process: its state,
// whether the process may claim it (Free), and whether that takes it over from a holder that
// stopped renewing it or held it too long.
func (s *Store) judge(latest *leaseDoc, n int64, coordinator bool) (st ChunkState, takeover bool) {
	if latest == nil {
		return ChunkState{Free: true}, false
	}
	st = ChunkState{Done: latest.Done, Fence: n, Token: latest.Token, Owner: latest.Owner, Failed: latest.Failed != ""}
	now := s.clock()
	switch {
	case latest.Done, latest.Released && latest.Failed != "" && !coordinator:
	case latest.Released:
		st.Free = true
	case latest.Expires <= now.UTC().Format(duty.TimeFormat):
		st.Free, takeover = true, true
	case coordinator && latest.Claimed != "" && latest.Claimed <= now.Add(-ChunkMaxHold).UTC().Format(duty.TimeFormat):
		st.Free, takeover = true, true
	}
	return st, takeover
}

// State is the chunk's state once this holding finished it.
func (c *ChunkClaim) State() ChunkState {
	return ChunkState{Done: true, Fence: c.Fence, Token: c.token, Owner: c.s.instance}
}

// Renew extends the holding by the lease's lifetime.
func (c *ChunkClaim) Renew(ctx context.Context) error {
	return setHolding(ctx, c.s.db.Collection(scanChunksColl), c.id, c.token,
		bson.D{{Key: "expires_at", Value: c.s.clock().Add(c.s.ChunkLeaseTTL()).UTC().Format(duty.TimeFormat)}})
}

// Release gives the chunk back undone; failed, when not "", says why the holder could not do it
// (then only the coordinator takes it again).
func (c *ChunkClaim) Release(ctx context.Context, failed string) error {
	set := bson.D{{Key: "released", Value: true}}
	if failed != "" {
		set = append(set, bson.E{Key: "failed", Value: failed})
	}
	return setHolding(ctx, c.s.db.Collection(scanChunksColl), c.id, c.token, set)
}

// ChunkResult is what a process found in one organ of a chunk: the organ's violations and
// warnings as the engine returned them, or Skip when the table holds no organ.
type ChunkResult struct {
	Organ      string           `bson:"organ"`
	Skip       bool             `bson:"skip,omitempty"`
	Violations []duty.Violation `bson:"violations"`
	Warnings   []duty.Warning   `bson:"warnings"`
}

type resultDoc struct {
	ID          string `bson:"_id"`
	Scan        string `bson:"scan"`
	ChunkResult `bson:",inline"`
}

func resultID(scanID, organ string, fence int64, token string) string {
	return fmt.Sprintf("%s/%s/%d/%s", scanID, organ, fence, token)
}

// Finish stores the chunk's findings (nil for the coordinator, which keeps its own) and marks
// the holding done. Findings too large for one document leave the chunk to the coordinator
// (Release with a reason) and return the error.
func (c *ChunkClaim) Finish(ctx context.Context, results []ChunkResult) error {
	for _, r := range results {
		_, err := c.s.db.Collection(scanResultsColl).InsertOne(ctx, resultDoc{ID: resultID(c.scan, r.Organ, c.Fence, c.token), Scan: c.scan, ChunkResult: r})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			if rerr := c.Release(context.WithoutCancel(ctx), err.Error()); rerr != nil {
				return rerr
			}
			return fmt.Errorf("store the findings of organ %q for scan %s: %w", r.Organ, c.scan, unavailable(err))
		}
	}
	return setHolding(ctx, c.s.db.Collection(scanChunksColl), c.id, c.token, bson.D{{Key: "done", Value: true}, {Key: "released", Value: true}})
}

// ChunkResults reads the findings stored for organs by the holding of a chunk of scanID that
// finished it (its ChunkState).
func (s *Store) ChunkResults(ctx context.Context, scanID string, done ChunkState, organs []string) ([]ChunkResult, error) {
	ids := make([]string, len(organs))
	for i, o := range organs {
		ids[i] = resultID(scanID, o, done.Fence, done.Token)
	}
	cur, err := s.db.Collection(scanResultsColl).Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("read the findings of scan %s: %w", scanID, unavailable(err))
	}
	var docs []resultDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read the findings of scan %s: %w", scanID, unavailable(err))
	}
	by := make(map[string]ChunkResult, len(docs))
	for _, d := range docs {
		by[d.Organ] = d.ChunkResult
	}
	out := make([]ChunkResult, len(organs))
	for i, o := range organs {
		r, ok := by[o]
		if !ok {
			return nil, fmt.Errorf("scan %s: the findings of organ %q, marked done by holding %d, are missing: %w", scanID, o, done.Fence, duty.ErrConflict)
		}
		out[i] = r
	}
	return out, nil
}

// ChunkStates reads the state of the first n chunks of scan scanID, as its coordinator sees
// them, in one query, claiming nothing.
func (s *Store) ChunkStates(ctx context.Context, scanID string, n int) ([]ChunkState, error) {
	cur, err := s.db.Collection(scanChunksColl).Find(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: scanID + "/"}, {Key: "$lt", Value: scanID + "0"}}}})
	if err != nil {
		return nil, fmt.Errorf("read the chunks of scan %s: %w", scanID, unavailable(err))
	}
	var all []leaseDoc
	if err := cur.All(ctx, &all); err != nil {
		return nil, fmt.Errorf("read the chunks of scan %s: %w", scanID, unavailable(err))
	}
	latest := make([]*leaseDoc, n)
	numbers := make([]int64, n)
	for i := range all {
		var chunk int
		if _, err := fmt.Sscanf(all[i].ID[len(scanID)+1:], "%05d/", &chunk); err != nil || chunk < 0 || chunk >= n {
			continue
		}
		num, err := holdingNumber(chunkPrefix(scanID, chunk), all[i].ID)
		if err != nil {
			return nil, err
		}
		if latest[chunk] == nil || num > numbers[chunk] {
			latest[chunk], numbers[chunk] = &all[i], num
		}
	}
	out := make([]ChunkState, n)
	for i := range out {
		out[i], _ = s.judge(latest[i], numbers[i], true)
	}
	return out, nil
}
