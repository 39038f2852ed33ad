package schedule_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/schedule"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeScans records the scans started; the first busy calls answer duty.ErrBusy.
type fakeScans struct {
	mu   sync.Mutex
	busy int
	reqs chan scan.Request
}

func newFakeScans(busy int) *fakeScans {
	return &fakeScans{busy: busy, reqs: make(chan scan.Request, 10)}
}

func (f *fakeScans) Start(_ context.Context, req scan.Request, wait bool) (*duty.Scan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if wait {
		return nil, fmt.Errorf("a scheduled scan must not be waited for")
	}
	if f.busy > 0 {
		f.busy--
		return nil, fmt.Errorf("2 scans are running: %w", duty.ErrBusy)
	}
	f.reqs <- req
	return &duty.Scan{ID: "S-" + req.AsOf}, nil
}

func shanghai(tb testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Skip("no time zone database:", err)
	}
	return loc
}

// run starts a scheduler at 02:00 Shanghai time and returns a stop function.
func run(tb testing.TB, st schedule.Store, scans schedule.Scanner, clk clock.Clock) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := schedule.New(schedule.Config{Hour: 2, Minute: 0, Location: shanghai(tb), Scans: scans, Store: st, Clock: clk, Log: quiet, BusyRetry: time.Minute})
	go func() { done <- s.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			tb.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	tb.Cleanup(stop)
	return stop
}

func waitSleep(tb testing.TB, clk *clock.Fake, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound on failure only
	defer cancel()
	if err := clk.WaitSleepers(ctx, n); err != nil {
		tb.Fatalf("the scheduler did not go to sleep: %v", err)
	}
}

func expectScan(tb testing.TB, scans *fakeScans, asOf string) {
	tb.Helper()
	select {
	case req := <-scans.reqs:
		if req.AsOf != asOf || req.Department != "" {
			tb.Errorf("scan %+v, want everything as of %s", req, asOf)
		}
	default:
		tb.Fatalf("no scan started, want one as of %s", asOf)
	}
}

func expectNone(tb testing.TB, scans *fakeScans) {
	tb.Helper()
	select {
	case req := <-scans.reqs:
		tb.Errorf("unexpected scan %+v", req)
	default:
	}
}

// TestDaily: on a fresh store nothing runs at start; at 02:00 Shanghai time (18:00 UTC the day
// before) the scan of everything starts as of the Shanghai date, after waiting out a busy scan
// service; the day's run is on record with its scan; the next day's follows.
func TestDaily(t *testing.T) {
	loc := shanghai(t)
	st := storetest.Open(t)
	clk := clock.NewFake(time.Date(2025, 6, 30, 1, 0, 0, 0, loc))
	scans := newFakeScans(1)
	run(t, st, scans, clk)

	waitSleep(t, clk, 1)
	expectNone(t, scans)
	if got := clk.Sleeping(); got[0] != 10*time.Minute {
		t.Errorf("first nap %v, want 10m (an hour to go, in naps of at most 10 minutes)", got)
	}
	clk.Set(time.Date(2025, 6, 29, 18, 0, 0, 0, time.UTC)) // 02:00 in Shanghai
	waitSleep(t, clk, 1)                                   // the busy retry
	expectNone(t, scans)
	if got := clk.Sleeping(); got[0] != time.Minute {
		t.Fatalf("after a busy answer the scheduler sleeps %v, want 1m", got)
	}
	clk.Advance(time.Minute)
	waitSleep(t, clk, 1) // until tomorrow
	expectScan(t, scans, "2025-06-30")
	last, err := st.LastScheduledRun(context.Background())
	if err != nil || last.Day != "2025-06-30" || last.AsOf != "2025-06-30" || last.ScanID != "S-2025-06-30" || last.Instance != st.Instance() {
		t.Errorf("LastScheduledRun = %+v, %v", last, err)
	}
	clk.Set(time.Date(2025, 7, 1, 2, 0, 0, 0, loc))
	waitSleep(t, clk, 1)
	expectScan(t, scans, "2025-07-01")
}

