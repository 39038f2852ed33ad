package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

func raw(tb testing.TB, docs ...map[string]any) []duty.RawDoc {
	tb.Helper()
	out := make([]duty.RawDoc, len(docs))
	for i, d := range docs {
		out[i] = duty.RawDoc{Index: i, Value: d}
	}
	return out
}

func put(tb testing.TB, st *store.Store, coll string, docs ...map[string]any) {
	tb.Helper()
	if _, err := st.PutBatch(context.Background(), admin, coll, raw(tb, docs...)); err != nil {
		tb.Fatalf("put %s: %v", coll, err)
	}
}

func seed(tb testing.TB, st *store.Store) {
	tb.Helper()
	put(tb, st, "departments",
		map[string]any{"id": "ORG-1", "name": "机关一", "kind": "organ"},
		map[string]any{"id": "DIV-1", "name": "一处", "kind": "division", "parent_id": "ORG-1"},
		map[string]any{"id": "ORG-2", "name": "机关二", "kind": "organ"},
		map[string]any{"id": "DIV-2", "name": "二处", "kind": "division", "parent_id": "ORG-2"},
	)
	put(tb, st, "people",
		map[string]any{"id": "P-1", "name": "张三", "department_id": "DIV-1", "rank": "division", "roles": []any{}, "active": true},
		map[string]any{"id": "P-2", "name": "李四", "department_id": "DIV-2", "rank": "bureau", "roles": []any{"party_group_member"}, "active": true},
	)
	put(tb, st, "talks",
		map[string]any{"id": "T-1", "kind": "general", "person_id": "P-1", "held_on": "2025-01-02"},
		map[string]any{"id": "T-2", "kind": "general", "person_id": "P-2", "held_on": "2025-01-03", "recorded": false},
	)
}

func TestPutGetRoundTrip(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	got, err := st.Get(ctx, "talks", "T-2")
	if err != nil {
		t.Fatal(err)
	}
	want := duty.Doc{"id": "T-2", "kind": "general", "person_id": "P-2", "held_on": "2025-01-03", "recorded": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if _, err := st.Get(ctx, "talks", "nope"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("Get unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "bogus", "x"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("Get unknown collection: err = %v, want ErrNotFound", err)
	}
}

func TestPutBatchIsAllOrNothing(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	_, err := st.PutBatch(ctx, admin, "talks", raw(t,
		map[string]any{"id": "T-3", "kind": "general", "person_id": "P-1", "held_on": "2025-02-01"},
		map[string]any{"id": "T-4", "kind": "general", "person_id": "P-404", "held_on": "2025-02-01"},
		map[string]any{"id": "T-5", "kind": "chat", "person_id": "P-1", "held_on": "2025-02-31"},
	))
	var ve *duty.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.ID+"."+p.Field)
	}
	if diff := cmp.Diff([]string{"T-5.kind", "T-5.held_on"}, fields); diff != "" {
		t.Errorf("schema problems first (-want +got):\n%s", diff)
	}
	if _, err := st.Get(ctx, "talks", "T-3"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("a valid document of a refused batch was written: %v", err)
	}
	_, err = st.PutBatch(ctx, admin, "talks", raw(t,
		map[string]any{"id": "T-3", "kind": "general", "person_id": "P-1", "held_on": "2025-02-01"},
		map[string]any{"id": "T-4", "kind": "general", "person_id": "P-404", "held_on": "2025-02-01"},
	))
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "person_id" || !strings.Contains(ve.Problems[0].Message, "P-404") {
		t.Fatalf("err = %v, want one problem naming person_id P-404", err)
	}
	if _, err := st.Get(ctx, "talks", "T-3"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("a valid document of a refused batch was written: %v", err)
	}
}

func TestReferencesWithinBatchAndCycles(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	// A child may name a parent of the same batch.
	put(t, st, "departments",
		map[string]any{"id": "BR-1", "name": "支部", "kind": "branch", "parent_id": "DIV-X"},
		map[string]any{"id": "DIV-X", "name": "新处", "kind": "division", "parent_id": "ORG-1"},
	)
	// Moving DIV-1 under BR-1 (which is under DIV-X under ORG-1) is fine; moving DIV-X under BR-1 is a cycle.
	_, err := st.PutBatch(ctx, admin, "departments", raw(t,
		map[string]any{"id": "DIV-X", "name": "新处", "kind": "division", "parent_id": "BR-1"},
	))
	var ve *duty.ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].Field != "parent_id" || !strings.Contains(ve.Problems[0].Message, "cycle") {
		t.Fatalf("err = %v, want a cycle problem on parent_id", err)
	}
}

