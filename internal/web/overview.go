package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

type overviewPage struct {
	Organs []organView
	// The organs are shown organsPerPage at a time: Page of Pages, with links to the others
	// (empty when there is none).
	Page, Pages int
	Prev, Next  string
}

// organsPerPage is how many organs the overview shows at a time by default: each is a tree of its
// departments, its trend and its standing, and a province has a thousand organs.
const organsPerPage = 10

// organView is one root of the overview: an organ, or a department user's subtree.
type organView struct {
	Root     *node
	Rep      *duty.Report // the latest report covering the root, nil before the first scan
	Revision string
	Trend    template.HTML
	Points   []trendPoint
	CanScan  bool
	// Standing is the department standing (考核) of the root's organ, lowest scores first, and
	// its formula; nil without a ledger or before a scan.
	Standing []standingRow
	Formula  string
}

// node is a department of the tree with its subtree's open violations.
type node struct {
	ID, Name, Kind, KindLabel string
	Depth                     int
	Counts                    sevCounts
	// Checked is false before any scan covers the node: it has no counts, not zero violations.
	Checked  bool
	Children []*node
}

type sevCounts struct {
	High, Medium, Low, Total int
	// Warnings are the checks due to fail soon, beside the violations (not in Total).
	Warnings int
}

func (c *sevCounts) addN(severity string, n int) {
	switch severity {
	case "high":
		c.High += n
	case "medium":
		c.Medium += n
	default:
		c.Low += n
	}
	c.Total += n
}

