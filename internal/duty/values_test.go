package duty_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Build passes a record held in memory to a builder as the store's decoder passes a stored
// one: whole numbers (up to 2^53) as Int, the others as Float, arrays and objects whole.
func TestBuild(t *testing.T) {
	doc := duty.Doc{
		"id": "T-1", "n": 3, "i32": int32(-4), "i64": int64(1) << 40, "whole": 2.0, "half": 0.5,
		"huge": math.Pow(2, 60), "jn": json.Number("12"), "jf": json.Number("1.25"), "ok": false,
		"none": nil, "empty": []any{}, "_organ": "O-1",
		"entries": []any{map[string]any{"date": "2025-03-01", "tags": []any{"a", 1.0}}},
	}
	got, err := duty.Build(duty.DocValues{}, doc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": "T-1", "n": int64(3), "i32": int64(-4), "i64": int64(1) << 40, "whole": int64(2), "half": 0.5,
		"huge": math.Pow(2, 60), "jn": int64(12), "jf": 1.25, "ok": false,
		"none": nil, "empty": []any{}, "_organ": "O-1",
		"entries": []any{map[string]any{"date": "2025-03-01", "tags": []any{"a", int64(1)}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Build (-want +got):\n%s", diff)
	}
	if e := got.(map[string]any)["empty"].([]any); e == nil {
		t.Error("an empty array was built as nil (JSON null)")
	}
}

// A value no record can hold is an error that says where, never a value changed on the way.
func TestBuildRefusesOtherTypes(t *testing.T) {
	for _, x := range []any{
		duty.Doc{"id": "T-1", "when": struct{}{}},
		map[string]any{"list": []any{"a", complex(1, 2)}},
		json.Number("not a number"),
	} {
		_, err := duty.Build(duty.DocValues{}, x)
		if err == nil {
			t.Errorf("Build(%v) gave no error", x)
			continue
		}
		if m, ok := x.(map[string]any); ok && !strings.Contains(err.Error(), "list: [1]") {
			t.Errorf("Build(%v) = %v, want the place list: [1]", m, err)
		}
	}
}
