package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// The datasets of testdata/: a compliant organ (as of 2025-06-30), and two organs with one
// violation or more of five duties.
const (
	compliant  = "testdata/compliant"
	violations = "testdata/violations"
	asOf       = "2025-06-30"
)

// runCLI runs the command line and returns its exit status, stdout and stderr.
func runCLI(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// datasetWith copies the dataset folder base (or starts empty, when base is "") into a
// temporary folder and writes files over it (an empty text removes the file).
func datasetWith(tb testing.TB, base string, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	if base != "" {
		entries, err := os.ReadDir(base)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(base, e.Name()))
			if err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	writeFiles(tb, dir, files)
	return dir
}

// writeFiles writes files (slash-separated path → text) under dir; an empty text removes one.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if text == "" {
			if err := os.Remove(p); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// cliReport is the report of docs/report.md, as a script would read it.
type cliReport struct {
	ScanID         string  `json:"scan_id"`
	AsOf           string  `json:"as_of"`
	Department     *string `json:"department"`
	PolicyRevision string  `json:"policy_revision"`
	GeneratedAt    string  `json:"generated_at"`
	Summary        struct {
		Violations   int            `json:"violations"`
		ByPolicy     map[string]int `json:"by_policy"`
		BySeverity   map[string]int `json:"by_severity"`
		ByDepartment map[string]int `json:"by_department"`
	} `json:"summary"`
	Violations []cliViolation `json:"violations"`
}

type cliRef struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
}

type cliViolation struct {
	Policy      string         `json:"policy"`
	Severity    string         `json:"severity"`
	Reason      string         `json:"reason"`
	Department  string         `json:"department"`
	Accountable string         `json:"accountable"`
	Subject     cliRef         `json:"subject"`
	Details     map[string]any `json:"details"`
	Message     struct {
		ZH string `json:"zh"`
		EN string `json:"en"`
	} `json:"message"`
	Evidence []cliRef `json:"evidence"`
}

// parseReport checks that out is one JSON report with every key docs/report.md names, and
// decodes it.
func parseReport(tb testing.TB, out string) cliReport {
	tb.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		tb.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	hasKeys := func(what string, obj any, keys ...string) {
		m, ok := obj.(map[string]any)
		if !ok {
			tb.Errorf("%s is %T, want an object", what, obj)
			return
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				tb.Errorf("%s has no %q", what, k)
			}
		}
	}
	hasKeys("report", raw, "scan_id", "as_of", "department", "policy_revision", "generated_at", "summary", "violations")
	hasKeys("summary", raw["summary"], "violations", "by_policy", "by_severity", "by_department")
	vs, ok := raw["violations"].([]any)
	if !ok {
		tb.Fatalf("violations is %T, want an array (never null)", raw["violations"])
	}
	for i, v := range vs {
		what := "violations[" + strconv.Itoa(i) + "]"
		hasKeys(what, v, "policy", "severity", "reason", "department", "accountable", "subject", "details", "message", "evidence")
		m, _ := v.(map[string]any)
		hasKeys(what+".subject", m["subject"], "collection", "id")
		hasKeys(what+".details", m["details"])
		hasKeys(what+".message", m["message"], "zh", "en")
		if _, ok := m["evidence"].([]any); !ok {
			tb.Errorf("%s.evidence is %T, want an array", what, m["evidence"])
		}
	}
	var rep cliReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		tb.Fatalf("report: %v", err)
	}
	return rep
}

