package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// newUnscannedEnv is the service of newEnv with the sample organ loaded but not scanned yet,
// and only the admin signed in.
func newUnscannedEnv(tb testing.TB) *env {
	tb.Helper()
	return startEnv(tb, nil, users[:1])
}

func (e *env) scan(req scan.Request) *duty.Scan {
	e.tb.Helper()
	sc, err := e.scans.Start(context.Background(), req, true)
	if err != nil {
		e.tb.Fatal(err)
	}
	return sc
}

// apiReport reads a department's report from the API as admin.
func (e *env) apiReport(dept string) duty.Report {
	e.tb.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+"/api/v1/departments/"+dept+"/report", nil)
	if err != nil {
		e.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var rep duty.Report
	if resp.StatusCode != http.StatusOK {
		e.tb.Fatalf("report of %s: status %d", dept, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		e.tb.Fatal(err)
	}
	return rep
}

// TestPagesBeforeAnyScan: before the first scan the overview and the department pages say that
// nothing has been checked, in Chinese and in English, instead of counts of zero that read as
// compliant (issue 12).
func TestPagesBeforeAnyScan(t *testing.T) {
	t.Parallel()
	e := newUnscannedEnv(t)
	tests := []struct {
		path   string
		want   []string
		absent []string
	}{
		{path: "/", want: []string{"尚未检查：该机关的记录还没有经过任何检查", `class="cnt unchecked"`},
			absent: []string{`class="stats"`, `class="cnt total"`}},
		{path: "/?lang=en", want: []string{"Nothing has been checked yet: no scan has covered this organ"},
			absent: []string{`class="stats"`, `class="cnt total"`}},
		{path: "/departments/ORG-1", want: []string{"尚未检查：还没有任何检查覆盖该部门"}},
		{path: "/departments/ORG-1-OFF?lang=en", want: []string{"Nothing has been checked yet: no scan covers this department"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := e.get("admin", tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			for _, s := range tc.want {
				if !strings.Contains(r.body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(r.body, s) {
					t.Errorf("page shows %q before any scan", s)
				}
			}
		})
	}
	// After a scan, the counts are back.
	e.scan(scan.Request{AsOf: "2025-12-31"})
	if r := e.get("admin", "/"); !strings.Contains(r.body, `class="stats"`) || strings.Contains(r.body, "尚未检查") {
		t.Errorf("overview after a scan still says nothing was checked, or shows no counts")
	}
}

var trendBar = regexp.MustCompile(`<rect class="bar[^"]*"[^>]*><title>([^<]*)</title>`)

// TestOverviewHistoryByAsOf runs the scans of issue 12 in the order that misstated progress: the
// overview shows the report of the latest as-of date, not the last run, with one trend bar per
// date; a department's report after its organ's finds the same checks persisting.
func TestOverviewHistoryByAsOf(t *testing.T) {
	t.Parallel()
	e := newUnscannedEnv(t)
	dec := e.scan(scan.Request{AsOf: "2025-12-31"})
	e.scan(scan.Request{AsOf: "2025-06-30"})
	again := e.scan(scan.Request{AsOf: "2025-12-31"})
	if again.Report.Summary.New != 0 || again.Report.Summary.Resolved != 0 {
		t.Errorf("re-run of 2025-12-31: new %d, resolved %d; want 0, 0", again.Report.Summary.New, again.Report.Summary.Resolved)
	}

	r := e.get("admin", "/")
	if !strings.Contains(r.body, `href="/scans/`+again.ID+`"`) {
		t.Errorf("overview's latest scan is not %s, the last run of the latest as-of date", again.ID)
	}
	var bars []string
	for _, m := range trendBar.FindAllStringSubmatch(r.body, -1) {
		bars = append(bars, m[1])
	}
	if len(bars) != 2 || !strings.HasPrefix(bars[0], "2025-06-30: ") || bars[1] != "2025-12-31: 59" {
		t.Errorf("trend bars %q, want one for 2025-06-30 and one for 2025-12-31 (59)", bars)
	}

	// The June report is not the organ's latest, and claims nothing resolved.
	rep := e.apiReport("ORG-1")
	if rep.ScanID != again.ID || rep.AsOf != "2025-12-31" {
		t.Errorf("API report of ORG-1: scan %s as of %s, want %s as of 2025-12-31", rep.ScanID, rep.AsOf, again.ID)
	}

	// A department alone after the organ: persisting since the organ's first scan, not new.
	const dept = "ORG-1-OFF"
	one := e.scan(scan.Request{AsOf: "2025-12-31", Department: dept})
	rep = e.apiReport(dept)
	if rep.ScanID != one.ID || rep.Summary.New != 0 || rep.Summary.Persisting != rep.Summary.Violations || rep.Summary.Violations == 0 {
		t.Errorf("API report of %s after the organ's: scan %s, %d violations, new %d, persisting %d; want scan %s, all persisting",
			dept, rep.ScanID, rep.Summary.Violations, rep.Summary.New, rep.Summary.Persisting, one.ID)
	}
	for _, v := range rep.Violations {
		if v.FirstSeen == nil || v.FirstSeen.ScanID != dec.ID {
			t.Fatalf("%s: first_seen %+v, want the organ's first scan %s", v.Key(), v.FirstSeen, dec.ID)
		}
	}
	page := e.get("admin", "/departments/"+dept)
	if want := `<span class="num">0</span><span class="lbl">` + "新增"; !strings.Contains(page.body, want) {
		t.Errorf("department page of %s lacks %q", dept, want)
	}
}
