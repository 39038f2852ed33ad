package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// dueMessages are the texts of the due-soon page (即将到期), merged into messages.
var dueMessages = map[string][2]string{
	"due.title":    {"即将到期", "Due soon"},
	"due.link":     {"即将到期", "Due soon"},
	"due.lead":     {"%s及其下属部门：最近一次检查（检查基准日 %s）发现的即将到期事项，按到期日排列；黄色为预警期内，红色为已到期未履行。", "%s and its departments: what the latest scan (as of %s) found falling due, by date; yellow within the warning window, red once breached."},
	"due.noscan":   {"尚未检查，暂无到期提醒。", "Not scanned yet: nothing to show."},
	"due.none":     {"预警期内没有即将到期的事项。", "Nothing falls due within the warning window."},
	"due.warnings": {"预警（%d 项）", "Warnings (%d)"},
	"due.breached": {"已到期未履行（%d 项）", "Breached (%d)"},
	"due.on":       {"到期日", "Fails on"},
	"due.left":     {"剩余天数", "Days left"},
	"due.days":     {"%d 天", "%d days"},
	"due.duty":     {"职责", "Duty"},
	"due.reason":   {"原因", "Reason"},
	"due.dept":     {"部门", "Department"},
	"due.subject":  {"对象", "Subject"},
	"due.message":  {"说明", "Detail"},
	"due.state":    {"状态", "State"},
	"due.soon":     {"预警", "Due soon"},
	"due.overdue":  {"已到期", "Breached"},
}

func init() {
	for k, v := range dueMessages {
		messages[k] = v
	}
}

// duePage is the due-soon view of a department's subtree: the warnings of its latest report by
// fails_on (yellow), then its violations (red).
type duePage struct {
	ID, Name string
	AsOf     string
	Scanned  bool
	Warnings []dueRow
	Breached []dueRow
}

type dueRow struct {
	V       duty.Violation
	FailsOn string
	Left    int // days from as_of to fails_on
	Dept    string
	Subject string
}

// warningRow is a warning of a report as of asOf as the pages list it: with the days from
// asOf to its fails_on, its department and subject named.
func warningRow(lang, asOf string, w *duty.Warning, n *namer) dueRow {
	from, _ := time.Parse(time.DateOnly, asOf)
	on, _ := time.Parse(time.DateOnly, w.FailsOn)
	return dueRow{V: w.Violation, FailsOn: w.FailsOn, Left: int(on.Sub(from).Hours() / 24),
		Dept: n.dept(w.Department), Subject: n.ref(lang, w.Subject)}
}

// due shows what falls due in a department's subtree, from its latest report: each warning
// with its fails_on and the days left, sorted by date (then department, policy, subject, as
// the report sorts them), then the checks already failing.
func (h *handler) due(rq *request) error {
	id := rq.r.PathValue("id")
	tree, _, err := h.visibleDepartment(rq, id)
	if err != nil {
		return err
	}
	page := duePage{ID: id, Name: tree.Department(id).Str("name")}
	rep, err := h.scans.Latest(rq.ctx, rq.p, id)
	switch {
	case errors.Is(err, duty.ErrNotFound):
		return h.render(rq, http.StatusOK, "due", text(rq.lang, "due.title"), page)
	case err != nil:
		return err
	}
	page.Scanned, page.AsOf = true, rep.AsOf
	n := h.newNamer(rq.ctx, tree)
	ws := slices.Clone(rep.Warnings)
	duty.SortWarnings(ws)
	for _, w := range ws {
		page.Warnings = append(page.Warnings, warningRow(rq.lang, rep.AsOf, &w, n))
	}
	vs := slices.Clone(rep.Violations)
	slices.SortStableFunc(vs, func(a, b duty.Violation) int {
		return severityRank[a.Severity] - severityRank[b.Severity]
	})
	for _, v := range vs {
		page.Breached = append(page.Breached, dueRow{V: v, Dept: n.dept(v.Department), Subject: n.ref(rq.lang, v.Subject)})
	}
	if n.err != nil {
		return n.err // a name the store could not read: an error, not an id for a name
	}
	return h.render(rq, http.StatusOK, "due", strings.Join([]string{page.Name, text(rq.lang, "due.title")}, " · "), page)
}
