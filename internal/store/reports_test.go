package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// Two organs: ORG-A with a division and a branch under it, ORG-B with one office.
func putTree(tb testing.TB, st *store.Store) {
	tb.Helper()
	docs := map[string][]map[string]any{"departments": {
		{"id": "ORG-A", "name": "甲机关", "kind": "organ"},
		{"id": "A-DIV", "name": "一处", "kind": "division", "parent_id": "ORG-A"},
		{"id": "A-BR", "name": "一处支部", "kind": "branch", "parent_id": "A-DIV"},
		{"id": "A-OFF", "name": "办公室", "kind": "office", "parent_id": "ORG-A"},
		{"id": "ORG-B", "name": "乙机关", "kind": "organ"},
		{"id": "B-OFF", "name": "办公室", "kind": "office", "parent_id": "ORG-B"},
	}}
	if _, err := st.PutMany(context.Background(), admin, duty.RawDocs(docs)); err != nil {
		tb.Fatal(err)
	}
}

func violation(policy, severity, dept, subject string, i int, seen *duty.Seen) duty.Violation {
	return duty.Violation{Policy: policy, Severity: severity, Reason: "missing", Department: dept, Accountable: "department_head",
		Subject:  duty.Ref{Collection: "people", ID: fmt.Sprintf("%s-%04d", subject, i)},
		Details:  map[string]any{"year": int64(2025), "note": "说明"},
		Message:  duty.Message{ZH: "缺少记录。", EN: "missing"},
		Evidence: []duty.Ref{{Collection: "talks", ID: "T-1"}}, FirstSeen: seen}
}

// finding is what one organ of a scan found, and the report it makes.
type finding struct {
	organ string
	rep   store.OrganReport
}

// saveScan stores a done scan of scope with the organs' findings, as a scan of the store does.
func saveScan(tb testing.TB, st *store.Store, id, scope, asOf, finished string, organs []finding, reuse []store.OrganResult, resolved []duty.Violation) *duty.Report {
	tb.Helper()
	ctx := context.Background()
	sc := &duty.Scan{ID: id, Status: duty.ScanRunning, Department: scope, AsOf: asOf, StartedAt: finished}
	if err := st.CreateScan(ctx, sc); err != nil {
		tb.Fatal(err)
	}
	rep := &duty.Report{ScanID: id, AsOf: asOf, PolicyRevision: "rev", GeneratedAt: "2026-01-01T00:00:00Z",
		Violations: []duty.Violation{}, Warnings: []duty.Warning{}, Resolved: resolved}
	results := slices.Clone(reuse)
	for _, e := range reuse {
		reps, err := st.OrganReports(ctx, []store.OrganResult{e})
		if err != nil {
			tb.Fatal(err)
		}
		rep.Violations = append(rep.Violations, reps[e.Organ].Violations...)
		rep.Warnings = append(rep.Warnings, reps[e.Organ].Warnings...)
		rep.Waived = append(rep.Waived, reps[e.Organ].Waived...)
	}
	for _, f := range organs {
		r, err := st.PutOrganReport(ctx, id, f.organ, 1, f.rep)
		if err != nil {
			tb.Fatal(err)
		}
		results = append(results, r)
		rep.Violations = append(rep.Violations, f.rep.Violations...)
		rep.Warnings = append(rep.Warnings, f.rep.Warnings...)
		rep.Waived = append(rep.Waived, f.rep.Waived...)
	}
	duty.SortViolations(rep.Violations)
	duty.SortWarnings(rep.Warnings)
	if rep.Resolved == nil {
		rep.Resolved = []duty.Violation{}
	}
	rep.Summary = duty.Summarize(rep.Violations)
	rep.Summary.New, rep.Summary.Resolved = 0, len(rep.Resolved)
	for _, v := range rep.Violations {
		if v.FirstSeen.ScanID == id {
			rep.Summary.New++
		} else {
			rep.Summary.Persisting++
		}
	}
	rep.Summary.Warnings, rep.Summary.Waived = len(rep.Warnings), len(rep.Waived)
	if scope != "" {
		rep.Department = &scope
	}
	sc.Report, sc.FinishedAt = rep, finished
	if err := st.FinishIndexedScan(ctx, sc, results, ""); err != nil {
		tb.Fatal(err)
	}
	return rep
}

