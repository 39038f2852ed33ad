package duty_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// twoOrgans is a dataset of organs A and B with a record of every collection in each, and
// records that refer across the two organs: each must land in the organ of the reference
// DOMAIN.md places it by.
var twoOrgans = map[string]string{
	"departments.json": `[
{"id": "A", "name": "机关甲", "kind": "organ"},
{"id": "A1", "name": "办公厅", "kind": "office", "parent_id": "A"},
{"id": "A2", "name": "办公厅党支部", "kind": "branch", "parent_id": "A1", "discipline_member_id": "PA2"},
{"id": "B", "name": "机关乙", "kind": "organ"},
{"id": "B1", "name": "研究室", "kind": "division", "parent_id": "B"}
]`,
	"people.json": `[
{"id": "PA1", "name": "甲一", "department_id": "A1", "rank": "division", "roles": ["department_head"], "active": true},
{"id": "PA2", "name": "甲二", "department_id": "A2", "rank": "staff", "roles": ["discipline_member"], "active": true},
{"id": "PB1", "name": "乙一", "department_id": "B1", "rank": "bureau", "roles": ["party_group_member"], "supervises": ["B1"], "active": true},
{"id": "PB2", "name": "乙二", "department_id": "B", "rank": "bureau", "roles": ["party_group_secretary"], "active": true}
]`,
	"appointments.json": `[
{"id": "AP-A", "person_id": "PA1", "department_id": "A1", "position": "处长", "rank": "division", "effective_on": "2025-01-10"},
{"id": "AP-X", "person_id": "PA1", "department_id": "B1", "position": "主任", "rank": "division", "effective_on": "2025-02-10"},
{"id": "AP-B", "person_id": "PB1", "department_id": "B1", "position": "主任", "rank": "bureau", "effective_on": "2025-01-10"}
]`,
	"talks.json": `[
{"id": "T-A", "kind": "pre_appointment", "person_id": "PA1", "conducted_by": "PB1", "held_on": "2025-01-05"},
{"id": "T-B", "kind": "general", "person_id": "PB2", "held_on": "2025-01-05"}
]`,
	"letters.json": `[
{"id": "L-A", "year": 2025, "level": 2, "issuer_id": "PB1", "signer_id": "PA1", "signed_on": "2025-03-01", "signed_by_issuer": true, "signed_by_signer": true},
{"id": "L-B", "year": 2025, "level": 1, "issuer_id": "PA1", "signer_id": "PB2", "signed_by_issuer": false, "signed_by_signer": false}
]`,
	"record_books.json": `[
{"id": "RB-A", "year": 2025, "holder_id": "PA2", "issued_on": "2025-01-05", "tasks": [], "entries": [], "inspections": [{"date": "2025-03-01", "inspector_id": "PB1"}]},
{"id": "RB-B", "year": 2025, "holder_id": "PB1", "issued_on": "2025-01-05", "tasks": [], "entries": [], "inspections": []}
]`,
	"suggestions.json": `[
{"id": "S-A", "department_id": "A2", "issued_on": "2025-01-05", "items": []},
{"id": "S-B", "department_id": "B", "issued_on": "2025-01-05", "items": []}
]`,
	"meetings.json": `[
{"id": "M-A", "kind": "annual_conduct", "department_id": "A", "held_on": "2025-02-01"},
{"id": "M-B", "kind": "joint", "department_id": "B1", "held_on": "2025-02-01"}
]`,
	"responsibility_lists.json": `[
{"id": "R-A", "year": 2025, "level": "department_heads", "department_id": "A1", "holder_id": "PB1", "items": ["a"]},
{"id": "R-B", "year": 2025, "level": "leaders", "department_id": "B", "holder_id": "PA1", "items": ["b"]}
]`,
	"integrity_files.json": `[
{"id": "F-A", "person_id": "PA2", "updated_on": "2025-01-05", "major_matters": []},
{"id": "F-B", "person_id": "PB1", "updated_on": "2025-01-05", "major_matters": []}
]`,
}

