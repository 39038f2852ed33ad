package policy

import (
	"context"
	"errors"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// A remembered pass counts only for the files it was compiled from: another content under the
// same key (Bundle.Revision is a 64-bit hash, so a crafted collision is within reach) is checked
// anew, and a bundle whose tests fail is refused although its key names a pass.
func TestPassedNeedsTheSameFiles(t *testing.T) {
	ctx := context.Background()
	good := Builtin()
	good.Files["duty/talk/pre_appointment.rego"] += "\n# passed_internal_test: good\n"
	e, results, err := Check(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	bad := good.Clone()
	bad.Files["duty/talk/pre_appointment_test.rego"] += "\ntest_fails if { false }\n"
	// What a collision would give: bad's key names good's pass.
	passed.mu.Lock()
	for _, where := range []string{"", "sandbox"} {
		passed.m[passedKey(bad, where)] = passedBundle{e: e, results: results}
	}
	passed.mu.Unlock()
	var be *duty.BundleError
	if got, _, err := Check(ctx, bad); !errors.As(err, &be) {
		t.Errorf("Check of a failing bundle under a passing key = %p, %v; want a *duty.BundleError", got, err)
	}
	if got, err := Compile(ctx, bad); err != nil || got == e || got.Revision() != bad.Revision() {
		t.Errorf("Compile under another content's key = %p, %v; want the bundle's own engine, not %p", got, err, e)
	}
	if _, _, ok := passed.get(bad, "sandbox"); ok {
		t.Error("a pass was remembered for files it was not compiled from")
	}
	if got, _, ok := passed.get(good.Clone(), ""); !ok || got != e {
		t.Errorf("the same files: remembered = %p, %v; want %p", got, ok, e)
	}
}
