package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// plain builds the values of a duty.Doc (duty.DocValues) without the store's own "_" fields,
// so that a record read from an organ table compares with the same record read from its
// collection.
type plain struct{ duty.DocValues }

func (p plain) Object(keys [][]byte, vals []any) any {
	var ks [][]byte
	var vs []any
	for i, k := range keys {
		if len(k) == 0 || k[0] != '_' {
			ks, vs = append(ks, k), append(vs, vals[i])
		}
	}
	return p.DocValues.Object(ks, vs)
}

// fromTables reads every organ's table: organ → collection → canonical JSON of each record.
func fromTables(tb testing.TB, st *store.Store) map[string]map[string][]string {
	tb.Helper()
	ctx := context.Background()
	versions, err := st.OrganVersions(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for organ := range versions {
		err := store.ReadOrgan(ctx, st, organ, plain{}, func(c *duty.Collection, rec any) {
			b, _ := json.Marshal(rec)
			if out[organ] == nil {
				out[organ] = map[string][]string{}
			}
			out[organ][c.Name] = append(out[organ][c.Name], string(b))
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	for _, byColl := range out {
		for _, docs := range byColl {
			slices.Sort(docs)
		}
	}
	return out
}

// fromCollections reads the records from their collections, split by organ stamp.
func fromCollections(tb testing.TB, st *store.Store) map[string]map[string][]string {
	tb.Helper()
	organs, _, err := st.LoadOrgans(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for _, o := range organs {
		for c, docs := range o.Docs {
			for _, d := range docs {
				b, _ := json.Marshal(d)
				if out[o.ID] == nil {
					out[o.ID] = map[string][]string{}
				}
				out[o.ID][c] = append(out[o.ID][c], string(b))
			}
		}
	}
	for _, byColl := range out {
		for _, docs := range byColl {
			slices.Sort(docs)
		}
	}
	return out
}

func checkTables(tb testing.TB, st *store.Store, when string) {
	tb.Helper()
	if diff := cmp.Diff(fromCollections(tb, st), fromTables(tb, st)); diff != "" {
		tb.Errorf("%s: organ tables differ from the collections (-collections +tables):\n%s", when, diff)
	}
}

func versions(tb testing.TB, st *store.Store) map[string]store.OrganVersion {
	tb.Helper()
	v, err := st.OrganVersions(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestOrganTablesFollowEveryWrite(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	seed(t, st)
	checkTables(t, st, "after the first writes")
	v0 := versions(t, st)
	if len(v0) != 2 || !v0["ORG-1"].Settled || !v0["ORG-2"].Settled {
		t.Fatalf("versions after the first writes = %+v, want ORG-1 and ORG-2, settled", v0)
	}

	// A record of ORG-1 changes: only ORG-1's version moves.
	put(t, st, "talks", map[string]any{"id": "T-1", "kind": "reminder", "person_id": "P-1", "held_on": "2025-01-02"})
	checkTables(t, st, "after a replace")
	v1 := versions(t, st)
	if v1["ORG-1"].Version <= v0["ORG-1"].Version || v1["ORG-2"] != v0["ORG-2"] {
		t.Errorf("after a write to ORG-1: versions %+v → %+v, want only ORG-1's increased", v0, v1)
	}

	// A talk moves to a person of the other organ: it leaves ORG-1's table, both versions move.
	put(t, st, "talks", map[string]any{"id": "T-1", "kind": "reminder", "person_id": "P-2", "held_on": "2025-01-02"})
	checkTables(t, st, "after a record moved to another organ")
	v2 := versions(t, st)
	if v2["ORG-1"].Version <= v1["ORG-1"].Version || v2["ORG-2"].Version <= v1["ORG-2"].Version {
		t.Errorf("after a move: versions %+v → %+v, want both increased", v1, v2)
	}

	// A deletion.
	if err := st.Delete(ctx, admin, "talks", "T-1"); err != nil {
		t.Fatal(err)
	}
	checkTables(t, st, "after a deletion")
	if v3 := versions(t, st); v3["ORG-2"].Version <= v2["ORG-2"].Version || v3["ORG-1"] != v2["ORG-1"] {
		t.Errorf("after deleting a record of ORG-2: versions %+v → %+v", v2, v3)
	}

	// A department moves to the other organ, with its people and their records (a restamp).
	put(t, st, "departments", map[string]any{"id": "DIV-2", "name": "二处", "kind": "division", "parent_id": "ORG-1"})
	checkTables(t, st, "after a department moved to another organ")
	for organ, v := range versions(t, st) {
		if !v.Settled {
			t.Errorf("organ %s is left unsettled after the restamp", organ)
		}
	}

	// Rebuilding gives the same tables, and new versions.
	v4 := versions(t, st)
	if err := st.RebuildOrganTables(ctx); err != nil {
		t.Fatal(err)
	}
	checkTables(t, st, "after a rebuild")
	for organ, v := range versions(t, st) {
		if v.Version <= v4[organ].Version || !v.Settled {
			t.Errorf("after a rebuild, organ %s version %+v → %+v, want increased and settled", organ, v4[organ], v)
		}
	}
}

func TestDepartmentsFollowWrites(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	seed(t, st)
	ids := func() []string {
		depts, err := st.Departments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range depts {
			out = append(out, d.ID()+":"+d.Str("name"))
		}
		slices.Sort(out)
		return out
	}
	want := []string{"DIV-1:一处", "DIV-2:二处", "ORG-1:机关一", "ORG-2:机关二"}
	for range 2 { // the second read comes from memory
		if diff := cmp.Diff(want, ids()); diff != "" {
			t.Errorf("Departments (-want +got):\n%s", diff)
		}
	}
	put(t, st, "departments", map[string]any{"id": "DIV-3", "name": "三处", "kind": "division", "parent_id": "ORG-1"},
		map[string]any{"id": "DIV-1", "name": "改名处", "kind": "division", "parent_id": "ORG-1"})
	want = []string{"DIV-1:改名处", "DIV-2:二处", "DIV-3:三处", "ORG-1:机关一", "ORG-2:机关二"}
	if diff := cmp.Diff(want, ids()); diff != "" {
		t.Errorf("Departments after a write (-want +got):\n%s", diff)
	}
	if err := st.Delete(ctx, admin, "departments", "DIV-3"); err != nil {
		t.Fatal(err)
	}
	want = []string{"DIV-1:改名处", "DIV-2:二处", "ORG-1:机关一", "ORG-2:机关二"}
	if diff := cmp.Diff(want, ids()); diff != "" {
		t.Errorf("Departments after a deletion (-want +got):\n%s", diff)
	}
}

func TestBigBatchIsAuditedInChunks(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	seed(t, st)
	var talks []map[string]any
	for i := range 5100 {
		talks = append(talks, map[string]any{"id": fmt.Sprintf("BT-%04d", i), "kind": "general", "person_id": "P-1", "held_on": "2025-01-02"})
	}
	n, err := st.PutBatch(ctx, admin, "talks", raw(t, talks...))
	if err != nil || n != len(talks) {
		t.Fatalf("PutBatch of %d talks = %d, %v", len(talks), n, err)
	}
	trail, err := st.AuditTrail(ctx, "test", 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := 0
	for _, e := range trail {
		if e.Action == "records.put" && e.Collection == "talks" && len(e.IDs) > 2 {
			ids += len(e.IDs)
		}
	}
	if ids != len(talks) {
		t.Errorf("audit entries list %d ids of the batch, want %d", ids, len(talks))
	}
	checkTables(t, st, "after a big batch")
}

// TestManyOrgansInOneBatch writes and rewrites 150 organs at once: the embedded store must not
// run out of connections on a command of many updates (see updatesPerCommand).
func TestManyOrgansInOneBatch(t *testing.T) {
	st := storetest.Open(t)
	var depts []map[string]any
	for i := range 150 {
		depts = append(depts, map[string]any{"id": fmt.Sprintf("O-%03d", i), "name": "机关", "kind": "organ"})
	}
	put(t, st, "departments", depts...)
	for _, d := range depts {
		d["name"] = "改名机关"
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		put(t, st, "departments", depts...)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("rewriting 150 organs in one batch did not finish in two minutes")
	}
	if v := versions(t, st); len(v) != 150 {
		t.Errorf("%d organ versions, want 150", len(v))
	}
	checkTables(t, st, "after rewriting 150 organs")
}
