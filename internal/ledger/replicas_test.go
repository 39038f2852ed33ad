package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestTwoProcesses runs two ledgers on two store handles sharing one database, as two serve
// processes on one MongoDB or FerretDB would: what one changes the other sees at once (the
// store is the only truth), and two users acting on one case at the same moment through the two
// processes cannot both move it.
func TestTwoProcesses(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false // shared: the write lease serialises the processes
	st1 := storetest.OpenConfig(t, cfg)
	storetest.Load(t, st1, "../../fixtures/sample")
	st2 := storetest.OpenConfig(t, cfg)
	e, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	newLedger := func(st *store.Store) *ledger.Service {
		return ledger.New(ledger.Config{Today: func() string { return "2025-12-01" }, Log: quiet},
			ledger.Deps{Store: st, Engine: func() *policy.Engine { return e }})
	}
	a, b := newLedger(st1), newLedger(st2)
	v := duty.Violation{Policy: "talk.pre_appointment", Severity: "high", Reason: "missing", Department: div4.Department,
		Subject: duty.Ref{Collection: "people", ID: "ORG-1-P-048"}, Details: map[string]any{}, Evidence: []duty.Ref{}}
	id := ledger.CaseID("ORG-1", v.Key())
	state := func(l *ledger.Service) string {
		t.Helper()
		c, err := l.Case(ctx, inspector, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.State
	}
	syncAs := func(l *ledger.Service, scanID, asOf string, vs ...duty.Violation) {
		t.Helper()
		if err := l.Sync(ctx, caseScan(scanID, asOf, "2999-01-01T00:00:00.000000Z", vs, nil)); err != nil {
			t.Fatal(err)
		}
	}
	syncAs(a, "S1", "2025-06-30", v)
	syncAs(a, "S2", "2025-07-31") // resolved by data, in a's view
	if s := state(b); s != duty.CaseResolvedByData {
		t.Fatalf("b reads the case as %s", s)
	}
	syncAs(b, "S3", "2025-08-31", v) // b reopens it
	syncAs(a, "S4", "2025-09-30")    // a resolves it again: it reads the state b left
	if s := state(b); s != duty.CaseResolvedByData {
		t.Fatalf("after a's scan that no longer finds the check, the case is %s, want %s", s, duty.CaseResolvedByData)
	}
	syncAs(b, "S5", "2025-10-31", v)
	if s := state(a); s != duty.CaseOpen {
		t.Fatalf("a reads the case as %s after b reopened it", s)
	}

	// The same transition through both processes at once: one moves the case, the other is
	// refused with a conflict naming both states; the history holds one start.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, l := range []*ledger.Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.Act(ctx, div4, id, duty.CaseTransition{Action: "start", Owner: []string{"张三", "李四"}[i]})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, duty.ErrConflict):
			t.Errorf("the second start: %v, want a conflict", err)
		}
	}
	c, err := b.Case(ctx, inspector, id)
	if err != nil {
		t.Fatal(err)
	}
	starts := 0
	for _, h := range c.History {
		if h.Action == "start" {
			starts++
		}
	}
	if ok != 1 || starts != 1 || c.State != duty.CaseInProgress {
		t.Errorf("%d starts accepted, %d in the history, state %s; want 1, 1, in_progress", ok, starts, c.State)
	}
	// The standing's overdue count follows the syncs of both processes without reading cases.
	rows, err := a.Standings(ctx, div4, "ORG-1", nil)
	if err != nil || len(rows) != 1 || rows[0].Overdue != 1 {
		t.Errorf("standing after b reopened the case as of 2025-10-31 (due 2025-11-15, overdue on 2025-12-01): %+v %v", rows, err)
	}
}
