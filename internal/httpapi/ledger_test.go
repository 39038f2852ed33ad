package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// ledgerEnv is the API over the sample organ with the ledger (its answers validated against
// openapi.json), and a token per user: admin,
// two inspectors and a department user of ORG-1-DIV-04 and of ORG-1-DIV-05.
type ledgerEnv struct {
	tb     testing.TB
	srv    *httptest.Server
	tokens map[string]string
}

func newLedgerEnv(tb testing.TB) *ledgerEnv {
	tb.Helper()
	ctx := context.Background()
	st := storetest.Open(tb)
	raw, err := duty.ReadDir("../../fixtures/sample")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.PutMany(ctx, duty.System("test"), raw); err != nil {
		tb.Fatal(err)
	}
	m, err := live.New(ctx, live.Config{Store: st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	e := &ledgerEnv{tb: tb, tokens: map[string]string{}}
	for _, u := range []duty.User{{Name: "admin", Role: duty.RoleAdmin}, {Name: "ivan", Role: duty.RoleInspector},
		{Name: "irene", Role: duty.RoleInspector}, {Name: "dora", Role: duty.RoleDepartment, Department: "ORG-1-DIV-04"},
		{Name: "dan", Role: duty.RoleDepartment, Department: "ORG-1-DIV-05"}} {
		if err := st.PutUser(ctx, "test", u); err != nil {
			tb.Fatal(err)
		}
		if _, e.tokens[u.Name], err = st.CreateToken(ctx, "test", u.Name, "t"); err != nil {
			tb.Fatal(err)
		}
	}
	l := ledger.New(ledger.Config{Today: func() string { return "2025-12-01" }, MaxFileBytes: 64 << 10, Log: quiet},
		ledger.Deps{Store: st, Engine: m.Engine})
	scans := scan.NewService(scan.ServiceConfig{Store: st, Engine: m.Engine, Log: quiet, BeforeSave: l.BeforeSave, AfterScan: []func(context.Context, *duty.Scan, *duty.Report){l.AfterScan}})
	e.srv = httptest.NewServer(validated(tb, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Scans: scans, Policies: m, Ledger: l})))
	tb.Cleanup(e.srv.Close)
	return e
}

type ledgerAnswer struct {
	status int
	body   map[string]any
	raw    []byte
}

func (e *ledgerEnv) do(user, method, path, contentType string, body io.Reader) ledgerAnswer {
	e.tb.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	a := ledgerAnswer{status: resp.StatusCode}
	a.raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(a.raw, &a.body)
	return a
}

func (e *ledgerEnv) json(user, method, path, body string) ledgerAnswer {
	e.tb.Helper()
	return e.do(user, method, path, "application/json", strings.NewReader(body))
}

func (e *ledgerEnv) upload(user, caseID, name string, content []byte) ledgerAnswer {
	e.tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return e.do(user, "POST", "/api/v1/cases/"+caseID+"/files", mw.FormDataContentType(), &buf)
}

func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

