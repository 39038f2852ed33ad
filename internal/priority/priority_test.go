package priority_test

import (
	"context"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/priority"
)

// TestWaitForQuiet: a scan's evaluator waits while reads run and for the quiet spell after
// the last, looks again when a read came during the spell, and returns at once when nobody
// read lately; a closed stop or an ended context release it with false.
func TestWaitForQuiet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := priority.New(time.Second, clk)
	if !r.Wait(ctx, nil) {
		t.Fatal("Wait with no read ever: false")
	}
	end1 := r.Begin()
	end2 := r.Begin()
	done := make(chan bool, 1)
	go func() { done <- r.Wait(ctx, nil) }()
	end1()
	end1() // once
	select {
	case ok := <-done:
		t.Fatalf("Wait returned %v with a read under way", ok)
	default:
	}
	clk.Advance(300 * time.Millisecond)
	end2() // the last read ends: the spell starts now
	if err := clk.WaitSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := clk.Sleeping(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("sleeping %v; want the whole spell", got)
	}
	// A read during the spell: Wait looks again and waits for it.
	end3 := r.Begin()
	clk.Advance(time.Second)
	select {
	case ok := <-done:
		t.Fatalf("Wait returned %v with a read under way", ok)
	default:
	}
	clk.Advance(500 * time.Millisecond)
	end3()
	if err := clk.WaitSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if ok := <-done; !ok {
		t.Fatal("Wait after the spell: false")
	}
	if !r.Wait(ctx, nil) {
		t.Fatal("Wait long after the last read: false")
	}

	// Released by stop, while reads run and while it sleeps out the spell.
	end4 := r.Begin()
	stop := make(chan struct{})
	go func() { done <- r.Wait(ctx, stop) }()
	close(stop)
	if ok := <-done; ok {
		t.Fatal("Wait after stop: true")
	}
	end4()
	stop = make(chan struct{})
	go func() { done <- r.Wait(ctx, stop) }()
	if err := clk.WaitSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if ok := <-done; ok {
		t.Fatal("Wait after stop, in the spell: true")
	}
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if r.Wait(cctx, nil) {
		t.Fatal("Wait on an ended context: true")
	}
	var none *priority.Reads
	none.Begin()()
	if !none.Wait(ctx, nil) {
		t.Fatal("nil Reads: Wait false")
	}
}
