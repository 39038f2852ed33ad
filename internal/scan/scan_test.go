package scan_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// everyDepartment is a duty for tests: every department but an organ is a violation.
const everyDepartment = `# METADATA
# title: 每个部门
# custom:
#   id: x.all
#   severity: low
#   accountable: party_committee
package duty.x.all

violation contains v if {
	some d in input.departments
	d.kind != "organ"
	v := {"reason": "flagged", "subject": {"collection": "departments", "id": d.id}, "details": {}, "message": {"zh": d.id, "en": d.id}, "evidence": []}
}
`

func engine(tb testing.TB) *policy.Engine {
	tb.Helper()
	b, err := policy.LoadFS(fstest.MapFS{"duty/x/all.rego": {Data: []byte(everyDepartment)}})
	if err != nil {
		tb.Fatal(err)
	}
	e, err := policy.Compile(context.Background(), b)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

const departments = `[
{"id": "A", "name": "机关甲", "kind": "organ"},
{"id": "A1", "name": "办公厅", "kind": "office", "parent_id": "A"},
{"id": "A11", "name": "支部", "kind": "branch", "parent_id": "A1"},
{"id": "A2", "name": "研究室", "kind": "office", "parent_id": "A"},
{"id": "B", "name": "机关乙", "kind": "organ"},
{"id": "B1", "name": "办公厅", "kind": "office", "parent_id": "B"}
]`

func dataset(tb testing.TB) *duty.Dataset {
	tb.Helper()
	docs, p := duty.DecodeArray("departments.json", []byte(departments))
	if p != nil {
		tb.Fatal(p)
	}
	ds, err := duty.NewDataset(map[string][]duty.RawDoc{"departments": docs})
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

func subjects(vs []duty.Violation) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Subject.ID)
	}
	return out
}

func TestDataset(t *testing.T) {
	e := engine(t)
	tests := []struct {
		department string
		want       []string
	}{
		{department: "", want: []string{"A1", "A11", "A2", "B1"}},
		{department: "A", want: []string{"A1", "A11", "A2"}},
		{department: "A1", want: []string{"A1", "A11"}},
		{department: "A11", want: []string{"A11"}},
		{department: "B", want: []string{"B1"}},
	}
	for _, tc := range tests {
		t.Run("scope "+tc.department, func(t *testing.T) {
			rep, err := scan.Dataset(context.Background(), dataset(t), scan.Options{AsOf: "2025-06-30", Department: tc.department, Engine: e})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, subjects(rep.Violations)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if tc.department == "" && rep.Department != nil {
				t.Errorf("department = %q, want nil", *rep.Department)
			}
			if tc.department != "" && (rep.Department == nil || *rep.Department != tc.department) {
				t.Errorf("department = %v, want %q", rep.Department, tc.department)
			}
			if rep.AsOf != "2025-06-30" || rep.PolicyRevision != e.Revision() || rep.ScanID == "" {
				t.Errorf("as_of %q, revision %q, scan id %q", rep.AsOf, rep.PolicyRevision, rep.ScanID)
			}
			if _, err := time.Parse(time.RFC3339, rep.GeneratedAt); err != nil {
				t.Errorf("generated_at: %v", err)
			}
			if rep.Summary.Violations != len(tc.want) || rep.Summary.ByPolicy["x.all"] != len(tc.want) || rep.Summary.BySeverity["low"] != len(tc.want) {
				t.Errorf("summary %+v does not count %d violations", rep.Summary, len(tc.want))
			}
		})
	}
}

func TestDatasetUnknownDepartment(t *testing.T) {
	_, err := scan.Dataset(context.Background(), dataset(t), scan.Options{AsOf: "2025-06-30", Department: "Z9", Engine: engine(t)})
	if !errors.Is(err, duty.ErrNotFound) || !strings.Contains(err.Error(), `"Z9"`) {
		t.Errorf("scan of an unknown department: %v, want ErrNotFound naming it", err)
	}
}

