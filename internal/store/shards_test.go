package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// storeState is what a store's readers see: reports, organ tables, cases.
type storeState struct {
	S1, S2   *duty.Report
	Dept     *duty.Report
	Tables   map[string]map[string][]string
	Cases    []duty.Case
	Versions int
}

func readState(tb testing.TB, st *store.Store) storeState {
	tb.Helper()
	ctx := context.Background()
	var out storeState
	for _, x := range []struct {
		id  string
		dst **duty.Report
	}{{"S-1", &out.S1}, {"S-2", &out.S2}} {
		sc, err := st.GetScan(ctx, x.id)
		if err != nil {
			tb.Fatalf("GetScan(%s): %v", x.id, err)
		}
		*x.dst = sc.Report
	}
	var err error
	if out.Dept, err = st.DepartmentReport(ctx, "A-DIV"); err != nil {
		tb.Fatalf("DepartmentReport(A-DIV): %v", err)
	}
	out.Tables = fromTables(tb, st)
	if out.Cases, err = st.Cases(ctx, ""); err != nil {
		tb.Fatal(err)
	}
	out.Versions = len(versions(tb, st))
	return out
}

// toLayoutBeforeShards puts a closed store back into the layout before the shards, as the
// earlier version left it: every table of the shards in the store's database, and the organ
// tables recorded as format 2.
func toLayoutBeforeShards(tb testing.TB, st *store.Store) {
	tb.Helper()
	ctx := context.Background()
	client := rawClient(tb)
	main := client.Database(st.Database())
	for _, name := range st.Databases()[1:] {
		db := client.Database(name)
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			tb.Fatal(err)
		}
		for _, n := range names {
			var docs []bson.Raw
			cur, err := db.Collection(n).Find(ctx, bson.D{})
			if err != nil {
				tb.Fatal(err)
			}
			if err := cur.All(ctx, &docs); err != nil {
				tb.Fatal(err)
			}
			many := make([]any, len(docs))
			for i := range docs {
				many[i] = docs[i]
			}
			if _, err := main.Collection(n).InsertMany(ctx, many); err != nil {
				tb.Fatal(err)
			}
		}
		if err := db.Drop(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	meta := main.Collection("store_meta")
	if _, err := meta.UpdateOne(ctx, bson.D{{Key: "_id", Value: "organ_tables"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "format", Value: 2}}}}); err != nil {
		tb.Fatal(err)
	}
	if _, err := meta.DeleteOne(ctx, bson.D{{Key: "_id", Value: "shards"}}); err != nil {
		tb.Fatal(err)
	}
}

// TestOpenMovesOrganTablesToShards: a store of the layout before the shards (organ tables,
// findings and cases in the store's database) opens into the shards with the same reports,
// tables and cases, its database left with the shared collections only; an open killed while
// it copies a table, or while it rebuilds the organ tables, leaves a store the next open moves
// the same.
func TestOpenMovesOrganTablesToShards(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	putTree(t, st)
	people := map[string][]map[string]any{"people": {
		{"id": "P-1", "name": "张三", "department_id": "A-DIV", "rank": "division", "roles": []any{}, "active": true},
		{"id": "P-2", "name": "李四", "department_id": "B-OFF", "rank": "staff", "roles": []any{}, "active": true},
	}}
	if _, err := st.PutMany(ctx, admin, duty.RawDocs(people)); err != nil {
		t.Fatal(err)
	}
	o1, r1 := sample("S-1")
	saveScan(t, st, "S-1", "", "2025-06-30", "2025-07-01T00:00:00.000000Z", o1, nil, r1)
	o2, r2 := sample("S-2")
	saveScan(t, st, "S-2", "", "2025-12-31", "2026-01-01T00:00:00.000000Z", o2, nil, r2)
	v := violation("list.annual", "low", "B-OFF", "S", 1, nil)
	if _, err := st.InsertCases(ctx, []duty.Case{
		{ID: "C-1", Organ: "ORG-A", Department: "A-DIV", Policy: "talk.pre_appointment", Violation: v, State: "open", OpenedOn: "2026-01-01", DueOn: "2026-02-01"},
		{ID: "C-2", Organ: "ORG-B", Department: "B-OFF", Policy: "list.annual", Violation: v, State: "open", OpenedOn: "2026-01-01", DueOn: "2026-02-01"},
	}); err != nil {
		t.Fatal(err)
	}
	want := readState(t, st)
	if len(want.Tables) != 2 || len(want.Cases) != 2 || len(want.S2.Violations) == 0 {
		t.Fatalf("the store before: %d organ tables, %d cases, %d violations; want 2, 2, some", len(want.Tables), len(want.Cases), len(want.S2.Violations))
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	toLayoutBeforeShards(t, st)

	for _, point := range []string{"shards.copied", "rebuild.mid"} {
		crash, armed := killAt(cfg, point)
		armed.Store(true)
		if _, err := store.Open(ctx, crash); !errors.Is(err, errKilled) {
			t.Fatalf("open killed at %s: %v", point, err)
		}
	}
	st = storetest.OpenConfig(t, cfg)
	got := readState(t, st)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the move (-before +after):\n%s", diff)
	}
	if err := st.VerifyOrganTables(ctx); err != nil {
		t.Error(err)
	}
	names, err := st.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inShards := map[string]int{}
	for _, n := range names {
		db, coll, sharded := strings.Cut(n, "/")
		if !sharded {
			coll = n
		}
		for _, prefix := range []string{"organ_g", "organ.", "report_organ.", "cases."} {
			if !strings.HasPrefix(coll, prefix) {
				continue
			}
			if !sharded {
				t.Errorf("%s left in the store's database", n)
			} else if !strings.HasPrefix(db, st.Database()+"_s") {
				t.Errorf("%s in database %s", coll, db)
			}
			inShards[prefix]++
		}
	}
	// Two organs: their tables of one generation, their findings (and the resolved checks of
	// S-1 and S-2 under "-" when any), their cases.
	if inShards["organ_g"] != 2 || inShards["organ."] != 0 || inShards["report_organ."] < 2 || inShards["cases."] != 2 {
		t.Errorf("tables in the shards: %v; want 2 organ tables, the findings of 2 organs, 2 cases tables", inShards)
	}
}

// TestStoreRefusesAnotherShardCount: a store recorded with another number of shards is not
// opened (its organs' tables would be looked for in the wrong databases).
func TestStoreRefusesAnotherShardCount(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	if _, err := rawDB(t, st).Collection("store_meta").UpdateOne(ctx, bson.D{{Key: "_id", Value: "shards"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: 16}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "16 shard databases") {
		t.Errorf("open a store of 16 shards: %v; want refused", err)
	}
}

// TestDatabaseNameLeavesRoomForShards: a database name whose shards' names would be too long for
// MongoDB and FerretDB is refused at open, saying how long it may be.
func TestDatabaseNameLeavesRoomForShards(t *testing.T) {
	cfg := storetest.NewConfig(t)
	cfg.Database = strings.Repeat("d", 60)
	if _, err := store.Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "at most 59 bytes") {
		t.Errorf("open with a 60-byte database name: %v; want refused", err)
	}
}
