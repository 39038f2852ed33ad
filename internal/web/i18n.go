package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The languages of the pages: Chinese first (the staff's language), English on request.
const (
	langZH = "zh"
	langEN = "en"
	// langCookie remembers the choice made with ?lang= across pages.
	langCookie = "dutycheck_lang"
)

// language picks the page language: ?lang= (remembered in a cookie), else the cookie, else
// Chinese. Anything but "en" is Chinese.
func language(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q != "" {
		lang := langZH
		if q == langEN {
			lang = langEN
		}
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return lang
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langZH
}

// messages holds every text of the pages: key → {Chinese, English}. Values may be fmt formats.
var messages = map[string][2]string{
	"app":             {"履责检查", "Duty check"},
	"app.sub":         {"主体责任落实情况检查系统", "Main-responsibility compliance checker"},
	"skip":            {"跳到正文", "Skip to content"},
	"nav.overview":    {"总览", "Overview"},
	"nav.scans":       {"检查", "Scans"},
	"nav.policies":    {"规则", "Policies"},
	"nav.revisions":   {"规则版本", "Revisions"},
	"signout":         {"退出", "Sign out"},
	"signed.as":       {"当前用户", "Signed in as"},
	"lang.switch":     {"English", "中文"},
	"lang.switch.tip": {"Switch to English", "切换到中文"},

	"role.admin":         {"管理员", "administrator"},
	"role.policy_editor": {"规则维护", "policy editor"},
	"role.inspector":     {"检查人员", "inspector"},
	"role.department":    {"部门用户", "department user"},

	"login.title":   {"登录", "Sign in"},
	"login.intro":   {"请粘贴管理员发放的访问令牌。令牌只用于本次登录，不会保存在浏览器中。", "Paste the access token your administrator gave you. It is used for this sign-in only and is not kept in the browser."},
	"login.token":   {"访问令牌", "Access token"},
	"login.submit":  {"登录", "Sign in"},
	"login.bad":     {"令牌无效或已吊销，请核对后重试。", "The token is unknown or revoked. Check it and try again."},
	"login.limited": {"登录失败次数过多，请一分钟后再试。", "Too many failed sign-ins from this address; wait a minute."},
	"login.csrf":    {"登录表单已过期，请重新提交。", "The sign-in form expired; please submit it again."},

	"overview.title":      {"总览", "Overview"},
	"overview.intro":      {"各机关、部门当前未整改的问题（按基准日最新的一次检查），以及历次检查的问题数量走势。", "Open violations of each organ and department (from the scan with the latest as-of date), and the trend over the stored scans."},
	"overview.noscan":     {"尚未检查：该机关的记录还没有经过任何检查，下面没有问题数量，这不代表没有问题。", "Nothing has been checked yet: no scan has covered this organ's records, so there are no counts below, which does not mean there are no violations."},
	"overview.unchecked":  {"未检查", "not checked"},
	"overview.scan.now":   {"立即检查", "Scan now"},
	"overview.trend":      {"问题数量走势", "Violations over the stored scans"},
	"overview.trend.none": {"至少需要一次检查才能显示走势。", "The trend appears after the first scan."},
	"overview.tree":       {"机关与部门", "Organ and departments"},
	"overview.changes":    {"与上次检查相比", "Compared with the previous scan"},
	"overview.expand":     {"下级部门", "sub-departments"},
	"last.scan":           {"最近检查", "Latest scan"},
	"as.of":               {"检查基准日", "As of"},
	"generated":           {"生成时间", "Generated"},
	"revision":            {"规则版本", "Policy revision"},
	"open.violations":     {"未整改问题", "Open violations"},
	"department":          {"部门", "Department"},
	"kind":                {"类型", "Kind"},
	"total":               {"合计", "Total"},
	"none":                {"无", "none"},

	"severity": {"严重程度", "Severity"},

	"report.title":         {"检查报告", "Compliance report"},
	"report.scope":         {"范围：%s 及其下级部门", "Scope: %s and the departments under it"},
	"report.filters":       {"筛选", "Filter"},
	"report.duty":          {"职责", "Duty"},
	"report.reason":        {"原因", "Reason"},
	"report.all":           {"全部", "All"},
	"report.apply":         {"筛选", "Apply"},
	"report.reset":         {"清除筛选", "Clear"},
	"report.download":      {"下载", "Download"},
	"report.csv":           {"CSV（当前所示）", "CSV (as shown)"},
	"report.json":          {"JSON（当前所示）", "JSON (as shown)"},
	"report.print":         {"打印为 A4 文档：使用浏览器的“打印”。", "Print as an A4 document with the browser's Print command."},
	"report.shown":         {"显示 %d 项，共 %d 项", "Showing %d of %d"},
	"report.none":          {"没有符合条件的问题。", "No violation matches."},
	"report.clean":         {"该范围内没有未整改的问题。", "No open violation in this scope."},
	"report.noscan":        {"尚未检查：还没有任何检查覆盖该部门，这里没有结果，这不代表没有问题。", "Nothing has been checked yet: no scan covers this department, so there are no results here, which does not mean there are no violations."},
	"report.resolved":      {"自上次检查以来已整改", "Resolved since the previous scan"},
	"report.resolved.none": {"与上次检查相比，没有新整改的问题。", "Nothing was resolved since the previous scan."},
	"report.new":           {"新增", "new"},
	"report.persisting":    {"持续", "persisting"},
	"report.since":         {"自 %s", "since %s"},
	"report.count":         {"%d 项", "%d"},
	"report.subtree":       {"下级部门", "Departments under it"},
	"report.status":        {"状态", "Status"},
	"col.department":       {"部门", "Department"},
	"col.message":          {"问题说明", "Finding"},
	"col.reason":           {"原因", "Reason"},
	"col.subject":          {"责任对象", "Subject"},
	"col.evidence":         {"相关记录", "Evidence"},
	"col.accountable":      {"责任层级", "Accountable"},
	"col.since":            {"起始", "Since"},
	"col.duty":             {"职责", "Duty"},
	"summary.total":        {"问题总数", "Violations"},
	"summary.new":          {"新增", "New"},
	"summary.persisting":   {"持续", "Persisting"},
	"summary.resolved":     {"已整改", "Resolved"},

	"scan.title":       {"开展检查", "Run a scan"},
	"scan.intro":       {"按检查基准日评估所选部门（含下级部门）或整个机关的履责记录。", "Evaluate the records of a department (with the departments under it) or of the whole organ as of a date."},
	"scan.department":  {"检查范围", "Scope"},
	"scan.whole":       {"全部机关", "All organs"},
	"scan.asof":        {"检查基准日", "As of"},
	"scan.asof.help":   {"格式 YYYY-MM-DD，可选 1900-01-01 至 2199-12-31；晚于该日的记录不计入。", "YYYY-MM-DD, from 1900-01-01 to 2199-12-31; records dated after it are ignored."},
	"scan.start":       {"开始检查", "Start scan"},
	"scan.recent":      {"最近的检查", "Recent scans"},
	"scan.none":        {"还没有检查记录。", "No scans yet."},
	"scan.started":     {"开始时间", "Started"},
	"scan.status":      {"状态", "Status"},
	"scan.running":     {"进行中", "running"},
	"scan.done":        {"已完成", "done"},
	"scan.failed":      {"失败", "failed"},
	"scan.progress":    {"已评估 %v / %v 个机关", "%v of %v organs evaluated"},
	"scan.wait":        {"检查进行中，本页会自动刷新。", "The scan is running; this page refreshes by itself."},
	"scan.error":       {"检查失败：%s", "The scan failed: %s"},
	"scan.empty":       {"库中还没有任何部门，检查无从开展：请先导入记录（「表格」页面或 dutycheck import）。", "The store holds no department yet, so a scan would check nothing: import the records first (the Spreadsheets page or dutycheck import)."},
	"scan.bad.date":    {"检查基准日须为 1900-01-01 至 2199-12-31 之间的有效日期（YYYY-MM-DD）。", "The as-of date must be a real date YYYY-MM-DD from 1900-01-01 to 2199-12-31."},
	"scan.heading":     {"检查 %s", "Scan %s"},
	"scan.id":          {"检查编号", "Scan"},
	"scan.report":      {"检查结果", "Result"},
	"scan.open":        {"查看", "Open"},
	"scan.violations":  {"问题", "Violations"},
	"scan.dept.report": {"查看该部门的最新报告", "The department's latest report"},

	"record.title":       {"记录", "Record"},
	"record.fields":      {"字段", "Fields"},
	"record.field":       {"字段", "Field"},
	"record.value":       {"内容", "Value"},
	"record.violations":  {"涉及该记录的问题（最近一次检查）", "Violations naming this record (latest scan)"},
	"record.none":        {"最近一次检查中没有涉及该记录的问题。", "No violation of the latest scan names this record."},
	"record.as.subject":  {"责任对象", "subject"},
	"record.as.evidence": {"相关记录", "evidence"},
	"record.role":        {"关系", "Named as"},

	"policies.title":       {"检查规则", "Policies"},
	"policies.intro":       {"每项职责是一条规则；参数可在此调整，调整前可预览影响。", "Each duty is a policy; its parameters can be changed here, with the impact previewed first."},
	"policies.inforce":     {"现行版本", "In force"},
	"policies.dirmode":     {"规则来自服务器上的目录（serve --policies），只能在该目录中修改。", "The policies follow a folder on the server (serve --policies); change the files there."},
	"policies.id":          {"编号", "Id"},
	"policies.name":        {"名称", "Title"},
	"policies.params":      {"参数", "Parameters"},
	"policies.history":     {"版本记录", "Revision history"},
	"policy.description":   {"说明", "Description"},
	"policy.seed":          {"依据", "Source"},
	"policy.reasons":       {"原因代码", "Reasons"},
	"policy.accountable":   {"责任层级", "Accountable"},
	"policy.params":        {"参数", "Parameters"},
	"policy.param":         {"参数", "Parameter"},
	"policy.value":         {"当前值", "Value"},
	"policy.meaning":       {"含义", "Meaning"},
	"policy.edit.params":   {"调整参数", "Change parameters"},
	"policy.edit.module":   {"编辑规则代码", "Edit the module"},
	"policy.module":        {"规则代码（Rego）", "Module (Rego)"},
	"policy.test":          {"测试代码（Rego）", "Tests (Rego)"},
	"policy.message":       {"修改说明", "Why (kept with the revision)"},
	"policy.preview.scope": {"预览范围", "Preview scope"},
	"policy.validate":      {"检查", "Check"},
	"policy.counts.only":   {"你的角色不能查看记录，预览只显示各项职责和各部门新增、消除的数量。", "Your role may not read records: the preview shows counts by duty and department only."},
	"policy.preview":       {"预览影响", "Preview impact"},
	"policy.apply":         {"应用", "Apply"},
	"policy.problems":      {"未通过检查，未作任何修改：", "Refused; nothing was changed:"},
	"policy.tests.failed":  {"以下测试未通过：", "These tests failed:"},
	"policy.err.at":        {"第 %d 行第 %d 列：", "line %d, column %d:"},
	"policy.err.detail":    {"（原文：%s）", "(%s)"},
	"policy.err.parse":     {"语法错误，这里的写法无法解析，请检查括号、引号、逗号和关键字。", "Syntax error: this cannot be parsed; check brackets, quotes, commas and keywords."},
	"policy.err.type":      {"类型错误，函数的参数或值的类型不对，或者调用了不存在的函数。", "Type error: an argument or a value has the wrong type, or the function does not exist."},
	"policy.err.unsafe":    {"变量没有取值，规则用到的变量在使用前没有赋值或绑定。", "Unsafe variable: a variable is used before anything gives it a value."},
	"policy.err.recursion": {"规则直接或间接地引用了自身。", "Recursion: a rule refers to itself, directly or through others."},
	"policy.err.compile":   {"规则代码无法编译。", "The module does not compile."},
	"policy.err.test":      {"测试未通过。", "A test failed."},
	"policy.err.builtin":   {"使用了规则中不允许的内置函数（例如访问网络、读取时间或环境）。", "A builtin that policies may not use (network, time or environment)."},
	"policy.err.json":      {"数据文件不是有效的 JSON。", "A data file is not valid JSON."},
	"policy.err.param":     {"参数设置有误。", "A parameter is not right."},
	"policy.err.other":     {"规则未通过检查。", "The policy was refused."},
	"policy.ok":            {"编译通过，%d 项测试全部通过。", "Compiles; all %d tests pass."},
	"policy.impact":        {"影响预览（基准日 %s）：新增 %d 项，消除 %d 项，不变 %d 项。尚未应用。", "Impact as of %s: %d added, %d removed, %d unchanged. Not applied yet."},
	"policy.added":         {"将新增的问题", "Violations it would add"},
	"policy.removed":       {"将消除的问题", "Violations it would remove"},
	"policy.applied":       {"已应用，新版本 %s 现已生效。重新检查即可看到新结果。", "Applied: revision %s is now in force. Run a scan to see the new result."},
	"policy.rolledback":    {"已回退：版本 %[2]s 的内容作为新版本 %[1]s 现已生效。", "Rolled back: the content of revision %[2]s is in force again as revision %[1]s."},
	"policy.stale":         {"未保存：规则已被他人修改。您是在版本 %s 上修改的，现行版本已是 %s。为免覆盖他人的修改，本次修改未保存；请重新打开本页，在现行版本上再做修改。", "Not saved: the policies were changed by someone else. You made this change on revision %s; revision %s is in force now. To overwrite no one's change, nothing was saved: reload the page and make the change again on the revision in force."},
	"policy.stale.reload":  {"重新打开本页", "Reload the page"},
	"policy.nobase":        {"未保存：表单没有注明所依据的版本。请重新打开本页后再修改。", "Not saved: the form did not say which revision it was made on. Reload the page and make the change again."},
	"policy.drift":         {"本程序内置的检查规则（%s）与本库初始化或上次采用时的内置规则（%s）不同。现行版本 %s 继续生效，不会被自动替换。", "This binary's built-in policies (%s) differ from those the store was seeded with or last adopted (%s). Revision %s stays in force; nothing is replaced by itself."},
	"policy.drift.none":    {"无", "none"},
	"policy.drift.changes": {"采用后将改变以下文件（已调整的参数保留）：", "Adopting them changes these files (parameter changes are kept):"},
	"policy.drift.see":     {"查看并采用", "Review and adopt"},
	"policy.adopt":         {"采用新的内置规则", "Adopt the built-in policies"},
	"policy.adopted":       {"已采用新的内置规则，新版本 %s 现已生效。", "Adopted the built-in policies: revision %s is now in force."},
	"policy.file.added":    {"新增", "added"},
	"policy.file.removed":  {"删除", "removed"},
	"policy.file.changed":  {"修改", "changed"},
	"policy.readonly":      {"您的角色只能查看规则。", "Your role may only read the policies."},
	"policy.switched_off":  {"已停用：此项职责不再检查。", "Switched off: this duty is not checked."},
	"policy.line":          {"第 %d 行", "line %d"},
	"policy.hint.array":    {"多个值以逗号分隔", "separate values with commas"},
	"policy.default":       {"默认", "default"},

	"rev.title":        {"规则版本记录", "Policy revisions"},
	"rev.id":           {"版本", "Revision"},
	"rev.author":       {"修改人", "Author"},
	"rev.message":      {"说明", "Message"},
	"rev.created":      {"时间", "Created"},
	"rev.active":       {"生效中", "in force"},
	"rev.diff":         {"与上一版比较", "Diff with parent"},
	"rev.rollback":     {"回退到此版本", "Roll back to this"},
	"rev.source":       {"来源", "Source"},
	"rev.restored":     {"恢复自 %s", "restores %s"},
	"rev.adopted":      {"采用内置规则", "adopts the built-in policies"},
	"source.api":       {"接口", "API"},
	"source.cli":       {"命令行", "command line"},
	"source.page":      {"网页", "web page"},
	"source.directory": {"规则目录", "policy folder"},
	"source.builtin":   {"内置规则", "built-in"},
	"source.migration": {"版本迁移", "migration"},
	"diff.title":       {"版本比较 %s → %s", "Diff %s → %s"},
	"diff.none":        {"两个版本内容相同。", "The revisions are identical."},

	"err.title":       {"出错了", "Something went wrong"},
	"err.404":         {"没有找到该页面或记录，或不在您的权限范围内。", "No such page or record, or it is outside what you may see."},
	"err.403":         {"您的角色无权进行此操作。", "Your role may not do this."},
	"err.csrf":        {"表单已失效（缺少或错误的安全令牌）。请返回刷新页面后重试。", "The form is no longer valid (missing or wrong security token). Go back, reload and try again."},
	"err.500":         {"服务器内部错误，已记录。请稍后重试。", "Internal error; it has been logged. Try again later."},
	"err.busy":        {"同时进行的检查已达上限，请等其中一项完成后再试。", "The most scans allowed at once are running; try again when one has finished."},
	"err.unavailable": {"数据库暂时不可用，请稍后重试。", "The store is unavailable; try again later."},
	"err.timeout":     {"处理时间超过上限，已停止。请稍后重试，或缩小范围。", "The request took longer than allowed and was stopped; try again later or with a smaller scope."},
	"err.cancelled":   {"请求已取消。", "The request was cancelled."},
	"err.back":        {"返回总览", "Back to the overview"},

	// Spreadsheets (sheets.go): templates, imports, exports.
	"nav.sheets":           {"表格", "Spreadsheets"},
	"sheets.title":         {"表格导入与导出", "Spreadsheets: import and export"},
	"sheets.intro":         {"下载导入模板，按说明填写后上传；整批校验，任何一行有误则全部不写入，并可下载标出问题单元格的工作簿。也可将各类记录导出为 Excel 工作簿。", "Download a template, fill it in as its guide says and upload it. The whole workbook is checked as one batch: if any row is wrong nothing is written, and a copy with the bad cells marked can be downloaded. Every kind of record can also be exported as a workbook."},
	"sheets.upload":        {"上传填好的工作簿", "Upload a filled workbook"},
	"sheets.file":          {"文件（xlsx 或 CSV）", "File (xlsx or CSV)"},
	"sheets.file.help":     {"不超过 %d MiB；CSV 文件须选择记录类型。", "At most %d MiB; a CSV file needs the kind of records."},
	"sheets.collection":    {"记录类型", "Kind of records"},
	"sheets.bysheet":       {"按工作表名称识别", "as each sheet names it"},
	"sheets.start":         {"开始导入", "Import"},
	"sheets.nofile":        {"请选择要上传的文件。", "Choose a file to upload."},
	"sheets.downloads":     {"模板与导出", "Templates and exports"},
	"sheets.template.all":  {"下载全部记录的导入模板", "Template of every kind of record"},
	"sheets.kind":          {"记录类型", "Kind of records"},
	"sheets.template":      {"导入模板", "Template"},
	"sheets.export":        {"导出", "Export"},
	"sheets.template.one":  {"下载模板", "template"},
	"sheets.export.one":    {"导出 Excel", "export (xlsx)"},
	"import.title":         {"导入", "Import"},
	"import.file":          {"文件", "File"},
	"import.st.running":    {"正在导入", "running"},
	"import.st.done":       {"已完成", "done"},
	"import.st.refused":    {"未通过校验", "refused"},
	"import.st.failed":     {"失败", "failed"},
	"import.st.cancelled":  {"已取消", "cancelled"},
	"import.refused":       {"未通过校验，未写入任何记录。共 %d 个问题：", "Refused; nothing was written. %d problems:"},
	"import.failed":        {"导入失败，未写入任何记录。", "The import failed; nothing was written."},
	"import.failed_later":  {"写入记录时数据库出错，导入未完成；服务下次启动时将按日志补全写入，届时全部记录都会写入，请勿重复导入。", "The database failed while the records were being written; the service completes the write from its journal when it starts next, and every record will then be written: do not import the file again."},
	"import.cancelled":     {"导入已取消，未写入任何记录。", "The import was cancelled; nothing was written."},
	"import.phase.reading": {"正在读取和检查各行……", "Reading and checking the rows…"},
	"import.phase.writing": {"正在校验引用并写入……", "Validating the references and writing…"},
	"import.progress":      {"已读取 %d 行，共 %d 行", "%d of %d rows read"},
	"import.cancel":        {"取消导入", "Cancel the import"},
	"import.written":       {"已写入 %d 条记录（共读取 %d 行）。", "%d records written (%d rows read)."},
	"import.scan":          {"开始一次检查，查看结果的变化", "Run a scan to see what changed"},
	"import.marked":        {"下载标出问题的工作簿", "Download the workbook with the problems marked"},
	"import.sheet":         {"工作表", "Sheet"},
	"import.row":           {"行", "Row"},
	"import.column":        {"列", "Column"},
	"import.reason":        {"问题", "Problem"},
	"import.more":          {"另有 %d 个问题未列出。", "%d more problems are not listed."},
	"import.again":         {"重新上传", "Upload again"},
	"report.xlsx":          {"Excel 工作簿", "Excel workbook"},
}

// codes holds the label texts of the domain's codes, filled in by init from the bundle's label
// catalogue (duty.Names): the nouns of the collections' records, the accountable levels, ranks,
// roles, talk kinds and department kinds, so that a level or a rank has one name on every page, in the policies'
// messages and in the downloads. A duty's own words (its title, reasons and parameters) are not
// here: they come from its METADATA in the policy bundle (Page.Reason, Page.PolicyTitle,
// paramView).
var codes = map[string][2]string{}

// codeEnums maps each family of codes the pages name to its enumeration in the catalogue.
var codeEnums = map[string]string{"level": "list_level", "rank": "rank", "role": "role", "talk": "talk_kind", "kind": "department_kind"}

func init() {
	for name, l := range duty.Names.Collections {
		codes["coll."+name] = [2]string{l.Noun.ZH, l.Noun.EN}
	}
	for family, enum := range codeEnums {
		for v, l := range duty.Names.Enums[enum] {
			codes[family+"."+v] = [2]string{l.ZH, l.EN}
		}
	}
}

// text returns the message key in lang, formatted with args; an unknown key is shown as is so
// that a missing translation is visible rather than blank.
func text(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		if m, ok = codes[key]; !ok {
			return key
		}
	}
	s := m[0]
	if lang == langEN {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// code returns the label of a code of a family ("level", "coll", "kind", …), or the code itself
// when it has none.
func code(lang, family, c string) string {
	m, ok := codes[family+"."+c]
	if !ok {
		return c
	}
	if lang == langEN {
		return m[1]
	}
	return m[0]
}

// day formats a stored timestamp or date as YYYY-MM-DD (in the server's time zone for
// timestamps).
func day(s string) string {
	if len(s) == len(time.DateOnly) {
		return s
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000000Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Local().Format(time.DateOnly)
		}
	}
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// stamp formats a stored timestamp as YYYY-MM-DD HH:MM in the server's time zone.
func stamp(s string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000000Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Local().Format("2006-01-02 15:04")
		}
	}
	return day(s)
}

// accountMessages are the texts of the sign-in by name and password, the first-start setup and
// the admin pages of users, tokens and the audit trail (admin.go), merged into messages.
var accountMessages = map[string][2]string{
	"nav.admin":  {"用户与审计", "Users and audit"},
	"nav.users":  {"用户", "Users"},
	"nav.tokens": {"访问令牌", "Tokens"},
	"nav.audit":  {"操作记录", "Audit trail"},

	"signin.password.h":           {"用登录名和密码登录", "Sign in with your user name and password"},
	"signin.name":                 {"登录名", "User name"},
	"signin.password":             {"密码", "Password"},
	"signin.submit":               {"登录", "Sign in"},
	"signin.bad":                  {"登录名或密码不正确。", "Wrong user name or password."},
	"signin.locked":               {"登录失败次数过多，该账户或本机地址已暂时锁定，请十五分钟后再试。", "Too many failed sign-ins for this account or from this address; try again in fifteen minutes."},
	"signin.token.h":              {"使用访问令牌登录", "Sign in with an access token"},
	"signin.token.intro":          {"用于脚本和接口的访问令牌也可在此登录。令牌只用于本次登录，不会保存在浏览器中。", "An access token, as used by scripts and the API, also signs you in here. It is used for this sign-in only and is not kept in the browser."},
	"signin.setup.done":           {"密码已设置，请用登录名和新密码登录。", "The password is set: sign in with your user name and the new password."},
	"setup.title":                 {"设置管理员密码", "Set the administrator's password"},
	"setup.intro":                 {"首次启动：请为管理员「%s」设置登录密码。此链接只能使用一次。", "First start: set the sign-in password of the administrator %s. This link works once."},
	"setup.bad":                   {"设置链接无效、已使用或已过期。请重新启动服务以获得新的链接，或请服务器管理员在命令行设置密码。", "The setup link is unknown, used or expired. Restart the service for a new link, or have the server's operator set the password from the command line."},
	"setup.submit":                {"设置密码", "Set the password"},
	"pw.new":                      {"新密码", "New password"},
	"pw.confirm":                  {"再次输入新密码", "New password again"},
	"pw.help":                     {"至少十个字符，最多一百二十八个字符，可用汉字、字母、数字、空格和符号。", "10 to 128 characters: Chinese characters, letters, digits, spaces and symbols."},
	"pw.mismatch":                 {"两次输入的密码不一致。", "The two passwords differ."},
	"pw.short":                    {"密码至少需要十个字符。", "A password needs at least 10 characters."},
	"pw.long":                     {"密码最多一百二十八个字符。", "A password has at most 128 characters."},
	"pw.control":                  {"密码不能包含换行、制表符等控制字符。", "A password may not contain line breaks, tabs or other control characters."},
	"users.title":                 {"用户", "Users"},
	"users.intro":                 {"管理登录本系统的人员：角色决定可做的事，部门用户只能查看和维护其部门及下级部门。", "The people who sign in: the role decides what they may do; a department user sees and keeps only its department and the departments under it."},
	"users.name":                  {"登录名", "User name"},
	"users.display":               {"姓名", "Name"},
	"users.role":                  {"角色", "Role"},
	"users.department":            {"所属部门", "Department"},
	"users.department.none":       {"（不限部门）", "(no department)"},
	"users.department.help":       {"仅部门用户需要选择部门。", "Only a department user has a department."},
	"users.password":              {"密码", "Password"},
	"users.state":                 {"状态", "State"},
	"users.created":               {"创建时间", "Created"},
	"users.active":                {"启用", "active"},
	"users.disabled":              {"已停用", "disabled"},
	"users.pw.set":                {"已设置", "set"},
	"users.pw.none":               {"未设置", "none"},
	"users.new":                   {"新建用户", "New user"},
	"users.new.pw":                {"初始密码（可不填，之后再设置）", "Initial password (optional, can be set later)"},
	"users.create":                {"创建", "Create"},
	"users.created.ok":            {"已创建用户「%s」。", "User %s created."},
	"users.saved":                 {"已保存。", "Saved."},
	"users.exists":                {"该登录名已被使用。", "This user name is taken."},
	"users.bad.name":              {"登录名须为一至一百二十八个字母、汉字或数字（可含连字符、下划线、点和冒号），以字母或数字开头。", "A user name is 1 to 128 letters or digits (hyphens, underscores, dots and colons allowed), starting with a letter or digit."},
	"users.bad.display":           {"姓名最多六十四个字符，不能有首尾空格或控制字符。", "A name has at most 64 characters, without leading or trailing spaces or control characters."},
	"users.bad.dept":              {"部门用户须选择所属部门。", "Choose the department of a department user."},
	"account.title":               {"我的账户", "My account"},
	"account.change":              {"修改密码", "Change the password"},
	"account.current":             {"当前密码", "Current password"},
	"account.bad.current":         {"当前密码不正确。", "The current password is wrong."},
	"account.nopw":                {"您的账户尚未设置密码，请联系管理员设置。", "Your account has no password yet; ask an administrator to set one."},
	"account.help":                {"修改后您的所有登录立即失效，需用新密码重新登录。", "All your sessions end; sign in again with the new password."},
	"signin.pw.changed":           {"密码已修改，请用新密码重新登录。", "The password is changed: sign in again with the new one."},
	"users.dept.unknown":          {"所选部门不存在。", "The department chosen does not exist."},
	"audit.coll.users":            {"用户", "users"},
	"audit.coll.tokens":           {"访问令牌", "tokens"},
	"audit.coll.policy_revisions": {"规则版本", "policy revisions"},
	"audit.coll.cases":            {"整改台账", "ledger cases"},
	"audit.coll.waivers":          {"豁免", "waivers"},
	"audit.coll.webhooks":         {"消息推送", "webhooks"},
	"users.last.admin":            {"不能停用或降级最后一位在用的管理员；请先将另一位用户设为管理员。", "The last active administrator can be neither demoted nor disabled; make another user an administrator first."},
	"users.edit":                  {"修改", "Edit"},
	"users.details":               {"基本信息", "Details"},
	"users.disable":               {"停用该用户（停用后其登录和令牌立即失效）", "Disable this user (their sessions and tokens stop at once)"},
	"users.save":                  {"保存", "Save"},
	"users.reset":                 {"重置密码", "Reset the password"},
	"users.reset.help":            {"重置后该用户的所有登录立即失效，需用新密码重新登录。", "All of the user's sessions end; they sign in again with the new password."},
	"users.reset.ok":              {"已重置「%s」的密码。", "The password of %s is reset."},
	"users.none":                  {"没有用户。", "No users."},
	"tokens.title":                {"访问令牌", "Access tokens"},
	"tokens.intro":                {"访问令牌供脚本和接口使用，也可在登录页登录。令牌只在发放时显示一次，系统只保存其摘要。", "Access tokens are for scripts and the API, and also sign in on the sign-in page. A token is shown once, when issued; only its hash is kept."},
	"tokens.id":                   {"编号", "Id"},
	"tokens.user":                 {"用户", "User"},
	"tokens.name":                 {"用途", "Purpose"},
	"tokens.created":              {"发放时间", "Issued"},
	"tokens.expires":              {"有效期至", "Expires"},
	"tokens.never":                {"长期有效", "never"},
	"tokens.status":               {"状态", "State"},
	"tokens.st.active":            {"有效", "active"},
	"tokens.st.revoked":           {"已吊销", "revoked"},
	"tokens.st.expired":           {"已过期", "expired"},
	"tokens.revoke":               {"吊销", "Revoke"},
	"tokens.revoked.ok":           {"已吊销令牌 %s。", "Token %s revoked."},
	"tokens.issue":                {"发放新令牌", "Issue a token"},
	"tokens.expiry":               {"有效期至（含当日，可不填）", "Valid through (optional)"},
	"tokens.expiry.help":          {"格式 YYYY-MM-DD；不填则在吊销前一直有效。", "YYYY-MM-DD; empty: valid until revoked."},
	"tokens.bad.name":             {"用途须为一至一百二十八个字母、汉字或数字（可含连字符、下划线、点和冒号），以字母或数字开头。", "The purpose is 1 to 128 letters or digits (hyphens, underscores, dots and colons allowed), starting with a letter or digit."},
	"tokens.bad.expiry":           {"有效期须为今天或以后的日期（YYYY-MM-DD）。", "The expiry must be a date YYYY-MM-DD, today or later."},
	"tokens.new.title":            {"新令牌", "New token"},
	"tokens.new.once":             {"请立即复制并妥善保存下面的令牌：离开本页后将无法再次查看。", "Copy the token below and keep it safe now: it cannot be shown again."},
	"tokens.none":                 {"没有令牌。", "No tokens."},
	"tokens.back":                 {"返回用户「%s」", "Back to user %s"},
	"audit.title":                 {"操作记录", "Audit trail"},
	"audit.intro":                 {"对记录、规则、用户和令牌的每次修改：谁、何时、做了什么、涉及哪些编号。只增不改。", "Every change of records, policies, users and tokens: who, when, what, and which ids. Append-only."},
	"audit.actor":                 {"操作人", "Actor"},
	"audit.action":                {"操作", "Action"},
	"audit.record":                {"涉及编号", "Id"},
	"audit.from":                  {"起始日期", "From"},
	"audit.to":                    {"截止日期", "To"},
	"audit.at":                    {"时间", "At"},
	"audit.collection":            {"类别", "Kind"},
	"audit.change":                {"修改前后摘要", "Before → after"},
	"audit.all":                   {"全部", "All"},
	"audit.apply":                 {"筛选", "Apply"},
	"audit.reset":                 {"清除筛选", "Clear"},
	"audit.none":                  {"没有符合条件的操作记录。", "No entry matches."},
	"audit.next":                  {"下一页", "Next page"},
	"audit.first":                 {"第一页", "First page"},
	"audit.bad.date":              {"日期须为 YYYY-MM-DD 格式，截止日期不能早于起始日期。", "Dates are YYYY-MM-DD, and the end may not be before the start."},
	"act.records.put":             {"写入记录", "records written"},
	"act.records.delete":          {"删除记录", "record deleted"},
	"act.user.put":                {"新建或修改用户", "user created or changed"},
	"act.user.password":           {"设置密码", "password set"},
	"act.token.create":            {"发放令牌", "token issued"},
	"act.token.revoke":            {"吊销令牌", "token revoked"},
	"act.policy.seed":             {"初始化规则", "policies seeded"},
	"act.policy.change":           {"修改规则", "policies changed"},
	"act.policy.activate":         {"回退规则", "policies rolled back"},
	"act.policy.adopt":            {"采用内置规则", "built-in policies adopted"},
	"act.policy.preview":          {"预览规则影响", "policy impact previewed"},
	"act.webhook.create":          {"设置推送地址", "webhook created"},
	"act.webhook.delete":          {"删除推送地址", "webhook deleted"},
	"act.waiver.request":          {"申请豁免", "waiver requested"},
	"act.waiver.approve":          {"批准豁免", "waiver approved"},
	"act.waiver.reject":           {"驳回豁免", "waiver rejected"},
	"act.waiver.revoke":           {"撤销豁免", "waiver revoked"},
	"act.case.open":               {"立案整改", "case opened"},
	"act.case.start":              {"开始整改", "rectification started"},
	"act.case.submit":             {"提交整改", "rectification submitted"},
	"act.case.close":              {"整改销号", "case closed"},
	"act.case.recheck_failed":     {"复查未通过", "recheck failed"},
}

func init() {
	for k, v := range accountMessages {
		messages[k] = v
	}
}

// recordTexts are the texts of the record lists, forms and a person's page (browse.go,
// forms.go, people.go); init adds them to messages.
var recordTexts = map[string][2]string{
	"nav.records":    {"记录", "Records"},
	"rec.sep":        {"、", ", "},
	"rec.actions":    {"操作", "Actions"},
	"rec.record":     {"记录", "Record"},
	"rec.edit":       {"修改", "Edit"},
	"rec.delete":     {"删除", "Delete"},
	"rec.none":       {"暂无记录。", "No records."},
	"rec.count":      {"%d 项", "%d items"},
	"rec.new":        {"新增%s", "New %s"},
	"rec.newshort":   {"新增", "New"},
	"rec.saved":      {"已保存。", "Saved."},
	"rec.deleted":    {"已删除「%s」。", "%s was deleted."},
	"rec.organ":      {"机关", "Organ"},
	"rec.q":          {"姓名、名称或编号", "Name or ID"},
	"rec.q.hint":     {"输入姓名、名称或编号的一部分", "Part of a name or an ID"},
	"rec.dept":       {"部门", "Department"},
	"rec.year":       {"年度", "Year"},
	"rec.search":     {"查询", "Search"},
	"rec.clear":      {"清除条件", "Clear"},
	"rec.total":      {"共 %d 条，第 %d 页，共 %d 页。", "%d records, page %d of %d."},
	"rec.pages":      {"分页", "Pages"},
	"rec.prev":       {"上一页", "Previous"},
	"rec.next":       {"下一页", "Next"},
	"rec.pageof":     {"第 %d 页，共 %d 页", "Page %d of %d"},
	"rec.noorgan":    {"还没有任何机关的记录。", "No organ has records yet."},
	"form.new":       {"新增%s", "New %s"},
	"form.edit":      {"修改%s「%s」", "Edit %s %s"},
	"form.errors":    {"有几处填写有误，已在对应栏目旁标出，请修改后再保存。", "Some fields are not right; see the notes beside them."},
	"form.drop":      {"删除此行", "Remove"},
	"form.rows.help": {"空行不会保存；勾选「删除此行」并保存即可删去一行。", "Empty rows are not saved; tick Remove and save to delete a row."},
	"form.addrow":    {"添加一行", "Add a row"},
	"form.save":      {"保存", "Save"},
	"form.cancel":    {"取消", "Cancel"},
	"form.lines":     {"每行一项。", "One per line."},
	"form.pick":      {"输入姓名或编号", "Type a name or an ID"},

	"form.err.other": {"填写有误（%s）。", "Not accepted: %s."},

	"del.title":   {"删除「%s」", "Delete %s"},
	"del.users":   {"以下记录仍引用该记录，不能删除。请先修改或删除这些记录：", "These records still name it, so it cannot be deleted. Change or delete them first:"},
	"del.field":   {"（%s）", " (%s)"},
	"del.more":    {"可能还有更多引用该记录的记录。", "There may be more records naming it."},
	"del.confirm": {"确定要删除「%s」吗？删除后不能恢复，操作会记入审计日志。", "Delete %s? This cannot be undone; it is recorded in the audit trail."},
	"del.do":      {"确认删除", "Delete"},
	"del.named":   {"该记录仍被其他记录引用，不能删除。", "Other records still name this record; it was not deleted."},

	"person.kicker":          {"一人一档", "Personal file"},
	"person.page":            {"一人一档", "Personal file"},
	"person.record":          {"人员记录", "Person record"},
	"person.basic":           {"基本情况", "Details"},
	"person.findings":        {"问题和预警（最近一次检查）", "Violations and warnings (latest scan)"},
	"person.none":            {"最近一次检查中没有涉及此人的问题。", "No violation of the latest scan concerns this person."},
	"person.add":             {"新增", "Add"},
	"person.appointments":    {"任职", "Appointments"},
	"person.talks.subject":   {"廉政谈话（谈话对象）", "Talks held with them"},
	"person.talks.conductor": {"廉政谈话（谈话人）", "Talks they conducted"},
	"person.letters.issuer":  {"廉政责任书（发出方）", "Letters they issued"},
	"person.letters.signer":  {"廉政责任书（签订方）", "Letters they signed"},
	"person.books":           {"全程记实本", "Record books"},
	"person.files":           {"廉政档案和个人重大事项", "Integrity files and major matters"},
	"person.lists":           {"责任清单", "Responsibility lists"},
}

func init() {
	for k, v := range recordTexts {
		if _, dup := messages[k]; dup {
			panic("i18n: " + k + " is defined twice")
		}
		messages[k] = v
	}
}
