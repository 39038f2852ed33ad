package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// The rectification ledger's pages (issue 16): the ledger of a department's subtree or of the
// organ with its filters and exports (Excel workbook, CSV), and a case's page with its history,
// evidence and the actions its state allows.

func init() {
	for k, v := range ledgerMessages {
		messages[k] = v
	}
}

var ledgerMessages = map[string][2]string{
	"nav.ledger":         {"整改台账", "Ledger"},
	"ledger.title":       {"整改台账", "Rectification ledger"},
	"ledger.intro":       {"每项检查发现的问题立案跟踪，整改完成并经复查通过后销号。", "Every failing check is tracked as a case until a later scan finds it fixed."},
	"ledger.all":         {"全部", "all"},
	"ledger.filter":      {"筛选", "Filter"},
	"ledger.xlsx":        {"导出电子台账（Excel）", "Export workbook (Excel)"},
	"ledger.csv":         {"导出 CSV", "Export CSV"},
	"ledger.none":        {"没有符合条件的案件。", "No case matches."},
	"ledger.count":       {"共 %d 件", "%d cases"},
	"ledger.overdue":     {"逾期", "overdue"},
	"ledger.overdue.yes": {"已逾期", "overdue"},
	"ledger.overdue.no":  {"未逾期", "not overdue"},
	"ledger.open":        {"查看", "Open"},
	"ledger.params":      {"整改期限与考核参数", "Periods and weights"},
	"policies.settings":  {"设置", "Settings"},

	"summary.waived":      {"已豁免", "Waived"},
	"report.waived":       {"已豁免的问题", "Waived violations"},
	"report.waived.intro": {"经批准的豁免在有效期内搁置的问题，不计入上方的问题清单和统计；豁免期满或撤销后，之后的检查会重新列出。", "Violations an approved waiver sets aside until its end date; they are not counted above, and scans after the end date or a revocation list them again."},
	"col.waiver":          {"豁免编号", "Waiver"},
	"col.waiver.until":    {"豁免有效期至", "Waived until"},

	"case.title":         {"整改案件", "Case"},
	"case.id":            {"案件编号", "Case"},
	"case.organ":         {"单位", "Organ"},
	"case.department":    {"部门", "Department"},
	"case.accountable":   {"责任层级", "Accountable"},
	"case.policy":        {"检查规则", "Duty"},
	"case.reason":        {"问题类型", "Reason"},
	"case.subject":       {"对象", "Subject"},
	"case.message":       {"问题描述", "Finding"},
	"case.severity":      {"严重程度", "Severity"},
	"case.state":         {"状态", "State"},
	"case.opened":        {"发现日期", "Opened on"},
	"case.due":           {"整改期限", "Due on"},
	"case.owner":         {"责任人", "Owner"},
	"case.rectification": {"整改说明", "Rectification"},
	"case.evidence":      {"佐证材料", "Evidence"},
	"case.closed":        {"销号日期", "Closed on"},
	"case.closed.scan":   {"销号检查", "Closing scan"},
	"case.waiver":        {"豁免", "Waiver"},
	"case.history":       {"办理记录", "History"},
	"case.at":            {"时间", "When"},
	"case.actor":         {"办理人", "Who"},
	"case.action":        {"办理事项", "What"},
	"case.from":          {"原状态", "From"},
	"case.to":            {"新状态", "To"},
	"case.note":          {"说明", "Note"},
	"case.files":         {"已上传文件", "Uploaded files"},
	"case.nofiles":       {"尚未上传文件。", "No file yet."},
	"case.upload":        {"上传佐证文件", "Upload evidence"},
	"case.upload.help":   {"可上传 PDF、图片或 Office 文档，按文件内容识别类型，大小不超过 %d MiB。", "PDF, images or office documents, judged by content, at most %d MiB."},
	"case.upload.submit": {"上传", "Upload"},
	"case.owner.help":    {"负责整改的人员姓名。", "Who rectifies the case."},
	"case.records":       {"关联记录", "Linked records"},
	"case.records.help":  {"每行一条，格式为「集合/编号」，例如 talks/T-001。", "One per line, collection/id, e.g. talks/T-001."},
	"case.pick":          {"选用已上传文件", "Use uploaded files"},
	"case.noactions":     {"当前状态下没有可办理的事项。", "Nothing to do in this state."},
	"case.scan":          {"检查", "scan"},

	"case.state.open":             {"待整改", "open"},
	"case.state.in_progress":      {"整改中", "in progress"},
	"case.state.submitted":        {"已提交待复查", "submitted"},
	"case.state.closed":           {"已销号", "closed"},
	"case.state.resolved_by_data": {"数据已消除", "resolved by data"},
	"case.state.waived":           {"已豁免", "waived"},

	"case.do.open":           {"立案", "opened"},
	"case.do.start":          {"开始整改", "Start"},
	"case.do.submit":         {"提交整改", "Submit"},
	"case.do.note":           {"添加备注", "Add a note"},
	"case.do.recheck_failed": {"复查未通过", "re-check failed"},
	"case.do.close":          {"复查销号", "closed by re-check"},
	"case.do.resolve":        {"数据已消除", "resolved by data"},
	"case.do.reopen":         {"重新打开", "reopened"},
	"case.do.waive":          {"豁免搁置", "set aside by a waiver"},

	"case.err.state":     {"该案件当前状态为「%s」，不能「%s」（仅限「%s」状态）。", "The case is %s; %s is allowed only when %s."},
	"case.err.owner":     {"请填写责任人。", "Name the owner."},
	"case.err.note":      {"请填写说明。", "Write a note."},
	"case.err.evidence":  {"请至少关联一条记录或选用一个已上传文件。", "Link at least one record or uploaded file."},
	"case.err.records":   {"关联记录「%s」格式不对，应为「集合/编号」。", "Linked record %q: expected collection/id."},
	"case.err.invalid":   {"提交的内容有误：关联记录不存在或不在本部门范围内，或文件不属于本案件。", "Something linked does not exist, is outside your departments, or is not a file of this case."},
	"case.err.big":       {"文件超过大小上限（%d MiB），未保存。", "The file is over the limit (%d MiB); nothing was saved."},
	"case.err.type":      {"文件内容不是允许的类型（PDF、图片、Office 文档），与文件名无关，未保存。", "The file's content is not an allowed type (PDF, image, office document), whatever its name; nothing was saved."},
	"case.err.empty":     {"请选择要上传的文件。", "Choose a file to upload."},
	"case.err.changed":   {"该案件刚被他人修改，请刷新后重试。", "The case was changed meanwhile; reload and try again."},
	"case.done.uploaded": {"文件已上传。", "The file was uploaded."},

	"standing.title":        {"部门考核", "Department standing"},
	"overview.standing":     {"部门考核（得分最低的五个部门）", "Department standing (the five lowest scores)"},
	"overview.standing.all": {"全部排名", "Full ranking"},
	"standing.intro":        {"按合规得分对各部门排名：依据最近一次检查的未整改问题（按严重程度）、逾期未整改案件和预警。", "Departments ranked by a compliance score from the latest report's open violations by severity, overdue cases and warnings."},
	"standing.organ":        {"单位", "Organ"},
	"standing.formula":      {"计分公式", "Formula"},
	"standing.rank":         {"名次", "Rank"},
	"standing.high":         {"高风险问题", "High"},
	"standing.medium":       {"中风险问题", "Medium"},
	"standing.low":          {"低风险问题", "Low"},
	"standing.overdue":      {"逾期案件", "Overdue cases"},
	"standing.warnings":     {"预警", "Warnings"},
	"standing.score":        {"得分", "Score"},
	"standing.asof":         {"依据 %s 的检查结果。", "From the report as of %s."},
	"standing.noscan":       {"尚无检查结果，问题数按零计。", "No report yet: violations count as none."},
	"standing.csv":          {"导出 CSV", "Export CSV"},
	"standing.link":         {"部门考核", "Department standing"},

	"waiver.title":            {"豁免", "Waivers"},
	"waiver.intro":            {"豁免须由申请人以外的检查人员或管理员批准，在有效期内的检查中该问题不计入问题清单。", "A waiver applies once another inspector or admin approves it, to scans up to its end date."},
	"waiver.link":             {"豁免审批", "Waivers"},
	"waiver.request":          {"申请豁免", "Request a waiver"},
	"waiver.reason":           {"豁免理由", "Reason"},
	"waiver.until":            {"有效期至", "Until"},
	"waiver.until.help":       {"格式为年-月-日，最长 %d 天。", "YYYY-MM-DD, at most %d days from today."},
	"waiver.scope":            {"豁免范围", "Scope"},
	"waiver.scope.check":      {"仅本项检查", "this check only"},
	"waiver.scope.policy":     {"该对象在本规则下的全部问题", "every check of this duty for this subject"},
	"waiver.policy":           {"检查规则", "Duty"},
	"waiver.subject":          {"对象", "Subject"},
	"waiver.requested":        {"申请人", "Requested by"},
	"waiver.decided":          {"审批人", "Decided by"},
	"waiver.status":           {"状态", "Status"},
	"waiver.approve":          {"批准", "Approve"},
	"waiver.reject":           {"驳回", "Reject"},
	"waiver.revoke":           {"撤销", "Revoke"},
	"waiver.note":             {"审批意见", "Note"},
	"waiver.none":             {"没有豁免。", "No waiver."},
	"waiver.status.requested": {"待审批", "requested"},
	"waiver.status.approved":  {"已批准", "approved"},
	"waiver.status.rejected":  {"已驳回", "rejected"},
	"waiver.status.revoked":   {"已撤销", "revoked"},
	"waiver.err.reason":       {"请填写豁免理由。", "Give a reason."},
	"waiver.err.until":        {"有效期有误：应为今天或以后的日期，且不超过 %d 天。", "The end date must be today or later, and at most %d days away."},
	"waiver.err.forbidden":    {"不能审批本人提出的豁免申请，须由其他检查人员或管理员审批。", "You cannot decide on your own request; another inspector or admin must."},
	"waiver.err.state":        {"该豁免已不在可办理的状态，未作更改。", "The waiver is no longer in a state that allows this; nothing changed."},
	"waiver.done.requested":   {"豁免申请已提交，待审批。", "The waiver was requested and awaits a decision."},
}

