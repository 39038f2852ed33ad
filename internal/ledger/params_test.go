package ledger_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestDefaultParams keeps ledger.DefaultParams (for a bundle without the ledger's settings)
// equal to the built-in bundle's values.
func TestDefaultParams(t *testing.T) {
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	values := e.Params(ledger.SettingsID)
	d := ledger.DefaultParams()
	want := map[string]float64{"waiver_max_days": float64(d.MaxWaiverDays)}
	for sev, n := range d.Periods {
		want["rectify_days_"+sev] = float64(n)
	}
	for k, w := range d.Weights {
		want["weight_"+k] = w
	}
	got := map[string]float64{}
	for k, v := range values {
		if got[k], _ = policy.Number(v); got[k] == 0 && v == nil {
			t.Errorf("%s: %v", k, v)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data.params.ledger of the built-in bundle (-DefaultParams +bundle):\n%s", diff)
	}
	en := newEnv(t, false)
	if diff := cmp.Diff(d, en.l.Params()); diff != "" {
		t.Errorf("the ledger's parameters in force (-want +got):\n%s", diff)
	}
}

// TestParamsLive changes the ledger's parameters in the bundle in force: the next sync opens and
// reopens cases with the new periods (cases already open keep their due dates), the next
// waiver request is bounded by the new maximum.
func TestParamsLive(t *testing.T) {
	ctx := context.Background()
	en := newEnv(t, false)
	viol := func(subject, sev string) duty.Violation {
		return duty.Violation{Policy: "talk.pre_appointment", Severity: sev, Reason: "missing", Department: div4.Department,
			Subject: duty.Ref{Collection: "people", ID: subject}, Details: map[string]any{}, Evidence: []duty.Ref{}}
	}
	a, b := viol("A", "high"), viol("B", "low")
	due := func(v duty.Violation) string {
		t.Helper()
		c, err := en.l.Case(ctx, inspector, ledger.CaseID("ORG-1", v.Key()))
		if err != nil {
			t.Fatal(err)
		}
		return c.DueOn
	}
	if err := en.l.Sync(ctx, caseScan("S1", "2025-06-30", "2026-01-01T00:00:01.000000Z", []duty.Violation{a}, nil)); err != nil {
		t.Fatal(err)
	}
	if got := due(a); got != "2025-07-15" {
		t.Fatalf("high case due %s, want 2025-07-15 (15 days)", got)
	}
	en.setLedgerParams(t, map[string]any{"rectify_days_high": 20, "rectify_days_low": 7, "waiver_max_days": 30})
	if err := en.l.Sync(ctx, caseScan("S2", "2025-07-31", "2026-01-01T00:00:02.000000Z", []duty.Violation{a, b}, nil)); err != nil {
		t.Fatal(err)
	}
	if got := due(a); got != "2025-07-15" {
		t.Errorf("an open case's due date moved to %s", got)
	}
	if got := due(b); got != "2025-08-07" {
		t.Errorf("low case opened after the change due %s, want 2025-08-07 (7 days)", got)
	}
	// Resolved, then failing again: reopened with the period in force.
	if err := en.l.Sync(ctx, caseScan("S3", "2025-08-31", "2026-01-01T00:00:03.000000Z", []duty.Violation{b}, nil)); err != nil {
		t.Fatal(err)
	}
	if err := en.l.Sync(ctx, caseScan("S4", "2025-09-30", "2026-01-01T00:00:04.000000Z", []duty.Violation{a, b}, nil)); err != nil {
		t.Fatal(err)
	}
	if got := due(a); got != "2025-10-20" {
		t.Errorf("high case reopened after the change due %s, want 2025-10-20 (20 days)", got)
	}
	req := duty.WaiverRequest{Policy: "talk.pre_appointment", Subject: &duty.Ref{Collection: "people", ID: "ORG-1-P-048"}, Reason: "病假", Until: "2026-01-01"}
	_, err := en.l.RequestWaiver(ctx, inspector, req)
	wantErr(t, err, duty.ErrInvalid, "a waiver of 31 days with a maximum of 30")
	req.Until = "2025-12-31"
	if _, err := en.l.RequestWaiver(ctx, inspector, req); err != nil {
		t.Errorf("a waiver of 30 days with a maximum of 30: %v", err)
	}
}
