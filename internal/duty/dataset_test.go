package duty_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// load validates files (file name → JSON array text) as one dataset, the way LoadDir does after
// reading them, and returns the dataset or, when it is refused, its problems.
func load(tb testing.TB, files map[string]string) (*duty.Dataset, []duty.Problem) {
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
	if err == nil {
		return ds, nil
	}
	var ve *duty.ValidationError
	if !errors.As(err, &ve) {
		tb.Fatalf("NewDataset: %v, want a *duty.ValidationError", err)
	}
	if !errors.Is(err, duty.ErrInvalid) {
		tb.Errorf("NewDataset error does not match duty.ErrInvalid")
	}
	if ds != nil {
		tb.Errorf("NewDataset returned a dataset with its error")
	}
	return nil, ve.Problems
}

// mustLoad is load for datasets that must validate.
func mustLoad(tb testing.TB, files map[string]string) *duty.Dataset {
	tb.Helper()
	ds, probs := load(tb, files)
	if len(probs) > 0 {
		tb.Fatalf("test dataset refused: %v", &duty.ValidationError{Problems: probs})
	}
	return ds
}

// writeDir writes files into a new temporary folder and returns it.
func writeDir(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// ids returns the ids of docs in order.
func ids(docs []duty.Doc) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.ID())
	}
	return out
}

// noDepartments is the problem of a dataset folder without departments.json.
const noDepartments = "is missing: a dataset folder needs its departments (at least the organ), so this folder would check nothing; is it the right folder?"

