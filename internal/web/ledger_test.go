package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// ledgerEnv is the service with the ledger over the sample organ scanned as of 2025-12-31, and
// the users of users plus a department user of the Party Committee's subtree ("pc").
func ledgerEnv(tb testing.TB) (*env, *ledger.Service) {
	tb.Helper()
	return startEnvWith(tb, []string{"2025-12-31"}, append(users, struct{ name, role, dept string }{"pc", duty.RoleDepartment, "ORG-1-PC"}), true)
}

// upload posts a file from a case page's upload form as user.
func (e *env) upload(user, path, name string, content []byte) response {
	e.tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField(httpapi.CSRFField, e.csrf(user))
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: e.sessions[user]})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(data)}
}

var (
	openCase  = regexp.MustCompile(`data-case="(C[0-9a-f]+)" data-state="open"`)
	caseState = regexp.MustCompile(`id="case-state" data-state="([a-z_]+)"`)
)

// TestLedgerPages works a case of the office's subtree from open to closed through the pages:
// a refused submission (409, in Chinese, naming both states), start, uploads (a PDF; a text
// named .pdf refused), submission, the closing scan; then reads the Excel and CSV ledgers back.
func TestLedgerPages(t *testing.T) {
	t.Parallel()
	e, l := ledgerEnv(t)
	ctx := context.Background()
	list := e.get("office", "/ledger?department="+inside)
	if list.status != 200 {
		t.Fatalf("ledger page: %d %.300s", list.status, list.body)
	}
	m := openCase.FindStringSubmatch(list.body)
	if m == nil {
		t.Fatalf("no open case of %s on the ledger page", inside)
	}
	id := m[1]
	path := "/cases/" + id
	state := func(want string) string {
		t.Helper()
		r := e.get("office", path)
		if r.status != 200 {
			t.Fatalf("case page: %d", r.status)
		}
		if got := caseState.FindStringSubmatch(r.body); got == nil || got[1] != want {
			t.Fatalf("case state %v, want %s", got, want)
		}
		return r.body
	}
	state(duty.CaseOpen)
	if r := e.get("pc", path); r.status != 404 {
		t.Errorf("a department outside the subtree reads the case: %d", r.status)
	}
	if r := e.get("pc", "/ledger?department="+inside); r.status != 404 {
		t.Errorf("a department outside the subtree reads its ledger: %d", r.status)
	}

	r := e.post("office", path, url.Values{"action": {"submit"}, "note": {"已整改"}, "records": {"people/ORG-1-P-048"}})
	if r.status != 409 || !strings.Contains(r.body, "「待整改」") || !strings.Contains(r.body, "「整改中」") {
		t.Fatalf("submitting an open case: %d, %.2000s", r.status, r.body)
	}
	if r := e.post("office", path, url.Values{"action": {"start"}}); r.status != 422 || !strings.Contains(r.body, "请填写责任人。") {
		t.Errorf("start without an owner: %d", r.status)
	}
	const owner = `=HYPERLINK("http://evil.example","x")`
	if r := e.post("office", path, url.Values{"action": {"start"}, "owner": {owner}, "note": {"安排整改"}}); r.status != 303 {
		t.Fatalf("start: %d %.500s", r.status, r.body)
	}
	state(duty.CaseInProgress)
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	if r := e.upload("office", path+"/files", "整改报告.pdf", pdf); r.status != 200 || !strings.Contains(r.body, "文件已上传。") {
		t.Fatalf("upload: %d %.500s", r.status, r.body)
	}
	if r := e.upload("office", path+"/files", "伪装.pdf", []byte("plain text")); r.status != 422 || !strings.Contains(r.body, "与文件名无关") {
		t.Errorf("a text named .pdf: %d", r.status)
	}
	if r := e.upload("office", path+"/files", "big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 1<<20)...)); r.status != 413 {
		t.Errorf("a file over the limit: %d", r.status)
	}
	// A body over the service's request limit (32 MiB) is 413 too, not a missing CSRF field.
	if r := e.upload("office", path+"/files", "huge.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 33<<20)...)); r.status != 413 {
		t.Errorf("a body over the request limit: %d, want 413", r.status)
	}
	files, err := l.EvidenceFiles(ctx, duty.System("test"), id)
	if err != nil || len(files) != 1 {
		t.Fatalf("files of the case: %v %v", files, err)
	}
	if r := e.get("office", path+"/files/"+files[0].ID); r.status != 200 || r.body != string(pdf) {
		t.Errorf("download: %d, %q", r.status, r.body)
	}
	if r := e.post("office", path, url.Values{"action": {"submit"}, "note": {"已补谈话并归档"}, "file": {files[0].ID}}); r.status != 303 {
		t.Fatalf("submit: %d %.500s", r.status, r.body)
	}
	state(duty.CaseSubmitted)

	// The re-check: a later scan of the office's subtree no longer finds the check failing.
	later := &duty.Scan{ID: "recheck", Status: duty.ScanDone, Department: scope, AsOf: "2026-01-31",
		StartedAt: time.Now().Add(time.Hour).UTC().Format(duty.TimeFormat), Report: &duty.Report{ScanID: "recheck", AsOf: "2026-01-31"}}
	if err := l.Sync(ctx, later); err != nil {
		t.Fatal(err)
	}
	body := state(duty.CaseClosed)
	for _, want := range []string{"复查销号", "已提交待复查", "已销号", "开始整改", "提交整改"} {
		if !strings.Contains(body, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}

	x := e.get("inspector", "/ledger.xlsx?department="+inside)
	if x.status != 200 {
		t.Fatalf("ledger.xlsx: %d", x.status)
	}
	wb, err := excelize.OpenReader(strings.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wb.GetRows("整改台账")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || strings.Join(rows[0][:4], ",") != "序号,案件编号,单位,部门" {
		t.Fatalf("workbook header %v", rows[0])
	}
	cases, _ := l.Cases(ctx, duty.System("test"), duty.CaseFilter{Department: inside})
	if len(rows)-1 != len(cases) {
		t.Errorf("workbook has %d rows, the ledger %d cases", len(rows)-1, len(cases))
	}
	found := false
	for r, row := range rows[1:] {
		if row[1] != id {
			continue
		}
		found = true
		if row[2] != "浙江省人大常委会机关" || row[3] != "秘书处" {
			t.Errorf("organ and department cells %q, %q, want their names", row[2], row[3])
		}
		if row[10] != "已销号" || row[11] != "2025-12-31" || row[16] != "2026-01-31" {
			t.Errorf("row %v", row)
		}
		if row[14] != "'"+owner {
			t.Errorf("owner cell %q, want the formula neutralised", row[14])
		}
		cell, _ := excelize.CoordinatesToCellName(12, r+2)
		rawV, _ := wb.GetCellValue("整改台账", cell, excelize.Options{RawCellValue: true})
		if rawV != "46022" { // 2025-12-31 as a spreadsheet date serial
			t.Errorf("opened_on cell holds %q, want the date serial 46022", rawV)
		}
	}
	if !found {
		t.Errorf("case %s is not in the workbook", id)
	}

	st := e.get("inspector", "/standing?organ=ORG-1")
	if st.status != 200 || !strings.Contains(st.body, "得分 = 100 − 5 × 高风险问题数") || !strings.Contains(st.body, `data-department="`+inside+`"`) {
		t.Errorf("standing page: %d %.300s", st.status, st.body)
	}
	if pc := e.get("pc", "/standing"); pc.status != 200 || strings.Contains(pc.body, `data-department="`+inside+`"`) {
		t.Errorf("a Party Committee user's standing shows %s: %d", inside, pc.status)
	}
	sc := e.get("inspector", "/standing.csv?organ=ORG-1")
	srecs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(sc.body, duty.BOM))).ReadAll()
	if err != nil || len(srecs) < 3 || srecs[0][0] != "名次" || srecs[0][7] != "得分" {
		t.Errorf("standing.csv: %v %v", srecs, err)
	}

	c := e.get("office", "/ledger.csv?state=closed")
	if c.status != 200 || !strings.HasPrefix(c.body, duty.BOM) {
		t.Fatalf("ledger.csv: %d", c.status)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(c.body, duty.BOM))).ReadAll()
	if err != nil || len(recs) != 2 || recs[0][0] != "序号" || recs[1][1] != id || recs[1][14] != "'"+owner {
		t.Errorf("ledger.csv: %v %v", recs, err)
	}
}