// ledgerColumns are the columns of the exported ledger, Chinese titles first.
var ledgerColumns = [][2]string{
	{"序号", "No."}, {"案件编号", "Case"}, {"单位", "Organ"}, {"部门", "Department"}, {"责任层级", "Accountable"},
	{"检查规则", "Duty"}, {"问题类型", "Reason"}, {"对象", "Subject"}, {"问题描述", "Finding"}, {"严重程度", "Severity"},
	{"状态", "State"}, {"发现日期", "Opened on"}, {"整改期限", "Due on"}, {"是否逾期", "Overdue"}, {"责任人", "Owner"},
	{"整改说明", "Rectification"}, {"销号日期", "Closed on"},
}

// dateColumns are the columns of ledgerColumns that hold dates.
var dateColumns = map[int]bool{11: true, 12: true, 16: true}

// caseFilter reads the ledger's filters from a query.
func caseFilter(q url.Values) (duty.CaseFilter, error) {
	f := duty.CaseFilter{State: q.Get("state"), Severity: q.Get("severity"), Policy: q.Get("policy"), Department: q.Get("department")}
	if o := q.Get("overdue"); o != "" {
		b, err := strconv.ParseBool(o)
		if err != nil {
			return f, fmt.Errorf("overdue %q: %w: expected true or false", o, duty.ErrInvalid)
		}
		f.Overdue = &b
	}
	return f, nil
}

