package policy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// A bundle that passed the gate passes again, with the same engine and results, without being
// compiled and tested again; another content is checked anew; a refusal is never remembered.
func TestCheckRemembersPasses(t *testing.T) {
	ctx := context.Background()
	b := policy.Builtin()
	e1, r1, err := policy.Check(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]duty.TestResult(nil), r1...)
	r1[0].Pass = false // a caller's copy: changing it changes nothing remembered
	e2, r2, err := policy.Check(ctx, b.Clone())
	if err != nil {
		t.Fatal(err)
	}
	if e2 != e1 {
		t.Error("the same content was compiled again")
	}
	if diff := cmp.Diff(want, r2); diff != "" {
		t.Errorf("results of the remembered pass (-first +again):\n%s", diff)
	}
	if e, err := policy.Compile(ctx, b); err != nil || e != e1 {
		t.Errorf("Compile of a bundle that passed = %p, %v; want the engine that passed", e, err)
	}

	other := b.Clone()
	f := "duty/talk/pre_appointment.rego"
	if _, ok := other.Files[f]; !ok {
		t.Fatalf("%s is not in the built-in bundle", f)
	}
	other.Files[f] += "\n# another content\n"
	e3, _, err := policy.Check(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if e3 == e1 || e3.Revision() != other.Revision() {
		t.Errorf("another content got engine %s, want its own (%s)", e3.Revision(), other.Revision())
	}

	failing := b.Clone()
	failing.Files["duty/talk/pre_appointment_test.rego"] += "\ntest_fails if { false }\n"
	for range 2 {
		var be *duty.BundleError
		if _, _, err := policy.Check(ctx, failing); !errors.As(err, &be) {
			t.Fatalf("a failing test: Check = %v, want a *duty.BundleError every time", err)
		}
	}
}
