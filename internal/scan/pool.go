package scan

import (
	"context"
	"sync"
)

// pool is the scan's one worker pool: n goroutines, each with a worker of its own made by
// newWorker (so that it can keep state: a decoder, a term table), take items from in until it
// is closed or ctx ends and send each item's result to out. A worker's error goes to fail,
// which is to cancel ctx, and ends its goroutine. The returned function waits for all n; the
// caller closes out after it, once nothing else sends to out.
func pool[I, O any](ctx context.Context, n int, in <-chan I, out chan<- O,
	newWorker func() func(context.Context, I) (O, error), fail func(error)) (wait func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			work := newWorker()
			for item := range in {
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

// firstError keeps the first error of a pool's work and cancels the work's context on it.
type firstError struct {
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
}

func (f *firstError) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cancel()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
