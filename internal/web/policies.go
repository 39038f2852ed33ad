package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// paramView is one parameter in the form. Its label and choices come from the policy's METADATA
// (custom.params: zh, enum with zh and en labels), so the form offers only allowed values.
type paramView struct {
	Name, Label, Desc, Type string
	Unit                    string // the unit of a number, in the page's language
	Text                    string // the value as the form shows it
	Min, Max                string
	Checked                 bool
	Choices                 []choiceView // allowed values; the form shows a list to pick from
	Multi                   bool         // an array of choices: several may be picked
}

// choiceView is one allowed value of a parameter, with its label in the page's language.
type choiceView struct {
	Value, Label string
	Selected     bool
}

type policyRow struct {
	Meta     duty.PolicyMeta
	Title    string
	Desc     string
	Severity string
	Params   []paramView
}

type policyListPage struct {
	policyChrome
	Revision string
	Hash     string
	DirMode  bool
	Policies []policyRow
	// Settings are the bundle's settings (the ledger's parameters), edited like a duty's.
	Settings []policyRow
	CanEdit  bool
}

// policyChrome is what every policy page carries besides its content: the revision the page was
// read on (sent back by every form, so that a change made on it is refused once another came
// first), the banner of a newer built-in bundle with its adopt form, and the refusal of a stale
// change.
type policyChrome struct {
	Base     string // the revision the forms were read on
	Drift    *duty.PolicyDrift
	Changes  []duty.FileDiff // what adopting the built-in bundle would change
	CanAdopt bool
	Adopted  string // the revision an adoption just made
	Stale    *duty.StaleError
	NoBase   bool   // a form came without its base
	Reload   string // the page to reload after a refusal
	// AdoptHere: the adopt form is on this page (the policy list); others link to it.
	AdoptHere bool
}

// chrome fills the policy chrome for the revision in force; a form's own base, when it sent
// one, is kept so that re-showing the form after a refusal does not silently move it on.
func (h *handler) chrome(rq *request, reload string) policyChrome {
	c := policyChrome{Base: h.Policies.Revision(), Drift: h.Policies.Drift(),
		CanAdopt: rq.p.Can(duty.WritePolicies) && !h.Policies.DirMode(), Reload: reload, AdoptHere: reload == "/policies"}
	if rq.r.Method == http.MethodPost {
		c.Base = rq.r.PostForm.Get("base")
	}
	if c.Drift != nil {
		c.Changes = h.Policies.BuiltinChanges()
	}
	return c
}

// refusal shows a stale or base-less change on the page; it reports the status, or false when
// the error is of another kind.
func (c *policyChrome) refusal(err error) (int, bool) {
	var se *duty.StaleError
	switch {
	case errors.As(err, &se):
		c.Stale = se
		return http.StatusConflict, true
	case errors.Is(err, duty.ErrBaseRequired):
		c.NoBase = true
		return http.StatusPreconditionRequired, true
	}
	return 0, false
}

// change is a change made in the pages by the signed-in user on the form's base.
func (rq *request) change(message string) duty.PolicyChange {
	return duty.PolicyChange{Base: rq.r.PostForm.Get("base"), Author: rq.p.User, Source: duty.SourcePage, Message: message}
}