// sample is a scan's findings in both organs: more violations in one department than a chunk
// holds, warnings and waived violations in several departments, an appointment of ORG-B's
// evaluation reported under ORG-A's office, and resolved checks.
func sample(id string) ([]finding, []duty.Violation) {
	seen := &duty.Seen{AsOf: "2025-12-31", ScanID: id}
	old := &duty.Seen{AsOf: "2025-06-30", ScanID: "S-0"}
	var a store.OrganReport
	for i := range 1234 {
		s := seen
		if i%3 == 0 {
			s = old
		}
		a.Violations = append(a.Violations, violation("talk.pre_appointment", "high", "A-BR", "P", i, s))
	}
	a.Violations = append(a.Violations, violation("letter.three_levels", "medium", "A-DIV", "Q", 1, seen),
		violation("list.annual", "low", "ORG-A", "R", 1, seen))
	a.Warnings = []duty.Warning{
		{Violation: violation("meeting.joint", "medium", "A-DIV", "W", 1, nil), FailsOn: "2026-01-15"},
		{Violation: violation("meeting.joint", "medium", "ORG-A", "W", 2, nil), FailsOn: "2026-01-10"},
	}
	a.Waived = []duty.Waived{{Violation: violation("talk.annual", "low", "A-BR", "X", 1, seen),
		Waiver: duty.WaiverRef{ID: "WV-1", Until: "2026-06-30"}}}
	b := store.OrganReport{
		Violations: []duty.Violation{violation("talk.pre_appointment", "high", "B-OFF", "S", 1, seen),
			violation("talk.pre_appointment", "high", "A-OFF", "T", 1, seen)}, // an appointment to ORG-A
		Warnings: []duty.Warning{{Violation: violation("letter.three_levels", "low", "B-OFF", "U", 1, nil), FailsOn: "2026-02-01"}},
		Waived: []duty.Waived{{Violation: violation("list.annual", "low", "B-OFF", "V", 1, seen),
			Waiver: duty.WaiverRef{ID: "WV-2", Until: "2026-03-31"}}},
	}
	resolved := []duty.Violation{violation("talk.pre_appointment", "high", "A-BR", "Z", 1, old),
		violation("list.annual", "low", "B-OFF", "Z", 2, old)}
	return []finding{{"ORG-A", a}, {"ORG-B", b}}, resolved
}

// TestReportRoundTrip: a stored report comes back with every field (violations over several
// chunks, warnings, waived violations with their waiver, resolved checks, first_seen, summary),
// and a department's report holds exactly its subtree's findings, also those another organ's
// evaluation found (an appointment).
func TestReportRoundTrip(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	putTree(t, st)
	organs, resolved := sample("S-1")
	want := saveScan(t, st, "S-1", "", "2025-12-31", "2026-01-01T00:00:01.000000Z", organs, nil, resolved)
	if len(want.Warnings) != 3 || len(want.Waived) != 2 {
		t.Fatalf("sample: %d warnings, %d waived", len(want.Warnings), len(want.Waived))
	}
	got, err := st.GetScan(ctx, "S-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Report, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("report round trip (-want +got):\n%s", diff)
	}
	latest, err := st.LatestScan(ctx, []string{"", "ORG-A"})
	if err != nil || latest.ID != "S-1" {
		t.Fatalf("LatestScan = %v, %v", latest, err)
	}

	for _, dept := range []string{"ORG-A", "A-DIV", "A-BR", "A-OFF", "ORG-B", "B-OFF"} {
		t.Run(dept, func(t *testing.T) {
			keep := map[string][]string{"ORG-A": {"ORG-A", "A-DIV", "A-BR", "A-OFF"}, "A-DIV": {"A-DIV", "A-BR"},
				"A-BR": {"A-BR"}, "A-OFF": {"A-OFF"}, "ORG-B": {"ORG-B", "B-OFF"}, "B-OFF": {"B-OFF"}}[dept]
			in := func(v duty.Violation) bool { return slices.Contains(keep, v.Department) }
			exp := *want
			exp.Department = &dept
			exp.Violations = filterOf(want.Violations, in)
			exp.Resolved = filterOf(want.Resolved, in)
			exp.Warnings = filterOf(want.Warnings, func(w duty.Warning) bool { return in(w.Violation) })
			exp.Waived = filterOf(want.Waived, func(w duty.Waived) bool { return in(w.Violation) })
			exp.Summary = duty.Summarize(exp.Violations)
			exp.Summary.New = 0
			for _, v := range exp.Violations {
				if v.FirstSeen.ScanID == "S-1" {
					exp.Summary.New++
				} else {
					exp.Summary.Persisting++
				}
			}
			exp.Summary.Resolved, exp.Summary.Warnings, exp.Summary.Waived = len(exp.Resolved), len(exp.Warnings), len(exp.Waived)
			got, err := st.DepartmentReport(ctx, dept)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&exp, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("DepartmentReport(%s) (-want +got):\n%s", dept, diff)
			}
		})
	}

	// The stored per-department counts add up to the report.
	counts, err := st.ScanDepartmentCounts(ctx, "S-1")
	if err != nil {
		t.Fatal(err)
	}
	total, warnings, waived, resolvedN := 0, 0, 0, 0
	for _, c := range counts {
		total += c.Violations
		warnings += c.Warnings
		waived += c.Waived
		resolvedN += c.Resolved
		if c.Department == "A-BR" && (c.BySeverity["high"] != 1234 || c.New+c.Persisting != 1234) {
			t.Errorf("A-BR counts = %+v", c)
		}
	}
	if total != len(want.Violations) || warnings != 3 || waived != 2 || resolvedN != 2 {
		t.Errorf("department counts: %d violations, %d warnings, %d waived, %d resolved", total, warnings, waived, resolvedN)
	}
	counted, err := st.OrganCounts(ctx, []string{"S-1"})
	byOrgan := counted["S-1"]
	if err != nil || byOrgan["ORG-A"] != 1237 || byOrgan["ORG-B"] != 1 {
		t.Errorf("OrganCounts = %v, %v; want ORG-A 1237 (one from ORG-B's evaluation), ORG-B 1", byOrgan, err)
	}
}