func num(m map[string]any, keys ...string) float64 {
	var cur any = m
	for _, k := range keys {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	f, _ := cur.(float64)
	return f
}

func mustStatus(tb testing.TB, a ledgerAnswer, want int, what string) {
	tb.Helper()
	if a.status != want {
		tb.Fatalf("%s: %d, want %d: %s", what, a.status, want, a.raw)
	}
}

// TestWaiverAPI drives the waiver API of INTERFACES.md: request (and its 422s and 404),
// approval refused to the requester (403), approval, the report's waived list, revocation.
func TestWaiverAPI(t *testing.T) {
	t.Parallel()
	e := newLedgerEnv(t)
	// A person of DIV-04 failing a check as of the year's end.
	sc := e.json("admin", "POST", "/api/v1/scans", `{"as_of":"2025-12-31"}`)
	mustStatus(t, sc, 201, "scan")
	var rep duty.Report
	b, _ := json.Marshal(sc.body["report"])
	_ = json.Unmarshal(b, &rep)
	pol, subject := "", ""
	for _, v := range rep.Violations {
		if v.Subject.Collection == "people" && v.Department == "ORG-1-DIV-04" {
			pol, subject = v.Policy, `{"collection":"people","id":"`+v.Subject.ID+`"}`
			break
		}
	}
	if pol == "" {
		t.Fatal("no person of ORG-1-DIV-04 fails a check as of 2025-12-31; the test needs one")
	}
	body := func(policy, subject, until string) string {
		return `{"policy":"` + policy + `","subject":` + subject + `,"reason":"长期病假","until":"` + until + `"}`
	}
	for _, tc := range []struct {
		note, user, body string
		status           int
	}{
		{"unknown policy", "ivan", body("talk.nope", subject, "2026-06-30"), 422},
		{"missing subject", "ivan", `{"policy":"` + pol + `","reason":"x","until":"2026-06-30"}`, 422},
		{"until past the maximum", "ivan", body(pol, subject, "2026-12-02"), 422},
		{"until in the past", "ivan", body(pol, subject, "2025-11-30"), 422},
		{"subject outside the subtree", "dan", body(pol, subject, "2026-06-30"), 404},
		{"unknown field", "ivan", `{"policy":"` + pol + `","subject":` + subject + `,"reason":"x","until":"2026-06-30","x":1}`, 400},
		{"an unknown token", "nobody", body(pol, subject, "2026-06-30"), 401},
	} {
		a := e.json(tc.user, "POST", "/api/v1/waivers", tc.body)
		if a.status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.note, a.status, tc.status, a.raw)
		}
	}
	w := e.json("dora", "POST", "/api/v1/waivers", body(pol, subject, "2026-06-30"))
	mustStatus(t, w, 201, "request")
	id := str(w.body, "id")
	if str(w.body, "status") != "requested" || id == "" || str(w.body, "department") != "ORG-1-DIV-04" {
		t.Fatalf("request answer %s", w.raw)
	}
	mustStatus(t, e.json("dora", "POST", "/api/v1/waivers/"+id+"/approve", ""), 403, "a department user approves")
	own := e.json("ivan", "POST", "/api/v1/waivers", body(pol, subject, "2026-06-30"))
	mustStatus(t, own, 201, "inspector's request")
	mustStatus(t, e.json("ivan", "POST", "/api/v1/waivers/"+str(own.body, "id")+"/approve", `{"note":"自己批准"}`), 403, "the requester approves")
	mustStatus(t, e.json("irene", "POST", "/api/v1/waivers/"+str(own.body, "id")+"/reject", `{"note":"不同意"}`), 200, "reject")
	ok := e.json("ivan", "POST", "/api/v1/waivers/"+id+"/approve", `{"note":"同意"}`)
	mustStatus(t, ok, 200, "approve")
	if str(ok.body, "status") != "approved" || str(ok.body, "decided_by") != "ivan" {
		t.Fatalf("approve answer %s", ok.raw)
	}
	mustStatus(t, e.json("irene", "POST", "/api/v1/waivers/"+id+"/approve", ""), 409, "approving twice")
	mustStatus(t, e.json("irene", "POST", "/api/v1/waivers/"+id+"/bless", ""), 404, "an unknown decision")

	list := e.json("dora", "GET", "/api/v1/waivers?status=approved&policy="+pol+"&department=ORG-1-DIV-04", "")
	mustStatus(t, list, 200, "list")
	if ws, _ := list.body["waivers"].([]any); len(ws) != 1 {
		t.Errorf("listing the approved waiver: %s", list.raw)
	}
	if ws, _ := e.json("dan", "GET", "/api/v1/waivers", "").body["waivers"].([]any); len(ws) != 0 {
		t.Errorf("another department lists %d waivers", len(ws))
	}
	mustStatus(t, e.json("dan", "GET", "/api/v1/waivers/"+id, ""), 404, "another department reads the waiver")
	if one := e.json("dora", "GET", "/api/v1/waivers/"+id, ""); one.status != 200 || str(one.body, "status") != "approved" || str(one.body, "until") != "2026-06-30" {
		t.Errorf("reading the waiver: %d %s", one.status, one.raw)
	}

	sc = e.json("admin", "POST", "/api/v1/scans", `{"as_of":"2025-12-31"}`)
	mustStatus(t, sc, 201, "scan with the waiver")
	waived, _ := sc.body["report"].(map[string]any)["waived"].([]any)
	if len(waived) == 0 || num(sc.body, "report", "summary", "waived") != float64(len(waived)) {
		t.Fatalf("report: %d waived, summary %v", len(waived), num(sc.body, "report", "summary", "waived"))
	}
	for _, x := range waived {
		m := x.(map[string]any)
		if str(m, "policy") != pol || str(m, "waiver", "id") != id || str(m, "waiver", "until") != "2026-06-30" {
			t.Errorf("waived entry %v", m)
		}
	}
	// The department's latest report, JSON and CSV, has them too.
	dr := e.json("dora", "GET", "/api/v1/departments/ORG-1-DIV-04/report", "")
	mustStatus(t, dr, 200, "the department's report")
	if dw, _ := dr.body["waived"].([]any); len(dw) != len(waived) || num(dr.body, "summary", "waived") != float64(len(waived)) ||
		str(dw[0].(map[string]any), "waiver", "id") != id {
		t.Errorf("the department's report: %d waived, summary %v", len(dw), num(dr.body, "summary", "waived"))
	}
	dc := e.do("dora", "GET", "/api/v1/departments/ORG-1-DIV-04/report?format=csv", "", nil)
	mustStatus(t, dc, 200, "the department's report as CSV")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(dc.raw), duty.BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	inCSV := 0
	for _, r := range rows[1:] {
		if r[16] == "waived" && r[18] == id && r[19] == "2026-06-30" {
			inCSV++
		}
	}
	if inCSV != len(waived) {
		t.Errorf("%d waived rows in the CSV, want %d", inCSV, len(waived))
	}
	rev := e.json("dora", "DELETE", "/api/v1/waivers/"+id, "")
	mustStatus(t, rev, 200, "revoke")
	if str(rev.body, "status") != "revoked" {
		t.Errorf("revoke answer %s", rev.raw)
	}
	mustStatus(t, e.json("dora", "DELETE", "/api/v1/waivers/"+id, ""), 409, "revoking twice")
	sc = e.json("admin", "POST", "/api/v1/scans", `{"as_of":"2025-12-31"}`)
	if w, _ := sc.body["report"].(map[string]any)["waived"].([]any); len(w) != 0 {
		t.Errorf("after revocation: %d waived", len(w))
	}
}

