package gen_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/gen"
)

var update = flag.Bool("update", false, "rewrite fixtures/sample from the generator")

// sampleOptions are those of the sample fixture, fixtures/sample.
var sampleOptions = gen.Options{Organs: 1, Seed: 1, Year: 2025, ViolationRate: 0.05}

const (
	sampleDir  = "../../fixtures/sample"
	sampleAsOf = "2025-12-31"
)

// allReasons lists every reason of every duty of DOMAIN.md, as the oracle of DOMAIN.md
// (internal/conformance) names them; for lists, at each level of DOMAIN.md (enums).
var allReasons = func() []string {
	var out []string
	for id, reasons := range conformance.Reasons {
		for _, r := range reasons {
			if id != conformance.PolicyList {
				out = append(out, id+"/"+r)
				continue
			}
			for _, level := range enums["responsibility_lists.level"] {
				out = append(out, id+"/"+r+"/"+level)
			}
		}
	}
	slices.Sort(out)
	return out
}()

func writeDir(tb testing.TB, ds gen.Dataset) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := ds.WriteDir(dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func readDir(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		files[filepath.Base(p)] = string(b)
	}
	return files
}

func TestGenerateIsDeterministic(t *testing.T) {
	opts := gen.Options{Organs: 3, Seed: 42, Year: 2025, ViolationRate: 0.05}
	first := readDir(t, writeDir(t, gen.Generate(opts)))
	second := readDir(t, writeDir(t, gen.Generate(opts)))
	if len(first) != 10 {
		t.Fatalf("wrote %d files, want 10", len(first))
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same options, different output (-first +second):\n%s", diff)
	}
	opts.Seed = 43
	other := readDir(t, writeDir(t, gen.Generate(opts)))
	if other["people.json"] == first["people.json"] {
		t.Error("seeds 42 and 43 gave the same people")
	}
}

// An organ's records depend on the seed and its number, not on how many organs are generated.
func TestOrganDoesNotDependOnOrganCount(t *testing.T) {
	one := gen.Generate(gen.Options{Organs: 1, Seed: 5, Year: 2025, ViolationRate: 0.05})
	three := gen.Generate(gen.Options{Organs: 3, Seed: 5, Year: 2025, ViolationRate: 0.05})
	for name, docs := range three {
		var first []map[string]any
		for _, d := range docs {
			if id := d["id"].(string); id == "ORG-1" || strings.HasPrefix(id, "ORG-1-") {
				first = append(first, d)
			}
		}
		if diff := cmp.Diff(one[name], first); diff != "" {
			t.Errorf("%s of ORG-1 differs (-1 organ +3 organs):\n%s", name, diff)
		}
	}
}

func TestCount(t *testing.T) {
	ds := gen.Generate(gen.Options{Organs: 2, Seed: 1})
	n := 0
	for _, docs := range ds {
		n += len(docs)
	}
	if ds.Count() != n || n == 0 {
		t.Errorf("Count() = %d, want %d", ds.Count(), n)
	}
}

// refTargets is the collection each id field of DOMAIN.md names.
var refTargets = map[string]string{
	"parent_id": "departments", "department_id": "departments", "supervises": "departments",
	"discipline_member_id": "people", "person_id": "people", "holder_id": "people", "issuer_id": "people",
	"signer_id": "people", "conducted_by": "people", "inspector_id": "people",
}

func TestReferencesResolveWithinOneOrgan(t *testing.T) {
	checkReferences(t, gen.Generate(gen.Options{Organs: 3, Seed: 9, Year: 2025, ViolationRate: 0.1}))
}

// Unusual options still give a valid dataset: no panic, every reference resolves.
func TestGenerateUnusualOptions(t *testing.T) {
	for _, opts := range []gen.Options{
		{},
		{Organs: -3, ViolationRate: -1},
		{Organs: 2, Seed: -7, Year: 2000, ViolationRate: 1},
		{Organs: 2, Seed: 99, Year: 2100, ViolationRate: 2},
		{Organs: 40, Seed: 3, Year: 2028, ViolationRate: 0.5},
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			ds := gen.Generate(opts)
			if ds.Count() == 0 {
				t.Fatal("empty dataset")
			}
			checkReferences(t, ds)
		})
	}
}

