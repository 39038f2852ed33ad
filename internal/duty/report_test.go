package duty

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSortOrder checks the order of DOMAIN.md and INTERFACES.md: violations by department,
// policy, subject id, then details; warnings by fails_on first. The reason is no sort key of
// the text: it only breaks ties between findings on the same subject with the same details.
func TestSortOrder(t *testing.T) {
	v := func(dept, policy, reason, id string, details map[string]any) Violation {
		return Violation{Policy: policy, Reason: reason, Department: dept, Subject: Ref{Collection: "suggestions", ID: id}, Details: details}
	}
	name := func(x Violation) string {
		return x.Department + " " + x.Policy + " " + x.Subject.ID + " " + DetailString(x.Details) + " " + x.Reason
	}
	vs := []Violation{
		v("D1", "suggestion.closeout", "closed_without_evidence", "S1", map[string]any{"item": "I2"}),
		v("D1", "suggestion.closeout", "overdue", "S1", map[string]any{"item": "I1"}),
		v("D1", "archive.major_matters", "late", "F1", map[string]any{"matter": "M2"}),
		v("D1", "archive.major_matters", "unreported", "F1", map[string]any{"matter": "M1"}),
		v("D1", "letter.three_levels", "late", "P4", map[string]any{"level": 3, "issuer": "P3"}),
		v("D1", "letter.three_levels", "missing", "P4", map[string]any{"level": 1, "issuer": "P1"}),
		v("D1", "recordbook.kept", "task_without_entry", "B1", map[string]any{"task": "K1"}),
		v("D1", "recordbook.kept", "not_inspected", "B1", map[string]any{}),
		v("D1", "recordbook.kept", "gap", "B1", map[string]any{}),
		v("D0", "suggestion.closeout", "overdue", "S9", map[string]any{"item": "I9"}),
		{Policy: "list.six_levels", Reason: "missing", Department: "D2", Subject: Ref{Collection: "departments", ID: "X"}, Details: map[string]any{"level": "party_group"}},
		{Policy: "list.six_levels", Reason: "missing", Department: "D2", Subject: Ref{Collection: "people", ID: "X"}, Details: map[string]any{"level": "leaders"}},
	}
	SortViolations(vs)
	var got []string
	for _, x := range vs {
		got = append(got, name(x))
	}
	want := []string{
		"D0 suggestion.closeout S9 item=I9 overdue",
		"D1 archive.major_matters F1 matter=M1 unreported",
		"D1 archive.major_matters F1 matter=M2 late",
		"D1 letter.three_levels P4 issuer=P1 level=1 missing",
		"D1 letter.three_levels P4 issuer=P3 level=3 late",
		// details compare as JSON: {"task":"K1"} sorts before {} ('"' < '}')
		"D1 recordbook.kept B1 task=K1 task_without_entry",
		"D1 recordbook.kept B1  gap",
		"D1 recordbook.kept B1  not_inspected",
		"D1 suggestion.closeout S1 item=I1 overdue",
		"D1 suggestion.closeout S1 item=I2 closed_without_evidence",
		// one subject id in two collections: the details decide, not the collection
		"D2 list.six_levels X level=leaders missing",
		"D2 list.six_levels X level=party_group missing",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SortViolations (-want +got):\n%s", diff)
	}

	ws := []Warning{
		{Violation: v("D1", "suggestion.closeout", "overdue", "S1", map[string]any{"item": "I2"}), FailsOn: "2025-07-02"},
		{Violation: v("D2", "suggestion.closeout", "overdue", "S0", map[string]any{"item": "I1"}), FailsOn: "2025-07-01"},
		{Violation: v("D1", "archive.major_matters", "unreported", "F1", map[string]any{"matter": "M2"}), FailsOn: "2025-07-02"},
		{Violation: v("D1", "archive.major_matters", "unreported", "F1", map[string]any{"matter": "M1"}), FailsOn: "2025-07-02"},
	}
	SortWarnings(ws)
	got = nil
	for _, x := range ws {
		got = append(got, x.FailsOn+" "+name(x.Violation))
	}
	want = []string{
		"2025-07-01 D2 suggestion.closeout S0 item=I1 overdue",
		"2025-07-02 D1 archive.major_matters F1 matter=M1 unreported",
		"2025-07-02 D1 archive.major_matters F1 matter=M2 unreported",
		"2025-07-02 D1 suggestion.closeout S1 item=I2 overdue",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SortWarnings (-want +got):\n%s", diff)
	}
}
