package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
)

// TestFake: a sleeper wakes when the clock reaches its time, not before; a cancelled sleep
// returns the context's error and leaves the sleepers.
func TestFake(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f := clock.NewFake(t0)
	woke := make(chan error, 1)
	go func() { woke <- f.Sleep(context.Background(), time.Hour) }()
	if err := f.WaitSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(59 * time.Minute)
	select {
	case <-woke:
		t.Fatal("woke a minute early")
	default:
	}
	if got := f.Sleeping(); len(got) != 1 || got[0] != time.Hour {
		t.Errorf("Sleeping = %v", got)
	}
	f.Advance(time.Minute)
	if err := <-woke; err != nil {
		t.Errorf("Sleep = %v", err)
	}
	if !f.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %v", f.Now())
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { woke <- f.Sleep(ctx, time.Hour) }()
	if err := f.WaitSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-woke; err != context.Canceled {
		t.Errorf("cancelled Sleep = %v", err)
	}
	if n := len(f.Sleeping()); n != 0 {
		t.Errorf("%d sleepers left", n)
	}
	if err := (clock.Real{}).Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Real.Sleep on a cancelled context = %v", err)
	}
}
