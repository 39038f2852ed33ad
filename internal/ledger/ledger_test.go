package ledger_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var (
	admin     = duty.Principal{User: "alice", Role: duty.RoleAdmin}
	inspector = duty.Principal{User: "ivan", Role: duty.RoleInspector}
	div4      = duty.Principal{User: "dora", Role: duty.RoleDepartment, Department: "ORG-1-DIV-04"}
	div5      = duty.Principal{User: "dan", Role: duty.RoleDepartment, Department: "ORG-1-DIV-05"}
)

// env is a store with the sample organ, the built-in policies, the ledger with a settable
// today, and a scan service with the ledger's hooks.
type env struct {
	st     *store.Store
	engine func() *policy.Engine
	cur    atomic.Pointer[policy.Engine] // the engine in force, as live.Manager keeps it
	l      *ledger.Service
	scans  *scan.Service
	today  string
}

func newEnv(tb testing.TB, hooks bool) *env {
	tb.Helper()
	ctx := context.Background()
	st := storetest.Open(tb)
	storetest.Load(tb, st, "../../fixtures/sample")
	e, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		tb.Fatal(err)
	}
	en := &env{st: st, today: "2025-12-01"}
	en.cur.Store(e)
	en.engine = func() *policy.Engine { return en.cur.Load() }
	engine := en.engine
	en.l = ledger.New(ledger.Config{Today: func() string { return en.today }, Log: quiet}, ledger.Deps{Store: st, Engine: engine})
	cfg := scan.ServiceConfig{Store: st, Engine: engine, Log: quiet, BeforeSave: en.l.BeforeSave}
	if hooks {
		cfg.AfterScan = []func(context.Context, *duty.Scan, *duty.Report){en.l.AfterScan}
	}
	en.scans = scan.NewService(cfg)
	return en
}

// setLedgerParams puts in force the built-in bundle with the ledger's parameters changed, as
// PUT /api/v1/policies/ledger/params does through live.Manager.
func (en *env) setLedgerParams(tb testing.TB, params map[string]any) {
	tb.Helper()
	b, err := policy.Builtin().WithParams(ledger.SettingsID, params)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := policy.Compile(context.Background(), b)
	if err != nil {
		tb.Fatal(err)
	}
	en.cur.Store(e)
}

