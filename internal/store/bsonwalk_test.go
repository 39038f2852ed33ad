package store

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// values builds the values fromRaw gives, so that the walker is checked against it.
type values struct{}

func (values) String(b []byte) any   { return string(b) }
func (values) Bool(v bool) any       { return v }
func (values) Int(v int64) any       { return v }
func (values) Float(v float64) any   { return v }
func (values) Null() any             { return nil }
func (values) Array(elems []any) any { return slices.Clone(elems) }
func (values) Object(keys [][]byte, vals []any) any {
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		m[string(k)] = vals[i]
	}
	return m
}

func TestWalkerDecodesAsFromRaw(t *testing.T) {
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
	w := walker[any]{b: values{}}
	got, err := w.document(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	want, organ, err := fromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	if m["_organ"] != organ || m["_id"] != "B-1" {
		t.Errorf("walker kept _organ %v and _id %v, want %q and B-1", m["_organ"], m["_id"], organ)
	}
	delete(m, "_organ")
	delete(m, "_id")
	// fromRaw turns integral doubles into int64 only up to int64's range; the walker up to 2^53,
	// where doubles stop being exact.
	want["huge"] = math.Pow(2, 60)
	m["huge"] = want["huge"]
	if diff := cmp.Diff(map[string]any(want), m); diff != "" {
		t.Errorf("walker (-fromRaw +walker):\n%s", diff)
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
