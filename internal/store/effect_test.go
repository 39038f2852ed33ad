package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// loadSample imports fixtures/sample as the system.
func loadSample(tb testing.TB, st *store.Store) {
	tb.Helper()
	raw, err := duty.ReadDir(filepath.Join("..", "..", "fixtures", "sample"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.PutMany(context.Background(), admin, raw); err != nil {
		tb.Fatalf("import sample: %v", err)
	}
}

// TestDepartmentWritesByEffect checks authorisation by effect (issue 13, item 2): inside its
// own subtree a department user still may not write records that satisfy or create organ-level
// duties. The first two cases are the examples: an annual_conduct meeting and
// organ-level lists made the organ-level violations of ORG-1 disappear, and a person given the
// role party_group_secretary created letter violations across the organ.
func TestDepartmentWritesByEffect(t *testing.T) {
	st := storetest.Open(t)
	loadSample(t, st)
	ctx := context.Background()
	office := duty.Principal{User: "office", Role: duty.RoleDepartment, Department: "ORG-1-OFF"}
	inspector := duty.Principal{User: "insp", Role: duty.RoleInspector}
	list := func(id, level, dept, holder string) map[string]any {
		d := map[string]any{"id": id, "year": 2025, "level": level, "department_id": dept, "items": []any{"x"}}
		if holder != "" {
			d["holder_id"] = holder
		}
		return d
	}
	person := func(id, rank string, roles ...any) map[string]any {
		return map[string]any{"id": id, "name": "王五", "department_id": "ORG-1-DIV-04", "rank": rank, "roles": roles, "active": true}
	}
	for _, tc := range []struct {
		note       string
		batches    map[string][]map[string]any
		wantFields []string // the fields refused, nil when allowed
	}{
		{
			note: "issue example: annual_conduct meeting and organ-level lists",
			batches: map[string][]map[string]any{
				"meetings": {{"id": "X-M-1", "kind": "annual_conduct", "department_id": "ORG-1-OFF", "held_on": "2025-02-01"}},
				"responsibility_lists": {
					list("X-RL-1", "party_group", "ORG-1-OFF", ""),
					list("X-RL-2", "party_committee", "ORG-1-OFF", ""),
					list("X-RL-3", "discipline_committee", "ORG-1-OFF", ""),
					list("X-RL-4", "party_group_secretary", "ORG-1-OFF", "ORG-1-P-001"),
				},
			},
			wantFields: []string{"kind", "level", "level", "level", "level", "holder_id"},
		},
		{
			note:       "issue example: a person given the role party_group_secretary",
			batches:    map[string][]map[string]any{"people": {person("X-P-1", "division", "party_group_secretary")}},
			wantFields: []string{"roles"},
		},
		{note: "party_group_member role", batches: map[string][]map[string]any{"people": {person("X-P-2", "section", "party_group_member")}}, wantFields: []string{"roles"}},
		{note: "bureau rank", batches: map[string][]map[string]any{"people": {person("X-P-3", "bureau")}}, wantFields: []string{"rank"}},
		{
			note:       "removing the Party Group role of a stored member",
			batches:    map[string][]map[string]any{"people": {{"id": "ORG-1-P-009", "name": "x", "department_id": "ORG-1-OFF", "rank": "division", "roles": []any{"department_head"}, "active": true}}},
			wantFields: []string{"roles"}, // the stored record's Party Group role
		},
		{
			note: "supervision outside the subtree",
			batches: map[string][]map[string]any{"people": {func() map[string]any {
				p := person("X-P-4", "division")
				p["supervises"] = []any{"ORG-1-DIV-01"}
				return p
			}()}},
			wantFields: []string{"supervises"},
		},
		{
			note:       "joint meeting of the discipline committee, named from inside",
			batches:    map[string][]map[string]any{"meetings": {{"id": "X-M-2", "kind": "joint", "department_id": "ORG-1-DC", "held_on": "2025-02-01"}}},
			wantFields: []string{"", "kind"}, // outside the subtree, and organ-level
		},
		{
			note:       "a department-heads list held by another department's head",
			batches:    map[string][]map[string]any{"responsibility_lists": {list("X-RL-5", "department_heads", "ORG-1-DIV-04", "ORG-1-P-030")}},
			wantFields: []string{"holder_id"},
		},
		{
			note:       "a special committee created in the subtree",
			batches:    map[string][]map[string]any{"departments": {{"id": "X-SC", "name": "委", "kind": "special_committee", "parent_id": "ORG-1-OFF"}}},
			wantFields: []string{"kind"},
		},
		{
			note: "records of a stored organ leader in the subtree: talk, record book, integrity file",
			batches: map[string][]map[string]any{
				"talks":           {{"id": "X-T-1", "kind": "pre_appointment", "person_id": "ORG-1-P-009", "held_on": "2025-02-01"}},
				"record_books":    {{"id": "X-RB-1", "year": 2025, "holder_id": "ORG-1-P-009", "issued_on": "2025-01-10", "tasks": []any{}, "entries": []any{}, "inspections": []any{}}},
				"integrity_files": {{"id": "X-IF-1", "person_id": "ORG-1-P-009", "updated_on": "2025-02-01", "major_matters": []any{}}},
			},
			wantFields: []string{"person_id", "holder_id", "person_id"},
		},
		{
			note:       "changing a stored leader's talk to name someone else",
			batches:    map[string][]map[string]any{"talks": {{"id": "ORG-1-T-083", "kind": "pre_appointment", "person_id": "ORG-1-P-048", "held_on": "2025-02-01"}}},
			wantFields: []string{"person_id"}, // the stored record's person is a leader
		},
		{
			note: "a bureau appointment, and the talk of a leader created in the same batch",
			batches: map[string][]map[string]any{
				"people":       {person("X-P-7", "bureau")},
				"appointments": {{"id": "X-A-1", "person_id": "ORG-1-P-048", "department_id": "ORG-1-DIV-04", "position": "副局长", "rank": "bureau", "effective_on": "2025-03-01"}},
				"talks":        {{"id": "X-T-2", "kind": "pre_appointment", "person_id": "X-P-7", "held_on": "2025-02-01"}},
			},
			wantFields: []string{"rank", "rank", "person_id"},
		},
		{
			note: "allowed: own people, own department-heads list, own meetings",
			batches: map[string][]map[string]any{
				"people":               {person("X-P-5", "division", "department_head"), person("X-P-6", "staff")},
				"responsibility_lists": {list("X-RL-6", "department_heads", "ORG-1-DIV-04", "ORG-1-P-048")},
				"meetings": {
					{"id": "X-M-3", "kind": "处务会", "department_id": "ORG-1-DIV-04", "held_on": "2025-02-01"},
					{"id": "X-M-4", "kind": "joint", "department_id": "ORG-1-DIV-04", "held_on": "2025-02-01"},
				},
			},
		},
	} {
		t.Run(tc.note, func(t *testing.T) {
			batches := map[string][]duty.RawDoc{}
			for coll, docs := range tc.batches {
				batches[coll] = raw(t, docs...)
			}
			_, err := st.PutMany(ctx, office, batches)
			if tc.wantFields == nil {
				if err != nil {
					t.Fatalf("allowed batch refused: %v", err)
				}
				return
			}
			var ve *duty.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Field)
				if p.ID == "" || p.Message == "" {
					t.Errorf("problem without id or message: %+v", p)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.wantFields, ",") {
				t.Errorf("refused fields = %q, want %q (%v)", got, tc.wantFields, err)
			}
			// Nothing was written.
			for coll, docs := range tc.batches {
				for _, d := range docs {
					id := d["id"].(string)
					if strings.HasPrefix(id, "X-") {
						if _, err := st.Get(ctx, coll, id); !errors.Is(err, duty.ErrNotFound) {
							t.Errorf("%s %s written despite the refusal (err %v)", coll, id, err)
						}
					}
				}
			}
			// An inspector may write the same, when it is in the organ at all.
			if tc.note == "issue example: annual_conduct meeting and organ-level lists" {
				if _, err := st.PutMany(ctx, inspector, batches); err != nil {
					t.Errorf("inspector refused: %v", err)
				}
			}
		})
	}

	// Deleting an organ-level record of the subtree is refused, and it stays; a department-level
	// one may go.
	put(t, st, "meetings",
		map[string]any{"id": "X-M-9", "kind": "annual_conduct", "department_id": "ORG-1-DIV-04", "held_on": "2025-02-01"},
		map[string]any{"id": "X-M-10", "kind": "处务会", "department_id": "ORG-1-DIV-04", "held_on": "2025-02-01"})
	err := st.Delete(ctx, office, "meetings", "X-M-9")
	var ve *duty.ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].Field != "kind" {
		t.Errorf("delete of an annual_conduct meeting: err = %v, want refused on kind", err)
	}
	if _, err := st.Get(ctx, "meetings", "X-M-9"); err != nil {
		t.Errorf("refused delete removed the meeting: %v", err)
	}
	// Deleting a leader's record book is refused too.
	if err := st.Delete(ctx, office, "record_books", "ORG-1-RB-008"); !errors.As(err, &ve) || ve.Problems[0].Field != "holder_id" {
		t.Errorf("delete of a leader's record book: err = %v, want refused on holder_id", err)
	}
	if err := st.Delete(ctx, office, "meetings", "X-M-10"); err != nil {
		t.Errorf("delete of the department's own meeting: %v", err)
	}
}
