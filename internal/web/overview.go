package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

type overviewPage struct {
	Organs []organView
}

// organView is one root of the overview: an organ, or a department user's subtree.
type organView struct {
	Root     *node
	Rep      *duty.Report // the latest report covering the root, nil before the first scan
	Revision string
	Trend    template.HTML
	Points   []trendPoint
	CanScan  bool
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
}

func (c *sevCounts) add(severity string) {
	switch severity {
	case "high":
		c.High++
	case "medium":
		c.Medium++
	default:
		c.Low++
	}
	c.Total++
}

// overview shows each visible root (every organ, or the department user's subtree) as a tree
// with open violations by severity, the latest scan, and the trend over the stored scans.
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
	roots := scopeRoots(tree, rq.p)
	scans, err := h.Store.ListScans(rq.ctx, 100)
	if err != nil {
		return err
	}
	var page overviewPage
	for _, root := range roots {
		if tree.Department(root) == nil {
			continue
		}
		ov := organView{CanScan: rq.p.Can(duty.RunScans)}
		rep, err := h.Scans.Latest(rq.ctx, root)
		switch {
		case errors.Is(err, duty.ErrNotFound):
		case err != nil:
			return err
		default:
			ov.Rep = rep
			if ov.Revision, err = h.revisionLabel(rq.ctx, rep.PolicyRevision); err != nil {
				return err
			}
		}
		ov.Root = buildTree(rq.lang, tree, root, ov.Rep)
		ov.Points = trend(tree, root, scans)
		ov.Trend = trendSVG(rq.lang, root, ov.Points)
		page.Organs = append(page.Organs, ov)
	}
	return h.render(rq, http.StatusOK, "overview", text(rq.lang, "overview.title"), page)
}

// buildTree makes the node tree under root and counts each violation in its department and
// every ancestor up to root.
func buildTree(lang string, tree *orgTree, root string, rep *duty.Report) *node {
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
	if rep != nil {
		for _, v := range rep.Violations {
			for cur, hops := v.Department, 0; cur != "" && hops < 64; hops++ {
				if n := nodes[cur]; n != nil {
					n.Counts.add(v.Severity)
				}
				if cur == root {
					break
				}
				cur = tree.Department(cur).Str("parent_id")
			}
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
// of that date (the one the department's report would show), from the stored per-department
// summary: re-running a date replaces its point instead of adding one. The points are ordered
// by as-of date.
func trend(tree *orgTree, root string, scans []duty.Scan) []trendPoint {
	sub := tree.Subtree(root)
	last := map[string]duty.Scan{} // as-of date → the last finished scan of that date covering root
	for _, sc := range scans {
		if sc.Status != duty.ScanDone || sc.Summary == nil {
			continue
		}
		if sc.Department != "" && !tree.Subtree(sc.Department)[root] {
			continue
		}
		if l, ok := last[sc.AsOf]; !ok || sc.FinishedAt > l.FinishedAt || sc.FinishedAt == l.FinishedAt && sc.ID > l.ID {
			last[sc.AsOf] = sc
		}
	}
	out := make([]trendPoint, 0, len(last))
	for asOf, sc := range last {
		n := 0
		for d, c := range sc.Summary.ByDepartment {
			if sub[d] {
				n += c
			}
		}
		out = append(out, trendPoint{AsOf: asOf, Scan: sc.ID, Count: n})
	}
	slices.SortFunc(out, func(a, b trendPoint) int { return strings.Compare(a.AsOf, b.AsOf) })
	if len(out) > maxTrend {
		out = out[len(out)-maxTrend:]
	}
	return out
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

// scopeRoots are the departments a principal's pages start from.
func scopeRoots(tree *orgTree, p duty.Principal) []string {
	if s := p.Scope(); s != "" {
		return []string{s}
	}
	return tree.Organs()
}