// checkReport checks what every report promises: dates, revision, counts and order.
func checkReport(tb testing.TB, rep cliReport, wantAsOf string) {
	tb.Helper()
	if rep.ScanID == "" {
		tb.Errorf("scan_id is empty")
	}
	if rep.AsOf != wantAsOf {
		tb.Errorf("as_of = %q, want %q", rep.AsOf, wantAsOf)
	}
	if want := policy.Builtin().Revision(); rep.PolicyRevision != want {
		tb.Errorf("policy_revision = %q, want the built-in bundle's %q", rep.PolicyRevision, want)
	}
	if _, err := time.Parse(time.RFC3339, rep.GeneratedAt); err != nil {
		tb.Errorf("generated_at %q is not RFC 3339: %v", rep.GeneratedAt, err)
	}
	if rep.Summary.Violations != len(rep.Violations) {
		tb.Errorf("summary.violations = %d, but %d violations", rep.Summary.Violations, len(rep.Violations))
	}
	byPolicy, bySeverity, byDept := map[string]int{}, map[string]int{}, map[string]int{}
	levels := []string{"party_group", "party_group_secretary", "leaders", "party_committee", "discipline_committee", "department_heads"}
	for _, v := range rep.Violations {
		byPolicy[v.Policy]++
		bySeverity[v.Severity]++
		byDept[v.Department]++
		if !slices.Contains([]string{"high", "medium", "low"}, v.Severity) {
			tb.Errorf("%s %s: severity %q", v.Policy, v.Subject.ID, v.Severity)
		}
		if !slices.Contains(levels, v.Accountable) {
			tb.Errorf("%s %s: accountable %q is not one of the six levels", v.Policy, v.Subject.ID, v.Accountable)
		}
		if v.Message.ZH == "" || v.Message.EN == "" {
			tb.Errorf("%s %s: message %+v lacks a language", v.Policy, v.Subject.ID, v.Message)
		}
	}
	for _, c := range []struct {
		name      string
		want, got map[string]int
	}{{"by_policy", byPolicy, rep.Summary.ByPolicy}, {"by_severity", bySeverity, rep.Summary.BySeverity}, {"by_department", byDept, rep.Summary.ByDepartment}} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			tb.Errorf("summary.%s (-counted +reported):\n%s", c.name, diff)
		}
	}
	sorted := slices.IsSortedFunc(rep.Violations, func(a, b cliViolation) int {
		for _, p := range [][2]string{{a.Department, b.Department}, {a.Policy, b.Policy}, {a.Subject.ID, b.Subject.ID}} {
			if c := strings.Compare(p[0], p[1]); c != 0 {
				return c
			}
		}
		return 0
	})
	if !sorted {
		tb.Errorf("violations are not sorted by department, policy, subject id")
	}
}

// key is what identifies a violation in these tests.
type key struct {
	Department, Policy, Reason, Subject, Details string
}

func keys(rep cliReport) []key {
	var out []key
	for _, v := range rep.Violations {
		out = append(out, key{v.Department, v.Policy, v.Reason, v.Subject.Collection + "/" + v.Subject.ID, duty.DetailString(v.Details)})
	}
	return out
}

// The violations of testdata/violations as of 2025-06-30, in report order (DOMAIN.md duties
// 1, 5, 7, 8 and 10).
var wantViolations = []key{
	{"BR-A1", "branch.discipline_member", "missing", "departments/BR-A1", ""},
	{"DIV-A1", "archive.integrity_file", "missing", "people/P-A1", ""},
	{"DIV-A1", "talk.pre_appointment", "missing", "appointments/AP-1", ""},
	{"ORG-A", "list.six_levels", "missing", "departments/ORG-A", "level=discipline_committee"},
	{"ORG-A", "list.six_levels", "missing", "departments/ORG-A", "level=party_committee"},
	{"ORG-A", "list.six_levels", "missing", "departments/ORG-A", "level=party_group"},
	{"ORG-A", "meeting.annual_conduct", "missing", "departments/ORG-A", ""},
	{"ORG-B", "list.six_levels", "missing", "departments/ORG-B", "level=discipline_committee"},
	{"ORG-B", "list.six_levels", "missing", "departments/ORG-B", "level=party_committee"},
	{"ORG-B", "list.six_levels", "missing", "departments/ORG-B", "level=party_group"},
	{"ORG-B", "meeting.annual_conduct", "missing", "departments/ORG-B", ""},
}

