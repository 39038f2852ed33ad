package bench

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// The records held as BSON and evaluated as a scan does give exactly the violations of the
// plain evaluation of the organs.
func TestEvaluateRecordsAsEvaluate(t *testing.T) {
	ctx := context.Background()
	const date = "2025-12-31"
	organs, err := Organs(gen.Generate(gen.Options{Organs: 3, Seed: 3, Year: 2025, ViolationRate: 0.1}))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	want, err := scan.Evaluate(ctx, scan.Options{AsOf: date, Engine: eng, Workers: 2}, organs)
	if err != nil {
		t.Fatal(err)
	}
	recs, size, err := encodeOrgans(organs)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || size == 0 {
		t.Fatalf("encoded %d organs in %d bytes", len(recs), size)
	}
	got, err := evaluateRecords(ctx, eng, recs, date)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !slices.Equal(canonical(got), canonical(want)) {
		t.Errorf("evaluateRecords found %d violations, Evaluate %d; first difference: %s",
			len(got), len(want), firstDifference(canonical(got), canonical(want)))
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := evaluateRecords(cancelled, eng, recs, date); !errors.Is(err, context.Canceled) {
		t.Errorf("evaluateRecords on a cancelled context = %v, want context.Canceled", err)
	}
	recs[1].colls[0] = recs[1].colls[0][:len(recs[1].colls[0])-1]
	if _, err := evaluateRecords(ctx, eng, recs, date); err == nil {
		t.Error("evaluateRecords of a truncated record gave no error")
	}
}
