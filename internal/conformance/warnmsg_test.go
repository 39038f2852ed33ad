package conformance_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// TestWarningIsTheViolation checks DOMAIN.md's "Each warning carries the violation it would
// become — policy, severity, reason, department, accountable, subject, details, message exactly
// as that violation would have them": for every warning of a scan as of a, failing on f, a scan
// as of f of the records a scan as of a sees (nothing dated after a; the roster of a, so no
// left_on after a, but for branch.discipline_member; no appointment effective after a, but for
// talk.pre_appointment) reports that violation, field for field.
func TestWarningIsTheViolation(t *testing.T) {
	n, offsets := max(*seeds/3, 1), []int{1, 5, 14}
	if testing.Short() {
		n, offsets = 1, []int{14}
	}
	checked := map[string]int{}
	for gi, genDate := range warnGenDates {
		for _, k := range offsets {
			asOf := mustDay(t, genDate).AddDate(0, 0, -k).Format(time.DateOnly)
			for i := range n {
				seed := int64(90000 + 1000*gi + 10*k + i)
				ds := gen.Generate(gen.Options{Boundaries: true, Seed: seed, AsOf: genDate})
				rep := scanDataset(t, ds, asOf)
				// One scan per day and policy: the warnings failing on that day.
				later := map[[2]string]map[string]duty.Violation{}
				for _, w := range rep.Warnings {
					at := [2]string{w.FailsOn, w.Policy}
					if later[at] == nil {
						later[at] = map[string]duty.Violation{}
						for _, v := range scanDataset(t, seenOn(ds, asOf, w.FailsOn, w.Policy), w.FailsOn).Violations {
							later[at][v.Key()] = v
						}
					}
					name := fmt.Sprintf("generated for %s/as_of=%s/seed=%d: warning %s %s %s/%s %v fails on %s",
						genDate, asOf, seed, w.Policy, w.Reason, w.Subject.Collection, w.Subject.ID, w.Details, w.FailsOn)
					v, ok := later[at][w.Key()]
					if !ok {
						t.Errorf("%s: no such violation as of %s", name, w.FailsOn)
						continue
					}
					if diff := cmp.Diff(v, w.Violation); diff != "" {
						t.Errorf("%s: the warning is not the violation (-violation +warning):\n%s", name, diff)
					}
					checked[w.Policy]++
				}
			}
		}
	}
	if testing.Short() {
		return
	}
	for p := range conformance.Reasons {
		if checked[p] == 0 {
			t.Errorf("no warning of %s checked (%v)", p, checked)
		}
	}
}

func scanDataset(t *testing.T, ds gen.Dataset, asOf string) *duty.Report {
	t.Helper()
	dir := t.TempDir()
	if err := ds.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	rep, err := scan.ScanDir(context.Background(), dir, scan.Options{AsOf: asOf, Engine: testEngine(t)})
	if err != nil {
		t.Fatalf("scan as of %s: %v", asOf, err)
	}
	return rep
}

// seenOn returns a copy of ds with what a scan as of asOf does not see left out, for a warning
// of policy failing on failsOn: records dated after asOf (DOMAIN.md "Collections"), except the
// appointments effective up to failsOn for talk.pre_appointment; and every left_on after asOf
// removed, except for branch.discipline_member, which reads left_on up to failsOn.
func seenOn(ds gen.Dataset, asOf, failsOn, policy string) gen.Dataset {
	after := func(d map[string]any, field, limit string) bool {
		s, _ := d[field].(string)
		return s > limit
	}
	keep := func(docs []map[string]any, field, limit string) []map[string]any {
		out := []map[string]any{}
		for _, d := range docs {
			if !after(d, field, limit) {
				out = append(out, d)
			}
		}
		return out
	}
	nested := func(d map[string]any, field, dateField string) map[string]any {
		c := make(map[string]any, len(d))
		for k, v := range d {
			c[k] = v
		}
		var kept []any
		arr, _ := d[field].([]any)
		for _, e := range arr {
			if !after(e.(map[string]any), dateField, asOf) {
				kept = append(kept, e)
			}
		}
		if kept == nil {
			kept = []any{}
		}
		c[field] = kept
		return c
	}
	out := gen.Dataset{}
	for c, docs := range ds {
		out[c] = docs
	}
	apptLimit, leftLimit := asOf, asOf
	switch policy {
	case conformance.PolicyTalk:
		apptLimit = failsOn
	case conformance.PolicyBranch:
		leftLimit = failsOn
	}
	out["appointments"] = keep(ds["appointments"], "effective_on", apptLimit)
	out["talks"] = keep(ds["talks"], "held_on", asOf)
	out["meetings"] = keep(ds["meetings"], "held_on", asOf)
	out["suggestions"] = keep(ds["suggestions"], "issued_on", asOf)
	out["record_books"] = nil
	for _, b := range keep(ds["record_books"], "issued_on", asOf) {
		out["record_books"] = append(out["record_books"], nested(nested(b, "entries", "date"), "inspections", "date"))
	}
	out["integrity_files"] = nil
	for _, f := range ds["integrity_files"] {
		out["integrity_files"] = append(out["integrity_files"], nested(f, "major_matters", "event_on"))
	}
	out["people"] = nil
	for _, p := range ds["people"] {
		if after(p, "left_on", leftLimit) {
			c := make(map[string]any, len(p))
			for k, v := range p {
				c[k] = v
			}
			delete(c, "left_on")
			p = c
		}
		out["people"] = append(out["people"], p)
	}
	return out
}
