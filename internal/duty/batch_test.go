package duty_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// stored is a Resolver over records held in memory: collection → id → organ stamp, and the
// departments.
type stored struct {
	stamps  map[string]map[string]string
	depts   []duty.Doc
	lookups int
}

func (s *stored) Stamps(_ context.Context, collection string, ids []string) (map[string]string, error) {
	s.lookups++
	out := map[string]string{}
	for _, id := range ids {
		if o, ok := s.stamps[collection][id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

func (s *stored) Departments(context.Context) ([]duty.Doc, error) { return s.depts, nil }

func batchOf(tb testing.TB, collection string, docs ...string) map[string][]duty.RawDoc {
	tb.Helper()
	raw := make([]duty.RawDoc, len(docs))
	for i, d := range docs {
		raw[i] = duty.RawDoc{Index: i, Value: decodeValue(tb, d)}
	}
	return map[string][]duty.RawDoc{collection: raw}
}

// TestValidateWithStoredRecords: references may name stored records (whose organ stamps the
// batch keeps), a batch with malformed documents is refused before any lookup, and the tree the
// batch makes with the stored departments is checked for cycles.
func TestValidateWithStoredRecords(t *testing.T) {
	ctx := context.Background()
	org := duty.Doc{"id": "ORG", "name": "机关", "kind": "organ"}
	div := duty.Doc{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"}
	st := func() *stored {
		return &stored{stamps: map[string]map[string]string{"people": {"P1": "ORG"}, "departments": {"ORG": "ORG", "DIV": "ORG"}},
			depts: []duty.Doc{org, div}}
	}

	s := st()
	b, err := duty.Validate(ctx, batchOf(t, "talks",
		`{"id": "T1", "kind": "general", "person_id": "P1", "held_on": "2025-02-03"}`), s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[string]string{"people": {"P1": "ORG"}}, b.Stored); diff != "" {
		t.Errorf("stored records named (-want +got):\n%s", diff)
	}

	s = st()
	_, err = duty.Validate(ctx, batchOf(t, "talks",
		`{"id": "T1", "kind": "chat", "person_id": "P9", "held_on": "2025-02-03"}`), s)
	var ve *duty.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "kind" {
		t.Errorf("a malformed batch: %v; want its schema problem alone", err)
	}
	if s.lookups != 0 {
		t.Errorf("%d lookups of stored records for a malformed batch; want none", s.lookups)
	}

	_, err = duty.Validate(ctx, batchOf(t, "talks",
		`{"id": "T1", "kind": "general", "person_id": "P9", "held_on": "2025-02-03"}`), st())
	want := []duty.Problem{{Index: 0, ID: "T1", Field: "person_id", Message: `names "P9", which is not a record in people`}}
	if !errors.As(err, &ve) {
		t.Fatalf("a dangling reference: %v", err)
	}
	if diff := cmp.Diff(want, ve.Problems, noKind); diff != "" {
		t.Errorf("a dangling reference (-want +got):\n%s", diff)
	}

	_, err = duty.Validate(ctx, batchOf(t, "departments",
		`{"id": "ORG", "name": "机关", "kind": "organ"}`,
		`{"id": "BR", "name": "支部", "kind": "branch", "parent_id": "DIV2"}`,
		`{"id": "DIV2", "name": "二处", "kind": "office", "parent_id": "BR"}`), st())
	if !errors.As(err, &ve) {
		t.Fatalf("a cycle: %v", err)
	}
	var cycles []string
	for _, p := range ve.Problems {
		cycles = append(cycles, p.ID+"."+p.Field)
	}
	if diff := cmp.Diff([]string{"BR.parent_id", "DIV2.parent_id"}, cycles); diff != "" {
		t.Errorf("a cycle (-want +got):\n%s", diff)
	}
}
