package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestCapabilitiesRefuse: a policy (or its test) that reaches outside its input is refused at
// compile time, naming file, line, column and the built-in.
func TestCapabilitiesRefuse(t *testing.T) {
	tests := []struct {
		note    string
		expr    string // in the violation rule
		test    string // replaces the test module when set
		builtin string
		row     int
	}{
		{note: "http.send (SSRF)", expr: `http.send({"method": "GET", "url": "http://127.0.0.1:8080/api/v1/users"}).status_code == 200`, builtin: "http.send", row: 10},
		{note: "net.lookup_ip_addr", expr: `count(net.lookup_ip_addr("example.com")) > 0`, builtin: "net.lookup_ip_addr", row: 10},
		{note: "net.cidr_expand", expr: `count(net.cidr_expand("10.0.0.0/8")) > 0`, builtin: "net.cidr_expand", row: 10},
		{note: "opa.runtime", expr: `opa.runtime().env.HOME != ""`, builtin: "opa.runtime", row: 10},
		{note: "time.now_ns", expr: `time.now_ns() > 0`, builtin: "time.now_ns", row: 10},
		{note: "rand.intn", expr: `rand.intn("x", 10) >= 0`, builtin: "rand.intn", row: 10},
		{note: "uuid.rfc4122", expr: `uuid.rfc4122("x") != ""`, builtin: "uuid.rfc4122", row: 10},
		{note: "json.match_schema", expr: `json.match_schema({}, {"$ref": "http://127.0.0.1/s.json"})[0]`, builtin: "json.match_schema", row: 10},
		{note: "nested in a term", expr: `x := [http.send({"method": "GET", "url": "http://127.0.0.1"})]; count(x) > 0`, builtin: "http.send", row: 10},
		{note: "in a test, mocked with `with`", expr: "true",
			test:    "package duty.z.bomb_test\n\nimport data.duty.z.bomb\n\ntest_x if {\n\tcount(bomb.violation) == 1 with input as {\"people\": [{\"id\": \"P\"}]} with http.send as {}\n}\n",
			builtin: "http.send", row: 6},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			mod, test := bombPolicy(tc.expr)
			file := "duty/z/bomb.rego"
			if tc.test != "" {
				test, file = tc.test, "duty/z/bomb_test.rego"
			}
			b := loadBundle(t, with(testBundle(), map[string]string{"duty/z/bomb.rego": mod, "duty/z/bomb_test.rego": test}))
			for name, run := range map[string]func() error{
				"Compile": func() error { _, err := policy.Compile(context.Background(), b); return err },
				"Test":    func() error { _, err := policy.Test(context.Background(), b); return err },
			} {
				err := run()
				var be *duty.BundleError
				if !errors.As(err, &be) || len(be.Problems) == 0 {
					t.Fatalf("%s: %v, want a *BundleError", name, err)
				}
				p := be.Problems[0]
				if p.File != file || p.Row != tc.row || p.Col == 0 ||
					!strings.HasPrefix(p.Message, "builtin "+tc.builtin+" is not allowed in a dutycheck policy") {
					t.Errorf("%s: problem %v, want %s:%d naming %s", name, p, file, tc.row, tc.builtin)
				}
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	c := policy.Capabilities()
	for _, name := range []string{"http.send", "net.cidr_contains", "opa.runtime", "time.now_ns", "rand.intn"} {
		if c.ContainsBuiltin(name) {
			t.Errorf("capabilities allow %s", name)
		}
	}
	for _, name := range []string{"time.parse_rfc3339_ns", "time.add_date", "count", "sprintf", "numbers.range", "trace"} {
		if !c.ContainsBuiltin(name) {
			t.Errorf("capabilities deny %s", name)
		}
	}
	if c.AllowNet == nil || len(c.AllowNet) != 0 {
		t.Errorf("AllowNet = %v, want empty (no host)", c.AllowNet)
	}
	if d := policy.DeniedBuiltins(); !strings.Contains(strings.Join(d, ","), "http.send") {
		t.Errorf("DeniedBuiltins = %v", d)
	}
}

// TestCheckRequiresTests: a duty policy without a test that reaches it does not pass the gate.
func TestCheckRequiresTests(t *testing.T) {
	mod, test := bombPolicy("true")
	tests := []struct {
		note  string
		files map[string]string
		want  string // "" when the gate passes
	}{
		{note: "with its test", files: map[string]string{"duty/z/bomb.rego": mod, "duty/z/bomb_test.rego": test}},
		{note: "no test file", files: map[string]string{"duty/z/bomb.rego": mod},
			want: "duty/z/bomb.rego:7:1: policy z.bomb has no test: add duty/z/bomb_test.rego"},
		{note: "a test file without test_ rules", files: map[string]string{"duty/z/bomb.rego": mod,
			"duty/z/bomb_test.rego": "package duty.z.bomb_test\n\nhelper := 1\n"},
			want: "duty/z/bomb.rego:7:1: policy z.bomb: duty/z/bomb_test.rego has no test_ rule"},
		{note: "tests that never evaluate the policy", files: map[string]string{"duty/z/bomb.rego": mod,
			"duty/z/bomb_test.rego": "package duty.z.bomb_test\n\ntest_nothing if {\n\t1 == 1\n}\n"},
			want: "duty/z/bomb.rego:7:1: policy z.bomb: no test_ rule of duty/z/bomb_test.rego evaluates a rule of data.duty.z.bomb"},
		{note: "a test in another file does not count", files: map[string]string{"duty/z/bomb.rego": mod,
			"duty/z/other_test.rego": strings.Replace(test, "bomb_test", "other_test", 1)},
			want: "duty/z/bomb.rego:7:1: policy z.bomb has no test"},
		{note: "reached through a helper of the test", files: map[string]string{"duty/z/bomb.rego": mod,
			"duty/z/bomb_test.rego": "package duty.z.bomb_test\n\nimport data.duty.z.bomb\n\n_n := count(bomb.violation)\n\ntest_helper if {\n\t_n == 0\n}\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			_, _, err := policy.Check(context.Background(), loadBundle(t, with(testBundle(), tc.files)))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var be *duty.BundleError
			if !errors.As(err, &be) {
				t.Fatalf("Check: %v, want a *BundleError", err)
			}
			var got []string
			for _, p := range be.Problems {
				got = append(got, p.String())
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
				t.Errorf("problems %s", cmp.Diff([]string{tc.want + "…"}, got))
			}
		})
	}
}
