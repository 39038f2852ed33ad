package scan_test

import (
	"context"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestHistoryByAsOf runs the scans of issue 12 in the order that misstated progress: a scan as
// of the year's end, one as of June run after it, the year's end again, then a department
// alone. The latest report is the latest as-of date's (ties: the last run); a scan compares
// with the previous report of its scope or an enclosing one on or before its date; so the June
// scan claims nothing resolved and dates nothing after June, re-running the year's end finds
// everything persisting since the first run, and so does the department scan.
func TestHistoryByAsOf(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	generated(t, st, 1)
	e := builtin(t)
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet})
	run := func(req scan.Request) *duty.Scan {
		t.Helper()
		sc, err := svc.Start(ctx, req, true)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	latest := func(dept string) *duty.Report {
		t.Helper()
		rep, err := svc.Latest(ctx, dept)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	const organ, end, june = "ORG-1", "2025-12-31", "2025-06-30"

	dec := run(scan.Request{AsOf: end})
	jun := run(scan.Request{AsOf: june})
	// The test means something only if the year's end has checks that June does not.
	inJune := map[string]bool{}
	for _, v := range jun.Report.Violations {
		inJune[v.Key()] = true
	}
	onlyDec := 0
	for _, v := range dec.Report.Violations {
		if !inJune[v.Key()] {
			onlyDec++
		}
	}
	if onlyDec == 0 {
		t.Fatal("the generated organ fails the same checks in June and December; the test needs a difference")
	}

	t.Run("an earlier date claims nothing resolved", func(t *testing.T) {
		if got := jun.Report.Summary.Resolved; got != 0 || len(jun.Report.Resolved) != 0 {
			t.Errorf("June after December: %d resolved, want 0 (%d checks fail only in December)", got, onlyDec)
		}
		if got, want := jun.Report.Summary.New, len(jun.Report.Violations); got != want {
			t.Errorf("June with no report on or before it: %d new, want all %d", got, want)
		}
	})
	t.Run("first_seen is never after the as-of date", func(t *testing.T) {
		for _, v := range jun.Report.Violations {
			if v.FirstSeen == nil || v.FirstSeen.AsOf > june {
				t.Fatalf("%s: first_seen %+v in a report as of %s", v.Key(), v.FirstSeen, june)
			}
		}
	})
	t.Run("the latest report is the latest date's", func(t *testing.T) {
		if rep := latest(organ); rep.ScanID != dec.ID || rep.AsOf != end {
			t.Errorf("latest report of %s: scan %s as of %s, want %s as of %s (run before the June scan)", organ, rep.ScanID, rep.AsOf, dec.ID, end)
		}
	})

	again := run(scan.Request{AsOf: end})
	t.Run("the same date again: everything persists since the first run", func(t *testing.T) {
		s := again.Report.Summary
		if s.New != 0 || s.Resolved != 0 || s.Persisting != len(again.Report.Violations) {
			t.Errorf("re-run as of %s: new %d, persisting %d, resolved %d; want 0, %d, 0", end, s.New, s.Persisting, s.Resolved, len(again.Report.Violations))
		}
		for _, v := range again.Report.Violations {
			if v.FirstSeen == nil || v.FirstSeen.ScanID != dec.ID {
				t.Fatalf("%s: first_seen %+v, want the first year's-end scan %s", v.Key(), v.FirstSeen, dec.ID)
			}
		}
		if rep := latest(organ); rep.ScanID != again.ID {
			t.Errorf("latest report: scan %s, want the last run of the latest date %s", rep.ScanID, again.ID)
		}
	})

	// A department with violations, other than the organ itself.
	dept, most := "", 0
	for d, n := range dec.Report.Summary.ByDepartment {
		if d != organ && (n > most || n == most && d < dept) {
			dept, most = d, n
		}
	}
	if dept == "" {
		t.Fatal("no department with violations")
	}
	depts, err := st.Departments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	most = len(scan.FilterScope(dec.Report.Violations, duty.NewTree(depts).Subtree(dept)))
	one := run(scan.Request{AsOf: end, Department: dept})
	t.Run("a department after its organ: persisting, not new", func(t *testing.T) {
		s := one.Report.Summary
		if s.Violations != most || s.New != 0 || s.Persisting != most || s.Resolved != 0 {
			t.Errorf("scan of %s after the organ's: %d violations, new %d, persisting %d, resolved %d; want %d, 0, %d, 0",
				dept, s.Violations, s.New, s.Persisting, s.Resolved, most, most)
		}
		for _, v := range one.Report.Violations {
			if v.FirstSeen == nil || v.FirstSeen.ScanID != dec.ID {
				t.Fatalf("%s: first_seen %+v, want the organ's first year's-end scan %s", v.Key(), v.FirstSeen, dec.ID)
			}
		}
		rep := latest(dept)
		if rep.ScanID != one.ID || rep.Summary.New != 0 || rep.Summary.Persisting != most {
			t.Errorf("report of %s: scan %s, new %d, persisting %d; want %s, 0, %d", dept, rep.ScanID, rep.Summary.New, rep.Summary.Persisting, one.ID, most)
		}
	})
	t.Run("the organ after one of its departments compares with the organ's own report", func(t *testing.T) {
		whole := run(scan.Request{AsOf: end})
		if s := whole.Report.Summary; s.New != 0 || s.Resolved != 0 {
			t.Errorf("organ scan after the department's: new %d, resolved %d; want 0, 0", s.New, s.Resolved)
		}
	})
}
