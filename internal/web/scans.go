package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

type scanFormPage struct {
	Departments []option
	AsOf        string
	Error       string
	Recent      []scanRow
}

type scanRow struct {
	Scan  duty.Scan
	Scope string // the scanned department's name, or "all organs"
}

// departmentOptions lists the departments the user may scan, indented by depth, with "all
// organs" first for users without a scope.
func (h *handler) departmentOptions(rq *request, tree *orgTree, selected string) []option {
	var out []option
	if rq.p.Scope() == "" {
		out = append(out, option{Value: "", Label: text(rq.lang, "scan.whole"), Selected: selected == ""})
	}
	var walk func(id string, depth int)
	walk = func(id string, depth int) {
		out = append(out, option{Value: id, Label: strings.Repeat("\u3000", depth) + tree.Department(id).Str("name"), Selected: id == selected})
		if depth < 64 {
			for _, c := range tree.children(id) {
				walk(c, depth+1)
			}
		}
	}
	for _, r := range duty.ReachOf(rq.p, tree.Tree).Roots() {
		if tree.Department(r) != nil {
			walk(r, 0)
		}
	}
	return out
}

// scopeName names a scan's scope for people.
func scopeName(lang string, tree *orgTree, dept string) string {
	if dept == "" {
		return text(lang, "scan.whole")
	}
	if d := tree.Department(dept); d != nil {
		return d.Str("name")
	}
	return dept
}

func (h *handler) scanForm(rq *request) error {
	return h.showScanForm(rq, http.StatusOK, rq.r.URL.Query().Get("department"), h.cfg.Today(), "")
}

func (h *handler) showScanForm(rq *request, status int, dept, asOf, errMsg string) error {
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	if dept == "" {
		dept = rq.p.Scope()
	}
	page := scanFormPage{Departments: h.departmentOptions(rq, tree, dept), AsOf: asOf, Error: errMsg}
	if rq.p.Can(duty.ReadReports) {
		scans, err := h.scans.List(rq.ctx, rq.p, 100)
		if err != nil {
			return err
		}
		for _, sc := range scans[:min(len(scans), 20)] {
			page.Recent = append(page.Recent, scanRow{Scan: sc, Scope: scopeName(rq.lang, tree, sc.Department)})
		}
	}
	return h.render(rq, status, "scans", text(rq.lang, "scan.title"), page)
}

// startScan starts a scan in the background and shows its page, which follows its progress.
func (h *handler) startScan(rq *request) error {
	dept := rq.r.PostForm.Get("department")
	asOf := strings.TrimSpace(rq.r.PostForm.Get("as_of"))
	if !duty.ValidDate(asOf) {
		return h.showScanForm(rq, http.StatusUnprocessableEntity, dept, asOf, text(rq.lang, "scan.bad.date"))
	}
	if dept == "" {
		dept = rq.p.Scope()
	}
	sc, err := h.scans.Start(rq.ctx, rq.p, duty.ScanRequest{Department: dept, AsOf: asOf}, false)
	if errors.Is(err, duty.ErrEmptyStore) {
		return h.showScanForm(rq, http.StatusConflict, dept, asOf, text(rq.lang, "scan.empty"))
	}
	if err != nil {
		return err
	}
	h.cfg.Log.Info("scan started from the pages", "scan", sc.ID, "user", rq.p.User, "department", dept, "as_of", asOf)
	return rq.redirect("/scans/" + url.PathEscape(sc.ID))
}

type scanPage struct {
	Scan     *duty.Scan
	Scope    string
	Running  bool
	Report   *reportView
	DeptLink string
}

// visibleScan returns a scan the user may see; a scan of another subtree is not found.
func (h *handler) visibleScan(rq *request) (*duty.Scan, error) {
	return h.scans.Get(rq.ctx, rq.p, rq.r.PathValue("id"))
}

func (h *handler) scanPage(rq *request) error {
	sc, err := h.visibleScan(rq)
	if err != nil {
		return err
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	page := scanPage{Scan: sc, Scope: scopeName(rq.lang, tree, sc.Department), Running: sc.Status == duty.ScanRunning}
	if sc.Department != "" {
		page.DeptLink = "/departments/" + url.PathEscape(sc.Department)
	}
	if sc.Status == duty.ScanDone && sc.Report != nil {
		if page.Report, err = h.buildReport(rq.ctx, rq.lang, sc.Report, parseFilter(rq.r.URL.Query()), "/scans/"+url.PathEscape(sc.ID), tree); err != nil {
			return err
		}
	}
	return h.render(rq, http.StatusOK, "scan", text(rq.lang, "scan.heading", sc.ID), page)
}

func (h *handler) scanDownload(format string) pageFunc {
	return func(rq *request) error {
		sc, err := h.visibleScan(rq)
		if err != nil {
			return err
		}
		if sc.Status != duty.ScanDone || sc.Report == nil {
			return fmt.Errorf("scan %q has no report yet: %w", sc.ID, duty.ErrNotFound)
		}
		return h.download(rq, filtered(sc.Report, parseFilter(rq.r.URL.Query())), format, "report-"+sc.ID)
	}
}
