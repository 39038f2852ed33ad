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