func TestDatasetNoViolations(t *testing.T) {
	rep, err := scan.Dataset(context.Background(), dataset(t), scan.Options{AsOf: "2025-06-30", Department: "B", Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	rep2, err := scan.Dataset(context.Background(), &duty.Dataset{Docs: map[string][]duty.Doc{}}, scan.Options{AsOf: "2025-06-30", Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Violations == nil || len(rep2.Violations) != 0 || rep2.Summary.Violations != 0 {
		t.Errorf("empty dataset: violations %#v, want [] (never nil)", rep2.Violations)
	}
	if len(rep.Violations) != 1 {
		t.Errorf("scope B: %d violations, want 1", len(rep.Violations))
	}
}

func TestOptionsNormalize(t *testing.T) {
	o := scan.Options{Engine: engine(t)}
	if err := o.Normalize(context.Background()); err != nil {
		t.Fatal(err)
	}
	if today := time.Now().Format(time.DateOnly); o.AsOf != today {
		t.Errorf("default AsOf = %q, want today %q", o.AsOf, today)
	}
	if o.Workers != runtime.GOMAXPROCS(0) {
		t.Errorf("default Workers = %d, want GOMAXPROCS", o.Workers)
	}
	for _, bad := range []string{"2025-02-30", "2025-2-3", "30/06/2025", "today"} {
		o := scan.Options{AsOf: bad, Engine: engine(t)}
		err := o.Normalize(context.Background())
		if !errors.Is(err, duty.ErrInvalid) || !strings.Contains(err.Error(), bad) {
			t.Errorf("Normalize(AsOf %q) = %v, want ErrInvalid naming the date", bad, err)
		}
	}
	o = scan.Options{AsOf: "2025-06-30"}
	if err := o.Normalize(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.Engine == nil || o.Engine.Revision() != policy.Builtin().Revision() {
		t.Errorf("default Engine is not the built-in bundle")
	}
}

func TestScope(t *testing.T) {
	ds := dataset(t)
	organs, tree := duty.Split(ds)
	got, keep, err := scan.Scope(tree, organs, "")
	if err != nil || len(got) != 2 || keep != nil {
		t.Errorf("Scope(\"\") = %d organs, keep %v, %v; want both organs, nil", len(got), keep, err)
	}
	got, keep, err = scan.Scope(tree, organs, "A1")
	if err != nil || len(got) != 1 || got[0].ID != "A" {
		t.Fatalf("Scope(A1) = %v, %v; want organ A", got, err)
	}
	if diff := cmp.Diff(map[string]bool{"A1": true, "A11": true}, keep); diff != "" {
		t.Errorf("Scope(A1) keeps (-want +got):\n%s", diff)
	}
	vs := []duty.Violation{{Department: "A"}, {Department: "A1"}, {Department: "A11"}, {Department: "B1"}}
	if diff := cmp.Diff([]duty.Violation{{Department: "A1"}, {Department: "A11"}}, scan.FilterScope(vs, keep)); diff != "" {
		t.Errorf("FilterScope (-want +got):\n%s", diff)
	}
	if got := scan.FilterScope(vs, nil); len(got) != 4 {
		t.Errorf("FilterScope(nil) kept %d, want all 4", len(got))
	}
	if len(vs) != 4 || vs[0].Department != "A" {
		t.Errorf("FilterScope changed its input: %v", vs)
	}
}

func TestScanDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "departments.json"), []byte(departments), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := scan.ScanDir(context.Background(), dir, scan.Options{AsOf: "2025-06-30", Engine: engine(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Violations) != 4 {
		t.Errorf("%d violations, want 4", len(rep.Violations))
	}
	if err := os.WriteFile(filepath.Join(dir, "people.json"), []byte(`[{"id": 1}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = scan.ScanDir(context.Background(), dir, scan.Options{AsOf: "2025-06-30", Engine: engine(t)})
	if !errors.Is(err, duty.ErrInvalid) {
		t.Errorf("ScanDir of an invalid dataset: %v, want ErrInvalid", err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 100 {
		id := scan.NewID()
		if seen[id] {
			t.Fatalf("NewID repeated %s", id)
		}
		seen[id] = true
		if id < prev[:min(len(prev), 22)] {
			t.Errorf("NewID %s sorts before the earlier %s", id, prev)
		}
		prev = id
	}
}
