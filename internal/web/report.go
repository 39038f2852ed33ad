package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// filter is what the report pages narrow the violations to (GET parameters duty, severity,
// reason); the downloads take the same parameters, so they hold exactly what is shown.
type filter struct {
	Duty, Severity, Reason string
}

func parseFilter(q url.Values) filter {
	return filter{Duty: q.Get("duty"), Severity: q.Get("severity"), Reason: q.Get("reason")}
}

func (f filter) match(v *duty.Violation) bool {
	return (f.Duty == "" || v.Policy == f.Duty) && (f.Severity == "" || v.Severity == f.Severity) &&
		(f.Reason == "" || v.Reason == f.Reason)
}

// Active reports whether any filter is set.
func (f filter) Active() bool { return f != filter{} }

// Query is the filter as a query string ("" or "?duty=…").
func (f filter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"duty": f.Duty, "severity": f.Severity, "reason": f.Reason} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// isNew reports whether a violation fails for the first time in the report's scan.
func isNew(rep *duty.Report, v *duty.Violation) bool {
	return v.FirstSeen == nil || v.FirstSeen.ScanID == rep.ScanID
}

// filtered returns a copy of the report holding only the matching violations, resolved checks,
// warnings and waived violations, with its summary counted again over them.
func filtered(rep *duty.Report, f filter) *duty.Report {
	out := *rep
	out.Violations = []duty.Violation{}
	for i := range rep.Violations {
		if f.match(&rep.Violations[i]) {
			out.Violations = append(out.Violations, rep.Violations[i])
		}
	}
	out.Resolved = []duty.Violation{}
	for i := range rep.Resolved {
		if f.match(&rep.Resolved[i]) {
			out.Resolved = append(out.Resolved, rep.Resolved[i])
		}
	}
	out.Warnings = []duty.Warning{}
	for i := range rep.Warnings {
		if f.match(&rep.Warnings[i].Violation) {
			out.Warnings = append(out.Warnings, rep.Warnings[i])
		}
	}
	out.Waived = nil
	for i := range rep.Waived {
		if f.match(&rep.Waived[i].Violation) {
			out.Waived = append(out.Waived, rep.Waived[i])
		}
	}
	sum := duty.Summarize(out.Violations)
	sum.New = 0
	for i := range out.Violations {
		if isNew(rep, &out.Violations[i]) {
			sum.New++
		} else {
			sum.Persisting++
		}
	}
	sum.Resolved, sum.Warnings, sum.Waived = len(out.Resolved), len(out.Warnings), len(out.Waived)
	out.Summary = sum
	return &out
}

// filterChoice is one select of a report's filter form: the query parameter, the key of its
// label, and its options.
type filterChoice struct {
	Name, Label string
	Options     []option
}

// reportView is a report as the pages show it: filtered, grouped by duty, with names.
type reportView struct {
	Rep    *duty.Report // filtered
	All    int          // violations before filtering
	Filter filter
	Action string // the page the filter form submits to
	CSV    string
	JSON   string
	XLSX   string
	// Filters are the filter form's choices: duty, severity, reason.
	Filters  []filterChoice
	Groups   []group
	Resolved []row
	// Waived are the violations an approved waiver set aside, each with the waiver.
	Waived   []waivedRow
	Revision string
}

// waivedRow is a waived violation with the waiver that set it aside (its id and end date).
type waivedRow struct {
	row
	Waiver duty.WaiverRef
}

type group struct {
	Policy   string
	Severity string
	Rows     []row
}

type row struct {
	V        duty.Violation
	Dept     string // the department's name
	Subject  string // the subject's name or label
	New      bool
	Key      string // policy|subject|reason|details, for tests and scripts
	Evidence []evidence
}

type evidence struct {
	Ref   duty.Ref
	Label string
}

var severityRank = map[string]int{"high": 0, "medium": 1, "low": 2}

// namer labels records for people: departments and people by name, others by kind and id.
type namer struct {
	ctx    context.Context
	h      *handler
	tree   *orgTree
	people map[string]string
	// err is the first store failure of a lookup (lookupPerson): a page that used the namer
	// returns it rather than show ids for names.
	err error
}

func (h *handler) newNamer(ctx context.Context, tree *orgTree) *namer {
	return &namer{ctx: ctx, h: h, tree: tree, people: map[string]string{}}
}

func (n *namer) dept(id string) string {
	if d := n.tree.Department(id); d != nil {
		return d.Str("name")
	}
	return id
}

func (n *namer) person(id string) string {
	if name, ok := n.people[id]; ok {
		return name
	}
	name := n.lookupPerson(id)
	n.people[id] = name
	return name
}

func (n *namer) ref(lang string, r duty.Ref) string {
	switch r.Collection {
	case "departments":
		return n.dept(r.ID)
	case "people":
		return n.person(r.ID)
	}
	return code(lang, "coll", r.Collection) + " " + r.ID
}

