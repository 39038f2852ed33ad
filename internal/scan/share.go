package scan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Shared scans (store/scanwork.go). On a shared store a scan publishes the organs it evaluates
// in chunks (chunkSize); it claims chunks itself, in order, as every free replica does
// (Assist), evaluates those it holds and takes the findings of those done by others from the
// store; a chunk whose holder stopped renewing it is claimed again once its holding lapses. The
// coordinator alone compares with the previous report, writes the findings and summarises, so
// the report is the one it would make alone. With an exclusive store (the embedded one) nothing
// is published and the scan runs as it always did.

// chunkSize is how many organs a chunk of a shared scan of n organs holds: about 16 chunks, so
// that replicas share even a scan of a few organs, and at most 8 organs, so that a chunk is a
// few seconds' work and the replicas end close together; the leases cost three small writes a
// chunk, little beside reading and evaluating an organ.
func chunkSize(n int) int { return min(max((n+15)/16, 1), 8) }

// sharePoll is how often a coordinator looks at the chunks others hold.
const sharePoll = 50 * time.Millisecond

// sharing is a coordinator's view of its shared scan.
type sharing struct {
	st     *store.Store
	work   *store.ScanWork
	chunk  map[string]int // organ → its chunk
	mu     sync.Mutex
	claims map[int]*store.ChunkClaim // chunks this process holds
	left   map[int]int               // organs of a held chunk not yet handled
	stop   context.CancelFunc
	done   chan struct{}
}

// share publishes a scan's organs as chunks when the store is shared; nil otherwise (and for a
// scan with nothing to evaluate).
func (s *Service) share(ctx context.Context, scanID string, opts Options, evaluate []string, tables *store.Tables) (*sharing, error) {
	if !s.store.Shared() || len(evaluate) == 0 {
		return nil, nil
	}
	w := store.ScanWork{Scan: scanID, AsOf: opts.AsOf, Revision: opts.Engine.Revision()}
	sh := &sharing{st: s.store, chunk: map[string]int{}, claims: map[int]*store.ChunkClaim{}, left: map[int]int{}}
	size := chunkSize(len(evaluate))
	for i := 0; i < len(evaluate); i += size {
		c := evaluate[i:min(i+size, len(evaluate))]
		for _, o := range c {
			sh.chunk[o] = len(w.Chunks)
		}
		w.Chunks = append(w.Chunks, c)
	}
	pw, err := s.store.PublishScanWork(ctx, tables, w)
	if err != nil {
		return nil, err
	}
	sh.work = pw
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	sh.stop, sh.done = stop, make(chan struct{})
	go func() {
		defer close(sh.done)
		renewHeld(renewCtx, s.store.ChunkLeaseTTL(), func() []*store.ChunkClaim {
			sh.mu.Lock()
			defer sh.mu.Unlock()
			out := make([]*store.ChunkClaim, 0, len(sh.claims))
			for _, c := range sh.claims {
				out = append(out, c)
			}
			return out
		})
	}()
	return sh, nil
}

// renewHeld renews the holdings held() returns every third of ttl until ctx ends.
func renewHeld(ctx context.Context, ttl time.Duration, held func() []*store.ChunkClaim) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, c := range held() {
				_ = c.Renew(ctx) // a holding not renewed lapses and is done again: never wrong
			}
		}
	}
}

// feed sends the organs of the chunks this process claims to organs, and hands the findings of
// chunks other processes finished to remote, until every chunk is one or the other. remote
// returns false when the scan stops.
func (sh *sharing) feed(ctx context.Context, organs chan<- string, remote func(store.ChunkResult) bool) error {
	pending := make([]int, len(sh.work.Chunks))
	for i := range pending {
		pending[i] = i
	}
	for first := true; len(pending) > 0; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(sharePoll):
			}
		}
		// One read of every chunk's state; a claim only for those that look free.
		states, err := sh.st.ChunkStates(ctx, sh.work.Scan, len(sh.work.Chunks))
		if err != nil {
			return err
		}
		next := pending[:0]
		for _, i := range pending {
			if !states[i].Free && !states[i].Done {
				next = append(next, i)
				continue
			}
			c, st, err := sh.st.ClaimChunk(ctx, sh.work.Scan, i, true)
			if err != nil {
				return err
			}
			switch {
			case c != nil:
				sh.mu.Lock()
				sh.claims[i], sh.left[i] = c, len(sh.work.Chunks[i])
				sh.mu.Unlock()
				for _, o := range sh.work.Chunks[i] {
					select {
					case organs <- o:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			case st.Done && st.Owner == sh.st.Instance():
				// Done here earlier: a holding of this process's that lapsed while it worked
				// and was finished all the same. Its organs were handled then.
			case st.Done:
				rs, err := sh.st.ChunkResults(ctx, sh.work.Scan, st, sh.work.Chunks[i])
				if err != nil {
					return err
				}
				for _, r := range rs {
					if !remote(r) {
						return ctx.Err()
					}
				}
			default:
				next = append(next, i)
			}
		}
		pending = next
	}
	return nil
}

