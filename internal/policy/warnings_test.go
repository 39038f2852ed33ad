package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// warnRego is a duty for these tests that warns of every appointment recorded ahead of time
// (input.upcoming_appointments), failing on its effective_on, and whose `extra` warning and
// violation rules the table tests replace.
const warnRego = `# METADATA
# title: 预警探针
# description: A duty for tests of warnings.
# custom:
#   id: z.warn
#   severity: medium
#   accountable: leaders
#   reasons: [soon]
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366}
package duty.z.warn

violation contains v if {
	some v in _extra_violations
}

warning contains w if {
	some a in input.upcoming_appointments
	w := {
		"reason": "soon",
		"subject": {"collection": "appointments", "id": a.id},
		"details": {},
		"message": {"zh": "即将到期", "en": "due soon"},
		"evidence": [],
		"fails_on": a.effective_on,
	}
}

warning contains w if {
	some w in _extra_warnings
}

_extra_violations := []

_extra_warnings := []
`

const warnTestRego = `package duty.z.warn_test

import data.duty.z.warn

test_warns if {
	count(warn.warning) == 1 with input as {"as_of": "2025-06-30", "upcoming_appointments": [{"id": "A", "effective_on": "2025-07-01"}]}
}
`

func warnBundle(rego, params string) map[string]string {
	return map[string]string{
		"duty/z/warn.rego":      rego,
		"duty/z/warn_test.rego": warnTestRego,
		"params/data.json":      params,
	}
}

const warnParams = `{"x": {"probe": {"severity": "low", "days": 30}}, "z": {"warn": {"severity": "medium", "warn_days": 14}}}`

func TestEvaluateAllWarnings(t *testing.T) {
	e := compile(t, with(testBundle(), warnBundle(warnRego, warnParams)))
	f, err := e.EvaluateAll(context.Background(), organs(t, sample)[0], "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	want := []duty.Warning{{
		// AP-LATE is effective 2025-07-01, after as_of: only the warning sees it, with its
		// department (D2) found among the upcoming appointments.
		Violation: duty.Violation{Policy: "z.warn", Severity: "medium", Reason: "soon", Department: "D2", Accountable: "leaders",
			Subject: duty.Ref{Collection: "appointments", ID: "AP-LATE"}, Details: map[string]any{},
			Message: duty.Message{ZH: "即将到期", EN: "due soon"}, Evidence: []duty.Ref{}},
		FailsOn: "2025-07-01",
	}}
	if diff := cmp.Diff(want, f.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	for _, v := range f.Violations {
		if v.Subject.ID == "AP-LATE" {
			t.Errorf("violation %+v names an appointment after as_of", v)
		}
	}
	// EvaluateInput gives the same violations.
	vs, err := e.Evaluate(context.Background(), organs(t, sample)[0], "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.Violations, vs); diff != "" {
		t.Errorf("Evaluate and EvaluateAll violations differ (-all +evaluate):\n%s", diff)
	}
	// Beyond MaxWarnDays the appointment is not in the input at all.
	f, err = e.EvaluateAll(context.Background(), organs(t, sample)[0], "2024-02-28")
	if err != nil || len(f.Warnings) != 0 {
		t.Errorf("as of 2024-02-28 (367 days before AP1): %v, %+v; want no warning", err, f.Warnings)
	}
}

