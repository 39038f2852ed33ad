package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// WarnDaysParam is the parameter of every duty with a `warning` rule: how many days ahead its
// warnings look (DOMAIN.md "Warnings before a duty is breached"); 0 switches them off.
const WarnDaysParam = "warn_days"

// MaxWarnDays is the largest warn_days a schema may allow. The input carries the appointments
// recorded ahead of time up to as_of + MaxWarnDays (upcoming_appointments), the only records
// dated after as_of a warning reads besides a person's left_on.
const MaxWarnDays = 366

// hasWarning reports whether a duty module has a `warning` rule: the engine queries it only then.
func hasWarning(m *ast.Module) bool {
	return m != nil && slices.ContainsFunc(m.Rules, func(r *ast.Rule) bool {
		return r.Head.Ref().String() == "warning"
	})
}

// warnWindow returns the first and last day (YYYY-MM-DD) on which a warning of policy m may
// fail for a scan as of asOf: asOf + 1 and asOf + warn_days. With warn_days 0 the window is
// empty (from > to), so any warning is refused.
func (e *Engine) warnWindow(m duty.PolicyMeta, asOf string) (from, to string, err error) {
	n, ok := wholeNumber(e.Params(m.ID)[WarnDaysParam])
	if !ok || n < 0 || n > MaxWarnDays {
		return "", "", fmt.Errorf("policy %s: parameter %s is %v, want a whole number of days from 0 to %d", m.ID, WarnDaysParam, e.Params(m.ID)[WarnDaysParam], MaxWarnDays)
	}
	day, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return "", "", fmt.Errorf("as_of %q: %w", asOf, err)
	}
	return day.AddDate(0, 0, 1).Format(time.DateOnly), day.AddDate(0, 0, int(n)).Format(time.DateOnly), nil
}

// wholeNumber reads a parameter value as a whole number.
func wholeNumber(x any) (int64, bool) {
	switch v := x.(type) {
	case json.Number:
		i, err := v.Int64()
		return i, err == nil
	case float64:
		return int64(v), v == math.Trunc(v)
	case int:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// toWarning converts one warning object a policy returned: a violation plus fails_on, a real
// day from `from` to `to`.
func toWarning(raw any, from, to string) (duty.Warning, error) {
	v, err := toViolation(raw)
	if err != nil {
		return duty.Warning{}, fmt.Errorf("warning: %w", err)
	}
	// The errors name no value the policy returned (toViolation says why).
	f, _ := raw.(map[string]any)["fails_on"].(string)
	if _, err := time.Parse(time.DateOnly, f); err != nil || len(f) != len(time.DateOnly) {
		return duty.Warning{}, fmt.Errorf("a warning needs fails_on, a YYYY-MM-DD date: %w", duty.ErrInvalid)
	}
	if f < from || f > to {
		return duty.Warning{}, fmt.Errorf("a warning's fails_on must lie from %s to %s (as_of + 1 to as_of + %s): %w", from, to, WarnDaysParam, duty.ErrInvalid)
	}
	return duty.Warning{Violation: v, FailsOn: f}, nil
}

// checkWarnings refuses findings where one check is warned of twice, or is both a violation and
// a warning: a check that fails on as_of gets no warning (DOMAIN.md).
func checkWarnings(f Findings) error {
	if len(f.Warnings) == 0 {
		return nil
	}
	seen := make(map[string]string, len(f.Violations)+len(f.Warnings))
	for i := range f.Violations {
		seen[f.Violations[i].Key()] = "a violation"
	}
	for i := range f.Warnings {
		w := &f.Warnings[i]
		k := w.Key()
		if what, ok := seen[k]; ok {
			return fmt.Errorf("policy %s: a check is warned of and is %s: one check, one finding: %w", w.Policy, what, duty.ErrInvalid)
		}
		seen[k] = "warned of already"
	}
	return nil
}
