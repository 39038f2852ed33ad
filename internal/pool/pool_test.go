package pool_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dutycheck/dutycheck/internal/pool"
)

// run feeds 0..n-1 to a pool of workers goroutines running work and returns the results and
// the first error.
func run(n, workers int, work func(ctx context.Context, i int) (int, error)) ([]int, int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := pool.NewFirstError(cancel)
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	out := make(chan int)
	made := make(chan struct{}, workers)
	wait := pool.Run(ctx, workers, pool.Feed(ctx, items), out, func() func(context.Context, int) (int, error) {
		made <- struct{}{}
		return work
	}, errs.Fail)
	go func() { wait(); close(out) }()
	var got []int
	for r := range out {
		got = append(got, r)
	}
	return got, len(made), errs.Err()
}

func TestRunAll(t *testing.T) {
	got, made, err := run(100, 4, func(_ context.Context, i int) (int, error) { return 2 * i, nil })
	if err != nil {
		t.Fatal(err)
	}
	if made != 4 {
		t.Errorf("%d workers made; want one per goroutine, 4", made)
	}
	sum := 0
	for _, r := range got {
		sum += r
	}
	if len(got) != 100 || sum != 2*(99*100/2) {
		t.Errorf("%d results summing to %d; want 100 summing to %d", len(got), sum, 99*100)
	}
}

func TestRunFirstErrorCancels(t *testing.T) {
	bad := errors.New("item 3 fails")
	got, _, err := run(1000, 2, func(ctx context.Context, i int) (int, error) {
		if i == 3 {
			return 0, bad
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("item %d: %w", i, ctx.Err())
		}
		return i, nil
	})
	if !errors.Is(err, bad) {
		t.Errorf("error %v; want the first one, %v", err, bad)
	}
	if len(got) >= 999 {
		t.Errorf("%d results after the failure; the work should have stopped", len(got))
	}
}

// TestRunPacedProgresses: goroutines whose pace never lets them work (reads that never stop)
// leave the work to the first, which does it all, and end with it instead of stalling it.
func TestRunPacedProgresses(t *testing.T) {
	ctx := context.Background()
	items := make([]int, 50)
	for i := range items {
		items[i] = i
	}
	out := make(chan int)
	paced := make(chan struct{}, 100)
	wait := pool.RunPaced(ctx, 3, pool.Feed(ctx, items), out, func() func(context.Context, int) (int, error) {
		return func(_ context.Context, i int) (int, error) { return i, nil }
	}, func(err error) { t.Error(err) }, func(ctx context.Context, drained <-chan struct{}) bool {
		paced <- struct{}{}
		<-drained // never quiet: only the end of the work releases it
		return false
	})
	go func() { wait(); close(out) }()
	n := 0
	for range out {
		n++
	}
	if n != len(items) {
		t.Errorf("%d results; want %d", n, len(items))
	}
	if len(paced) != 2 {
		t.Errorf("pace called %d times; want once by each goroutine but the first, 2", len(paced))
	}
}
