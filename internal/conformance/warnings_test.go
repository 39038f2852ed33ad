package conformance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// warnGenDates are the dates the generator places its boundaries around: the day after the
// 03-31 deadlines (letters, the annual meeting, lists), the day after the record books' 01-31,
// mid-year (appointments, due dates, gaps, stale files, major matters), and early in a year, so
// that the scans a few days before straddle the year edge of the annual duties.
var warnGenDates = []string{"2025-04-01", "2025-02-01", "2025-06-30", "2026-01-05", "2024-03-01"}

// warnOffsets are how many days before the generator's date each scan is made: the violation
// boundaries the generator placed on its date become warnings failing on as_of + k, on the first
// and last day of the window (k = 1, 14) and just outside it (k = 15).
var warnOffsets = []int{1, 2, 5, 13, 14, 15}

func warningLines(ws []conformance.Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.FailsOn + " " + w.Key.String()
	}
	return out
}

// TestConformanceWarnings scans generated datasets a few days before the dates their boundaries
// sit on and compares the report's warnings (and violations) with the oracle's reading of
// DOMAIN.md, for the whole dataset and one department's subtree. It checks that every duty warned
// and that both ends of the window occurred, so that it cannot pass vacuously.
func TestConformanceWarnings(t *testing.T) {
	n := max(*seeds/3, 1)
	offsets := warnOffsets
	if testing.Short() {
		n, offsets = 1, []int{1, 14}
	}
	policies := map[string]int{}
	ends := map[string]int{}
	for gi, genDate := range warnGenDates {
		for _, k := range offsets {
			asOf := mustDay(t, genDate).AddDate(0, 0, -k).Format(time.DateOnly)
			for i := range n {
				seed := int64(50000 + 1000*gi + 10*k + i)
				ds := gen.Generate(gen.Options{Boundaries: true, Seed: seed, AsOf: genDate})
				dir, onDisk := written(t, ds)
				for _, dept := range []string{"", subtree(ds, seed)} {
					name := fmt.Sprintf("generated for %s/as_of=%s/seed=%d/department=%s", genDate, asOf, seed, dept)
					want := conformance.ExpectedWarnings(onDisk, asOf, dept, conformance.WarnDays)
					for i := range want {
						want[i].Key = normalize(t, []conformance.Key{want[i].Key})[0]
					}
					if dept == "" {
						for _, w := range want {
							policies[w.Policy]++
							switch w.FailsOn {
							case mustDay(t, asOf).AddDate(0, 0, 1).Format(time.DateOnly):
								ends["first day"]++
							case mustDay(t, asOf).AddDate(0, 0, conformance.WarnDays).Format(time.DateOnly):
								ends["last day"]++
							}
						}
					}
					rep, err := scan.ScanDir(context.Background(), dir, scan.Options{AsOf: asOf, Department: dept, Engine: testEngine(t)})
					if err != nil {
						t.Errorf("%s: scan: %v", name, err)
						continue
					}
					checkOrder(t, rep)
					got := fromWarnings(t, rep)
					if diff := cmp.Diff(warningLines(want), warningLines(got)); diff != "" {
						t.Errorf("%s: warnings differ from DOMAIN.md's reading (-want +got):\n%s", name, diff)
					}
					if diff := cmp.Diff(lines(normalize(t, conformance.Expected(onDisk, asOf, dept))), lines(normalize(t, fromReport(rep)))); diff != "" {
						t.Errorf("%s: violations differ from DOMAIN.md's reading (-want +got):\n%s", name, diff)
					}
				}
			}
		}
	}
	if testing.Short() {
		return
	}
	var never []string
	for p := range conformance.Reasons {
		if policies[p] == 0 {
			never = append(never, p)
		}
	}
	for _, end := range []string{"first day", "last day"} {
		if ends[end] == 0 {
			never = append(never, "a warning failing on the "+end+" of the window")
		}
	}
	if len(never) > 0 {
		t.Errorf("never exercised: %s (warnings by policy: %v)", strings.Join(never, ", "), policies)
	}
	if testing.Verbose() {
		t.Logf("warnings by policy: %v; window ends: %v", policies, ends)
	}
}

// fromWarnings turns a report's warnings into the oracle's terms, in the report's order.
func fromWarnings(tb testing.TB, rep *duty.Report) []conformance.Warning {
	tb.Helper()
	out := make([]conformance.Warning, 0, len(rep.Warnings))
	for _, w := range rep.Warnings {
		k := conformance.Key{Policy: w.Policy, Reason: w.Reason, Department: w.Department,
			Subject: conformance.Ref{Collection: w.Subject.Collection, ID: w.Subject.ID}, Details: w.Details}
		out = append(out, conformance.Warning{Key: normalize(tb, []conformance.Key{k})[0], FailsOn: w.FailsOn})
	}
	conformance.SortWarnings(out)
	return out
}

func mustDay(tb testing.TB, s string) time.Time {
	tb.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
