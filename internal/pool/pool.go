// Package pool is dutycheck's one worker pool: a scan's readers and evaluators, the generator's
// organs (internal/gen) and the bench's runs of the opa CLI share its rules (one worker per
// goroutine, the first error cancels the rest).
package pool

import (
	"context"
	"sync"
)

// Run starts n goroutines that each make a worker of their own with newWorker (so that it can
// keep state: a decoder, a term table), take items from in until it is closed or ctx ends, and
// send each item's result to out. A worker's error goes to fail, which is to cancel ctx
// (FirstError.Fail), and ends its goroutine. The returned function waits for all n; the
// caller closes out after it, once nothing else sends to out.
func Run[I, O any](ctx context.Context, n int, in <-chan I, out chan<- O,
	newWorker func() func(context.Context, I) (O, error), fail func(error)) (wait func()) {
	return RunPaced(ctx, n, in, out, newWorker, fail, nil)
}

// RunPaced is Run where every goroutine but the first calls pace before taking each item, and
// ends when pace returns false. pace is given a channel closed once in is drained, so that a
// goroutine waiting in pace ends with the work rather than after it. The first goroutine never
// waits: the work always progresses. A nil pace is Run.
func RunPaced[I, O any](ctx context.Context, n int, in <-chan I, out chan<- O,
	newWorker func() func(context.Context, I) (O, error), fail func(error),
	pace func(ctx context.Context, drained <-chan struct{}) bool) (wait func()) {
	var wg sync.WaitGroup
	drained := make(chan struct{})
	var drain sync.Once
	for i := range n {
		wg.Go(func() {
			work := newWorker()
			for {
				if i > 0 && pace != nil && !pace(ctx, drained) {
					return
				}
				item, ok := <-in
				if !ok {
					drain.Do(func() { close(drained) })
					return
				}
				res, err := work(ctx, item)
				if err != nil {
					fail(err)
					return
				}
				select {
				case out <- res:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	return wg.Wait
}

// FirstError keeps the first error of a pool's work and cancels the work's context on it.
type FirstError struct {
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
}

// NewFirstError returns a FirstError that calls cancel on every error.
func NewFirstError(cancel context.CancelFunc) *FirstError { return &FirstError{cancel: cancel} }

// Fail keeps err if it is the first, and cancels the work.
func (f *FirstError) Fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cancel()
}

// Err returns the first error, or nil.
func (f *FirstError) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Feed sends items, in order, on the returned channel, which it closes after the last one or
// once ctx ends.
func Feed[T any](ctx context.Context, items []T) <-chan T {
	ch := make(chan T)
	go func() {
		defer close(ch)
		for _, it := range items {
			select {
			case ch <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
