package duty_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

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

// TestReach: a department user sees its subtree and nothing without a department; the others
// the whole tree, without a person's department being asked for.
func TestReach(t *testing.T) {
	tree := reachTree()
	dept := duty.Principal{User: "d", Role: duty.RoleDepartment, Department: "A1"}
	people := map[string]duty.Doc{
		"P1": {"id": "P1", "department_id": "A11", "rank": "division"},
		"P2": {"id": "P2", "department_id": "A2", "rank": "division"},
		"L":  {"id": "L", "department_id": "A11", "rank": "bureau"},
	}
	personDept := func(id string) string { return people[id].Str("department_id") }
	for _, tc := range []struct {
		note, coll string
		doc        duty.Doc
		// in: inside A1's subtree; change: a department user of A1 may change it.
		in, change bool
	}{
		{"own department", "departments", duty.Doc{"id": "A11", "kind": "branch"}, true, true},
		{"another department", "departments", duty.Doc{"id": "A2", "kind": "division"}, false, false},
		{"person inside", "people", people["P1"], true, true},
		{"person outside", "people", people["P2"], false, false},
		{"leader inside", "people", people["L"], true, false},
		{"talk with a person inside", "talks", duty.Doc{"id": "T", "person_id": "P1"}, true, true},
		{"talk with a person outside", "talks", duty.Doc{"id": "T", "person_id": "P2"}, false, false},
		{"talk with a leader", "talks", duty.Doc{"id": "T", "person_id": "L"}, true, false},
		{"meeting inside", "meetings", duty.Doc{"id": "M", "kind": "branch", "department_id": "A1"}, true, true},
		{"annual conduct meeting inside", "meetings", duty.Doc{"id": "M", "kind": "annual_conduct", "department_id": "A1"}, true, false},
		{"no department", "talks", duty.Doc{"id": "T"}, false, false},
	} {
		t.Run(tc.note, func(t *testing.T) {
			r := duty.ReachOf(dept, tree)
			if got := r.Record(tc.coll, tc.doc, personDept); got != tc.in {
				t.Errorf("department user: Record = %v, want %v", got, tc.in)
			}
			if got := r.MayChange(tc.coll, tc.doc, people); got != tc.change {
				t.Errorf("department user: MayChange = %v, want %v", got, tc.change)
			}
			whole := duty.ReachOf(duty.Principal{User: "i", Role: duty.RoleInspector, Department: "A1"}, tree)
			asked := func(string) string { t.Fatal("the whole tree asked for a person's department"); return "" }
			if !whole.Record(tc.coll, tc.doc, asked) || !whole.MayChange(tc.coll, tc.doc, nil) {
				t.Errorf("inspector: Record or MayChange false, want true")
			}
		})
	}
	r := duty.ReachOf(dept, tree)
	for id, want := range map[string]bool{"A1": true, "A11": true, "A": false, "A2": false, "B": false, "": false, "GONE": false} {
		if got := r.Department(id); got != want {
			t.Errorf("department user: Department(%q) = %v, want %v", id, got, want)
		}
	}
	if r.Whole() || !duty.ReachOf(duty.Principal{Role: duty.RoleAdmin}, tree).Whole() {
		t.Errorf("Whole: a department user's reach is whole, or an admin's is not")
	}
	if diff := cmp.Diff([]string{"A1"}, r.Roots()); diff != "" {
		t.Errorf("department user: Roots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A"}, r.Organs()); diff != "" {
		t.Errorf("department user: Organs (-want +got):\n%s", diff)
	}
	admin := duty.ReachOf(duty.Principal{Role: duty.RoleAdmin}, tree)
	if diff := cmp.Diff([]string{"A", "B"}, admin.Roots()); diff != "" {
		t.Errorf("admin: Roots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A", "B"}, admin.Organs()); diff != "" {
		t.Errorf("admin: Organs (-want +got):\n%s", diff)
	}
	if !admin.Department("GONE") {
		t.Errorf("admin: Department(GONE) = false, want true (the whole tree)")
	}
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