var waiverRow = regexp.MustCompile(`data-waiver="(W[0-9a-f-]+)" data-status="requested"`)

// TestWaiverPages requests a waiver from a case page, refuses the requester's approval and
// lets another inspector approve it; the next scan sets the case aside.
func TestWaiverPages(t *testing.T) {
	t.Parallel()
	e, l := ledgerEnv(t)
	ctx := context.Background()
	m := openCase.FindStringSubmatch(e.get("office", "/ledger?department="+inside).body)
	if m == nil {
		t.Fatal("no open case")
	}
	path := "/cases/" + m[1]
	if !strings.Contains(e.get("office", path).body, `id="case-waiver"`) {
		t.Error("the case page of an open case has no waiver request form")
	}
	if r := e.post("office", path+"/waiver", url.Values{"reason": {"长期病假"}, "until": {"2020-01-01"}, "scope": {"policy"}}); r.status != 422 || !strings.Contains(r.body, "有效期有误") {
		t.Errorf("a waiver ending in the past: %d", r.status)
	}
	if r := e.post("office", path+"/waiver", url.Values{"reason": {"长期病假"}, "until": {"2026-06-30"}, "scope": {"policy"}}); r.status != 200 || !strings.Contains(r.body, "豁免申请已提交") {
		t.Fatalf("request: %d %.500s", r.status, r.body)
	}
	list := e.get("office", "/waivers")
	w := waiverRow.FindStringSubmatch(list.body)
	if w == nil {
		t.Fatalf("the request is not listed: %.1000s", list.body)
	}
	if strings.Contains(list.body, `value="approve"`) {
		t.Error("a department user is offered the approval")
	}
	if r := e.post("office", "/waivers/"+w[1], url.Values{"decision": {"approve"}}); r.status != 403 {
		t.Errorf("a department user approves: %d", r.status)
	}
	if r := e.post("inspector", "/waivers/"+w[1], url.Values{"decision": {"approve"}, "note": {"同意"}}); r.status != 303 {
		t.Fatalf("approve: %d %.500s", r.status, r.body)
	}
	got, err := l.Waiver(ctx, duty.System("test"), w[1])
	if err != nil || got.Status != duty.WaiverApproved || got.DecidedBy != "inspector" {
		t.Fatalf("after approval: %+v %v", got, err)
	}
	// The inspector's own request cannot be approved by the inspector.
	if r := e.post("inspector", path+"/waiver", url.Values{"reason": {"另案处理"}, "until": {"2026-06-30"}, "scope": {"check"}}); r.status != 200 {
		t.Fatalf("inspector's request: %d", r.status)
	}
	own := waiverRow.FindStringSubmatch(e.get("inspector", "/waivers?status=requested").body)
	if own == nil {
		t.Fatal("the inspector's request is not listed")
	}
	if r := e.post("inspector", "/waivers/"+own[1], url.Values{"decision": {"approve"}}); r.status != 403 || !strings.Contains(r.body, "不能审批本人提出的豁免申请") {
		t.Errorf("self-approval: %d", r.status)
	}
	if _, err := e.scans.Start(ctx, scan.Request{AsOf: "2025-12-31"}, true); err != nil {
		t.Fatal(err)
	}
	if s := caseState.FindStringSubmatch(e.get("office", path).body); s == nil || s[1] != duty.CaseWaived {
		t.Errorf("after a scan with the approved waiver the case is %v, want waived", s)
	}
	if strings.Contains(e.get("office", path).body, `id="case-waiver"`) {
		t.Error("a waived case offers another waiver request")
	}

	// The department's report shows the waived violations with the waiver, apart from the
	// violations, in Chinese; its JSON and CSV downloads hold them too.
	c, err := l.Case(ctx, duty.System("test"), m[1])
	if err != nil {
		t.Fatal(err)
	}
	dept := "/departments/" + c.Department
	page := e.get("office", dept)
	row := regexp.MustCompile(`<tr class="waived-row" data-key="[^"]*" data-waiver="([^"]+)" data-until="([^"]+)">`).FindAllStringSubmatch(page.body, -1)
	if len(row) == 0 || row[0][1] != w[1] || row[0][2] != "2026-06-30" {
		t.Fatalf("waived rows on the department page: %v", row)
	}
	for _, want := range []string{"已豁免的问题", "豁免有效期至", `id="summary-waived"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the department page lacks %s", want)
		}
	}
	if strings.Contains(page.body, `<tr class="violation" data-key="`+c.Policy+`|`+c.Violation.Subject.Collection+"/"+c.Violation.Subject.ID+`|`) {
		t.Error("the waived check is still among the violations of the page")
	}
	var rep duty.Report
	if err := json.Unmarshal([]byte(e.get("office", dept+"/report.json").body), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Waived) != len(row) || rep.Summary.Waived != len(row) || rep.Waived[0].Waiver.ID != w[1] || rep.Waived[0].Waiver.Until != "2026-06-30" {
		t.Errorf("report.json: %d waived, summary %d, want %d with waiver %s", len(rep.Waived), rep.Summary.Waived, len(row), w[1])
	}
	if rep.Summary.Warnings != len(rep.Warnings) {
		t.Errorf("report.json: summary.warnings %d, %d warnings", rep.Summary.Warnings, len(rep.Warnings))
	}
	filteredOut := e.get("office", dept+"/report.json?severity=nope")
	var none duty.Report
	if err := json.Unmarshal([]byte(filteredOut.body), &none); err != nil || len(none.Waived) != 0 || none.Summary.Waived != 0 {
		t.Errorf("a filter matching nothing keeps %d waived (summary %d)", len(none.Waived), none.Summary.Waived)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(e.get("office", dept+"/report.csv").body, duty.BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	waivedRows := 0
	for _, r := range rows[1:] {
		if r[16] == "waived" {
			waivedRows++
			if r[18] != w[1] || r[19] != "2026-06-30" {
				t.Errorf("a waived CSV row names waiver %q until %q", r[18], r[19])
			}
		}
	}
	if waivedRows != len(row) {
		t.Errorf("%d waived rows in the CSV, want %d", waivedRows, len(row))
	}
	wb, err := excelize.OpenReader(strings.NewReader(e.get("office", dept+"/report.xlsx").body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if xr, err := wb.GetRows("豁免"); err != nil || len(xr) != len(row)+1 || xr[1][15] != w[1] || xr[1][16] != "2026-06-30" {
		t.Errorf("the 豁免 sheet of report.xlsx: %v %v", xr, err)
	}
}

// TestOverviewStanding: the overview shows the organ's five lowest department standings with
// the formula, computed from the summaries stored at scan time, with the same scores as the
// standing page (computed from the report).
func TestOverviewStanding(t *testing.T) {
	t.Parallel()
	e, _ := ledgerEnv(t)
	row := regexp.MustCompile(`<tr data-department="([^"]+)" data-score="([^"]+)">`)
	scores := func(body string) map[string]string {
		out := map[string]string{}
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	full := e.get("inspector", "/standing?organ=ORG-1")
	all := scores(full.body)
	ov := e.get("inspector", "/")
	start := strings.Index(ov.body, `id="overview-standing-ORG-1"`)
	if start < 0 || !strings.Contains(ov.body, "得分 = 100") && !strings.Contains(ov.body, "100 −") {
		t.Fatalf("no standing table or formula on the overview")
	}
	section := ov.body[start : start+strings.Index(ov.body[start:], "</table>")]
	shown := row.FindAllStringSubmatch(section, -1)
	if len(shown) != 5 || len(all) <= 5 {
		t.Fatalf("%d departments shown of %d", len(shown), len(all))
	}
	var lowest []float64
	for _, s := range all {
		f, _ := strconv.ParseFloat(s, 64)
		lowest = append(lowest, f)
	}
	slices.Sort(lowest)
	for i, m := range shown {
		if all[m[1]] != m[2] {
			t.Errorf("%s: overview score %s, standing page %s", m[1], m[2], all[m[1]])
		}
		if f, _ := strconv.ParseFloat(m[2], 64); f != lowest[i] {
			t.Errorf("row %d: score %v, want the %d-th lowest %v", i, f, i+1, lowest[i])
		}
	}
}

// TestLedgerParamsPage changes the ledger's parameters on the parameter page of the duties
// (/policies/ledger): listed among the policies as settings, with labels and units, no module
// editor and no preview; a value outside its schema is refused naming it; an applied change is
// in force for the next page (the waiver maximum on a case page, the standing's formula).
func TestLedgerParamsPage(t *testing.T) {
	t.Parallel()
	e, _ := ledgerEnv(t)
	list := e.get("editor", "/policies")
	if !strings.Contains(list.body, `href="/policies/ledger"`) || !strings.Contains(list.body, "整改台账与部门考核") {
		t.Fatalf("the policy list does not offer the ledger's settings: %.300s", list.body)
	}
	page := e.get("editor", "/policies/ledger")
	for _, want := range []string{
		`name="p.weight_warning" type="number" inputmode="decimal" step="any" value="0.5"`, "每条预警扣分", `<span class="unit">分</span>`,
		`name="p.rectify_days_high" type="number" inputmode="numeric" value="15" min="1" max="3650"`, "高风险问题整改期限", `<span class="unit">天</span>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the ledger's parameter page lacks %s", want)
		}
	}
	for _, not := range []string{`id="module-form"`, `id="params-preview"`, "问题类型"} {
		if strings.Contains(page.body, not) {
			t.Errorf("the ledger's parameter page shows %s", not)
		}
	}
	base := regexp.MustCompile(`name="base" value="([^"]+)"`).FindStringSubmatch(page.body)
	if base == nil {
		t.Fatal("no base on the parameter form")
	}
	form := func(action string, kv ...string) url.Values {
		f := url.Values{"action": {action}, "base": {base[1]}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	if r := e.post("editor", "/policies/ledger/params", form("validate", "p.rectify_days_high", "0")); r.status != 422 || !strings.Contains(r.body, "ledger.rectify_days_high") {
		t.Errorf("a period of 0 days: %d", r.status)
	}
	if r := e.post("editor", "/policies/ledger/params", form("apply", "p.waiver_max_days", "30", "p.weight_warning", "0.25")); r.status != 303 {
		t.Fatalf("apply: %d %.500s", r.status, r.body)
	}
	if r := e.get("inspector", "/standing"); !strings.Contains(r.body, "0.25 × 预警数") {
		t.Errorf("the standing's formula after the change: %.300s", regexp.MustCompile(`得分 = [^<]*`).FindString(r.body))
	}
	m := openCase.FindStringSubmatch(e.get("office", "/ledger?department="+inside).body)
	if m == nil {
		t.Fatal("no open case")
	}
	if r := e.get("office", "/cases/"+m[1]); !strings.Contains(r.body, "最长 30 天") {
		t.Errorf("the case page's waiver form does not give the new maximum")
	}
}