type ledgerView struct {
	Cases       []caseRow
	Departments []option
	States      []option
	Severities  []option
	Policies    []option
	Overdue     []option
	Query       string
	Counts      []stateCount
}

type stateCount struct {
	State string
	N     int
}

type caseRow struct {
	C       duty.Case
	Dept    string
	Subject string
}

// filteredCases reads the ledger page's filter (a department user's defaults to its scope) and
// the cases it selects, for the page and its downloads.
func (h *handler) filteredCases(rq *request) (duty.CaseFilter, []duty.Case, *orgTree, error) {
	f, err := caseFilter(rq.r.URL.Query())
	if err != nil {
		return f, nil, nil, err
	}
	if f.Department == "" && rq.p.Scope() != "" {
		f.Department = rq.p.Scope()
	}
	cases, err := h.Ledger.Cases(rq.ctx, rq.p, f)
	if err != nil {
		return f, nil, nil, err
	}
	tree, err := h.tree(rq.ctx)
	return f, cases, tree, err
}

func (h *handler) ledgerPage(rq *request) error {
	f, cases, tree, err := h.filteredCases(rq)
	if err != nil {
		return err
	}
	n := h.newNamer(rq.ctx, tree)
	v := &ledgerView{Query: rq.r.URL.RawQuery}
	counts := map[string]int{}
	for _, c := range cases {
		v.Cases = append(v.Cases, caseRow{C: c, Dept: n.dept(c.Department), Subject: n.ref(rq.lang, c.Violation.Subject)})
		counts[c.State]++
	}
	for _, s := range duty.CaseStates {
		v.Counts = append(v.Counts, stateCount{s, counts[s]})
	}
	v.Departments = h.departmentOptions(rq, tree, f.Department)
	if rq.p.Scope() == "" {
		v.Departments[0].Label = text(rq.lang, "ledger.all")
	}
	all := option{Value: "", Label: text(rq.lang, "ledger.all")}
	v.States = []option{all}
	for _, s := range duty.CaseStates {
		v.States = append(v.States, option{Value: s, Label: text(rq.lang, "case.state."+s), Selected: s == f.State})
	}
	v.Severities = []option{all}
	for _, s := range duty.Severities {
		v.Severities = append(v.Severities, option{Value: s, Label: duty.Names.EnumText("severity", s, rq.lang), Selected: s == f.Severity})
	}
	v.Policies = []option{all}
	if e := h.Policies.Catalogue(); e != nil {
		for _, m := range e.Policies() {
			v.Policies = append(v.Policies, option{Value: m.ID, Label: e.PolicyTitle(m.ID, rq.lang), Selected: m.ID == f.Policy})
		}
	}
	ov := ""
	if f.Overdue != nil {
		ov = strconv.FormatBool(*f.Overdue)
	}
	v.Overdue = []option{all, {Value: "true", Label: text(rq.lang, "ledger.overdue.yes"), Selected: ov == "true"},
		{Value: "false", Label: text(rq.lang, "ledger.overdue.no"), Selected: ov == "false"}}
	return h.render(rq, http.StatusOK, "ledger", text(rq.lang, "ledger.title"), v)
}

