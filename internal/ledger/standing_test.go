package ledger_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestStandings scores departments from a report and the overdue cases: 100 − 5 per high, 3
// per medium, 1 per low open violation, 2 per overdue case and 0.5 per warning, ranked best
// first; a department user sees its subtree only.
func TestStandings(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, false)
	viol := func(dept, sev, subject string) duty.Violation {
		return duty.Violation{Policy: "talk.pre_appointment", Severity: sev, Reason: "missing", Department: dept,
			Subject: duty.Ref{Collection: "people", ID: subject}, Details: map[string]any{}, Evidence: []duty.Ref{}}
	}
	rep := &duty.Report{AsOf: "2025-06-30", Violations: []duty.Violation{
		viol("ORG-1-DIV-04", "high", "A"), viol("ORG-1-DIV-04", "low", "B"), viol("ORG-1-DIV-05", "medium", "C"),
	}, Warnings: []duty.Warning{{Violation: viol("ORG-1-DIV-05", "low", "D"), FailsOn: "2025-07-10"}}}
	// The cases of the report, due 2025-07-15 (high), 2025-08-29 (low) and 2025-07-30 (medium):
	// on 2025-12-01 all three are overdue.
	if err := en.l.Sync(ctx, &duty.Scan{ID: "S1", Status: duty.ScanDone, AsOf: rep.AsOf, Report: rep}); err != nil {
		t.Fatal(err)
	}
	rows, err := en.l.Standings(ctx, inspector, "ORG-1", duty.FindingsOf(rep))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]duty.Standing{}
	for _, r := range rows {
		got[r.Department] = r
	}
	want := map[string]duty.Standing{
		"ORG-1-DIV-04": {Department: "ORG-1-DIV-04", High: 1, Low: 1, Overdue: 2, Score: 100 - 5 - 1 - 4},
		"ORG-1-DIV-05": {Department: "ORG-1-DIV-05", Medium: 1, Overdue: 1, Warnings: 1, Score: 100 - 3 - 2 - 0.5},
	}
	for d, w := range want {
		g := got[d]
		w.Rank = g.Rank
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s (-want +got):\n%s", d, diff)
		}
	}
	last := rows[len(rows)-1]
	if last.Department != "ORG-1-DIV-04" || got["ORG-1-DIV-05"].Rank != len(rows)-1 || rows[0].Score != 100 {
		t.Errorf("ranking: last %+v, DIV-05 rank %d of %d, first %+v", last, got["ORG-1-DIV-05"].Rank, len(rows), rows[0])
	}
	mine, err := en.l.Standings(ctx, div4, "ORG-1", duty.FindingsOf(rep))
	if err != nil || len(mine) != 1 || mine[0].Department != "ORG-1-DIV-04" {
		t.Errorf("a department user's standing: %+v %v", mine, err)
	}
	if _, err := en.l.Standings(ctx, inspector, "ORG-1-DIV-04", duty.FindingsOf(rep)); err == nil {
		t.Error("a division is taken for an organ")
	}
	if f := en.l.Formula("zh"); f != "得分 = 100 − 5 × 高风险问题数 − 3 × 中风险问题数 − 1 × 低风险问题数 − 2 × 逾期未整改案件数 − 0.5 × 预警数（最低为 0）" {
		t.Errorf("formula %q", f)
	}

	// The weights are parameters of the bundle: a change applies to the next request.
	en.setLedgerParams(t, map[string]any{"weight_high": 10, "weight_overdue": 0, "weight_warning": 1.5})
	rows, err = en.l.Standings(ctx, inspector, "ORG-1", duty.FindingsOf(rep))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		want := map[string]float64{"ORG-1-DIV-04": 100 - 10 - 1, "ORG-1-DIV-05": 100 - 3 - 1.5}[r.Department]
		if want != 0 && r.Score != want {
			t.Errorf("%s with the new weights: score %v, want %v", r.Department, r.Score, want)
		}
	}
	if f := en.l.Formula("en"); !strings.Contains(f, "10 × high") || !strings.Contains(f, "0 × overdue") || !strings.Contains(f, "1.5 × warnings") {
		t.Errorf("formula with the new weights: %q", f)
	}
}

// TestStandingsWithoutCounts ranks an organ whose due counts were never stored (cases brought
// up to date before there were counts): they are made once from the cases.
func TestStandingsWithoutCounts(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, false)
	v := duty.Violation{Policy: "talk.pre_appointment", Severity: "high", Reason: "missing", Department: "ORG-1-DIV-04",
		Subject: duty.Ref{Collection: "people", ID: "A"}, Details: map[string]any{}, Evidence: []duty.Ref{}}
	if err := en.l.Sync(ctx, caseScan("S1", "2025-06-30", "2026-01-01T00:00:00.000000Z", []duty.Violation{v}, nil)); err != nil {
		t.Fatal(err)
	}
	if err := en.st.SetLedgerDue(ctx, "ORG-1", nil); err != nil {
		t.Fatal(err)
	}
	rows, _ := en.l.Standings(ctx, div4, "ORG-1", nil)
	if len(rows) != 1 || rows[0].Overdue != 0 {
		t.Fatalf("with empty counts stored: %+v", rows)
	}
	if err := en.st.DropLedgerDue(ctx, "ORG-1"); err != nil {
		t.Fatal(err)
	}
	rows, err := en.l.Standings(ctx, div4, "ORG-1", nil)
	if err != nil || len(rows) != 1 || rows[0].Overdue != 1 {
		t.Fatalf("without counts: %+v %v", rows, err)
	}
	if due, found, err := en.st.LedgerDue(ctx, "ORG-1"); err != nil || !found || len(due) != 1 || due[0].N != 1 {
		t.Errorf("the counts made: %+v %v %v", due, found, err)
	}
}