// TestMissedRun: a service down over the scheduled time runs the scan once at start, as of
// today; a second restart the same day does not run it again.
func TestMissedRun(t *testing.T) {
	loc := shanghai(t)
	ctx := context.Background()
	st := storetest.Open(t)
	if ok, err := st.ClaimScheduledRun(ctx, "2025-06-27", "2025-06-27"); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	clk := clock.NewFake(time.Date(2025, 6, 30, 10, 0, 0, 0, loc))
	scans := newFakeScans(0)
	stop := run(t, st, scans, clk)
	waitSleep(t, clk, 1)
	expectScan(t, scans, "2025-06-30")
	expectNone(t, scans) // once, not once per missed day
	stop()

	clk.Set(time.Date(2025, 6, 30, 11, 0, 0, 0, loc))
	run(t, st, newFakeScans(0), clk)
	waitSleep(t, clk, 1)
	expectNone(t, scans)

	// Between midnight and the scheduled time, the missed run is yesterday's.
	st2 := storetest.Open(t)
	if ok, err := st2.ClaimScheduledRun(ctx, "2025-06-28", "2025-06-28"); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	clk2 := clock.NewFake(time.Date(2025, 7, 1, 1, 0, 0, 0, loc))
	scans2 := newFakeScans(0)
	run(t, st2, scans2, clk2)
	waitSleep(t, clk2, 1)
	expectScan(t, scans2, "2025-07-01")
	last, err := st2.LastScheduledRun(ctx)
	if err != nil || last.Day != "2025-06-30" {
		t.Errorf("LastScheduledRun = %+v, %v; want the day of the missed run, 2025-06-30", last, err)
	}
}

// TestOneRunPerDay: two processes on one store, both awake at the scheduled time, start one
// scan between them.
func TestOneRunPerDay(t *testing.T) {
	loc := shanghai(t)
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false // two processes share it
	stores := []*store.Store{storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)}
	t.Cleanup(func() { _ = stores[0].Drop(context.Background()) })
	clk := clock.NewFake(time.Date(2025, 6, 30, 1, 59, 0, 0, loc))
	scans := newFakeScans(0)
	for _, st := range stores {
		run(t, st, scans, clk)
	}
	waitSleep(t, clk, 2)
	clk.Set(time.Date(2025, 6, 30, 2, 0, 0, 0, loc))
	waitSleep(t, clk, 2)
	expectScan(t, scans, "2025-06-30")
	expectNone(t, scans)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		h, m int
		ok   bool
	}{
		{"02:30", 2, 30, true}, {"00:00", 0, 0, true}, {"23:59", 23, 59, true},
		{"24:00", 0, 0, false}, {"2:30", 0, 0, false}, {"02:60", 0, 0, false}, {"", 0, 0, false}, {"0230", 0, 0, false}, {"-1:00", 0, 0, false},
	} {
		h, m, err := schedule.ParseTime(tc.in)
		if (err == nil) != tc.ok || h != tc.h || m != tc.m {
			t.Errorf("ParseTime(%q) = %d, %d, %v", tc.in, h, m, err)
		}
	}
	if loc, err := schedule.ParseZone(""); err != nil || loc != time.Local {
		t.Errorf("ParseZone(\"\") = %v, %v; want the machine's zone", loc, err)
	}
	if _, err := schedule.ParseZone("Asia/Shanghai"); err != nil {
		t.Errorf("ParseZone(Asia/Shanghai): %v", err)
	}
	for _, bad := range []string{"Mars/Olympus", "Local", "../etc/passwd"} {
		if _, err := schedule.ParseZone(bad); err == nil {
			t.Errorf("ParseZone(%q) passed", bad)
		}
	}
}