// ledgerDownload exports the filtered ledger as an Excel workbook or CSV.
func (h *handler) ledgerDownload(format string) pageFunc {
	return func(rq *request) error {
		_, cases, tree, err := h.filteredCases(rq)
		if err != nil {
			return err
		}
		rows := h.ledgerRows(rq, tree, cases)
		name := "ledger-" + time.Now().Format("20060102")
		switch format {
		case "csv":
			header := make([]string, len(ledgerColumns))
			for i, c := range ledgerColumns {
				header[i] = c[0]
			}
			rq.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			rq.w.Header().Set("Content-Disposition", sheet.Disposition(name+".csv"))
			return duty.WriteCSVRows(rq.w, header, rows)
		default:
			rq.w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			rq.w.Header().Set("Content-Disposition", sheet.Disposition(name+".xlsx"))
			return writeLedgerXLSX(rq.w, rows)
		}
	}
}

// ledgerRows are the cells of the exported ledger, in Chinese (the ledger is a Chinese
// document, whatever the page's language), one row per case, in ledgerColumns order.
func (h *handler) ledgerRows(rq *request, tree *orgTree, cases []duty.Case) [][]string {
	n := h.newNamer(rq.ctx, tree)
	p := &Page{Lang: langZH, h: h}
	rows := make([][]string, 0, len(cases))
	for i, c := range cases {
		overdue := "否"
		if c.Overdue {
			overdue = "是"
		}
		closed := ""
		if c.ClosedBy != nil {
			closed = c.ClosedBy.AsOf
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), c.ID, n.dept(c.Organ), n.dept(c.Department), p.Level(c.Accountable),
			p.PolicyTitle(c.Policy), p.Reason(c.Policy, c.Violation.Reason), n.ref(langZH, c.Violation.Subject), c.Violation.Message.ZH,
			p.Sev(c.Severity), text(langZH, "case.state."+c.State), c.OpenedOn, c.DueOn, overdue, c.Owner, c.Rectification, closed})
	}
	return rows
}

