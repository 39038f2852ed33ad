package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// sharedPair opens two stores on one database as two replicas, on one fake clock, counting the
// leases taken over.
func sharedPair(t *testing.T) (a, b *store.Store, clk *clock.Fake, takeovers *atomic.Int64) {
	t.Helper()
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	clk = clock.NewFake(time.Date(2025, 6, 30, 9, 0, 0, 0, time.UTC))
	cfg.Clock = clk
	takeovers = &atomic.Int64{}
	cfg.OnTakeover = func(string) { takeovers.Add(1) }
	return storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg), clk, takeovers
}

// TestChunkLease: a chunk held by one replica is not taken by another until its holding lapses
// by the clock; then the other takes it over (counted), and only the latest holding's findings
// count, whatever the earlier holder stores afterwards (the fencing counter).
func TestChunkLease(t *testing.T) {
	a, b, clk, takeovers := sharedPair(t)
	ctx := context.Background()
	put(t, a, "departments", map[string]any{"id": "ORG-L", "name": "机关", "kind": "organ"})
	tables, err := a.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Release()
	w, err := a.PublishScanWork(ctx, tables, store.ScanWork{Scan: "S-1", AsOf: "2025-06-30", Revision: "r", Chunks: [][]string{{"ORG-L"}}})
	if err != nil {
		t.Fatal(err)
	}
	if open, err := b.OpenScanWork(ctx); err != nil || len(open) != 1 || open[0].Generation != w.Generation {
		t.Fatalf("b sees %+v, %v; want the one scan of a on generation %d", open, err, w.Generation)
	}
	first, _, err := b.ClaimChunk(ctx, "S-1", 0, false)
	if err != nil || first == nil {
		t.Fatalf("b claims the free chunk: %v, %v", first, err)
	}
	if c, st, err := a.ClaimChunk(ctx, "S-1", 0, true); err != nil || c != nil || st.Done {
		t.Fatalf("a claims the chunk b holds: %v, %+v, %v; want nothing", c, st, err)
	}
	clk.Advance(a.ChunkLeaseTTL() - time.Second)
	if c, _, _ := a.ClaimChunk(ctx, "S-1", 0, true); c != nil {
		t.Fatal("a took the chunk before its holding lapsed")
	}
	clk.Advance(2 * time.Second)
	second, _, err := a.ClaimChunk(ctx, "S-1", 0, true)
	if err != nil || second == nil {
		t.Fatalf("a takes the lapsed chunk: %v, %v", second, err)
	}
	if takeovers.Load() != 1 || second.Fence != first.Fence+1 {
		t.Errorf("takeovers %d, fences %d then %d; want 1 and consecutive", takeovers.Load(), first.Fence, second.Fence)
	}
	stale := []store.ChunkResult{{Organ: "ORG-L", Violations: []duty.Violation{{Policy: "stale"}}}}
	if err := first.Finish(ctx, stale); err != nil {
		t.Fatal(err)
	}
	st, err := a.ChunkStates(ctx, "S-1", 1)
	if err != nil || st[0].Done {
		t.Fatalf("after the lapsed holder finished: %+v, %v; want the chunk not done (its holding is the newer one)", st, err)
	}
	fresh := []store.ChunkResult{{Organ: "ORG-L", Violations: []duty.Violation{{Policy: "fresh"}}}}
	if err := second.Finish(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	st, err = a.ChunkStates(ctx, "S-1", 1)
	if err != nil || !st[0].Done || st[0].Fence != second.Fence {
		t.Fatalf("chunk state %+v, %v; want done by holding %d", st, err, second.Fence)
	}
	rs, err := a.ChunkResults(ctx, "S-1", st[0], []string{"ORG-L"})
	if err != nil || len(rs) != 1 || len(rs[0].Violations) != 1 || rs[0].Violations[0].Policy != "fresh" {
		t.Fatalf("results %+v, %v; want the latest holder's", rs, err)
	}
	if c, st, _ := b.ClaimChunk(ctx, "S-1", 0, false); c != nil || !st.Done {
		t.Errorf("a done chunk was claimed again (%+v)", st)
	}
	if err := a.CloseScanWork(ctx, "S-1"); err != nil {
		t.Fatal(err)
	}
	if open, err := b.OpenScanWork(ctx); err != nil || len(open) != 0 {
		t.Errorf("after close: %+v, %v", open, err)
	}
	if _, err := a.ChunkResults(ctx, "S-1", second.State(), []string{"ORG-L"}); err == nil {
		t.Error("the findings outlived their scan's work")
	}
}

// TestRebuildKeepsAnotherReplicasTables: a replica's rebuild of the organ tables (at its start,
// or a department moved) switches to a new generation but does not drop the generation a scan
// of another replica pinned (issue 18: 3 of 40 concurrent scans reported wrong counts); that
// scan reads its tables whole and passes its check, and the tables go once it releases them.
func TestRebuildKeepsAnotherReplicasTables(t *testing.T) {
	a, b, _, _ := sharedPair(t)
	ctx := context.Background()
	put(t, a, "departments",
		map[string]any{"id": "ORG-K", "name": "机关", "kind": "organ"},
		map[string]any{"id": "ORG-K-D", "name": "处", "kind": "division", "parent_id": "ORG-K"})
	for i := range 20 {
		put(t, a, "people", map[string]any{"id": fmt.Sprintf("P-K%02d", i), "name": "张三", "department_id": "ORG-K-D", "rank": "staff", "roles": []any{}, "active": true})
	}
	count := func(tables *store.Tables) int {
		n := 0
		if err := store.ReadOrganIn(ctx, tables, "ORG-K", plain{}, func(*duty.Collection, any) { n++ }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tables, err := a.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := count(tables)
	for range 2 {
		if err := b.RebuildOrganTables(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if cur, err := tables.Current(ctx); err != nil || cur {
		t.Fatalf("current = %v, %v; want the pinned generation replaced", cur, err)
	}
	if got := count(tables); got != before || before != 22 {
		t.Errorf("the pinned generation holds %d records after the other's rebuilds, %d before; want 22 both", got, before)
	}
	if err := tables.Check(ctx); err != nil {
		t.Errorf("check: %v", err)
	}
	tables.Release()
	again, err := a.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Release()
	if again.Generation() == tables.Generation() || count(again) != 22 {
		t.Errorf("a new pin reads generation %d (%d records); want the new one, 22", again.Generation(), count(again))
	}
	names, err := a.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(n, fmt.Sprintf("organ_g%d.", tables.Generation())) {
			t.Errorf("table %s of the released generation is still there", n)
		}
	}
}

// TestRetentionWaitsForAnotherReplicasScan: the retention of one replica does not run while a
// scan of another runs, and a scan starting while the retention runs waits for it.
func TestRetentionWaitsForAnotherReplicasScan(t *testing.T) {
	a, b, _, _ := sharedPair(t)
	ctx := context.Background()
	sc := &duty.Scan{ID: "S-R", Status: duty.ScanRunning, AsOf: "2025-06-30", StartedAt: "2025-06-30T09:00:00.000000Z"}
	if err := a.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.BeginRetention(ctx); err != nil || ok {
		t.Fatalf("retention while a scan of the other replica runs: ok %v, %v; want refused", ok, err)
	}
	if err := a.FailScan(ctx, sc.ID, "test"); err != nil {
		t.Fatal(err)
	}
	end, ok, err := b.BeginRetention(ctx)
	if err != nil || !ok {
		t.Fatalf("retention with no scan running: ok %v, %v", ok, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- a.AwaitRetention(ctx) }()
	if _, ok, _ := a.BeginRetention(ctx); ok {
		t.Error("two retentions at once")
	}
	select {
	case err := <-waited:
		t.Fatalf("a scan did not wait for the other replica's retention (%v)", err)
	default:
	}
	end()
	if err := <-waited; err != nil {
		t.Errorf("after the retention: %v", err)
	}
}

// TestLeftoverScanWorkRemoved: the holdings and findings a replica stores for a scan whose work
// is already closed, and the work of a coordinator that died, are removed by the next recovery
// round; an open scan of a live coordinator is left alone.
func TestLeftoverScanWorkRemoved(t *testing.T) {
	a, b, _, _ := sharedPair(t)
	ctx := context.Background()
	put(t, a, "departments", map[string]any{"id": "ORG-L", "name": "机关", "kind": "organ"})
	tables, err := a.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Release()
	for _, id := range []string{"S-OPEN", "S-CLOSED"} {
		if _, err := a.PublishScanWork(ctx, tables, store.ScanWork{Scan: id, AsOf: "2025-06-30", Revision: "r", Chunks: [][]string{{"ORG-L"}}}); err != nil {
			t.Fatal(err)
		}
	}
	late, _, err := b.ClaimChunk(ctx, "S-CLOSED", 0, false)
	if err != nil || late == nil {
		t.Fatalf("claim: %v %v", late, err)
	}
	if err := a.CloseScanWork(ctx, "S-CLOSED"); err != nil {
		t.Fatal(err)
	}
	if err := late.Finish(ctx, []store.ChunkResult{{Organ: "ORG-L"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.ClaimChunk(ctx, "S-OPEN", 0, false); err != nil {
		t.Fatal(err)
	}
	if err := store.RecoverForTest(ctx, b); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.ChunkStates(ctx, "S-CLOSED", 1); st[0].Fence != 0 {
		t.Errorf("the closed scan's late holding is still there: %+v", st)
	}
	if _, err := a.ChunkResults(ctx, "S-CLOSED", late.State(), []string{"ORG-L"}); err == nil {
		t.Error("the closed scan's late findings are still there")
	}
	if st, _ := a.ChunkStates(ctx, "S-OPEN", 1); st[0].Fence != 1 {
		t.Errorf("the open scan's holding was removed: %+v", st)
	}
	if open, err := b.OpenScanWork(ctx); err != nil || len(open) != 1 || open[0].Scan != "S-OPEN" {
		t.Errorf("open scans after recovery: %+v, %v; want S-OPEN", open, err)
	}
	// The coordinator ends (its process lease goes): its work goes too.
	tables.Release()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.RecoverForTest(ctx, b); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.ChunkStates(ctx, "S-OPEN", 1); st[0].Fence != 0 {
		t.Errorf("the dead coordinator's chunk is still there: %+v", st)
	}
}

// TestChunkHeldTooLong: a replica that keeps renewing a chunk but never finishes it (stuck on a
// read that never answers) holds it until ChunkMaxHold; then the coordinator takes it, and only
// the coordinator.
func TestChunkHeldTooLong(t *testing.T) {
	a, b, clk, takeovers := sharedPair(t)
	ctx := context.Background()
	put(t, a, "departments", map[string]any{"id": "ORG-L", "name": "机关", "kind": "organ"})
	tables, err := a.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Release()
	if _, err := a.PublishScanWork(ctx, tables, store.ScanWork{Scan: "S-H", AsOf: "2025-06-30", Revision: "r", Chunks: [][]string{{"ORG-L"}}}); err != nil {
		t.Fatal(err)
	}
	stuck, _, err := b.ClaimChunk(ctx, "S-H", 0, false)
	if err != nil || stuck == nil {
		t.Fatalf("claim: %v %v", stuck, err)
	}
	for elapsed := time.Duration(0); elapsed < store.ChunkMaxHold; elapsed += a.ChunkLeaseTTL() / 2 {
		if c, _, _ := a.ClaimChunk(ctx, "S-H", 0, true); c != nil {
			t.Fatalf("the coordinator took a renewed chunk %v after it was claimed", elapsed)
		}
		clk.Advance(a.ChunkLeaseTTL() / 2)
		if err := stuck.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c, _, _ := b.ClaimChunk(ctx, "S-H", 0, false); c != nil {
		t.Fatal("a helper took a chunk held too long; only the coordinator should")
	}
	c, _, err := a.ClaimChunk(ctx, "S-H", 0, true)
	if err != nil || c == nil || takeovers.Load() != 1 {
		t.Fatalf("the coordinator takes the chunk held for %v: %v, %v (takeovers %d)", store.ChunkMaxHold, c, err, takeovers.Load())
	}
}

// TestAdoptScanOfADeadCoordinator: a running scan whose process died is taken over by the first
// scanning process whose recovery finds it dead (its process lease gone), once; a second death
// fails it, so that a scan that kills whoever runs it cannot take every replica down in turn.
func TestAdoptScanOfADeadCoordinator(t *testing.T) {
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	ctx := context.Background()
	coordinator := storetest.OpenConfig(t, cfg)
	sc := &duty.Scan{ID: "S-A", Status: duty.ScanRunning, AsOf: "2025-06-30", StartedAt: "2025-06-30T09:00:00.000000Z"}
	if err := coordinator.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	reader := storetest.OpenConfig(t, cfg) // not a scanning process: never adopts
	cfg.AdoptScans = true
	first, second := storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)
	for _, st := range []*store.Store{reader, first} {
		if err := store.RecoverForTest(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if got := first.TakeAdopted(); len(got) != 0 {
		t.Fatalf("adopted %v while the coordinator lives", got)
	}
	if err := coordinator.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.RecoverForTest(ctx, reader); err != nil {
		t.Fatal(err)
	}
	if got, _ := reader.GetScan(ctx, "S-A"); got.Status != duty.ScanRunning {
		t.Fatalf("a process that runs no scans failed it rather than leave it to one that does: %s", got.Status)
	}
	if err := store.RecoverForTest(ctx, first); err != nil {
		t.Fatal(err)
	}
	if got := first.TakeAdopted(); len(got) != 1 || got[0] != "S-A" {
		t.Fatalf("adopted %v; want S-A", got)
	}
	if err := store.RecoverForTest(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got := second.TakeAdopted(); len(got) != 0 {
		t.Fatalf("a scan adopted twice: %v", got)
	}
	if err := coordinator.FailScan(ctx, "S-A", "late"); err == nil {
		if got, _ := second.GetScan(ctx, "S-A"); got.Status != duty.ScanRunning {
			t.Errorf("the dead coordinator's late failure changed the adopted scan: %s", got.Status)
		}
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.RecoverForTest(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err := second.GetScan(ctx, "S-A")
	if err != nil || got.Status != duty.ScanFailed {
		t.Errorf("after its second coordinator died: %+v, %v; want failed", got, err)
	}
	if got := second.TakeAdopted(); len(got) != 0 {
		t.Errorf("adopted again: %v", got)
	}
}

// TestChunkOfARepublishedScan: a scan's work published again (its coordinator died and another
// took the scan over) numbers its holdings from 1 again; a holder of the earlier publication
// that finishes late neither marks the new holding done nor has its findings read for it.
func TestChunkOfARepublishedScan(t *testing.T) {
	a, b, _, _ := sharedPair(t)
	ctx := context.Background()
	put(t, a, "departments", map[string]any{"id": "ORG-L", "name": "机关", "kind": "organ"})
	tables, err := a.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Release()
	publish := func() {
		t.Helper()
		if _, err := a.PublishScanWork(ctx, tables, store.ScanWork{Scan: "S-P", AsOf: "2025-06-30", Revision: "r", Chunks: [][]string{{"ORG-L"}}}); err != nil {
			t.Fatal(err)
		}
	}
	publish()
	late, _, err := b.ClaimChunk(ctx, "S-P", 0, false)
	if err != nil || late == nil {
		t.Fatalf("claim: %v %v", late, err)
	}
	if err := a.CloseScanWork(ctx, "S-P"); err != nil {
		t.Fatal(err)
	}
	publish()
	now, _, err := a.ClaimChunk(ctx, "S-P", 0, true)
	if err != nil || now == nil || now.Fence != late.Fence {
		t.Fatalf("claim again: %v %v; want the same number as the earlier holding", now, err)
	}
	if err := late.Finish(ctx, []store.ChunkResult{{Organ: "ORG-L", Violations: []duty.Violation{{Policy: "stale"}}}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.ChunkStates(ctx, "S-P", 1); st[0].Done {
		t.Fatal("the late holder of the earlier publication marked the new holding done")
	}
	if err := now.Finish(ctx, []store.ChunkResult{{Organ: "ORG-L", Violations: []duty.Violation{{Policy: "fresh"}}}}); err != nil {
		t.Fatal(err)
	}
	st, _ := a.ChunkStates(ctx, "S-P", 1)
	rs, err := a.ChunkResults(ctx, "S-P", st[0], []string{"ORG-L"})
	if err != nil || len(rs) != 1 || rs[0].Violations[0].Policy != "fresh" {
		t.Errorf("results %+v, %v; want the new holder's", rs, err)
	}
}
