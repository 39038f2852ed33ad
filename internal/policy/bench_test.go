package policy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/bench"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// The benchmarks evaluate generated organs (internal/gen, the shape of the seed's organ: about
// 300 people and 1,100 records) as of the year's last day. Compare runs with benchstat:
//
//	go test ./internal/policy -run '^$' -bench . -count 8 > new.txt
//	benchstat old.txt new.txt
const benchAsOf = "2025-12-31"

func benchOrgan(b *testing.B, organs int, merge bool) *duty.Organ {
	b.Helper()
	ds := gen.Generate(gen.Options{Organs: organs, Seed: 1, Year: 2025, ViolationRate: 0.05})
	if merge {
		ds = bench.Merge(ds)
	}
	os, err := bench.Organs(ds)
	if err != nil {
		b.Fatal(err)
	}
	return os[0]
}

func benchEngine(b *testing.B, bundle *policy.Bundle) *policy.Engine {
	b.Helper()
	e, err := policy.Compile(context.Background(), bundle)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func records(o *duty.Organ) int {
	n := 0
	for _, docs := range o.Docs {
		n += len(docs)
	}
	return n
}

// inputOf builds the organ's input the way a scan does, through the term builder.
func inputOf(tb testing.TB, o *duty.Organ) *policy.OrganInput {
	in, err := policy.InputOf(o, benchAsOf)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// BenchmarkEvaluate evaluates every duty over one organ whose input is already built, for an
// organ of the usual size and one ten times bigger (ten organs merged into one): the second
// should cost about ten times the first.
func BenchmarkEvaluate(b *testing.B) {
	e := benchEngine(b, policy.Builtin())
	for _, tc := range []struct {
		name   string
		organs int
	}{{"organ=1x", 1}, {"organ=10x", 10}} {
		o := benchOrgan(b, tc.organs, true)
		in := inputOf(b, o)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.EvaluateInput(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(records(o)), "records/op")
		})
	}
}

// BenchmarkEvaluateDocs is BenchmarkEvaluate/organ=1x including the conversion of duty.Docs
// into the input, as the offline scan does.
func BenchmarkEvaluateDocs(b *testing.B) {
	e := benchEngine(b, policy.Builtin())
	o := benchOrgan(b, 1, false)
	for b.Loop() {
		if _, err := e.Evaluate(context.Background(), o, benchAsOf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPolicy evaluates each duty on its own over one organ, so that a regression shows
// in the duty that caused it. The time includes the evaluation's fixed cost (the input, the
// shared library rules the duty uses).
func BenchmarkPolicy(b *testing.B) {
	full := policy.Builtin()
	o := benchOrgan(b, 1, false)
	in := inputOf(b, o)
	for _, m := range benchEngine(b, full).Policies() {
		bundle := full.Clone()
		for path := range bundle.Files {
			if strings.HasPrefix(path, "duty/") && !strings.HasPrefix(path, "duty/"+strings.Replace(m.ID, ".", "/", 1)) {
				delete(bundle.Files, path)
			}
		}
		e := benchEngine(b, bundle)
		b.Run(m.ID, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.EvaluateInput(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWarnings evaluates every duty over one organ as of a day a week before the 03-31
// deadlines, when letters, lists and the annual meeting warn, with every duty's warn_days at its
// default (14) and at 0 (warnings off): the difference is the cost of the warnings.
func BenchmarkWarnings(b *testing.B) {
	const asOf = "2025-03-24"
	o := benchOrgan(b, 1, false)
	in, err := policy.InputOf(o, asOf)
	if err != nil {
		b.Fatal(err)
	}
	for _, warnDays := range []int{14, 0} {
		bundle := policy.Builtin()
		for _, m := range benchEngine(b, bundle).Policies() {
			var err error
			if bundle, err = bundle.WithParams(m.ID, map[string]any{policy.WarnDaysParam: warnDays}); err != nil {
				b.Fatal(err)
			}
		}
		e := benchEngine(b, bundle)
		b.Run(fmt.Sprintf("warn_days=%d", warnDays), func(b *testing.B) {
			var warnings int
			for b.Loop() {
				f, err := e.EvaluateInputAll(context.Background(), in)
				if err != nil {
					b.Fatal(err)
				}
				warnings = len(f.Warnings)
			}
			b.ReportMetric(float64(warnings), "warnings/op")
		})
	}
}
