package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// sample is the sample organ, whose scan as of 2025-12-31 finds about four hundred violations.
var sample = filepath.Join("..", "..", "fixtures", "sample")

// TestScanRefusesDatesOutOfRange: every date dutycheck accepts lies in 1900-01-01…2199-12-31,
// which the policies count; a date outside is exit status 2 naming the field, never a report
// in which the duties that count days fall silent (issue 12: as of 2262-04-12 the sample organ
// had 24 violations instead of 414; an updated_on in 1025 was never stale; a reported_on in
// 2925 neither late nor unreported).
func TestScanRefusesDatesOutOfRange(t *testing.T) {
	people := `[
  {"id": "P-1", "name": "李四", "department_id": "DIV-1", "rank": "staff", "roles": ["discipline_member"], "active": true},
  {"id": "P-2", "name": "王五", "department_id": "DIV-1", "rank": "division", "roles": [], "active": true}
]`
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{name: "as of past the policies' nanoseconds", args: []string{"scan", "--input", sample, "--as-of", "2262-04-12"},
			want: []string{`as_of "2262-04-12"`, "expected a date from 1900-01-01 to 2199-12-31 (out of range)"}},
		{name: "as of the day after the range", args: []string{"scan", "--input", sample, "--as-of", "2200-01-01"},
			want: []string{`as_of "2200-01-01"`, "out of range"}},
		{name: "as of the day before the range", args: []string{"scan", "--input", sample, "--as-of", "1899-12-31"},
			want: []string{`as_of "1899-12-31"`, "out of range"}},
		{name: "updated_on in 1025",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"people.json": people,
				"integrity_files.json": `[{"id": "F-2", "person_id": "P-2", "updated_on": "1025-03-01", "major_matters": []}]`})},
			want: []string{`integrity_files.json:1: document 0 (id "F-2"), field updated_on: must be a date from 1900-01-01 to 2199-12-31 (out of range), got "1025-03-01"`}},
		{name: "reported_on in 2925",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"people.json": people,
				"integrity_files.json": `[{"id": "F-2", "person_id": "P-2", "updated_on": "2025-03-01", "major_matters": [{"id": "M-1", "kind": "婚姻", "event_on": "2025-01-10", "reported_on": "2925-01-10"}]}]`})},
			want: []string{`field major_matters[0].reported_on: must be a date from 1900-01-01 to 2199-12-31 (out of range), got "2925-01-10"`}},
		{name: "letter of year 9999",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"people.json": people,
				"letters.json": `[{"id": "L-1", "year": 9999, "level": 3, "issuer_id": "P-1", "signer_id": "P-2", "signed_by_issuer": false, "signed_by_signer": false}]`})},
			want: []string{`field year: must be an integer from 1900 to 2199, got 9999`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, want 2, and stdout %.200q, want nothing", code, out)
			}
			for _, s := range tc.want {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// TestScanCountsAtTheEndsOfTheRange: the first and last accepted dates are counted like any
// other: a file last updated on 1900-01-01 is stale, a matter reported on 2199-12-31 is late,
// and as of 2199-12-31 every duty of the sample organ still reports.
func TestScanCountsAtTheEndsOfTheRange(t *testing.T) {
	people := `[
  {"id": "P-1", "name": "李四", "department_id": "DIV-1", "rank": "staff", "roles": ["discipline_member"], "active": true},
  {"id": "P-2", "name": "王五", "department_id": "DIV-1", "rank": "division", "roles": [], "active": true}
]`
	type key struct{ policy, reason, subject string }
	tests := []struct {
		name  string
		args  []string
		want  []key // among the violations
		every bool  // every duty of the bundle reports at least one violation
	}{
		{name: "updated on the first day, reported on the last",
			args: []string{"scan", "--as-of", asOf, "--input", datasetWith(t, compliant, map[string]string{"people.json": people,
				"integrity_files.json": `[{"id": "F-2", "person_id": "P-2", "updated_on": "1900-01-01", "major_matters": [{"id": "M-1", "kind": "婚姻", "event_on": "2025-01-10", "reported_on": "2199-12-31"}]}]`})},
			want: []key{{"archive.integrity_file", "stale", "P-2"}, {"archive.major_matters", "late", "F-2"}}},
		{name: "as of the last day", args: []string{"scan", "--input", sample, "--as-of", "2199-12-31"}, every: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (violations); stderr:\n%s", code, errOut)
			}
			var rep struct {
				Summary struct {
					ByPolicy map[string]int `json:"by_policy"`
				} `json:"summary"`
				Violations []struct {
					Policy, Reason string
					Subject        struct{ ID string }
				} `json:"violations"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			got := map[key]bool{}
			for _, v := range rep.Violations {
				got[key{v.Policy, v.Reason, v.Subject.ID}] = true
			}
			for _, k := range tc.want {
				if !got[k] {
					t.Errorf("no violation %v", k)
				}
			}
			if tc.every && len(rep.Summary.ByPolicy) != 10 {
				t.Errorf("violations by duty %v: want every one of the ten duties to report", rep.Summary.ByPolicy)
			}
		})
	}
}

// TestScanRefusesDatasetsReadPartlyOrNotAtAll: a file meant as a collection but not named
// exactly <collection>.json, and a folder without departments, are exit status 2, never a
// report that checked less than the user gave it (issue 12: talks.JSON was skipped, 170
// violations instead of 59; an empty folder scanned to 0 violations with exit status 0).
func TestScanRefusesDatasetsReadPartlyOrNotAtAll(t *testing.T) {
	talksUpper := datasetWith(t, sample, map[string]string{"talks.json": ""})
	writeFiles(t, talksUpper, map[string]string{"talks.JSON": "[]"})
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{name: "upper-case extension", input: talksUpper,
			want: []string{"talks.JSON: is not read: the file of collection talks must be named exactly talks.json (lower case)"}},
		{name: "upper-case name", input: datasetWith(t, compliant, map[string]string{"Meetings.json": "[]"}),
			want: []string{"Meetings.json: is not read"}},
		{name: "empty folder", input: t.TempDir(),
			want: []string{"departments.json: is missing", "is it the right folder?"}},
		{name: "wrong folder", input: filepath.Join("..", "..", "internal", "duty"),
			want: []string{"departments.json: is missing"}},
		{name: "no department", input: datasetWith(t, "", map[string]string{"departments.json": "[]"}),
			want: []string{"departments.json: holds no department"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "scan", "--as-of", asOf, "--input", tc.input)
			if code != 2 || out != "" {
				t.Errorf("exit %d, want 2, and stdout %.200q, want nothing", code, out)
			}
			for _, s := range tc.want {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// TestImportRefusesAFolderWithoutDepartments: import (and serve --load, through the same
// importDir) refuses what scan refuses, before anything is written.
func TestImportRefusesAFolderWithoutDepartments(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded store")
	}
	t.Setenv("MONGODB_URI", "") // the embedded store in a folder of its own, never a shared server's default database
	code, out, errOut := runCLI(t, "import", "--data", t.TempDir(), t.TempDir())
	if code != 2 || !strings.Contains(errOut, "departments.json: is missing") {
		t.Errorf("import of an empty folder: exit %d, want 2; stdout %q; stderr:\n%s", code, out, errOut)
	}
}
