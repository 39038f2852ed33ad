package policy_test

import (
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestBuiltinBundleStyle holds the built-in bundle to the Rego style the README asks of policy
// authors: `opa fmt` formatting, `opa check --strict`, and a _test.rego beside every duty.
func TestBuiltinBundleStyle(t *testing.T) {
	b := policy.Builtin()
	modules := map[string]*ast.Module{}
	for path, src := range b.Files {
		if !strings.HasSuffix(path, ".rego") {
			continue
		}
		formatted, err := format.SourceWithOpts(path, []byte(src), format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if string(formatted) != src {
			t.Errorf("%s is not opa fmt formatted", path)
		}
		m, err := ast.ParseModuleWithOpts(path, src, ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		modules[path] = m
		if strings.HasPrefix(path, "duty/") && !policy.IsTest(path) {
			if _, ok := b.Files[strings.TrimSuffix(path, ".rego")+"_test.rego"]; !ok {
				t.Errorf("%s has no _test.rego beside it", path)
			}
		}
	}
	c := ast.NewCompiler().WithStrict(true).WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(modules); c.Failed() {
		t.Errorf("opa check --strict: %v", c.Errors)
	}
}
