package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Row      int           `json:"row"`
	Pass     bool          `json:"pass"`
	Skip     bool          `json:"skip,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

func (r TestResult) String() string {
	status := "PASS"
	switch {
	case r.Skip:
		status = "SKIP"
	case !r.Pass:
		status = "FAIL"
	}
	s := fmt.Sprintf("%s %s.%s (%s:%d)", status, r.Package, r.Name, r.File, r.Row)
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// Test runs every test_ rule of the bundle's _test.rego modules. A bundle that does not compile
// returns a *BundleError; failing tests are results with Pass false.
func Test(ctx context.Context, b *Bundle) ([]TestResult, error) {
	modules, data, probs := parse(b)
	if len(probs) > 0 {
		return nil, &BundleError{Problems: probs}
	}
	store := dataStore(data)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)).
		SetStore(store).
		SetModules(modules).
		SetTimeout(time.Minute).
		RunTests(ctx, txn)
	if err != nil {
		return nil, &BundleError{Problems: errProblems(err)}
	}
	var out []TestResult
	for r := range ch {
		tr := TestResult{Package: strings.TrimPrefix(r.Package, "data."), Name: r.Name, Pass: r.Pass(), Skip: r.Skip, Duration: r.Duration}
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
	slices.SortFunc(out, func(a, b TestResult) int {
		return strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
	})
	return out, nil
}

func testProblems(results []TestResult) []Problem {
	var probs []Problem
	for _, r := range results {
		if !r.Pass && !r.Skip {
			msg := "test " + r.Package + "." + r.Name + " failed"
			if r.Error != "" {
				msg += ": " + r.Error
			}
			probs = append(probs, Problem{File: r.File, Row: r.Row, Col: 1, Message: msg})
		}
	}
	return probs
}

// Check compiles the bundle and runs its tests: the gate every new bundle passes before it is
// used. It returns the engine, or a *BundleError with compile errors or test failures.
func Check(ctx context.Context, b *Bundle) (*Engine, []TestResult, error) {
	e, err := Compile(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	results, err := Test(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	if probs := testProblems(results); len(probs) > 0 {
		return nil, results, &BundleError{Problems: probs}
	}
	return e, results, nil
}