// buildReport prepares a report for a page at path (the filter form's action and the base of
// the download links).
func (h *handler) buildReport(ctx context.Context, lang string, rep *duty.Report, f filter, path string, tree *orgTree) (*reportView, error) {
	shown := filtered(rep, f)
	v := &reportView{Rep: shown, All: len(rep.Violations), Filter: f, Action: path,
		CSV: path + "/report.csv" + f.Query(), JSON: path + "/report.json" + f.Query(), XLSX: path + "/report.xlsx" + f.Query()}
	var err error
	if v.Revision, err = h.revisionLabel(ctx, rep.PolicyRevision); err != nil {
		return nil, err
	}
	// Filter choices: what the unfiltered report holds, with counts, plus the current choice.
	duties, reasons := map[string]int{}, map[string]int{}
	sevs := map[string]int{}
	for _, x := range rep.Violations {
		duties[x.Policy]++
		reasons[x.Reason]++
		sevs[x.Severity]++
	}
	p := &Page{Lang: lang, h: h}
	choice := func(name, label string, values []string, counts map[string]int, chosen string, labelOf func(string) string) {
		c := filterChoice{Name: name, Label: label}
		for _, x := range values {
			c.Options = append(c.Options, option{Value: x, Label: fmt.Sprintf("%s (%d)", labelOf(x), counts[x]), Selected: x == chosen})
		}
		v.Filters = append(v.Filters, c)
	}
	choice("duty", "report.duty", sortedKeys(duties, f.Duty), duties, f.Duty, p.PolicyTitle)
	choice("severity", "severity", duty.Severities, sevs, f.Severity, p.Sev)
	choice("reason", "report.reason", sortedKeys(reasons, f.Reason), reasons, f.Reason, func(r string) string { return p.Reason("", r) })

	names := h.newNamer(ctx, tree)
	var refs []duty.Ref
	var depts []string
	named := func(x *duty.Violation) {
		for _, r := range append([]duty.Ref{x.Subject}, x.Evidence...) {
			refs, depts = append(refs, r), append(depts, x.Department)
		}
	}
	for i := range shown.Violations {
		named(&shown.Violations[i])
	}
	for i := range shown.Resolved {
		named(&shown.Resolved[i])
	}
	for i := range shown.Waived {
		named(&shown.Waived[i].Violation)
	}
	if err := names.preload(refs, depts); err != nil {
		return nil, err
	}
	mk := func(x duty.Violation) row {
		r := row{V: x, Dept: names.dept(x.Department), Subject: names.ref(lang, x.Subject), New: isNew(rep, &x),
			Key: strings.Join([]string{x.Policy, x.Subject.Collection + "/" + x.Subject.ID, x.Reason, duty.DetailString(x.Details)}, "|")}
		for _, e := range x.Evidence {
			r.Evidence = append(r.Evidence, evidence{Ref: e, Label: names.ref(lang, e)})
		}
		return r
	}
	byPolicy := map[string]*group{}
	for _, x := range shown.Violations {
		g := byPolicy[x.Policy]
		if g == nil {
			g = &group{Policy: x.Policy, Severity: x.Severity}
			byPolicy[x.Policy] = g
		}
		g.Rows = append(g.Rows, mk(x))
	}
	for _, g := range byPolicy {
		v.Groups = append(v.Groups, *g)
	}
	slices.SortFunc(v.Groups, func(a, b group) int {
		if d := severityRank[a.Severity] - severityRank[b.Severity]; d != 0 {
			return d
		}
		return strings.Compare(a.Policy, b.Policy)
	})
	for _, x := range shown.Resolved {
		r := mk(x)
		r.New = false
		v.Resolved = append(v.Resolved, r)
	}
	for _, x := range shown.Waived {
		r := mk(x.Violation)
		r.New = false
		v.Waived = append(v.Waived, waivedRow{row: r, Waiver: x.Waiver})
	}
	if names.err != nil {
		return nil, names.err
	}
	return v, nil
}

// Rows lists the shown violations in group order, as the CSV download holds them.
func (v *reportView) Rows() []row {
	var out []row
	for _, g := range v.Groups {
		out = append(out, g.Rows...)
	}
	return out
}

func sortedKeys(m map[string]int, extra string) []string {
	out := make([]string, 0, len(m)+1)
	for k := range m {
		out = append(out, k)
	}
	if extra != "" && m[extra] == 0 {
		out = append(out, extra)
	}
	slices.Sort(out)
	return out
}

// revisionLabel names the policy revision a report was made with: the store's revision id
// (r3) when known, and the start of the content hash.
func (h *handler) revisionLabel(ctx context.Context, hash string) (string, error) {
	short := hash
	if len(short) > 10 {
		short = short[:10]
	}
	revs, err := h.Store.Revisions(ctx)
	if err != nil {
		return "", err
	}
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].Hash == hash {
			return revs[i].ID + " · " + short, nil
		}
	}
	return short, nil
}

// departmentPage is the department report page.
type departmentPage struct {
	ID       string
	Name     string
	Kind     string
	Crumbs   []crumb
	Children []crumb
	Report   *reportView // nil before the first scan covering the department
	CanScan  bool
}

type crumb struct {
	ID, Name string
}

// orgTree is the department forest with each department's children in the seed's order.
type orgTree struct {
	*duty.Tree
	kids map[string][]string
}

