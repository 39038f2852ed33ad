package duty_test

import (
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

func TestOrganLevel(t *testing.T) {
	kinds := map[string]string{"ORG-1": "organ", "DC": "discipline_committee", "DIV": "division"}
	kind := func(id string) string { return kinds[id] }
	for _, tc := range []struct {
		note, coll string
		doc        duty.Doc
		want       string // the field, "" when the record is of a department's own duties
	}{
		{"secretary role", "people", duty.Doc{"id": "P", "rank": "division", "roles": []any{"department_head", "party_group_secretary"}}, "roles"},
		{"member role", "people", duty.Doc{"id": "P", "rank": "staff", "roles": []any{"party_group_member"}}, "roles"},
		{"bureau rank", "people", duty.Doc{"id": "P", "rank": "bureau", "roles": []any{}}, "rank"},
		{"department head", "people", duty.Doc{"id": "P", "rank": "division", "roles": []any{"department_head", "discipline_member"}}, ""},
		{"annual conduct meeting", "meetings", duty.Doc{"id": "M", "kind": "annual_conduct", "department_id": "DIV"}, "kind"},
		{"joint meeting of the committee", "meetings", duty.Doc{"id": "M", "kind": "joint", "department_id": "DC"}, "kind"},
		{"joint meeting elsewhere", "meetings", duty.Doc{"id": "M", "kind": "joint", "department_id": "DIV"}, ""},
		{"other meeting", "meetings", duty.Doc{"id": "M", "kind": "处务会", "department_id": "DIV"}, ""},
		{"party group list", "responsibility_lists", duty.Doc{"id": "L", "level": "party_group"}, "level"},
		{"leaders list", "responsibility_lists", duty.Doc{"id": "L", "level": "leaders"}, "level"},
		{"department heads list", "responsibility_lists", duty.Doc{"id": "L", "level": "department_heads"}, ""},
		{"special committee list", "responsibility_lists", duty.Doc{"id": "L", "level": "special_committee"}, ""},
		{"level 1 letter", "letters", duty.Doc{"id": "X", "level": int64(1)}, "level"},
		{"level 3 letter", "letters", duty.Doc{"id": "X", "level": int64(3)}, ""},
		{"discipline committee", "departments", duty.Doc{"id": "D", "kind": "discipline_committee"}, "kind"},
		{"division", "departments", duty.Doc{"id": "D", "kind": "division"}, ""},
		{"talk", "talks", duty.Doc{"id": "T", "kind": "general"}, ""},
		{"absent", "meetings", nil, ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			field, why := duty.OrganLevel(tc.coll, tc.doc, kind)
			if field != tc.want || (why == "") != (tc.want == "") {
				t.Errorf("OrganLevel = %q, %q; want field %q", field, why, tc.want)
			}
		})
	}
}

// reachTree is an organ A with a division A1 (a person P1 in it) and a discipline committee
// A2, and an organ B.
func reachTree() *duty.Tree {
	return duty.NewTree([]duty.Doc{
		{"id": "A", "kind": "organ"}, {"id": "A1", "kind": "division", "parent_id": "A"},
		{"id": "A11", "kind": "branch", "parent_id": "A1"},
		{"id": "A2", "kind": "discipline_committee", "parent_id": "A"}, {"id": "B", "kind": "organ"},
	})
}

// TestLatestFor: the report shown for a department is the latest of those covering it (the
// whole store's, its own or an ancestor's), by as-of date, then finish time, then scan id.
func TestLatestFor(t *testing.T) {
	tree := reachTree()
	latest := map[string]duty.LatestReport{
		"":   {Scope: "", ScanID: "s1", AsOf: "2026-01-01", FinishedAt: "t1"},
		"A":  {Scope: "A", ScanID: "s2", AsOf: "2026-02-01", FinishedAt: "t1"},
		"A1": {Scope: "A1", ScanID: "s3", AsOf: "2026-02-01", FinishedAt: "t2"},
		"A2": {Scope: "A2", ScanID: "s4", AsOf: "2026-03-01", FinishedAt: "t0"},
		"B":  {Scope: "B", ScanID: "s5", AsOf: "2026-02-01", FinishedAt: "t1"},
	}
	for _, tc := range []struct {
		dept, want string // want: the scan, "" for none
		latest     map[string]duty.LatestReport
	}{
		{"A11", "s3", latest}, // A1's: the same date as A's, finished later
		{"A1", "s3", latest},
		{"A", "s2", latest}, // not A2's: it does not cover A
		{"A2", "s4", latest},
		{"B", "s5", latest},
		{"GONE", "s1", latest}, // the whole store's covers every department
		{"A11", "", map[string]duty.LatestReport{"B": latest["B"]}},
		{"A", "s7", map[string]duty.LatestReport{"": {ScanID: "s6", AsOf: "2026-02-01", FinishedAt: "t1"}, "A": {ScanID: "s7", AsOf: "2026-02-01", FinishedAt: "t1"}}},
	} {
		l, ok := duty.LatestFor(tc.latest, tree, tc.dept)
		if ok != (tc.want != "") || l.ScanID != tc.want {
			t.Errorf("LatestFor(%q) = %q, %v; want %q", tc.dept, l.ScanID, ok, tc.want)
		}
	}
}
