package ledger_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/ledger"
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
	rows, err := en.l.Standings(ctx, inspector, "ORG-1", ledger.FindingsOf(rep))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ledger.Standing{}
	for _, r := range rows {
		got[r.Department] = r
	}
	want := map[string]ledger.Standing{
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
	mine, err := en.l.Standings(ctx, div4, "ORG-1", ledger.FindingsOf(rep))
	if err != nil || len(mine) != 1 || mine[0].Department != "ORG-1-DIV-04" {
		t.Errorf("a department user's standing: %+v %v", mine, err)
	}
	if _, err := en.l.Standings(ctx, inspector, "ORG-1-DIV-04", ledger.FindingsOf(rep)); err == nil {
		t.Error("a division is taken for an organ")
	}
	if f := en.l.Formula("zh"); f != "得分 = 100 − 5 × 高风险问题数 − 3 × 中风险问题数 − 1 × 低风险问题数 − 2 × 逾期未整改案件数 − 0.5 × 预警数（最低为 0）" {
		t.Errorf("formula %q", f)
	}
	for _, bad := range []string{"high=x", "nope=1", "high=-1", "high"} {
		if _, err := ledger.ParseWeights(bad); err == nil {
			t.Errorf("weights %q accepted", bad)
		}
	}
	if w, err := ledger.ParseWeights("high=10"); err != nil || w["high"] != 10 || w["low"] != 1 {
		t.Errorf("ParseWeights(high=10) = %v, %v", w, err)
	}
}
