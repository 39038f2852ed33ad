package web

import "testing"

// TestProblemNote: each kind of problem the compiler and the bundle checks report gets its own
// note, in Chinese and in English; an unknown one the general note.
func TestProblemNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ msg, key string }{
		{"rego_parse_error: unexpected ) token", "policy.err.parse"},
		{"rego_type_error: undefined function foo", "policy.err.type"},
		{"rego_unsafe_var_error: var x is unsafe", "policy.err.unsafe"},
		{"rego_recursion_error: rule a is recursive", "policy.err.recursion"},
		{"rego_compile_error: something", "policy.err.compile"},
		{"test duty.x_test.test_a failed", "policy.err.test"},
		{"builtin http.send is not allowed in a dutycheck policy: network", "policy.err.builtin"},
		{"invalid JSON: unexpected end", "policy.err.json"},
		{"parameter a.b: has no value", "policy.err.param"},
		{"no duty policy: expected a package", "policy.err.other"},
	} {
		for _, lang := range []string{langZH, langEN} {
			if got, want := problemNote(lang, tc.msg), text(lang, tc.key); got != want || got == tc.key {
				t.Errorf("problemNote(%s, %q) = %q, want %q (%s)", lang, tc.msg, got, want, tc.key)
			}
		}
	}
}