func filterOf[T any](xs []T, keep func(T) bool) []T {
	out := []T{}
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// TestCollectionsBounded: the number of collections does not grow with the number of scans.
func TestCollectionsBounded(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	putTree(t, st)
	count := func() int {
		names, err := st.Collections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(names)
	}
	var after1 int
	for i := range 30 {
		id := fmt.Sprintf("S-%02d", i)
		organs, resolved := sample(id)
		saveScan(t, st, id, "", "2025-12-31", fmt.Sprintf("2026-01-01T00:00:%02d.000000Z", i), organs, nil, resolved)
		if i == 0 {
			after1 = count()
		}
	}
	if n := count(); n != after1 {
		names, _ := st.Collections(ctx)
		t.Errorf("after 30 scans %d collections, after 1 scan %d: %v", n, after1, names)
	}
}

// TestRetention: scans past the retention (not among the last N of their scope, older than D
// days, not a scope's latest) lose their findings and keep their summaries; findings a kept scan
// reuses stay; what an unfinished scan wrote goes.
func TestRetention(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	putTree(t, st)
	day := func(n int) string {
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format(duty.TimeFormat)
	}
	organs, resolved := sample("S-0")
	saveScan(t, st, "S-0", "", "2025-12-31", day(0), organs, nil, resolved)
	// S-1 reuses S-0's findings of ORG-B and evaluates ORG-A again.
	idx, err := st.ScanIndex(ctx, "S-0")
	if err != nil {
		t.Fatal(err)
	}
	var reuseB store.OrganResult
	for _, e := range idx {
		if e.Organ == "ORG-B" {
			reuseB = e
		}
	}
	organs1, _ := sample("S-1")
	saveScan(t, st, "S-1", "", "2025-12-31", day(1), organs1[:1], []store.OrganResult{reuseB}, nil)
	for i := 2; i <= 5; i++ {
		id := fmt.Sprintf("S-%d", i)
		o, r := sample(id)
		saveScan(t, st, id, "", "2025-12-31", day(i), o, nil, r)
	}
	// A department scan, and an unfinished scan that wrote findings.
	o, _ := sample("D-1")
	saveScan(t, st, "D-1", "A-DIV", "2025-12-31", day(1), o[:1], nil, nil)
	if err := st.CreateScan(ctx, &duty.Scan{ID: "F-1", Status: duty.ScanRunning, AsOf: "2025-12-31", StartedAt: day(3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutOrganReport(ctx, "F-1", "ORG-A", 1, o[0].rep); err != nil {
		t.Fatal(err)
	}
	if err := st.FailScan(ctx, "F-1", "killed"); err != nil {
		t.Fatal(err)
	}

	// Keep the last 3 of each scope and anything younger than 2 days, as of day 6: S-0, S-1 and
	// S-2 go; D-1 stays (its scope's latest).
	p, err := st.Prune(ctx, store.Retention{KeepScans: 3, KeepDays: 2}, time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC), false)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(p.Pruned)
	if diff := cmp.Diff([]string{"S-0", "S-1", "S-2"}, p.Pruned); diff != "" {
		t.Errorf("pruned (-want +got):\n%s", diff)
	}
	for _, id := range []string{"S-0", "S-1", "S-2"} {
		sc, err := st.GetScan(ctx, id)
		if err != nil || sc.Report != nil || sc.Error != store.PrunedNote || sc.Summary == nil || sc.Summary.Violations == 0 {
			t.Errorf("pruned scan %s = %+v, %v; want its summary, no report", id, sc, err)
		}
		if m, err := st.OrganCounts(ctx, []string{id}); err != nil || m[id]["ORG-A"] == 0 {
			t.Errorf("trend summary of pruned scan %s: %v, %v", id, m, err)
		}
		m, err := st.PreviousScanMeta(ctx, []string{""}, "2025-12-31")
		if err != nil || m.ID != "S-5" {
			t.Errorf("PreviousScanMeta = %+v, %v", m, err)
		}
	}
	for _, id := range []string{"S-3", "S-4", "S-5", "D-1"} {
		if sc, err := st.GetScan(ctx, id); err != nil || sc.Report == nil {
			t.Errorf("kept scan %s = %+v, %v", id, sc, err)
		}
	}
	// Nothing of S-0..S-2 or F-1 is left in the findings; nothing of the kept scans is gone.
	sources := distinctScans(t, st)
	if diff := cmp.Diff([]string{"D-1", "S-3", "S-4", "S-5"}, sources); diff != "" {
		t.Errorf("scans with findings (-want +got):\n%s", diff)
	}

	// A kept scan reusing a pruned scan's findings keeps them readable.
	saveScan(t, st, "S-6", "", "2025-12-31", day(6), nil, idxOf(t, st, "S-5"), nil)
	if _, err := st.Prune(ctx, store.Retention{KeepScans: 1, KeepDays: 0}, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), false); err != nil {
		t.Fatal(err)
	}
	if sc, err := st.GetScan(ctx, "S-6"); err != nil || sc.Report == nil || len(sc.Report.Violations) != 1238 {
		t.Errorf("S-6 after S-5 was pruned: %v", err)
	}
	if sc, err := st.GetScan(ctx, "S-5"); err != nil || sc.Report != nil {
		t.Errorf("S-5 after the prune: %+v, %v", sc, err)
	}
}

func idxOf(tb testing.TB, st *store.Store, id string) []store.OrganResult {
	tb.Helper()
	idx, err := st.ScanIndex(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return idx
}

// distinctScans lists the scans that have documents in the organs' findings tables.
func distinctScans(tb testing.TB, st *store.Store) []string {
	tb.Helper()
	names, err := st.Collections(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, n := range names {
		if !strings.Contains(n, "report_organ.") {
			continue
		}
		var some []string
		if err := rawColl(tb, st, n).Distinct(context.Background(), "scan", bson.D{}).Decode(&some); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, some...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// rawDB connects to the store's database directly, as an earlier version or a test would.
func rawDB(tb testing.TB, st *store.Store) *mongo.Database {
	tb.Helper()
	return rawClient(tb).Database(st.Database())
}

func rawClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(storetest.URI(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// rawColl is a collection named as Collections names it: "<name>" in the store's database,
// "<shard database>/<name>" in a shard.
func rawColl(tb testing.TB, st *store.Store, name string) *mongo.Collection {
	tb.Helper()
	if db, coll, ok := strings.Cut(name, "/"); ok {
		return rawClient(tb).Database(db).Collection(coll)
	}
	return rawDB(tb, st).Collection(name)
}

// TestMigrateLegacyReports: reports of the previous layout (a table and an index per scan, a
// later scan pointing to an earlier one's table for an organ it reused) are moved at start;
// a move cut short (here before the old tables are dropped) is done again at the next start,
// and the reports read the same as before.
func TestMigrateLegacyReports(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	putTree(t, st)
	db := rawDB(t, st)
	seen1 := &duty.Seen{AsOf: "2025-06-30", ScanID: "L-1"}
	seen2 := &duty.Seen{AsOf: "2025-12-31", ScanID: "L-2"}
	var va []duty.Violation
	for i := range 700 {
		va = append(va, violation("talk.pre_appointment", "high", "A-BR", "P", i, seen1))
	}
	vb := []duty.Violation{violation("list.annual", "low", "B-OFF", "S", 1, seen2)}
	res := []duty.Violation{violation("list.annual", "low", "B-OFF", "Z", 1, seen1)}
	ins := func(coll string, docs ...any) {
		t.Helper()
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	entry := func(organ, source string, n, c int) bson.D {
		return bson.D{{Key: "o", Value: organ}, {Key: "v", Value: int64(1)}, {Key: "s", Value: source}, {Key: "n", Value: n}, {Key: "c", Value: c}}
	}
	sum := func(vs []duty.Violation, resolved int) string {
		s := duty.Summarize(vs)
		s.Resolved = resolved
		return mustJSON(t, s)
	}
	ins("scans",
		bson.D{{Key: "_id", Value: "L-1"}, {Key: "status", Value: "done"}, {Key: "scope", Value: ""}, {Key: "as_of", Value: "2025-06-30"},
			{Key: "policy_revision", Value: "rev"}, {Key: "started_at", Value: "2025-07-01T00:00:00.000000Z"}, {Key: "finished_at", Value: "2025-07-01T00:00:01.000000Z"},
			{Key: "format", Value: 2}, {Key: "summary_json", Value: sum(va, 0)}, {Key: "resolved_chunks", Value: 0}, {Key: "generated_at", Value: "G1"}},
		bson.D{{Key: "_id", Value: "L-2"}, {Key: "status", Value: "done"}, {Key: "scope", Value: ""}, {Key: "as_of", Value: "2025-12-31"},
			{Key: "policy_revision", Value: "rev"}, {Key: "started_at", Value: "2026-01-01T00:00:00.000000Z"}, {Key: "finished_at", Value: "2026-01-01T00:00:01.000000Z"},
			{Key: "format", Value: 2}, {Key: "summary_json", Value: sum(append(slices.Clone(va), vb...), 1)}, {Key: "resolved_chunks", Value: 1}, {Key: "generated_at", Value: "G2"}})
	ins("report.L-1",
		bson.D{{Key: "_id", Value: "v/ORG-A/0"}, {Key: "organ", Value: "ORG-A"}, {Key: "violations", Value: va[:500]}},
		bson.D{{Key: "_id", Value: "v/ORG-A/1"}, {Key: "organ", Value: "ORG-A"}, {Key: "violations", Value: va[500:]}})
	ins("report_index.L-1", bson.D{{Key: "_id", Value: "i/0"}, {Key: "entries", Value: bson.A{entry("ORG-A", "L-1", 700, 2), entry("ORG-B", "L-1", 0, 0)}}})
	ins("report.L-2",
		bson.D{{Key: "_id", Value: "v/ORG-B/0"}, {Key: "organ", Value: "ORG-B"}, {Key: "violations", Value: vb}},
		bson.D{{Key: "_id", Value: "r/0"}, {Key: "scan_id", Value: "L-2"}, {Key: "violations", Value: res}})
	ins("report_index.L-2", bson.D{{Key: "_id", Value: "i/0"}, {Key: "entries", Value: bson.A{entry("ORG-A", "L-1", 700, 2), entry("ORG-B", "L-2", 1, 1)}}})
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Killed before the old tables are dropped.
	killed := errors.New("killed")
	crash := cfg
	crash.Hook = func(p string) error {
		if p == "migrate.before-drop" {
			return killed
		}
		return nil
	}
	if _, err := store.Open(ctx, crash); !errors.Is(err, killed) {
		t.Fatalf("open with the crash hook: %v", err)
	}
	st = storetest.OpenConfig(t, cfg)
	names, err := st.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "report.") || strings.HasPrefix(n, "report_index.") {
			t.Errorf("old table %s left after the migration", n)
		}
	}
	got, err := st.GetScan(ctx, "L-2")
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(va), vb...)
	duty.SortViolations(want)
	if diff := cmp.Diff(want, got.Report.Violations); diff != "" {
		t.Errorf("L-2 violations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(res, got.Report.Resolved); diff != "" {
		t.Errorf("L-2 resolved (-want +got):\n%s", diff)
	}
	if got.Report.Summary.Violations != 701 || got.Report.Summary.ByDepartment["A-BR"] != 700 || got.Report.GeneratedAt != "G2" {
		t.Errorf("L-2 summary = %+v, generated %s", got.Report.Summary, got.Report.GeneratedAt)
	}
	l1, err := st.GetScan(ctx, "L-1")
	if err != nil || len(l1.Report.Violations) != 700 {
		t.Fatalf("L-1 = %v", err)
	}
	dep, err := st.DepartmentReport(ctx, "B-OFF")
	if err != nil || dep.ScanID != "L-2" || len(dep.Violations) != 1 || len(dep.Resolved) != 1 {
		t.Errorf("DepartmentReport(B-OFF) = %+v, %v", dep, err)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestPruneCutShort: a prune that stops after marking (a crash) leaves the collection pending;
// the next round collects, and the findings of the pruned scans are gone.
func TestPruneCutShort(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	crash := errors.New("killed")
	var armed bool
	cfg.Hook = func(p string) error {
		if p == "prune.after-mark" && armed {
			armed = false
			return crash
		}
		return nil
	}
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	putTree(t, st)
	for i := range 3 {
		id := fmt.Sprintf("S-%d", i)
		o, r := sample(id)
		saveScan(t, st, id, "", "2025-12-31", fmt.Sprintf("2026-01-0%dT00:00:00.000000Z", i+1), o, nil, r)
	}
	armed = true
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.Prune(ctx, store.Retention{KeepScans: 1, KeepDays: 1}, later, false); !errors.Is(err, crash) {
		t.Fatalf("prune with the crash hook: %v", err)
	}
	if pending, err := st.CollectPending(ctx); err != nil || !pending {
		t.Fatalf("CollectPending after the cut = %v, %v; want true", pending, err)
	}
	if diff := cmp.Diff([]string{"S-0", "S-1", "S-2"}, distinctScans(t, st)); diff != "" {
		t.Fatalf("findings before the collection (-want +got):\n%s", diff)
	}
	p, err := st.Prune(ctx, store.Retention{KeepScans: 1, KeepDays: 1}, later, true)
	if err != nil || len(p.Pruned) != 0 || p.Removed == 0 {
		t.Fatalf("the next prune: %+v, %v; want nothing newly pruned, the rest collected", p, err)
	}
	if pending, err := st.CollectPending(ctx); err != nil || pending {
		t.Errorf("CollectPending after the collection = %v, %v; want false", pending, err)
	}
	if diff := cmp.Diff([]string{"S-2"}, distinctScans(t, st)); diff != "" {
		t.Errorf("findings after the collection (-want +got):\n%s", diff)
	}
}

// TestReportIndexKeptAcrossProcesses: a process keeps the index of the scan its department
// reports show, and still shows what another process sharing the store changed: a later scan
// on its next report, and, once the other's retention removed the scan it kept, never the
// removed scan.
func TestReportIndexKeptAcrossProcesses(t *testing.T) {
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	a := storetest.OpenConfig(t, cfg)
	b := storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	putTree(t, a)
	day := func(n int) string {
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format(duty.TimeFormat)
	}
	organs, resolved := sample("S-0")
	saveScan(t, b, "S-0", "", "2025-12-31", day(0), organs, nil, resolved)
	for range 2 { // the second read is from the kept index
		rep, err := a.DepartmentReport(ctx, "A-OFF")
		if err != nil || rep.ScanID != "S-0" || len(rep.Violations) != 1 {
			t.Fatalf("report of A-OFF = %+v, %v; want S-0's appointment", rep, err)
		}
	}
	organs1, _ := sample("S-1")
	saveScan(t, b, "S-1", "", "2025-12-31", day(1), organs1[:1], nil, nil)
	rep, err := a.DepartmentReport(ctx, "A-BR")
	if err != nil || rep.ScanID != "S-1" {
		t.Fatalf("report of A-BR after another process's scan = %+v, %v; want S-1", rep, err)
	}
	if _, err := b.Prune(ctx, store.Retention{KeepScans: 1}, time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC), true); err != nil {
		t.Fatal(err)
	}
	rep, err = a.DepartmentReport(ctx, "A-OFF")
	if err != nil || rep.ScanID != "S-1" || len(rep.Violations) != 0 {
		t.Errorf("report of A-OFF after the other's retention = %+v, %v; want S-1's, without S-0's appointment", rep, err)
	}
}
