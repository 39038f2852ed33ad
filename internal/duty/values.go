package duty

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
)

// ValueBuilder builds a record in a representation of the caller's choosing while the store
// decodes it, so that a scan turns stored bytes straight into the policy engine's values
// without an intermediate Doc. The decoder calls it bottom-up: the values of an array or an
// object first, then Array or Object with them.
//
// The byte slices and the slices of keys and values are only valid during the call (the
// decoder reuses them); a builder copies what it keeps. Numbers arrive as Int when they are
// integral, as Float otherwise.
type ValueBuilder[T any] interface {
	String(b []byte) T
	Bool(v bool) T
	Int(v int64) T
	Float(v float64) T
	Null() T
	Array(elems []T) T
	Object(keys [][]byte, vals []T) T
}

// DocValues builds the JSON-like values a Doc holds: strings, booleans, int64, float64, nil,
// []any and map[string]any (with every key, the store's own "_" fields included). The store
// decodes its records into Docs with it, through the same decoder a scan uses for the policy
// engine's values.
type DocValues struct{}

// String implements ValueBuilder.
func (DocValues) String(b []byte) any { return string(b) }

// Bool implements ValueBuilder.
func (DocValues) Bool(v bool) any { return v }

// Int implements ValueBuilder.
func (DocValues) Int(v int64) any { return v }

// Float implements ValueBuilder.
func (DocValues) Float(v float64) any { return v }

// Null implements ValueBuilder.
func (DocValues) Null() any { return nil }

// Array implements ValueBuilder. An empty array is an empty slice, never nil (which JSON
// would write as null).
func (DocValues) Array(elems []any) any { return append(make([]any, 0, len(elems)), elems...) }

// Object implements ValueBuilder.
func (DocValues) Object(keys [][]byte, vals []any) any {
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		m[string(k)] = vals[i]
	}
	return m
}

var _ ValueBuilder[any] = DocValues{}

// Build passes a record held in memory (a Doc, or any value of one: what DocValues builds, or
// what JSON decoding gives, json.Number included) to b, as the store's decoder passes a stored
// one: whole numbers up to 2^53 as Int, other numbers as Float, an object's keys in sorted
// order. A value of any other type is an error, so that nothing reaches a policy changed.
func Build[T any](b ValueBuilder[T], x any) (T, error) {
	var zero T
	switch v := x.(type) {
	case nil:
		return b.Null(), nil
	case string:
		return b.String([]byte(v)), nil
	case bool:
		return b.Bool(v), nil
	case int:
		return b.Int(int64(v)), nil
	case int32:
		return b.Int(int64(v)), nil
	case int64:
		return b.Int(v), nil
	case float64:
		return BuildFloat(b, v), nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return b.Int(i), nil
		}
		f, err := v.Float64()
		if err != nil {
			return zero, fmt.Errorf("number %s: %w", v, err)
		}
		return BuildFloat(b, f), nil
	case []any:
		elems := make([]T, len(v))
		for i, e := range v {
			t, err := Build(b, e)
			if err != nil {
				return zero, fmt.Errorf("[%d]: %w", i, err)
			}
			elems[i] = t
		}
		return b.Array(elems), nil
	case Doc:
		return buildObject(b, v)
	case map[string]any:
		return buildObject(b, v)
	}
	return zero, fmt.Errorf("a value of Go type %T is not a record's value", x)
}

// BuildFloat passes a double to b: a whole number up to 2^53 (where doubles stop being exact)
// as Int, any other as Float. It is the one rule of numbers for Build and the store's decoder.
func BuildFloat[T any](b ValueBuilder[T], f float64) T {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return b.Int(int64(f))
	}
	return b.Float(f)
}

func buildObject[T any](b ValueBuilder[T], m map[string]any) (T, error) {
	keys := slices.Sorted(maps.Keys(m))
	bkeys := make([][]byte, len(keys))
	vals := make([]T, len(keys))
	for i, k := range keys {
		t, err := Build(b, m[k])
		if err != nil {
			var zero T
			return zero, fmt.Errorf("%s: %w", k, err)
		}
		bkeys[i], vals[i] = []byte(k), t
	}
	return b.Object(bkeys, vals), nil
}
