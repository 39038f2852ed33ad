package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// withWarning is the compliant organ plus a suggestion item of 办公厅 due on 2025-07-02 and still
// open: as of 2025-06-30 a warning that fails on 2025-07-03, and no violation.
func withWarning(tb testing.TB) string {
	return datasetWith(tb, compliant, map[string]string{"suggestions.json": `[
  {"id": "S-W", "department_id": "DIV-1", "issued_on": "2025-06-01",
   "items": [{"id": "S-W-1", "text": "规范公务接待", "due_on": "2025-07-02", "status": "open"}]}
]`})
}

type warningsReport struct {
	Violations []json.RawMessage `json:"violations"`
	Warnings   []struct {
		Policy     string `json:"policy"`
		Reason     string `json:"reason"`
		Department string `json:"department"`
		FailsOn    string `json:"fails_on"`
		Message    struct {
			ZH string `json:"zh"`
		} `json:"message"`
	} `json:"warnings"`
	Summary struct {
		Violations int `json:"violations"`
		Warnings   int `json:"warnings"`
	} `json:"summary"`
}

func TestScanWarnings(t *testing.T) {
	dir := withWarning(t)
	decode := func(out string) warningsReport {
		t.Helper()
		var rep warningsReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("stdout is not a report: %v\n%s", err, out)
		}
		return rep
	}

	// JSON: the warning, counted, and exit status 0: warnings are not violations.
	code, out, errOut := runCLI(t, "scan", "--input", dir, "--as-of", asOf)
	if code != 0 {
		t.Fatalf("exit %d, want 0 (a warning is no violation); stderr:\n%s", code, errOut)
	}
	rep := decode(out)
	if len(rep.Violations) != 0 || len(rep.Warnings) != 1 || rep.Summary.Warnings != 1 {
		t.Fatalf("report: %d violations, warnings %+v, summary %+v; want one warning", len(rep.Violations), rep.Warnings, rep.Summary)
	}
	if w := rep.Warnings[0]; w.Policy != "suggestion.closeout" || w.Reason != "overdue" || w.Department != "DIV-1" || w.FailsOn != "2025-07-03" {
		t.Errorf("warning %+v, want suggestion.closeout overdue in DIV-1 failing on 2025-07-03", w)
	}

	// --no-warnings leaves them out of every format.
	_, out, _ = runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--no-warnings")
	if rep := decode(out); rep.Warnings == nil || len(rep.Warnings) != 0 || rep.Summary.Warnings != 0 {
		t.Errorf("--no-warnings: warnings %+v, summary %+v; want [] and 0", rep.Warnings, rep.Summary)
	}

	// CSV: a row marked warning with its fails_on.
	code, out, _ = runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
	if err != nil || code != 0 || len(rows) != 2 {
		t.Fatalf("CSV: exit %d, %v, %d rows; want 0 and the header and one row:\n%s", code, err, len(rows), out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if r := rows[1]; r[col["kind"]] != "warning" || r[col["fails_on"]] != "2025-07-03" || r[col["policy"]] != "suggestion.closeout" {
		t.Errorf("CSV row %v, want a warning of suggestion.closeout failing on 2025-07-03", r)
	}
	_, out, _ = runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--format", "csv", "--no-warnings")
	if rows, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll(); len(rows) != 1 {
		t.Errorf("CSV --no-warnings: %d rows, want the header alone", len(rows))
	}

	// Table: the warning under its own heading, with its fails_on.
	for _, tc := range []struct{ lang, want string }{
		{"zh", "预警 2025-07-03"},
		{"en", "warning 2025-07-03"},
	} {
		_, out, _ = runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--format", "table", "--lang", tc.lang)
		if !strings.Contains(out, tc.want) || !strings.Contains(out, "S-W") {
			t.Errorf("table (%s) lacks %q and the suggestion:\n%s", tc.lang, tc.want, out)
		}
		_, out, _ = runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--format", "table", "--lang", tc.lang, "--no-warnings")
		if strings.Contains(out, tc.want) {
			t.Errorf("table (%s) --no-warnings shows the warning:\n%s", tc.lang, out)
		}
	}

	// A department scan keeps the warnings of its subtree only.
	for _, tc := range []struct {
		department string
		want       int
	}{{"DIV-1", 1}, {"DC-1", 0}} {
		_, out, _ = runCLI(t, "scan", "--input", dir, "--as-of", asOf, "--department", tc.department)
		if rep := decode(out); len(rep.Warnings) != tc.want || rep.Summary.Warnings != tc.want {
			t.Errorf("--department %s: %d warnings (summary %d), want %d", tc.department, len(rep.Warnings), rep.Summary.Warnings, tc.want)
		}
	}
}
