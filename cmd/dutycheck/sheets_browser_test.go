package main

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// fetchJS fetches a link of the page (with the session) and answers its bytes in base64.
const fetchJS = `fetch(document.querySelector(%q).href).then(r => r.arrayBuffer()).then(b => {
  const u = new Uint8Array(b); let s = ""; for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return btoa(s); })`

// download fetches the workbook a link of the page points to, through the browser's session.
func (b *browser) download(sel string) *excelize.File {
	b.tb.Helper()
	js := strings.Replace(fetchJS, "%q", "'"+sel+"'", 1)
	data, err := base64.StdEncoding.DecodeString(eval[string](b, js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.tb.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		b.tb.Fatalf("the download of %s is not a workbook: %v", sel, err)
	}
	b.tb.Cleanup(func() { f.Close() })
	return f
}

// TestBrowserSheets: in headless Chromium, download the talks template from the spreadsheet
// page, upload it filled with errors (the page lists them; the marked workbook has the bad
// cells filled and commented), then filled right, and see the next scan lose the violation the
// imported talk fixes.
func TestBrowserSheets(t *testing.T) {
	_, b := signedIn(t, "2025-12-31", nil)
	shots := screenshotDir(t)

	// ORG-1-DIV-06 fails one check as of 2025-12-31: appointment ORG-1-A-047 of 韩勇超 without
	// a pre-appointment talk.
	violations := func() int {
		b.open("/departments/ORG-1-DIV-06")
		b.do("wait for the report", chromedp.WaitVisible(chromedp.CSS("main")))
		return eval[int](b, `document.querySelectorAll("tr.violation").length`)
	}
	if n := violations(); n != 1 {
		t.Fatalf("ORG-1-DIV-06 shows %d violations before the import, want 1", n)
	}

	b.open("/sheets")
	b.do("wait for the spreadsheet page", chromedp.WaitVisible(chromedp.ID("import-form")))
	b.screenshot(shots, "sheets.png")
	f := b.download("#template-talks")
	if got := f.GetSheetList(); len(got) < 2 || got[0] != "填写说明" {
		t.Fatalf("template sheets %v", got)
	}
	row := func(cells ...any) {
		for i, v := range cells {
			cell, _ := excelize.CoordinatesToCellName(i+1, 2)
			if err := f.SetCellValue("廉政谈话", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	upload := func(name string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		if err := f.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		b.open("/sheets")
		b.do("choose the workbook", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{path}))
		b.submit("import", "#start-import")
		b.do("wait for the import to finish", chromedp.WaitVisible(chromedp.CSS(`#import-status:not([data-status="running"])`)))
	}

	// With errors: a name of nobody and a date that does not exist.
	row("ORG-1-T-900", "任前廉政谈话", "韩勇超", "查无此人", "2020-02-30", "是")
	upload("谈话-有误.xlsx")
	if s := eval[string](b, `document.getElementById("import-status").dataset.status`); s != "refused" {
		t.Fatalf("the import with errors ended %s, want refused", s)
	}
	reasons := eval[string](b, `document.getElementById("import-problems").textContent`)
	if !strings.Contains(reasons, "应为日期") {
		t.Errorf("the problems shown: %q", reasons)
	}
	b.screenshot(shots, "import-refused.png")
	m := b.download("#download-marked")
	comments, err := m.GetComments("廉政谈话")
	if err != nil || len(comments) != 1 || comments[0].Cell != "E2" {
		t.Errorf("marked workbook comments %+v (%v), want one on E2", comments, err)
	}
	if id, _ := m.GetCellStyle("廉政谈话", "E2"); id == 0 {
		t.Errorf("the bad cell E2 is not styled")
	}

	// The date right, the conductor still unknown: refused by name.
	row("ORG-1-T-900", "任前廉政谈话", "韩勇超", "查无此人", "2020-03-01", "是")
	upload("谈话-有误2.xlsx")
	if got := eval[string](b, `document.getElementById("import-problems").textContent`); !strings.Contains(got, "没有编号或名称为「查无此人」的人员") {
		t.Errorf("the unknown name is not reported: %q", got)
	}

	// Clean: the talk is written, and the next scan no longer reports the appointment.
	row("ORG-1-T-900", "任前廉政谈话", "韩勇超", "汤军", "2020-03-01", "是")
	upload("谈话.xlsx")
	if s := eval[string](b, `document.getElementById("import-status").dataset.status`); s != "done" {
		t.Fatalf("the clean import ended %s, want done", s)
	}
	b.screenshot(shots, "import-done.png")
	b.open("/scans")
	b.do("fill the scan form",
		chromedp.SetValue(chromedp.ID("scan-department"), "ORG-1-DIV-06"),
		chromedp.SetValue(chromedp.ID("scan-asof"), "2025-12-31"))
	b.submit("start the scan", "#start-scan")
	b.do("wait for the scan", chromedp.WaitVisible(chromedp.CSS(`#scan-status[data-status="done"]`)))
	if n := violations(); n != 0 {
		t.Errorf("ORG-1-DIV-06 shows %d violations after the import, want 0", n)
	}
}