func TestDeleteRefusesWhileReferenced(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	err := st.Delete(ctx, admin, "people", "P-1")
	if !errors.Is(err, duty.ErrConflict) || !strings.Contains(err.Error(), "T-1") {
		t.Fatalf("Delete referenced person: err = %v, want ErrConflict naming T-1", err)
	}
	if err := st.Delete(ctx, admin, "talks", "T-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, admin, "people", "P-1"); err != nil {
		t.Fatalf("Delete unreferenced person: %v", err)
	}
	if err := st.Delete(ctx, admin, "people", "P-1"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("Delete twice: err = %v, want ErrNotFound", err)
	}
}

func organOf(tb testing.TB, st *store.Store, coll, id string) string {
	tb.Helper()
	_, organ, err := st.GetWithOrgan(context.Background(), coll, id)
	if err != nil {
		tb.Fatal(err)
	}
	return organ
}

func TestOrganStampsFollowMoves(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	if got := organOf(t, st, "talks", "T-1"); got != "ORG-1" {
		t.Fatalf("talk T-1 organ = %q, want ORG-1", got)
	}
	// P-1 moves to a department of ORG-2: the person and their talks follow.
	put(t, st, "people", map[string]any{"id": "P-1", "name": "张三", "department_id": "DIV-2", "rank": "division", "roles": []any{}, "active": true})
	if got := organOf(t, st, "talks", "T-1"); got != "ORG-2" {
		t.Errorf("after the person moved, talk T-1 organ = %q, want ORG-2", got)
	}
	// DIV-2 moves under ORG-1: everything under it follows.
	put(t, st, "departments", map[string]any{"id": "DIV-2", "name": "二处", "kind": "division", "parent_id": "ORG-1"})
	for _, c := range [][2]string{{"departments", "DIV-2"}, {"people", "P-2"}, {"talks", "T-2"}, {"talks", "T-1"}} {
		if got := organOf(t, st, c[0], c[1]); got != "ORG-1" {
			t.Errorf("after the department moved, %s %s organ = %q, want ORG-1", c[0], c[1], got)
		}
	}
}

func TestLoadOrgans(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	organs, tree, err := st.LoadOrgans(ctx, []string{"ORG-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(organs) != 1 || organs[0].ID != "ORG-2" {
		t.Fatalf("LoadOrgans(ORG-2) = %d organs", len(organs))
	}
	got := map[string]int{}
	for c, docs := range organs[0].Docs {
		got[c] = len(docs)
	}
	if diff := cmp.Diff(map[string]int{"departments": 2, "people": 1, "talks": 1}, got); diff != "" {
		t.Errorf("ORG-2 records (-want +got):\n%s", diff)
	}
	if tree.Organ("DIV-1") != "ORG-1" {
		t.Errorf("tree lost DIV-1")
	}
	all, _, err := st.LoadOrgans(ctx, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("LoadOrgans(nil) = %d organs, %v", len(all), err)
	}
}

func TestScanChunksRoundTrip(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	sc := &duty.Scan{ID: "S-1", Status: duty.ScanRunning, AsOf: "2025-06-30", StartedAt: "2025-06-30T00:00:00.000000Z"}
	if err := st.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	var vs []duty.Violation
	for i := range 1234 {
		vs = append(vs, duty.Violation{Policy: "p", Severity: "low", Reason: "missing", Department: "D",
			Subject: duty.Ref{Collection: "people", ID: string(rune('A'+i%26)) + strings.Repeat("x", i%7)},
			Details: map[string]any{"level": int64(i % 3)}, Evidence: []duty.Ref{{Collection: "talks", ID: "T"}},
			Message: duty.Message{ZH: "中文", EN: "en"}})
	}
	duty.SortViolations(vs) // reports are sorted; the store gives them back in that order
	sc.Report = &duty.Report{ScanID: "S-1", AsOf: "2025-06-30", PolicyRevision: "r1", Violations: vs, Summary: duty.Summarize(vs)}
	sc.FinishedAt = "2025-06-30T00:00:01.000000Z"
	res, err := st.PutOrganViolations(ctx, "S-1", "ORG-1", 1, vs)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishIndexedScan(ctx, sc, []store.OrganResult{res}, ""); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetScan(ctx, "S-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != duty.ScanDone || got.Report == nil {
		t.Fatalf("scan = %+v", got)
	}
	if diff := cmp.Diff(vs, got.Report.Violations); diff != "" {
		t.Errorf("violations round trip (-want +got):\n%s", diff)
	}
	latest, err := st.LatestScan(ctx, []string{""})
	if err != nil || latest.ID != "S-1" {
		t.Fatalf("LatestScan = %v, %v", latest, err)
	}
	if _, err := st.LatestScan(ctx, []string{"D"}); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("LatestScan of another scope: err = %v, want ErrNotFound", err)
	}
}

var admin = duty.System("test")