func TestEvaluateAllRefusesBadWarnings(t *testing.T) {
	const good = `{"reason": "soon", "subject": {"collection": "people", "id": "P1"}, "details": {}, "message": {"zh": "", "en": ""}, "evidence": []`
	tests := []struct {
		name, warnings, violations, params, asOf, want string
	}{
		{name: "no fails_on", warnings: `[` + good + `}]`, want: "needs fails_on"},
		{name: "fails_on not a date", warnings: `[` + good + `, "fails_on": "2025-07-32"}]`, want: "needs fails_on"},
		{name: "fails_on a number", warnings: `[` + good + `, "fails_on": 20250701}]`, want: "needs fails_on"},
		{name: "fails_on on as_of", warnings: `[` + good + `, "fails_on": "2025-05-30"}]`, want: "must lie from 2025-05-31 to 2025-06-13"},
		{name: "fails_on after the window", warnings: `[` + good + `, "fails_on": "2025-06-14"}]`, want: "must lie from 2025-05-31 to 2025-06-13"},
		{name: "any warning with warn_days 0", warnings: `[` + good + `, "fails_on": "2025-05-31"}]`,
			params: `{"x": {"probe": {"severity": "low", "days": 30}}, "z": {"warn": {"severity": "medium", "warn_days": 0}}}`, want: "must lie from 2025-05-31 to 2025-05-30"},
		{name: "no subject", warnings: `[{"reason": "soon", "fails_on": "2025-06-01"}]`, want: "needs reason and subject"},
		{name: "a check both failing and warned of", warnings: `[` + good + `, "fails_on": "2025-06-01"}]`, violations: `[` + good + `}]`, want: "one check, one finding"},
		{name: "a check warned of twice", warnings: `[` + good + `, "fails_on": "2025-06-01"}, ` + good + `, "fails_on": "2025-06-02"}]`, want: "one check, one finding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rego := strings.Replace(warnRego, "_extra_warnings := []", "_extra_warnings := "+tc.warnings, 1)
			if tc.violations != "" {
				rego = strings.Replace(rego, "_extra_violations := []", "_extra_violations := "+tc.violations, 1)
			}
			params := warnParams
			if tc.params != "" {
				params = tc.params
			}
			e := compile(t, with(testBundle(), warnBundle(rego, params)))
			in := policy.NewOrganInput("ORG", "2025-05-30")
			f, err := e.EvaluateInputAll(context.Background(), in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "z.warn") {
				t.Errorf("EvaluateInputAll = %+v, %v; want an error naming z.warn and %q", f.Warnings, err, tc.want)
			}
			// The warnings are checked whoever asks, also for the violations only.
			if _, err := e.EvaluateInput(context.Background(), in); err == nil {
				t.Errorf("EvaluateInput succeeded with a bad warning")
			}
		})
	}
}

func TestCompileRefusesWarningWithoutWarnDays(t *testing.T) {
	rego := strings.Replace(warnRego, "#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366}\n", "#     severity: {type: severity, zh: 严重程度}\n", 1)
	be := bundleErr(t, with(testBundle(), warnBundle(rego, warnParams)))
	if !strings.Contains(be.Error(), "z.warn has a `warning` rule but no warn_days parameter") {
		t.Errorf("Compile: %v, want the missing warn_days named", be)
	}
}

func TestBuiltinWarnDays(t *testing.T) {
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range e.Policies() {
		schema, ok := m.Params[policy.WarnDaysParam].(map[string]any)
		if !ok {
			t.Errorf("%s: no %s in its METADATA params", m.ID, policy.WarnDaysParam)
			continue
		}
		if schema["zh"] != "预警提前天数" || schema["type"] != "integer" || schema["minimum"] != 0.0 && schema["minimum"] != 0 || schema["maximum"] == nil {
			t.Errorf("%s: %s schema %v", m.ID, policy.WarnDaysParam, schema)
		}
		if got := e.Params(m.ID)[policy.WarnDaysParam]; got == nil {
			t.Errorf("%s: %s has no value", m.ID, policy.WarnDaysParam)
		}
		for _, bad := range []any{-1, 367, 1.5} {
			if probs := policy.ValidateParams(m, map[string]any{policy.WarnDaysParam: bad}); len(probs) == 0 {
				t.Errorf("%s: %s = %v accepted", m.ID, policy.WarnDaysParam, bad)
			}
		}
	}
}

// TestSandboxWarningsAgree: an engine bound to a sandbox evaluates the warnings in its child and
// gives what the engine gives in this process.
func TestSandboxWarningsAgree(t *testing.T) {
	ctx := context.Background()
	e := compile(t, with(testBundle(), warnBundle(warnRego, warnParams)))
	bound := testSandbox(t, policy.Limits{}).Bind(e)
	defer bound.Close()
	want, err := e.EvaluateAll(ctx, organs(t, sample)[0], "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	got, err := bound.EvaluateAll(ctx, organs(t, sample)[0], "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Warnings) == 0 {
		t.Fatal("no warnings: the comparison proves nothing")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sandboxed evaluation (-in process +sandbox):\n%s", diff)
	}
}
