package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestBrowserLedger works a case from open to closed through the pages in headless Chromium,
// against serve on the embedded store with the sample organ: the ledger of a division, the
// case page, start with an owner, an evidence upload, the submission, then (as the inspection
// group) the missing talk recorded and a scan, which closes the case (销号 by re-check); the
// ledger's parameters on the parameter page; a waived violation on the department's report page.
func TestBrowserLedger(t *testing.T) {
	admin, b := signedIn(t, "2025-12-31", nil)
	shots := screenshotDir(t)

	// ORG-1-DIV-06 fails one check as of 2025-12-31: appointment ORG-1-A-047 without a
	// pre-appointment talk.
	b.open("/ledger?department=ORG-1-DIV-06")
	b.do("wait for the ledger", chromedp.WaitVisible(chromedp.CSS("table#cases")))
	if n := eval[int](b, `document.querySelectorAll("tr.case").length`); n != 1 {
		t.Fatalf("the ledger of ORG-1-DIV-06 shows %d cases, want 1", n)
	}
	b.screenshot(shots, "ledger.png")
	b.submit("open the case", `tr.case a`)
	state := func() string {
		t.Helper()
		return eval[string](b, `document.getElementById("case-state").dataset.state`)
	}
	if s := state(); s != "open" {
		t.Fatalf("case state %s, want open", s)
	}
	casePath := b.location()

	b.do("name the owner", chromedp.SetValue(chromedp.ID("owner"), "王五"), chromedp.SetValue(chromedp.ID("start-note"), "补做任前谈话"))
	b.submit("start", "#case-start button")
	if s := state(); s != "in_progress" {
		t.Fatalf("after start: %s", s)
	}
	pdf := filepath.Join(t.TempDir(), "谈话记录.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("choose the file", chromedp.SetUploadFiles(chromedp.ID("file"), []string{pdf}))
	b.submit("upload", "#case-upload button")
	if got := eval[string](b, `document.getElementById("case-files").textContent`); !strings.Contains(got, "谈话记录.pdf") {
		t.Fatalf("uploaded files: %q", got)
	}
	b.do("write the rectification", chromedp.SetValue(chromedp.ID("submit-note"), "已补做任前廉政谈话并归档。"),
		chromedp.SetValue(chromedp.ID("records"), "appointments/ORG-1-A-047"))
	b.submit("submit", "#case-submit button")
	if s := state(); s != "submitted" {
		t.Fatalf("after submit: %s", s)
	}

	// The talk is recorded and the division scanned again: the re-check closes the case.
	admin.json("PUT", "/api/v1/collections/talks", []map[string]any{{"id": "ORG-1-T-900", "kind": "pre_appointment",
		"person_id": "ORG-1-P-065", "conducted_by": "ORG-1-P-001", "held_on": "2020-03-01", "recorded": true}}, http.StatusOK, nil)
	admin.json("POST", "/api/v1/scans", map[string]any{"as_of": "2025-12-31", "department": "ORG-1-DIV-06"}, http.StatusCreated, nil)
	b.open(casePath)
	if s := state(); s != "closed" {
		t.Fatalf("after the re-check: %s", s)
	}
	actions := eval[[]string](b, `Array.from(document.querySelectorAll("#case-history tr[data-action]")).map(r => r.dataset.action)`)
	if strings.Join(actions, ",") != "open,start,submit,close" {
		t.Errorf("history %v, want open,start,submit,close", actions)
	}
	b.screenshot(shots, "case.png")

	// The rectification periods are parameters on the page of the duties' parameters.
	b.open("/policies/ledger")
	if v := eval[string](b, `document.getElementById("p-rectify_days_high").value`); v != "15" {
		t.Errorf("the high-severity period on /policies/ledger is %q, want 15", v)
	}
	b.screenshot(shots, "ledger-params.png")

	// A waiver requested by an inspector and approved by the admin: the next scan's report page
	// of the department lists the violation under 已豁免的问题 with the waiver.
	admin.json("PUT", "/api/v1/users/ivan", map[string]any{"role": duty.RoleInspector}, http.StatusOK, nil)
	var tok struct{ Token string }
	admin.json("POST", "/api/v1/users/ivan/tokens", map[string]any{"name": "test"}, http.StatusCreated, &tok)
	ivan := client{tb: t, base: admin.base, token: tok.Token}
	var rep duty.Report
	admin.json("GET", "/api/v1/departments/ORG-1/report", nil, http.StatusOK, &rep)
	if len(rep.Violations) == 0 {
		t.Fatal("ORG-1 has no violation as of 2025-12-31; the test needs one")
	}
	v := rep.Violations[0]
	// The service's today is the machine's: an end date 30 days on is within the maximum.
	until := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	var w duty.Waiver
	ivan.json("POST", "/api/v1/waivers", map[string]any{"policy": v.Policy, "subject": v.Subject, "reason": "机构撤并", "until": until}, http.StatusCreated, &w)
	admin.json("POST", "/api/v1/waivers/"+w.ID+"/approve", map[string]any{"note": "同意"}, http.StatusOK, nil)
	admin.json("POST", "/api/v1/scans", map[string]any{"as_of": "2025-12-31"}, http.StatusCreated, nil)
	b.open("/departments/" + v.Department)
	waivers := eval[[]string](b, `Array.from(document.querySelectorAll("#waived tr.waived-row")).map(r => r.dataset.waiver + " " + r.dataset.until)`)
	if len(waivers) == 0 || waivers[0] != w.ID+" "+until {
		t.Errorf("waived rows on the department page: %v, want %s until %s", waivers, w.ID, until)
	}
	b.do("show the waived list", chromedp.ScrollIntoView(chromedp.ID("waived")))
	b.screenshot(shots, "department-waived.png")
}
