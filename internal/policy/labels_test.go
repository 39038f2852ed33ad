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

// labelled is probeRego with its reasons labelled, its parameter labelled in English and its
// unit given.
var labelled = strings.NewReplacer(
	"#   reasons: [flagged, inactive, placed]\n", "#   reasons:\n#     - {code: flagged, zh: 已标记, en: flagged}\n#     - inactive\n#     - {code: placed, zh: 已安置, en: placed}\n#   units:\n#     days: {zh: 天, en: days}\n",
	"#     description: Every record is a violation.\n", "#     description: Every record is a violation.\n#     params:\n#       days: number of days\n",
).Replace(probeRego)

// TestMetadataLabels: the reasons' and parameters' labels come from METADATA; the engine names
// policies and reasons by them (falling back to the code), and a label that labels nothing, or a
// labelled reason without both languages, refuses the bundle.
func TestMetadataLabels(t *testing.T) {
	if labelled == probeRego {
		t.Fatal("the replacements did not apply to probeRego")
	}
	e := compile(t, with(testBundle(), map[string]string{"duty/x/probe.rego": labelled}))
	m, _ := e.Policy("x.probe")
	if diff := cmp.Diff([]string{"flagged", "inactive", "placed"}, m.Reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	want := map[string]duty.ParamLabel{"days": {Label: duty.Label{ZH: "天数", EN: "number of days"}, Unit: duty.Label{ZH: "天", EN: "days"}}}
	if diff := cmp.Diff(want, m.ParamLabels); diff != "" {
		t.Errorf("parameter labels (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ policy, reason, lang, want string }{
		{"x.probe", "flagged", "zh", "已标记"},
		{"x.probe", "placed", "en", "placed"},
		{"x.probe", "inactive", "zh", "inactive"}, // unlabelled: the code
		{"", "placed", "zh", "已安置"},               // any policy that labels it
		{"y.quiet", "flagged", "zh", "已标记"},       // a policy that does not label it
		{"x.probe", "unknown", "zh", "unknown"},
	} {
		if got := e.ReasonLabel(tc.policy, tc.reason, tc.lang); got != tc.want {
			t.Errorf("ReasonLabel(%q, %q, %s) = %q, want %q", tc.policy, tc.reason, tc.lang, got, tc.want)
		}
	}
	if got := e.PolicyTitle("x.probe", "en") + "/" + e.PolicyTitle("x.probe", "zh") + "/" + e.PolicyTitle("gone", "zh"); got != "Probe/探针/gone" {
		t.Errorf("PolicyTitle: %s", got)
	}
	var none *policy.Engine
	if none.ReasonLabel("x", "r", "zh") != "r" || none.PolicyTitle("x", "zh") != "x" {
		t.Error("a nil engine does not name codes by themselves")
	}

	for _, tc := range []struct{ note, from, to, want string }{
		{"an English label of no parameter", "#       days: number of days\n", "#       weeks: number of weeks\n", "custom.en.params.weeks labels a parameter"},
		{"a unit of no parameter", "#     days: {zh: 天, en: days}\n", "#     weeks: {zh: 周, en: weeks}\n", "custom.units.weeks is the unit of a parameter"},
		{"a unit in one language", "#     days: {zh: 天, en: days}\n", "#     days: {zh: 天}\n", "custom.units.days must be {zh, en}"},
		{"a labelled reason without English", "{code: flagged, zh: 已标记, en: flagged}", "{code: flagged, zh: 已标记}", "custom.reasons[0] (flagged) needs its zh and en labels"},
		{"a reason without a code", "{code: flagged, zh: 已标记, en: flagged}", "{zh: 已标记, en: flagged}", "custom.reasons[0] has no code"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			bad := strings.Replace(labelled, tc.from, tc.to, 1)
			if bad == labelled {
				t.Fatal("the replacement did not apply")
			}
			_, err := policy.Compile(context.Background(), loadBundle(t, with(testBundle(), map[string]string{"duty/x/probe.rego": bad})))
			var be *duty.BundleError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile = %v, want a bundle error saying %q", err, tc.want)
			}
		})
	}
}
