package conformance_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

var (
	seeds = flag.Int("conformance.seeds", 6, "seeds per as_of date in TestConformance")
	dump  = flag.String("conformance.dump", "", "write the dataset of every disagreeing case under this folder")
)

// asOfs are the scan dates: mid-year, the days of the fixed deadlines and the day after,
// the end of the year, the next year early and after its deadlines, and a leap year.
var asOfs = []string{
	"2025-06-30",
	"2025-03-31", "2025-04-01",
	"2025-01-31", "2025-02-01",
	"2025-12-31",
	"2026-01-15", "2026-04-15",
	"2024-04-01", // a leap year: day counts across 02-29
}

// seedFor makes distinct seeds for each as_of date.
func seedFor(dateIndex, i int) int64 { return int64(1000*(dateIndex+1) + i) }

// subtree picks the scope of the second scan of a dataset, by turns: the second organ, when
// there is one (so that the first is left out); an inner department with children; a leaf.
func subtree(ds map[string][]map[string]any, seed int64) string {
	children := map[string]int{}
	kind := map[string]string{}
	for _, d := range ds["departments"] {
		kind[d["id"].(string)] = d["kind"].(string)
		if p, ok := d["parent_id"].(string); ok {
			children[p]++
		}
	}
	var organs, inner, leaves []string
	for id, k := range kind {
		switch {
		case k == "organ":
			organs = append(organs, id)
		case children[id] > 0:
			inner = append(inner, id)
		default:
			leaves = append(leaves, id)
		}
	}
	sort.Strings(organs)
	sort.Strings(inner)
	sort.Strings(leaves)
	switch {
	case seed%3 == 0 && len(organs) > 1:
		return organs[1]
	case seed%3 == 2 || len(inner) == 0:
		return leaves[int(seed/3)%len(leaves)]
	}
	return inner[int(seed/3)%len(inner)]
}

var (
	engineOnce sync.Once
	engine     *policy.Engine
	engineErr  error
)

// testEngine compiles the built-in policies once for all tests.
func testEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	engineOnce.Do(func() { engine, engineErr = policy.Compile(context.Background(), policy.Builtin()) })
	if engineErr != nil {
		tb.Fatalf("compile the built-in policies: %v", engineErr)
	}
	return engine
}

// scanKeys writes ds to a folder and scans it with the engine, as `dutycheck scan` would.
func scanKeys(tb testing.TB, ds map[string][]map[string]any, asOf, dept string) ([]conformance.Key, error) {
	tb.Helper()
	dir := tb.TempDir()
	if err := gen.Dataset(ds).WriteDir(dir); err != nil {
		tb.Fatal(err)
	}
	rep, err := scan.ScanDir(context.Background(), dir, scan.Options{AsOf: asOf, Department: dept, Engine: testEngine(tb)})
	if err != nil {
		return nil, err
	}
	checkOrder(tb, rep)
	return normalize(tb, fromReport(rep)), nil
}

// checkOrder fails the test when the report's violations or warnings are not in DOMAIN.md's
// order (conformance.SortKeys, conformance.SortWarnings): the report is compared with the oracle
// as sets, so its order is checked here.
func checkOrder(tb testing.TB, rep *duty.Report) {
	tb.Helper()
	keys := inJSON(tb, fromReport(rep))
	sorted := slices.Clone(keys)
	conformance.SortKeys(sorted)
	if diff := cmp.Diff(lines(sorted), lines(keys)); diff != "" {
		tb.Errorf("the report's violations are not in DOMAIN.md's order (-want +got):\n%s", diff)
	}
	ws := make([]conformance.Warning, 0, len(rep.Warnings))
	for _, w := range rep.Warnings {
		k := conformance.Key{Policy: w.Policy, Reason: w.Reason, Department: w.Department,
			Subject: conformance.Ref{Collection: w.Subject.Collection, ID: w.Subject.ID}, Details: w.Details}
		ws = append(ws, conformance.Warning{Key: inJSON(tb, []conformance.Key{k})[0], FailsOn: w.FailsOn})
	}
	sortedWs := slices.Clone(ws)
	conformance.SortWarnings(sortedWs)
	if diff := cmp.Diff(warningLines(sortedWs), warningLines(ws)); diff != "" {
		tb.Errorf("the report's warnings are not in DOMAIN.md's order (-want +got):\n%s", diff)
	}
}