// checkReferences reports every id field that names no record of the right collection, or
// a record of another organ than the document's other references.
func checkReferences(t testing.TB, ds gen.Dataset) {
	t.Helper()
	ids := map[string]map[string]bool{}
	for name, docs := range ds {
		ids[name] = map[string]bool{}
		for _, d := range docs {
			ids[name][d["id"].(string)] = true
		}
	}
	depts := map[string]map[string]any{}
	for _, d := range ds["departments"] {
		depts[d["id"].(string)] = d
	}
	organOf := func(deptID string) string {
		for {
			p, ok := depts[deptID]["parent_id"].(string)
			if !ok {
				return deptID
			}
			deptID = p
		}
	}
	personDept := map[string]string{}
	for _, p := range ds["people"] {
		personDept[p["id"].(string)] = p["department_id"].(string)
	}
	organOfRef := func(collection, id string) string {
		if collection == "people" {
			return organOf(personDept[id])
		}
		return organOf(id)
	}

	var walk func(where string, v any, organs map[string]bool)
	walk = func(where string, v any, organs map[string]bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, fv := range v {
				target, isRef := refTargets[k]
				if !isRef {
					walk(where, fv, organs)
					continue
				}
				refs := []any{fv}
				if l, ok := fv.([]any); ok {
					refs = l
				}
				for _, r := range refs {
					id, _ := r.(string)
					if !ids[target][id] {
						t.Errorf("%s: %s %q names no record of %s", where, k, id, target)
						continue
					}
					organs[organOfRef(target, id)] = true
				}
			}
		case []any:
			for _, e := range v {
				walk(where, e, organs)
			}
		}
	}
	nrefs := 0
	for name, docs := range ds {
		for _, d := range docs {
			where := name + " " + d["id"].(string)
			organs := map[string]bool{}
			switch name {
			case "departments":
				organs[organOf(d["id"].(string))] = true
			case "people":
				organs[organOf(d["department_id"].(string))] = true
			}
			walk(where, d, organs)
			nrefs += len(organs)
			if len(organs) > 1 {
				t.Errorf("%s: references span organs %v", where, organs)
			}
		}
	}
	// Entries name tasks of their own book.
	for _, b := range ds["record_books"] {
		tasks := map[any]bool{}
		for _, task := range b["tasks"].([]any) {
			tasks[task.(map[string]any)["id"]] = true
		}
		for _, e := range b["entries"].([]any) {
			if tid, ok := e.(map[string]any)["task_id"]; ok && !tasks[tid] {
				t.Errorf("record book %s: entry names task %v, not one of the book's", b["id"], tid)
			}
		}
	}
	if nrefs == 0 {
		t.Fatal("no references checked")
	}
}