// treeCache keeps the last orgTree made, for the store's tree it was made of (the store's Tree keeps
// one while the departments do not change): a province has tens of thousands of departments.
type treeCache struct {
	mu   sync.Mutex
	base *duty.Tree
	tree *orgTree
}

func (h *handler) tree(ctx context.Context) (*orgTree, error) {
	base, err := h.Store.Tree(ctx)
	if err != nil {
		return nil, err
	}
	h.trees.mu.Lock()
	defer h.trees.mu.Unlock()
	if h.trees.base == base {
		return h.trees.tree, nil
	}
	depts, err := h.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	t := &orgTree{Tree: base, kids: map[string][]string{}}
	for _, d := range depts {
		if p := d.Str("parent_id"); p != "" {
			t.kids[p] = append(t.kids[p], d.ID())
		}
	}
	for _, ids := range t.kids {
		slices.SortFunc(ids, func(a, b string) int {
			ka, kb := kindOrder[t.Department(a).Str("kind")], kindOrder[t.Department(b).Str("kind")]
			if ka != kb {
				return ka - kb
			}
			return strings.Compare(a, b)
		})
	}
	h.trees.base, h.trees.tree = base, t
	return t, nil
}

// children returns the departments directly under id, in the seed's order.
func (t *orgTree) children(id string) []string { return t.kids[id] }

// visibleDepartment checks that department id exists and is in the part of the tree the user
// may see (duty.Reach); anything else is not found, so that a department user learns nothing
// about other subtrees.
func (h *handler) visibleDepartment(rq *request, id string) (*orgTree, duty.Reach, error) {
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return nil, duty.Reach{}, err
	}
	reach := duty.ReachOf(rq.p, tree.Tree)
	if tree.Department(id) == nil || !reach.Department(id) {
		return nil, duty.Reach{}, fmt.Errorf("department %q: %w", id, duty.ErrNotFound)
	}
	return tree, reach, nil
}

func (h *handler) departmentReport(rq *request) error {
	id := rq.r.PathValue("id")
	tree, reach, err := h.visibleDepartment(rq, id)
	if err != nil {
		return err
	}
	d := tree.Department(id)
	page := departmentPage{ID: id, Name: d.Str("name"), Kind: d.Str("kind"), CanScan: rq.p.Can(duty.RunScans)}
	// Breadcrumbs up to the organ, or to the user's scope.
	for cur := d.Str("parent_id"); cur != ""; {
		pd := tree.Department(cur)
		if pd == nil || !reach.Department(cur) {
			break
		}
		page.Crumbs = append([]crumb{{ID: cur, Name: pd.Str("name")}}, page.Crumbs...)
		cur = pd.Str("parent_id")
		if len(page.Crumbs) > 64 {
			break
		}
	}
	for _, c := range tree.children(id) {
		page.Children = append(page.Children, crumb{ID: c, Name: tree.Department(c).Str("name")})
	}
	rep, err := h.scans.Latest(rq.ctx, rq.p, id)
	switch {
	case errors.Is(err, duty.ErrNotFound):
	case err != nil:
		return err
	default:
		if page.Report, err = h.buildReport(rq.ctx, rq.lang, rep, parseFilter(rq.r.URL.Query()), "/departments/"+url.PathEscape(id), tree); err != nil {
			return err
		}
	}
	return h.render(rq, http.StatusOK, "department", page.Name, page)
}

func (h *handler) departmentDownload(format string) pageFunc {
	return func(rq *request) error {
		id := rq.r.PathValue("id")
		if _, _, err := h.visibleDepartment(rq, id); err != nil {
			return err
		}
		rep, err := h.scans.Latest(rq.ctx, rq.p, id)
		if err != nil {
			return err
		}
		return h.download(rq, filtered(rep, parseFilter(rq.r.URL.Query())), format, "report-"+id+"-"+rep.AsOf)
	}
}

// download writes a report as an attachment. The CSV is duty.WriteCSV's: a byte order mark so
// that spreadsheet programs read the Chinese text as UTF-8, formulas neutralised, the Chinese
// titles as its header row (the staff read it) and names beside the ids.
func (h *handler) download(rq *request, rep *duty.Report, format, name string) error {
	w := rq.w
	switch format {
	case "xlsx":
		return h.reportXLSX(rq, rep, name)
	case "csv":
		names, err := sheet.ReportNamer(rq.ctx, h.Store.Get, rep)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", sheet.Disposition(name+".csv"))
		w.WriteHeader(http.StatusOK)
		return duty.WriteCSV(w, rep, h.Policies.Catalogue(), duty.CSVOptions{Chinese: true, Names: names})
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Disposition", sheet.Disposition(name+".json"))
		w.WriteHeader(http.StatusOK)
		return duty.WriteJSON(w, rep)
	}
}

// kindOrder places departments as the seed lists them: committees, offices, special
// committees, divisions, units, branches.
var kindOrder = map[string]int{"organ": 0, "party_committee": 1, "discipline_committee": 2, "office": 3,
	"special_committee": 4, "division": 5, "unit": 6, "branch": 7}
