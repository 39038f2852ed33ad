package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// probeRego is a small duty written for these tests, so that they do not depend on the real
// duties: one violation for every record of the organ except departments and people, plus one
// for each inactive person, and one that names its own department.
const probeRego = `# METADATA
# title: 探针
# description: |
#   A duty for tests: every record is a violation.
# custom:
#   id: x.probe
#   severity: high
#   accountable: party_committee
#   reasons: [flagged, inactive, placed]
#   en:
#     title: Probe
#     description: Every record is a violation.
#   params:
#     days: {type: integer, zh: 天数, minimum: 0, maximum: 3650, description: not read by the probe}
package duty.x.probe

import data.lib.util

_collections := ["appointments", "talks", "letters", "record_books", "suggestions", "meetings", "responsibility_lists", "integrity_files"]

violation contains v if {
	some c in _collections
	some d in input[c]
	v := {
		"reason": "flagged",
		"subject": util.ref(c, d.id),
		"details": {"n": 1, "as_of": input.as_of},
		"message": {"zh": sprintf("记录 %s", [d.id]), "en": sprintf("record %s", [d.id])},
		"evidence": [util.ref(c, d.id)],
	}
}

violation contains v if {
	some p in input.people
	p.active == false
	v := {
		"reason": "inactive",
		"subject": util.ref("people", p.id),
		"details": {},
		"message": {"zh": "不在职", "en": "inactive"},
		"evidence": [],
		"accountable": "leaders",
	}
}

violation contains v if {
	some d in input.departments
	d.kind == "organ"
	v := {
		"reason": "placed",
		"subject": util.ref("departments", d.id),
		"department": "ELSEWHERE",
		"details": {},
		"message": {"zh": "", "en": "placed elsewhere"},
		"evidence": [],
	}
}
`

const probeTestRego = `package duty.x.probe_test

import data.duty.x.probe

test_flags_a_meeting if {
	some v in probe.violation with input as {"as_of": "2025-06-30", "organ": "O", "meetings": [{"id": "M1"}], "people": [], "departments": []}
	v.subject == {"collection": "meetings", "id": "M1"}
}

test_quiet_on_nothing if {
	count(probe.violation) == 0 with input as {"as_of": "2025-06-30", "organ": "O", "people": [], "departments": []}
}
`

const quietRego = `# METADATA
# title: 静默
# description: A duty that never fails.
# custom:
#   id: y.quiet
#   severity: medium
package duty.y.quiet

violation contains v if {
	false
	v := {}
}
`

const quietTestRego = `package duty.y.quiet_test

import data.duty.y.quiet

test_never if {
	count(quiet.violation) == 0 with input as {"as_of": "2025-06-30", "organ": "O", "people": [], "departments": []}
}
`

const utilRego = `# METADATA
# title: helpers
package lib.util

ref(c, id) := {"collection": c, "id": id}
`

// testBundle returns a small bundle: two duties, a library, a test and parameters that lower
// x.probe's severity to low.
func testBundle() fstest.MapFS {
	return fstest.MapFS{
		"duty/x/probe.rego":      {Data: []byte(probeRego)},
		"duty/x/probe_test.rego": {Data: []byte(probeTestRego)},
		"duty/y/quiet.rego":      {Data: []byte(quietRego)},
		"duty/y/quiet_test.rego": {Data: []byte(quietTestRego)},
		"lib/util.rego":          {Data: []byte(utilRego)},
		"params/data.json":       {Data: []byte(`{"x": {"probe": {"severity": "low", "days": 30}}}`)},
		"README.md":              {Data: []byte("not part of the bundle")},
		".git/config.rego":       {Data: []byte("hidden folders are skipped")},
	}
}

// loadBundle reads fsys as a bundle.
func loadBundle(tb testing.TB, fsys fstest.MapFS) *policy.Bundle {
	tb.Helper()
	b, err := policy.LoadFS(fsys)
	if err != nil {
		tb.Fatalf("LoadFS: %v", err)
	}
	return b
}

// compile compiles fsys, which must succeed.
func compile(tb testing.TB, fsys fstest.MapFS) *policy.Engine {
	tb.Helper()
	e, err := policy.Compile(context.Background(), loadBundle(tb, fsys))
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return e
}

