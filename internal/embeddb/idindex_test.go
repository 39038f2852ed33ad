package embeddb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/embeddb"
)

// plan returns FerretDB's query plan of a find by _id (the SQLite plan of the pushed-down
// query, under queryPlanner).
func plan(tb testing.TB, db *mongo.Database, coll, id string) string {
	tb.Helper()
	var out bson.M
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: bson.D{{Key: "_id", Value: id}}}}}}
	if err := db.RunCommand(context.Background(), cmd).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprint(out["queryPlanner"])
}

// A lookup by _id scans the whole table until IndexIDs has run, then searches the index; the
// collections left out by the predicate are not indexed; a second call creates nothing; the
// document read back is the same.
func TestIndexIDs(t *testing.T) {
	ctx := context.Background()
	dir := shortTempDir(t)
	edb, err := embeddb.Start(ctx, embeddb.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer edb.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(edb.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database("idx")
	for _, c := range []string{"people", "organ_g1.ORG-1"} {
		docs := []any{}
		for i := range 50 {
			docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("P-%d", i)}, {Key: "name", Value: fmt.Sprintf("name %d", i)}})
		}
		if _, err := db.Collection(c).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	if p := plan(t, db, "people", "P-7"); !strings.Contains(p, "SCAN") || strings.Contains(p, "INDEX") {
		t.Fatalf("before IndexIDs the plan is %s, want a scan of the table (else this test proves nothing)", p)
	}
	want := func(c string) bool { return !strings.HasPrefix(c, "organ_g") }
	n, err := edb.IndexIDs(ctx, "idx", want)
	if err != nil || n != 1 {
		t.Fatalf("IndexIDs = %d, %v; want 1 index made", n, err)
	}
	// A connection learns of the new index at its next read (SQLite checks the schema when a
	// statement starts a transaction, which EXPLAIN does not): read first.
	for range 4 {
		_ = db.Collection("people").FindOne(ctx, bson.D{{Key: "_id", Value: "P-1"}}).Err()
	}
	if p := plan(t, db, "people", "P-7"); !strings.Contains(p, "USING INDEX") {
		t.Errorf("after IndexIDs the plan is %s, want a search of the index", p)
	}
	if p := plan(t, db, "organ_g1.ORG-1", "P-7"); strings.Contains(p, "INDEX") {
		t.Errorf("a collection left out was indexed: %s", p)
	}
	if n, err := edb.IndexIDs(ctx, "idx", want); err != nil || n != 0 {
		t.Errorf("second IndexIDs = %d, %v; want 0, nil", n, err)
	}
	var got bson.M
	if err := db.Collection("people").FindOne(ctx, bson.D{{Key: "_id", Value: "P-7"}}).Decode(&got); err != nil || got["name"] != "name 7" {
		t.Errorf("read back %v, %v", got, err)
	}
	if err := db.Collection("people").FindOne(ctx, bson.D{{Key: "_id", Value: "P-99"}}).Err(); err != mongo.ErrNoDocuments {
		t.Errorf("a missing id: %v, want no documents", err)
	}
	if _, err := edb.IndexIDs(ctx, "nosuchdb", want); err == nil {
		t.Error("IndexIDs of a database without a file: no error")
	}
}