// organIDs lists each organ's records as collection → ids.
func organIDs(o *duty.Organ) map[string][]string {
	out := map[string][]string{}
	for c, docs := range o.Docs {
		if len(docs) > 0 {
			out[c] = ids(docs)
		}
	}
	return out
}

func TestSplit(t *testing.T) {
	organs, tree := duty.Split(mustLoad(t, twoOrgans))
	got := map[string]map[string][]string{}
	var order []string
	for _, o := range organs {
		order = append(order, o.ID)
		got[o.ID] = organIDs(o)
	}
	if diff := cmp.Diff([]string{"A", "B"}, order); diff != "" {
		t.Errorf("organ order (-want +got):\n%s", diff)
	}
	want := map[string]map[string][]string{
		"A": {
			"departments":          {"A", "A1", "A2"}, // by their root
			"people":               {"PA1", "PA2"},    // by their department
			"appointments":         {"AP-A", "AP-X"},  // by person, even with a department of B
			"talks":                {"T-A"},           // by person, not by who conducted it
			"letters":              {"L-A"},           // by signer, not by issuer
			"record_books":         {"RB-A"},          // by holder, not by inspector
			"suggestions":          {"S-A"},           // by department
			"meetings":             {"M-A"},           // by department
			"responsibility_lists": {"R-A"},           // by department, not by holder
			"integrity_files":      {"F-A"},           // by person
		},
		"B": {
			"departments":          {"B", "B1"},
			"people":               {"PB1", "PB2"},
			"appointments":         {"AP-B"},
			"talks":                {"T-B"},
			"letters":              {"L-B"},
			"record_books":         {"RB-B"},
			"suggestions":          {"S-B"},
			"meetings":             {"M-B"},
			"responsibility_lists": {"R-B"},
			"integrity_files":      {"F-B"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("organ membership (-want +got):\n%s", diff)
	}
	if tree.Organ("A2") != "A" || tree.Organ("B1") != "B" {
		t.Errorf("tree: Organ(A2) = %q, Organ(B1) = %q", tree.Organ("A2"), tree.Organ("B1"))
	}
}

func TestSplitOrganWithoutRecords(t *testing.T) {
	organs, _ := duty.Split(mustLoad(t, map[string]string{"departments.json": `[
{"id": "Z", "name": "机关", "kind": "organ"},
{"id": "Y", "name": "机关", "kind": "organ"}
]`}))
	var got []string
	for _, o := range organs {
		got = append(got, o.ID)
		if diff := cmp.Diff(map[string][]string{"departments": {o.ID}}, organIDs(o)); diff != "" {
			t.Errorf("organ %s (-want +got):\n%s", o.ID, diff)
		}
	}
	if diff := cmp.Diff([]string{"Y", "Z"}, got); diff != "" {
		t.Errorf("organs (-want +got):\n%s", diff)
	}

	organs, _ = duty.Split(mustLoad(t, map[string]string{}))
	if len(organs) != 0 {
		t.Errorf("Split of an empty dataset = %d organs, want 0", len(organs))
	}
}

func TestOrganOf(t *testing.T) {
	dept := map[string]string{"D1": "ORG-D"}
	person := map[string]string{"P1": "ORG-P"}
	tests := []struct {
		collection string
		doc        duty.Doc
		want       string
	}{
		{"departments", duty.Doc{"id": "D1", "parent_id": "X"}, "ORG-D"},
		{"people", duty.Doc{"id": "P1", "department_id": "D1"}, "ORG-D"},
		{"appointments", duty.Doc{"id": "x", "person_id": "P1", "department_id": "D1"}, "ORG-P"},
		{"talks", duty.Doc{"id": "x", "person_id": "P1", "conducted_by": "P9"}, "ORG-P"},
		{"letters", duty.Doc{"id": "x", "issuer_id": "P9", "signer_id": "P1"}, "ORG-P"},
		{"record_books", duty.Doc{"id": "x", "holder_id": "P1"}, "ORG-P"},
		{"suggestions", duty.Doc{"id": "x", "department_id": "D1"}, "ORG-D"},
		{"meetings", duty.Doc{"id": "x", "department_id": "D1"}, "ORG-D"},
		{"responsibility_lists", duty.Doc{"id": "x", "department_id": "D1", "holder_id": "P9"}, "ORG-D"},
		{"integrity_files", duty.Doc{"id": "x", "person_id": "P1"}, "ORG-P"},
		{"meetings", duty.Doc{"id": "x", "department_id": "D9"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.collection, func(t *testing.T) {
			got := duty.OrganOf(duty.Lookup(tc.collection), tc.doc,
				func(id string) string { return dept[id] }, func(id string) string { return person[id] })
			if got != tc.want {
				t.Errorf("OrganOf(%s %v) = %q, want %q", tc.collection, tc.doc, got, tc.want)
			}
		})
	}
}

// datedOrgan is one organ with records on both sides of 2025-06-30, in every dated collection.
var datedOrgan = map[string]string{
	"departments.json": `[{"id": "ORG", "name": "机关", "kind": "organ"}, {"id": "D1", "name": "处", "kind": "division", "parent_id": "ORG"}]`,
	"people.json": `[
{"id": "P1", "name": "张三", "department_id": "D1", "rank": "division", "roles": [], "active": true, "left_on": "2025-09-01"},
{"id": "P2", "name": "李四", "department_id": "D1", "rank": "staff", "roles": [], "active": true}
]`,
	"appointments.json": `[
{"id": "AP-ON", "person_id": "P1", "department_id": "D1", "position": "处长", "rank": "division", "effective_on": "2025-06-30"},
{"id": "AP-AFTER", "person_id": "P1", "department_id": "D1", "position": "处长", "rank": "division", "effective_on": "2025-07-01"}
]`,
	"talks.json": `[
{"id": "T-AFTER", "kind": "general", "person_id": "P1", "held_on": "2026-01-01"},
{"id": "T-BEFORE", "kind": "general", "person_id": "P1", "held_on": "2024-12-31"}
]`,
	"letters.json": `[{"id": "L1", "year": 2025, "level": 3, "issuer_id": "P1", "signer_id": "P2", "signed_on": "2025-08-01", "signed_by_issuer": true, "signed_by_signer": true}]`,
	"record_books.json": `[
{"id": "RB-ON", "year": 2025, "holder_id": "P1", "issued_on": "2025-06-30",
 "tasks": [{"id": "T1", "title": "学习", "due_on": "2025-12-31"}],
 "entries": [{"date": "2025-06-30", "task_id": "T1", "content": "a"}, {"date": "2025-07-01", "content": "b"}, {"date": "2025-01-02", "content": "c"}],
 "inspections": [{"date": "2025-07-15", "inspector_id": "P2"}, {"date": "2025-06-01", "inspector_id": "P2"}]},
{"id": "RB-AFTER", "year": 2025, "holder_id": "P2", "issued_on": "2025-07-01", "tasks": [], "entries": [], "inspections": []}
]`,
	"suggestions.json": `[
{"id": "S-BEFORE", "department_id": "D1", "issued_on": "2025-03-01", "items": [{"id": "I1", "text": "a", "due_on": "2025-09-01", "status": "closed", "closed_on": "2025-08-01", "evidence": "e"}]},
{"id": "S-AFTER", "department_id": "D1", "issued_on": "2025-07-01", "items": []}
]`,
	"meetings.json": `[
{"id": "M-ON", "kind": "joint", "department_id": "D1", "held_on": "2025-06-30"},
{"id": "M-AFTER", "kind": "joint", "department_id": "D1", "held_on": "2025-07-01"}
]`,
	"responsibility_lists.json": `[{"id": "R1", "year": 2026, "level": "party_group", "department_id": "ORG", "items": []}]`,
	"integrity_files.json": `[
{"id": "F1", "person_id": "P1", "updated_on": "2025-08-01",
 "major_matters": [{"id": "MM-AFTER", "kind": "出国", "event_on": "2025-07-01"}, {"id": "MM-ON", "kind": "婚姻", "event_on": "2025-06-30", "reported_on": "2025-07-05"}]}
]`,
}

// deepCopy copies the JSON-like values of documents.
func deepCopy(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case duty.Doc:
		return duty.Doc(deepCopy(map[string]any(v)).(map[string]any))
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	case []duty.Doc:
		out := make([]duty.Doc, len(v))
		for i, e := range v {
			out[i] = deepCopy(e).(duty.Doc)
		}
		return out
	case map[string][]duty.Doc:
		out := make(map[string][]duty.Doc, len(v))
		for k, e := range v {
			out[k] = deepCopy(e).([]duty.Doc)
		}
		return out
	}
	return x
}

// nestedIDs returns, for an array field of doc, each element's id or, lacking one, its date.
func nestedIDs(doc duty.Doc, field string) []string {
	var out []string
	arr, _ := doc[field].([]any)
	for _, e := range arr {
		m := e.(map[string]any)
		switch {
		case m["id"] != nil:
			out = append(out, m["id"].(string))
		default:
			out = append(out, m["date"].(string))
		}
	}
	return out
}

func TestAsOf(t *testing.T) {
	organs, _ := duty.Split(mustLoad(t, datedOrgan))
	if len(organs) != 1 {
		t.Fatalf("%d organs, want 1", len(organs))
	}
	o := organs[0]
	before := deepCopy(o.Docs)

	view := o.AsOf("2025-06-30")

	if view.ID != "ORG" {
		t.Errorf("view.ID = %q", view.ID)
	}
	want := map[string][]string{
		"departments":          {"ORG", "D1"},
		"people":               {"P1", "P2"}, // left_on is no date filter: the roster is the policies' business
		"appointments":         {"AP-ON"},    // by effective_on, the day itself included
		"talks":                {"T-BEFORE"}, // by held_on
		"letters":              {"L1"},       // undated: signed_on after as_of is for the policy to judge
		"record_books":         {"RB-ON"},    // by issued_on
		"suggestions":          {"S-BEFORE"}, // by issued_on; items are not filtered
		"meetings":             {"M-ON"},     // by held_on
		"responsibility_lists": {"R1"},       // undated
		"integrity_files":      {"F1"},       // updated_on is no filter; its major matters are
	}
	if diff := cmp.Diff(want, organIDs(view)); diff != "" {
		t.Errorf("records as of 2025-06-30 (-want +got):\n%s", diff)
	}
	nested := []struct {
		collection, id, field string
		want                  []string
	}{
		{"record_books", "RB-ON", "tasks", []string{"T1"}},                         // tasks are not dated
		{"record_books", "RB-ON", "entries", []string{"2025-06-30", "2025-01-02"}}, // by date, order kept
		{"record_books", "RB-ON", "inspections", []string{"2025-06-01"}},           // by date
		{"integrity_files", "F1", "major_matters", []string{"MM-ON"}},              // by event_on
		{"suggestions", "S-BEFORE", "items", []string{"I1"}},                       // due_on is no filter
	}
	for _, tc := range nested {
		d := view.Find(tc.collection, tc.id)
		if d == nil {
			t.Errorf("view has no %s %s", tc.collection, tc.id)
			continue
		}
		if diff := cmp.Diff(tc.want, nestedIDs(d, tc.field)); diff != "" {
			t.Errorf("%s %s %s as of 2025-06-30 (-want +got):\n%s", tc.collection, tc.id, tc.field, diff)
		}
	}
	if diff := cmp.Diff(before, o.Docs); diff != "" {
		t.Errorf("AsOf changed the organ it was called on (-before +after):\n%s", diff)
	}

	// A later date keeps everything; an earlier one drops nearly everything.
	all := o.AsOf("2099-12-31")
	if diff := cmp.Diff(o.Docs, all.Docs); diff != "" {
		t.Errorf("AsOf(2099-12-31) differs from the organ (-organ +view):\n%s", diff)
	}
	early := o.AsOf("2024-12-31")
	if diff := cmp.Diff(map[string][]string{
		"departments": {"ORG", "D1"}, "people": {"P1", "P2"}, "talks": {"T-BEFORE"}, "letters": {"L1"},
		"responsibility_lists": {"R1"}, "integrity_files": {"F1"},
	}, organIDs(early)); diff != "" {
		t.Errorf("records as of 2024-12-31 (-want +got):\n%s", diff)
	}
	if got := nestedIDs(early.Find("integrity_files", "F1"), "major_matters"); len(got) != 0 {
		t.Errorf("major matters as of 2024-12-31 = %v, want none", got)
	}
	if diff := cmp.Diff(before, o.Docs); diff != "" {
		t.Errorf("AsOf changed the organ it was called on (-before +after):\n%s", diff)
	}
}

func TestDepartmentOf(t *testing.T) {
	organs, _ := duty.Split(mustLoad(t, twoOrgans))
	a := organs[0]
	tests := []struct {
		name    string
		subject duty.Ref
		want    string
	}{
		{name: "organ itself", subject: duty.Ref{Collection: "departments", ID: "A"}, want: "A"},
		{name: "branch itself", subject: duty.Ref{Collection: "departments", ID: "A2"}, want: "A2"},
		{name: "person's department", subject: duty.Ref{Collection: "people", ID: "PA2"}, want: "A2"},
		{name: "appointment's department_id", subject: duty.Ref{Collection: "appointments", ID: "AP-A"}, want: "A1"},
		{name: "appointment's department_id, not the person's", subject: duty.Ref{Collection: "appointments", ID: "AP-X"}, want: "B1"},
		{name: "talk: the person's", subject: duty.Ref{Collection: "talks", ID: "T-A"}, want: "A1"},
		{name: "letter: the signer's", subject: duty.Ref{Collection: "letters", ID: "L-A"}, want: "A1"},
		{name: "record book: the holder's", subject: duty.Ref{Collection: "record_books", ID: "RB-A"}, want: "A2"},
		{name: "suggestion's department_id", subject: duty.Ref{Collection: "suggestions", ID: "S-A"}, want: "A2"},
		{name: "meeting's department_id", subject: duty.Ref{Collection: "meetings", ID: "M-A"}, want: "A"},
		{name: "list's department_id, not the holder's", subject: duty.Ref{Collection: "responsibility_lists", ID: "R-A"}, want: "A1"},
		{name: "integrity file: the person's", subject: duty.Ref{Collection: "integrity_files", ID: "F-A"}, want: "A2"},
		{name: "unknown record", subject: duty.Ref{Collection: "people", ID: "PB1"}, want: ""},
		{name: "unknown collection", subject: duty.Ref{Collection: "staff", ID: "PA1"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.DepartmentOf(tc.subject); got != tc.want {
				t.Errorf("DepartmentOf(%v) = %q, want %q", tc.subject, got, tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	organs, _ := duty.Split(mustLoad(t, twoOrgans))
	a := organs[0]
	if got := a.Find("people", "PA1").Str("name"); got != "甲一" {
		t.Errorf("Find(people, PA1).name = %q", got)
	}
	if got := a.Find("people", "PB1"); got != nil {
		t.Errorf("Find(people, PB1) = %v, want nil (another organ's)", got)
	}
	if got := a.Find("nothing", "x"); got != nil {
		t.Errorf("Find(nothing, x) = %v, want nil", got)
	}
}
