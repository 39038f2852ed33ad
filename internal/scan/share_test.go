package scan_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// sharedOrgans is how many generated organs the shared-scan tests scan: a chunk each.
const sharedOrgans = 6

// replicaPair is two scan services on one shared store, as two replicas, on one fake clock;
// onPublish, when set, runs when a scan of a publishes its chunks.
type replicaPair struct {
	a, b      *scan.Service
	sa, sb    *store.Store
	clk       *clock.Fake
	onPublish atomic.Pointer[func(w store.ScanWork)]
	takeovers atomic.Int64
	single    *duty.Report // the same store's scan by one process alone (exclusive store)
	engine    *policy.Engine
}

func newReplicaPair(t *testing.T) *replicaPair {
	t.Helper()
	r := &replicaPair{clk: clock.NewFake(time.Date(2025, 6, 30, 9, 0, 0, 0, time.UTC)), engine: builtin(t)}
	engine := func() *policy.Engine { return r.engine }

	// The reference: one process alone on its own store.
	alone := storetest.Open(t)
	generated(t, alone, sharedOrgans)
	sc, err := scan.NewService(scan.ServiceConfig{Store: alone, Engine: engine, Log: quiet}).Start(context.Background(), scan.Request{AsOf: "2025-06-30"}, true)
	if err != nil {
		t.Fatal(err)
	}
	r.single = sc.Report

	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	cfg.Clock = r.clk
	cfg.OnTakeover = func(string) { r.takeovers.Add(1) }
	cfg.Hook = func(point string) error {
		if point == "scan.published" {
			if f := r.onPublish.Load(); f != nil {
				ws, err := r.sb.OpenScanWork(context.Background())
				if err != nil || len(ws) != 1 {
					t.Errorf("the other replica sees %d shared scans (%v); want 1", len(ws), err)
					return nil
				}
				(*f)(ws[0])
			}
		}
		return nil
	}
	r.sa, r.sb = storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)
	generated(t, r.sa, sharedOrgans)
	r.a = scan.NewService(scan.ServiceConfig{Store: r.sa, Engine: engine, Log: quiet})
	r.b = scan.NewService(scan.ServiceConfig{Store: r.sb, Engine: engine, Log: quiet})
	return r
}

// sameReport compares a shared scan's report, as returned and as stored, with the single
// process's: the same violations (with first_seen all in the scan itself), warnings and counts.
func (r *replicaPair) sameReport(t *testing.T, sc *duty.Scan) {
	t.Helper()
	stored, err := r.a.Get(context.Background(), sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, rep := range []*duty.Report{sc.Report, stored.Report} {
		if diff := cmp.Diff(canonical(r.single.Violations, false), canonical(rep.Violations, false)); diff != "" {
			t.Errorf("violations differ from one process's scan (-alone +shared):\n%s", diff)
		}
		if diff := cmp.Diff(canonical(warned(r.single.Warnings), false), canonical(warned(rep.Warnings), false)); diff != "" {
			t.Errorf("warnings differ from one process's scan (-alone +shared):\n%s", diff)
		}
		if rep.Summary.Violations != r.single.Summary.Violations || rep.Summary.New != r.single.Summary.New || rep.Summary.Warnings != r.single.Summary.Warnings {
			t.Errorf("summary %+v, alone %+v", rep.Summary, r.single.Summary)
		}
	}
	if r.single.Summary.Violations == 0 {
		t.Fatal("the generated organs have no violation; the test needs some")
	}
}

func warned(ws []duty.Warning) []duty.Violation {
	out := make([]duty.Violation, len(ws))
	for i, w := range ws {
		out[i] = w.Violation
		out[i].Details = map[string]any{"details": w.Details, "fails_on": w.FailsOn}
	}
	return out
}

// TestSharedScanEqualsOneReplicas: a scan on a shared store whose chunks another replica does in
// part (two chunks, done before the coordinator looks) reports and stores exactly what one
// process alone finds.
func TestSharedScanEqualsOneReplicas(t *testing.T) {
	r := newReplicaPair(t)
	ctx := context.Background()
	helped := 0
	f := func(store.ScanWork) {
		n, err := r.b.AssistOnce(ctx, 2)
		if err != nil {
			t.Errorf("assist: %v", err)
		}
		helped = n
	}
	r.onPublish.Store(&f)
	sc, err := r.a.Start(ctx, scan.Request{AsOf: "2025-06-30"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if helped != 2 {
		t.Errorf("the other replica did %d chunks; want 2", helped)
	}
	r.sameReport(t, sc)
	if ws, err := r.sb.OpenScanWork(ctx); err != nil || len(ws) != 0 {
		t.Errorf("after the scan: %d shared scans open (%v); want none", len(ws), err)
	}
	// Alone on a shared store, a replica does every chunk itself.
	r.onPublish.Store(nil)
	sc, err = r.a.Start(ctx, scan.Request{AsOf: "2025-06-30", Full: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Report.Summary.Violations != r.single.Summary.Violations || sc.Report.Summary.New != 0 {
		t.Errorf("the second scan: %+v; want %d violations, none new", sc.Report.Summary, r.single.Summary.Violations)
	}
}

// TestSharedScanFinishedAfterAReplicaDies: a replica that claimed a chunk and died (it never
// renews or finishes it) holds the scan up only until its holding lapses by the clock; the
// coordinator then takes the chunk over and the report is one process's.
func TestSharedScanFinishedAfterAReplicaDies(t *testing.T) {
	r := newReplicaPair(t)
	ctx := context.Background()
	f := func(w store.ScanWork) {
		if c, _, err := r.sb.ClaimChunk(ctx, w.Scan, 0, false); err != nil || c == nil {
			t.Errorf("the dying replica claims chunk 0: %v, %v", c, err)
			return
		}
		go func() {
			// Once the coordinator did the other chunks, the dead holding lapses.
			for {
				st, err := r.sa.ChunkStates(ctx, w.Scan, len(w.Chunks))
				if err != nil {
					return
				}
				if !slices.ContainsFunc(st[1:], func(c store.ChunkState) bool { return !c.Done }) {
					r.clk.Advance(r.sa.ChunkLeaseTTL() + time.Second)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	r.onPublish.Store(&f)
	sc, err := r.a.Start(ctx, scan.Request{AsOf: "2025-06-30"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.takeovers.Load() != 1 {
		t.Errorf("%d chunks taken over; want 1", r.takeovers.Load())
	}
	r.sameReport(t, sc)
}