func TestScanCompliant(t *testing.T) {
	code, out, errOut := runCLI(t, "scan", "--input", compliant, "--as-of", asOf)
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
	if errOut != "" {
		t.Errorf("stderr = %q, want nothing", errOut)
	}
	rep := parseReport(t, out)
	checkReport(t, rep, asOf)
	if rep.Department != nil {
		t.Errorf("department = %q, want null", *rep.Department)
	}
	if len(rep.Violations) != 0 {
		t.Errorf("violations: %+v", rep.Violations)
	}
	if !strings.Contains(out, `"violations": []`) {
		t.Errorf("an empty report's violations are not []:\n%s", out)
	}

	// The same organ fails later in the year: its joint meetings stop (meeting.joint, 92 days).
	code, out, _ = runCLI(t, "scan", "--input", compliant, "--as-of", "2025-08-30")
	if code != 1 {
		t.Fatalf("as of 2025-08-30: exit %d, want 1", code)
	}
	rep = parseReport(t, out)
	checkReport(t, rep, "2025-08-30")
	if diff := cmp.Diff([]key{{"DC-1", "meeting.joint", "gap", "departments/DC-1", ""}}, keys(rep)); diff != "" {
		t.Errorf("violations as of 2025-08-30 (-want +got):\n%s", diff)
	}
}

func TestScanViolations(t *testing.T) {
	code, out, errOut := runCLI(t, "scan", "--input", violations, "--as-of", asOf, "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr = %q, want nothing", errOut)
	}
	rep := parseReport(t, out)
	checkReport(t, rep, asOf)
	if diff := cmp.Diff(wantViolations, keys(rep)); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	// Details and evidence as docs/report.md shows them.
	for _, v := range rep.Violations {
		if v.Policy == "list.six_levels" && v.Details["level"] == nil {
			t.Errorf("list.six_levels violation without details.level: %+v", v)
		}
		if v.Policy == "talk.pre_appointment" && !slices.Contains(v.Evidence, cliRef{"people", "P-A1"}) {
			t.Errorf("talk.pre_appointment evidence %v does not name the person", v.Evidence)
		}
	}
	// The default format is JSON, and the as-of date defaults to today.
	code, out2, _ := runCLI(t, "scan", "--input", violations)
	if code != 1 {
		t.Fatalf("without --as-of: exit %d, want 1", code)
	}
	if got := parseReport(t, out2).AsOf; got != time.Now().Format(time.DateOnly) {
		t.Errorf("default as_of = %s, want today", got)
	}
}