func TestIDsAreUniqueAcrossTheDataset(t *testing.T) {
	ds := gen.Generate(gen.Options{Organs: 3, Seed: 3, Year: 2025, ViolationRate: 0.05})
	seen := map[string]string{}
	add := func(where, id string) {
		if id == "" {
			t.Errorf("%s: empty id", where)
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("id %q used by %s and %s", id, prev, where)
		}
		seen[id] = where
	}
	for name, docs := range ds {
		for i, d := range docs {
			add(fmt.Sprintf("%s[%d]", name, i), d["id"].(string))
			for _, field := range []string{"tasks", "items", "major_matters"} {
				for j, sub := range asList(d[field]) {
					if m, ok := sub.(map[string]any); ok {
						add(fmt.Sprintf("%s[%d].%s[%d]", name, i, field, j), m["id"].(string))
					}
				}
			}
		}
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

// shape is a document's fields: required and optional, with the shape of nested objects.
type shape struct {
	required, optional []string
	nested             map[string]shape
}

var schema = map[string]shape{
	"departments":  {required: []string{"id", "name", "kind"}, optional: []string{"parent_id", "discipline_member_id"}},
	"people":       {required: []string{"id", "name", "department_id", "rank", "roles", "active"}, optional: []string{"supervises", "left_on"}},
	"appointments": {required: []string{"id", "person_id", "department_id", "position", "rank", "effective_on"}},
	"talks":        {required: []string{"id", "kind", "person_id", "held_on"}, optional: []string{"conducted_by", "recorded"}},
	"letters": {
		required: []string{"id", "year", "level", "issuer_id", "signer_id", "signed_by_issuer", "signed_by_signer"},
		optional: []string{"signed_on"},
	},
	"record_books": {
		required: []string{"id", "year", "holder_id", "issued_on", "tasks", "entries", "inspections"},
		nested: map[string]shape{
			"tasks":       {required: []string{"id", "title", "due_on"}},
			"entries":     {required: []string{"date", "content"}, optional: []string{"task_id"}},
			"inspections": {required: []string{"date", "inspector_id"}, optional: []string{"findings"}},
		},
	},
	"suggestions": {
		required: []string{"id", "department_id", "issued_on", "items"},
		nested:   map[string]shape{"items": {required: []string{"id", "text", "due_on", "status"}, optional: []string{"closed_on", "evidence"}}},
	},
	"meetings":             {required: []string{"id", "kind", "department_id", "held_on"}},
	"responsibility_lists": {required: []string{"id", "year", "level", "department_id", "items"}, optional: []string{"holder_id"}},
	"integrity_files": {
		required: []string{"id", "person_id", "updated_on", "major_matters"},
		nested:   map[string]shape{"major_matters": {required: []string{"id", "kind", "event_on"}, optional: []string{"reported_on"}}},
	},
}

// enums are the closed sets of values of DOMAIN.md (meeting kinds are open).
var enums = map[string][]string{
	"departments.kind":           {"organ", "party_committee", "discipline_committee", "office", "special_committee", "division", "unit", "branch"},
	"people.rank":                {"bureau", "division", "section", "staff"},
	"appointments.rank":          {"bureau", "division", "section", "staff"},
	"people.roles":               {"party_group_secretary", "party_group_member", "department_head", "discipline_member"},
	"talks.kind":                 {"general", "pre_appointment", "reminder", "petition_verification"},
	"responsibility_lists.level": {"party_group", "party_group_secretary", "leaders", "party_committee", "discipline_committee", "department_heads", "special_committee"},
	"suggestions.items.status":   {"open", "closed"},
}

func isDateField(f string) bool { return f == "date" || strings.HasSuffix(f, "_on") }

func checkShape(t testing.TB, where, path string, s shape, d map[string]any) {
	t.Helper()
	for _, f := range s.required {
		if _, ok := d[f]; !ok {
			t.Errorf("%s: missing field %s", where, f)
		}
	}
	for f, v := range d {
		if !slices.Contains(s.required, f) && !slices.Contains(s.optional, f) {
			t.Errorf("%s: field %s is not in DOMAIN.md", where, f)
			continue
		}
		switch v := v.(type) {
		case nil:
			t.Errorf("%s: %s is null", where, f)
		case string:
			if isDateField(f) {
				if tm, err := time.Parse(time.DateOnly, v); err != nil || tm.Format(time.DateOnly) != v {
					t.Errorf("%s: %s = %q, not a YYYY-MM-DD date", where, f, v)
				}
			}
			if allowed, ok := enums[path+"."+f]; ok && !slices.Contains(allowed, v) {
				t.Errorf("%s: %s = %q, not one of %v", where, f, v, allowed)
			}
		case []any:
			for i, e := range v {
				if sub, ok := s.nested[f]; ok {
					m, ok := e.(map[string]any)
					if !ok {
						t.Errorf("%s: %s[%d] is %T, want an object", where, f, i, e)
						continue
					}
					checkShape(t, fmt.Sprintf("%s.%s[%d]", where, f, i), path+"."+f, sub, m)
				} else if str, ok := e.(string); !ok {
					t.Errorf("%s: %s[%d] is %T, want a string", where, f, i, e)
				} else if allowed, ok := enums[path+"."+f]; ok && !slices.Contains(allowed, str) {
					t.Errorf("%s: %s[%d] = %q, not one of %v", where, f, i, str, allowed)
				}
			}
		case bool, int64:
		default:
			t.Errorf("%s: %s is %T", where, f, v)
		}
	}
}

func TestDocumentsHaveExactlyTheFieldsOfDomain(t *testing.T) {
	ds := gen.Generate(gen.Options{Organs: 2, Seed: 11, Year: 2025, ViolationRate: 0.2})
	if len(ds) != len(schema) {
		t.Errorf("dataset has %d collections, want %d", len(ds), len(schema))
	}
	for name, s := range schema {
		if len(ds[name]) == 0 {
			t.Errorf("collection %s is empty", name)
		}
		for i, d := range ds[name] {
			checkShape(t, fmt.Sprintf("%s[%d] %v", name, i, d["id"]), name, s, d)
		}
	}
	for _, l := range ds["letters"] {
		if lv, _ := l["level"].(int64); lv < 1 || lv > 3 {
			t.Errorf("letter %v: level %v", l["id"], l["level"])
		}
	}
}

// The organisation is the seed's: 23 bureau-rank and 92 division-rank cadres among about 300
// people, and about a thousand records in all.
func TestOrganHasTheSeedsShape(t *testing.T) {
	ds := gen.Generate(gen.Options{Organs: 2, Seed: 1, Year: 2025, ViolationRate: 0.05})
	for _, organ := range []string{"ORG-1", "ORG-2"} {
		t.Run(organ, func(t *testing.T) {
			in := func(d map[string]any) bool {
				id := d["id"].(string)
				return id == organ || strings.HasPrefix(id, organ+"-")
			}
			count := map[string]int{}
			records := 0
			for name, docs := range ds {
				for _, d := range docs {
					if !in(d) {
						continue
					}
					records++
					count[name]++
					switch name {
					case "people":
						count["rank "+d["rank"].(string)]++
						for _, r := range d["roles"].([]any) {
							count["role "+r.(string)]++
						}
						if d["active"] != true || d["left_on"] != nil {
							count["leavers"]++
						}
					case "departments":
						count["kind "+d["kind"].(string)]++
					case "talks":
						count["talk "+d["kind"].(string)]++
					case "letters":
						count[fmt.Sprintf("letter level %d", d["level"])]++
					case "responsibility_lists":
						count["list "+d["level"].(string)]++
					case "meetings":
						count["meeting "+d["kind"].(string)]++
					case "appointments":
						if strings.HasPrefix(d["effective_on"].(string), "2025-") {
							count["appointments in 2025"]++
						}
					case "integrity_files":
						count["major matters"] += len(d["major_matters"].([]any))
					}
				}
			}
			exact := map[string]int{
				"people": 300, "rank bureau": 23, "rank division": 92,
				"role party_group_secretary": 1, "role party_group_member": 6,
				"kind organ": 1, "kind party_committee": 1, "kind discipline_committee": 1,
				"kind office": 2, "kind special_committee": 8, "kind unit": 4,
			}
			for k, want := range exact {
				if count[k] != want {
					t.Errorf("%s: %d, want %d", k, count[k], want)
				}
			}
			ranges := map[string][2]int{
				"records":                    {850, 1250},
				"kind division":              {30, 40},
				"kind branch":                {15, 25},
				"role department_head":       {45, 60},
				"role discipline_member":     {12, 25},
				"leavers":                    {3, 10},
				"appointments in 2025":       {4, 25},
				"talk pre_appointment":       {100, 200},
				"talk general":               {10, 80},
				"talk reminder":              {1, 5},
				"talk petition_verification": {1, 6},
				"letter level 1":             {15, 25},
				"letter level 2":             {35, 60},
				"letter level 3":             {35, 70},
				"record_books":               {50, 70},
				"list department_heads":      {40, 60},
				"list special_committee":     {5, 8},
				"meeting annual_conduct":     {1, 2},
				"meeting joint":              {4, 14},
				"integrity_files":            {100, 115},
				"major matters":              {10, 50},
			}
			count["records"] = records
			for k, r := range ranges {
				if count[k] < r[0] || count[k] > r[1] {
					t.Errorf("%s: %d, want %d to %d", k, count[k], r[0], r[1])
				}
			}
		})
	}
}

// With no violation rate, nothing fails late in the year, when every deadline of the year has
// passed, and in a leap year too. (Earlier, people appointed later in the year already hold
// their year-end roles, so their letters and books look late: people are not versioned.)
func TestZeroRateIsCompliant(t *testing.T) {
	for _, year := range []int{2025, 2024} {
		ds := gen.Generate(gen.Options{Organs: 3, Seed: int64(year), Year: year})
		for _, asOf := range []string{"12-16", "12-31"} {
			asOf = fmt.Sprintf("%d-%s", year, asOf)
			findings, checks := check(ds, asOf)
			if checks < 1000 {
				t.Errorf("%s: only %d checks", asOf, checks)
			}
			for _, f := range findings {
				t.Errorf("%s: unexpected violation %+v", asOf, f)
			}
		}
	}
}

func TestSampleHasEveryReason(t *testing.T) {
	findings, _ := check(gen.Generate(sampleOptions), sampleAsOf)
	got := map[string]int{}
	for _, f := range findings {
		got[f.kind()]++
	}
	for _, k := range allReasons {
		if got[k] == 0 {
			t.Errorf("no %s in the sample", k)
		}
	}
	for k := range got {
		if !slices.Contains(allReasons, k) {
			t.Errorf("unexpected kind of violation %s", k)
		}
	}
}

// Past the first organ (which carries the forced violations), the share of failing checks is
// the rate asked for.
func TestViolationRateIsKept(t *testing.T) {
	for _, rate := range []float64{0.02, 0.05, 0.15} {
		findings, checks := check(gen.Generate(gen.Options{Organs: 21, Seed: 8, Year: 2025, ViolationRate: rate}), "2025-12-31")
		first, n := 0, 0
		for _, f := range findings {
			if f.Organ == "ORG-1" {
				first++
			} else {
				n++
			}
		}
		// The first organ's checks are about a 21st of all.
		share := float64(n) / (float64(checks) * 20 / 21)
		if share < rate*0.7 || share > rate*1.3 {
			t.Errorf("rate %.2f: %d violations in %d checks past the first organ, a share of %.3f", rate, n, checks*20/21, share)
		}
		if first < len(allReasons) {
			t.Errorf("rate %.2f: first organ has %d violations, fewer than the %d reasons", rate, first, len(allReasons))
		}
	}
}

func TestWriteDirFormat(t *testing.T) {
	ds := gen.Dataset{
		"things": {
			{"zeta": int64(3), "id": "X-1", "name": "机关党委 \"<a&b>\"\n\u2028", "active": true, "tags": []any{}, "nested": map[string]any{}},
			{"id": "X-2", "items": []any{"一", map[string]any{"date": "2025-01-02", "content": "c"}}},
		},
		"empty": {},
	}
	dir := writeDir(t, ds)
	files := readDir(t, dir)
	want := `[
  {
    "id": "X-1",
    "name": "机关党委 \"<a&b>\"\n\u2028",
    "active": true,
    "nested": {},
    "tags": [],
    "zeta": 3
  },
  {
    "id": "X-2",
    "items": [
      "一",
      {
        "date": "2025-01-02",
        "content": "c"
      }
    ]
  }
]
`
	if diff := cmp.Diff(map[string]string{"things.json": want, "empty.json": "[]\n"}, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// The files hold the dataset: decoding them gives back what encoding/json makes of it.
func TestWriteDirRoundTrip(t *testing.T) {
	ds := gen.Generate(gen.Options{Organs: 1, Seed: 2, Year: 2025, ViolationRate: 0.1})
	files := readDir(t, writeDir(t, ds))
	for name, docs := range ds {
		var got, want any
		if err := json.Unmarshal([]byte(files[name+".json"]), &got); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		b, err := json.Marshal(docs)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s.json (-want +got):\n%s", name, diff)
		}
		var compact, indented bytes.Buffer
		if err := json.Compact(&compact, []byte(files[name+".json"])); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&indented, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		if indented.String()+"\n" != files[name+".json"] {
			t.Errorf("%s.json is not laid out as json.Indent with two spaces would", name)
		}
	}
}

// TestWriteSample keeps fixtures/sample equal to the generator's output for sampleOptions;
// with -update it rewrites the fixture.
func TestWriteSample(t *testing.T) {
	ds := gen.Generate(sampleOptions)
	if *update {
		if err := ds.WriteDir(sampleDir); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d documents", sampleDir, ds.Count())
		return
	}
	want := readDir(t, writeDir(t, ds))
	got := readDir(t, sampleDir)
	if len(got) == 0 {
		t.Fatalf("no fixture in %s; run go test ./internal/gen -run TestWriteSample -update", sampleDir)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s differs from the generator (-generated +fixture); run go test ./internal/gen -run TestWriteSample -update:\n%s", sampleDir, diff)
	}
}

// The sample's README lists every violation: a table row naming its policy, reason and subject.
func TestSampleReadmeListsEveryViolation(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(sampleDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for line := range strings.Lines(string(readme)) {
		if strings.HasPrefix(line, "|") {
			rows = append(rows, line)
		}
	}
	findings, _ := check(gen.Generate(sampleOptions), sampleAsOf)
	violationRows := 0
	for _, r := range rows {
		if slices.ContainsFunc(allReasons, func(k string) bool {
			return strings.HasPrefix(r, "| `"+k[:strings.Index(k, "/")]+"` |")
		}) {
			violationRows++
		}
	}
	if violationRows != len(findings) {
		t.Errorf("README.md lists %d violations, the sample has %d", violationRows, len(findings))
	}
	for _, f := range findings {
		if !slices.ContainsFunc(rows, func(r string) bool {
			return strings.Contains(r, "`"+f.Policy+"`") && strings.Contains(r, "`"+f.Reason+"`") &&
				strings.Contains(r, "`"+f.Subject+"`") && (f.Detail == "" || strings.Contains(r, detailWord(f)))
		}) {
			t.Errorf("README.md has no row for %s %s %s %s", f.Policy, f.Reason, f.Subject, f.Detail)
		}
	}
	if testing.Verbose() {
		for _, f := range findings {
			t.Logf("| `%s` | `%s` | `%s` | %s |", f.Policy, f.Reason, f.Subject, f.Detail)
		}
	}
}

// detailWord is the part of a finding's detail its README row must show.
func detailWord(f finding) string {
	if f.Policy == "letter.three_levels" {
		// "level 2 issuer ORG-1-P-003": the row names the issuer.
		return f.Detail[strings.LastIndex(f.Detail, " ")+1:]
	}
	return f.Detail
}

func BenchmarkGenerate(b *testing.B) {
	for _, organs := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("organs=%d", organs), func(b *testing.B) {
			opts := gen.Options{Organs: organs, Seed: 1, Year: 2025, ViolationRate: 0.05}
			n := 0
			for b.Loop() {
				n = gen.Generate(opts).Count()
			}
			b.ReportMetric(float64(n), "records/op")
		})
	}
}

func BenchmarkWriteDir(b *testing.B) {
	ds := gen.Generate(gen.Options{Organs: 100, Seed: 1, Year: 2025, ViolationRate: 0.05})
	dir := b.TempDir()
	for b.Loop() {
		if err := ds.WriteDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