func (h *handler) policyRow(lang string, m duty.PolicyMeta) policyRow {
	e := h.Policies.Catalogue()
	r := policyRow{Meta: m, Title: m.Title, Desc: m.Description, Severity: m.Severity}
	if lang == langEN {
		if m.TitleEN != "" {
			r.Title = m.TitleEN
		}
		if m.DescriptionEN != "" {
			r.Desc = m.DescriptionEN
		}
	}
	values := e.Params(m.ID)
	if s, ok := values["severity"].(string); ok && s != "" {
		r.Severity = s
	}
	names := make([]string, 0, len(m.Params))
	for n := range m.Params {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { // severity last: it is the same for every policy
		if (a == "severity") != (b == "severity") {
			if a == "severity" {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	for _, n := range names {
		schema, _ := m.Params[n].(map[string]any)
		pv := paramView{Name: n, Label: n}
		pv.Type, _ = schema["type"].(string)
		pv.Desc, _ = schema["description"].(string)
		pl := m.ParamLabels[n]
		label, unit := pl.Label.ZH, pl.Unit.ZH
		if lang == langEN {
			label, unit = pl.Label.EN, pl.Unit.EN
		}
		switch {
		case label != "":
			pv.Label = label
		case pv.Type == "severity":
			pv.Label = text(lang, "severity")
		}
		pv.Unit = unit
		if pv.Type != "severity" { // the severity list has its own labels (i18n)
			for _, c := range duty.Choices(schema) {
				cv := choiceView{Value: paramText(c.Value), Label: c.ZH}
				if lang == langEN || cv.Label == "" {
					cv.Label = c.EN
				}
				pv.Choices = append(pv.Choices, cv)
			}
			pv.Multi = pv.Type == "array" && len(pv.Choices) > 0
		}
		if v, ok := schema["minimum"]; ok {
			pv.Min = fmt.Sprint(v)
		}
		if v, ok := schema["maximum"]; ok {
			pv.Max = fmt.Sprint(v)
		}
		pv.Text = paramText(values[n])
		if b, ok := values[n].(bool); ok {
			pv.Checked = b
		}
		pv.selectChoices(values[n])
		r.Params = append(r.Params, pv)
	}
	return r
}

// selectChoices marks the choices the value holds (one value, or the elements of an array).
func (pv *paramView) selectChoices(v any) {
	held := map[string]bool{}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			held[paramText(e)] = true
		}
	} else if v != nil {
		held[paramText(v)] = true
	}
	for i := range pv.Choices {
		pv.Choices[i].Selected = held[pv.Choices[i].Value]
	}
}

// paramText shows a parameter value in a form field: arrays as comma-separated lists.
func paramText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func (h *handler) policyList(rq *request) error {
	e := h.Policies.Catalogue()
	page := policyListPage{policyChrome: h.chrome(rq, "/policies"), Revision: h.Policies.Revision(), Hash: e.Revision(), DirMode: h.Policies.DirMode(),
		CanEdit: rq.p.Can(duty.WritePolicies)}
	page.Adopted = rq.r.URL.Query().Get("adopted")
	h.listRows(rq, &page)
	return h.render(rq, http.StatusOK, "policies", text(rq.lang, "policies.title"), page)
}

// listRows fills the policy list's rows: the duties, then the settings.
func (h *handler) listRows(rq *request, page *policyListPage) {
	e := h.Policies.Catalogue()
	for _, m := range e.Policies() {
		page.Policies = append(page.Policies, h.policyRow(rq.lang, m))
	}
	for _, m := range e.Settings() {
		page.Settings = append(page.Settings, h.policyRow(rq.lang, m))
	}
}

// adoptBuiltin makes this binary's built-in bundle a new revision, on the base the page was
// read on.
func (h *handler) adoptBuiltin(rq *request) error {
	rev, err := h.Policies.AdoptBuiltin(rq.ctx, rq.change(""))
	if err == nil {
		return rq.redirect("/policies?adopted=" + url.QueryEscape(rev.ID))
	}
	page := policyListPage{policyChrome: h.chrome(rq, "/policies"), Revision: h.Policies.Revision(), Hash: h.Policies.Catalogue().Revision(),
		DirMode: h.Policies.DirMode(), CanEdit: rq.p.Can(duty.WritePolicies)}
	status, ok := page.refusal(err)
	if !ok {
		return err
	}
	h.listRows(rq, &page)
	return h.render(rq, status, "policies", text(rq.lang, "policies.title"), page)
}

// policyPage is one policy: METADATA, parameters, and the editors with their results.
type policyPage struct {
	policyRow
	policyChrome
	Revision    string
	ModuleFile  string
	TestFile    string
	Module      string
	Test        string
	CanEdit     bool
	DirMode     bool
	Departments []option
	AsOf        string
	Message     string
	Applied     string

	// The outcome of a check, preview or apply of one of the forms ("params" or "module").
	Form     string
	Problems []policyProblem
	Failed   []duty.TestResult
	Passed   int
	OK       bool
	Error    string
	Impact   *impactView
	Listing  []lineView // the submitted module, with problems under their lines
	TListing []lineView // the submitted tests, likewise
}

// draftForm is one of the page's two forms (params or module), for the shared form fields.
type draftForm struct {
	*policyPage
	Name string
}

// For returns the page as seen by the form named name.
func (p *policyPage) For(name string) draftForm { return draftForm{policyPage: p, Name: name} }

type impactView struct {
	AsOf      string
	Scope     string
	Added     []row
	Removed   []row
	NAdded    int
	NRemoved  int
	Unchanged int
	// CountsOnly: the caller may not read records; ByPolicy and ByDept say what changes.
	CountsOnly bool
	ByPolicy   []countRow
	ByDept     []countRow
}

// countRow is how many violations a draft adds and removes for one policy or department.
type countRow struct {
	Key, Name      string
	Added, Removed int
}

func countRows(added, removed map[string]int, name func(string) string) []countRow {
	keys := map[string]bool{}
	for k := range added {
		keys[k] = true
	}
	for k := range removed {
		keys[k] = true
	}
	out := make([]countRow, 0, len(keys))
	for k := range keys {
		out = append(out, countRow{Key: k, Name: name(k), Added: added[k], Removed: removed[k]})
	}
	slices.SortFunc(out, func(a, b countRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

type lineView struct {
	N        int
	Text     string
	Problems []string
}

func (h *handler) newPolicyPage(rq *request, id string) (*policyPage, error) {
	e := h.Policies.Catalogue()
	m, ok := e.ParamSet(id) // a duty, or settings (the ledger's parameters)
	if !ok {
		return nil, fmt.Errorf("policy %q: %w", id, duty.ErrNotFound)
	}
	module, _ := e.File(m.File)
	test, _ := e.File(duty.PolicyTestFile(m.File))
	page := &policyPage{policyRow: h.policyRow(rq.lang, m), policyChrome: h.chrome(rq, "/policies/"+url.PathEscape(id)), Revision: h.Policies.Revision(), ModuleFile: m.File,
		TestFile: duty.PolicyTestFile(m.File), Module: module, Test: test,
		CanEdit: rq.p.Can(duty.WritePolicies) && !h.Policies.DirMode(), DirMode: h.Policies.DirMode()}
	if page.CanEdit {
		tree, err := h.tree(rq.ctx)
		if err != nil {
			return nil, err
		}
		dept := rq.r.FormValue("department")
		page.Departments = h.departmentOptions(rq, tree, dept)
		page.AsOf = rq.r.FormValue("as_of")
		if page.AsOf == "" {
			page.AsOf = h.latestAsOf(rq)
		}
		page.Message = rq.r.FormValue("message")
	}
	return page, nil
}

// latestAsOf is the as-of date of the latest finished scan (previews default to it, so that
// they compare with the report people look at), else today.
func (h *handler) latestAsOf(rq *request) string {
	scans, err := h.Store.ListScans(rq.ctx, 20)
	if err == nil {
		for _, sc := range scans {
			if sc.Status == duty.ScanDone {
				return sc.AsOf
			}
		}
	}
	return h.cfg.Today()
}

func (h *handler) policyPage(rq *request) error {
	page, err := h.newPolicyPage(rq, rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	page.Applied = rq.r.URL.Query().Get("applied")
	return h.render(rq, http.StatusOK, "policy", page.Title, page)
}

var listSep = regexp.MustCompile(`[,,、;;\s]+`)

// policyParams checks, previews or applies new parameter values of one policy. Only the values
// that differ from those in force make the draft; the gate (duty.Policies) checks them.
func (h *handler) policyParams(rq *request) error {
	id := rq.r.PathValue("id")
	page, err := h.newPolicyPage(rq, id)
	if err != nil {
		return err
	}
	page.Form = "params"
	rq.self = "/policies/" + id
	current := h.Policies.Catalogue().Params(id)
	changed := map[string]any{}
	for i, pv := range page.Params {
		raw, present := rq.r.PostForm["p."+pv.Name]
		var v any
		switch pv.Type {
		case "boolean":
			v = present && len(raw) > 0 && raw[0] == "true"
			page.Params[i].Checked = v.(bool)
		case "integer", "number":
			if !present {
				continue
			}
			s := strings.TrimSpace(raw[0])
			page.Params[i].Text = s
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				v = n
			} else if f, err := strconv.ParseFloat(s, 64); err == nil && pv.Type == "number" {
				v = f
			} else {
				v = s // the gate names the type it expected
			}
			page.Params[i].selectChoices(v)
		case "array":
			// Choices come as one form value each (checkboxes); a text field as one list. A form
			// with every choice unchecked sends none, and its marker says the field was shown.
			if !present && (!pv.Multi || rq.r.PostForm.Get("shown."+pv.Name) == "") {
				continue
			}
			page.Params[i].Text = strings.Join(raw, ", ")
			items := []any{}
			for _, r := range raw {
				for _, s := range listSep.Split(strings.TrimSpace(r), -1) {
					if s != "" {
						items = append(items, s)
					}
				}
			}
			v = items
			page.Params[i].selectChoices(v)
		default:
			if !present {
				continue
			}
			s := strings.TrimSpace(raw[0])
			page.Params[i].Text = s
			v = s
			page.Params[i].selectChoices(v)
		}
		if !sameJSON(v, current[pv.Name]) {
			changed[pv.Name] = v
		}
	}
	d := duty.PolicyDraft{Params: map[string]map[string]any{id: changed}, Message: page.Message}
	if len(changed) == 0 {
		d.Params = nil
	}
	if d.Message == "" {
		d.Message = "changed parameters of " + id + " in the web pages"
	}
	return h.runDraft(rq, page, d)
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// policyModule checks, previews or applies a new module (and tests) of one policy.
func (h *handler) policyModule(rq *request) error {
	id := rq.r.PathValue("id")
	page, err := h.newPolicyPage(rq, id)
	if err != nil {
		return err
	}
	page.Form = "module"
	rq.self = "/policies/" + id
	module := strings.ReplaceAll(rq.r.PostForm.Get("module"), "\r\n", "\n")
	test := strings.ReplaceAll(rq.r.PostForm.Get("test"), "\r\n", "\n")
	page.Module, page.Test = module, test
	d := duty.PolicyDraft{Files: map[string]*string{page.ModuleFile: &module}, Message: page.Message}
	// The tests change only when the form sends them: emptied, the test file is removed.
	inForce, exists := h.Policies.Catalogue().File(page.TestFile)
	if _, sent := rq.r.PostForm["test"]; !sent {
		page.Test = inForce
	} else if strings.TrimSpace(test) != "" {
		d.Files[page.TestFile] = &test
	} else if exists {
		d.Files[page.TestFile] = nil
	}
	if d.Message == "" {
		d.Message = "changed the module of " + id + " in the web pages"
	}
	return h.runDraft(rq, page, d)
}

// runDraft does what the form's action button asks with the draft: check it, preview its
// impact, or apply it. Refusals are shown on the page, next to the form.
func (h *handler) runDraft(rq *request, page *policyPage, d duty.PolicyDraft) error {
	var err error
	switch rq.r.PostForm.Get("action") {
	case "apply":
		var rev *duty.PolicyRevision
		if rev, err = h.Policies.Apply(rq.ctx, d, rq.change(d.Message)); err == nil {
			return rq.redirect("/policies/" + url.PathEscape(page.Meta.ID) + "?applied=" + url.QueryEscape(rev.ID))
		}
	case "preview":
		dept := rq.r.PostForm.Get("department")
		if page.AsOf != "" && !duty.ValidDate(page.AsOf) {
			err = fmt.Errorf("%s: %w", text(rq.lang, "scan.bad.date"), duty.ErrInvalid)
			break
		}
		// The preview checks the principal's scope and audits itself (duty.Policies.Preview).
		release, serr := h.scans.Slot() // a preview evaluates like a scan (the API's previewPolicies)
		if serr != nil {
			return serr
		}
		defer release()
		var imp *duty.PolicyImpact
		if imp, err = h.Policies.Preview(rq.ctx, d, duty.ScanRequest{Department: dept, AsOf: page.AsOf}, rq.p); err == nil {
			page.Impact, err = h.impactView(rq, imp)
			if err != nil {
				return err
			}
		}
	default: // check
		var results []duty.TestResult
		results, err = h.Policies.Validate(rq.ctx, d)
		if err == nil {
			page.OK, page.Passed = true, len(results)
		}
	}
	status := http.StatusOK
	if err != nil {
		var be *duty.BundleError
		if st, ok := page.refusal(err); ok {
			status = st
		}
		switch {
		case page.Stale != nil || page.NoBase:
		case errors.As(err, &be):
			page.Problems = policyProblems(rq.lang, be.Problems)
			status = http.StatusUnprocessableEntity
		case errors.Is(err, duty.ErrInvalid), errors.Is(err, duty.ErrConflict), errors.Is(err, duty.ErrNotFound):
			page.Error = err.Error()
			status = http.StatusUnprocessableEntity
		default:
			return err
		}
		if page.Form == "module" {
			var probs []duty.BundleProblem
			if be != nil {
				probs = be.Problems
			}
			page.Listing = listing(rq.lang, page.Module, page.ModuleFile, probs)
			page.TListing = listing(rq.lang, page.Test, page.TestFile, probs)
		}
	}
	return h.render(rq, status, "policy", page.Title, page)
}

func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// listing numbers the lines of a submitted file and puts each problem located in it under its
// line, explained in lang (problemLine); nil when no problem is in the file.
func listing(lang, src, file string, probs []duty.BundleProblem) []lineView {
	at := map[int][]string{}
	for _, p := range probs {
		if p.File == file && p.Row > 0 {
			at[p.Row] = append(at[p.Row], problemLine(lang, p))
		}
	}
	if len(at) == 0 {
		return nil
	}
	lines := strings.Split(src, "\n")
	out := make([]lineView, len(lines))
	for i, l := range lines {
		out[i] = lineView{N: i + 1, Text: l, Problems: at[i+1]}
	}
	for row, msgs := range at { // problems past the end (a missing brace) go on the last line
		if row > len(lines) && len(out) > 0 {
			out[len(out)-1].Problems = append(out[len(out)-1].Problems, msgs...)
		}
	}
	return out
}

// maxImpactRows bounds the rows of each impact table; the counts are always complete.
const maxImpactRows = 200

func (h *handler) impactView(rq *request, imp *duty.PolicyImpact) (*impactView, error) {
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return nil, err
	}
	names := h.newNamer(rq.ctx, tree)
	v := &impactView{AsOf: imp.AsOf, Scope: scopeName(rq.lang, tree, imp.Department), NAdded: imp.Counts.Added.Total,
		NRemoved: imp.Counts.Removed.Total, Unchanged: imp.Unchanged}
	mk := func(vs []duty.Violation) []row {
		var out []row
		for i, x := range vs {
			if i == maxImpactRows {
				break
			}
			out = append(out, row{V: x, Dept: names.dept(x.Department), Subject: names.ref(rq.lang, x.Subject)})
		}
		return out
	}
	v.Added, v.Removed = mk(imp.Added), mk(imp.Removed)
	if v.CountsOnly = !imp.Detailed; v.CountsOnly {
		c := imp.Counts
		v.ByPolicy = countRows(c.Added.ByPolicy, c.Removed.ByPolicy, func(k string) string { return k })
		v.ByDept = countRows(c.Added.ByDepartment, c.Removed.ByDepartment, names.dept)
	}
	return v, nil
}

type revisionsPage struct {
	policyChrome
	Active     string
	Revisions  []duty.PolicyRevision
	CanEdit    bool
	RolledBack string // the revision a rollback just made
	Restored   string // the revision it brought back
}

func (h *handler) revisions(rq *request) error {
	return h.showRevisions(rq, http.StatusOK, nil)
}

func (h *handler) showRevisions(rq *request, status int, refused error) error {
	revs, err := h.Store.Revisions(rq.ctx)
	if err != nil {
		return err
	}
	q := rq.r.URL.Query()
	page := revisionsPage{policyChrome: h.chrome(rq, "/policies/revisions"), Active: h.Policies.Revision(), Revisions: revs,
		CanEdit: rq.p.Can(duty.WritePolicies) && !h.Policies.DirMode(), RolledBack: q.Get("rolledback"), Restored: q.Get("restored")}
	if refused != nil {
		if st, ok := page.refusal(refused); ok {
			status = st
		} else {
			return refused
		}
		page.Base = h.Policies.Revision() // the list shows the history as it is now
	}
	return h.render(rq, status, "revisions", text(rq.lang, "rev.title"), page)
}

// rollback brings an earlier revision back as a new revision, on the base the list was read on.
func (h *handler) rollback(rq *request) error {
	rev, err := h.Policies.Rollback(rq.ctx, rq.r.PathValue("rev"), rq.change(""))
	if err != nil {
		return h.showRevisions(rq, 0, err)
	}
	return rq.redirect("/policies/revisions?rolledback=" + url.QueryEscape(rev.ID) + "&restored=" + url.QueryEscape(rev.RestoredFrom))
}

type diffPage struct {
	From, To string
	Files    []diffFile
}

type diffFile struct {
	Path, Status string
	Lines        []diffLine
}

type diffLine struct {
	Class, Text string
}

func (h *handler) diff(rq *request) error {
	q := rq.r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if from == "" || to == "" {
		return fmt.Errorf("give both from and to revisions: %w", duty.ErrInvalid)
	}
	files, err := h.Policies.Diff(rq.ctx, from, to)
	if err != nil {
		return err
	}
	page := diffPage{From: from, To: to}
	for _, f := range files {
		df := diffFile{Path: f.Path, Status: f.Status}
		for _, l := range strings.Split(strings.TrimSuffix(f.Unified, "\n"), "\n") {
			cls := "ctx"
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
				cls = "file"
			case strings.HasPrefix(l, "@@"):
				cls = "hunk"
			case strings.HasPrefix(l, "+"):
				cls = "add"
			case strings.HasPrefix(l, "-"):
				cls = "del"
			}
			df.Lines = append(df.Lines, diffLine{Class: cls, Text: l})
		}
		page.Files = append(page.Files, df)
	}
	return h.render(rq, http.StatusOK, "diff", text(rq.lang, "diff.title", from, to), page)
}
