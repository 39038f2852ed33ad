package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// compileErr compiles b and returns the refusal's problems as text ("" when it compiled).
func compileErr(tb testing.TB, b *policy.Bundle) string {
	tb.Helper()
	_, err := policy.Compile(context.Background(), b)
	if err == nil {
		return ""
	}
	var be *duty.BundleError
	if !errors.As(err, &be) || !errors.Is(err, duty.ErrInvalid) {
		tb.Fatalf("Compile error %v is not a *BundleError matching duty.ErrInvalid", err)
	}
	return err.Error()
}

// TestBuiltinParamsRefused changes parameters of the built-in bundle as the API does
// (Bundle.WithParams) and expects each wrong value refused with the policy and parameter named.
// Each of these switched a duty off silently before parameters were validated completely.
func TestBuiltinParamsRefused(t *testing.T) {
	tests := []struct {
		note   string
		policy string
		params map[string]any
		want   []string // substrings of the refusal; nil means accepted
	}{
		{note: "02-29 exists only in leap years", policy: "meeting.annual_conduct", params: map[string]any{"deadline": "02-29"},
			want: []string{"meeting.annual_conduct.deadline", "exists in every year", `"02-29"`}},
		{note: "02-29 letters", policy: "letter.three_levels", params: map[string]any{"deadline": "02-29"}, want: []string{"letter.three_levels.deadline", `"02-29"`}},
		{note: "02-29 record books", policy: "recordbook.kept", params: map[string]any{"deadline": "02-29"}, want: []string{"recordbook.kept.deadline", `"02-29"`}},
		{note: "02-29 lists", policy: "list.six_levels", params: map[string]any{"deadline": "02-29"}, want: []string{"list.six_levels.deadline", `"02-29"`}},
		{note: "02-30", policy: "list.six_levels", params: map[string]any{"deadline": "02-30"}, want: []string{"list.six_levels.deadline"}},
		{note: "month 13", policy: "letter.three_levels", params: map[string]any{"deadline": "13-01"}, want: []string{"letter.three_levels.deadline"}},
		{note: "day 00", policy: "recordbook.kept", params: map[string]any{"deadline": "01-00"}, want: []string{"recordbook.kept.deadline"}},
		{note: "not MM-DD", policy: "meeting.annual_conduct", params: map[string]any{"deadline": "3-31"}, want: []string{"meeting.annual_conduct.deadline"}},
		{note: "02-28 is fine", policy: "meeting.annual_conduct", params: map[string]any{"deadline": "02-28"}},
		{note: "12-31 is fine", policy: "letter.three_levels", params: map[string]any{"deadline": "12-31"}},
		{note: "a misspelt rank", policy: "talk.pre_appointment", params: map[string]any{"ranks": []any{"burea"}},
			want: []string{"talk.pre_appointment.ranks", "element 0 must be one of", `"bureau"（厅级）`, `got "burea"`}},
		{note: "the Chinese labels the page shows", policy: "talk.pre_appointment", params: map[string]any{"ranks": []any{"厅级", "处级"}},
			want: []string{"talk.pre_appointment.ranks", `element 0 must be one of`, `got "厅级"`, `element 1 must be one of`, `got "处级"`}},
		{note: "labels for integrity files", policy: "archive.integrity_file", params: map[string]any{"ranks": []any{"厅级"}},
			want: []string{"archive.integrity_file.ranks", `got "厅级"`}},
		{note: "no rank at all", policy: "archive.integrity_file", params: map[string]any{"ranks": []any{}},
			want: []string{"archive.integrity_file.ranks", "at least 1 element"}},
		{note: "a rank twice", policy: "talk.pre_appointment", params: map[string]any{"ranks": []any{"bureau", "bureau"}},
			want: []string{"talk.pre_appointment.ranks", "repeats"}},
		{note: "a number as a rank", policy: "talk.pre_appointment", params: map[string]any{"ranks": []any{1}},
			want: []string{"talk.pre_appointment.ranks", "element 0 must be a string"}},
		{note: "ranks not an array", policy: "talk.pre_appointment", params: map[string]any{"ranks": "bureau"},
			want: []string{"talk.pre_appointment.ranks", "must be an array"}},
		{note: "one rank is fine", policy: "talk.pre_appointment", params: map[string]any{"ranks": []any{"bureau"}}},
		{note: "below the minimum", policy: "archive.integrity_file", params: map[string]any{"max_age_days": 0},
			want: []string{"archive.integrity_file.max_age_days", "at least 1"}},
		{note: "above the maximum", policy: "talk.pre_appointment", params: map[string]any{"max_days_before": 3651},
			want: []string{"talk.pre_appointment.max_days_before", "at most 3650"}},
		{note: "a fraction", policy: "meeting.joint", params: map[string]any{"max_gap_days": 1.5},
			want: []string{"meeting.joint.max_gap_days", "must be an integer"}},
		{note: "a number as text", policy: "meeting.joint", params: map[string]any{"max_gap_days": "92"},
			want: []string{"meeting.joint.max_gap_days", "must be an integer"}},
		{note: "an unknown severity", policy: "branch.discipline_member", params: map[string]any{"severity": "urgent"},
			want: []string{"branch.discipline_member.severity", "high, medium or low"}},
		{note: "an undeclared parameter", policy: "suggestion.closeout", params: map[string]any{"days": 3},
			want: []string{"suggestion.closeout.days", "is not a parameter"}},
		// The ledger's settings (policies/settings/ledger.rego) are checked as a duty's parameters.
		{note: "ledger: a period of 0 days", policy: "ledger", params: map[string]any{"rectify_days_high": 0},
			want: []string{"ledger.rectify_days_high", "at least 1"}},
		{note: "ledger: a waiver maximum as text", policy: "ledger", params: map[string]any{"waiver_max_days": "365"},
			want: []string{"ledger.waiver_max_days", "must be an integer"}},
		{note: "ledger: a negative weight", policy: "ledger", params: map[string]any{"weight_overdue": -1},
			want: []string{"ledger.weight_overdue", "at least 0"}},
		{note: "ledger: a weight as text", policy: "ledger", params: map[string]any{"weight_warning": "0.5"},
			want: []string{"ledger.weight_warning", "must be a number"}},
		{note: "ledger: settings have no severity", policy: "ledger", params: map[string]any{"severity": "high"},
			want: []string{"ledger.severity", "is not a parameter of this settings module"}},
		{note: "ledger: a fractional weight is fine", policy: "ledger", params: map[string]any{"weight_warning": 0.25, "rectify_days_low": 90}},
		{note: "an unknown parameter owner", policy: "nothing", params: map[string]any{"x": 1},
			want: []string{`"nothing"`, "neither a policy nor settings"}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			b, err := policy.Builtin().WithParams(tc.policy, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			got := compileErr(t, b)
			if tc.want == nil {
				if got != "" {
					t.Errorf("refused, want accepted:\n%s", got)
				}
				return
			}
			if got == "" {
				t.Fatalf("accepted %v, want refused", tc.params)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("refusal does not say %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestSchemaRefusedAtLoad changes a policy's METADATA custom.params schema or its defaults and
// expects the bundle refused when it is compiled, naming the policy.
func TestSchemaRefusedAtLoad(t *testing.T) {
	const file = "duty/talk/pre_appointment.rego"
	const days = "#     max_days_before: {type: integer, zh: 任职前最早可谈话天数, minimum: 0, maximum: 3650, description: earliest day of the talk before effective_on}"
	tests := []struct {
		note      string
		old, new  string // replaced in the module
		data      func(string) string
		want      []string
		wantFiles []string
	}{
		{note: "an unknown type", old: days, new: "#     max_days_before: {type: int, minimum: 0}",
			want: []string{"custom.params.max_days_before of talk.pre_appointment", "type must be one of", `"int"`}},
		{note: "no type", old: days, new: "#     max_days_before: {minimum: 0}",
			want: []string{"custom.params.max_days_before of talk.pre_appointment", "type must be one of"}},
		{note: "a bad pattern", old: days, new: `#     max_days_before: {type: string, pattern: "^[0-9"}`,
			want: []string{"custom.params.max_days_before of talk.pre_appointment", "not a valid regular expression"}},
		{note: "a misspelt keyword", old: days, new: "#     max_days_before: {type: integer, minimum: 0, maximun: 3650}",
			want: []string{"talk.pre_appointment", `keyword "maximun" is not allowed`}},
		{note: "bounds in the wrong order", old: days, new: "#     max_days_before: {type: integer, minimum: 10, maximum: 3}",
			want: []string{"talk.pre_appointment", "minimum 10 is above maximum 3"}},
		{note: "an unknown format", old: days, new: "#     max_days_before: {type: string, format: date}",
			want: []string{"talk.pre_appointment", "format must be month-day"}},
		{note: "an enum value without labels", old: "#           - {value: staff, zh: 科级以下, en: staff}", new: "#           - staff",
			want: []string{"custom.params.ranks of talk.pre_appointment", "items: enum[3] must be {value, zh, en}"}},
		{note: "an enum without the default value", old: "#           - {value: division, zh: 处级, en: division}\n", new: "",
			want: []string{"talk.pre_appointment.ranks", `got "division"`, "data.params.talk.pre_appointment"}},
		{note: "an enum value of the wrong type", old: "#           - {value: staff, zh: 科级以下, en: staff}", new: "#           - {value: 4, zh: 科级以下, en: staff}",
			want: []string{"talk.pre_appointment", "enum[3] value: must be a string"}},
		{note: "a default below its minimum", old: "minimum: 0, maximum: 3650, description: earliest", new: "minimum: 91, maximum: 3650, description: earliest",
			want: []string{"talk.pre_appointment.max_days_before", "at least 91, got 90", "the value in force"}},
		{note: "a default missing", data: func(s string) string { return strings.Replace(s, `"max_days_before": 90`, `"other": 90`, 1) },
			want: []string{"talk.pre_appointment.max_days_before: has no value", "talk.pre_appointment.other: is not a parameter"}},
		{note: "a default 02-29", data: func(s string) string { return strings.Replace(s, `"deadline": "01-31"`, `"deadline": "02-29"`, 1) },
			want: []string{"recordbook.kept.deadline", `"02-29"`, "the value in force"}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			b := policy.Builtin().Clone()
			if tc.old != "" {
				if !strings.Contains(b.Files[file], tc.old) {
					t.Fatalf("%s does not contain %q", file, tc.old)
				}
				b.Files[file] = strings.Replace(b.Files[file], tc.old, tc.new, 1)
			}
			if tc.data != nil {
				before := b.Files["params/data.json"]
				b.Files["params/data.json"] = tc.data(before)
				if b.Files["params/data.json"] == before {
					t.Fatal("the data change did not apply")
				}
			}
			got := compileErr(t, b)
			if got == "" {
				t.Fatal("accepted, want refused")
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("refusal does not say %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestBuiltinSchemas holds the built-in bundle to its own load-time check and every duty to
// Chinese labels for its parameters and their choices.
func TestBuiltinSchemas(t *testing.T) {
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		t.Fatalf("the built-in bundle fails its own check: %v", err)
	}
	for _, m := range e.Policies() {
		if probs := policy.CheckSchema(m); len(probs) > 0 {
			t.Errorf("%s: %v", m.ID, probs)
		}
		for name, s := range m.Params {
			schema := s.(map[string]any)
			if zh, _ := schema["zh"].(string); zh == "" {
				t.Errorf("%s.%s has no Chinese label (zh)", m.ID, name)
			}
			for _, c := range duty.Choices(schema) {
				if c.ZH == "" || c.EN == "" {
					t.Errorf("%s.%s: choice %v lacks a label", m.ID, name, c.Value)
				}
			}
		}
	}
	m, _ := e.Policy("talk.pre_appointment")
	var zh []string
	for _, c := range duty.Choices(m.Params["ranks"].(map[string]any)) {
		zh = append(zh, c.ZH)
	}
	if got := strings.Join(zh, "、"); got != "厅级、处级、科级、科级以下" {
		t.Errorf("rank choices = %s", got)
	}
}

func TestValidMonthDay(t *testing.T) {
	for s, want := range map[string]bool{
		"01-01": true, "02-28": true, "12-31": true, "04-30": true,
		"02-29": false, "02-30": false, "04-31": false, "13-01": false, "00-10": false, "01-00": false,
		"1-01": false, "01-1": false, "0101": false, "": false, "01-01 ": false,
	} {
		if got := policy.ValidMonthDay(s); got != want {
			t.Errorf("ValidMonthDay(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestSwitchedOff switches a duty off through the bundle's own file: it is not evaluated, and the
// METADATA says so.
func TestSwitchedOff(t *testing.T) {
	b, err := policy.Builtin().WithSwitchedOff(map[string]bool{"meeting.joint": true})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Files[policy.SwitchedOffFile]; got != "[\n  \"meeting.joint\"\n]\n" {
		t.Errorf("%s = %q", policy.SwitchedOffFile, got)
	}
	e, err := policy.Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := e.Policy("meeting.joint"); !m.SwitchedOff {
		t.Error("meeting.joint not marked switched off")
	}
	back, err := b.WithSwitchedOff(map[string]bool{"meeting.joint": false})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Files[policy.SwitchedOffFile]; ok || back.Revision() != policy.Builtin().Revision() {
		t.Error("switching the duty back on does not give the built-in bundle back")
	}
	bad := policy.Builtin().Clone()
	bad.Files[policy.SwitchedOffFile] = `{"meeting.joint": true}`
	if got := compileErr(t, bad); !strings.Contains(got, policy.SwitchedOffFile) {
		t.Errorf("a malformed %s: %q", policy.SwitchedOffFile, got)
	}
}

// TestSettingsModules reads the ledger's settings from the built-in bundle and refuses settings
// modules that could not be checked or labelled.
func TestSettingsModules(t *testing.T) {
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	m, ok := e.ParamSet("ledger")
	if !ok || !m.Settings || m.Title == "" || m.TitleEN == "" {
		t.Fatalf("the built-in bundle's ledger settings: %v %+v", ok, m)
	}
	if _, isPolicy := e.Policy("ledger"); isPolicy {
		t.Error("settings are listed as a policy")
	}
	for name := range m.Params {
		if l := m.ParamLabels[name]; l.Label.ZH == "" || l.Label.EN == "" || l.Unit.ZH == "" || l.Unit.EN == "" {
			t.Errorf("ledger parameter %s: label %+v, want Chinese and English labels and units", name, l)
		}
		if _, ok := e.Params("ledger")[name]; !ok {
			t.Errorf("ledger parameter %s has no value in params/data.json", name)
		}
	}
	head := "# METADATA\n# title: t\n# custom:\n#   id: s\n"
	for _, tc := range []struct {
		note, module, want string
	}{
		{"no METADATA", "package settings.s\n", "no package # METADATA"},
		{"a wrong id", "# METADATA\n# title: t\n# custom:\n#   id: x\n#   params:\n#     a: {type: integer}\npackage settings.s\n", `custom.id is "x"`},
		{"no parameter", head + "package settings.s\n", "declares no parameter"},
		{"an unknown type", head + "#   params:\n#     a: {type: float}\npackage settings.s\n", "type must be one of"},
		{"a unit of nothing", head + "#   units:\n#     b: {zh: 天, en: days}\n#   params:\n#     a: {type: integer}\npackage settings.s\n", "custom.units.b"},
		{"no value", head + "#   params:\n#     a: {type: integer}\npackage settings.s\n", "data.params.s.a"},
		{"a name shared with a duty area", "# METADATA\n# title: t\n# custom:\n#   id: talk\n#   params:\n#     a: {type: integer}\npackage settings.talk\n", "share data.params.talk"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			b := policy.Builtin().Clone()
			b.Files["settings/s.rego"] = tc.module
			if got := compileErr(t, b); !strings.Contains(got, tc.want) {
				t.Errorf("refusal %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
