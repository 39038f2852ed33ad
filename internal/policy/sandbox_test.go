package policy_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

func TestMain(m *testing.M) {
	policy.SandboxMain()
	os.Exit(m.Run())
}

// rangeBomb is the attack of issue 13: numbers.range(1, 60000000) grows the heap by gigabytes.
const rangeBomb = "count(numbers.range(1, 60000000)) > 0"

// bombPolicy is a duty whose violation rule runs expr; its test runs the rule.
func bombPolicy(expr string) (module, test string) {
	module = `# METADATA
# title: 炸弹
# description: A policy that attacks the service.
# custom:
#   id: z.bomb
#   severity: low
package duty.z.bomb

violation contains v if {
	` + expr + `
	some p in input.people
	v := {"reason": "bomb", "subject": {"collection": "people", "id": p.id}, "details": {}, "message": {"zh": "", "en": ""}, "evidence": []}
}
`
	test = `package duty.z.bomb_test

import data.duty.z.bomb

test_bomb if {
	count(bomb.violation) == 1 with input as {"as_of": "2025-06-30", "organ": "O", "people": [{"id": "P1"}], "departments": []}
}
`
	return module, test
}

func testSandbox(tb testing.TB, lim policy.Limits) *policy.Sandbox {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return policy.NewSandbox(exe, lim)
}

// spin burns CPU without holding memory: 25 million steps, far beyond a one-second budget.
const spin = "some x in numbers.range(1, 5000)\n\tsome y in numbers.range(1, 5000)\n\tx * y == -1"

func TestSandboxBudgets(t *testing.T) {
	tests := []struct {
		note     string
		expr     string
		lim      policy.Limits
		resource string
	}{
		{note: "memory: numbers.range(1, 60000000)", expr: rangeBomb, lim: policy.Limits{Memory: 256 << 20, Timeout: time.Minute}, resource: "memory"},
		{note: "time: a long loop", expr: spin, lim: policy.Limits{Memory: 256 << 20, Timeout: time.Second}, resource: "time"},
		{note: "output: a huge answer", expr: "true", lim: policy.Limits{Memory: 256 << 20, Timeout: time.Minute, Output: 10}, resource: "output"},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			mod, test := bombPolicy(tc.expr)
			b := loadBundle(t, with(testBundle(), map[string]string{"duty/z/bomb.rego": mod, "duty/z/bomb_test.rego": test}))
			sb := testSandbox(t, tc.lim)
			if tc.resource != "output" {
				// The gate: the test runs in a child.
				_, _, err := sb.Check(context.Background(), b)
				var be *policy.BudgetError
				if !errors.As(err, &be) || be.Resource != tc.resource || !errors.Is(err, duty.ErrInvalid) {
					t.Fatalf("Check: %v, want a %s BudgetError", err, tc.resource)
				}
			}
			// A scan or preview: the organ is evaluated in a child.
			e, err := policy.Compile(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			bound := sb.Bind(e)
			defer bound.Close()
			_, err = bound.Evaluate(context.Background(), sampleOrgan(), "2025-06-30")
			var be *policy.BudgetError
			if !errors.As(err, &be) || be.Resource != tc.resource || !errors.Is(err, policy.ErrBudget) {
				t.Fatalf("Evaluate: %v, want a %s BudgetError", err, tc.resource)
			}
			if !strings.Contains(err.Error(), "policy evaluation exceeded its "+tc.resource+" budget") {
				t.Errorf("message %q", err)
			}
		})
	}
}

// TestSandboxEvaluateAgrees: a bound engine gives what the engine gives in this process, and
// reuses its child from organ to organ.
func TestSandboxEvaluateAgrees(t *testing.T) {
	ctx := context.Background()
	e := compile(t, testBundle())
	bound := testSandbox(t, policy.Limits{}).Bind(e)
	defer bound.Close()
	for range 3 {
		want, err := e.Evaluate(ctx, sampleOrgan(), "2025-06-30")
		if err != nil {
			t.Fatal(err)
		}
		got, err := bound.Evaluate(ctx, sampleOrgan(), "2025-06-30")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("sandboxed evaluation (-in process +sandbox):\n%s", diff)
		}
		if len(got) == 0 {
			t.Fatal("no violations: the comparison proves nothing")
		}
	}
	// A passing bundle passes the sandboxed gate with the same results.
	_, results, err := testSandbox(t, policy.Limits{}).Check(ctx, loadBundle(t, testBundle()))
	if err != nil || len(results) != 3 {
		t.Fatalf("sandboxed Check: %d results, %v", len(results), err)
	}
}

// sampleOrgan is the organ of the sample dataset; the bomb policy flags each of its people.
func sampleOrgan() *duty.Organ {
	ds := map[string][]duty.RawDoc{}
	for name, text := range sample {
		docs, p := duty.DecodeArray(name, []byte(text))
		if p != nil {
			panic(p)
		}
		ds[strings.TrimSuffix(name, ".json")] = docs
	}
	d, err := duty.NewDataset(ds)
	if err != nil {
		panic(err)
	}
	out, _ := duty.Split(d)
	return out[0]
}

// BenchmarkSandboxOverhead compares one generated organ's evaluation in this process with the
// same in a (warm) sandbox child: the price of the bound is the input's JSON on the way in and
// the violations' on the way out.
func BenchmarkSandboxOverhead(b *testing.B) {
	o := benchOrgan(b, 1, false)
	e := benchEngine(b, policy.Builtin())
	bound := testSandbox(b, policy.Limits{}).Bind(e)
	defer bound.Close()
	for _, bc := range []struct {
		name string
		e    *policy.Engine
	}{{"in-process", e}, {"sandbox", bound}} {
		b.Run(bc.name, func(b *testing.B) {
			in := inputOf(b, o)
			if _, err := bc.e.EvaluateInput(context.Background(), in); err != nil { // warm the child
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := bc.e.EvaluateInput(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
