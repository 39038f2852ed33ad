package web

import (
	"fmt"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// policyProblem is a problem of a submitted policy as the policy page shows it: where it is, a
// note in the reader's language saying what kind of problem it is, and the compiler's or the
// bundle check's own words (English) as the detail.
type policyProblem struct {
	duty.BundleProblem
	Note string
}

// problemNotes is the one table of the notes of the kinds of bundle problem (their text keys).
// The kinds without a note of their own, and a problem of no known kind, get the general note
// that the policy was refused; the detail always shows the problem's own words.
var problemNotes = map[duty.BundleProblemKind]string{
	duty.BundleParse:     "policy.err.parse",
	duty.BundleType:      "policy.err.type",
	duty.BundleUnsafe:    "policy.err.unsafe",
	duty.BundleRecursion: "policy.err.recursion",
	duty.BundleCompile:   "policy.err.compile",
	duty.BundleTest:      "policy.err.test",
	duty.BundleBuiltin:   "policy.err.builtin",
	duty.BundleJSON:      "policy.err.json",
	duty.BundleParam:     "policy.err.param",
	duty.BundleData:      "policy.err.other",
	duty.BundleMetadata:  "policy.err.other",
	duty.BundleSchema:    "policy.err.other",
	duty.BundleUntested:  "policy.err.other",
	duty.BundleSilenced:  "policy.err.other",
	duty.BundlePath:      "policy.err.other",
	duty.BundleFolder:    "policy.err.other",
}

// problemNote returns the note of a problem in lang, from its kind.
func problemNote(lang string, p duty.BundleProblem) string {
	if key, ok := problemNotes[p.Kind]; ok {
		return text(lang, key)
	}
	return text(lang, "policy.err.other")
}

// policyProblems gives each problem its note.
func policyProblems(lang string, probs []duty.BundleProblem) []policyProblem {
	out := make([]policyProblem, len(probs))
	for i, p := range probs {
		out[i] = policyProblem{BundleProblem: p, Note: problemNote(lang, p)}
	}
	return out
}

// problemLine is a problem under its line of a listing: where, the note, then the detail.
func problemLine(lang string, p duty.BundleProblem) string {
	return fmt.Sprintf("%s %s %s", text(lang, "policy.err.at", p.Row, p.Col), problemNote(lang, p), text(lang, "policy.err.detail", p.Message))
}
