package gen_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
)

// boundaryAsOfs are the scan dates of the conformance check (internal/conformance): mid-year,
// the days of the fixed deadlines and the day after, the end of the year, the next year early
// and after its deadlines, and a leap year.
var boundaryAsOfs = []string{
	"2025-06-30",
	"2025-03-31", "2025-04-01",
	"2025-01-31", "2025-02-01",
	"2025-12-31",
	"2026-01-15", "2026-04-15",
	"2024-04-01",
}

// seedFor makes the conformance check's seeds for each as_of date.
func seedFor(dateIndex, i int) int64 { return int64(1000*(dateIndex+1) + i) }

// placed are the boundaries boundary mode places dates on and around on purpose (see
// boundaryCoverage): over the conformance check's datasets, each must occur.
var placed = []string{
	"any date vs as_of -1", "any date vs as_of 0", "any date vs as_of +1",
	"any date vs Y-01-01 -1", "any date vs Y-01-01 0", "any date vs Y-01-01 +1",
	"any date vs Y-01-31 -1", "any date vs Y-01-31 0", "any date vs Y-01-31 +1",
	"any date vs Y-03-31 -1", "any date vs Y-03-31 0", "any date vs Y-03-31 +1",
	"talk vs effective_on-90 -1", "talk vs effective_on-90 0", "talk vs effective_on 0", "talk vs effective_on +1",
	"letter vs took_office+30 0", "letter vs took_office+30 +1",
	"book entry gap vs 60 0", "book entry gap vs 60 +1", "book last gap to as_of vs 60 0", "book last gap to as_of vs 60 +1",
	"inspection vs as_of-183 -1", "inspection vs as_of-183 0",
	"joint gap vs 92 0", "joint gap vs 92 +1",
	"file updated vs as_of-365 -1", "file updated vs as_of-365 0",
	"matter reported vs event+30 0", "matter reported vs event+30 +1",
	"matter event vs as_of-30 -1", "matter event vs as_of-30 0",
}