// writeLedgerXLSX writes the ledger as a workbook (电子台账): one sheet, Chinese column titles,
// dates as dates, every text cell through duty.SafeCell.
func writeLedgerXLSX(w interface{ Write([]byte) (int, error) }, rows [][]string) error {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "整改台账"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd"
	dateStyle, err := x.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	head, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, c := range ledgerColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := x.SetCellStr(sheet, cell, c[0]); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(ledgerColumns), 1)
	if err := x.SetCellStyle(sheet, "A1", last, head); err != nil {
		return err
	}
	for r, row := range rows {
		for i, v := range row {
			cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
			switch {
			case i == 0:
				n, _ := strconv.Atoi(v)
				err = x.SetCellInt(sheet, cell, int64(n))
			case dateColumns[i] && v != "":
				var t time.Time
				if t, err = time.Parse(time.DateOnly, v); err == nil {
					if err = x.SetCellValue(sheet, cell, t); err == nil {
						err = x.SetCellStyle(sheet, cell, cell, dateStyle)
					}
				}
			default:
				err = x.SetCellStr(sheet, cell, duty.SafeCell(v))
			}
			if err != nil {
				return err
			}
		}
	}
	_ = x.SetColWidth(sheet, "A", "A", 6)
	_ = x.SetColWidth(sheet, "B", "H", 16)
	_ = x.SetColWidth(sheet, "I", "I", 48)
	_ = x.SetColWidth(sheet, "J", "Q", 14)
	return x.Write(w)
}

type caseView struct {
	C        duty.Case
	Dept     string
	Organ    string
	Subject  string
	Evidence []evidence
	Files    []duty.EvidenceFile
	Actions  []string
	Error    string
	Done     string
	MaxMiB   int64
	// MaxWaiverDays is the longest a waiver may run.
	MaxWaiverDays int
}

func (h *handler) casePage(rq *request) error {
	return h.showCase(rq, http.StatusOK, "", "")
}

