package scan_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestHousekeep: the retention applies on the service's clock, never while a scan runs, and
// the housekeeping loop stops with its context.
func TestHousekeep(t *testing.T) {
	ctx := context.Background()
	reached, release := make(chan struct{}), make(chan struct{})
	var block atomic.Bool
	cfg := storetest.NewConfig(t)
	cfg.Hook = func(p string) error {
		if p == "scan.organ-read" && block.CompareAndSwap(true, false) {
			close(reached)
			<-release
		}
		return nil
	}
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	generated(t, st, 2)
	engine := builtin(t)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return engine }, Log: quiet,
		Retention: store.Retention{KeepScans: 1, KeepDays: 1}, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	var ids []string
	for range 3 {
		sc, err := svc.Start(ctx, scan.Request{AsOf: "2025-12-31", Full: true}, true)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.ID)
	}
	// Today every scan is younger than a day: nothing goes.
	if !svc.HousekeepOnce(ctx) {
		t.Fatal("housekeeping did not run with no scan running")
	}
	for _, id := range ids {
		if sc, err := svc.Get(ctx, id); err != nil || sc.Report == nil {
			t.Fatalf("scan %s today: %+v, %v", id, sc, err)
		}
	}
	// Ten days later, while a scan runs: the retention waits.
	clock.Add(int64(10 * 24 * time.Hour))
	block.Store(true)
	running, err := svc.Start(ctx, scan.Request{AsOf: "2025-12-31", Full: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	if svc.HousekeepOnce(ctx) {
		t.Error("the retention ran while a scan was running")
	}
	close(release)
	svc.Shutdown(ctx)
	if sc, err := svc.Get(ctx, running.ID); err != nil || sc.Status != duty.ScanDone {
		t.Fatalf("running scan: %+v, %v", sc, err)
	}
	// Then it applies: only the last scan keeps its findings; the others keep their summaries.
	loopCtx, stop := context.WithCancel(ctx)
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() { defer close(done); svc.Housekeep(loopCtx, tick) }()
	tick <- time.Now() // the first round ran before the loop waited for this tick
	stop()
	<-done
	for _, id := range ids {
		sc, err := svc.Get(ctx, id)
		if err != nil || sc.Report != nil || sc.Error != store.PrunedNote || sc.Summary == nil {
			t.Errorf("scan %s ten days later: %+v, %v; want its summary only", id, sc, err)
		}
	}
	if sc, err := svc.Get(ctx, running.ID); err != nil || sc.Report == nil {
		t.Errorf("the last scan: %+v, %v", sc, err)
	}
	if rep, err := svc.Latest(ctx, "ORG-1"); err != nil || rep.ScanID != running.ID {
		t.Errorf("Latest = %v, %v", rep, err)
	}
}
