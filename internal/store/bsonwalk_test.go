package store

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The walker decodes every BSON type a record may hold into the values of a Doc (fromRaw,
// duty.DocValues), and fails, never panics, on damaged bytes.
func TestWalkerDecodes(t *testing.T) {
	doc := bson.D{
		{Key: "_id", Value: "B-1"}, {Key: "id", Value: "B-1"}, {Key: "year", Value: int32(2025)},
		{Key: "big", Value: int64(1) << 40}, {Key: "whole", Value: 3.0}, {Key: "half", Value: 2.5},
		{Key: "huge", Value: math.Pow(2, 60)}, {Key: "ok", Value: true}, {Key: "none", Value: nil},
		{Key: "name", Value: "全程记实本"}, {Key: "empty", Value: ""}, {Key: "roles", Value: bson.A{}},
		{Key: "tasks", Value: bson.A{bson.D{{Key: "id", Value: "T1"}, {Key: "due_on", Value: "2025-03-01"}},
			bson.D{{Key: "nested", Value: bson.A{bson.A{int32(1), "x"}, bson.D{}}}}}},
		{Key: "_organ", Value: "ORG-1"},
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	w := walker[any]{b: duty.DocValues{}}
	got, err := w.document(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_id": "B-1", "id": "B-1", "year": int64(2025), "big": int64(1) << 40, "whole": int64(3), "half": 2.5,
		// A whole double from 2^53 on stays a double: doubles stop being exact there.
		"huge": math.Pow(2, 60), "ok": true, "none": nil, "name": "全程记实本", "empty": "", "roles": []any{},
		"tasks": []any{map[string]any{"id": "T1", "due_on": "2025-03-01"},
			map[string]any{"nested": []any{[]any{int64(1), "x"}, map[string]any{}}}},
		"_organ": "ORG-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("walker (-want +got):\n%s", diff)
	}
	d, organ, err := fromRaw(raw)
	if err != nil || organ != "ORG-1" || d["_id"] != nil || d[duty.OrganField] != nil || d["name"] != "全程记实本" {
		t.Errorf("fromRaw = %v, %q, %v; want the record without _id and its organ stamp ORG-1", d, organ, err)
	}
	// A record another tool wrote, with an ObjectId _id, reads as the same record.
	doc[0].Value = bson.NewObjectID()
	withOID, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d2, organ2, err := fromRaw(withOID)
	if err != nil || organ2 != "ORG-1" || !cmp.Equal(d, d2) {
		t.Errorf("fromRaw with an ObjectId _id = %v, %q, %v; want %v", d2, organ2, err, d)
	}
	if len(w.keys) != 0 || len(w.vals) != 0 {
		t.Errorf("walker left %d keys and %d values on its stacks", len(w.keys), len(w.vals))
	}

	// Every truncation or corruption is an error, never a panic or a wrong value.
	for n := range len(raw) {
		cut := slices.Clone(raw[:n])
		if _, err := w.document(cut, false); err == nil {
			t.Errorf("document cut at %d bytes decoded without error", n)
		}
	}
	for i := range raw {
		bad := slices.Clone(raw)
		bad[i] ^= 0xff
		_, _ = w.document(bad, false) // must not panic
	}
	if _, err := w.document(mustMarshal(t, bson.D{{Key: "t", Value: bson.NewObjectID()}}), false); err == nil {
		t.Error("an ObjectID decoded without error, want an unexpected-type error")
	}
}

func mustMarshal(tb testing.TB, d bson.D) []byte {
	tb.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