func (h *handler) showCase(rq *request, status int, problem, done string) error {
	id := rq.r.PathValue("id")
	c, err := h.Ledger.Case(rq.ctx, rq.p, id)
	if err != nil {
		return err
	}
	files, err := h.Ledger.EvidenceFiles(rq.ctx, rq.p, id)
	if err != nil {
		return err
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	n := h.newNamer(rq.ctx, tree)
	v := &caseView{C: *c, Dept: n.dept(c.Department), Organ: n.dept(c.Organ), Subject: n.ref(rq.lang, c.Violation.Subject),
		Files: files, Error: problem, Done: done, MaxMiB: h.Ledger.MaxFileBytes() >> 20,
		MaxWaiverDays: h.Ledger.Params().MaxWaiverDays}
	for _, r := range c.Evidence {
		v.Evidence = append(v.Evidence, evidence{Ref: r, Label: n.ref(rq.lang, r)})
	}
	if rq.p.Can(duty.WriteRecords) {
		v.Actions = duty.CaseActions(c.State)
	}
	rq.self = "/cases/" + id
	return h.render(rq, status, "case", text(rq.lang, "case.title")+" "+c.ID, v)
}

// caseAction applies the action form of a case page; a refusal shows the page again with the
// reason in the page's language, nothing changed.
func (h *handler) caseAction(rq *request) error {
	id := rq.r.PathValue("id")
	form := rq.r.PostForm
	t := duty.CaseTransition{Action: form.Get("action"), Owner: strings.TrimSpace(form.Get("owner")), Note: strings.TrimSpace(form.Get("note")), Files: form["file"]}
	problem := ""
	switch {
	case t.Action == "start" && t.Owner == "":
		problem = text(rq.lang, "case.err.owner")
	case (t.Action == "submit" || t.Action == "note") && t.Note == "":
		problem = text(rq.lang, "case.err.note")
	}
	for _, line := range strings.Split(form.Get("records"), "\n") {
		if line = strings.TrimSpace(line); line == "" || problem != "" {
			continue
		}
		coll, rid, ok := strings.Cut(line, "/")
		if !ok || coll == "" || rid == "" {
			problem = text(rq.lang, "case.err.records", line)
			continue
		}
		t.Evidence = append(t.Evidence, duty.Ref{Collection: coll, ID: rid})
	}
	if problem == "" && t.Action == "submit" && len(t.Evidence)+len(t.Files) == 0 {
		problem = text(rq.lang, "case.err.evidence")
	}
	if problem != "" {
		return h.showCase(rq, http.StatusUnprocessableEntity, problem, "")
	}
	c, err := h.Ledger.Act(rq.ctx, rq.p, id, t)
	switch {
	case errors.Is(err, duty.ErrConflict) && c == nil:
		cur, gerr := h.Ledger.Case(rq.ctx, rq.p, id)
		if gerr != nil {
			return gerr
		}
		var allowed []string
		for _, s := range duty.CaseAllowedFrom(t.Action) {
			allowed = append(allowed, text(rq.lang, "case.state."+s))
		}
		msg := text(rq.lang, "case.err.changed")
		if !slices.Contains(duty.CaseAllowedFrom(t.Action), cur.State) {
			msg = text(rq.lang, "case.err.state", text(rq.lang, "case.state."+cur.State), text(rq.lang, "case.do."+t.Action), strings.Join(allowed, "、"))
		}
		return h.showCase(rq, http.StatusConflict, msg, "")
	case errors.Is(err, duty.ErrInvalid):
		return h.showCase(rq, http.StatusUnprocessableEntity, text(rq.lang, "case.err.invalid"), "")
	case err != nil:
		return err
	}
	return rq.redirect("/cases/" + url.PathEscape(id))
}

// caseUpload stores an uploaded evidence file of a case page.
func (h *handler) caseUpload(rq *request) error {
	id := rq.r.PathValue("id")
	limit := h.Ledger.MaxFileBytes()
	f, fh, err := rq.r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return h.showCase(rq, http.StatusRequestEntityTooLarge, text(rq.lang, "case.err.big", limit>>20), "")
		}
		return h.showCase(rq, http.StatusUnprocessableEntity, text(rq.lang, "case.err.empty"), "")
	}
	defer f.Close()
	content := make([]byte, 0, min(fh.Size, limit+1))
	buf := make([]byte, 32<<10)
	for int64(len(content)) <= limit {
		k, rerr := f.Read(buf)
		content = append(content, buf[:k]...)
		if rerr != nil {
			break
		}
	}
	_, err = h.Ledger.UploadEvidence(rq.ctx, rq.p, id, fh.Filename, content)
	switch {
	case errors.Is(err, duty.ErrTooLarge):
		return h.showCase(rq, http.StatusRequestEntityTooLarge, text(rq.lang, "case.err.big", limit>>20), "")
	case errors.Is(err, duty.ErrInvalid) && len(content) == 0:
		return h.showCase(rq, http.StatusUnprocessableEntity, text(rq.lang, "case.err.empty"), "")
	case errors.Is(err, duty.ErrInvalid):
		return h.showCase(rq, http.StatusUnprocessableEntity, text(rq.lang, "case.err.type"), "")
	case err != nil:
		return err
	}
	return h.showCase(rq, http.StatusOK, "", text(rq.lang, "case.done.uploaded"))
}

