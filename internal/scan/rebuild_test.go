package scan_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// truth evaluates the records as the collections hold them, without the organ tables: what a
// scan must report.
func truth(tb testing.TB, st *store.Store, e *policy.Engine, asOf string) []string {
	tb.Helper()
	ctx := context.Background()
	organs, keep, err := scan.LoadScope(ctx, st, "")
	if err != nil {
		tb.Fatal(err)
	}
	opts := scan.Options{AsOf: asOf, Engine: e}
	if err := opts.Normalize(ctx); err != nil {
		tb.Fatal(err)
	}
	vs, err := scan.Evaluate(ctx, opts, organs)
	if err != nil {
		tb.Fatal(err)
	}
	return canonical(scan.FilterScope(vs, keep), false)
}

// pauser is a store hook that stops the first operation reaching point until resumed.
type pauser struct {
	point   string
	armed   atomic.Bool
	reached chan struct{}
	resume  chan struct{}
}

func newPauser(point string) *pauser {
	return &pauser{point: point, reached: make(chan struct{}), resume: make(chan struct{})}
}

func (p *pauser) hook(point string) error {
	if point == p.point && p.armed.CompareAndSwap(true, false) {
		close(p.reached)
		<-p.resume
	}
	return nil
}

// moveDivision returns a division of organ from and the batch that moves it under organ to.
func moveDivision(tb testing.TB, st *store.Store, from, to string) map[string]any {
	tb.Helper()
	depts, err := st.Departments(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tree := duty.NewTree(depts)
	for _, d := range depts {
		if tree.Organ(d.ID()) == from && d.Str("kind") == "division" {
			m := map[string]any{}
			for k, v := range d {
				m[k] = v
			}
			m["parent_id"] = to
			return m
		}
	}
	tb.Fatalf("no division under %s", from)
	return nil
}

// TestScanDuringARebuild runs scans while a department move rebuilds the organ tables: one
// scan while the rebuild is half-way, one that started before the move and finishes after it.
// Each reports exactly the records of one moment — before the move — and is done; after the
// move a scan reports exactly the records after it. Before generations, the rebuild dropped
// every table under the scans: wrong counts (524, 8,755 against 717) or CursorNotFound, stored
// as done.
func TestScanDuringARebuild(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	rebuild := newPauser("rebuild.mid")
	scanning := newPauser("scan.organ-read")
	cfg.Hook = func(point string) error {
		_ = rebuild.hook(point)
		return scanning.hook(point)
	}
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	generated(t, st, 3)
	e := builtin(t)
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet, Readers: 1})
	const asOf = "2025-12-31"
	before := truth(t, st, e, asOf)
	fullScan := func(note string) (*duty.Scan, error) {
		t.Helper()
		return svc.Start(ctx, scan.Request{AsOf: asOf, Full: true}, true)
	}
	check := func(note string, sc *duty.Scan, err error, want []string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", note, err)
		}
		stored, err := svc.Get(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Status != duty.ScanDone {
			t.Fatalf("%s: status %s (%s)", note, stored.Status, stored.Error)
		}
		if diff := cmp.Diff(want, canonical(stored.Report.Violations, false)); diff != "" {
			t.Errorf("%s: %d violations, want %d (-want +got):\n%s", note, len(stored.Report.Violations), len(want), diff)
		}
	}

	// A scan that read its first organ before the move and reads the rest after it.
	scanning.armed.Store(true)
	type result struct {
		sc  *duty.Scan
		err error
	}
	early := make(chan result, 1)
	go func() {
		sc, err := fullScan("early")
		early <- result{sc, err}
	}()
	<-scanning.reached
	move := moveDivision(t, st, "ORG-1", "ORG-2")
	// The move, paused half-way through its rebuild, while another scan runs start to end.
	rebuild.armed.Store(true)
	moved := make(chan error, 1)
	go func() {
		_, err := st.PutBatch(ctx, system, "departments", []duty.RawDoc{{Value: move}})
		moved <- err
	}()
	<-rebuild.reached
	sc, err := fullScan("during the rebuild")
	check("a scan while the rebuild is half-way", sc, err, before)
	close(rebuild.resume)
	if err := <-moved; err != nil {
		t.Fatal(err)
	}
	close(scanning.resume)
	r := <-early
	check("a scan that started before the move and ended after it", r.sc, r.err, before)

	after := truth(t, st, e, asOf)
	if cmp.Equal(before, after) {
		t.Fatal("the move changed no violation: the test shows nothing")
	}
	sc, err = fullScan("after")
	check("a scan after the move", sc, err, after)
	sc, err = svc.Start(ctx, scan.Request{AsOf: asOf}, true)
	check("a re-scan after the move", sc, err, after)
}
