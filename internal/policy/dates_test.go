package policy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestDatesDayOverTheAcceptedRange pins lib.dates to its plain definition on every date
// dutycheck accepts (duty.MinDate to duty.MaxDate): day is the whole days from 1970-01-01 as Go
// counts them, date is its inverse, and in_year agrees. A date the validator accepts but the
// policies cannot count would silently switch duties off (issue 12).
func TestDatesDayOverTheAcceptedRange(t *testing.T) {
	first, err := time.Parse(time.DateOnly, duty.MinDate)
	if err != nil {
		t.Fatal(err)
	}
	last, err := time.Parse(time.DateOnly, duty.MaxDate)
	if err != nil {
		t.Fatal(err)
	}
	var ds []any
	var want []int64
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		ds = append(ds, d.Format(time.DateOnly))
		want = append(want, d.Unix()/86400)
	}
	if len(ds) != 109573 {
		t.Fatalf("%d days from %s to %s, want 109573", len(ds), duty.MinDate, duty.MaxDate)
	}
	src := policy.Builtin().Files["lib/dates.rego"]
	pq, err := rego.New(
		rego.Query(`days := [dates.day(d) | some d in input]
			back := [d | some d in input; dates.date(dates.day(d)) != d]
			years := [d | some d in input; dates.in_year(dates.year(d), substring(d, 5, 5)) != dates.day(d)]`),
		rego.Imports([]string{"data.lib.dates"}),
		rego.Module("lib/dates.rego", src),
	).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := pq.Eval(context.Background(), rego.EvalInput(ds))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("lib.dates is undefined on some date of %s…%s: %d results", duty.MinDate, duty.MaxDate, len(rs))
	}
	b := rs[0].Bindings
	days, _ := b["days"].([]any)
	if len(days) != len(ds) {
		t.Fatalf("day is defined on %d of the %d dates", len(days), len(ds))
	}
	bad := 0
	for i, v := range days {
		n, err := v.(json.Number).Int64()
		if err != nil || n != want[i] {
			if bad++; bad <= 10 {
				t.Errorf("day(%s) = %v, want %d", ds[i], v, want[i])
			}
		}
	}
	if back, _ := b["back"].([]any); len(back) > 0 {
		t.Errorf("date(day(d)) != d for %d dates, the first %v", len(back), back[0])
	}
	if years, _ := b["years"].([]any); len(years) > 0 {
		t.Errorf("in_year(year(d), MM-DD) != day(d) for %d dates, the first %v", len(years), years[0])
	}
}
