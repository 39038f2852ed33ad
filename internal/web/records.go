package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/dutycheck/dutycheck/internal/duty"
)

type recordPage struct {
	Ref        duty.Ref
	Name       string
	Fields     []fieldView
	Extra      []fieldView // fields the schema does not name
	Violations []namedViolation
	// Warnings are the checks about the record due to fail soon, by fails_on.
	Warnings []dueRow
	Scanned  bool
	AsOf     string
	Dept     string // the record's department, for a link to its report
	DeptName string
	CanEdit  bool
	Saved    bool // just written through its form
}

// fieldView is one field of a record: a value, a list of values, or a table of objects.
type fieldView struct {
	Name  string
	Value *value
	List  []value
	Table *tableView
}

type value struct {
	Text string
	Link string // a record page, for references
}

type tableView struct {
	Cols []string
	Rows [][]value
}

type namedViolation struct {
	Row  row
	Role string // subject or evidence
}

// record shows one record's fields (references as links) and the violations of the latest
// report that name it, as subject or as evidence. Records outside a department user's subtree
// are not found.
func (h *handler) record(rq *request) error {
	coll, id := rq.r.PathValue("collection"), rq.r.PathValue("id")
	c := duty.Lookup(coll)
	if c == nil {
		return fmt.Errorf("collection %q: %w", coll, duty.ErrNotFound)
	}
	d, err := h.Store.GetScoped(rq.ctx, rq.p, coll, id)
	if err != nil {
		return err
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	names := h.newNamer(rq.ctx, tree)
	ref := duty.Ref{Collection: coll, ID: id}
	page := recordPage{Ref: ref, Name: names.ref(rq.lang, ref)}
	known := map[string]bool{}
	for _, f := range c.Fields {
		known[f.Name] = true
		if v, ok := d[f.Name]; ok {
			page.Fields = append(page.Fields, fieldOf(coll, f, v, names, rq.lang))
		}
	}
	var extra []string
	for k := range d {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		page.Extra = append(page.Extra, fieldView{Name: k, Value: &value{Text: fmt.Sprint(d[k])}})
	}

	var lookupErr error
	page.Dept = duty.DepartmentOfDoc(coll, d, func(p string) string {
		person, err := h.Store.Get(rq.ctx, "people", p)
		if err != nil {
			if !errors.Is(err, duty.ErrNotFound) && lookupErr == nil {
				lookupErr = err
			}
			return ""
		}
		return person.Str("department_id")
	})
	if lookupErr != nil {
		return lookupErr
	}
	if page.Dept != "" {
		page.DeptName = names.dept(page.Dept)
	}
	page.CanEdit = h.mayWriteDoc(rq, tree, coll, d)
	page.Saved = rq.r.URL.Query().Get("saved") != ""
	if !rq.p.Can(duty.ReadReports) {
		return h.render(rq, http.StatusOK, "record", page.Name, page)
	}
	rep, err := h.latestFor(rq, tree, page.Dept)
	if err != nil {
		return err
	}
	if rep != nil {
		page.Scanned, page.AsOf = true, rep.AsOf
		page.Violations, page.Warnings = namedIn(rq.lang, rep, names, func(r duty.Ref) bool { return r == ref },
			func(v *duty.Violation) bool { return slices.Contains(v.Evidence, ref) })
	}
	if names.err != nil {
		return names.err // a name the store could not read: an error, not an id for a name
	}
	return h.render(rq, http.StatusOK, "record", page.Name, page)
}

// mayWriteDoc is organRecs.mayWrite for one record, reading only the people it names.
func (h *handler) mayWriteDoc(rq *request, tree *orgTree, coll string, d duty.Doc) bool {
	v := &organRecs{tree: tree, people: map[string]duty.Doc{}, reach: duty.ReachOf(rq.p, tree.Tree)}
	if !v.reach.Whole() {
		for _, p := range duty.LeadersNamed(d) {
			if person, err := h.Store.Get(rq.ctx, "people", p); err == nil {
				v.people[p] = person
			}
		}
	}
	return v.mayWrite(rq, coll, d)
}

// fieldOf renders one field by its schema, labelled from the catalogue (duty.Names): references
// become links to the named record, shown by name with the id beside it; enumerated values show
// their label and booleans 是/否 (yes/no).
func fieldOf(coll string, f duty.Field, v any, names *namer, lang string) fieldView {
	fv := fieldView{Name: duty.Names.Field(coll, f.Name).In(lang)}
	one := func(f duty.Field, path string, x any) value {
		if id, ok := x.(string); ok && f.Ref != "" {
			r := duty.Ref{Collection: f.Ref, ID: id}
			label := names.ref(lang, r)
			if label != id {
				label += paren(lang, id)
			}
			return value{Text: label, Link: recordURL(r)}
		}
		return value{Text: duty.Names.Value(coll, path, x, lang)}
	}
	switch f.Kind {
	case duty.Strings:
		arr, _ := v.([]any)
		fv.List = []value{}
		for _, x := range arr {
			fv.List = append(fv.List, one(f, f.Name, x))
		}
	case duty.Objects:
		arr, _ := v.([]any)
		t := &tableView{}
		for _, sf := range f.Fields {
			t.Cols = append(t.Cols, duty.Names.Field(coll, f.Name+"."+sf.Name).In(lang))
		}
		for _, x := range arr {
			m, _ := x.(map[string]any)
			cells := make([]value, len(f.Fields))
			for i, sf := range f.Fields {
				if y, ok := m[sf.Name]; ok {
					cells[i] = one(sf, f.Name+"."+sf.Name, y)
				}
			}
			t.Rows = append(t.Rows, cells)
		}
		fv.Table = t
	default:
		x := one(f, f.Name, v)
		fv.Value = &x
	}
	return fv
}

// paren is s in brackets after a name: full-width in Chinese.
func paren(lang, s string) string {
	if lang == langEN {
		return " (" + s + ")"
	}
	return "（" + s + "）"
}