// with returns a copy of fsys with files replaced (an empty text removes the file).
func with(fsys fstest.MapFS, files map[string]string) fstest.MapFS {
	out := maps.Clone(fsys)
	for name, text := range files {
		if text == "" {
			delete(out, name)
			continue
		}
		out[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return out
}

// organs validates a dataset (file name → JSON array) and splits it into organs.
func organs(tb testing.TB, files map[string]string) []*duty.Organ {
	tb.Helper()
	raw := map[string][]duty.RawDoc{}
	for name, text := range files {
		docs, p := duty.DecodeArray(name, []byte(text))
		if p != nil {
			tb.Fatalf("test file %s: %v", name, p)
		}
		raw[strings.TrimSuffix(name, ".json")] = docs
	}
	ds, err := duty.NewDataset(raw)
	if err != nil {
		tb.Fatalf("test dataset: %v", err)
	}
	out, _ := duty.Split(ds)
	return out
}

// sample is one organ with a record of every collection, some dated after 2025-06-30.
var sample = map[string]string{
	"departments.json": `[
{"id": "ORG", "name": "机关", "kind": "organ"},
{"id": "D1", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
{"id": "D2", "name": "研究室", "kind": "office", "parent_id": "ORG"},
{"id": "BR", "name": "支部", "kind": "branch", "parent_id": "D1"}
]`,
	"people.json": `[
{"id": "P1", "name": "张三", "department_id": "D1", "rank": "division", "roles": ["department_head"], "active": true},
{"id": "P2", "name": "李四", "department_id": "BR", "rank": "staff", "roles": [], "active": false},
{"id": "P3", "name": "王五", "department_id": "D2", "rank": "bureau", "roles": ["party_group_member"], "active": true}
]`,
	"appointments.json": `[
{"id": "AP1", "person_id": "P1", "department_id": "D2", "position": "处长", "rank": "division", "effective_on": "2025-03-01"},
{"id": "AP-LATE", "person_id": "P1", "department_id": "D2", "position": "处长", "rank": "division", "effective_on": "2025-07-01"}
]`,
	"talks.json":   `[{"id": "T1", "kind": "general", "person_id": "P2", "held_on": "2025-03-01"}]`,
	"letters.json": `[{"id": "L1", "year": 2025, "level": 2, "issuer_id": "P3", "signer_id": "P1", "signed_by_issuer": true, "signed_by_signer": true}]`,
	"record_books.json": `[
{"id": "RB1", "year": 2025, "holder_id": "P3", "issued_on": "2025-01-05", "tasks": [], "entries": [], "inspections": []},
{"id": "RB-LATE", "year": 2025, "holder_id": "P3", "issued_on": "2025-12-05", "tasks": [], "entries": [], "inspections": []}
]`,
	"suggestions.json":          `[{"id": "S1", "department_id": "BR", "issued_on": "2025-01-05", "items": []}]`,
	"meetings.json":             `[{"id": "M1", "kind": "joint", "department_id": "ORG", "held_on": "2025-02-01"}]`,
	"responsibility_lists.json": `[{"id": "R1", "year": 2025, "level": "leaders", "department_id": "D1", "holder_id": "P3", "items": []}]`,
	"integrity_files.json":      `[{"id": "F1", "person_id": "P2", "updated_on": "2025-01-05", "major_matters": []}]`,
}

func TestEvaluate(t *testing.T) {
	e := compile(t, testBundle())
	os := organs(t, sample)
	got, err := e.Evaluate(context.Background(), os[0], "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	flagged := func(dept, coll, id string) duty.Violation {
		return duty.Violation{
			Policy: "x.probe", Severity: "low", Reason: "flagged", Department: dept, Accountable: "party_committee",
			Subject: duty.Ref{Collection: coll, ID: id}, Details: map[string]any{"n": int64(1), "as_of": "2025-06-30"},
			Message:  duty.Message{ZH: "记录 " + id, EN: "record " + id},
			Evidence: []duty.Ref{{Collection: coll, ID: id}},
		}
	}
	want := []duty.Violation{
		// Sorted by department, policy, subject id. Department from the subject (DOMAIN.md):
		flagged("BR", "integrity_files", "F1"), // an integrity file: its person's
		{Policy: "x.probe", Severity: "low", Reason: "inactive", Department: "BR", Accountable: "leaders", // the violation's own accountable
			Subject: duty.Ref{Collection: "people", ID: "P2"}, Details: map[string]any{},
			Message: duty.Message{ZH: "不在职", EN: "inactive"}, Evidence: []duty.Ref{}},
		flagged("BR", "suggestions", "S1"),          // a suggestion: its department_id
		flagged("BR", "talks", "T1"),                // a talk: its person's
		flagged("D1", "letters", "L1"),              // a letter: its signer's
		flagged("D1", "responsibility_lists", "R1"), // a list: its department_id, not its holder's
		flagged("D2", "appointments", "AP1"),        // an appointment: its department_id, not its person's
		flagged("D2", "record_books", "RB1"),        // a record book: its holder's
		{Policy: "x.probe", Severity: "low", Reason: "placed", Department: "ELSEWHERE", Accountable: "party_committee",
			Subject: duty.Ref{Collection: "departments", ID: "ORG"}, Details: map[string]any{},
			Message: duty.Message{ZH: "", EN: "placed elsewhere"}, Evidence: []duty.Ref{}},
		flagged("ORG", "meetings", "M1"), // a meeting: its department_id
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

func TestEvaluateSeverityFromMetadata(t *testing.T) {
	// Without a severity parameter the METADATA severity holds.
	e := compile(t, with(testBundle(), map[string]string{"params/data.json": `{"x": {"probe": {"days": 30}}}`}))
	got, err := e.Evaluate(context.Background(), organs(t, sample)[0], "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no violations")
	}
	for _, v := range got {
		if v.Severity != "high" {
			t.Errorf("%s %s: severity %q, want the METADATA's high", v.Policy, v.Subject.ID, v.Severity)
		}
	}
}

func TestEvaluateAsOf(t *testing.T) {
	e := compile(t, testBundle())
	o := organs(t, sample)[0]
	count := func(asOf string) map[string]int {
		vs, err := e.Evaluate(context.Background(), o, asOf)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, v := range vs {
			n[v.Subject.Collection]++
			if v.Details["as_of"] != nil && v.Details["as_of"] != asOf {
				t.Errorf("input.as_of = %v, want %s", v.Details["as_of"], asOf)
			}
		}
		return n
	}
	// Records dated after as_of are not in the input.
	if diff := cmp.Diff(map[string]int{"appointments": 1, "record_books": 1}, pick(count("2025-06-30"), "appointments", "record_books")); diff != "" {
		t.Errorf("as of 2025-06-30 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"appointments": 2, "record_books": 2}, pick(count("2025-12-31"), "appointments", "record_books")); diff != "" {
		t.Errorf("as of 2025-12-31 (-want +got):\n%s", diff)
	}
	// The organ itself is not changed by a scan.
	if n := len(o.Docs["appointments"]); n != 2 {
		t.Errorf("organ has %d appointments after Evaluate, want 2", n)
	}
}

func pick(m map[string]int, keys ...string) map[string]int {
	out := map[string]int{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func TestEvaluateRefusesMalformedViolations(t *testing.T) {
	bad := strings.Replace(quietRego, "\tfalse\n\tv := {}", "\tv := {\"reason\": \"x\", \"subject\": {\"collection\": \"people\"}}", 1)
	e := compile(t, with(testBundle(), map[string]string{"duty/y/quiet.rego": bad}))
	_, err := e.Evaluate(context.Background(), organs(t, sample)[0], "2025-06-30")
	if err == nil || !strings.Contains(err.Error(), "policy y.quiet") || !strings.Contains(err.Error(), "subject {collection, id}") {
		t.Errorf("Evaluate = %v, want an error naming y.quiet and the missing subject id", err)
	}
}

// TestEvaluateFailsOnBuiltinErrors: a built-in function that fails on the records (a name parsed
// as a date) is an error of the evaluation, never a rule left undefined, which would report the
// duty clean; the same holds in the policies' tests, so the gate refuses such a policy too.
func TestEvaluateFailsOnBuiltinErrors(t *testing.T) {
	ctx := context.Background()
	bad := strings.Replace(quietRego, "\tfalse\n\tv := {}", "\tsome p in input.people\n\ttime.parse_ns(\"2006-01-02\", p.name) < 0\n\tv := {}", 1)
	e := compile(t, with(testBundle(), map[string]string{"duty/y/quiet.rego": bad}))
	_, err := e.Evaluate(ctx, organs(t, sample)[0], "2025-06-30")
	if err == nil || !strings.Contains(err.Error(), "time.parse_ns") {
		t.Errorf("Evaluate with a failing built-in = %v, want an error naming time.parse_ns", err)
	}
	test := strings.Replace(quietTestRego, `"people": []`, `"people": [{"id": "P", "name": "张三"}]`, 1)
	_, _, err = policy.Check(ctx, loadBundle(t, with(testBundle(), map[string]string{"duty/y/quiet.rego": bad, "duty/y/quiet_test.rego": test})))
	var be *duty.BundleError
	if !errors.As(err, &be) || len(be.Problems) != 1 || !strings.Contains(be.Problems[0].Message, "test_never failed") {
		t.Errorf("Check of a policy whose test meets a failing built-in: %v, want the test failed", err)
	}
}

func TestEngineMetadata(t *testing.T) {
	e := compile(t, testBundle())
	var ids []string
	for _, m := range e.Policies() {
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff([]string{"x.probe", "y.quiet"}, ids); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	m := e.Policies()[0]
	want := duty.PolicyMeta{
		ID: "x.probe", Package: "duty.x.probe", File: "duty/x/probe.rego",
		Title: "探针", TitleEN: "Probe",
		Description: "A duty for tests: every record is a violation.", DescriptionEN: "Every record is a violation.",
		Severity: "high", Accountable: "party_committee", Reasons: []string{"flagged", "inactive", "placed"},
		Params:      map[string]any{"days": map[string]any{"type": "integer", "zh": "天数", "minimum": 0, "maximum": 3650, "description": "not read by the probe"}},
		ParamLabels: map[string]duty.ParamLabel{"days": {Label: duty.Label{ZH: "天数"}}},
	}
	if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(duty.PolicyMeta{}, "Custom")); diff != "" {
		t.Errorf("x.probe METADATA (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"severity": "low", "days": json.Number("30")}, e.Params("x.probe")); diff != "" {
		t.Errorf("Params(x.probe) (-want +got):\n%s", diff)
	}
	if p := e.Params("y.quiet"); p != nil {
		t.Errorf("Params(y.quiet) = %v, want nil", p)
	}
	if e.Bundle() == nil || len(e.Bundle().Files) != 6 {
		t.Errorf("Bundle() has %d files, want 6 (README.md and hidden folders left out)", len(e.Bundle().Files))
	}
}

// input is the policy input of organ o as of asOf, built as the engine builds it from records
// held in memory.
func input(tb testing.TB, o *duty.Organ, asOf string) ast.Value {
	in, err := policy.InputOf(o, asOf)
	if err != nil {
		tb.Fatal(err)
	}
	return in.Value()
}

// TestOrganInput: the input holds as_of, organ and every collection, without the store's own
// fields.
func TestOrganInput(t *testing.T) {
	o := organs(t, sample)[0]
	o.Docs["meetings"][0]["_organ"] = "ORG" // a store-private field never reaches policies
	v, err := ast.JSON(input(t, o, "2025-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	in := v.(map[string]any)
	var keys []string
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantKeys := []string{"appointments", "as_of", "departments", "integrity_files", "letters", "meetings", "organ", "people", "record_books", "responsibility_lists", "suggestions", "talks", "upcoming_appointments"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("input keys (-want +got):\n%s", diff)
	}
	if in["as_of"] != "2025-06-30" || in["organ"] != "ORG" {
		t.Errorf("as_of, organ = %v, %v", in["as_of"], in["organ"])
	}
	meeting := in["meetings"].([]any)[0].(map[string]any)
	if diff := cmp.Diff(map[string]any{"id": "M1", "kind": "joint", "department_id": "ORG", "held_on": "2025-02-01"}, meeting); diff != "" {
		t.Errorf("meeting in input (-want +got):\n%s", diff)
	}

	// Every collection is present, empty when the organ has none.
	empty, err := ast.JSON(input(t, &duty.Organ{ID: "E", Docs: map[string][]duty.Doc{}}, "2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range duty.Collections {
		arr, ok := empty.(map[string]any)[c.Name].([]any)
		if !ok || len(arr) != 0 {
			t.Errorf("input.%s = %#v, want []", c.Name, empty.(map[string]any)[c.Name])
		}
	}
}

// bundleErr runs Compile and returns its *duty.BundleError.
func bundleErr(tb testing.TB, fsys fstest.MapFS) *duty.BundleError {
	tb.Helper()
	e, err := policy.Compile(context.Background(), loadBundle(tb, fsys))
	if err == nil {
		tb.Fatalf("Compile succeeded (%d policies), want a *duty.BundleError", len(e.Policies()))
	}
	var be *duty.BundleError
	if !errors.As(err, &be) {
		tb.Fatalf("Compile: %v (%T), want a *duty.BundleError", err, err)
	}
	if !errors.Is(err, duty.ErrInvalid) {
		tb.Errorf("BundleError does not match duty.ErrInvalid")
	}
	return be
}

func TestCompileRefuses(t *testing.T) {
	const header = "# METADATA\n# title: 坏\n# custom:\n#   id: x.bad\n#   severity: low\npackage duty.x.bad\n\n"
	tests := []struct {
		name  string
		files map[string]string
		want  duty.BundleProblem // Message is matched as a prefix
	}{
		{name: "syntax error",
			files: map[string]string{"duty/x/bad.rego": header + "violation contains v if {\n\tv := {\"reason\": \n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 10, Col: 1, Kind: duty.BundleParse, Message: "rego_parse_error: "}},
		{name: "syntax error in a test",
			files: map[string]string{"duty/x/probe_test.rego": "package duty.x.probe_test\n\ntest_a if {\n\t1 ==\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/probe_test.rego", Row: 5, Col: 1, Kind: duty.BundleParse, Message: "rego_parse_error: "}},
		{name: "undefined function",
			files: map[string]string{"duty/x/bad.rego": header + "violation contains v if {\n\tx := no_such_function(1)\n\tv := {\"reason\": x}\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 9, Col: 7, Kind: duty.BundleType, Message: "rego_type_error: undefined function no_such_function"}},
		{name: "undefined reference to a library",
			files: map[string]string{"duty/x/bad.rego": header + "import data.lib.util\n\nviolation contains v if {\n\tv := util.nope(1)\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 11, Col: 7, Kind: duty.BundleType, Message: "rego_type_error: undefined function data.lib.util.nope"}},
		{name: "type error in a test",
			files: map[string]string{"duty/x/probe_test.rego": "package duty.x.probe_test\n\ntest_a if {\n\tcount(1) == 0\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/probe_test.rego", Row: 4, Col: 2, Kind: duty.BundleType, Message: "rego_type_error: count: invalid argument(s)"}},
		{name: "broken data.json",
			files: map[string]string{"params/data.json": "{\n  \"x\": {\"probe\": {\"severity\": \"low\",}}\n}\n"},
			want:  duty.BundleProblem{File: "params/data.json", Row: 2, Col: 37, Kind: duty.BundleJSON, Message: "invalid JSON: invalid character '}' looking for beginning of object key string"}},
		{name: "truncated data.json",
			files: map[string]string{"params/data.json": "{\n  \"x\": {\"probe\": {\"severity\": \"low\"}}\n"},
			want:  duty.BundleProblem{File: "params/data.json", Row: 2, Col: 38, Kind: duty.BundleJSON, Message: "invalid JSON: unexpected end of JSON input"}},
		{name: "data.json with data after the object",
			files: map[string]string{"params/data.json": "{\"x\": {}}\n{\"y\": {}}\n"},
			want:  duty.BundleProblem{File: "params/data.json", Row: 2, Col: 1, Kind: duty.BundleJSON, Message: "invalid JSON: invalid character '{' after top-level value"}},
		{name: "data.json not an object",
			files: map[string]string{"params/data.json": "[1, 2]"},
			want:  duty.BundleProblem{File: "params/data.json", Row: 1, Col: 1, Kind: duty.BundleData, Message: "a data.json file must hold a JSON object"}},
		{name: "no METADATA",
			files: map[string]string{"duty/x/bad.rego": "# A comment, not METADATA.\npackage duty.x.bad\n\nviolation contains v if {\n\tfalse\n\tv := {}\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 2, Col: 1, Kind: duty.BundleMetadata, Message: "duty policy x.bad has no package # METADATA block"}},
		{name: "custom.id mismatch",
			files: map[string]string{"duty/x/bad.rego": strings.Replace(header, "id: x.bad", "id: x.other", 1) + "violation contains v if {\n\tfalse\n\tv := {}\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 6, Col: 1, Kind: duty.BundleMetadata, Message: `METADATA custom.id is "x.other" but the package duty.x.bad makes the policy id "x.bad"`}},
		{name: "custom.id missing",
			files: map[string]string{"duty/x/bad.rego": "# METADATA\n# title: 坏\n# custom:\n#   severity: low\npackage duty.x.bad\n\nviolation contains v if {\n\tfalse\n\tv := {}\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 5, Col: 1, Kind: duty.BundleMetadata, Message: `METADATA custom.id is "" but the package duty.x.bad makes the policy id "x.bad"`}},
		{name: "bad severity",
			files: map[string]string{"duty/x/bad.rego": strings.Replace(header, "severity: low", "severity: urgent", 1) + "violation contains v if {\n\tfalse\n\tv := {}\n}\n"},
			want:  duty.BundleProblem{File: "duty/x/bad.rego", Row: 6, Col: 1, Kind: duty.BundleMetadata, Message: `METADATA custom.severity of x.bad must be high, medium or low, got "urgent"`}},
		{name: "no duty policy",
			files: map[string]string{"duty/x/probe.rego": "", "duty/x/probe_test.rego": "", "duty/y/quiet.rego": ""},
			want:  duty.BundleProblem{File: ".", Kind: duty.BundleMetadata, Message: "no duty policy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be := bundleErr(t, with(testBundle(), tc.files))
			if len(be.Problems) == 0 {
				t.Fatal("BundleError without problems")
			}
			got := be.Problems[0]
			if !strings.HasPrefix(got.Message, tc.want.Message) {
				t.Errorf("message %q, want prefix %q", got.Message, tc.want.Message)
			}
			got.Message = tc.want.Message
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problem (-want +got):\n%s\nall: %v", diff, be)
			}
			// The error text a user reads names file:row:col.
			loc := fmt.Sprintf("%s:%d:%d: ", tc.want.File, tc.want.Row, tc.want.Col)
			if tc.want.Row == 0 {
				loc = tc.want.File + ": "
			}
			if !strings.Contains(be.Error(), "\n  "+loc) {
				t.Errorf("Error() = %q, want a line starting %q", be.Error(), loc)
			}
		})
	}
}

// TestProblemKinds: every problem of a refused bundle says what kind it is, so that the pages
// word it from its kind (not from its English message).
func TestProblemKinds(t *testing.T) {
	const header = "# METADATA\n# title: 坏\n# custom:\n#   id: x.bad\n#   severity: low\npackage duty.x.bad\n\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		kind  duty.BundleProblemKind
		msg   string // the message's start
	}{
		{"unsafe variable", map[string]string{"duty/x/bad.rego": header + "violation contains v if {\n\tv := {\"reason\": x}\n}\n"},
			duty.BundleUnsafe, "rego_unsafe_var_error: "},
		{"recursion", map[string]string{"duty/x/bad.rego": header + "violation contains v if {\n\tloop\n\tv := {\"reason\": \"r\"}\n}\n\nloop if loop\n"},
			duty.BundleRecursion, "rego_recursion_error: "},
		{"denied builtin", map[string]string{"duty/x/bad.rego": header + "violation contains v if {\n\thttp.send({})\n\tv := {\"reason\": \"r\"}\n}\n"},
			duty.BundleBuiltin, "builtin http.send is not allowed in a dutycheck policy"},
		{"override outside its schema", map[string]string{policy.OverridesFile: `{"x.probe": {"severity": "urgent"}}`},
			duty.BundleParam, "parameter x.probe.severity: "},
		{"override of no policy", map[string]string{policy.OverridesFile: `{"x.nope": {"days": 1}}`},
			duty.BundleData, "overrides parameters of "},
		{"switched-off list not a list", map[string]string{policy.SwitchedOffFile: `{}`},
			duty.BundleData, "must be a JSON array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := bundleErr(t, with(testBundle(), tc.files))
			p := be.Problems[0]
			if p.Kind != tc.kind || !strings.HasPrefix(p.Message, tc.msg) {
				t.Errorf("problem %+v, want kind %q and a message starting %q\nall: %v", p, tc.kind, tc.msg, be)
			}
		})
	}
}

func TestCompileReportsEveryParseError(t *testing.T) {
	be := bundleErr(t, with(testBundle(), map[string]string{
		"duty/x/a.rego":    "package duty.x.a\n\nviolation contains v if {\n",
		"duty/x/b.rego":    "package duty.x.b\n\nviolation contains v if }\n",
		"params/data.json": "{",
	}))
	files := map[string]bool{}
	for _, p := range be.Problems {
		files[p.File] = true
	}
	if diff := cmp.Diff(map[string]bool{"duty/x/a.rego": true, "duty/x/b.rego": true, "params/data.json": true}, files); diff != "" {
		t.Errorf("files with problems (-want +got):\n%s\n%v", diff, be)
	}
	if !strings.HasPrefix(be.Error(), fmt.Sprintf("policy bundle refused (%d problems):\n  ", len(be.Problems))) {
		t.Errorf("Error() = %q", be.Error())
	}
}

func TestLoadFSRefusesEmptyBundle(t *testing.T) {
	_, err := policy.LoadFS(fstest.MapFS{"README.md": {Data: []byte("x")}})
	if !errors.Is(err, duty.ErrInvalid) {
		t.Errorf("LoadFS of a folder without policies: %v, want ErrInvalid", err)
	}
	_, err = policy.LoadDir(t.TempDir() + "/missing")
	if !errors.Is(err, duty.ErrInvalid) || !strings.Contains(errString(err), "missing") {
		t.Errorf("LoadDir of a missing folder: %v, want ErrInvalid naming the folder", err)
	}
}

func TestRevision(t *testing.T) {
	base := loadBundle(t, testBundle())
	rev := base.Revision()
	if len(rev) != 16 {
		t.Errorf("Revision() = %q, want 16 hex digits", rev)
	}
	if again := loadBundle(t, testBundle()).Revision(); again != rev {
		t.Errorf("same files: revision %s then %s", rev, again)
	}
	if c := base.Clone(); c.Revision() != rev {
		t.Errorf("clone: revision %s, want %s", c.Revision(), rev)
	}
	tests := []struct {
		name   string
		change func(b *policy.Bundle)
		same   bool
	}{
		{name: "one byte of a policy", change: func(b *policy.Bundle) { b.Files["duty/y/quiet.rego"] += " " }},
		{name: "a parameter", change: func(b *policy.Bundle) { b.Files["params/data.json"] = `{"x": {"probe": {"severity": "high"}}}` }},
		{name: "a file added", change: func(b *policy.Bundle) { b.Files["lib/more.rego"] = "package lib.more\n" }},
		{name: "a file removed", change: func(b *policy.Bundle) { delete(b.Files, "duty/x/probe_test.rego") }},
		{name: "a file renamed", change: func(b *policy.Bundle) {
			b.Files["lib/util2.rego"] = b.Files["lib/util.rego"]
			delete(b.Files, "lib/util.rego")
		}},
		{name: "content moved between files", change: func(b *policy.Bundle) {
			b.Files["lib/util.rego"] += b.Files["duty/y/quiet.rego"][:10]
			b.Files["duty/y/quiet.rego"] = b.Files["duty/y/quiet.rego"][10:]
		}},
		{name: "nothing", change: func(b *policy.Bundle) {}, same: true},
		{name: "a file set to its own text", change: func(b *policy.Bundle) { b.Files["lib/util.rego"] = utilRego }, same: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base.Clone()
			tc.change(c)
			if got := c.Revision(); (got == rev) != tc.same {
				t.Errorf("revision %s after the change, base %s; want same = %v", got, rev, tc.same)
			}
			if base.Revision() != rev {
				t.Errorf("changing a clone changed the original")
			}
		})
	}
	if e := compile(t, testBundle()); e.Revision() != rev {
		t.Errorf("Engine.Revision() = %s, want the bundle's %s", e.Revision(), rev)
	}
}

func TestTestAndCheck(t *testing.T) {
	ctx := context.Background()
	results, err := policy.Test(ctx, loadBundle(t, testBundle()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range results {
		names = append(names, r.Package+"."+r.Name)
		if !r.Pass || !strings.HasSuffix(r.File, "_test.rego") || r.Row == 0 {
			t.Errorf("result %v: want a pass located in a _test.rego", r)
		}
	}
	if diff := cmp.Diff([]string{"duty.x.probe_test.test_flags_a_meeting", "duty.x.probe_test.test_quiet_on_nothing", "duty.y.quiet_test.test_never"}, names); diff != "" {
		t.Errorf("tests run (-want +got):\n%s", diff)
	}
	e, results, err := policy.Check(ctx, loadBundle(t, testBundle()))
	if err != nil || e == nil || len(results) != 3 {
		t.Errorf("Check = %v, %d results, %v; want an engine and 3 results", e, len(results), err)
	}

	// A failing test makes Check refuse the bundle, naming the test, its file and row.
	failing := probeTestRego + "\ntest_wrong if {\n\tcount(probe.violation) == 7 with input as {\"as_of\": \"2025-06-30\", \"organ\": \"O\", \"people\": [], \"departments\": []}\n}\n"
	b := loadBundle(t, with(testBundle(), map[string]string{"duty/x/probe_test.rego": failing}))
	if _, err := policy.Compile(ctx, b); err != nil {
		t.Fatalf("Compile of a bundle with a failing test: %v (tests are for Check)", err)
	}
	e, results, err = policy.Check(ctx, b)
	if e != nil {
		t.Errorf("Check returned an engine for a bundle with a failing test")
	}
	var be *duty.BundleError
	if !errors.As(err, &be) || !errors.Is(err, duty.ErrInvalid) {
		t.Fatalf("Check: %v, want a *duty.BundleError", err)
	}
	want := []duty.BundleProblem{{File: "duty/x/probe_test.rego", Row: 14, Col: 1, Kind: duty.BundleTest, Message: "test duty.x.probe_test.test_wrong failed"}}
	if diff := cmp.Diff(want, be.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if len(results) != 4 {
		t.Errorf("Check returned %d results with its error, want 4", len(results))
	}
	for _, r := range results {
		if r.Name == "test_wrong" {
			if got := r.String(); !strings.HasPrefix(got, "FAIL duty.x.probe_test.test_wrong (duty/x/probe_test.rego:14)") {
				t.Errorf("String() = %q", got)
			}
		}
	}

	// A test that errors at evaluation time fails too, with its error.
	erroring := probeTestRego + "\n_conflict = 1 if input.a\n\n_conflict = 2 if input.a\n\ntest_error if {\n\t_conflict == 1 with input as {\"a\": true}\n}\n"
	_, _, err = policy.Check(ctx, loadBundle(t, with(testBundle(), map[string]string{"duty/x/probe_test.rego": erroring})))
	if !errors.As(err, &be) || len(be.Problems) != 1 || !strings.HasPrefix(be.Problems[0].Message, "test duty.x.probe_test.test_error failed: ") {
		t.Errorf("Check with an erroring test: %v", err)
	}

	// Test refuses a bundle that does not parse.
	_, err = policy.Test(ctx, loadBundle(t, with(testBundle(), map[string]string{"duty/x/probe_test.rego": "package duty.x.probe_test\ntest_a if {"})))
	if !errors.As(err, &be) {
		t.Errorf("Test of a broken bundle: %v, want a *duty.BundleError", err)
	}
}

// TestBuiltin: the built-in bundle holds the duties of DOMAIN.md, each with its severity and its
// reasons as the oracle of DOMAIN.md (internal/conformance) gives them, every reason and
// parameter labelled in Chinese and English (every number with its unit), and its Rego tests
// pass.
func TestBuiltin(t *testing.T) {
	ctx := context.Background()
	b := policy.Builtin()
	e, err := policy.Compile(ctx, b)
	if err != nil {
		t.Fatalf("the built-in bundle does not compile:\n%v", err)
	}
	got, reasons := map[string]string{}, map[string][]string{}
	levels := []string{"party_group", "party_group_secretary", "leaders", "party_committee", "discipline_committee", "department_heads"}
	for _, m := range e.Policies() {
		got[m.ID], reasons[m.ID] = m.Severity, m.Reasons
		for _, r := range m.Reasons {
			if l := m.ReasonLabels[r]; l.ZH == "" || l.EN == "" {
				t.Errorf("%s: reason %s has no zh and en labels in custom.reasons", m.ID, r)
			}
		}
		for name, schema := range m.Params {
			pl := m.ParamLabels[name]
			if pl.Label.ZH == "" || pl.Label.EN == "" {
				t.Errorf("%s: parameter %s lacks its zh label or its custom.en.params label: %+v", m.ID, name, pl)
			}
			if typ, _ := schema.(map[string]any)["type"].(string); typ == "integer" && (pl.Unit.ZH == "" || pl.Unit.EN == "") {
				t.Errorf("%s: integer parameter %s has no custom.units entry", m.ID, name)
			}
		}
		if s, _ := e.Params(m.ID)["severity"].(string); s != m.Severity {
			t.Errorf("%s: data.params severity %q, METADATA %q", m.ID, s, m.Severity)
		}
		if m.Title == "" || m.Description == "" || m.TitleEN == "" || m.DescriptionEN == "" || len(m.Reasons) == 0 {
			t.Errorf("%s (%s): METADATA lacks title, description, en or reasons: %+v", m.ID, m.File, m)
		}
		if !slices.Contains(levels, m.Accountable) {
			t.Errorf("%s: custom.accountable %q is not one of the six levels", m.ID, m.Accountable)
		}
		if want := "duty/" + strings.ReplaceAll(m.ID, ".", "/") + ".rego"; m.File != want {
			t.Errorf("%s is in %s, want %s", m.ID, m.File, want)
		}
	}
	if diff := cmp.Diff(conformance.Severity, got); diff != "" {
		t.Errorf("built-in duties and severities (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(conformance.Reasons, reasons, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("built-in duties and reasons (-want +got):\n%s", diff)
	}

	// Every Rego test of the bundle passes; this is how `go test ./...` runs them.
	results, err := policy.Test(ctx, b)
	if err != nil {
		t.Fatalf("policy.Test: %v", err)
	}
	var failed []string
	tested := map[string]bool{}
	for _, r := range results {
		tested[strings.TrimSuffix(r.Package, "_test")] = true
		if !r.Pass && !r.Skip {
			failed = append(failed, r.String())
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d Rego tests failed:\n%s", len(failed), len(results), strings.Join(failed, "\n"))
	}
	for id := range conformance.Severity {
		if !tested["duty."+id] {
			t.Errorf("duty %s has no passing or failing test in a _test.rego", id)
		}
	}
	t.Logf("%d Rego tests", len(results))
	if _, _, err := policy.Check(ctx, b); err != nil {
		t.Errorf("Check(Builtin()): %v", err)
	}
}

func TestBuiltinEvaluatesEmptyOrgan(t *testing.T) {
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	o := organs(t, map[string]string{"departments.json": `[{"id": "ORG", "name": "机关", "kind": "organ"}]`})[0]
	// In January nothing is due yet for an organ with no people.
	vs, err := e.Evaluate(context.Background(), o, "2025-01-15")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Errorf("violations of an empty organ on 2025-01-15: %+v", vs)
	}
}

func TestScanEvaluateHonoursCancellation(t *testing.T) {
	e := compile(t, testBundle())
	var many []*duty.Organ
	for range 40 {
		many = append(many, organs(t, sample)...)
	}
	for i := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		vs, err := scan.Evaluate(ctx, scan.Options{AsOf: "2025-06-30", Engine: e, Workers: 2}, many)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: scan.Evaluate with a cancelled context = %d violations, %v; want context.Canceled", i, len(vs), err)
		}
	}

	// Cancelled part way: it stops and says so.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := 0
	start := time.Now()
	_, err := scan.Evaluate(ctx, scan.Options{AsOf: "2025-06-30", Engine: e, Workers: 1, Progress: func(d, total int) {
		done = d
		if d == 3 {
			cancel()
		}
	}}, many)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("scan.Evaluate cancelled after 3 organs: %v, want context.Canceled", err)
	}
	if done >= len(many) {
		t.Errorf("all %d organs were evaluated after cancellation (%v)", done, time.Since(start))
	}
}

// slowRego is a duty that takes seconds to evaluate, unless it is cancelled.
const slowRego = `# METADATA
# title: 慢
# custom:
#   id: y.quiet
#   severity: low
package duty.y.quiet

violation contains v if {
	some i in numbers.range(1, 100000000)
	i < 0
	v := {}
}
`

func TestEvaluateHonoursDeadline(t *testing.T) {
	e := compile(t, with(testBundle(), map[string]string{"duty/y/quiet.rego": slowRego}))
	os := organs(t, sample)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.Evaluate(ctx, os[0], "2025-06-30")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Engine.Evaluate past its deadline: %v, want context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = scan.Evaluate(ctx, scan.Options{AsOf: "2025-06-30", Engine: e, Workers: 2}, append(os, os...))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("scan.Evaluate cancelled mid-evaluation: %v, want context.Canceled", err)
	}
}

func TestScanEvaluate(t *testing.T) {
	e := compile(t, testBundle())
	os := organs(t, sample)
	var progress [][2]int
	vs, err := scan.Evaluate(context.Background(), scan.Options{AsOf: "2025-06-30", Engine: e, Workers: 3, Progress: func(d, total int) {
		progress = append(progress, [2]int{d, total})
	}}, append(os, os...))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 20 {
		t.Errorf("%d violations from two copies of the organ, want 20", len(vs))
	}
	if !slices.IsSortedFunc(vs, func(a, b duty.Violation) int {
		return strings.Compare(a.Department+"\x00"+a.Policy+"\x00"+a.Subject.ID, b.Department+"\x00"+b.Policy+"\x00"+b.Subject.ID)
	}) {
		t.Errorf("violations are not sorted by department, policy, subject id")
	}
	if diff := cmp.Diff([][2]int{{1, 2}, {2, 2}}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
