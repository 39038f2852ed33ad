package duty_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// sortLine names a violation by what INTERFACES.md sorts on, and the reason after it.
func sortLine(v duty.Violation) string {
	return v.Department + " " + v.Policy + " " + v.Subject.ID + " " + duty.DetailString(v.Details) + " " + v.Reason
}

// TestSortViolations checks INTERFACES.md's order: "sorted by department, policy, subject id,
// then details". The reason is not part of it: two failing items of one suggestion sort by item,
// whatever their reasons; the reason only parts two checks with the same details.
func TestSortViolations(t *testing.T) {
	v := func(dept, policy, id, reason string, details map[string]any) duty.Violation {
		return duty.Violation{Department: dept, Policy: policy, Reason: reason,
			Subject: duty.Ref{Collection: "suggestions", ID: id}, Details: details}
	}
	for _, tc := range []struct {
		note string
		in   []duty.Violation
		want []string
	}{
		{
			note: "details before reason",
			in: []duty.Violation{
				v("D", "suggestion.closeout", "S-1", "closed_without_evidence", map[string]any{"item": "I-2"}),
				v("D", "suggestion.closeout", "S-1", "overdue", map[string]any{"item": "I-1"}),
			},
			want: []string{
				"D suggestion.closeout S-1 item=I-1 overdue",
				"D suggestion.closeout S-1 item=I-2 closed_without_evidence",
			},
		},
		{
			note: "letters by issuer, then level, whatever the reason",
			in: []duty.Violation{
				v("D", "letter.three_levels", "P-9", "late", map[string]any{"level": int64(2), "issuer": "P-2"}),
				v("D", "letter.three_levels", "P-9", "missing", map[string]any{"level": int64(1), "issuer": "P-1"}),
				v("D", "letter.three_levels", "P-9", "unsigned", map[string]any{"level": int64(3), "issuer": "P-1"}),
			},
			want: []string{
				"D letter.three_levels P-9 issuer=P-1 level=1 missing",
				"D letter.three_levels P-9 issuer=P-1 level=3 unsigned",
				"D letter.three_levels P-9 issuer=P-2 level=2 late",
			},
		},
		{
			note: "no details first; numbers by value; the same details by reason",
			in: []duty.Violation{
				v("D", "recordbook.kept", "B-1", "task_without_entry", map[string]any{"task": "T-1"}),
				v("D", "recordbook.kept", "B-1", "not_inspected", map[string]any{}),
				v("D", "recordbook.kept", "B-1", "gap", map[string]any{}),
				v("D", "x.y", "S-1", "r", map[string]any{"n": int64(10)}),
				v("D", "x.y", "S-1", "r", map[string]any{"n": int64(9)}),
			},
			want: []string{
				"D recordbook.kept B-1  gap",
				"D recordbook.kept B-1  not_inspected",
				"D recordbook.kept B-1 task=T-1 task_without_entry",
				"D x.y S-1 n=9 r",
				"D x.y S-1 n=10 r",
			},
		},
		{
			note: "department, policy and subject id first",
			in: []duty.Violation{
				v("E", "a.a", "S-1", "r", nil),
				v("D", "b.b", "S-1", "r", nil),
				v("D", "a.a", "S-2", "a", nil),
				v("D", "a.a", "S-1", "z", nil),
			},
			want: []string{"D a.a S-1  z", "D a.a S-2  a", "D b.b S-1  r", "E a.a S-1  r"},
		},
	} {
		t.Run(tc.note, func(t *testing.T) {
			vs := append([]duty.Violation(nil), tc.in...)
			duty.SortViolations(vs)
			got := make([]string, len(vs))
			for i, x := range vs {
				got[i] = sortLine(x)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SortViolations (-want +got):\n%s", diff)
			}
			ws := make([]duty.Warning, len(tc.in))
			for i := range tc.in {
				ws[len(ws)-1-i] = duty.Warning{Violation: tc.in[i], FailsOn: "2025-06-30"}
			}
			ws = append(ws, duty.Warning{Violation: v("A", "a.a", "A", "a", nil), FailsOn: "2025-07-01"})
			duty.SortWarnings(ws)
			got = got[:0]
			for _, x := range ws[:len(ws)-1] {
				got = append(got, sortLine(x.Violation))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SortWarnings (-want +got):\n%s", diff)
			}
			if ws[len(ws)-1].FailsOn != "2025-07-01" {
				t.Errorf("SortWarnings: the warning failing last is not last: %+v", ws)
			}
		})
	}
}
