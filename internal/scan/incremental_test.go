package scan_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

var (
	system = duty.System("test")
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func builtin(tb testing.TB) *policy.Engine {
	tb.Helper()
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// canonical renders violations for comparison: sorted, with first_seen when withSeen.
func canonical(vs []duty.Violation, withSeen bool) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		if !withSeen {
			v.FirstSeen = nil
		}
		if v.Evidence == nil {
			v.Evidence = []duty.Ref{}
		}
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

// evaluated returns the organs a scan evaluated itself (the others it reused).
func evaluated(tb testing.TB, st *store.Store, sc *duty.Scan) []string {
	tb.Helper()
	entries, err := st.ScanIndex(context.Background(), sc.ID)
	if err != nil {
		tb.Fatal(err)
	}
	out := []string{}
	for _, e := range entries {
		if e.Source == sc.ID {
			out = append(out, e.Organ)
		}
	}
	return out
}

func generated(tb testing.TB, st *store.Store, organs int) gen.Dataset {
	tb.Helper()
	ds := gen.Generate(gen.Options{Organs: organs, Seed: 7, Year: 2025, ViolationRate: 0.1})
	if _, err := st.PutMany(context.Background(), system, duty.RawDocs(ds)); err != nil {
		tb.Fatal(err)
	}
	return ds
}

// record returns a copy of the first generated record of collection c whose id starts with
// prefix.
func record(tb testing.TB, ds gen.Dataset, c, prefix string) map[string]any {
	tb.Helper()
	for _, d := range ds[c] {
		if id, _ := d["id"].(string); len(id) > len(prefix) && id[:len(prefix)] == prefix {
			return maps.Clone(d)
		}
	}
	tb.Fatalf("no %s with an id starting %q", c, prefix)
	return nil
}

func put(tb testing.TB, st *store.Store, c string, docs ...map[string]any) {
	tb.Helper()
	raw := make([]duty.RawDoc, len(docs))
	for i, d := range docs {
		raw[i] = duty.RawDoc{Index: i, Value: d}
	}
	if _, err := st.PutBatch(context.Background(), system, c, raw); err != nil {
		tb.Fatal(err)
	}
}

// TestIncrementalScanEqualsPlainScan changes the records step by step and checks, after each
// step, that a scan reusing the unchanged organs gives exactly the report of a plain scan —
// violations, first_seen, resolved checks and summary — and re-evaluates exactly the organs
// that changed.
func TestIncrementalScanEqualsPlainScan(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	ds := generated(t, st, 3)
	e := builtin(t)
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet})
	const asOf = "2025-12-31"

	talk := record(t, ds, "talks", "ORG-2-")
	meeting := record(t, ds, "meetings", "ORG-1-")
	ORG3Person := record(t, ds, "people", "ORG-3-")["id"]
	steps := []struct {
		name    string
		change  func()
		asOf    string
		changed []string // organs the scan must evaluate
	}{
		{name: "first scan", changed: []string{"ORG-1", "ORG-2", "ORG-3"}},
		{name: "nothing changed", changed: []string{}},
		{name: "a talk of ORG-2 unrecorded", changed: []string{"ORG-2"}, change: func() {
			t2 := maps.Clone(talk)
			t2["recorded"] = false
			put(t, st, "talks", t2)
		}},
		{name: "the talk moves to a person of ORG-3", changed: []string{"ORG-2", "ORG-3"}, change: func() {
			t2 := maps.Clone(talk)
			t2["person_id"] = ORG3Person
			delete(t2, "conducted_by")
			put(t, st, "talks", t2)
		}},
		{name: "a meeting of ORG-1 deleted", changed: []string{"ORG-1"}, change: func() {
			if err := st.Delete(ctx, system, "meetings", meeting["id"].(string)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "another as-of date", asOf: "2025-06-30", changed: []string{"ORG-1", "ORG-2", "ORG-3"}},
		// Compared with the year's end scan before the one of June: ORG-2 and ORG-3 are reused.
		{name: "the meeting is back, at the year's end again", changed: []string{"ORG-1"},
			change: func() { put(t, st, "meetings", meeting) }},
	}
	for _, step := range steps {
		if step.change != nil {
			step.change()
		}
		date := asOf
		if step.asOf != "" {
			date = step.asOf
		}
		// The plain scan is computed first: it compares with the same previous scan.
		sc, err := svc.Start(ctx, scan.Request{AsOf: date}, true)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		want := plainScanBefore(t, st, e, sc, date)
		if diff := cmp.Diff(canonical(want.Violations, true), canonical(sc.Report.Violations, true)); diff != "" {
			t.Errorf("%s: violations (-plain +incremental):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(canonical(want.Resolved, true), canonical(sc.Report.Resolved, true)); diff != "" {
			t.Errorf("%s: resolved (-plain +incremental):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(want.Warnings, sc.Report.Warnings); diff != "" {
			t.Errorf("%s: warnings (-plain +incremental):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(want.Summary, sc.Report.Summary); diff != "" {
			t.Errorf("%s: summary (-plain +incremental):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(step.changed, evaluated(t, st, sc)); diff != "" {
			t.Errorf("%s: organs evaluated (-want +got):\n%s", step.name, diff)
		}
		// The stored report is the one returned.
		back, err := st.GetScan(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(canonical(sc.Report.Violations, true), canonical(back.Report.Violations, true)); diff != "" {
			t.Errorf("%s: stored violations (-returned +stored):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(sc.Report.Summary, back.Report.Summary); diff != "" {
			t.Errorf("%s: stored summary (-returned +stored):\n%s", step.name, diff)
		}
		if len(back.Report.Resolved) != len(sc.Report.Resolved) {
			t.Errorf("%s: %d resolved stored, %d returned", step.name, len(back.Report.Resolved), len(sc.Report.Resolved))
		}
	}

	// A full scan (no reuse) gives the same violations as the last incremental one.
	last, err := st.LatestScan(ctx, []string{""})
	if err != nil {
		t.Fatal(err)
	}
	full, err := svc.Start(ctx, scan.Request{AsOf: asOf, Full: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(canonical(last.Report.Violations, false), canonical(full.Report.Violations, false)); diff != "" {
		t.Errorf("full scan after the steps (-incremental +full):\n%s", diff)
	}
	if got := evaluated(t, st, full); len(got) != 3 {
		t.Errorf("a full scan evaluated %v, want every organ", got)
	}

	// A service started anew (no warnings in memory) evaluates again the organs whose results
	// it could reuse from the store, rather than report them without their warnings; then, with
	// the warnings of its own scan in memory, it reuses them.
	fresh := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet})
	for i, wantEvaluated := range []int{3, 0} {
		sc, err := fresh.Start(ctx, scan.Request{AsOf: "2025-06-30"}, true)
		if err != nil {
			t.Fatal(err)
		}
		want := plainScanBefore(t, st, e, sc, "2025-06-30")
		if len(want.Warnings) == 0 {
			t.Fatalf("restarted scan %d: the plain scan has no warning to carry", i)
		}
		if diff := cmp.Diff(want.Warnings, sc.Report.Warnings); diff != "" {
			t.Errorf("restarted scan %d: warnings (-plain +incremental):\n%s", i, diff)
		}
		if got := evaluated(t, st, sc); len(got) != wantEvaluated {
			t.Errorf("restarted scan %d evaluated %v, want %d organs", i, got, wantEvaluated)
		}
	}

	// Another policy revision: nothing is reused.
	b, err := policy.Builtin().WithParams("meeting.joint", map[string]any{"max_gap_days": 30})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := policy.Compile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	svc2 := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e2 }, Log: quiet})
	sc, err := svc2.Start(ctx, scan.Request{AsOf: asOf}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := evaluated(t, st, sc); len(got) != 3 {
		t.Errorf("a scan on another policy revision evaluated %v, want every organ", got)
	}
}

// plainScanBefore computes the plain scan the incremental scan sc should equal: compared with
// the previous report in its scope as of its date (not with sc itself, which is now stored):
// the done scan of the same or an enclosing scope with the latest as-of date on or before
// sc's, the last finished of that date, its violations limited to sc's departments.
func plainScanBefore(tb testing.TB, st *store.Store, e *policy.Engine, sc *duty.Scan, asOf string) *duty.Report {
	tb.Helper()
	ctx := context.Background()
	opts := scan.Options{AsOf: asOf, Department: sc.Department, Engine: e}
	if err := opts.Normalize(ctx); err != nil {
		tb.Fatal(err)
	}
	organs, keep, err := scan.LoadScope(ctx, st, sc.Department)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := scan.EvaluateAll(ctx, opts, organs)
	if err != nil {
		tb.Fatal(err)
	}
	rep := scan.NewReport(opts, scan.FilterScope(f.Violations, keep))
	scan.SetWarnings(rep, scan.FilterScopeWarnings(f.Warnings, keep))
	rep.ScanID = sc.ID
	depts, err := st.Departments(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tree := duty.NewTree(depts)
	enclosing := map[string]bool{"": true}
	for cur := sc.Department; cur != ""; cur = tree.Department(cur).Str("parent_id") {
		enclosing[cur] = true
	}
	scans, err := st.ListScans(ctx, 100)
	if err != nil {
		tb.Fatal(err)
	}
	var before []duty.Scan
	for _, s := range scans {
		if s.ID != sc.ID && s.Status == duty.ScanDone && enclosing[s.Department] && s.AsOf <= asOf {
			before = append(before, s)
		}
	}
	slices.SortFunc(before, func(a, b duty.Scan) int { // latest as-of date, then last finished, first
		if a.AsOf != b.AsOf {
			return strings.Compare(b.AsOf, a.AsOf)
		}
		return strings.Compare(b.FinishedAt, a.FinishedAt)
	})
	var prev *duty.Scan
	if len(before) > 0 {
		if prev, err = st.GetScan(ctx, before[0].ID); err != nil {
			tb.Fatal(err)
		}
		prev.Report.Violations = scan.FilterScope(prev.Report.Violations, keep)
	}
	compare(rep, prev)
	return rep
}

// TestIncrementalDepartmentScan checks a scan of one department: it reuses its organs while
// they do not change and reports what a plain scan of the department reports.
func TestIncrementalDepartmentScan(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	ds := generated(t, st, 2)
	e := builtin(t)
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet})
	const asOf = "2025-12-31"
	dept := "ORG-2-PC"
	for i, changed := range [][]string{{"ORG-2"}, {}, {"ORG-2"}} {
		if i == 2 {
			b := record(t, ds, "record_books", "ORG-2-")
			b["inspections"] = []any{}
			put(t, st, "record_books", b)
		}
		sc, err := svc.Start(ctx, scan.Request{AsOf: asOf, Department: dept}, true)
		if err != nil {
			t.Fatal(err)
		}
		want := plainScanBefore(t, st, e, sc, asOf)
		if diff := cmp.Diff(canonical(want.Violations, true), canonical(sc.Report.Violations, true)); diff != "" {
			t.Errorf("scan %d of %s (-plain +incremental):\n%s", i, dept, diff)
		}
		if diff := cmp.Diff(want.Summary, sc.Report.Summary); diff != "" {
			t.Errorf("scan %d of %s: summary (-plain +incremental):\n%s", i, dept, diff)
		}
		if diff := cmp.Diff(changed, evaluated(t, st, sc)); diff != "" {
			t.Errorf("scan %d of %s: organs evaluated (-want +got):\n%s", i, dept, diff)
		}
	}
}

// compare is the tests' reading of a report's history: it fills first_seen on each violation of rep and rep.Resolved from prev, the previous
// report in rep's scope (nil when there is none; see store.PreviousScanMeta), its violations
// already limited to rep's scope. A first_seen after rep's as-of date is not inherited.
func compare(rep *duty.Report, prev *duty.Scan) {
	before := map[string]duty.Violation{}
	if prev != nil && prev.Report != nil {
		for _, v := range prev.Report.Violations {
			before[v.Key()] = v
		}
	}
	now := map[string]bool{}
	rep.Summary.New, rep.Summary.Persisting = 0, 0
	for i := range rep.Violations {
		v := &rep.Violations[i]
		k := v.Key()
		now[k] = true
		if p, ok := before[k]; ok && p.FirstSeen != nil && p.FirstSeen.AsOf <= rep.AsOf {
			v.FirstSeen = p.FirstSeen
			rep.Summary.Persisting++
		} else {
			v.FirstSeen = &duty.Seen{AsOf: rep.AsOf, ScanID: rep.ScanID}
			rep.Summary.New++
		}
	}
	rep.Resolved = []duty.Violation{}
	if prev != nil && prev.Report != nil {
		for _, v := range prev.Report.Violations {
			if !now[v.Key()] {
				rep.Resolved = append(rep.Resolved, v)
			}
		}
	}
	rep.Summary.Resolved = len(rep.Resolved)
}