func (en *env) scan(tb testing.TB, asOf string) *duty.Scan {
	tb.Helper()
	sc, err := en.scans.Start(context.Background(), scan.Request{AsOf: asOf}, true)
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

func keys(vs []duty.Violation) map[string]bool {
	out := map[string]bool{}
	for _, v := range vs {
		out[v.Key()] = true
	}
	return out
}

func wantErr(tb testing.TB, err, kind error, what string) {
	tb.Helper()
	if !errors.Is(err, kind) {
		tb.Fatalf("%s: error %v, want %v", what, err, kind)
	}
}

// TestWaivers drives a waiver from request to approval, applies it to scans up to its end
// date, lets it expire and revokes it.
func TestWaivers(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, true)
	const until = "2025-12-30"
	// A check that fails on the waiver's last day and on the day after, in DIV-04's subtree.
	onLast, after := en.scan(t, until), en.scan(t, "2025-12-31")
	afterKeys := keys(after.Report.Violations)
	var v *duty.Violation
	for i := range onLast.Report.Violations {
		c := &onLast.Report.Violations[i]
		if afterKeys[c.Key()] && c.Subject.Collection == "people" && c.Department == div4.Department {
			v = c
			break
		}
	}
	if v == nil {
		t.Fatal("the sample has no check of a person of ORG-1-DIV-04 failing on both days; the test needs one")
	}
	covered := 0 // the checks of that policy and subject: a waiver without details covers them all
	for _, o := range onLast.Report.Violations {
		if o.Policy == v.Policy && o.Subject == v.Subject {
			covered++
		}
	}
	req := duty.WaiverRequest{Policy: v.Policy, Subject: &v.Subject, Reason: "长期病假", Until: until}

	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			note string
			p    duty.Principal
			edit func(r *duty.WaiverRequest)
			kind error
		}{
			{"unknown policy", inspector, func(r *duty.WaiverRequest) { r.Policy = "talk.nope" }, duty.ErrInvalid},
			{"missing subject", inspector, func(r *duty.WaiverRequest) { r.Subject = nil }, duty.ErrInvalid},
			{"subject without id", inspector, func(r *duty.WaiverRequest) { r.Subject = &duty.Ref{Collection: "people"} }, duty.ErrInvalid},
			{"no such subject", inspector, func(r *duty.WaiverRequest) { r.Subject = &duty.Ref{Collection: "people", ID: "NOPE"} }, duty.ErrInvalid},
			{"no reason", inspector, func(r *duty.WaiverRequest) { r.Reason = " " }, duty.ErrInvalid},
			{"until in the past", inspector, func(r *duty.WaiverRequest) { r.Until = "2025-11-30" }, duty.ErrInvalid},
			{"until past the maximum", inspector, func(r *duty.WaiverRequest) { r.Until = "2026-12-02" }, duty.ErrInvalid},
			{"until not a date", inspector, func(r *duty.WaiverRequest) { r.Until = "2026-02-30" }, duty.ErrInvalid},
			{"subject outside the subtree", div5, func(*duty.WaiverRequest) {}, duty.ErrNotFound},
			{"a reason of 2 MB", inspector, func(r *duty.WaiverRequest) { r.Reason = strings.Repeat("因", 700_000) }, duty.ErrInvalid},
			{"a reason one character too long", inspector, func(r *duty.WaiverRequest) { r.Reason = strings.Repeat("因", ledger.MaxTextChars+1) }, duty.ErrInvalid},
			{"a reason with NUL", inspector, func(r *duty.WaiverRequest) { r.Reason = "因\x00故" }, duty.ErrInvalid},
		} {
			t.Run(tc.note, func(t *testing.T) {
				r := req
				tc.edit(&r)
				_, err := en.l.RequestWaiver(ctx, tc.p, r)
				wantErr(t, err, tc.kind, tc.note)
			})
		}
		for _, until := range []string{"2025-12-01", "2026-12-01"} { // today and the maximum
			r := req
			r.Until = until
			w, err := en.l.RequestWaiver(ctx, inspector, r)
			if err != nil {
				t.Fatalf("until %s: %v", until, err)
			}
			if _, err := en.l.RevokeWaiver(ctx, inspector, w.ID); err != nil {
				t.Fatal(err)
			}
		}
	})

	w, err := en.l.RequestWaiver(ctx, div4, req)
	if err != nil {
		t.Fatal(err)
	}
	if w.Status != duty.WaiverRequested || w.Department != div4.Department {
		t.Fatalf("requested waiver %+v", w)
	}
	t.Run("a request applies to nothing", func(t *testing.T) {
		sc := en.scan(t, until)
		if len(sc.Report.Waived) != 0 || !keys(sc.Report.Violations)[v.Key()] {
			t.Fatalf("a requested waiver set %d violations aside", len(sc.Report.Waived))
		}
	})
	t.Run("approval", func(t *testing.T) {
		_, err := en.l.DecideWaiver(ctx, div4, w.ID, duty.WaiverApprove, "")
		wantErr(t, err, duty.ErrForbidden, "a department user approves")
		if _, err := en.l.RequestWaiver(ctx, inspector, req); err != nil {
			t.Fatal(err)
		}
		own, _ := en.l.Waivers(ctx, inspector, duty.WaiverFilter{Status: duty.WaiverRequested})
		for _, o := range own {
			if o.RequestedBy == inspector.User {
				_, err := en.l.DecideWaiver(ctx, inspector, o.ID, duty.WaiverApprove, "")
				wantErr(t, err, duty.ErrForbidden, "the requester approves")
				if _, err := en.l.DecideWaiver(ctx, admin, o.ID, duty.WaiverReject, "不必豁免"); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := en.l.DecideWaiver(ctx, inspector, w.ID, duty.WaiverApprove, "同意")
		if err != nil || got.Status != duty.WaiverApproved || got.DecidedBy != inspector.User {
			t.Fatalf("approve: %+v, %v", got, err)
		}
		_, err = en.l.DecideWaiver(ctx, admin, w.ID, duty.WaiverReject, "")
		wantErr(t, err, duty.ErrConflict, "rejecting an approved waiver")
	})
	t.Run("applied up to its end date", func(t *testing.T) {
		sc := en.scan(t, until)
		check := func(rep *duty.Report, where string) {
			t.Helper()
			if keys(rep.Violations)[v.Key()] {
				t.Errorf("%s: the waived check is still among the violations", where)
			}
			if len(rep.Waived) != covered || rep.Summary.Waived != covered {
				t.Fatalf("%s: %d waived (summary %d), want %d", where, len(rep.Waived), rep.Summary.Waived, covered)
			}
			for _, x := range rep.Waived {
				if x.Waiver != (duty.WaiverRef{ID: w.ID, Until: until}) || x.Policy != v.Policy || x.Subject != v.Subject {
					t.Errorf("%s: waived %s with %+v", where, x.Key(), x.Waiver)
				}
			}
			if rep.Summary.Violations != len(rep.Violations) || rep.Summary.Violations != len(onLast.Report.Violations)-covered {
				t.Errorf("%s: summary counts %d violations, list %d, want %d", where, rep.Summary.Violations, len(rep.Violations), len(onLast.Report.Violations)-covered)
			}
			if rep.Summary.ByPolicy[v.Policy] != onLast.Report.Summary.ByPolicy[v.Policy]-covered {
				t.Errorf("%s: by_policy %s = %d, want %d", where, v.Policy, rep.Summary.ByPolicy[v.Policy], onLast.Report.Summary.ByPolicy[v.Policy]-covered)
			}
		}
		check(sc.Report, "the scan")
		stored, err := en.scans.Get(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		check(stored.Report, "the stored report")
	})
	t.Run("expiry restores the violation", func(t *testing.T) {
		sc := en.scan(t, "2025-12-31")
		if !keys(sc.Report.Violations)[v.Key()] || len(sc.Report.Waived) != 0 || sc.Report.Summary.Waived != 0 {
			t.Fatalf("as of the day after the end date: waived %d, the check among the violations: %v", len(sc.Report.Waived), keys(sc.Report.Violations)[v.Key()])
		}
	})
	t.Run("details narrow a waiver", func(t *testing.T) {
		r := req
		r.Details = map[string]any{"no_such_key": "x"}
		nw, err := en.l.RequestWaiver(ctx, div4, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := en.l.DecideWaiver(ctx, admin, nw.ID, duty.WaiverApprove, ""); err != nil {
			t.Fatal(err)
		}
		sc := en.scan(t, until)
		for _, x := range sc.Report.Waived {
			if x.Waiver.ID == nw.ID {
				t.Errorf("a waiver whose details match nothing set %s aside", x.Key())
			}
		}
		if _, err := en.l.RevokeWaiver(ctx, admin, nw.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("revocation", func(t *testing.T) {
		_, err := en.l.RevokeWaiver(ctx, div5, w.ID)
		wantErr(t, err, duty.ErrNotFound, "a department user outside the subtree revokes")
		got, err := en.l.RevokeWaiver(ctx, div4, w.ID)
		if err != nil || got.Status != duty.WaiverRevoked {
			t.Fatalf("revoke: %+v, %v", got, err)
		}
		_, err = en.l.RevokeWaiver(ctx, div4, w.ID)
		wantErr(t, err, duty.ErrConflict, "revoking twice")
		sc := en.scan(t, until)
		if !keys(sc.Report.Violations)[v.Key()] || len(sc.Report.Waived) != 0 {
			t.Fatalf("after revocation: %d waived", len(sc.Report.Waived))
		}
	})
	t.Run("the latest report of a department", func(t *testing.T) {
		r := req
		r.Until = "2026-01-31"
		lw, err := en.l.RequestWaiver(ctx, div4, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := en.l.DecideWaiver(ctx, admin, lw.ID, duty.WaiverApprove, ""); err != nil {
			t.Fatal(err)
		}
		en.scan(t, "2025-12-31") // the latest as-of date
		for _, tc := range []struct {
			dept string
			want int
		}{{div4.Department, covered}, {"ORG-1", covered}, {div5.Department, 0}} {
			latest, err := en.scans.Latest(ctx, tc.dept)
			if err != nil {
				t.Fatal(err)
			}
			if len(latest.Waived) != tc.want || latest.Summary.Waived != tc.want || keys(latest.Violations)[v.Key()] ||
				latest.Summary.Violations != len(latest.Violations) {
				t.Errorf("latest report of %s: %d waived (summary %d), want %d; %d violations (summary %d)", tc.dept,
					len(latest.Waived), latest.Summary.Waived, tc.want, len(latest.Violations), latest.Summary.Violations)
			}
		}
		if _, err := en.l.RevokeWaiver(ctx, admin, lw.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("listing and audit", func(t *testing.T) {
		mine, err := en.l.Waivers(ctx, div5, duty.WaiverFilter{})
		if err != nil || len(mine) != 0 {
			t.Errorf("a department user outside the subtree lists %d waivers (%v)", len(mine), err)
		}
		_, err = en.l.Waivers(ctx, div5, duty.WaiverFilter{Department: div4.Department})
		wantErr(t, err, duty.ErrNotFound, "listing another subtree")
		all, err := en.l.Waivers(ctx, inspector, duty.WaiverFilter{Department: "ORG-1", Policy: v.Policy, Status: duty.WaiverRevoked})
		if err != nil || !slices.ContainsFunc(all, func(x duty.Waiver) bool { return x.ID == w.ID }) {
			t.Errorf("the revoked waiver is not listed: %v", err)
		}
		trail, err := en.st.AuditTrail(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range trail {
			if slices.Contains(e.IDs, w.ID) {
				actions = append(actions, e.Actor+" "+e.Action)
			}
		}
		slices.Sort(actions)
		want := []string{"dora waiver.request", "dora waiver.revoke", "ivan waiver.approve"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit of %s: %v, want %v", w.ID, actions, want)
		}
	})
}

// caseScan is a done scan as of asOf finding the violations vs failing and ws waived.
func caseScan(id, asOf, started string, vs []duty.Violation, ws []duty.Waived) *duty.Scan {
	return &duty.Scan{ID: id, Status: duty.ScanDone, AsOf: asOf, StartedAt: started,
		Report: &duty.Report{ScanID: id, AsOf: asOf, Violations: vs, Waived: ws}}
}

// TestCaseLifecycle drives a case through every state: opened by a scan, started and
// submitted by the department, sent back by a re-check that still fails, closed by a scan
// (销号), reopened when the check fails again, set aside by a waiver and reopened when it
// ends, resolved by data; transitions not allowed from a state are refused naming both.
func TestCaseLifecycle(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, false)
	v := duty.Violation{Policy: "talk.pre_appointment", Severity: "high", Reason: "missing", Department: div4.Department,
		Accountable: "department_heads", Subject: duty.Ref{Collection: "people", ID: "ORG-1-P-048"}, Details: map[string]any{},
		Message: duty.Message{ZH: "缺少任前谈话。", EN: "missing"}, Evidence: []duty.Ref{}}
	id := ledger.CaseID("ORG-1", v.Key())
	failing := []duty.Violation{v}
	step := 0
	sync := func(asOf string, vs []duty.Violation, ws []duty.Waived) *duty.Scan {
		t.Helper()
		step++
		sc := caseScan("S"+string(rune('A'+step)), asOf, "2026-01-01T00:00:0"+string(rune('0'+step))+".000000Z", vs, ws)
		if err := en.l.Sync(ctx, sc); err != nil {
			t.Fatal(err)
		}
		return sc
	}
	get := func() *duty.Case {
		t.Helper()
		c, err := en.l.Case(ctx, inspector, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	expect := func(state string) *duty.Case {
		t.Helper()
		c := get()
		if c.State != state {
			t.Fatalf("case is %s, want %s; history %+v", c.State, state, c.History)
		}
		return c
	}
	act := func(p duty.Principal, tr duty.CaseTransition) (*duty.Case, error) {
		// The submission's time must come after the previous scans' starts: the test's scans
		// start in 2026.
		return en.l.Act(ctx, p, id, tr)
	}

	s1 := sync("2025-06-30", failing, nil)
	c := expect(duty.CaseOpen)
	if c.OpenedOn != "2025-06-30" || c.DueOn != "2025-07-15" || c.Organ != "ORG-1" || c.Department != div4.Department {
		t.Fatalf("opened case %+v", c)
	}
	if !c.Overdue {
		t.Error("a case due 2025-07-15 is not overdue on 2025-12-01")
	}
	if err := en.l.Sync(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if again := get(); again.Rev != c.Rev || len(again.History) != 1 {
		t.Fatalf("syncing the same scan twice changed the case: rev %d → %d, history %d", c.Rev, again.Rev, len(again.History))
	}

	// What a user writes into a case is bounded: a case is one document, read whole by its page
	// and rewritten by every move (MongoDB holds at most 16 MiB; 15 MiB notes were taken).
	long := strings.Repeat("注", ledger.MaxTextChars+1)
	for _, tr := range []duty.CaseTransition{
		{Action: "note", Note: long},
		{Action: "note", Note: strings.Repeat("注", 5<<20)},
		{Action: "start", Owner: strings.Repeat("张", ledger.MaxOwnerChars+1)},
		{Action: "start", Owner: "张三", Note: long},
		{Action: "note", Note: "已\x00整改"},
		{Action: "start", Owner: "张\n三"},
	} {
		_, err := act(div4, tr)
		wantErr(t, err, duty.ErrInvalid, tr.Action+" with a text over its bound or a control character")
	}
	if c := get(); len(c.History) != 1 {
		t.Fatalf("refused notes changed the case: %+v", c.History)
	}

	_, err := act(div4, duty.CaseTransition{Action: "submit", Note: "已整改", Evidence: []duty.Ref{{Collection: "talks", ID: "x"}}})
	wantErr(t, err, duty.ErrConflict, "submit an open case")
	if !strings.Contains(err.Error(), "is open") || !strings.Contains(err.Error(), "in_progress") {
		t.Errorf("the refusal does not name both states: %v", err)
	}
	_, err = act(div5, duty.CaseTransition{Action: "start", Owner: "张三"})
	wantErr(t, err, duty.ErrNotFound, "a department outside the subtree starts the case")
	_, err = act(div4, duty.CaseTransition{Action: "start"})
	wantErr(t, err, duty.ErrInvalid, "start without an owner")
	if _, err := act(div4, duty.CaseTransition{Action: "start", Owner: "张三", Note: "已安排"}); err != nil {
		t.Fatal(err)
	}
	expect(duty.CaseInProgress)
	_, err = act(div4, duty.CaseTransition{Action: "submit", Note: "已补谈话"})
	wantErr(t, err, duty.ErrInvalid, "submit without evidence")
	_, err = act(div4, duty.CaseTransition{Action: "submit", Note: "已补谈话", Evidence: []duty.Ref{{Collection: "people", ID: "ORG-1-P-001"}}})
	wantErr(t, err, duty.ErrInvalid, "submit with evidence outside the subtree")
	evidence := []duty.Ref{{Collection: "people", ID: "ORG-1-P-048"}}
	// Each linked record is read under the ledger's lease: a submission links a bounded number.
	_, err = act(div4, duty.CaseTransition{Action: "submit", Note: "已补谈话", Evidence: slices.Repeat(evidence, ledger.MaxEvidence+1)})
	wantErr(t, err, duty.ErrInvalid, "submit with too many records linked")
	_, err = act(div4, duty.CaseTransition{Action: "submit", Note: long, Evidence: evidence})
	wantErr(t, err, duty.ErrInvalid, "submit with a rectification note over its bound")
	if _, err := act(div4, duty.CaseTransition{Action: "submit", Note: "已补谈话", Evidence: evidence}); err != nil {
		t.Fatal(err)
	}
	expect(duty.CaseSubmitted)

	// A scan that started before the submission is not its re-check; the next one is.
	stale := caseScan("S-stale", "2025-07-31", "2000-01-01T00:00:00.000000Z", failing, nil)
	if err := en.l.Sync(ctx, stale); err != nil {
		t.Fatal(err)
	}
	expect(duty.CaseSubmitted)
	startedNow := func(id, asOf string, vs []duty.Violation, ws []duty.Waived) {
		t.Helper()
		sc := caseScan(id, asOf, "2999-01-01T00:00:00.000000Z", vs, ws)
		if err := en.l.Sync(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	startedNow("S-recheck", "2025-07-31", failing, nil)
	c = expect(duty.CaseInProgress)
	if last := c.History[len(c.History)-1]; last.Action != "recheck_failed" || last.ScanID != "S-recheck" || last.Actor != ledger.ScanActor {
		t.Errorf("the failed re-check is recorded as %+v", last)
	}
	if _, err := act(div4, duty.CaseTransition{Action: "submit", Note: "再次整改", Evidence: evidence}); err != nil {
		t.Fatal(err)
	}
	startedNow("S-close", "2025-08-31", nil, nil)
	c = expect(duty.CaseClosed)
	if c.ClosedBy == nil || c.ClosedBy.ScanID != "S-close" || c.Overdue {
		t.Errorf("closed case: closed_by %+v, overdue %v", c.ClosedBy, c.Overdue)
	}
	_, err = act(div4, duty.CaseTransition{Action: "note", Note: "x"})
	wantErr(t, err, duty.ErrConflict, "a note on a closed case")

	// An earlier date does not move the case, nor open one for a check failing only then.
	v2 := v
	v2.Subject.ID = "ORG-1-P-049"
	startedNow("S-early", "2025-01-31", []duty.Violation{v, v2}, nil)
	expect(duty.CaseClosed)
	if _, err := en.l.Case(ctx, inspector, ledger.CaseID("ORG-1", v2.Key())); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("a scan as of an earlier date opened a case: %v", err)
	}

	startedNow("S-again", "2025-09-30", failing, nil)
	c = expect(duty.CaseOpen)
	if c.DueOn != "2025-10-15" || c.ClosedBy != nil || c.Rectification != "" {
		t.Errorf("reopened case: due %s, closed_by %+v, rectification %q", c.DueOn, c.ClosedBy, c.Rectification)
	}
	ref := duty.WaiverRef{ID: "W1", Until: "2025-10-31"}
	startedNow("S-waived", "2025-10-31", nil, []duty.Waived{{Violation: v, Waiver: ref}})
	c = expect(duty.CaseWaived)
	if c.Waiver == nil || *c.Waiver != ref || c.Overdue {
		t.Errorf("waived case: waiver %+v, overdue %v", c.Waiver, c.Overdue)
	}
	startedNow("S-ended", "2025-11-30", failing, nil)
	c = expect(duty.CaseOpen)
	if c.Waiver != nil || c.DueOn != "2025-12-15" {
		t.Errorf("reopened after the waiver: waiver %+v, due %s", c.Waiver, c.DueOn)
	}
	// A scan of another department's subtree leaves the case alone.
	other := caseScan("S-other", "2025-12-31", "2999-01-01T00:00:00.000000Z", nil, nil)
	other.Department = div5.Department
	if err := en.l.Sync(ctx, other); err != nil {
		t.Fatal(err)
	}
	expect(duty.CaseOpen)
	startedNow("S-gone", "2025-12-31", nil, nil)
	c = expect(duty.CaseResolvedByData)
	if c.ClosedBy == nil || c.ClosedBy.ScanID != "S-gone" {
		t.Errorf("resolved case: closed_by %+v", c.ClosedBy)
	}

	var actions []string
	for _, e := range c.History {
		actions = append(actions, e.Action+":"+e.To)
	}
	want := []string{"open:open", "start:in_progress", "submit:submitted", "recheck_failed:in_progress", "submit:submitted",
		"close:closed", "reopen:open", "waive:waived", "reopen:open", "resolve:resolved_by_data"}
	if !slices.Equal(actions, want) {
		t.Errorf("history:\n got %v\nwant %v", actions, want)
	}
	trail, err := en.st.AuditTrail(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, e := range trail {
		if slices.Contains(e.IDs, id) && strings.HasPrefix(e.Action, "case.") {
			audited++
		}
	}
	if audited != len(want) {
		t.Errorf("%d audit entries for the case, want one per transition (%d)", audited, len(want))
	}

	t.Run("filters", func(t *testing.T) {
		yes, no := true, false
		for _, tc := range []struct {
			note string
			p    duty.Principal
			f    duty.CaseFilter
			want int
		}{
			{"all", inspector, duty.CaseFilter{}, 1},
			{"its department", div4, duty.CaseFilter{}, 1},
			{"another department", div5, duty.CaseFilter{}, 0},
			{"by state", inspector, duty.CaseFilter{State: duty.CaseResolvedByData}, 1},
			{"by other state", inspector, duty.CaseFilter{State: duty.CaseOpen}, 0},
			{"by severity", inspector, duty.CaseFilter{Severity: "high"}, 1},
			{"by policy", inspector, duty.CaseFilter{Policy: "letter.three_levels"}, 0},
			{"by department", inspector, duty.CaseFilter{Department: "ORG-1-OFF"}, 1},
			{"overdue", inspector, duty.CaseFilter{Overdue: &yes}, 0},
			{"not overdue", inspector, duty.CaseFilter{Overdue: &no}, 1},
		} {
			got, err := en.l.Cases(ctx, tc.p, tc.f)
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: %d cases (%v), want %d", tc.note, len(got), err, tc.want)
			}
		}
		_, err := en.l.Cases(ctx, div5, duty.CaseFilter{Department: div4.Department})
		wantErr(t, err, duty.ErrNotFound, "listing another subtree")
		_, err = en.l.Cases(ctx, inspector, duty.CaseFilter{State: "nope"})
		wantErr(t, err, duty.ErrInvalid, "an unknown state")
	})
}

// TestCasesAfterScans opens a case per failing check of a real scan, and a process stopped
// between storing the scan and updating the cases loses nothing: Recover does it at the next
// start, once.
func TestCasesAfterScans(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, false) // no AfterScan: as if the process died right after the scan was stored
	sc := en.scan(t, "2025-12-31")
	if n, _ := en.l.Cases(ctx, inspector, duty.CaseFilter{}); len(n) != 0 {
		t.Fatalf("%d cases before the ledger caught up", len(n))
	}
	if err := en.l.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	cases, err := en.l.Cases(ctx, inspector, duty.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(sc.Report.Violations) || len(cases) == 0 {
		t.Fatalf("%d cases for %d violations", len(cases), len(sc.Report.Violations))
	}
	byKey := map[string]duty.Case{}
	for _, c := range cases {
		byKey[c.Violation.Key()] = c
		if c.State != duty.CaseOpen || c.OpenedOn != "2025-12-31" || c.History[0].ScanID != sc.ID {
			t.Fatalf("case %+v", c)
		}
	}
	for _, v := range sc.Report.Violations {
		if _, ok := byKey[v.Key()]; !ok {
			t.Errorf("no case for %s", v.Key())
		}
	}
	pending, err := en.st.LedgerPending(ctx)
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending after recovery: %v %v", pending, err)
	}
	// Killed half-way through the cases: the scan is marked again; syncing it again opens
	// nothing twice and audits nothing twice.
	trail, _ := en.st.AuditTrail(ctx, "", 100000)
	if err := en.l.Sync(ctx, sc); err != nil {
		t.Fatal(err)
	}
	again, _ := en.l.Cases(ctx, inspector, duty.CaseFilter{})
	trail2, _ := en.st.AuditTrail(ctx, "", 100000)
	if len(again) != len(cases) || len(trail2) != len(trail) {
		t.Errorf("syncing a scan twice: %d → %d cases, %d → %d audit entries", len(cases), len(again), len(trail), len(trail2))
	}
}

// TestSyncKilled stops bringing the cases up to date at each step, as a kill would, and starts
// again (Recover): every case is opened and moved exactly once, and audited exactly once.
func TestSyncKilled(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, false)
	stopAt := ""
	crash := errors.New("killed")
	l := ledger.New(ledger.Config{Today: func() string { return en.today }, Log: quiet, Hook: func(point string) error {
		if point == stopAt {
			return crash
		}
		return nil
	}}, ledger.Deps{Store: en.st, Engine: en.engine})
	scans := scan.NewService(scan.ServiceConfig{Store: en.st, Engine: en.engine, Log: quiet, BeforeSave: l.BeforeSave, AfterScan: []func(context.Context, *duty.Scan, *duty.Report){l.AfterScan}})
	run := func(point string) *duty.Scan {
		t.Helper()
		stopAt = point
		sc, err := scans.Start(ctx, scan.Request{AsOf: "2025-12-31"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if pending, _ := en.st.LedgerPending(ctx); len(pending) != 1 {
			t.Fatalf("after a sync stopped at %s: pending %v", point, pending)
		}
		stopAt = ""
		if err := l.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		return sc
	}
	audited := func(action string) map[string]int {
		t.Helper()
		trail, err := en.st.AuditTrail(ctx, ledger.ScanActor, 100000)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, e := range trail {
			if e.Action == action {
				for _, id := range e.IDs {
					n[id]++
				}
			}
		}
		return n
	}

	sc := run("sync.opened-audited")
	cases, err := l.Cases(ctx, inspector, duty.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	opened := audited("case.open")
	if len(cases) != len(sc.Report.Violations) || len(opened) != len(cases) {
		t.Fatalf("%d cases, %d audited as opened, for %d violations", len(cases), len(opened), len(sc.Report.Violations))
	}
	for id, n := range opened {
		if n != 1 {
			t.Errorf("case %s audited as opened %d times", id, n)
		}
	}

	// Two checks pass after two talks are recorded: the sync stops after the first case moved.
	talks := []map[string]any{}
	for i, p := range [][2]string{{"ORG-1-P-065", "2020-03-01"}, {"ORG-1-P-113", "2021-07-01"}} { // before their appointments
		talks = append(talks, map[string]any{"id": "ORG-1-T-90" + string(rune('0'+i)), "kind": "pre_appointment", "person_id": p[0],
			"conducted_by": "ORG-1-P-001", "held_on": p[1], "recorded": true})
	}
	if _, err := en.st.PutMany(ctx, duty.System("test"), duty.RawDocs(map[string][]map[string]any{"talks": talks})); err != nil {
		t.Fatal(err)
	}
	run("sync.case-written")
	resolved := audited("case.resolve")
	done, err := l.Cases(ctx, inspector, duty.CaseFilter{State: duty.CaseResolvedByData})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || len(resolved) != 2 {
		t.Fatalf("%d cases resolved by data, %d audited, want 2 each", len(done), len(resolved))
	}
	for _, c := range done {
		if resolved[c.ID] != 1 || len(c.History) != 2 {
			t.Errorf("case %s: audited %d times, history %+v", c.ID, resolved[c.ID], c.History)
		}
	}
}

// TestWaivedCaseThroughScans follows a case through real scans with the ledger's hooks: opened,
// set aside by an approved waiver while scans are on or before its end date, reopened by the
// first scan after it, and set aside again by a new waiver until that is revoked.
func TestWaivedCaseThroughScans(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, true)
	first := en.scan(t, "2025-12-01")
	var v *duty.Violation
	for i := range first.Report.Violations {
		// A missing pre-appointment talk fails on every later day too.
		if x := &first.Report.Violations[i]; x.Policy == "talk.pre_appointment" {
			v = x
			break
		}
	}
	if v == nil {
		t.Fatal("no missing pre-appointment talk as of 2025-12-01; the test needs one")
	}
	id := ledger.CaseID("ORG-1", v.Key())
	state := func(want string) *duty.Case {
		t.Helper()
		c, err := en.l.Case(ctx, inspector, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != want {
			t.Fatalf("case is %s, want %s; history %+v", c.State, want, c.History)
		}
		return c
	}
	state(duty.CaseOpen)
	approved := func(until string) *duty.Waiver {
		t.Helper()
		w, err := en.l.RequestWaiver(ctx, inspector, duty.WaiverRequest{Policy: v.Policy, Subject: &v.Subject, Reason: "机构撤并", Until: until})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := en.l.DecideWaiver(ctx, admin, w.ID, duty.WaiverApprove, ""); err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := approved("2025-12-15")
	en.scan(t, "2025-12-10")
	if c := state(duty.CaseWaived); c.Waiver == nil || c.Waiver.ID != w.ID || c.Waiver.Until != "2025-12-15" || c.Overdue {
		t.Errorf("waived case: waiver %+v, overdue %v", c.Waiver, c.Overdue)
	}
	en.scan(t, "2025-12-15") // the end date itself: still waived
	state(duty.CaseWaived)
	en.scan(t, "2025-12-16")
	c := state(duty.CaseOpen)
	if last := c.History[len(c.History)-1]; last.Action != "reopen" || last.AsOf != "2025-12-16" || c.DueOn != "2025-12-31" {
		t.Errorf("reopened after the end date: %+v, due %s", last, c.DueOn)
	}
	w2 := approved("2026-01-31")
	en.scan(t, "2025-12-20")
	state(duty.CaseWaived)
	if _, err := en.l.RevokeWaiver(ctx, inspector, w2.ID); err != nil {
		t.Fatal(err)
	}
	en.scan(t, "2025-12-21")
	state(duty.CaseOpen)
}
