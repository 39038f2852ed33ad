package conformance

import "sort"

// WarnDays is the default warn_days of every duty (DOMAIN.md "Warnings before a duty is breached").
const WarnDays = 14

// Warning is a check that passes on as_of and fails within the window: its key and the first day
// it fails.
type Warning struct {
	Key
	FailsOn string
}

// annual lists the duties whose checks begin anew on Y+1-01-01: their warnings need a fails_on
// within year Y.
var annual = map[string]bool{PolicyLetter: true, PolicyBook: true, PolicyAnnual: true, PolicyJoint: true, PolicyList: true}

// ExpectedWarnings computes, from DOMAIN.md alone, the warnings a scan of ds as of asOf must report
// for department ("" for all) when every duty's warn_days is warnDays, sorted by fails_on then as
// SortKeys.
//
// It reads DOMAIN.md's definition directly rather than its per-duty formulas: a warning is a check
// that passes on as_of but fails on a day d of the next warnDays days "on the records and the
// roster of as_of, that is if nothing dated after as_of happened", and fails_on is the first such
// d. So it makes the checks of every duty (the same code as Expected) on each day d of the window,
// with the records dated after as_of left out, the roster of as_of, and the deadlines of duties 2
// and 3 moved only by appointments effective by as_of; the two exceptions DOMAIN.md names read
// what is dated in the window: duty 1 sees the appointments effective by d, duty 10 a discipline
// member's left_on by d. An annual duty's check failing first in Y+1 is no warning. The per-duty
// formulas of DOMAIN.md (fails_on = effective_on, dl + 1, last + 61, …) are what this reading gives.
func ExpectedWarnings(ds map[string][]map[string]any, asOf string, department string, warnDays int) []Warning {
	a := mustDay(asOf)
	seen := asSeenOn(ds, a)
	failing := map[string]bool{}
	w := newWorld(seen, a)
	for _, k := range w.all() {
		failing[k.String()] = true
	}
	first := map[string]Warning{}
	for d := a + 1; d <= a+day(warnDays); d++ {
		wd := newWorld(seen, d)
		wd.rosterOn, wd.recordsOn = a, a
		for _, k := range wd.all() {
			s := k.String()
			if failing[s] {
				continue
			}
			if _, ok := first[s]; ok {
				continue
			}
			if annual[k.Policy] && d.year() != a.year() {
				continue
			}
			first[s] = Warning{Key: k, FailsOn: d.String()}
		}
	}
	keys := make([]Key, 0, len(first))
	for _, x := range first {
		keys = append(keys, x.Key)
	}
	keys = w.scope(keys, department)
	out := make([]Warning, len(keys))
	for i, k := range keys {
		out[i] = first[k.String()]
	}
	SortWarnings(out)
	return out
}

// SortWarnings sorts warnings by fails_on, then as SortKeys (DOMAIN.md: "Sorted by fails_on,
// then department, policy, subject id, then details").
func SortWarnings(ws []Warning) {
	sort.SliceStable(ws, func(i, j int) bool {
		if ws[i].FailsOn != ws[j].FailsOn {
			return ws[i].FailsOn < ws[j].FailsOn
		}
		return compareKeys(ws[i].Key, ws[j].Key) < 0
	})
}

// asSeenOn returns ds without what a scan as of a does not see (DOMAIN.md "Collections"): talks and
// meetings held, books and suggestions issued, entries and inspections dated, and major matters
// happening after a. Appointments are all kept: duty 1's warnings read those effective in the
// window, and every other duty reads only those effective by its day (world.recordsOn).
func asSeenOn(ds map[string][]map[string]any, a day) map[string][]map[string]any {
	after := func(d doc, field string) bool {
		v, ok := d[field].(string)
		if !ok {
			return false
		}
		x, err := parseDay(v)
		return err == nil && x > a
	}
	keep := func(docs []doc, field string) []doc {
		var out []doc
		for _, d := range docs {
			if !after(d, field) {
				out = append(out, d)
			}
		}
		return out
	}
	nested := func(d doc, field, dateField string) doc {
		arr := objects(d, field)
		if arr == nil {
			return d
		}
		c := make(doc, len(d))
		for k, v := range d {
			c[k] = v
		}
		c[field] = keep(arr, dateField)
		return c
	}
	out := make(map[string][]map[string]any, len(ds))
	for name, docs := range ds {
		out[name] = docs
	}
	out[collTalks] = keep(ds[collTalks], "held_on")
	out[collMeetings] = keep(ds[collMeetings], "held_on")
	out[collSuggestions] = keep(ds[collSuggestions], "issued_on")
	var books []doc
	for _, b := range keep(ds[collBooks], "issued_on") {
		books = append(books, nested(nested(b, "entries", "date"), "inspections", "date"))
	}
	out[collBooks] = books
	var files []doc
	for _, f := range ds[collFiles] {
		files = append(files, nested(f, "major_matters", "event_on"))
	}
	out[collFiles] = files
	return out
}