func TestScanDepartment(t *testing.T) {
	tests := []struct {
		department string
		code       int
		want       []key
	}{
		{department: "DIV-A1", code: 1, want: wantViolations[:3]}, // the office and its branch
		{department: "BR-A1", code: 1, want: wantViolations[:1]},
		{department: "ORG-A", code: 1, want: wantViolations[:7]},
		{department: "ORG-B", code: 1, want: wantViolations[7:]},
	}
	for _, tc := range tests {
		t.Run(tc.department, func(t *testing.T) {
			code, out, errOut := runCLI(t, "scan", "--input", violations, "--as-of", asOf, "--department", tc.department)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			rep := parseReport(t, out)
			checkReport(t, rep, asOf)
			if rep.Department == nil || *rep.Department != tc.department {
				t.Errorf("department = %v, want %q", rep.Department, tc.department)
			}
			if diff := cmp.Diff(tc.want, keys(rep)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}

	// A department whose subtree is compliant exits 0 even when its organ is not.
	dir := datasetWith(t, violations, map[string]string{"departments.json": `[
  {"id": "ORG-A", "name": "机关甲", "kind": "organ"},
  {"id": "DIV-A1", "name": "办公厅", "kind": "office", "parent_id": "ORG-A"},
  {"id": "BR-A1", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV-A1"},
  {"id": "DIV-A2", "name": "研究室", "kind": "office", "parent_id": "ORG-A"},
  {"id": "ORG-B", "name": "机关乙", "kind": "organ"}
]`})
	code, out, errOut := runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--department", "DIV-A2")
	if code != 0 {
		t.Fatalf("DIV-A2: exit %d, want 0; stderr:\n%s\n%s", code, errOut, out)
	}
	if rep := parseReport(t, out); len(rep.Violations) != 0 || rep.Summary.Violations != 0 {
		t.Errorf("DIV-A2: %d violations, want none", len(rep.Violations))
	}
}

func TestScanCSV(t *testing.T) {
	code, out, errOut := runCLI(t, "scan", "--input", violations, "--as-of", asOf, "--format", "csv")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	// The columns of earlier versions first, then the policy's and the reason's names from the
	// bundle's METADATA, then the row's kind, a warning's fails_on and a waived row's waiver,
	// then the names beside the department's and the subject's ids.
	header := "department,policy,severity,reason,accountable,subject_collection,subject_id,details,message_zh,message_en,evidence,first_seen" +
		",policy_zh,policy_en,reason_zh,reason_en,kind,fails_on,waiver_id,waiver_until,department_name,subject_name"
	out, bom := strings.CutPrefix(out, "\ufeff")
	if !bom {
		t.Errorf("CSV does not start with a byte order mark")
	}
	if first, _, _ := strings.Cut(out, "\n"); first != header {
		t.Errorf("CSV header = %q\nwant         %q", first, header)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("stdout is not CSV: %v", err)
	}
	var got []key
	for _, r := range rows[1:] {
		got = append(got, key{r[0], r[1], r[3], r[5] + "/" + r[6], r[7]})
		if r[8] == "" || r[9] == "" {
			t.Errorf("row %v lacks a message", r)
		}
		if r[1] == "talk.pre_appointment" && !slices.Equal(r[12:16], []string{"任前廉政谈话", "Pre-appointment integrity talk", "缺失", "missing"}) {
			t.Errorf("row %v: the policy and reason are not named by the METADATA", r)
		}
		if r[20] == "" || (r[5] == "people" || r[5] == "departments") && r[21] == "" {
			t.Errorf("row %v: no name beside the department's or the subject's id", r)
		}
	}
	if diff := cmp.Diff(wantViolations, got); diff != "" {
		t.Errorf("CSV rows (-want +got):\n%s", diff)
	}

	// --header zh: the Chinese titles, the same cells.
	_, zh, _ := runCLI(t, "scan", "--input", violations, "--as-of", asOf, "--format", "csv", "--header", "zh")
	zhHead, zhRows, _ := strings.Cut(strings.TrimPrefix(zh, "\ufeff"), "\n")
	_, rowsOut, _ := strings.Cut(out, "\n")
	if zhHead != strings.Join(duty.CSVTitles, ",") || zhRows != rowsOut {
		t.Errorf("--header zh: header %q and the rows differing: %v", zhHead, zhRows != rowsOut)
	}
	if code, _, errOut := runCLI(t, "scan", "--input", violations, "--format", "csv", "--header", "en"); code != 2 || !strings.Contains(errOut, "--header") {
		t.Errorf("--header en: exit %d, %q; want 2 and an error naming --header", code, errOut)
	}

	// A compliant scan is the header alone.
	code, out, _ = runCLI(t, "scan", "--input", compliant, "--as-of", asOf, "--format", "csv")
	if code != 0 || out != "\ufeff"+header+"\n" {
		t.Errorf("compliant CSV: exit %d, output %q; want 0 and the header", code, out)
	}
}

func TestScanTable(t *testing.T) {
	_, jsonOut, _ := runCLI(t, "scan", "--input", violations, "--as-of", asOf)
	rep := parseReport(t, jsonOut)
	var talk cliViolation
	for _, v := range rep.Violations {
		if v.Policy == "talk.pre_appointment" {
			talk = v
		}
	}
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{name: "zh by default", args: nil,
			want: []string{"履责检查报告  截至 2025-06-30  范围 全部机关  规则版本 " + rep.PolicyRevision + "\n",
				"问题 11 项（高 1，中 9，低 1）\n", "== 办公厅党支部（BR-A1） ==\n", "  -- 任前廉政谈话（talk.pre_appointment）[高]\n", "人员 ", talk.Message.ZH},
			not: []string{"Compliance report", talk.Message.EN, "people/", "[high]"}},
		{name: "zh", args: []string{"--lang", "zh"},
			want: []string{"履责检查报告", talk.Message.ZH}},
		{name: "en", args: []string{"--lang", "en"},
			want: []string{"Compliance report as of 2025-06-30, scope all organs, policy revision " + rep.PolicyRevision + "\n",
				"11 violations (high 1, medium 9, low 1)\n", "== 办公厅 (DIV-A1) ==\n",
				"  -- Pre-appointment integrity talk (talk.pre_appointment) [high]\n", talk.Message.EN},
			not: []string{"履责检查报告", talk.Message.ZH}},
		{name: "scope", args: []string{"--lang", "en", "--department", "DIV-A1"},
			want: []string{"scope DIV-A1", "3 violations (high 1, medium 1, low 1)"},
			not:  []string{"ORG-B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"scan", "--input", violations, "--as-of", asOf, "--format", "table"}, tc.args...)
			code, out, errOut := runCLI(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
			}
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("table lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out, s) {
					t.Errorf("table has %q:\n%s", s, out)
				}
			}
		})
	}
}

// A policy bundle for --policies: one duty flagging every branch, with its test.
var flagBundle = map[string]string{
	"duty/branch/flag.rego": `# METADATA
# title: 标记支部
# description: Every branch is flagged.
# custom:
#   id: branch.flag
#   severity: medium
#   accountable: party_committee
#   reasons: [flagged]
package duty.branch.flag

violation contains v if {
	some b in input.departments
	b.kind == "branch"
	v := {
		"reason": "flagged",
		"subject": {"collection": "departments", "id": b.id},
		"details": {},
		"message": {"zh": sprintf("支部 %s", [b.id]), "en": sprintf("branch %s", [b.id])},
		"evidence": [],
	}
}
`,
	"duty/branch/flag_test.rego": `package duty.branch.flag_test

import data.duty.branch.flag

test_flags_a_branch if {
	count(flag.violation) == 1 with input as {"departments": [{"id": "B", "kind": "branch"}]}
}

test_ignores_an_office if {
	count(flag.violation) == 0 with input as {"departments": [{"id": "O", "kind": "office"}]}
}
`,
	"params/data.json": `{"branch": {"flag": {"severity": "high"}}}`,
}

func TestScanPolicies(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, flagBundle)
	code, out, errOut := runCLI(t, "scan", "--input", violations, "--as-of", asOf, "--policies", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	rep := parseReport(t, out)
	if diff := cmp.Diff([]key{{"BR-A1", "branch.flag", "flagged", "departments/BR-A1", ""}}, keys(rep)); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if rep.Violations[0].Severity != "high" {
		t.Errorf("severity %q, want high from data.params", rep.Violations[0].Severity)
	}
	if rep.PolicyRevision == policy.Builtin().Revision() || rep.PolicyRevision == "" {
		t.Errorf("policy_revision %q: want the custom bundle's", rep.PolicyRevision)
	}
}

func TestScanBadInput(t *testing.T) {
	syntaxPolicies := t.TempDir()
	writeFiles(t, syntaxPolicies, flagBundle)
	writeFiles(t, syntaxPolicies, map[string]string{"duty/branch/flag.rego": strings.Replace(flagBundle["duty/branch/flag.rego"],
		`b.kind == "branch"`, `b.kind == "branch")`, 1)})
	typePolicies := t.TempDir()
	writeFiles(t, typePolicies, flagBundle)
	writeFiles(t, typePolicies, map[string]string{"duty/branch/flag.rego": strings.Replace(flagBundle["duty/branch/flag.rego"],
		`b.kind == "branch"`, `is_branch(b)`, 1)})
	dataPolicies := t.TempDir()
	writeFiles(t, dataPolicies, flagBundle)
	writeFiles(t, dataPolicies, map[string]string{"params/data.json": "{\n  \"branch\": {\"flag\": {\"severity\": \"high\"}\n}\n"})

	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{name: "no arguments", args: nil, want: []string{"Usage:"}},
		{name: "unknown command", args: []string{"check"}, want: []string{`unknown command "check"`, "Usage:"}},
		{name: "missing --input", args: []string{"scan", "--as-of", asOf},
			want: []string{"dutycheck: scan: --input DIR is required\n"}},
		{name: "unknown flag", args: []string{"scan", "--input", compliant, "--date", asOf},
			want: []string{"flag provided but not defined: -date"}},
		{name: "stray argument", args: []string{"scan", "--input", compliant, "extra"},
			want: []string{`dutycheck: scan: unexpected argument "extra"`}},
		{name: "bad --format", args: []string{"scan", "--input", compliant, "--format", "xml"},
			want: []string{`dutycheck: scan: --format must be json, csv or table, got "xml"`}},
		{name: "bad --lang", args: []string{"scan", "--input", compliant, "--format", "table", "--lang", "fr"},
			want: []string{`--lang must be zh or en, got "fr"`}},
		{name: "impossible --as-of", args: []string{"scan", "--input", compliant, "--as-of", "2025-02-30"},
			want: []string{`as_of "2025-02-30"`, "expected a date YYYY-MM-DD"}},
		{name: "short --as-of", args: []string{"scan", "--input", compliant, "--as-of", "2025-2-3"},
			want: []string{`as_of "2025-2-3"`, "expected a date YYYY-MM-DD"}},
		{name: "unknown department", args: []string{"scan", "--input", compliant, "--as-of", asOf, "--department", "DIV-404"},
			want: []string{`department "DIV-404"`, "not found"}},
		{name: "missing input folder", args: []string{"scan", "--input", filepath.Join(t.TempDir(), "nope")},
			want: []string{"nope"}},
		{name: "broken JSON",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"people.json": "[\n  {\"id\": \"P-1\", \"name\": \"Li\"\n   \"department_id\": \"DIV-1\"}\n]\n"})},
			want: []string{"people.json: line 3, column 4: invalid JSON: invalid character '\"' after object key:value pair"}},
		{name: "not an array",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"meetings.json": `{"id": "M-1"}`})},
			want: []string{"meetings.json: line 1, column 1: expected a JSON array of documents"}},
		{name: "unknown file",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"staff.json": `[]`})},
			want: []string{"staff.json: is not a collection"}},
		{name: "bad reference",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"people.json": `[
  {"id": "P-1", "name": "李四", "department_id": "DIV-9", "rank": "staff", "roles": ["discipline_member"], "active": true}
]`})},
			want: []string{`people.json:2: document 0 (id "P-1"), field department_id: names "DIV-9", which is not a record in departments`}},
		{name: "bad field",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"meetings.json": `[
  {"id": "M-1", "kind": "annual_conduct", "department_id": "ORG-1", "held_on": "2025-02-30"}
]`})},
			want: []string{`meetings.json:2: document 0 (id "M-1"), field held_on: must be a date YYYY-MM-DD, got "2025-02-30"`}},
		{name: "every problem at once",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{
				"people.json":   `[{"id": "P-2", "name": "李四", "department_id": "DIV-9", "rank": "staff", "roles": [], "active": true}]`,
				"meetings.json": `[{"id": "M-1", "kind": "joint", "department_id": "DC-1", "held_on": "2025-2-1"}]`,
			})},
			want: []string{"3 problems:", `field department_id: names "DIV-9"`, `field held_on: must be a date`, `BR-1"), field discipline_member_id: names "P-1"`}},
		{name: "policy syntax error", args: []string{"scan", "--input", compliant, "--policies", syntaxPolicies},
			want: []string{"duty/branch/flag.rego:13:20: rego_parse_error: unexpected ) token"}},
		{name: "policy type error", args: []string{"scan", "--input", compliant, "--policies", typePolicies},
			want: []string{"duty/branch/flag.rego:13:2: rego_type_error: undefined function is_branch"}},
		{name: "policy data error", args: []string{"scan", "--input", compliant, "--policies", dataPolicies},
			want: []string{"params/data.json:3:2: invalid JSON: unexpected end of JSON input"}},
		{name: "missing policy folder", args: []string{"scan", "--input", compliant, "--policies", filepath.Join(t.TempDir(), "none")},
			want: []string{"none", "not a readable folder"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stdout:\n%s", code, out)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			for _, s := range tc.want {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestPolicyTest(t *testing.T) {
	code, out, errOut := runCLI(t, "policy", "test")
	if code != 0 {
		t.Fatalf("policy test: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	m := regexp.MustCompile(`^([0-9]+) passed, 0 failed\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("policy test printed %q, want \"N passed, 0 failed\"", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 10 {
		t.Errorf("only %d Rego tests passed, want at least one per duty", n)
	}

	// A folder of its own, verbose.
	dir := t.TempDir()
	writeFiles(t, dir, flagBundle)
	code, out, _ = runCLI(t, "policy", "test", "-v", dir)
	want := "PASS duty.branch.flag_test.test_flags_a_branch (duty/branch/flag_test.rego:5)\n" +
		"PASS duty.branch.flag_test.test_ignores_an_office (duty/branch/flag_test.rego:9)\n" +
		"2 passed, 0 failed\n"
	if code != 0 || out != want {
		t.Errorf("policy test -v DIR: exit %d, output:\n%s\nwant 0 and:\n%s", code, out, want)
	}

	// The order of the usage, `policy test [DIR] [-v]`, means the same.
	if code, got, _ := runCLI(t, "policy", "test", dir, "-v"); code != 0 || got != want {
		t.Errorf("policy test DIR -v: exit %d, output:\n%s\nwant 0 and:\n%s", code, got, want)
	}
	// A second folder is not silently ignored.
	if code, got, errOut := runCLI(t, "policy", "test", dir, dir); code != 2 || got != "" || !strings.Contains(errOut, "one policy folder") {
		t.Errorf("policy test DIR DIR: exit %d, stdout %q, stderr %q; want 2 and nothing run", code, got, errOut)
	}

	// A failing test: exit 1 and the failure named.
	writeFiles(t, dir, map[string]string{"duty/branch/flag_test.rego": flagBundle["duty/branch/flag_test.rego"] +
		"\ntest_wrong if {\n\tcount(flag.violation) == 2 with input as {\"departments\": [{\"id\": \"B\", \"kind\": \"branch\"}]}\n}\n"})
	code, out, _ = runCLI(t, "policy", "test", dir)
	want = "FAIL duty.branch.flag_test.test_wrong (duty/branch/flag_test.rego:13)\n2 passed, 1 failed\n"
	if code != 1 || out != want {
		t.Errorf("policy test with a failing test: exit %d, output:\n%s\nwant 1 and:\n%s", code, out, want)
	}

	// A bundle that does not compile: exit 2 and file:row:col.
	writeFiles(t, dir, map[string]string{"duty/branch/flag_test.rego": "package duty.branch.flag_test\n\ntest_x if {\n\t1 ==\n}\n"})
	code, _, errOut = runCLI(t, "policy", "test", dir)
	if code != 2 || !strings.Contains(errOut, "duty/branch/flag_test.rego:5:1: rego_parse_error") {
		t.Errorf("policy test of a broken bundle: exit %d, stderr:\n%s\nwant 2 and the file:row:col", code, errOut)
	}

	for _, args := range [][]string{{"policy"}, {"policy", "run"}, {"policy", "test", filepath.Join(dir, "nope")}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