// caseFile sends an uploaded file of a case the user may see, as a download.
func (h *handler) caseFile(rq *request) error {
	f, err := h.Ledger.EvidenceFile(rq.ctx, rq.p, rq.r.PathValue("file"))
	if err != nil || f.Case != rq.r.PathValue("id") {
		return errOr(err, errNotFound)
	}
	rq.w.Header().Set("Content-Type", "application/octet-stream")
	rq.w.Header().Set("Content-Disposition", sheet.Disposition(f.Name))
	return h.Store.EvidenceContent(rq.ctx, f.ID, rq.w)
}

// CaseState labels a case state.
func (p *Page) CaseState(s string) string { return text(p.Lang, "case.state."+s) }

// CaseAction labels a case action.
func (p *Page) CaseAction(a string) string { return text(p.Lang, "case.do."+a) }

// Ledger reports whether the ledger's pages are served to this user.
func (p *Page) Ledger() bool {
	return p.h != nil && p.h.Ledger != nil && p.Can(string(duty.ReadReports))
}

type standingView struct {
	Organ    string
	Organs   []option
	Rows     []standingRow
	Formula  string
	AsOf     string
	Reported bool
}

type standingRow struct {
	duty.Standing
	Name string
}

// standing gathers the department standing of an organ (?organ=, else the user's or the first
// organ) from its latest report and the ledger.
func (h *handler) standing(rq *request) (*standingView, error) {
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return nil, err
	}
	organ := rq.r.URL.Query().Get("organ")
	organs := duty.ReachOf(rq.p, tree.Tree).Organs()
	if organ == "" && len(organs) > 0 {
		organ = organs[0]
	}
	if !slices.Contains(organs, organ) {
		return nil, fmt.Errorf("organ %q: %w", organ, duty.ErrNotFound)
	}
	scope := organ
	if rq.p.Scope() != "" {
		scope = rq.p.Scope()
	}
	v := &standingView{Organ: organ, Formula: h.Ledger.Formula(rq.lang)}
	rep, err := h.scans.Latest(rq.ctx, rq.p, scope)
	switch {
	case errors.Is(err, duty.ErrNotFound):
		rep = nil
	case err != nil:
		return nil, err
	default:
		v.AsOf, v.Reported = rep.AsOf, true
	}
	rows, err := h.Ledger.Standings(rq.ctx, rq.p, organ, duty.FindingsOf(rep))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		v.Rows = append(v.Rows, standingRow{Standing: r, Name: tree.Department(r.Department).Str("name")})
	}
	for _, o := range organs {
		v.Organs = append(v.Organs, option{Value: o, Label: tree.Department(o).Str("name"), Selected: o == organ})
	}
	return v, nil
}

func (h *handler) standingPage(rq *request) error {
	v, err := h.standing(rq)
	if err != nil {
		return err
	}
	return h.render(rq, http.StatusOK, "standing", text(rq.lang, "standing.title"), v)
}

// standingCSV exports the standing table, through the one CSV writer.
func (h *handler) standingCSV(rq *request) error {
	v, err := h.standing(rq)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(v.Rows)+1)
	for _, r := range v.Rows {
		rows = append(rows, []string{strconv.Itoa(r.Rank), r.Name, strconv.Itoa(r.High), strconv.Itoa(r.Medium), strconv.Itoa(r.Low),
			strconv.Itoa(r.Overdue), strconv.Itoa(r.Warnings), strconv.FormatFloat(r.Score, 'f', 1, 64)})
	}
	rows = append(rows, []string{"", h.Ledger.Formula(langZH), "", "", "", "", "", ""})
	rq.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rq.w.Header().Set("Content-Disposition", sheet.Disposition("standing-"+v.Organ+".csv"))
	return duty.WriteCSVRows(rq.w, []string{"名次", "部门", "高风险问题", "中风险问题", "低风险问题", "逾期案件", "预警", "得分"}, rows)
}

type waiversView struct {
	Waivers []waiverRow
	Status  []option
	Error   string
	Done    string
}

type waiverRow struct {
	W         duty.Waiver
	Dept      string
	Subject   string
	CanDecide bool
	CanRevoke bool
}