// handled notes that an organ's outcome was handled; the last of a chunk this process holds
// marks the chunk done.
func (sh *sharing) handled(ctx context.Context, organ string) error {
	i := sh.chunk[organ]
	sh.mu.Lock()
	c := sh.claims[i]
	if c == nil {
		sh.mu.Unlock()
		return nil // another process's chunk
	}
	sh.left[i]--
	last := sh.left[i] == 0
	if last {
		delete(sh.claims, i)
	}
	sh.mu.Unlock()
	if !last {
		return nil
	}
	return c.Finish(ctx, nil)
}

// close stops the renewals and removes the scan's shared work.
func (sh *sharing) close() {
	if sh == nil {
		return
	}
	sh.stop()
	<-sh.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = sh.st.CloseScanWork(ctx, sh.work.Scan) // what is left is removed when the coordinator is found dead
}

// Assist helps with the shared scans of other processes (AssistOnce) at every tick until ctx
// ends. serve runs it when the store is shared.
func (s *Service) Assist(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		for _, id := range s.store.TakeAdopted() {
			s.resume(ctx, id)
		}
		if _, err := s.AssistOnce(ctx, 0); err != nil && ctx.Err() == nil {
			s.log.Warn("help with another replica's scan", "err", err)
		}
	}
}

// resume runs, in the background, a scan this process took over from a coordinator that died
// (store.TakeAdopted): planned and evaluated again from the start on this process's policy
// revision, under the scan's id, so that a client waiting for it sees it end.
func (s *Service) resume(ctx context.Context, id string) {
	sc, err := s.store.GetScan(ctx, id)
	if err != nil || sc.Status != duty.ScanRunning {
		s.log.Warn("resume a scan taken over from a dead replica", "scan", id, "err", err)
		return
	}
	opts := Options{AsOf: sc.AsOf, Department: sc.Department, Engine: s.engine(), Readers: s.readers}
	if err := opts.Normalize(ctx); err != nil {
		_ = s.store.FailScan(ctx, id, err.Error())
		return
	}
	sc.PolicyRevision = opts.Engine.Revision()
	s.log.Warn("running a scan whose replica died", "scan", id)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		runCtx, cancel := context.WithTimeout(s.base, s.timeout)
		defer cancel()
		if _, err := s.run(runCtx, sc, opts, false); err != nil {
			s.log.Warn("scan failed", "scan", sc.ID, "err", err)
		}
	}()
}

// AssistOnce claims and evaluates chunks of other processes' shared scans while any is free,
// when this process has a free scan slot, at most max chunks (0: no bound). It returns how many
// chunks it did. A scan on another policy revision than this process's is left to others (the
// revision in force reaches every process within seconds).
func (s *Service) AssistOnce(ctx context.Context, max int) (int, error) {
	works, err := s.store.OpenScanWork(ctx)
	if err != nil || len(works) == 0 {
		return 0, err
	}
	release, err := s.acquire()
	if err != nil {
		return 0, nil // busy with scans of its own
	}
	defer release()
	did := 0
	for _, w := range works {
		engine := s.engine()
		if engine.Revision() != w.Revision {
			continue
		}
		n, err := s.assist(ctx, w, engine, max-did)
		did += n
		if err != nil {
			return did, err
		}
		if max > 0 && did >= max {
			break
		}
	}
	return did, nil
}

// assist does chunks of one shared scan, at most max (0: no bound).
func (s *Service) assist(ctx context.Context, w store.ScanWork, engine *policy.Engine, max int) (int, error) {
	tables, err := s.store.PinGeneration(ctx, w.Generation)
	if err != nil {
		return 0, err
	}
	defer tables.Release()
	opts := Options{AsOf: w.AsOf, Engine: engine, Readers: s.readers}
	if err := opts.Normalize(ctx); err != nil {
		return 0, err
	}
	did := 0
	for i := range w.Chunks {
		if max > 0 && did >= max {
			break
		}
		c, _, err := s.store.ClaimChunk(ctx, w.Scan, i, false)
		if err != nil {
			return did, err
		}
		if c == nil {
			continue
		}
		if err := s.evaluateChunk(ctx, opts, tables, c, w.Chunks[i]); err != nil {
			if errors.Is(err, duty.ErrConflict) {
				return did, nil // the scan ended meanwhile
			}
			return did, fmt.Errorf("scan %s, chunk %d: %w", w.Scan, i, err)
		}
		did++
	}
	return did, nil
}

// evaluateChunk evaluates a claimed chunk's organs, renewing the holding meanwhile, and stores
// their findings; on an error it gives the chunk back.
func (s *Service) evaluateChunk(ctx context.Context, opts Options, tables *store.Tables, c *store.ChunkClaim, organs []string) error {
	renewCtx, stop := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		renewHeld(renewCtx, s.store.ChunkLeaseTTL(), func() []*store.ChunkClaim { return []*store.ChunkClaim{c} })
	}()
	var results []store.ChunkResult
	err := s.pipeline(ctx, opts, organs, nil, tables, nil, func(o outcome) error {
		results = append(results, store.ChunkResult{Organ: o.organ, Skip: o.skip, Violations: o.vs, Warnings: o.ws})
		return nil
	})
	stop()
	<-renewed
	if err != nil {
		_ = c.Release(context.WithoutCancel(ctx), "")
		return err
	}
	return c.Finish(ctx, results)
}
