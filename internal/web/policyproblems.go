package web

import (
	"fmt"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// policyProblem is a problem of a submitted policy as the policy page shows it: where it is, a
// note in the reader's language saying what kind of problem it is, and the compiler's or the
// bundle check's own words (English) as the detail.
type policyProblem struct {
	duty.BundleProblem
	Note string
}

// problemKinds tells the kinds of problem apart by their message, in order: the first that
// matches gives the note's text key.
var problemKinds = []struct {
	match func(msg string) bool
	key   string
}{
	{prefix("rego_parse_error"), "policy.err.parse"},
	{prefix("rego_type_error"), "policy.err.type"},
	{prefix("rego_unsafe_var_error"), "policy.err.unsafe"},
	{prefix("rego_recursion_error"), "policy.err.recursion"},
	{prefix("rego_"), "policy.err.compile"},
	{func(m string) bool { return strings.HasPrefix(m, "test ") && strings.Contains(m, " failed") }, "policy.err.test"},
	{func(m string) bool { return strings.Contains(m, "is not allowed in a dutycheck policy") }, "policy.err.builtin"},
	{prefix("invalid JSON"), "policy.err.json"},
	{prefix("parameter "), "policy.err.param"},
}

func prefix(p string) func(string) bool {
	return func(m string) bool { return strings.HasPrefix(m, p) }
}

// problemNote returns the note of a problem message in lang: its kind, or that the policy was
// refused when the kind is none of the known ones.
func problemNote(lang, msg string) string {
	for _, k := range problemKinds {
		if k.match(msg) {
			return text(lang, k.key)
		}
	}
	return text(lang, "policy.err.other")
}

// policyProblems gives each problem its note.
func policyProblems(lang string, probs []duty.BundleProblem) []policyProblem {
	out := make([]policyProblem, len(probs))
	for i, p := range probs {
		out[i] = policyProblem{BundleProblem: p, Note: problemNote(lang, p.Message)}
	}
	return out
}

// problemLine is a problem under its line of a listing: where, the note, then the detail.
func problemLine(lang string, p duty.BundleProblem) string {
	return fmt.Sprintf("%s %s %s", text(lang, "policy.err.at", p.Row, p.Col), problemNote(lang, p.Message), text(lang, "policy.err.detail", p.Message))
}