// TestRetakeAfterTheClaimantDied: a process claimed the day's scheduled scan and died before its
// scan was done; another process, at its next wake (or its start), claims the day again and
// runs the scan, once, as of the day first claimed. While the claimant lives, nobody does.
func TestRetakeAfterTheClaimantDied(t *testing.T) {
	loc := shanghai(t)
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	dying, other := storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	if ok, err := dying.ClaimScheduledRun(ctx, "2025-06-30", "2025-06-30"); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	clk := clock.NewFake(time.Date(2025, 6, 30, 2, 5, 0, 0, loc))
	scans := newFakeScans(0)
	run(t, other, scans, clk)
	waitSleep(t, clk, 1)
	expectNone(t, scans) // the claimant lives: its scan is its own

	if err := dying.Close(ctx); err != nil { // its process lease goes, as a death's lapses
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	waitSleep(t, clk, 1)
	expectScan(t, scans, "2025-06-30")
	last, err := other.LastScheduledRun(ctx)
	if err != nil || last.Day != "2025-06-30" || last.ScanID != "S-2025-06-30" || last.Instance != other.Instance() {
		t.Errorf("last run %+v, %v; want the day's, taken again by the other process with its scan", last, err)
	}
	clk.Advance(10 * time.Minute)
	waitSleep(t, clk, 1)
	expectNone(t, scans) // the retaken run lives: not again
}

// failingScans answers the first fail starts with a store error (or, with refuse, the refusal
// of a store without departments), then records them as fakeScans.
type failingScans struct {
	*fakeScans
	fail   int
	refuse bool
}

func (f *failingScans) Start(ctx context.Context, req scan.Request, wait bool) (*duty.Scan, error) {
	f.mu.Lock()
	if f.fail > 0 {
		f.fail--
		f.mu.Unlock()
		if f.refuse {
			return nil, fmt.Errorf("scan: %w", duty.ErrEmptyStore)
		}
		return nil, fmt.Errorf("read the organs: connection refused: %w", duty.ErrUnavailable)
	}
	f.mu.Unlock()
	return f.fakeScans.Start(ctx, req, wait)
}

// failingClaims is a store whose first fail claims answer an error without claiming.
type failingClaims struct {
	*store.Store
	mu   sync.Mutex
	fail int
}

func (f *failingClaims) ClaimScheduledRun(ctx context.Context, day, asOf string) (bool, error) {
	f.mu.Lock()
	fail := f.fail > 0
	if fail {
		f.fail--
	}
	f.mu.Unlock()
	if fail {
		return false, fmt.Errorf("claim the scheduled scan of %s: connection refused: %w", day, duty.ErrUnavailable)
	}
	return f.Store.ClaimScheduledRun(ctx, day, asOf)
}

// TestStoreErrorDoesNotSkipTheDay: a store that fails at the scheduled time (the claim, or the
// scan's start) does not cost the day its scan: the scheduler tries again after BusyRetry, as it
// does for a busy scan service, instead of logging the error and waiting for tomorrow with the
// day claimed by a live process, which no other process then retakes.
func TestStoreErrorDoesNotSkipTheDay(t *testing.T) {
	loc := shanghai(t)
	for _, tc := range []struct {
		note        string
		claim, scan int
	}{
		{note: "the scan cannot start", scan: 2},
		{note: "the claim fails", claim: 2},
	} {
		t.Run(tc.note, func(t *testing.T) {
			st := &failingClaims{Store: storetest.Open(t), fail: tc.claim}
			clk := clock.NewFake(time.Date(2025, 6, 30, 1, 59, 0, 0, loc))
			scans := &failingScans{fakeScans: newFakeScans(0), fail: tc.scan}
			run(t, st, scans, clk)
			waitSleep(t, clk, 1)
			clk.Set(time.Date(2025, 6, 30, 2, 0, 0, 0, loc))
			for range 2 {
				waitSleep(t, clk, 1)
				expectNone(t, scans.fakeScans)
				if got := clk.Sleeping(); got[0] != time.Minute {
					t.Fatalf("after a store error the scheduler sleeps %v, want 1m", got)
				}
				clk.Advance(time.Minute)
			}
			waitSleep(t, clk, 1) // until tomorrow
			expectScan(t, scans.fakeScans, "2025-06-30")
			last, err := st.LastScheduledRun(context.Background())
			if err != nil || last.Day != "2025-06-30" || last.ScanID != "S-2025-06-30" {
				t.Errorf("LastScheduledRun = %+v, %v", last, err)
			}
		})
	}
}

// TestRefusedScanIsNotRetried: a scan the service refuses (a store without departments: a
// conflict that waiting does not end) is not tried again each minute for two hours; the
// scheduler sleeps until the next day's run.
func TestRefusedScanIsNotRetried(t *testing.T) {
	loc := shanghai(t)
	st := storetest.Open(t)
	clk := clock.NewFake(time.Date(2025, 6, 30, 1, 59, 0, 0, loc))
	scans := &failingScans{fakeScans: newFakeScans(0), fail: 1, refuse: true}
	run(t, st, scans, clk)
	waitSleep(t, clk, 1)
	clk.Set(time.Date(2025, 6, 30, 2, 0, 0, 0, loc))
	waitSleep(t, clk, 1)
	if got := clk.Sleeping(); got[0] == time.Minute {
		t.Fatalf("after a refusal the scheduler sleeps %v to try again, want until tomorrow", got)
	}
	expectNone(t, scans.fakeScans)
	scans.mu.Lock()
	defer scans.mu.Unlock()
	if scans.fail != 0 {
		t.Errorf("the refusing scan service was not asked")
	}
}
