package live_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestSwitchOffIsExplicit: a parameter change that silences a duty on the reference organ is
// refused, checked and previewed alike; the same change saying switch_off is applied and the
// revision keeps the switch in policy.SwitchedOffFile; switching back on needs a working duty.
func TestSwitchOffIsExplicit(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	m := newManager(t, st, "")
	silence := map[string]map[string]any{"meeting.joint": {"max_gap_days": 366}}

	refused := func(what string, err error) {
		t.Helper()
		var be *duty.BundleError
		if !errors.As(err, &be) || len(be.Problems) != 1 || !strings.Contains(be.Problems[0].Message, "duty meeting.joint reports no violation on the reference organ") {
			t.Errorf("%s: err = %v, want the duty meeting.joint named", what, err)
		}
	}
	_, err := m.Validate(ctx, duty.PolicyDraft{Params: silence})
	refused("Validate", err)
	_, err = m.Apply(ctx, duty.PolicyDraft{Params: silence}, duty.PolicyChange{Base: m.Revision(), Author: "tester"})
	refused("Apply", err)
	if m.Revision() != "r1" {
		t.Fatalf("revision in force = %s after a refused change", m.Revision())
	}

	rev, err := m.Apply(ctx, duty.PolicyDraft{Params: silence, SwitchOff: map[string]bool{"meeting.joint": true}, Message: "joint meetings are checked by hand"}, duty.PolicyChange{Base: m.Revision(), Author: "tester"})
	if err != nil {
		t.Fatalf("Apply with switch_off: %v", err)
	}
	if got := rev.Files[policy.SwitchedOffFile]; !strings.Contains(got, `"meeting.joint"`) {
		t.Errorf("revision %s keeps %s = %q", rev.ID, policy.SwitchedOffFile, got)
	}
	if p, _ := m.Engine().Policy("meeting.joint"); !p.SwitchedOff {
		t.Error("meeting.joint is not switched off in force")
	}

	// Back on with the silencing value still there: refused, the duty is named.
	_, err = m.Apply(ctx, duty.PolicyDraft{SwitchOff: map[string]bool{"meeting.joint": false}}, duty.PolicyChange{Base: m.Revision(), Author: "tester"})
	var be *duty.BundleError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "meeting.joint") {
		t.Errorf("switching a silenced duty back on: err = %v, want refused", err)
	}
	// Back on with a working value: applied.
	if _, err := m.Apply(ctx, duty.PolicyDraft{Params: map[string]map[string]any{"meeting.joint": {"max_gap_days": 92}}, SwitchOff: map[string]bool{"meeting.joint": false}}, duty.PolicyChange{Base: m.Revision(), Author: "tester"}); err != nil {
		t.Errorf("switching back on: %v", err)
	}
	if _, ok := m.Engine().Bundle().Files[policy.SwitchedOffFile]; ok {
		t.Errorf("%s left behind with no duty switched off", policy.SwitchedOffFile)
	}
}