// TestBoundaryCoverage counts, over the datasets of the conformance check (6 seeds for each of
// its as_of dates), the dates on, one day before and one day after each boundary, and checks
// that every boundary placed on purpose occurs. -v prints the counts.
func TestBoundaryCoverage(t *testing.T) {
	total := map[string]int{}
	for di, asOf := range boundaryAsOfs {
		for i := range 6 {
			ds := gen.Generate(gen.Options{Boundaries: true, Seed: seedFor(di, i), AsOf: asOf})
			for k, v := range boundaryCoverage(ds, asOf) {
				total[k] += v
			}
		}
	}
	for _, k := range placed {
		if total[k] == 0 {
			t.Errorf("no date %s over the conformance check's datasets", k)
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range total {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Logf("%6d %s", total[k], k)
	}
}

// TestBoundariesValid checks that boundary datasets are what DOMAIN.md calls valid: unique ids,
// every reference naming an existing record of the right collection, a department tree without
// cycles whose roots are exactly the organs, 1 to 3 organs of 10 to 40 people, exactly the
// fields of DOMAIN.md; that the project's own loader accepts them; and that the same options
// give the same dataset.
func TestBoundariesValid(t *testing.T) {
	for di, asOf := range boundaryAsOfs {
		for i := range 3 {
			seed := seedFor(di, i)
			t.Run(fmt.Sprintf("%s/%d", asOf, seed), func(t *testing.T) {
				opts := gen.Options{Boundaries: true, Seed: seed, AsOf: asOf}
				ds := gen.Generate(opts)
				checkValid(t, ds)
				for name, s := range schema {
					for i, d := range ds[name] {
						checkShape(t, fmt.Sprintf("%s[%d] %v", name, i, d["id"]), name, s, d)
					}
				}
				dir := writeDir(t, ds)
				if _, err := duty.LoadDir(dir); err != nil {
					t.Errorf("duty.LoadDir refuses the dataset: %v", err)
				}
				if diff := cmp.Diff(ds, gen.Generate(opts)); diff != "" {
					t.Errorf("Generate is not deterministic (-first +second):\n%s", diff)
				}
			})
		}
	}
}

// checkValid checks a boundary dataset of 1 to 3 organs; checkValidOrgans of organs organs.
func checkValid(tb testing.TB, ds map[string][]map[string]any) {
	tb.Helper()
	checkValidOrgans(tb, ds, 1, 3)
}

func checkValidOrgans(tb testing.TB, ds map[string][]map[string]any, minOrgans, maxOrgans int) {
	tb.Helper()
	ids := map[string]map[string]bool{}
	for _, c := range conformance.Collections {
		ids[c] = map[string]bool{}
		for _, d := range ds[c] {
			id, _ := d["id"].(string)
			if id == "" || ids[c][id] {
				tb.Errorf("%s: id %q empty or repeated", c, id)
			}
			ids[c][id] = true
		}
	}
	ref := func(c, id, coll, field string, v any) {
		s, ok := v.(string)
		if !ok || !ids[coll][s] {
			tb.Errorf("%s/%s: %s %v names no %s", c, id, field, v, coll)
		}
	}
	date := func(c, id, field string, v any) {
		s, _ := v.(string)
		if !duty.ValidDate(s) {
			tb.Errorf("%s/%s: %s %v is not a date", c, id, field, v)
		}
	}
	parent := map[string]string{}
	organPeople := map[string]int{}
	for _, d := range ds["departments"] {
		id := d["id"].(string)
		p, has := d["parent_id"]
		if has != (d["kind"] != "organ") {
			tb.Errorf("departments/%s: kind %v with parent_id %v", id, d["kind"], p)
		}
		if has {
			ref("departments", id, "departments", "parent_id", p)
			parent[id] = p.(string)
		}
		if m, ok := d["discipline_member_id"]; ok {
			ref("departments", id, "people", "discipline_member_id", m)
		}
	}
	root := func(id string) string {
		for range len(parent) + 1 {
			p, ok := parent[id]
			if !ok {
				return id
			}
			id = p
		}
		tb.Errorf("departments: cycle through %s", id)
		return ""
	}
	for _, p := range ds["people"] {
		id := p["id"].(string)
		ref("people", id, "departments", "department_id", p["department_id"])
		organPeople[root(p["department_id"].(string))]++
		for _, s := range anySlice(p["supervises"]) {
			ref("people", id, "departments", "supervises", s)
		}
		if l, ok := p["left_on"]; ok {
			date("people", id, "left_on", l)
		}
	}
	if n := len(organPeople); n < minOrgans || n > maxOrgans {
		tb.Errorf("%d organs with people, want %d to %d", n, minOrgans, maxOrgans)
	}
	for organ, n := range organPeople {
		if n < 10 || n > 40 {
			tb.Errorf("organ %s has %d people, want 10 to 40", organ, n)
		}
	}
	for _, a := range ds["appointments"] {
		id := a["id"].(string)
		ref("appointments", id, "people", "person_id", a["person_id"])
		ref("appointments", id, "departments", "department_id", a["department_id"])
		date("appointments", id, "effective_on", a["effective_on"])
	}
	for _, x := range ds["talks"] {
		id := x["id"].(string)
		ref("talks", id, "people", "person_id", x["person_id"])
		if c, ok := x["conducted_by"]; ok {
			ref("talks", id, "people", "conducted_by", c)
		}
		date("talks", id, "held_on", x["held_on"])
	}
	for _, l := range ds["letters"] {
		id := l["id"].(string)
		ref("letters", id, "people", "issuer_id", l["issuer_id"])
		ref("letters", id, "people", "signer_id", l["signer_id"])
	}
	for _, b := range ds["record_books"] {
		id := b["id"].(string)
		ref("record_books", id, "people", "holder_id", b["holder_id"])
		date("record_books", id, "issued_on", b["issued_on"])
		for _, in := range anySlice(b["inspections"]) {
			ref("record_books", id, "people", "inspector_id", in.(map[string]any)["inspector_id"])
		}
	}
	for _, s := range ds["suggestions"] {
		ref("suggestions", s["id"].(string), "departments", "department_id", s["department_id"])
	}
	for _, m := range ds["meetings"] {
		ref("meetings", m["id"].(string), "departments", "department_id", m["department_id"])
	}
	for _, l := range ds["responsibility_lists"] {
		id := l["id"].(string)
		ref("responsibility_lists", id, "departments", "department_id", l["department_id"])
		if h, ok := l["holder_id"]; ok {
			ref("responsibility_lists", id, "people", "holder_id", h)
		}
	}
	for _, f := range ds["integrity_files"] {
		ref("integrity_files", f["id"].(string), "people", "person_id", f["person_id"])
	}
}

// anySlice turns []string, []map[string]any and []any alike into []any.
func anySlice(v any) []any {
	switch s := v.(type) {
	case []any:
		return s
	case []string:
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	case []map[string]any:
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	}
	return nil
}

// Boundary mode with unusual options still gives a valid dataset: as many organs as asked,
// a leap day, the first and last day of a year; a date that is not one panics with the
// option named.
func TestBoundariesUnusualOptions(t *testing.T) {
	for _, tc := range []struct {
		opts   gen.Options
		organs int
	}{
		{gen.Options{Boundaries: true, Organs: 5, Seed: 3, AsOf: "2024-02-29"}, 5},
		{gen.Options{Boundaries: true, Organs: 1, Seed: -1, AsOf: "2025-01-01"}, 1},
		{gen.Options{Boundaries: true, Organs: 2, Seed: 4, AsOf: "2030-12-31", Year: 1990, ViolationRate: 1}, 2},
	} {
		t.Run(fmt.Sprintf("%+v", tc.opts), func(t *testing.T) {
			ds := gen.Generate(tc.opts)
			checkValidOrgans(t, ds, tc.organs, tc.organs)
			if _, err := duty.LoadDir(writeDir(t, ds)); err != nil {
				t.Errorf("duty.LoadDir refuses the dataset: %v", err)
			}
		})
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Options.AsOf") {
			t.Errorf("AsOf 2025-02-30: recovered %v, want a panic naming Options.AsOf", r)
		}
	}()
	gen.Generate(gen.Options{Boundaries: true, AsOf: "2025-02-30"})
}

// TestBoundariesReadDir checks that a boundary dataset survives the round trip through its
// folder (WriteDir, then ReadDir): the oracle of DOMAIN.md reads the same violations from both.
func TestBoundariesReadDir(t *testing.T) {
	ds := gen.Generate(gen.Options{Boundaries: true, Seed: 7})
	dir := writeDir(t, ds)
	for _, c := range conformance.Collections {
		if _, err := os.Stat(filepath.Join(dir, c+".json")); err != nil {
			t.Errorf("collection %s not written: %v", c, err)
		}
	}
	back, err := gen.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := conformance.Expected(ds, gen.BoundaryAsOf, "")
	if len(want) == 0 {
		t.Fatal("no violations: the comparison would prove nothing")
	}
	got := conformance.Expected(back, gen.BoundaryAsOf, "")
	if diff := cmp.Diff(keyStrings(want), keyStrings(got)); diff != "" {
		t.Errorf("the oracle reads the folder differently from memory (-memory +folder):\n%s", diff)
	}
}

func keyStrings(keys []conformance.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}

// boundaryCoverage counts, in a dataset scanned on asOf, the dates that fall one day before,
// on and one day after each boundary of the duties: the scan date, the fixed deadlines of its
// year (01-01, 01-31, 03-31), and the day counts of each duty measured from the record they
// count from (a talk from its appointment, a letter from the latest taking office, a book's
// entries from each other and its inspections from as_of, joint meetings from each other, a
// file from as_of, a major matter's report from its event).
func boundaryCoverage(ds map[string][]map[string]any, asOf string) map[string]int {
	day := func(s any) (int, bool) {
		str, _ := s.(string)
		t, err := time.Parse(time.DateOnly, str)
		if err != nil {
			return 0, false
		}
		return int(t.Unix() / 86400), true
	}
	a, _ := day(asOf)
	t0, _ := time.Parse(time.DateOnly, asOf)
	y := t0.Year()
	fixed := func(m time.Month, d int) int { return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400) }
	out := map[string]int{}
	near := func(name string, got, boundary int) {
		switch got - boundary {
		case -1:
			out[name+" -1"]++
		case 0:
			out[name+" 0"]++
		case 1:
			out[name+" +1"]++
		}
	}
	anchors := []struct {
		name string
		d    int
	}{{"as_of", a}, {"Y-01-01", fixed(1, 1)}, {"Y-01-31", fixed(1, 31)}, {"Y-03-31", fixed(3, 31)}}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "date" || len(k) > 3 && k[len(k)-3:] == "_on" {
					if d, ok := day(x); ok {
						for _, an := range anchors {
							near("any date vs "+an.name, d, an.d)
						}
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case []map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, docs := range ds {
		for _, d := range docs {
			walk(d)
		}
	}
	took := map[string]int{}
	effs := map[string][]int{}
	for _, ap := range ds["appointments"] {
		e, _ := day(ap["effective_on"])
		p := ap["person_id"].(string)
		effs[p] = append(effs[p], e)
		if e <= a && e >= fixed(1, 1) && e > took[p] {
			took[p] = e
		}
	}
	for _, t := range ds["talks"] {
		h, _ := day(t["held_on"])
		for _, e := range effs[t["person_id"].(string)] {
			near("talk vs effective_on-90", h, e-90)
			near("talk vs effective_on", h, e)
		}
	}
	for _, l := range ds["letters"] {
		s, ok := day(l["signed_on"])
		if !ok {
			continue
		}
		if t := max(took[l["issuer_id"].(string)], took[l["signer_id"].(string)]); t != 0 {
			near("letter vs took_office+30", s, t+30)
		}
	}
	for _, b := range ds["record_books"] {
		issued, _ := day(b["issued_on"])
		var days []int
		for _, e := range asSlice(b["entries"]) {
			if d, ok := day(e["date"]); ok && d >= issued && d <= a {
				days = append(days, d)
			}
		}
		sort.Ints(days)
		prev := issued
		for _, d := range days {
			near("book entry gap vs 60", d-prev, 60)
			prev = d
		}
		near("book last gap to as_of vs 60", a-prev, 60)
		for _, in := range asSlice(b["inspections"]) {
			if d, ok := day(in["date"]); ok {
				near("inspection vs as_of-183", d, a-183)
			}
		}
	}
	joint := map[string][]int{}
	for _, m := range ds["meetings"] {
		if m["kind"] == "joint" {
			d, _ := day(m["held_on"])
			if d >= fixed(1, 1) && d <= a {
				joint[m["department_id"].(string)] = append(joint[m["department_id"].(string)], d)
			}
		}
	}
	for _, days := range joint {
		sort.Ints(days)
		prev := fixed(1, 1)
		for _, d := range days {
			near("joint gap vs 92", d-prev, 92)
			prev = d
		}
		near("joint last gap to as_of vs 92", a-prev, 92)
	}
	for _, f := range ds["integrity_files"] {
		if u, ok := day(f["updated_on"]); ok {
			near("file updated vs as_of-365", u, a-365)
		}
		for _, m := range asSlice(f["major_matters"]) {
			e, _ := day(m["event_on"])
			if r, ok := day(m["reported_on"]); ok {
				near("matter reported vs event+30", r, e+30)
			}
			near("matter event vs as_of-30", e, a-30)
		}
	}
	return out
}

func asSlice(v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
