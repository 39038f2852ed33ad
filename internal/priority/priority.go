// Package priority lets the service's reads go before a scan's work. On a machine of few
// cores a full scan's evaluators (one per core) and the store's work for them take every core,
// and the reads of the pages and the API queue behind them for seconds. The HTTP read gate
// tells Reads when each read begins and ends; a scan's evaluators but the first wait for the
// reads to have been quiet a while before taking their next organ. The first never waits, so a
// scan always progresses, at one evaluator's pace under a steady load and at full speed when
// nobody reads.
package priority

import (
	"context"
	"sync"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
)

// DefaultQuiet is how long no read must have run for the scan to use every evaluator again:
// longer than the gap between the reads of a steady load of a few requests a second.
const DefaultQuiet = time.Second

// Reads counts the reads under way (waiting for their turn included). A nil *Reads counts
// nothing and never makes anything wait.
type Reads struct {
	quiet time.Duration
	clock clock.Clock

	mu   sync.Mutex
	n    int           // reads begun and not ended
	last time.Time     // when the last read ended
	idle chan struct{} // closed when n falls back to 0
}

// New returns a count of reads for which a quiet spell lasts quiet (DefaultQuiet when 0), on
// clk (the real clock when nil).
func New(quiet time.Duration, clk clock.Clock) *Reads {
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Reads{quiet: quiet, clock: clk}
}

// Begin counts a read until the returned function is called (once).
func (r *Reads) Begin() (end func()) {
	if r == nil {
		return func() {}
	}
	r.mu.Lock()
	if r.n == 0 {
		r.idle = make(chan struct{})
	}
	r.n++
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.n--
			r.last = r.clock.Now()
			if r.n == 0 {
				close(r.idle)
			}
		})
	}
}

// Running returns how many reads are under way (waiting for their turn included).
func (r *Reads) Running() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Wait returns true once no read has run for the quiet spell (at once if none ran lately);
// false when ctx ends or stop is closed first.
func (r *Reads) Wait(ctx context.Context, stop <-chan struct{}) bool {
	if r == nil {
		return ctx.Err() == nil
	}
	for {
		r.mu.Lock()
		n, idle := r.n, r.idle
		left := r.quiet - r.clock.Now().Sub(r.last)
		r.mu.Unlock()
		if n > 0 {
			select {
			case <-idle:
				continue
			case <-stop:
				return false
			case <-ctx.Done():
				return false
			}
		}
		if left <= 0 {
			return ctx.Err() == nil
		}
		// Sleep out the rest of the spell, then look again: a read may have come meanwhile.
		sctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-stop:
				cancel()
			case <-sctx.Done():
			}
		}()
		err := r.clock.Sleep(sctx, left)
		cancel()
		if err != nil {
			return false
		}
	}
}
