package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/gen"
)

// TestDueSoonView: the due-soon page of a department lists, from its latest report, exactly the
// warnings an independent reading of DOMAIN.md expects in its subtree (conformance), sorted by
// fails_on within the window, yellow; then its violations, red. A department user sees its
// own subtree's view and not another's.
func TestDueSoonView(t *testing.T) {
	t.Parallel()
	const asOf = "2025-03-20" // letters, lists and the annual meeting fall due on 03-31
	e := startEnv(t, []string{asOf}, users)
	ds, err := gen.ReadDir("../../fixtures/sample")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, dept string }{{"inspector", "ORG-1"}, {"office", scope}} {
		t.Run(tc.user, func(t *testing.T) {
			r := e.get(tc.user, "/departments/"+tc.dept+"/due")
			if r.status != http.StatusOK {
				t.Fatalf("%d %.300s", r.status, r.body)
			}
			want := conformance.ExpectedWarnings(ds, asOf, tc.dept, 14)
			rows := regexp.MustCompile(`<tr class="due-soon" data-policy="([^"]+)" data-fails-on="([^"]+)">`).FindAllStringSubmatch(r.body, -1)
			if len(want) == 0 || len(rows) != len(want) {
				t.Fatalf("%d warning rows, want %d (and more than none)", len(rows), len(want))
			}
			var got, exp []string
			for i, m := range rows {
				got = append(got, m[2]+" "+m[1])
				exp = append(exp, want[i].FailsOn+" "+want[i].Policy)
				if m[2] <= asOf || m[2] > "2025-04-03" {
					t.Errorf("fails_on %s outside the window", m[2])
				}
			}
			if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(a[:10], b[:10]) }) {
				t.Errorf("rows not sorted by fails_on: %v", got)
			}
			slices.Sort(exp)
			slices.Sort(got)
			if !slices.Equal(got, exp) {
				t.Errorf("rows (fails_on policy), sorted:\n%v\nwant:\n%v", got, exp)
			}
			if !strings.Contains(r.body, `class="lamp yellow"`) || !strings.Contains(r.body, "即将到期") {
				t.Errorf("no yellow lamp or title")
			}
			breached := strings.Count(r.body, `<tr class="due-breached"`)
			if n := len(conformance.Expected(ds, asOf, tc.dept)); breached != n {
				t.Errorf("%d breached rows, want the %d violations", breached, n)
			}
		})
	}
	// The overview counts the warnings beside the violations, from the stored summaries.
	r := e.get("inspector", "/")
	m := regexp.MustCompile(`id="warnings-ORG-1"><a href="/departments/ORG-1/due"><span class="num">(\d+)</span>`).FindStringSubmatch(r.body)
	if want := len(conformance.ExpectedWarnings(ds, asOf, "ORG-1", 14)); m == nil || m[1] != strconv.Itoa(want) {
		t.Errorf("overview warnings count %v, want %d", m, want)
	}
	if r := e.get("office", "/departments/"+outside+"/due"); r.status != http.StatusNotFound {
		t.Errorf("office user, another department's view: %d, want 404", r.status)
	}
	if r := e.get("office", "/departments/"+scope); !strings.Contains(r.body, `href="/departments/`+scope+`/due"`) {
		t.Errorf("the department page does not link its due-soon view")
	}
}

// TestRecordPageWarnings: a person's page shows the warnings whose subject they are (and those
// naming them as evidence), with the day each falls due, as the conformance oracle expects them.
func TestRecordPageWarnings(t *testing.T) {
	t.Parallel()
	const asOf = "2025-03-20"
	e := startEnv(t, []string{asOf}, users)
	ds, err := gen.ReadDir("../../fixtures/sample")
	if err != nil {
		t.Fatal(err)
	}
	byPerson := map[string][]string{}
	for _, w := range conformance.ExpectedWarnings(ds, asOf, "", 14) {
		if w.Subject.Collection == "people" {
			byPerson[w.Subject.ID] = append(byPerson[w.Subject.ID], w.FailsOn+" "+w.Policy)
		}
	}
	if len(byPerson) == 0 {
		t.Fatal("no person is warned of on the sample: pick another date")
	}
	checked := 0
	for id, want := range byPerson {
		r := e.get("inspector", "/records/people/"+id)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", id, r.status)
		}
		var got []string
		for _, m := range regexp.MustCompile(`<tr class="due-soon" data-policy="([^"]+)" data-fails-on="([^"]+)">`).FindAllStringSubmatch(r.body, -1) {
			got = append(got, m[2]+" "+m[1])
		}
		// The page also lists warnings naming the person as evidence (their record book's).
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: warnings %v lack %s", id, got, w)
			}
		}
		if checked++; checked == 5 {
			break
		}
	}
}
