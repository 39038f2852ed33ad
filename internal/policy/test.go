package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Test runs every test_ rule of the bundle's _test.rego modules. A bundle that does not compile
// returns a *duty.BundleError; failing tests are results with Pass false.
func Test(ctx context.Context, b *Bundle) ([]duty.TestResult, error) {
	modules, data, probs := parse(b)
	if len(probs) > 0 {
		return nil, &duty.BundleError{Problems: probs}
	}
	store := dataStore(data)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().
		SetCompiler(newCompiler()).
		SetStore(store).
		SetModules(modules).
		SetTimeout(time.Minute).
		RaiseBuiltinErrors(true).
		RunTests(ctx, txn)
	if err != nil {
		return nil, &duty.BundleError{Problems: errProblems(err)}
	}
	var out []duty.TestResult
	for r := range ch {
		tr := duty.TestResult{Package: strings.TrimPrefix(r.Package, "data."), Name: r.Name, Pass: r.Pass(), Skip: r.Skip, Duration: r.Duration}
		if r.Location != nil {
			tr.File, tr.Row = r.Location.File, r.Location.Row
		}
		if r.Error != nil {
			tr.Error = r.Error.Error()
		}
		out = append(out, tr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b duty.TestResult) int {
		return strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
	})
	return out, nil
}

func testProblems(results []duty.TestResult) []duty.BundleProblem {
	var probs []duty.BundleProblem
	for _, r := range results {
		if !r.Pass && !r.Skip {
			msg := "test " + r.Package + "." + r.Name + " failed"
			if r.Error != "" {
				msg += ": " + r.Error
			}
			probs = append(probs, duty.BundleProblem{File: r.File, Row: r.Row, Col: 1, Kind: duty.BundleTest, Message: msg})
		}
	}
	return probs
}

// Check compiles the bundle, requires a test of every duty policy and runs the tests: the gate
// every new bundle passes before it is used. It returns the engine, or a *duty.BundleError with
// compile errors, untested policies or test failures.
func Check(ctx context.Context, b *Bundle) (*Engine, []duty.TestResult, error) {
	if e, results, ok := passed.get(b, ""); ok {
		return e, results, nil
	}
	e, compiler, err := compile(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	if probs := untested(compiler, e.metas); len(probs) > 0 {
		return nil, nil, &duty.BundleError{Problems: probs}
	}
	results, err := Test(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	if probs := testProblems(results); len(probs) > 0 {
		return nil, results, &duty.BundleError{Problems: probs}
	}
	passed.add("", e, results)
	return e, results, nil
}

// untested names every duty policy without a test: policy duty/<area>/<name>.rego needs
// duty/<area>/<name>_test.rego beside it, with at least one test_ rule that reaches the
// policy's rules (directly or through helpers of the test module).
func untested(compiler *ast.Compiler, metas []duty.PolicyMeta) []duty.BundleProblem {
	var probs []duty.BundleProblem
	for _, m := range metas {
		pm := compiler.Modules[m.File]
		tf := duty.PolicyTestFile(m.File)
		tm, ok := compiler.Modules[tf]
		fail := func(msg string) {
			row := 1
			if pm != nil && pm.Package != nil && pm.Package.Location != nil {
				row = pm.Package.Location.Row
			}
			probs = append(probs, duty.BundleProblem{File: m.File, Row: row, Col: 1, Kind: duty.BundleUntested, Message: msg})
		}
		if !ok {
			fail(fmt.Sprintf("policy %s has no test: add %s with at least one test_ rule that evaluates data.%s (a policy without tests is refused)", m.ID, tf, m.Package))
			continue
		}
		exercised := false
		tests := 0
		for _, r := range tm.Rules {
			if !strings.HasPrefix(r.Head.Ref().String(), "test_") {
				continue
			}
			tests++
			if reaches(compiler.Graph, r, pm) {
				exercised = true
				break
			}
		}
		switch {
		case tests == 0:
			fail(fmt.Sprintf("policy %s: %s has no test_ rule (a policy without tests is refused)", m.ID, tf))
		case !exercised:
			fail(fmt.Sprintf("policy %s: no test_ rule of %s evaluates a rule of data.%s (a policy without tests is refused)", m.ID, tf, m.Package))
		}
	}
	return probs
}

// reaches reports whether rule r depends, directly or transitively, on a rule of module target.
func reaches(g *ast.Graph, r *ast.Rule, target *ast.Module) bool {
	seen := map[*ast.Rule]bool{}
	stack := []*ast.Rule{r}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for dep := range g.Dependencies(cur) {
			d, ok := dep.(*ast.Rule)
			if !ok || seen[d] {
				continue
			}
			if d.Module == target {
				return true
			}
			seen[d] = true
			stack = append(stack, d)
		}
	}
	return false
}