// waiversPage lists the waivers the user may see (?status=, default requested first), with
// the decisions the user may take.
func (h *handler) waiversPage(rq *request) error {
	return h.showWaivers(rq, http.StatusOK, "", "")
}

func (h *handler) showWaivers(rq *request, status int, problem, done string) error {
	st := rq.r.URL.Query().Get("status")
	ws, err := h.Ledger.Waivers(rq.ctx, rq.p, duty.WaiverFilter{Status: st})
	if err != nil {
		return err
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	n := h.newNamer(rq.ctx, tree)
	v := &waiversView{Error: problem, Done: done}
	decide := rq.p.Can(duty.DecideWaivers)
	for _, w := range ws {
		live := w.Status == duty.WaiverRequested || w.Status == duty.WaiverApproved
		v.Waivers = append(v.Waivers, waiverRow{W: w, Dept: n.dept(w.Department), Subject: n.ref(rq.lang, w.Subject),
			CanDecide: decide && w.Status == duty.WaiverRequested && w.RequestedBy != rq.p.User,
			CanRevoke: live && (decide || w.RequestedBy == rq.p.User)})
	}
	v.Status = []option{{Value: "", Label: text(rq.lang, "ledger.all")}}
	for _, s := range []string{duty.WaiverRequested, duty.WaiverApproved, duty.WaiverRejected, duty.WaiverRevoked} {
		v.Status = append(v.Status, option{Value: s, Label: text(rq.lang, "waiver.status."+s), Selected: s == st})
	}
	rq.self = "/waivers"
	return h.render(rq, status, "waivers", text(rq.lang, "waiver.title"), v)
}

// waiverRequest asks for a waiver of a case's check from the case page.
func (h *handler) waiverRequest(rq *request) error {
	c, err := h.Ledger.Case(rq.ctx, rq.p, rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	reason, until := strings.TrimSpace(rq.r.PostForm.Get("reason")), strings.TrimSpace(rq.r.PostForm.Get("until"))
	var details map[string]any
	if rq.r.PostForm.Get("scope") == "check" && len(c.Violation.Details) > 0 {
		details = c.Violation.Details
	}
	subject := c.Violation.Subject
	_, err = h.Ledger.RequestWaiver(rq.ctx, rq.p, duty.WaiverRequest{Policy: c.Policy, Subject: &subject, Details: details, Reason: reason, Until: until})
	switch {
	case errors.Is(err, duty.ErrInvalid) && reason == "":
		return h.showCase(rq, http.StatusUnprocessableEntity, text(rq.lang, "waiver.err.reason"), "")
	case errors.Is(err, duty.ErrInvalid):
		return h.showCase(rq, http.StatusUnprocessableEntity, text(rq.lang, "waiver.err.until", h.Ledger.Params().MaxWaiverDays), "")
	case err != nil:
		return err
	}
	return h.showCase(rq, http.StatusOK, "", text(rq.lang, "waiver.done.requested"))
}

// waiverDecision approves, rejects or revokes a waiver from the waivers page.
func (h *handler) waiverDecision(rq *request) error {
	id := rq.r.PathValue("id")
	var err error
	switch d := rq.r.PostForm.Get("decision"); d {
	case "approve", "reject":
		_, err = h.Ledger.DecideWaiver(rq.ctx, rq.p, id, duty.WaiverDecision(d), rq.r.PostForm.Get("note"))
	case "revoke":
		_, err = h.Ledger.RevokeWaiver(rq.ctx, rq.p, id)
	default:
		return fmt.Errorf("decision %q: %w", d, duty.ErrInvalid)
	}
	switch {
	case errors.Is(err, duty.ErrForbidden):
		return h.showWaivers(rq, http.StatusForbidden, text(rq.lang, "waiver.err.forbidden"), "")
	case errors.Is(err, duty.ErrConflict):
		return h.showWaivers(rq, http.StatusConflict, text(rq.lang, "waiver.err.state"), "")
	case err != nil:
		return err
	}
	return rq.redirect("/waivers")
}

// WaiverStatus labels a waiver status.
func (p *Page) WaiverStatus(s string) string { return text(p.Lang, "waiver.status."+s) }
