package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// OverridesFile holds parameter values changed on their own (through the API or by hand). The
// engine lays it over data.params for evaluation; the Rego tests keep running against the
// defaults in params/data.json, which the tests were written for, so that changing a deadline
// does not turn a boundary test red.
const OverridesFile = "params/overrides.json"

// SwitchedOffFile lists the duties the bundle switches off, as a JSON array of policy ids. A
// change that makes a duty report nothing is refused (see internal/guard) unless it lists the
// duty here: switching a duty off is said explicitly and kept with the revision.
const SwitchedOffFile = "params/switched_off.json"

// SwitchedOff returns the ids of the duties the bundle switches off, sorted.
func (b *Bundle) SwitchedOff() ([]string, error) {
	src, ok := b.Files[SwitchedOffFile]
	if !ok || strings.TrimSpace(src) == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(src), &ids); err != nil {
		return nil, &duty.BundleError{Problems: []duty.BundleProblem{{File: SwitchedOffFile, Row: 1, Col: 1, Kind: duty.BundleData,
			Message: "must be a JSON array of policy ids [\"<area>.<name>\", …]: " + err.Error()}}}
	}
	for _, id := range ids {
		if strings.TrimSpace(id) == "" {
			return nil, &duty.BundleError{Problems: []duty.BundleProblem{{File: SwitchedOffFile, Row: 1, Col: 1, Kind: duty.BundleData, Message: "a policy id must not be empty"}}}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// WithSwitchedOff returns a copy of the bundle in which each duty of the map is switched off
// (true) or back on (false).
func (b *Bundle) WithSwitchedOff(change map[string]bool) (*Bundle, error) {
	ids, err := b.SwitchedOff()
	if err != nil {
		return nil, err
	}
	for id, off := range change {
		if off {
			ids = append(ids, id)
		} else {
			ids = slices.DeleteFunc(ids, func(s string) bool { return s == id })
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	c := b.Clone()
	if len(ids) == 0 {
		delete(c.Files, SwitchedOffFile)
		return c, nil
	}
	data, err := json.MarshalIndent(ids, "", "  ")
	if err != nil {
		return nil, err
	}
	c.Files[SwitchedOffFile] = string(data) + "\n"
	return c, nil
}

// Overrides returns the bundle's parameter overrides: policy id → parameter → value.
func (b *Bundle) Overrides() (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	src, ok := b.Files[OverridesFile]
	if !ok || strings.TrimSpace(src) == "" {
		return out, nil
	}
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, &duty.BundleError{Problems: []duty.BundleProblem{{File: OverridesFile, Row: 1, Col: 1, Kind: duty.BundleData,
			Message: "must be a JSON object {\"<policy id>\": {\"<parameter>\": value}}: " + err.Error()}}}
	}
	return out, nil
}

// WithParams returns a copy of the bundle whose overrides for policy id are set to params
// (merged over earlier overrides of that policy).
func (b *Bundle) WithParams(id string, params map[string]any) (*Bundle, error) {
	ov, err := b.Overrides()
	if err != nil {
		return nil, err
	}
	cur := ov[id]
	if cur == nil {
		cur = map[string]any{}
	}
	for k, v := range params {
		cur[k] = v
	}
	ov[id] = cur
	data, err := json.MarshalIndent(ov, "", "  ")
	if err != nil {
		return nil, err
	}
	c := b.Clone()
	c.Files[OverridesFile] = string(data) + "\n"
	return c, nil
}

// applyOverrides lays the overrides over data.params (policy id a.b → params.a.b).
func applyOverrides(data map[string]any, ov map[string]map[string]any) {
	for id, params := range ov {
		target := data
		for _, seg := range append([]string{"params"}, strings.Split(id, ".")...) {
			next, ok := target[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				target[seg] = next
			}
			target = next
		}
		for k, v := range params {
			target[k] = v
		}
	}
}

var monthDay = regexp.MustCompile(`^[0-9]{2}-[0-9]{2}$`)

// The parameter types a METADATA custom.params schema may declare.
var paramTypes = []string{"integer", "number", "string", "array", "boolean", "severity"}

// schemaKeys are the keywords a parameter schema may use, by type; any other keyword is refused
// so that a misspelt constraint ("maximun") is not silently ignored.
var schemaKeys = map[string][]string{
	"":         {"type", "description", "zh", "en"},
	"integer":  {"minimum", "maximum", "enum"},
	"number":   {"minimum", "maximum"},
	"string":   {"pattern", "format", "enum"},
	"array":    {"items", "minItems", "maxItems", "uniqueItems"},
	"boolean":  {},
	"severity": {},
}

// FormatMonthDay is the string format of a yearly deadline: MM-DD, a day that exists in every
// year (so 02-29 is refused: it would make a yearly duty silent in three years out of four).
const FormatMonthDay = "month-day"

// itemSchema returns the schema of an array's items; `items: string` is short for
// `items: {type: string}`.
func itemSchema(schema map[string]any) map[string]any {
	switch it := schema["items"].(type) {
	case string:
		return map[string]any{"type": it}
	case map[string]any:
		return it
	}
	return nil
}

// CheckSchema checks a policy's METADATA custom.params schema itself: every parameter of a known
// type, only known keywords, a pattern that compiles, bounds that are integers in order, an enum
// whose values are of the type and labelled in Chinese and English. A schema that fails here
// would let wrong values through, so the bundle is refused.
func CheckSchema(m duty.PolicyMeta) []duty.BundleProblem {
	var probs []duty.BundleProblem
	for _, name := range sortedKeys(m.Params) {
		at := fmt.Sprintf("METADATA custom.params.%s of %s", name, m.ID)
		schema, ok := m.Params[name].(map[string]any)
		if !ok {
			probs = append(probs, duty.BundleProblem{File: m.File, Kind: duty.BundleSchema, Message: at + " must be an object {type: …}"})
			continue
		}
		for _, msg := range schemaProblems(schema, 0) {
			probs = append(probs, duty.BundleProblem{File: m.File, Kind: duty.BundleSchema, Message: at + ": " + msg})
		}
	}
	return probs
}

func schemaProblems(schema map[string]any, depth int) []string {
	var out []string
	typ, _ := schema["type"].(string)
	if !slices.Contains(paramTypes, typ) {
		return []string{fmt.Sprintf("type must be one of %s, got %s", strings.Join(paramTypes, ", "), jsonText(schema["type"]))}
	}
	for _, k := range sortedKeys(schema) {
		if !slices.Contains(schemaKeys[""], k) && !slices.Contains(schemaKeys[typ], k) {
			out = append(out, fmt.Sprintf("keyword %q is not allowed for type %s (allowed: %s)", k, typ,
				strings.Join(append(slices.Clone(schemaKeys[""]), schemaKeys[typ]...), ", ")))
		}
	}
	for _, k := range []string{"description", "zh", "en", "pattern", "format"} {
		if v, ok := schema[k]; ok {
			if _, isStr := v.(string); !isStr {
				out = append(out, fmt.Sprintf("%s must be a string, got %s", k, jsonText(v)))
			}
		}
	}
	for _, k := range []string{"minimum", "maximum", "minItems", "maxItems"} {
		if v, ok := schema[k]; ok {
			if _, isInt := asInt(v); !isInt {
				out = append(out, fmt.Sprintf("%s must be an integer, got %s", k, jsonText(v)))
			}
		}
	}
	if lo, ok := asInt(schema["minimum"]); ok {
		if hi, ok := asInt(schema["maximum"]); ok && lo > hi {
			out = append(out, fmt.Sprintf("minimum %d is above maximum %d", lo, hi))
		}
	}
	if lo, ok := asInt(schema["minItems"]); ok {
		if hi, ok := asInt(schema["maxItems"]); ok && lo > hi {
			out = append(out, fmt.Sprintf("minItems %d is above maxItems %d", lo, hi))
		}
	}
	if v, ok := schema["uniqueItems"]; ok {
		if _, isBool := v.(bool); !isBool {
			out = append(out, fmt.Sprintf("uniqueItems must be true or false, got %s", jsonText(v)))
		}
	}
	if p, ok := schema["pattern"].(string); ok {
		if _, err := regexp.Compile(p); err != nil {
			out = append(out, fmt.Sprintf("pattern %q is not a valid regular expression: %v", p, err))
		}
	}
	if f, ok := schema["format"].(string); ok && f != FormatMonthDay {
		out = append(out, fmt.Sprintf("format must be %s, got %q", FormatMonthDay, f))
	}
	if raw, ok := schema["enum"]; ok {
		list, isList := raw.([]any)
		if !isList || len(list) == 0 {
			out = append(out, "enum must be a non-empty list of {value, zh, en}")
		}
		seen := map[string]bool{}
		for i, e := range list {
			m, isMap := e.(map[string]any)
			if !isMap {
				out = append(out, fmt.Sprintf("enum[%d] must be {value, zh, en} (a value with its Chinese and English labels), got %s", i, jsonText(e)))
				continue
			}
			for _, k := range sortedKeys(m) {
				if !slices.Contains([]string{"value", "zh", "en"}, k) {
					out = append(out, fmt.Sprintf("enum[%d] has keyword %q; allowed: value, zh, en", i, k))
				}
			}
			for _, k := range []string{"zh", "en"} {
				if s, _ := m[k].(string); strings.TrimSpace(s) == "" {
					out = append(out, fmt.Sprintf("enum[%d] needs a non-empty %s label", i, k))
				}
			}
			v, has := m["value"]
			if !has {
				out = append(out, fmt.Sprintf("enum[%d] has no value", i))
				continue
			}
			plain := map[string]any{"type": typ}
			for _, k := range []string{"minimum", "maximum", "pattern", "format"} {
				if x, ok := schema[k]; ok {
					plain[k] = x
				}
			}
			for _, msg := range valueProblems(plain, v) {
				out = append(out, fmt.Sprintf("enum[%d] value: %s", i, msg))
			}
			if k := jsonText(v); seen[k] {
				out = append(out, fmt.Sprintf("enum[%d] repeats the value %s", i, k))
			} else {
				seen[k] = true
			}
		}
	}
	if typ == "array" {
		items := itemSchema(schema)
		switch {
		case items == nil:
			out = append(out, "an array needs items: the schema of its elements")
		case depth > 0:
			out = append(out, "arrays of arrays are not supported")
		default:
			for _, msg := range schemaProblems(items, depth+1) {
				out = append(out, "items: "+msg)
			}
		}
	}
	return out
}

// ValidateParams checks parameter values against the policy's (or the settings') METADATA
// custom.params schema: every name declared (a policy's severity is declared implicitly), and each value of its schema — type,
// minimum and maximum, pattern, one of the enum, array items and length, a MM-DD string a day
// that exists in every year.
func ValidateParams(m duty.PolicyMeta, params map[string]any) []duty.BundleProblem {
	var probs []duty.BundleProblem
	for _, name := range sortedKeys(params) {
		schema, ok := paramSchema(m, name)
		if !ok {
			declared := sortedKeys(m.Params)
			if !slices.Contains(declared, "severity") && !m.Settings {
				declared = append(declared, "severity")
			}
			what := "policy"
			if m.Settings {
				what = "settings module"
			}
			probs = append(probs, duty.BundleProblem{File: m.File, Kind: duty.BundleParam, Message: fmt.Sprintf("parameter %s.%s: is not a parameter of this %s (its METADATA declares %s)", m.ID, name, what, strings.Join(declared, ", "))})
			continue
		}
		for _, msg := range valueProblems(schema, params[name]) {
			probs = append(probs, duty.BundleProblem{File: m.File, Kind: duty.BundleParam, Message: fmt.Sprintf("parameter %s.%s: %s", m.ID, name, msg)})
		}
	}
	return probs
}

// paramSchema returns the schema of a parameter; every policy (not settings) has a severity
// parameter.
func paramSchema(m duty.PolicyMeta, name string) (map[string]any, bool) {
	if s, ok := m.Params[name].(map[string]any); ok {
		return s, true
	}
	if name == "severity" && !m.Settings {
		return map[string]any{"type": "severity"}, true
	}
	return nil, false
}

// valueProblems checks one value against its schema. A schema it cannot apply (an unknown type,
// a pattern that does not compile) fails the value: the check fails closed.
func valueProblems(schema map[string]any, v any) []string {
	typ, _ := schema["type"].(string)
	switch typ {
	case "integer":
		n, ok := asInt(v)
		if !ok {
			return []string{"must be an integer, got " + jsonText(v)}
		}
		var out []string
		if lo, ok := asInt(schema["minimum"]); ok && n < lo {
			out = append(out, fmt.Sprintf("must be at least %d, got %d", lo, n))
		}
		if hi, ok := asInt(schema["maximum"]); ok && n > hi {
			out = append(out, fmt.Sprintf("must be at most %d, got %d", hi, n))
		}
		return append(out, enumProblems(schema, v)...)
	case "number":
		f, ok := asNumber(v)
		if !ok {
			return []string{"must be a number, got " + jsonText(v)}
		}
		var out []string
		if lo, ok := asInt(schema["minimum"]); ok && f < float64(lo) {
			out = append(out, fmt.Sprintf("must be at least %d, got %s", lo, jsonText(v)))
		}
		if hi, ok := asInt(schema["maximum"]); ok && f > float64(hi) {
			out = append(out, fmt.Sprintf("must be at most %d, got %s", hi, jsonText(v)))
		}
		return out
	case "string":
		s, ok := v.(string)
		if !ok {
			return []string{"must be a string, got " + jsonText(v)}
		}
		if p, _ := schema["pattern"].(string); p != "" {
			re, err := regexp.Compile(p)
			if err != nil {
				return []string{fmt.Sprintf("cannot be checked: the pattern %q does not compile", p)}
			}
			if !re.MatchString(s) {
				return []string{fmt.Sprintf("must match %s, got %q", p, s)}
			}
		}
		if f, _ := schema["format"].(string); f == FormatMonthDay || monthDay.MatchString(s) {
			if !ValidMonthDay(s) {
				return []string{fmt.Sprintf("must be a month and day MM-DD that exists in every year (01-01 to 12-31, not 02-29), got %q", s)}
			}
		}
		return enumProblems(schema, v)
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{"must be an array, got " + jsonText(v)}
		}
		var out []string
		if lo, ok := asInt(schema["minItems"]); ok && int64(len(arr)) < lo {
			out = append(out, fmt.Sprintf("must have at least %d element(s), got %d", lo, len(arr)))
		}
		if hi, ok := asInt(schema["maxItems"]); ok && int64(len(arr)) > hi {
			out = append(out, fmt.Sprintf("must have at most %d element(s), got %d", hi, len(arr)))
		}
		items := itemSchema(schema)
		if items == nil {
			return append(out, "cannot be checked: the schema has no items")
		}
		seen := map[string]bool{}
		for i, e := range arr {
			for _, msg := range valueProblems(items, e) {
				out = append(out, fmt.Sprintf("element %d %s", i, msg))
			}
			if u, _ := schema["uniqueItems"].(bool); u {
				if k := jsonText(e); seen[k] {
					out = append(out, fmt.Sprintf("element %d repeats %s", i, k))
				} else {
					seen[k] = true
				}
			}
		}
		return out
	case "severity":
		if s, _ := v.(string); !slices.Contains(duty.Severities, s) {
			return []string{"must be high, medium or low, got " + jsonText(v)}
		}
		return nil
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{"must be true or false, got " + jsonText(v)}
		}
		return nil
	}
	return []string{fmt.Sprintf("cannot be checked: the schema type %s is unknown", jsonText(schema["type"]))}
}

// enumProblems refuses a value outside the schema's enum, listing the allowed values with their
// Chinese labels (the words the pages show are labels, not values).
func enumProblems(schema map[string]any, v any) []string {
	choices := duty.Choices(schema)
	if _, has := schema["enum"]; !has {
		return nil
	}
	want := jsonText(v)
	allowed := make([]string, 0, len(choices))
	for _, c := range choices {
		if jsonText(c.Value) == want {
			return nil
		}
		a := jsonText(c.Value)
		if c.ZH != "" {
			a += "（" + c.ZH + "）"
		}
		allowed = append(allowed, a)
	}
	return []string{fmt.Sprintf("must be one of %s, got %s", strings.Join(allowed, ", "), want)}
}

// ValidMonthDay reports whether s is MM-DD naming a day that exists in every year.
func ValidMonthDay(s string) bool {
	if !monthDay.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, "2001-"+s) // 2001 is not a leap year
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	}
	return 0, false
}

// asNumber reads a finite JSON number (a parameter of type number).
func asNumber(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// Number reads a parameter value of type number or integer as a float64: the value in force
// (Engine.Params) is a json.Number.
func Number(v any) (float64, bool) { return asNumber(v) }

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