// normalize sends keys through JSON (inJSON) and sorts them.
func normalize(tb testing.TB, keys []conformance.Key) []conformance.Key {
	tb.Helper()
	out := inJSON(tb, keys)
	conformance.SortKeys(out)
	return out
}

// inJSON sends the details of keys through JSON, so that 2, 2.0 and json.Number("2") agree.
func inJSON(tb testing.TB, keys []conformance.Key) []conformance.Key {
	tb.Helper()
	out := make([]conformance.Key, len(keys))
	for i, k := range keys {
		b, err := json.Marshal(k.Details)
		if err != nil {
			tb.Fatalf("details of %v: %v", k, err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			tb.Fatalf("details of %v: %v", k, err)
		}
		if len(d) == 0 {
			d = nil
		}
		k.Details = d
		out[i] = k
	}
	return out
}

func fromReport(rep *duty.Report) []conformance.Key {
	keys := make([]conformance.Key, 0, len(rep.Violations))
	for _, v := range rep.Violations {
		keys = append(keys, conformance.Key{Policy: v.Policy, Reason: v.Reason, Department: v.Department,
			Subject: conformance.Ref{Collection: v.Subject.Collection, ID: v.Subject.ID}, Details: v.Details})
	}
	return keys
}

// TestConformance scans generated datasets with the engine and compares the report with the
// oracle's reading of DOMAIN.md, for the whole dataset and one department's subtree, at every
// date of asOfs. It also checks that every policy and reason of DOMAIN.md occurred, so that it
// cannot pass without testing anything.
func TestConformance(t *testing.T) {
	n := *seeds
	if testing.Short() {
		n = 1 // a smoke test; the coverage check below needs the full run
	}
	seen := map[string]int{}
	for di, asOf := range asOfs {
		for i := range n {
			seed := seedFor(di, i)
			ds := gen.Generate(gen.Options{Boundaries: true, Seed: seed, AsOf: asOf})
			_, onDisk := written(t, ds)
			for _, dept := range []string{"", subtree(ds, seed)} {
				name := fmt.Sprintf("as_of=%s/seed=%d/department=%s", asOf, seed, dept)
				want := normalize(t, conformance.Expected(onDisk, asOf, dept))
				if dept == "" {
					for _, k := range want {
						seen[k.Policy+"/"+k.Reason]++
						switch k.Policy {
						case conformance.PolicyLetter:
							seen[fmt.Sprintf("%s/%s/level %v", k.Policy, k.Reason, k.Details["level"])]++
						case conformance.PolicyList:
							seen[fmt.Sprintf("%s/%s/level %v", k.Policy, k.Reason, k.Details["level"])]++
						}
					}
				}
				got, err := scanKeys(t, onDisk, asOf, dept)
				if err != nil {
					t.Errorf("%s: scan: %v", name, err)
					continue
				}
				if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
					t.Errorf("%s: report differs from DOMAIN.md's reading (-want +got):\n%s", name, diff)
					if *dump != "" {
						out := filepath.Join(*dump, fmt.Sprintf("%s_seed%d", asOf, seed))
						if err := onDisk.WriteDir(out); err != nil {
							t.Error(err)
						}
					}
				}
			}
		}
	}
	var want []string
	for policy, reasons := range conformance.Reasons {
		for _, r := range reasons {
			want = append(want, policy+"/"+r)
		}
	}
	for _, r := range []string{"missing", "late", "unsigned"} {
		for lv := 1; lv <= 3; lv++ {
			want = append(want, fmt.Sprintf("%s/%s/level %d", conformance.PolicyLetter, r, lv))
		}
	}
	for _, lv := range []string{"party_group", "party_group_secretary", "leaders", "party_committee", "discipline_committee", "department_heads", "special_committee"} {
		want = append(want, fmt.Sprintf("%s/missing/level %s", conformance.PolicyList, lv))
	}
	sort.Strings(want)
	var missing []string
	for _, w := range want {
		if seen[w] == 0 {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 && !testing.Short() {
		t.Errorf("never exercised over %d seeds per date: %s", n, strings.Join(missing, ", "))
	}
	if testing.Verbose() {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range seen {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			t.Logf("%6d %s", seen[k], k)
		}
	}
}

// written writes ds to a new folder and reads it back: the oracle reads what the engine reads,
// the files.
func written(tb testing.TB, ds gen.Dataset) (string, gen.Dataset) {
	tb.Helper()
	dir := tb.TempDir()
	if err := ds.WriteDir(dir); err != nil {
		tb.Fatal(err)
	}
	onDisk, err := gen.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, onDisk
}
