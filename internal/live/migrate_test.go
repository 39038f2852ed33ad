package live_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// A store written by the earlier version, whose rollbacks moved an active-revision marker
// instead of appending a revision: the first start records the rollback as a revision, so that
// the newest revision is the one in force, and removes the marker.
func TestMigrateEarlierMarker(t *testing.T) {
	for _, tc := range []struct {
		note    string
		marker  string // the revision the earlier marker points at
		inForce string
		revs    int
	}{
		{"rolled back to r1", "r1", "r3", 3},
		{"the newest in force", "r2", "r2", 2},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ctx := context.Background()
			name := fmt.Sprintf("migrate_%d_%d", time.Now().UnixNano()%1e9, sharedN.Add(1))
			st, err := store.Open(ctx, store.Config{URI: storetest.URI(t), Database: name})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Drop(context.Background()); _ = st.Close(context.Background()) })
			b := policy.Builtin()
			if err := st.InsertRevision(ctx, &duty.PolicyRevision{Hash: b.Revision(), Author: "system", Message: "built-in bundle", Files: b.Files}, 0); err != nil {
				t.Fatal(err)
			}
			b2, err := b.WithParams("meeting.joint", map[string]any{"max_gap_days": 40})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.InsertRevision(ctx, &duty.PolicyRevision{Hash: b2.Revision(), Author: "editor", Message: "x", Parent: "r1", Files: b2.Files}, 1); err != nil {
				t.Fatal(err)
			}
			client, err := mongo.Connect(options.Client().ApplyURI(storetest.URI(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer client.Disconnect(ctx)
			markers := client.Database(name).Collection("policy_active")
			if _, err := markers.InsertOne(ctx, bson.D{{Key: "_id", Value: "active"}, {Key: "revision", Value: tc.marker}, {Key: "seq", Value: int64(3)}}); err != nil {
				t.Fatal(err)
			}

			m := newManager(t, st, "")
			revs, _ := st.Revisions(ctx)
			if m.Revision() != tc.inForce || len(revs) != tc.revs {
				t.Fatalf("in force %s with %d revisions, want %s with %d", m.Revision(), len(revs), tc.inForce, tc.revs)
			}
			want, _ := st.Revision(ctx, tc.marker)
			if m.Engine().Revision() != want.Hash {
				t.Errorf("in force the content of %s, want that of %s", m.Engine().Revision(), tc.marker)
			}
			if tc.inForce != tc.marker && (revs[0].Author != "system:migration" || revs[0].RestoredFrom != tc.marker) {
				t.Errorf("the migration's revision: %+v", revs[0])
			}
			if n, _ := markers.CountDocuments(ctx, bson.D{}); n != 0 {
				t.Errorf("the earlier marker is still there")
			}
			newManager(t, st, "")
			if again, _ := st.Revisions(ctx); len(again) != tc.revs {
				t.Errorf("a second start made %d revisions, want %d", len(again), tc.revs)
			}
		})
	}
}
