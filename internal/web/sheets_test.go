package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/edgetest"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// uploadWorkbook posts a workbook to the import form as user, with the session's CSRF token.
func (e *env) uploadWorkbook(user, name string, data []byte) response {
	e.tb.Helper()
	csrf := e.csrf(user)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField(httpapi.CSRFField, csrf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	a := edgetest.Send(e.tb, e.srv, "POST", "/sheets/imports", &body, map[string]string{"Content-Type": mw.FormDataContentType()},
		&http.Cookie{Name: httpapi.SessionCookie, Value: e.sessions[user]})
	return response{a.Status, a.Header, a.Body}
}

// finished reads an import's page until the import no longer runs (its job finishes on its own;
// the loop only waits for it) and returns the page.
func (e *env) finished(user, path string) response {
	e.tb.Helper()
	for {
		r := e.get(user, path)
		if r.status != http.StatusOK || !strings.Contains(r.body, `data-status="running"`) {
			return r
		}
	}
}

func xlsxOf(t *testing.T, r response) *excelize.File {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != sheet.ContentType {
		t.Fatalf("%d %s %.300s", r.status, r.header.Get("Content-Type"), r.body)
	}
	f, err := excelize.OpenReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestSheetPages: the spreadsheet page offers templates and exports; an uploaded workbook with
// errors shows its problems in Chinese by sheet, row and column with the marked workbook to
// download, a clean one says what it wrote; the report page has its xlsx beside the CSV.
func TestSheetPages(t *testing.T) {
	t.Parallel()
	e := startEnv(t, []string{"2025-12-31"}, users)
	page := e.get("admin", "/sheets")
	for _, want := range []string{`href="/sheets/templates/talks.xlsx"`, `href="/sheets/exports/people.xlsx"`, `id="import-form"`, "表格导入与导出"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("/sheets lacks %s", want)
		}
	}
	if r := e.get("editor", "/sheets"); r.status != http.StatusForbidden {
		t.Errorf("a policy editor (no records) gets /sheets: %d", r.status)
	}
	f := xlsxOf(t, e.get("admin", "/sheets/templates/talks.xlsx"))
	_ = f.SetCellValue("廉政谈话", "A2", "T-NEW")
	_ = f.SetCellValue("廉政谈话", "B2", "提醒谈话")
	_ = f.SetCellValue("廉政谈话", "C2", "没有这个人")
	_ = f.SetCellValue("廉政谈话", "E2", "2025-12-01")
	var buf bytes.Buffer
	_ = f.Write(&buf)
	r := e.uploadWorkbook("admin", "谈话.xlsx", buf.Bytes())
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/sheets/imports/") {
		t.Fatalf("upload: %d %s %.300s", r.status, loc, r.body)
	}
	r = e.finished("admin", loc)
	for _, want := range []string{"未通过校验", "没有编号或名称为「没有这个人」的人员", `id="download-marked"`, "<td>C 谈话对象</td>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the refused import's page lacks %q:\n%.2000s", want, r.body)
		}
	}
	m := xlsxOf(t, e.get("admin", loc+"/marked.xlsx"))
	if cs, _ := m.GetComments("廉政谈话"); len(cs) != 1 || cs[0].Cell != "C2" {
		t.Errorf("marked comments %+v", cs)
	}
	if r := e.get("inspector", loc); r.status != http.StatusNotFound {
		t.Errorf("another user opens the import: %d", r.status)
	}

	_ = f.SetCellValue("廉政谈话", "C2", "ORG-1-P-002")
	buf.Reset()
	_ = f.Write(&buf)
	r = e.finished("admin", e.uploadWorkbook("admin", "谈话.xlsx", buf.Bytes()).header.Get("Location"))
	if !strings.Contains(r.body, `id="import-done"`) || !strings.Contains(r.body, "已写入 1 条记录") {
		t.Errorf("the clean import's page:\n%.2000s", r.body)
	}
	x := xlsxOf(t, e.get("admin", "/sheets/exports/talks.xlsx"))
	if rows, _ := x.GetRows("廉政谈话"); len(rows) < 2 {
		t.Errorf("talks export has %d rows", len(rows))
	}
	dep := e.get("admin", "/departments/ORG-1")
	if !strings.Contains(dep.body, `id="download-xlsx" href="/departments/ORG-1/report.xlsx"`) {
		t.Errorf("the report page has no xlsx download")
	}
	rep := xlsxOf(t, e.get("admin", "/departments/ORG-1/report.xlsx"))
	if rows, _ := rep.GetRows("问题"); len(rows) < 2 || rows[0][0] != "序号" {
		t.Errorf("report workbook: %d rows", len(rows))
	}
}
