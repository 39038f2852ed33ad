package conformance_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// TestExpectedWarningsHandMade checks the oracle's warnings against DOMAIN.md's per-duty formulas
// worked out by hand on the tiny organ of base(), and the engine against both.
func TestExpectedWarningsHandMade(t *testing.T) {
	w := func(failsOn string, k conformance.Key) conformance.Warning {
		return conformance.Warning{Key: k, FailsOn: failsOn}
	}
	appt := func(id, person, rank, eff string) doc {
		return doc{"id": id, "person_id": person, "department_id": "DIV", "position": "p", "rank": rank, "effective_on": eff}
	}
	allLists := func() []doc {
		return []doc{list("R1", "party_group", "ORG", ""), list("R2", "party_committee", "PC", ""), list("R3", "discipline_committee", "DC", ""),
			list("R4", "party_group_secretary", "ORG", "P1"), list("R5", "leaders", "ORG", "P2"), list("R6", "department_heads", "DIV", "P3"),
			list("R7", "special_committee", "SC", "")}
	}
	spaced := func(last string) []doc {
		return []doc{{"id": "J1", "kind": "joint", "department_id": "DC", "held_on": "2025-03-01"}, {"id": "J2", "kind": "joint", "department_id": "DC", "held_on": "2025-05-31"},
			{"id": "J3", "kind": "joint", "department_id": "DC", "held_on": "2025-08-30"}, {"id": "J4", "kind": "joint", "department_id": "DC", "held_on": last}}
	}
	tests := []struct {
		note, asOf, policy string
		ds                 map[string][]doc
		want               []conformance.Warning
	}{
		{note: "talk: an appointment recorded ahead fails on its effective_on; a talk after as_of is not seen", asOf: "2025-06-30", policy: conformance.PolicyTalk,
			ds: with(map[string][]doc{
				"appointments": {appt("A1", "P4", "division", "2025-07-05"), appt("A2", "P4", "division", "2025-07-15")},
				"talks":        {{"id": "T1", "kind": "pre_appointment", "person_id": "P4", "held_on": "2025-07-01"}},
			}, nil),
			want: []conformance.Warning{w("2025-07-05", key(conformance.PolicyTalk, "missing", "DIV", "appointments", "A1", nil))}},
		{note: "letters: the day after the deadline; an appointment after as_of moves no deadline", asOf: "2025-03-25", policy: conformance.PolicyLetter,
			ds: with(map[string][]doc{"letters": goodLetters()[:1], "appointments": {appt("A1", "P3", "division", "2025-03-28")}}, nil),
			want: []conformance.Warning{
				w("2025-04-01", key(conformance.PolicyLetter, "missing", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"})),
				w("2025-04-01", key(conformance.PolicyLetter, "missing", "DIV", "people", "P4", doc{"level": 3, "issuer": "P3"})),
			}},
		{note: "letters: a deadline moved by an appointment in Y by as_of", asOf: "2025-04-10", policy: conformance.PolicyLetter,
			ds:   with(map[string][]doc{"letters": goodLetters()[:2], "appointments": {appt("A1", "P4", "division", "2025-03-20")}}, nil),
			want: []conformance.Warning{w("2025-04-20", key(conformance.PolicyLetter, "missing", "DIV", "people", "P4", doc{"level": 3, "issuer": "P3"}))}},
		{note: "record book: the gap after the last entry, a task due in the window, the inspection due", asOf: "2025-07-05", policy: conformance.PolicyBook,
			ds: with(map[string][]doc{"record_books": {
				book("B1", "P1", "2025-01-02", []doc{{"date": "2025-03-01", "content": "x"}, {"date": "2025-04-30", "content": "x"}, {"date": "2025-05-10", "content": "x"}}, nil, []doc{{"date": "2025-06-01", "inspector_id": "P5"}}),
				book("B2", "P2", "2025-01-09", []doc{{"date": "2025-03-01", "content": "x"}, {"date": "2025-04-30", "content": "x"}, {"date": "2025-06-28", "content": "x"}},
					[]doc{{"id": "K1", "title": "t", "due_on": "2025-07-12"}}, nil),
				book("B3", "P3", "2025-01-09", []doc{{"date": "2025-03-01", "content": "x"}, {"date": "2025-04-30", "content": "x"}, {"date": "2025-06-28", "content": "x"}},
					nil, []doc{{"date": "2025-01-10", "inspector_id": "P5"}}),
			}}, nil),
			want: []conformance.Warning{
				w("2025-07-10", key(conformance.PolicyBook, "gap", "ORG", "record_books", "B1", nil)),
				// 2025-01-09 + 184 = 2025-07-12
				w("2025-07-12", key(conformance.PolicyBook, "not_inspected", "ORG", "record_books", "B2", nil)),
				w("2025-07-12", key(conformance.PolicyBook, "task_without_entry", "ORG", "record_books", "B2", doc{"task": "K1"})),
				// inspected 2025-01-10: the later of 2025-07-12 and 2025-01-10 + 184 = 2025-07-13
				w("2025-07-13", key(conformance.PolicyBook, "not_inspected", "DIV", "record_books", "B3", nil)),
			}},
		{note: "record book missing before the deadline", asOf: "2025-01-20", policy: conformance.PolicyBook, ds: base(),
			want: []conformance.Warning{
				w("2025-02-01", key(conformance.PolicyBook, "missing", "DIV", "people", "P3", nil)),
				w("2025-02-01", key(conformance.PolicyBook, "missing", "ORG", "people", "P1", nil)),
				w("2025-02-01", key(conformance.PolicyBook, "missing", "ORG", "people", "P2", nil)),
			}},
		{note: "suggestion: the day after due_on", asOf: "2025-06-30", policy: conformance.PolicySuggestion,
			ds: with(map[string][]doc{"suggestions": {{"id": "S1", "department_id": "DIV", "issued_on": "2025-06-01", "items": []any{
				doc{"id": "I1", "text": "t", "due_on": "2025-07-03", "status": "open"},
				doc{"id": "I2", "text": "t", "due_on": "2025-07-14", "status": "open"},
				doc{"id": "I3", "text": "t", "due_on": "2025-06-30", "status": "closed", "closed_on": "2025-06-20", "evidence": "e"},
			}}}}, nil),
			want: []conformance.Warning{w("2025-07-04", key(conformance.PolicySuggestion, "overdue", "DIV", "suggestions", "S1", doc{"item": "I1"}))}},
		{note: "annual meeting: a meeting after as_of is not seen", asOf: "2025-03-20", policy: conformance.PolicyAnnual,
			ds:   with(map[string][]doc{"meetings": {{"id": "M1", "kind": "annual_conduct", "department_id": "PC", "held_on": "2025-03-25"}}}, nil),
			want: []conformance.Warning{w("2025-04-01", key(conformance.PolicyAnnual, "missing", "ORG", "departments", "ORG", nil))}},
		{note: "joint meetings: 93 days after the last", asOf: "2025-03-25", policy: conformance.PolicyJoint, ds: base(),
			want: []conformance.Warning{w("2025-04-04", key(conformance.PolicyJoint, "gap", "DC", "departments", "DC", nil))}},
		{note: "joint meetings: the year edge", asOf: "2025-12-20", policy: conformance.PolicyJoint,
			ds:   with(map[string][]doc{"meetings": spaced("2025-09-29")}, nil),
			want: []conformance.Warning{w("2025-12-31", key(conformance.PolicyJoint, "gap", "DC", "departments", "DC", nil))}},
		{note: "joint meetings: failing first in the next year is no warning", asOf: "2025-12-20", policy: conformance.PolicyJoint,
			ds: with(map[string][]doc{"meetings": spaced("2025-09-30")}, nil)},
		{note: "lists: only the missing ones", asOf: "2025-03-31", policy: conformance.PolicyList,
			ds:   with(map[string][]doc{"responsibility_lists": allLists()[1:]}, nil),
			want: []conformance.Warning{w("2025-04-01", key(conformance.PolicyList, "missing", "ORG", "departments", "ORG", doc{"level": "party_group"}))}},
		{note: "integrity file: 366 days after the newest update", asOf: "2025-06-30", policy: conformance.PolicyFile,
			ds: with(map[string][]doc{"integrity_files": {
				{"id": "F1", "person_id": "P1", "updated_on": "2024-07-05", "major_matters": []any{}},
				{"id": "F2", "person_id": "P2", "updated_on": "2024-07-14", "major_matters": []any{}},
				{"id": "F3", "person_id": "P3", "updated_on": "2025-01-01", "major_matters": []any{}},
			}}, nil),
			want: []conformance.Warning{w("2025-07-06", key(conformance.PolicyFile, "stale", "ORG", "people", "P1", nil))}},
		{note: "major matter: 31 days after the event, unless reported (even after as_of)", asOf: "2025-06-30", policy: conformance.PolicyMatter,
			ds: with(map[string][]doc{"integrity_files": {{"id": "F1", "person_id": "P3", "updated_on": "2025-01-01", "major_matters": []any{
				doc{"id": "M1", "kind": "k", "event_on": "2025-06-01"},
				doc{"id": "M2", "kind": "k", "event_on": "2025-06-02", "reported_on": "2025-07-01"},
				doc{"id": "M3", "kind": "k", "event_on": "2025-07-01"},
			}}}}, nil),
			want: []conformance.Warning{w("2025-07-02", key(conformance.PolicyMatter, "unreported", "DIV", "integrity_files", "F1", doc{"matter": "M1"}))}},
		{note: "branch: the member's left_on", asOf: "2025-06-30", policy: conformance.PolicyBranch,
			ds:   with(nil, func(ds map[string][]doc) { find(ds, "people", "P5")["left_on"] = "2025-07-10" }),
			want: []conformance.Warning{w("2025-07-10", key(conformance.PolicyBranch, "missing", "BR", "departments", "BR", nil))}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			want := tc.want
			for i := range want {
				want[i].Key = normalize(t, []conformance.Key{want[i].Key})[0]
			}
			conformance.SortWarnings(want)
			var got []conformance.Warning
			for _, x := range conformance.ExpectedWarnings(tc.ds, tc.asOf, "", conformance.WarnDays) {
				if x.Policy == tc.policy {
					x.Key = normalize(t, []conformance.Key{x.Key})[0]
					got = append(got, x)
				}
			}
			if diff := cmp.Diff(warningLines(want), warningLines(got)); diff != "" {
				t.Errorf("ExpectedWarnings(%s) (-want +got):\n%s", tc.asOf, diff)
			}
			dir := t.TempDir()
			if err := gen.Dataset(tc.ds).WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			rep, err := scan.ScanDir(context.Background(), dir, scan.Options{AsOf: tc.asOf, Engine: testEngine(t)})
			if err != nil {
				t.Fatal(err)
			}
			var engine []conformance.Warning
			for _, x := range fromWarnings(t, rep) {
				if x.Policy == tc.policy {
					engine = append(engine, x)
				}
			}
			if diff := cmp.Diff(warningLines(want), warningLines(engine)); diff != "" {
				t.Errorf("engine scan(%s) differs from the hand-computed warnings (-want +got):\n%s", tc.asOf, diff)
			}
		})
	}
}
