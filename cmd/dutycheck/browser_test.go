package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// chromiumPath is Debian's Chromium; DUTYCHECK_CHROMIUM names another binary.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("DUTYCHECK_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("browser tests skipped: no Chromium at %s (apt-get install chromium fonts-noto-cjk, or set DUTYCHECK_CHROMIUM)", path)
	}
	return path
}

// screenshotDir is where the browser tests save their screenshots: DUTYCHECK_SCREENSHOTS, else a
// temporary folder.
func screenshotDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("DUTYCHECK_SCREENSHOTS")
	if dir == "" {
		return tb.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium tab, with a fresh profile.
type browser struct {
	tb   testing.TB
	ctx  context.Context
	base string
}

func newBrowser(tb testing.TB, base string) *browser {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(tb)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	tb.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return &browser{tb: tb, ctx: ctx, base: base}
}

// do runs steps, failing the test on error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.tb.Fatalf("%s: %v", what, err)
	}
}

// open loads a page of the service.
func (b *browser) open(path string) {
	b.tb.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// submit clicks a button or link and waits for the page it loads.
func (b *browser) submit(what string, sel chromedp.CSS) {
	b.tb.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel, chromedp.NodeVisible))); err != nil {
		b.tb.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates JavaScript in the page.
func eval[T any](b *browser, js string, opts ...chromedp.EvaluateOption) T {
	b.tb.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.tb.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (b *browser) location() string {
	b.tb.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.tb.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// screenshot saves the whole page as a PNG.
func (b *browser) screenshot(dir, name string) {
	b.tb.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.tb.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.tb.Fatal(err)
	}
	b.tb.Logf("screenshot %s", filepath.Join(dir, name))
}

// signedIn starts serve on the embedded store with the sample organ, scans it as of asOf (the
// scan in scan), and opens a browser signed in as the admin; the server stops when the test ends.
func signedIn(t *testing.T, asOf string, scan any) (client, *browser) {
	t.Helper()
	chromiumPath(t)
	base, stop := startServeLoaded(t)
	t.Cleanup(stop)
	admin := client{tb: t, base: base}
	admin.json("POST", "/api/v1/scans", map[string]any{"as_of": asOf}, http.StatusCreated, scan)
	b := newBrowser(t, base)
	b.open("/login")
	b.do("type the token", chromedp.SendKeys(chromedp.ID("token"), testAdminToken))
	b.submit("sign in", "#login-submit")
	return admin, b
}

// shownKeys returns the keys of the violation rows of the page, sorted.
const shownKeys = `Array.from(document.querySelectorAll("tr.violation")).map(r => r.dataset.key).sort()`

// TestBrowser drives the real pages in headless Chromium against serve on the embedded store
// with the sample organ: sign in, the overview, a department report, a filter, the CSV
// download, a scan from start to end, and a parameter change from preview to new result.
func TestBrowser(t *testing.T) {
	chromiumPath(t)
	base, stop := startServeLoaded(t)
	defer stop()
	admin := client{tb: t, base: base}
	for _, asOf := range []string{"2025-03-31", "2025-06-30", "2025-09-30"} { // a history for the trend
		admin.json("POST", "/api/v1/scans", map[string]any{"as_of": asOf}, http.StatusCreated, nil)
	}
	shots := screenshotDir(t)
	b := newBrowser(t, base)

	// Sign in: the overview sends us to the sign-in page and back.
	b.open("/")
	if loc := b.location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("without a session / went to %s, want the sign-in page", loc)
	}
	b.do("type the token", chromedp.SendKeys(chromedp.ID("token"), testAdminToken))
	b.submit("sign in", "#login-submit")
	if loc := b.location(); loc != "/" {
		t.Fatalf("after sign-in: at %s, want /", loc)
	}

	// A scan of the whole organ as of 2025-12-31 from the scan page; the page follows it to the end.
	b.open("/scans")
	b.do("fill the scan form",
		chromedp.SetValue(chromedp.ID("scan-department"), ""),
		chromedp.SetValue(chromedp.ID("scan-asof"), "2025-12-31"))
	b.submit("start the scan", "#start-scan")
	if loc := b.location(); !strings.HasPrefix(loc, "/scans/") {
		t.Fatalf("after starting a scan: at %s", loc)
	}
	b.do("wait for the scan to finish", chromedp.WaitVisible(chromedp.CSS(`#scan-status[data-status="done"] table.violations`)))
	if n := len(eval[[]string](b, shownKeys)); n != 59 {
		t.Errorf("the finished scan shows %d violations, want the sample's 59", n)
	}

	// The overview: the organ, the tree with counts, the trend over the four scans.
	b.open("/")
	b.do("wait for the overview", chromedp.WaitVisible(chromedp.CSS("svg.trend")))
	if got := eval[int](b, `document.querySelectorAll("svg.trend rect.bar").length`); got != 4 {
		t.Errorf("the trend shows %d scans, want 4", got)
	}
	if got := eval[string](b, `document.querySelector(".organ h2").textContent.trim()`); got != "浙江省人大常委会机关" {
		t.Errorf("overview heading %q", got)
	}
	b.screenshot(shots, "overview.png")

	// Open a department from the tree.
	b.submit("open the general office", `.tree a[href="/departments/ORG-1-OFF"]`)
	b.do("wait for the report", chromedp.WaitVisible(chromedp.CSS("table.violations")))
	all := eval[[]string](b, shownKeys)
	if len(all) != 8 {
		t.Errorf("the general office shows %d violations, want 8", len(all))
	}
	b.screenshot(shots, "department.png")

	// Filter by severity, then download the CSV of what is shown.
	b.do("choose high severity", chromedp.SetValue(chromedp.ID("f-severity"), "high"))
	b.submit("apply the filter", "#apply-filter")
	if loc := b.location(); !strings.Contains(loc, "severity=high") {
		t.Errorf("the filter is not in the address: %s", loc)
	}
	shown := eval[[]string](b, shownKeys)
	if len(shown) == 0 || len(shown) >= len(all) {
		t.Errorf("high severity shows %d of %d violations", len(shown), len(all))
	}
	if sev := eval[[]string](b, `Array.from(new Set(Array.from(document.querySelectorAll(".duty-group h3 .sev")).map(e => e.textContent)))`); !slices.Equal(sev, []string{"高"}) {
		t.Errorf("severities shown after filtering: %v", sev)
	}
	body := eval[string](b, `fetch(document.getElementById("download-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) == 0 || !slices.Equal(rows[0], duty.CSVTitles) {
		t.Fatalf("CSV download: %v %.200q", err, body)
	}
	var fromCSV []string
	for _, r := range rows[1:] {
		fromCSV = append(fromCSV, fmt.Sprintf("%s|%s/%s|%s|%s", r[1], r[5], r[6], r[3], r[7]))
	}
	slices.Sort(fromCSV)
	if diff := cmp.Diff(shown, fromCSV); diff != "" {
		t.Errorf("CSV rows differ from the rows shown (-shown +csv):\n%s", diff)
	}

	// A parameter: preview its impact, apply it, and see the new result in a new scan.
	talks := func() int {
		return eval[int](b, `Array.from(document.querySelectorAll("tr.violation")).filter(r => r.dataset.key.startsWith("talk.pre_appointment|")).length`)
	}
	b.open("/departments/ORG-1?duty=talk.pre_appointment")
	before := talks()
	b.open("/policies/talk.pre_appointment")
	b.do("set max_days_before to 30",
		chromedp.SetValue(chromedp.ID("p-max_days_before"), "30"),
		chromedp.SetValue(chromedp.ID("params-asof"), "2025-12-31"))
	b.submit("preview", "#params-preview")
	added := eval[int](b, `Number(document.getElementById("impact-summary").dataset.added)`)
	if added == 0 || eval[int](b, `document.querySelectorAll("tr.impact-row").length`) == 0 {
		t.Fatalf("preview of max_days_before 30 adds %d violations, want some", added)
	}
	b.submit("apply", "#params-apply")
	b.do("wait for the applied notice", chromedp.WaitVisible(chromedp.ID("applied")))
	b.open("/scans")
	b.do("fill the scan form",
		chromedp.SetValue(chromedp.ID("scan-department"), "ORG-1"),
		chromedp.SetValue(chromedp.ID("scan-asof"), "2025-12-31"))
	b.submit("start the scan", "#start-scan")
	b.do("wait for the new scan", chromedp.WaitVisible(chromedp.CSS(`#scan-status[data-status="done"] table.violations`)))
	if after := talks(); after != before+added {
		t.Errorf("after the change the scan shows %d pre-appointment talk violations, want %d + %d previewed", after, before, added)
	}

	// The due-soon view: eleven days before the letters, lists and annual meeting fall due, the
	// organ's view lists the warnings by date under yellow lamps, then the breached checks in red.
	admin.json("POST", "/api/v1/scans", map[string]any{"as_of": "2026-03-20"}, http.StatusCreated, nil)
	b.open("/departments/ORG-1")
	b.submit("open the due-soon view", `a[href="/departments/ORG-1/due"]`)
	b.do("wait for the due-soon view", chromedp.WaitVisible(chromedp.ID("due-warnings")))
	dates := eval[[]string](b, `Array.from(document.querySelectorAll("#due-warnings tr.due-soon")).map(r => r.dataset.failsOn)`)
	if len(dates) == 0 || !slices.IsSorted(dates) || dates[0] <= "2026-03-20" || dates[len(dates)-1] > "2026-04-03" {
		t.Errorf("due-soon dates %v: want some, sorted, within 2026-03-21…2026-04-03", dates)
	}
	if yellow := eval[int](b, `document.querySelectorAll("#due-warnings .lamp.yellow").length`); yellow != len(dates) {
		t.Errorf("%d yellow lamps for %d warnings", yellow, len(dates))
	}
	if red := eval[int](b, `document.querySelectorAll("#due-breached .lamp.red").length`); red == 0 {
		t.Errorf("no breached check shown in red")
	}
	b.screenshot(shots, "due.png")

	// Sign out, and in again by name and password (the admin's, set through the API).
	const password = "长城永不倒 2026"
	admin.json("PUT", "/api/v1/users/admin/password", map[string]any{"password": password}, http.StatusNoContent, nil)
	b.open("/") // the reset ended the session: back to the sign-in page
	if loc := b.location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("after the password reset: at %s, want the sign-in page", loc)
	}
	b.do("type the name and password", chromedp.SendKeys(chromedp.ID("signin-name"), "admin"), chromedp.SendKeys(chromedp.ID("signin-password"), password))
	b.submit("sign in with the password", "#signin-submit")
	if loc := b.location(); loc != "/" || eval[string](b, `document.querySelector(".user strong").textContent`) != "admin" {
		t.Errorf("after the password sign-in: at %s", loc)
	}
	b.open("/admin/users")
	b.do("wait for the users", chromedp.WaitVisible(chromedp.CSS(`#users tr[data-user="admin"]`)))
	b.screenshot(shots, "users.png")
}