func TestLoadDir(t *testing.T) {
	allCollections := "departments.json, people.json, appointments.json, talks.json, letters.json, record_books.json, suggestions.json, meetings.json, responsibility_lists.json, integrity_files.json"
	tests := []struct {
		name  string
		files map[string]string
		want  []duty.Problem // nil: the folder loads
		count int
	}{
		{name: "empty folder checks nothing: refused",
			files: map[string]string{},
			want:  []duty.Problem{{File: "departments.json", Index: -1, Message: noDepartments}}},
		{name: "wrong folder: refused",
			files: map[string]string{"README.md": "# 数据", "main.go": "package main"},
			want:  []duty.Problem{{File: "departments.json", Index: -1, Message: noDepartments}}},
		{name: "records without departments: refused",
			files: map[string]string{"meetings.json": "[]"},
			want:  []duty.Problem{{File: "departments.json", Index: -1, Message: noDepartments}}},
		{name: "no department in departments.json: refused",
			files: map[string]string{"departments.json": "[]"},
			want:  []duty.Problem{{File: "departments.json", Index: -1, Message: "holds no department: a dataset needs at least its organ, so an empty one would check nothing"}}},
		{name: "broken departments.json is one problem",
			files: map[string]string{"departments.json": "["},
			want:  []duty.Problem{{File: "departments.json", Index: -1, Message: "line 1, column 1: invalid JSON: unexpected end of JSON input"}}},
		{name: "missing files are empty collections", files: withBase(nil), count: 5},
		{name: "other files are ignored", files: withBase(map[string]string{"README.md": "# 数据", "notes.txt": "[", "people.json.bak": "x"}), count: 5},
		{name: "upper-case extension",
			files: withBase(map[string]string{"talks.JSON": `[]`}),
			want:  []duty.Problem{{File: "talks.JSON", Index: -1, Message: "is not read: the file of collection talks must be named exactly talks.json (lower case)"}}},
		{name: "upper-case name",
			files: withBase(map[string]string{"Talks.json": `[]`, "MEETINGS.Json": `[]`}),
			want: []duty.Problem{
				{File: "MEETINGS.Json", Index: -1, Message: "is not read: the file of collection meetings must be named exactly meetings.json (lower case)"},
				{File: "Talks.json", Index: -1, Message: "is not read: the file of collection talks must be named exactly talks.json (lower case)"},
			}},
		{name: "unknown collection file in upper case",
			files: withBase(map[string]string{"STAFF.JSON": `[]`}),
			want:  []duty.Problem{{File: "STAFF.JSON", Index: -1, Message: "is not a collection of DOMAIN.md (expected one of " + allCollections + ")"}}},
		{name: "unknown collection file",
			files: withBase(map[string]string{"staff.json": `[]`}),
			want:  []duty.Problem{{File: "staff.json", Index: -1, Message: "is not a collection of DOMAIN.md (expected one of " + allCollections + ")"}}},
		{name: "broken JSON names line and column",
			files: withBase(map[string]string{"talks.json": "[\n  {\"id\": \"T1\", \"kind\": \"general\",\n   \"person_id\": \"P1\" \"held_on\": \"2025-01-05\"}\n]"}),
			want:  []duty.Problem{{File: "talks.json", Index: -1, Message: "line 3, column 22: invalid JSON: invalid character '\"' after object key:value pair"}}},
		{name: "not an array",
			files: withBase(map[string]string{"meetings.json": `{"id": "M1", "kind": "joint", "department_id": "DIV", "held_on": "2025-01-05"}`}),
			want:  []duty.Problem{{File: "meetings.json", Index: -1, Message: "line 1, column 1: expected a JSON array of documents"}}},
		{name: "every file problem at once",
			files: withBase(map[string]string{
				"staff.json":    `[]`,
				"meetings.json": `{}`,
				"talks.json":    `[`,
			}),
			want: []duty.Problem{
				{File: "staff.json", Index: -1, Message: "is not a collection of DOMAIN.md (expected one of " + allCollections + ")"},
				{File: "talks.json", Index: -1, Message: "line 1, column 1: invalid JSON: unexpected end of JSON input"},
				{File: "meetings.json", Index: -1, Message: "line 1, column 1: expected a JSON array of documents"},
			}},
		{name: "invalid documents",
			files: withBase(map[string]string{"meetings.json": "[\n" + `{"id": "M1", "kind": "joint", "department_id": "DIV", "held_on": "2025-01-05", "room": "101"}` + "\n]"}),
			want:  []duty.Problem{{File: "meetings.json", Line: 2, Index: 0, ID: "M1", Field: "room", Message: "is not a field of this record (expected one of id, kind, department_id, held_on)"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := duty.LoadDir(writeDir(t, tc.files))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("LoadDir: %v", err)
				}
				if got := ds.Count(); got != tc.count {
					t.Errorf("Count() = %d, want %d", got, tc.count)
				}
				return
			}
			var ve *duty.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, duty.ErrInvalid) {
				t.Fatalf("LoadDir: %v, want a *duty.ValidationError matching ErrInvalid", err)
			}
			if diff := cmp.Diff(tc.want, ve.Problems, noKind); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadDirMessages(t *testing.T) {
	// The messages users read for file-level problems.
	dir := writeDir(t, withBase(map[string]string{
		"people.json": "[\n  {\"id\": \"P1\", \"name\": \"Zhang\",,\n]",
	}))
	_, err := duty.LoadDir(dir)
	want := `people.json: line 2, column 32: invalid JSON: invalid character ',' looking for beginning of object key string`
	if got := errString(err); got != want {
		t.Errorf("error = %q\nwant    %q", got, want)
	}
}

func TestLoadDirMissingFolder(t *testing.T) {
	_, err := duty.LoadDir(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, duty.ErrInvalid) {
		t.Errorf("LoadDir of a missing folder: %v, want ErrInvalid", err)
	}
	if !strings.Contains(errString(err), "nope") {
		t.Errorf("error %q does not name the folder", errString(err))
	}
}

func TestLoadDirKeepsOrderAndTypes(t *testing.T) {
	dir := writeDir(t, withBase(map[string]string{
		"letters.json": `[
{"id": "L2", "year": 2025, "level": 3, "issuer_id": "P1", "signer_id": "P2", "signed_by_issuer": true, "signed_by_signer": false},
{"id": "L1", "year": 2025, "level": 2, "issuer_id": "P1", "signer_id": "P2", "signed_on": null, "signed_by_issuer": true, "signed_by_signer": true}
]`,
	}))
	ds, err := duty.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ORG", "DIV", "BR"}, ids(ds.Docs["departments"])); diff != "" {
		t.Errorf("department order (-want +got):\n%s", diff)
	}
	want := []duty.Doc{
		{"id": "L2", "year": int64(2025), "level": int64(3), "issuer_id": "P1", "signer_id": "P2", "signed_by_issuer": true, "signed_by_signer": false},
		{"id": "L1", "year": int64(2025), "level": int64(2), "issuer_id": "P1", "signer_id": "P2", "signed_by_issuer": true, "signed_by_signer": true},
	}
	if diff := cmp.Diff(want, ds.Docs["letters"]); diff != "" {
		t.Errorf("letters (-want +got):\n%s", diff)
	}
	if len(ds.Docs["talks"]) != 0 {
		t.Errorf("talks = %v, want none", ds.Docs["talks"])
	}
}

func TestTree(t *testing.T) {
	ds := mustLoad(t, map[string]string{"departments.json": `[
{"id": "A", "name": "机关甲", "kind": "organ"},
{"id": "A1", "name": "办公厅", "kind": "office", "parent_id": "A"},
{"id": "A11", "name": "秘书处", "kind": "division", "parent_id": "A1"},
{"id": "A111", "name": "秘书处党支部", "kind": "branch", "parent_id": "A11"},
{"id": "A2", "name": "机关纪委", "kind": "discipline_committee", "parent_id": "A"},
{"id": "B", "name": "机关乙", "kind": "organ"},
{"id": "B1", "name": "研究室", "kind": "office", "parent_id": "B"}
]`})
	tree := duty.NewTree(ds.Docs["departments"])
	if diff := cmp.Diff([]string{"A", "B"}, tree.Organs()); diff != "" {
		t.Errorf("Organs (-want +got):\n%s", diff)
	}
	for id, want := range map[string]string{"A": "A", "A1": "A", "A111": "A", "A2": "A", "B": "B", "B1": "B", "Z": ""} {
		if got := tree.Organ(id); got != want {
			t.Errorf("Organ(%q) = %q, want %q", id, got, want)
		}
	}
	subtrees := []struct {
		id   string
		want map[string]bool
	}{
		{"A", map[string]bool{"A": true, "A1": true, "A11": true, "A111": true, "A2": true}},
		{"A1", map[string]bool{"A1": true, "A11": true, "A111": true}},
		{"A111", map[string]bool{"A111": true}},
		{"B", map[string]bool{"B": true, "B1": true}},
		{"Z", map[string]bool{}},
	}
	for _, tc := range subtrees {
		if diff := cmp.Diff(tc.want, tree.Subtree(tc.id)); diff != "" {
			t.Errorf("Subtree(%q) (-want +got):\n%s", tc.id, diff)
		}
	}
	if got := tree.Department("A11").Str("name"); got != "秘书处" {
		t.Errorf("Department(A11).name = %q", got)
	}
	if got := tree.Department("Z"); got != nil {
		t.Errorf("Department(Z) = %v, want nil", got)
	}
	if got := tree.Cycles(); len(got) != 0 {
		t.Errorf("Cycles() = %v, want none", got)
	}
	for id, want := range map[string][]string{"A111": {"", "A111", "A11", "A1", "A"}, "B": {"", "B"}, "Z": {""}, "": {""}} {
		if diff := cmp.Diff(want, tree.Covering(id)); diff != "" {
			t.Errorf("Covering(%q) (-want +got):\n%s", id, diff)
		}
	}
}

func TestTreeCycles(t *testing.T) {
	dept := func(id, parent string) duty.Doc {
		d := duty.Doc{"id": id, "name": id, "kind": "division"}
		if parent == "" {
			d["kind"] = "organ"
		} else {
			d["parent_id"] = parent
		}
		return d
	}
	tests := []struct {
		name   string
		depts  []duty.Doc
		cycles []string
		organs []string
	}{
		{name: "none", depts: []duty.Doc{dept("A", ""), dept("A1", "A")}, organs: []string{"A"}},
		{name: "self", depts: []duty.Doc{dept("A", ""), dept("X", "X")}, cycles: []string{"X"}, organs: []string{"A"}},
		{name: "two", depts: []duty.Doc{dept("A", ""), dept("X", "Y"), dept("Y", "X")}, cycles: []string{"X", "Y"}, organs: []string{"A"}},
		{name: "three with a tail", depts: []duty.Doc{dept("A", ""), dept("X", "Z"), dept("Y", "X"), dept("Z", "Y"), dept("T", "X")},
			cycles: []string{"X", "Y", "Z"}, organs: []string{"A"}},
		{name: "missing parent is not a cycle", depts: []duty.Doc{dept("A", ""), dept("X", "GONE"), dept("Y", "X")}, organs: []string{"A"}},
		{name: "organ in a cycle", depts: []duty.Doc{{"id": "A", "kind": "organ", "parent_id": "B"}, dept("B", "A")}, cycles: []string{"A", "B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := duty.NewTree(tc.depts)
			if diff := cmp.Diff(tc.cycles, tree.Cycles()); diff != "" {
				t.Errorf("Cycles (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.organs, tree.Organs()); diff != "" {
				t.Errorf("Organs (-want +got):\n%s", diff)
			}
			for _, id := range tc.cycles {
				if o := tree.Organ(id); o != "" {
					t.Errorf("Organ(%q) = %q, want none for a department in a cycle", id, o)
				}
				// Each department of the cycle once, the department first: the walk ends.
				if c := tree.Covering(id); len(c) != len(tc.cycles)+1 || c[1] != id {
					t.Errorf("Covering(%q) = %q, want \"\", %q and the rest of its cycle once each", id, c, id)
				}
			}
		})
	}
}

// TestLatestDate: the latest date a record is dated by (effective_on, held_on, issued_on, an
// entry's or inspection's date, a major matter's event_on); deadlines and departures do not
// count.
func TestLatestDate(t *testing.T) {
	raw, err := duty.ReadDir(filepath.Join("..", "..", "fixtures", "sample"))
	if err != nil {
		t.Fatal(err)
	}
	if got := duty.LatestDate(raw); got != "2025-12-31" {
		t.Errorf("LatestDate(fixtures/sample) = %q, want 2025-12-31", got)
	}
	for _, tc := range []struct {
		note string
		docs map[string][]map[string]any
		want string
	}{
		{"nothing dated", map[string][]map[string]any{"departments": {{"id": "O"}}}, ""},
		{"a talk", map[string][]map[string]any{"talks": {{"held_on": "2025-03-01"}, {"held_on": "2024-12-01"}}}, "2025-03-01"},
		{"an entry of a book after its issue", map[string][]map[string]any{"record_books": {{"issued_on": "2025-01-10",
			"entries": []any{map[string]any{"date": "2025-05-02"}}, "tasks": []any{map[string]any{"due_on": "2025-12-31"}}}}}, "2025-05-02"},
		{"a major matter", map[string][]map[string]any{"integrity_files": {{"updated_on": "2025-08-01",
			"major_matters": []any{map[string]any{"event_on": "2025-06-01", "reported_on": "2025-09-01"}}}}}, "2025-06-01"},
		{"deadlines and departures do not count", map[string][]map[string]any{
			"suggestions": {{"issued_on": "2025-02-01", "items": []any{map[string]any{"due_on": "2026-03-01"}}}},
			"people":      {{"left_on": "2027-01-01"}}}, "2025-02-01"},
		{"not a date", map[string][]map[string]any{"meetings": {{"held_on": "2025-13-01"}, {"held_on": 20250101}}}, ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := duty.LatestDate(duty.RawDocs(tc.docs)); got != tc.want {
				t.Errorf("LatestDate = %q, want %q", got, tc.want)
			}
		})
	}
}