// TestCaseAPI works a case through the API: list, refused transition (409 naming both
// states), start, evidence uploads (type by content, size limit, SHA-256, download), submit.
func TestCaseAPI(t *testing.T) {
	t.Parallel()
	e := newLedgerEnv(t)
	mustStatus(t, e.json("admin", "POST", "/api/v1/scans", `{"as_of":"2025-12-31"}`), 201, "scan")
	list := e.json("dora", "GET", "/api/v1/cases?state=open&overdue=false", "")
	mustStatus(t, list, 200, "list")
	cases, _ := list.body["cases"].([]any)
	if len(cases) == 0 {
		t.Fatalf("no open case of ORG-1-DIV-04: %s", list.raw)
	}
	c := cases[0].(map[string]any)
	id := str(c, "id")
	if str(c, "department") != "ORG-1-DIV-04" || str(c, "state") != "open" || str(c, "due_on") != "" && str(c, "due_on") <= "2025-12-31" {
		t.Errorf("listed case %v", c)
	}
	mustStatus(t, e.json("dan", "GET", "/api/v1/cases/"+id, ""), 404, "another department reads the case")
	a := e.json("dora", "POST", "/api/v1/cases/"+id+"/submit", `{"note":"已整改","evidence":[{"collection":"people","id":"ORG-1-P-048"}]}`)
	mustStatus(t, a, 409, "submit an open case")
	if msg := str(a.body, "error", "message"); !strings.Contains(msg, "open") || !strings.Contains(msg, "in_progress") {
		t.Errorf("409 does not name both states: %s", msg)
	}
	mustStatus(t, e.json("dora", "POST", "/api/v1/cases/"+id+"/start", `{"owner":"张三","note":"安排整改"}`), 200, "start")

	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	up := e.upload("dora", id, "整改报告.pdf", pdf)
	mustStatus(t, up, 201, "upload a PDF")
	sum := sha256.Sum256(pdf)
	if str(up.body, "sha256") != hex.EncodeToString(sum[:]) || num(up.body, "size") != float64(len(pdf)) {
		t.Errorf("upload answer %s", up.raw)
	}
	var docx bytes.Buffer
	zw := zip.NewWriter(&docx)
	f, _ := zw.Create("[Content_Types].xml")
	_, _ = f.Write([]byte(`<?xml version="1.0"?><Types/>`))
	_ = zw.Close()
	mustStatus(t, e.upload("dora", id, "说明.docx", docx.Bytes()), 201, "upload an office document")
	mustStatus(t, e.upload("dora", id, "报告.pdf", []byte("just text, named .pdf")), 422, "text named .pdf")
	var plainZip bytes.Buffer
	zw = zip.NewWriter(&plainZip)
	f, _ = zw.Create("a.exe")
	_, _ = f.Write([]byte("MZ"))
	_ = zw.Close()
	mustStatus(t, e.upload("dora", id, "x.docx", plainZip.Bytes()), 422, "a zip that is no office document")
	mustStatus(t, e.upload("dora", id, "big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 64<<10)...)), 413, "over the size limit")
	mustStatus(t, e.upload("dan", id, "x.pdf", pdf), 404, "another department uploads")

	down := e.do("dora", "GET", "/api/v1/evidence/"+str(up.body, "id"), "", nil)
	mustStatus(t, down, 200, "download")
	if !bytes.Equal(down.raw, pdf) {
		t.Errorf("downloaded %d bytes, uploaded %d", len(down.raw), len(pdf))
	}
	sub := e.json("dora", "POST", "/api/v1/cases/"+id+"/submit", `{"note":"已补充谈话记录","files":["`+str(up.body, "id")+`"]}`)
	mustStatus(t, sub, 200, "submit")
	if str(sub.body, "state") != "submitted" {
		t.Errorf("submit answer %s", sub.raw)
	}
	got := e.json("ivan", "GET", "/api/v1/cases/"+id, "")
	mustStatus(t, got, 200, "get")
	hist, _ := got.body["case"].(map[string]any)["history"].([]any)
	files, _ := got.body["files"].([]any)
	if len(hist) != 3 || len(files) != 2 {
		t.Errorf("case: %d history entries (want 3), %d files (want 2)", len(hist), len(files))
	}
	raw := e.do("dora", "POST", "/api/v1/cases/"+id+"/files?name=%E7%85%A7%E7%89%87.png", "application/octet-stream",
		bytes.NewReader([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")))
	mustStatus(t, raw, 201, "upload a raw body named by ?name=")
	if str(raw.body, "name") != "照片.png" || str(raw.body, "content_type") != "image/png" {
		t.Errorf("raw upload answer %s", raw.raw)
	}
	st := e.json("ivan", "GET", "/api/v1/standing?organ=ORG-1", "")
	mustStatus(t, st, 200, "standing")
	if d, _ := st.body["departments"].([]any); len(d) < 2 || str(st.body, "as_of") != "2025-12-31" || !strings.HasPrefix(str(st.body, "formula", "zh"), "得分 = 100") {
		t.Errorf("standing: %.400s", st.raw)
	}
	mine := e.json("dora", "GET", "/api/v1/standing?organ=ORG-1", "")
	if d, _ := mine.body["departments"].([]any); len(d) != 1 {
		t.Errorf("a department user's standing: %.400s", mine.raw)
	}
	mustStatus(t, e.json("ivan", "GET", "/api/v1/standing?organ=ORG-1-DIV-04", ""), 404, "standing of a division")
	mustStatus(t, e.json("dora", "GET", "/api/v1/cases?overdue=maybe", ""), 400, "a bad overdue filter")
	mustStatus(t, e.json("dora", "GET", "/api/v1/cases?department=ORG-1-DIV-05", ""), 404, "another department's ledger")
}

// TestLedgerParamsAPI changes the ledger's parameters through the parameter API of the duties
// (PUT /api/v1/policies/ledger/params): refused outside their schema, applied live to the next
// request (the waiver maximum, the standing's weights), kept as a policy revision.
func TestLedgerParamsAPI(t *testing.T) {
	t.Parallel()
	e := newLedgerEnv(t)
	list := e.json("ivan", "GET", "/api/v1/policies", "")
	mustStatus(t, list, 200, "list the policies")
	if st, _ := list.body["settings"].([]any); len(st) != 1 || str(st[0].(map[string]any), "metadata", "id") != "ledger" {
		t.Errorf("the settings listed: %v", list.body["settings"])
	}
	got := e.json("ivan", "GET", "/api/v1/policies/ledger/params", "")
	mustStatus(t, got, 200, "read the ledger's parameters")
	rev := str(got.body, "revision")
	if num(got.body, "params", "waiver_max_days") != 365 || num(got.body, "params", "rectify_days_high") != 15 ||
		str(got.body, "schema", "weight_warning", "type") != "number" || str(got.body, "schema", "rectify_days_low", "zh") != "低风险问题整改期限" {
		t.Fatalf("parameters: %s", got.raw)
	}
	for _, tc := range []struct {
		note, body string
		status     int
		want       string
	}{
		{"a period of 0 days", `{"base":"` + rev + `","params":{"rectify_days_medium":0}}`, 422, "ledger.rectify_days_medium"},
		{"a weight as text", `{"base":"` + rev + `","params":{"weight_low":"1"}}`, 422, "must be a number"},
		{"an unknown parameter", `{"base":"` + rev + `","params":{"severity":"high"}}`, 422, "is not a parameter"},
		{"switching settings off", `{"base":"` + rev + `","params":{"weight_low":2},"switch_off":true}`, 400, "settings"},
		{"a department user", `{"base":"` + rev + `","params":{"weight_low":2}}`, 403, ""},
	} {
		user := "admin"
		if tc.status == 403 {
			user = "dora"
		}
		a := e.json(user, "PUT", "/api/v1/policies/ledger/params", tc.body)
		if a.status != tc.status || !strings.Contains(string(a.raw), tc.want) {
			t.Errorf("%s: %d %s, want %d naming %q", tc.note, a.status, a.raw, tc.status, tc.want)
		}
	}
	put := e.json("admin", "PUT", "/api/v1/policies/ledger/params", `{"base":"`+rev+`","params":{"waiver_max_days":30,"weight_high":10},"message":"考核从严"}`)
	mustStatus(t, put, 201, "change the ledger's parameters")
	if str(put.body, "revision", "author") != "admin" || str(put.body, "revision", "message") != "考核从严" {
		t.Errorf("revision %s", put.raw)
	}
	// The next requests use them: a waiver of 31 days is past the maximum, the standing's
	// formula and weights are the new ones.
	subject := `{"collection":"people","id":"ORG-1-P-048"}`
	a := e.json("dora", "POST", "/api/v1/waivers", `{"policy":"talk.pre_appointment","subject":`+subject+`,"reason":"病假","until":"2026-01-01"}`)
	if a.status != 422 || !strings.Contains(str(a.body, "error", "message"), "30 days") {
		t.Errorf("a waiver of 31 days with a maximum of 30: %d %s", a.status, a.raw)
	}
	mustStatus(t, e.json("dora", "POST", "/api/v1/waivers", `{"policy":"talk.pre_appointment","subject":`+subject+`,"reason":"病假","until":"2025-12-31"}`), 201, "a waiver of 30 days")
	st := e.json("ivan", "GET", "/api/v1/standing?organ=ORG-1", "")
	mustStatus(t, st, 200, "standing")
	if num(st.body, "weights", "high") != 10 || !strings.Contains(str(st.body, "formula", "zh"), "10 × 高风险问题数") {
		t.Errorf("standing after the change: %.300s", st.raw)
	}
	if after := e.json("ivan", "GET", "/api/v1/policies/ledger/params", ""); num(after.body, "params", "waiver_max_days") != 30 || str(after.body, "revision") == rev {
		t.Errorf("parameters after the change: %s", after.raw)
	}
	trail := e.json("admin", "GET", "/api/v1/audit?actor=admin", "")
	mustStatus(t, trail, 200, "audit trail")
	entries, _ := trail.body["entries"].([]any)
	audited := false
	for _, x := range entries {
		audited = audited || str(x.(map[string]any), "action") == "policy.change"
	}
	if !audited {
		t.Errorf("the change of the ledger's parameters is not in the audit trail: %.500s", trail.raw)
	}
}
