package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// sheetEnv is an API with scans and policies over a small organ, and a department user of its
// division.
func sheetEnv(t *testing.T) *authEnv {
	t.Helper()
	e := newStoreAuthEnv(t)
	ctx := context.Background()
	var docs map[string][]map[string]any
	_ = json.Unmarshal([]byte(`{
	 "departments": [{"id": "O1", "name": "省人大机关", "kind": "organ"}, {"id": "O1-DIV", "name": "联络处", "kind": "division", "parent_id": "O1"},
	                 {"id": "O1-OFF", "name": "办公厅", "kind": "office", "parent_id": "O1"}],
	 "people": [{"id": "P1", "name": "汤军", "department_id": "O1", "rank": "bureau", "roles": ["party_group_secretary"], "active": true},
	            {"id": "P2", "name": "王芳", "department_id": "O1-DIV", "rank": "division", "roles": ["department_head"], "active": true},
	            {"id": "P3", "name": "李强", "department_id": "O1-OFF", "rank": "section", "roles": [], "active": true}],
	 "appointments": [{"id": "A1", "person_id": "P2", "department_id": "O1-DIV", "position": "处长", "rank": "division", "effective_on": "2025-03-01"}]}`), &docs)
	if _, err := e.st.PutMany(ctx, duty.System("test"), duty.RawDocs(docs)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutUser(ctx, "test", duty.User{Name: "div", Role: duty.RoleDepartment, Department: "O1-DIV"}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := e.st.CreateToken(ctx, "test", "div", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["div"] = tok
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := live.New(ctx, live.Config{Store: e.st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	scans := scan.NewService(scan.ServiceConfig{Store: e.st, Engine: mgr.Engine, Log: quiet})
	t.Cleanup(func() { scans.Shutdown(context.Background()) })
	e.srv.Close()
	e.srv = httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: e.st, Scans: scans, Policies: mgr})))
	t.Cleanup(e.srv.Close)
	return e
}

func openXLSX(t *testing.T, a answer) *excelize.File {
	t.Helper()
	if a.status != http.StatusOK || a.header.Get("Content-Type") != sheet.ContentType {
		t.Fatalf("%d %s %.300s", a.status, a.header.Get("Content-Type"), a.body)
	}
	f, err := excelize.OpenReader(strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// upload posts a workbook to /imports as user.
func (e *authEnv) upload(user string, data []byte, fields map[string]string) answer {
	e.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "谈话.xlsx")
	_, _ = fw.Write(data)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	return e.send("POST", "/api/v1/imports", &body, map[string]string{"Authorization": "Bearer " + e.tokens[user], "Content-Type": mw.FormDataContentType()})
}

func talkRow(f *excelize.File, row int, cells ...any) {
	for i, v := range cells {
		cell, _ := excelize.CoordinatesToCellName(i+1, row)
		_ = f.SetCellValue("廉政谈话", cell, v)
	}
}

func xlsxBytes(t *testing.T, f *excelize.File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decodeJob(t *testing.T, a answer) sheet.Job {
	t.Helper()
	var j sheet.Job
	if err := json.Unmarshal([]byte(a.body), &j); err != nil {
		t.Fatalf("%d %.300s: %v", a.status, a.body, err)
	}
	return j
}

// TestImportAPI: the template, a refused import with its problems and its marked workbook, a
// clean one, a department user held to its scope, a job cancelled, and the exports of the
// collection and of the report, read back.
func TestImportAPI(t *testing.T) {
	t.Parallel()
	e := sheetEnv(t)
	ctx := context.Background()
	f := openXLSX(t, e.bearer("admin", "GET", "/api/v1/templates/talks", ""))
	if got := f.GetSheetList(); len(got) < 2 || got[0] != "填写说明" {
		t.Errorf("template sheets %v", got)
	}
	if e.bearer("admin", "GET", "/api/v1/templates/nothing", "").status != http.StatusNotFound {
		t.Errorf("the template of an unknown collection is not 404")
	}

	// Refused: a bad date and a name of nobody; nothing written.
	talkRow(f, 2, "T1", "任前廉政谈话", "王芳", "汤军", "2025-02-30", "是")
	a := e.upload("admin", xlsxBytes(t, f), map[string]string{"wait": "true", "collection": "talks"})
	j := decodeJob(t, a)
	if a.status != http.StatusOK || j.Status != sheet.Refused || len(j.Problems) != 1 || j.Problems[0].Column != "E" || j.Problems[0].Row != 2 || !j.Marked {
		t.Fatalf("refused import: %d %+v", a.status, j)
	}
	if _, err := e.st.Get(ctx, "talks", "T1"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("a refused import wrote T1: %v", err)
	}
	m := openXLSX(t, e.bearer("admin", "GET", "/api/v1/imports/"+j.ID+"/marked", ""))
	comments, _ := m.GetComments("廉政谈话")
	if len(comments) != 1 || comments[0].Cell != "E2" {
		t.Errorf("marked workbook comments %+v, want one on E2", comments)
	}
	if got := decodeJob(t, e.bearer("admin", "GET", "/api/v1/imports/"+j.ID, "")); got.Status != sheet.Refused {
		t.Errorf("GET the import: %+v", got)
	}
	if e.bearer("inspector", "GET", "/api/v1/imports/"+j.ID, "").status != http.StatusNotFound {
		t.Errorf("another user sees the import")
	}

	// Clean.
	talkRow(f, 2, "T1", "任前廉政谈话", "王芳", "汤军", "2025-02-28", "是")
	a = e.upload("admin", xlsxBytes(t, f), map[string]string{"wait": "true"})
	if j = decodeJob(t, a); j.Status != sheet.Done || j.Written != 1 {
		t.Fatalf("clean import: %+v", j)
	}
	if d, err := e.st.Get(ctx, "talks", "T1"); err != nil || d.Str("person_id") != "P2" || d.Str("held_on") != "2025-02-28" {
		t.Errorf("T1 stored as %v, %v", d, err)
	}

	// A department user: a talk of someone outside its division is refused by the store's
	// scope rule, with the sheet, row and column; nothing written.
	talkRow(f, 2, "T2", "提醒谈话", "李强", nil, "2025-02-28", "是")
	j = decodeJob(t, e.upload("div", xlsxBytes(t, f), map[string]string{"wait": "true"}))
	if j.Status != sheet.Refused || len(j.Problems) == 0 || j.Problems[0].Sheet != "廉政谈话" || j.Problems[0].Row != 2 ||
		!strings.Contains(j.Problems[0].ZH, "超出本账号可写入的范围") {
		t.Errorf("department user's import outside its scope: %+v", j)
	}
	if _, err := e.st.Get(ctx, "talks", "T2"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("T2 written outside the scope: %v", err)
	}

	// Without wait: 202 at once, then cancel answers the job, finished or cancelled (this
	// workbook is refused either way: nothing of it is written).
	talkRow(f, 2, "T3", "提醒谈话", "李强", nil, "2025-02-30", "是")
	a = e.upload("admin", xlsxBytes(t, f), nil)
	if a.status != http.StatusAccepted || a.header.Get("Location") == "" {
		t.Fatalf("import without wait: %d %s", a.status, a.body)
	}
	j = decodeJob(t, e.bearer("admin", "DELETE", a.header.Get("Location"), ""))
	if j.Status == sheet.Running {
		t.Errorf("after DELETE the import still runs: %+v", j)
	}
	if a := e.bearer("admin", "POST", "/api/v1/imports", "{}"); a.status != http.StatusBadRequest {
		t.Errorf("an import without a file: %d", a.status)
	}

	// A department user's export holds its subtree only.
	dx := openXLSX(t, e.bearer("div", "GET", "/api/v1/exports/people", ""))
	if rows, _ := dx.GetRows("人员"); len(rows) != 2 || rows[1][0] != "P2" {
		t.Errorf("the division's people export: %v", rows)
	}

	// Exports: the collection, names beside ids; the report with its dates as dates.
	x := openXLSX(t, e.bearer("admin", "GET", "/api/v1/exports/talks", ""))
	rows, _ := x.GetRows("廉政谈话")
	if len(rows) != 2 || rows[0][3] != "谈话对象（名称）" || rows[1][3] != "王芳" {
		t.Errorf("talks export %v", rows)
	}
	if a := e.bearer("admin", "POST", "/api/v1/scans", `{"as_of": "2025-06-30"}`); a.status != http.StatusCreated {
		t.Fatalf("scan: %d %.300s", a.status, a.body)
	}
	r := openXLSX(t, e.bearer("admin", "GET", "/api/v1/departments/O1/report?format=xlsx", ""))
	vrows, _ := r.GetRows("问题")
	if len(vrows) < 2 || vrows[0][2] != "部门" {
		t.Fatalf("report workbook %v", vrows)
	}
	named := false
	for _, row := range vrows[1:] {
		named = named || (row[1] == "O1-DIV" && row[2] == "联络处")
	}
	if !named {
		t.Errorf("no department name beside its id in %v", vrows)
	}
}

// TestImportTooLarge: an upload over the request limit answers 413 and starts nothing.
func TestImportTooLarge(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.srv.Close()
	e.srv = httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet, MaxBodyBytes: 4096}, httpapi.Deps{Store: e.fake})))
	t.Cleanup(e.srv.Close)
	if a := e.upload("admin", bytes.Repeat([]byte("x"), 8192), nil); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("an 8 KiB upload over a 4 KiB limit: %d %.200s", a.status, a.body)
	}
}
