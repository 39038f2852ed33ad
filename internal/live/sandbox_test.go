package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

func TestMain(m *testing.M) {
	policy.SandboxMain() // this test binary is also the sandbox child
	os.Exit(m.Run())
}

func sandboxManager(tb testing.TB, st *store.Store) *live.Manager {
	tb.Helper()
	m, err := live.New(context.Background(), live.Config{Store: st, Builtin: policy.Builtin(), Log: quiet, Sandbox: sandboxOf(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// sandboxOf is a sandbox whose children are this test binary, with a 384 MiB memory budget.
func sandboxOf(tb testing.TB) *policy.Sandbox {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return policy.NewSandbox(exe, policy.Limits{Memory: 384 << 20, Timeout: time.Minute})
}

// zPolicy is duty z.bomb: its violation rule runs body for each person; its test (when test
// is true) evaluates the rule over one person.
func zPolicy(body string, test bool) map[string]*string {
	mod := `# METADATA
# title: 试验
# description: A policy an attacker writes.
# custom:
#   id: z.bomb
#   severity: low
#   reasons: [bomb]
package duty.z.bomb

violation contains v if {
	some p in input.people
	` + body + `
}
`
	files := map[string]*string{"duty/z/bomb.rego": &mod}
	if test {
		t := `package duty.z.bomb_test

import data.duty.z.bomb

test_runs if {
	count(bomb.violation) >= 0 with input as {"as_of": "2025-06-30", "organ": "O", "people": [{"id": "P1", "name": "n"}], "departments": []}
}
`
		files["duty/z/bomb_test.rego"] = &t
	}
	return files
}

const plainViolation = `v := {"reason": "bomb", "subject": {"collection": "people", "id": p.id}, "details": {}, "message": {"zh": "", "en": ""}, "evidence": []}`

// TestSandboxedGate: the attacks of issue 13 on the change gate are refused with 422-class
// errors, and the service keeps its revision.
func TestSandboxedGate(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	m := sandboxManager(t, st)
	for _, tc := range []struct {
		note  string
		files map[string]*string
		want  string
	}{
		{"numbers.range(1, 60000000) in a tested rule", zPolicy("count(numbers.range(1, 60000000)) > 0\n\t"+plainViolation, true),
			"policy evaluation exceeded its memory budget (384 MiB) while running the tests"},
		{"a module without a test", zPolicy(plainViolation, false), "policy z.bomb has no test"},
		{"http.send (SSRF)", zPolicy(`http.send({"method": "GET", "url": "http://127.0.0.1:1/"}).status_code == 200`+"\n\t"+plainViolation, true),
			"builtin http.send is not allowed in a dutycheck policy"},
		{"the clock", zPolicy("time.now_ns() > 0\n\t"+plainViolation, true), "builtin time.now_ns is not allowed"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			d := duty.PolicyDraft{Files: tc.files}
			for name, run := range map[string]func() error{
				"Validate": func() error { _, err := m.Validate(ctx, d); return err },
				"Apply": func() error {
					_, err := m.Apply(ctx, d, duty.PolicyChange{Base: m.Revision(), Author: "editor"})
					return err
				},
			} {
				err := run()
				if !errors.Is(err, duty.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v, want an invalid-input error containing %q", name, err, tc.want)
				}
			}
			if m.Revision() != "r1" {
				t.Errorf("revision in force %s, want r1", m.Revision())
			}
		})
	}
}

// TestSandboxedEvaluationSurvivesAGatedBomb: a module whose test passes but that blows up on
// real records (more than one person) is stopped in a preview and at the gate (the guard
// evaluates the reference organ in the sandbox), and, were it in force, in the scan; the
// service lives on.
func TestSandboxedEvaluationSurvivesAGatedBomb(t *testing.T) {
	st := storetest.Open(t)
	loadDataset(t, st)
	ctx := context.Background()
	m := sandboxManager(t, st)
	d := duty.PolicyDraft{Files: zPolicy("count(input.people) > 1\n\tcount(numbers.range(1, 60000000)) > 0\n\t"+plainViolation, true)}
	start := time.Now()
	_, err := m.Preview(ctx, d, scan.Request{AsOf: asOf}, duty.System("admin"))
	t.Logf("preview: %v after %v", err, time.Since(start))
	if !errors.Is(err, policy.ErrBudget) || !errors.Is(err, duty.ErrInvalid) {
		t.Fatalf("Preview: %v, want a budget error", err)
	}
	start = time.Now()
	_, err = m.Apply(ctx, d, duty.PolicyChange{Base: m.Revision(), Author: "editor"})
	t.Logf("apply: %v after %v", err, time.Since(start))
	if !errors.Is(err, policy.ErrBudget) || m.Revision() != "r1" {
		t.Fatalf("Apply of a module whose test passes but that blows up on records: %v (in force %s), want a budget error and r1", err, m.Revision())
	}
	// Were such a module in force (compiled here without the gate), the scan stops with the
	// budget error too.
	b, err := m.Bundle(d)
	if err != nil {
		t.Fatal(err)
	}
	bomb, err := policy.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	bound := sandboxOf(t).Bind(bomb)
	defer bound.Close()
	start = time.Now()
	organs, _, err := scan.LoadScope(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = scan.Evaluate(ctx, scan.Options{AsOf: asOf, Engine: bound, Workers: 2}, organs)
	t.Logf("scan: %v after %v", err, time.Since(start))
	var be *policy.BudgetError
	if !errors.As(err, &be) || be.Resource != "memory" {
		t.Fatalf("scan: %v, want a memory budget error", err)
	}
}

// TestPreviewAnswersWhatTheCallerMayRead: a draft that copies the people of the organ into its
// violations (and into their reason and department) shows a policy editor counts only, with
// no record content, and an admin the violations; both previews are audited.
func TestPreviewAnswersWhatTheCallerMayRead(t *testing.T) {
	st := storetest.Open(t)
	loadDataset(t, st)
	ctx := context.Background()
	m := newManager(t, st, "")
	leak := `v := {"reason": p.name, "department": p.name, "subject": {"collection": "people", "id": p.id}, "details": {"people": input.people}, "message": {"zh": p.name, "en": ""}, "evidence": []}`
	d := duty.PolicyDraft{Files: zPolicy(leak, true)}

	admin, err := m.Preview(ctx, d, scan.Request{AsOf: asOf}, duty.System("admin"))
	if err != nil {
		t.Fatal(err)
	}
	if !admin.Detailed || len(admin.Added) == 0 || admin.Counts.Added.Total != len(admin.Added) {
		t.Fatalf("admin preview: detailed %v, %d added, counts %+v", admin.Detailed, len(admin.Added), admin.Counts.Added)
	}
	name := admin.Added[0].Reason

	editor := duty.Principal{User: "editor", Role: duty.RolePolicyEditor}
	imp, err := m.Preview(ctx, d, scan.Request{AsOf: asOf}, editor)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Detailed || len(imp.Added) != 0 || len(imp.Removed) != 0 {
		t.Errorf("policy editor preview: detailed %v, %d added, %d removed; want counts only", imp.Detailed, len(imp.Added), len(imp.Removed))
	}
	if imp.Counts.Added.Total != len(admin.Added) || imp.Counts.Added.ByPolicy["z.bomb"] != len(admin.Added) {
		t.Errorf("policy editor counts %+v, want %d added for z.bomb", imp.Counts.Added, len(admin.Added))
	}
	if n := imp.Counts.Added.ByReason["z.bomb/(other)"]; n != len(admin.Added) {
		t.Errorf("reasons not in METADATA counted %d times under (other), want %d: %v", n, len(admin.Added), imp.Counts.Added.ByReason)
	}
	body, _ := json.Marshal(imp)
	if strings.Contains(string(body), name) {
		t.Errorf("the policy editor's preview carries record content %q: %s", name, body)
	}

	trail, err := st.AuditTrail(ctx, "editor", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 1 || trail[0].Action != "policy.preview" || len(trail[0].After) != 1 || trail[0].After[0] != imp.Draft ||
		len(trail[0].IDs) != 1 || trail[0].IDs[0] != "department:* as_of:"+asOf {
		t.Errorf("audit trail of the editor %+v, want one policy.preview of draft %s over every department", trail, imp.Draft)
	}
}

// TestMalformedFindingsAreTheDraftsFault: a draft whose violations lack a reason is refused as
// invalid input (422 through the API, not a 500), whether the gate's reference organ shows it
// or only the stored records do in a preview; and the refusal does not quote the findings,
// which may carry records the caller may not read.
func TestMalformedFindingsAreTheDraftsFault(t *testing.T) {
	st := storetest.Open(t)
	loadDataset(t, st)
	ctx := context.Background()
	m := newManager(t, st, "")
	good := `{"reason": "bomb", "subject": {"collection": "people", "id": p.id}, "details": {}, "message": {"zh": "", "en": ""}, "evidence": []}`
	bad := `{"subject": {"collection": "people", "id": p.name}, "details": {"who": p.name}, "message": {"zh": p.name, "en": ""}, "evidence": []}`
	names := func() []string {
		var out []string
		for _, d := range gen.Generate(gen.Options{Boundaries: true, Seed: 11, AsOf: asOf, Organs: 2})["people"] {
			if n, _ := d["name"].(string); n != "" {
				out = append(out, n)
			}
		}
		return out
	}()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, duty.ErrInvalid) || !strings.Contains(err.Error(), "a violation needs reason and subject") {
			t.Errorf("%s: %v; want invalid input saying a violation needs reason and subject", what, err)
			return
		}
		for _, n := range names {
			if strings.Contains(err.Error(), n) {
				t.Errorf("%s: the error quotes the record content %q: %v", what, n, err)
				return
			}
		}
	}
	// Malformed everywhere: the gate refuses it on the reference organ.
	_, err := m.Validate(ctx, duty.PolicyDraft{Files: zPolicy("v := "+bad, true)})
	check("validate", err)
	// Malformed only as of the stored records' date: the gate passes, the preview refuses.
	only := `v := [` + bad + `, ` + good + `][to_number(input.as_of != "` + asOf + `")]`
	_, err = m.Preview(ctx, duty.PolicyDraft{Files: zPolicy(only, true)}, scan.Request{AsOf: asOf}, duty.Principal{User: "editor", Role: duty.RolePolicyEditor})
	check("preview", err)
}
