package policy

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// OverridesFile holds parameter values changed on their own (through the API or by hand). The
// engine lays it over data.params for evaluation; the Rego tests keep running against the
// defaults in params/data.json, which the tests were written for, so that changing a deadline
// does not turn a boundary test red.
const OverridesFile = "params/overrides.json"

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
		return nil, &BundleError{Problems: []Problem{{File: OverridesFile, Row: 1, Col: 1,
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

// ValidateParams checks parameter values against the policy's METADATA custom.params schema:
// every name declared, and each value of its type (integer with minimum/maximum, string with
// pattern, array of items, severity), a MM-DD string a real day of the year.
func ValidateParams(m Meta, params map[string]any) []Problem {
	var probs []Problem
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := params[name]
		fail := func(format string, args ...any) {
			probs = append(probs, Problem{File: m.File, Message: fmt.Sprintf("parameter %s.%s: ", m.ID, name) + fmt.Sprintf(format, args...)})
		}
		schema, ok := m.Params[name].(map[string]any)
		if !ok {
			declared := make([]string, 0, len(m.Params))
			for k := range m.Params {
				declared = append(declared, k)
			}
			slices.Sort(declared)
			fail("is not a parameter of this policy (its METADATA declares %s)", strings.Join(declared, ", "))
			continue
		}
		typ, _ := schema["type"].(string)
		switch typ {
		case "integer":
			n, ok := asInt(v)
			if !ok {
				fail("must be an integer, got %s", jsonText(v))
				continue
			}
			if lo, ok := asInt(schema["minimum"]); ok && n < lo {
				fail("must be at least %d, got %d", lo, n)
			}
			if hi, ok := asInt(schema["maximum"]); ok && n > hi {
				fail("must be at most %d, got %d", hi, n)
			}
		case "string":
			s, ok := v.(string)
			if !ok {
				fail("must be a string, got %s", jsonText(v))
				continue
			}
			if p, _ := schema["pattern"].(string); p != "" {
				if re, err := regexp.Compile(p); err == nil && !re.MatchString(s) {
					fail("must match %s, got %q", p, s)
					continue
				}
			}
			if monthDay.MatchString(s) {
				if _, err := time.Parse(time.DateOnly, "2000-"+s); err != nil {
					fail("must be a real month and day MM-DD, got %q", s)
				}
			}
		case "array":
			arr, ok := v.([]any)
			if !ok {
				fail("must be an array, got %s", jsonText(v))
				continue
			}
			if items, _ := schema["items"].(string); items == "string" {
				for i, e := range arr {
					if _, ok := e.(string); !ok {
						fail("element %d must be a string, got %s", i, jsonText(e))
					}
				}
			}
		case "severity":
			if s, _ := v.(string); !slices.Contains([]string{"high", "medium", "low"}, s) {
				fail("must be high, medium or low, got %s", jsonText(v))
			}
		case "boolean":
			if _, ok := v.(bool); !ok {
				fail("must be true or false, got %s", jsonText(v))
			}
		}
	}
	return probs
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

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// policyFile returns the module path of policy id in the bundle layout.
func policyFile(id string) string {
	return path.Join("duty", strings.ReplaceAll(id, ".", "/")) + ".rego"
}
