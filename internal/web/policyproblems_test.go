package web

import (
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestProblemNote: each kind of problem the compiler and the bundle checks report gets its own
// note, in Chinese and in English; the other kinds, and a problem of no known kind, the general
// note.
func TestProblemNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind duty.BundleProblemKind
		key  string
	}{
		{duty.BundleParse, "policy.err.parse"},
		{duty.BundleType, "policy.err.type"},
		{duty.BundleUnsafe, "policy.err.unsafe"},
		{duty.BundleRecursion, "policy.err.recursion"},
		{duty.BundleCompile, "policy.err.compile"},
		{duty.BundleTest, "policy.err.test"},
		{duty.BundleBuiltin, "policy.err.builtin"},
		{duty.BundleJSON, "policy.err.json"},
		{duty.BundleParam, "policy.err.param"},
		{duty.BundleMetadata, "policy.err.other"},
		{"", "policy.err.other"},
		{"no_such_kind", "policy.err.other"},
	} {
		for _, lang := range []string{langZH, langEN} {
			p := duty.BundleProblem{Kind: tc.kind, Message: "rego_parse_error: the message is not read"}
			if got, want := problemNote(lang, p), text(lang, tc.key); got != want || got == tc.key {
				t.Errorf("problemNote(%s, kind %q) = %q, want %q (%s)", lang, tc.kind, got, want, tc.key)
			}
		}
	}
}

// TestProblemNotesCoverKinds: the table words every kind the bundle checks make, with a note
// in both languages.
func TestProblemNotesCoverKinds(t *testing.T) {
	t.Parallel()
	for _, k := range duty.BundleProblemKinds() {
		key, ok := problemNotes[k]
		if !ok {
			t.Errorf("kind %q has no note in problemNotes", k)
			continue
		}
		for _, lang := range []string{langZH, langEN} {
			if text(lang, key) == key {
				t.Errorf("kind %q: note %q has no %s text", k, key, lang)
			}
		}
	}
	if len(problemNotes) != len(duty.BundleProblemKinds()) {
		t.Errorf("problemNotes has %d kinds, duty.BundleProblemKinds %d", len(problemNotes), len(duty.BundleProblemKinds()))
	}
}