// overview shows each visible root (every organ, or the department user's subtree) as a tree
// with open violations by severity, the latest scan, and the trend over the stored scans. It
// loads no report: the counts come from the summaries stored at scan time, each scan's read
// once for all the roots it covers (duty.Reports: LatestReports, DepartmentCountsOf,
// OrganCounts).
func (h *handler) overview(rq *request) error {
	if !rq.p.Can(duty.ReadReports) {
		if rq.p.Can(duty.ReadPolicies) {
			return rq.redirect("/policies")
		}
		return errForbidden
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	roots := duty.ReachOf(rq.p, tree.Tree).Roots()
	var page overviewPage
	per := h.cfg.OrgansPerPage
	page.Pages = max(1, (len(roots)+per-1)/per)
	page.Page, _ = strconv.Atoi(rq.r.URL.Query().Get("page"))
	page.Page = min(max(page.Page, 1), page.Pages)
	if page.Page > 1 {
		page.Prev = "/?page=" + strconv.Itoa(page.Page-1)
	}
	if page.Page < page.Pages {
		page.Next = "/?page=" + strconv.Itoa(page.Page+1)
	}
	from := (page.Page - 1) * per
	roots = roots[from:min(from+per, len(roots))]
	scans, err := h.Store.ListScans(rq.ctx, 100)
	if err != nil {
		return err
	}
	latest, err := h.Store.LatestReports(rq.ctx)
	if err != nil {
		return err
	}
	sums := &summaries{h: h, rq: rq, depts: map[string]map[string]duty.DepartmentCounts{},
		labels: map[string]string{}, scans: scans}
	for _, root := range roots {
		if tree.Department(root) == nil {
			continue
		}
		ov := organView{CanScan: rq.p.Can(duty.RunScans)}
		var counts map[string]duty.DepartmentCounts
		if l, ok := duty.LatestFor(latest, tree.Tree, root); ok {
			if counts, err = sums.departments(l.ScanID); err != nil {
				return err
			}
			ov.Rep = &duty.Report{ScanID: l.ScanID, AsOf: l.AsOf, GeneratedAt: l.GeneratedAt, PolicyRevision: l.PolicyRevision}
			if ov.Revision, err = sums.label(l.PolicyRevision); err != nil {
				return err
			}
		}
		ov.Root = buildTree(rq.lang, tree, root, counts, ov.Rep)
		if h.Ledger != nil && ov.Rep != nil {
			if ov.Standing, err = h.overviewStanding(rq, tree, root, counts); err != nil {
				return err
			}
			ov.Formula = h.Ledger.Formula(rq.lang)
		}
		if ov.Points, err = trend(tree, root, scans, sums); err != nil {
			return err
		}
		ov.Trend = trendSVG(rq.lang, root, ov.Points)
		page.Organs = append(page.Organs, ov)
	}
	return h.render(rq, http.StatusOK, "overview", text(rq.lang, "overview.title"), page)
}

// overviewStanding is the standing of root's organ (of the user's subtree for a department
// user) from the summaries stored at scan time, not from a report: the departments with the
// lowest scores first, at most standingShown of them (the standing page has them all).
func (h *handler) overviewStanding(rq *request, tree *orgTree, root string, counts map[string]duty.DepartmentCounts) ([]standingRow, error) {
	// The counts are the whole scan's: only the root's subtree is looked up.
	sub := tree.Subtree(root)
	found := make(map[string]duty.Findings, len(sub))
	for d := range sub {
		if c, ok := counts[d]; ok {
			found[d] = duty.Findings{High: c.BySeverity["high"], Medium: c.BySeverity["medium"], Low: c.BySeverity["low"], Warnings: c.Warnings}
		}
	}
	rows, err := h.Ledger.Standings(rq.ctx, rq.p, tree.Organ(root), found)
	if err != nil {
		return nil, err
	}
	slices.Reverse(rows)
	var out []standingRow
	for _, r := range rows[:min(len(rows), standingShown)] {
		out = append(out, standingRow{Standing: r, Name: tree.Department(r.Department).Str("name")})
	}
	return out, nil
}

// standingShown is how many departments of the standing the overview shows.
const standingShown = 5

// summaries reads each scan's stored summaries and each revision's label once per page.
type summaries struct {
	h      *handler
	rq     *request
	depts  map[string]map[string]duty.DepartmentCounts // scan → department → its own counts
	organs map[string]map[string]int                   // scan → organ → violations, nil until read
	labels map[string]string
	scans  []duty.Scan // the scans listed on the page, whose organ counts are read at once
}

func (s *summaries) departments(scanID string) (map[string]duty.DepartmentCounts, error) {
	if m, ok := s.depts[scanID]; ok {
		return m, nil
	}
	m, err := s.h.Store.DepartmentCountsOf(s.rq.ctx, scanID)
	if err != nil {
		return nil, err
	}
	s.depts[scanID] = m
	return m, nil
}

func (s *summaries) organ(scanID string) (map[string]int, error) {
	if s.organs == nil {
		ids := make([]string, 0, len(s.scans))
		for _, sc := range s.scans {
			if sc.Status == duty.ScanDone {
				ids = append(ids, sc.ID)
			}
		}
		m, err := s.h.Store.OrganCounts(s.rq.ctx, ids)
		if err != nil {
			return nil, err
		}
		s.organs = m
	}
	return s.organs[scanID], nil
}

func (s *summaries) label(hash string) (string, error) {
	if l, ok := s.labels[hash]; ok {
		return l, nil
	}
	l, err := s.h.revisionLabel(s.rq.ctx, hash)
	if err != nil {
		return "", err
	}
	s.labels[hash] = l
	return l, nil
}

// buildTree makes the node tree under root and counts each department's violations in it and
// every ancestor up to root; rep, when not nil, gets the subtree's new, persisting and resolved
// counts.
func buildTree(lang string, tree *orgTree, root string, counts map[string]duty.DepartmentCounts, rep *duty.Report) *node {
	nodes := map[string]*node{}
	var build func(id string, depth int) *node
	build = func(id string, depth int) *node {
		d := tree.Department(id)
		n := &node{ID: id, Name: d.Str("name"), Kind: d.Str("kind"), KindLabel: code(lang, "kind", d.Str("kind")), Depth: depth, Checked: rep != nil}
		nodes[id] = n
		if depth < 64 {
			for _, c := range tree.children(id) {
				n.Children = append(n.Children, build(c, depth+1))
			}
		}
		return n
	}
	top := build(root, 0)
	if rep == nil {
		return top
	}
	for id := range nodes {
		c, ok := counts[id]
		if !ok {
			continue
		}
		rep.Summary.New += c.New
		rep.Summary.Persisting += c.Persisting
		rep.Summary.Resolved += c.Resolved
		rep.Summary.Violations += c.Violations
		rep.Summary.Warnings += c.Warnings
		for cur, hops := id, 0; cur != "" && hops < 64; hops++ {
			if n := nodes[cur]; n != nil {
				for sev, k := range c.BySeverity {
					n.Counts.addN(sev, k)
				}
				n.Counts.Warnings += c.Warnings
			}
			if cur == root {
				break
			}
			cur = tree.Department(cur).Str("parent_id")
		}
	}
	return top
}

// trendPoint is one as-of date of the stored scans covering a root: the violations the last
// scan run as of that date found in the root's subtree.
type trendPoint struct {
	AsOf  string
	Scan  string
	Count int
}

// maxTrend is how many as-of dates the trend shows (the latest ones).
const maxTrend = 12

// trend counts, for each as-of date of the finished scans whose scope covers root (the whole
// store, root or an ancestor), the violations in root's subtree found by the last scan run as
// of that date (the one the department's report would show), from the summaries stored at
// scan time (an organ's kept with every scan whatever the retention; a department's while the
// scan keeps its findings): re-running a date replaces its point instead of adding one. The
// points are ordered by as-of date.
func trend(tree *orgTree, root string, scans []duty.Scan, sums *summaries) ([]trendPoint, error) {
	covering := tree.Covering(root) // the whole store, root and its ancestors
	last := map[string]duty.Scan{}  // as-of date → the last finished scan of that date covering root
	for _, sc := range scans {
		if sc.Status != duty.ScanDone || sc.Summary == nil || !slices.Contains(covering, sc.Department) {
			continue
		}
		if l, ok := last[sc.AsOf]; !ok || sc.FinishedAt > l.FinishedAt || sc.FinishedAt == l.FinishedAt && sc.ID > l.ID {
			last[sc.AsOf] = sc
		}
	}
	out := make([]trendPoint, 0, len(last))
	for asOf, sc := range last {
		out = append(out, trendPoint{AsOf: asOf, Scan: sc.ID})
	}
	slices.SortFunc(out, func(a, b trendPoint) int { return strings.Compare(a.AsOf, b.AsOf) })
	if len(out) > maxTrend {
		out = out[len(out)-maxTrend:]
	}
	isOrgan := tree.Organ(root) == root
	var sub map[string]bool
	for i := range out {
		if isOrgan {
			m, err := sums.organ(out[i].Scan)
			if err != nil {
				return nil, err
			}
			out[i].Count = m[root]
			continue
		}
		m, err := sums.departments(out[i].Scan)
		if errors.Is(err, duty.ErrNotFound) {
			// The retention removed the scan's per-department counts: a department's trend
			// shows the scans kept (an organ's, from the counts kept with every scan, all).
			out[i].Count = -1
			continue
		}
		if err != nil {
			return nil, err
		}
		if sub == nil {
			sub = tree.Subtree(root)
		}
		for d, c := range m {
			if sub[d] {
				out[i].Count += c.Violations
			}
		}
	}
	kept := out[:0]
	for _, p := range out {
		if p.Count >= 0 {
			kept = append(kept, p)
		}
	}
	return kept, nil
}

// trendSVG draws the trend as an inline bar chart, with a title and a description listing the
// values for screen readers.
func trendSVG(lang, root string, pts []trendPoint) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	const (
		w, hgt                   = 640, 210
		left, right, top, bottom = 40, 10, 22, 40
	)
	maxV := 0
	for _, p := range pts {
		maxV = max(maxV, p.Count)
	}
	step := niceStep(maxV)
	ceil := max(step, (maxV+step-1)/step*step)
	plotW, plotH := float64(w-left-right), float64(hgt-top-bottom)
	slot := plotW / float64(max(len(pts), 5))
	barW := slot * 0.56
	offset := (plotW - slot*float64(len(pts))) / 2 // a few bars stand in the middle
	var sb strings.Builder
	id := "trend-" + strings.NewReplacer(" ", "-", "\"", "", "<", "", ">", "", "&", "").Replace(root)
	desc := make([]string, len(pts))
	for i, p := range pts {
		desc[i] = fmt.Sprintf("%s: %d", p.AsOf, p.Count)
	}
	fmt.Fprintf(&sb, `<svg class="trend" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, w, hgt, id, id)
	fmt.Fprintf(&sb, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, template.HTMLEscapeString(text(lang, "overview.trend")),
		id, template.HTMLEscapeString(strings.Join(desc, "; ")))
	for t := 0; t <= ceil; t += step {
		y := float64(top) + plotH - plotH*float64(t)/float64(ceil)
		fmt.Fprintf(&sb, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, w-right, y, y)
		fmt.Fprintf(&sb, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, left-6, y+4, t)
	}
	labelEvery := 1
	if len(pts) > 8 {
		labelEvery = 2
	}
	for i, p := range pts {
		x := float64(left) + offset + slot*float64(i) + (slot-barW)/2
		bh := plotH * float64(p.Count) / float64(ceil)
		y := float64(top) + plotH - bh
		cls := "bar"
		if i == len(pts)-1 {
			cls = "bar latest"
		}
		fmt.Fprintf(&sb, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
			cls, x, y, barW, max(bh, 0.5), template.HTMLEscapeString(desc[i]))
		fmt.Fprintf(&sb, `<text class="value" x="%.1f" y="%.1f" text-anchor="middle">%d</text>`, x+barW/2, y-6, p.Count)
		if i%labelEvery == 0 || i == len(pts)-1 {
			fmt.Fprintf(&sb, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, hgt-bottom+18,
				template.HTMLEscapeString(p.AsOf))
		}
	}
	fmt.Fprintf(&sb, `<line class="base" x1="%d" x2="%d" y1="%d" y2="%d"/>`, left, w-right, hgt-bottom, hgt-bottom)
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // built here from numbers and escaped text only
}

// niceStep is a round gridline step for values up to maxV (four steps or so).
func niceStep(maxV int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000} {
		if s*4 >= maxV {
			return s
		}
	}
	s := 10000
	for s*4 < maxV {
		s *= 2
	}
	return s
}
