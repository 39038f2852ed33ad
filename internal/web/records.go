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

	page.Dept = duty.DepartmentOfDoc(coll, d, func(p string) string {
		person, err := h.Store.Get(rq.ctx, "people", p)
		if err != nil {
			return ""
		}
		return person.Str("department_id")
	})
	if page.Dept != "" {
		page.DeptName = names.dept(page.Dept)
	}
	if !rq.p.Can(duty.ReadReports) {
		return h.render(rq, http.StatusOK, "record", page.Name, page)
	}
	// The latest report covering the record: the user's subtree, else the record's organ.
	root := rq.p.Scope()
	if root == "" {
		root = tree.Organ(page.Dept)
	}
	if root != "" {
		rep, err := h.Scans.Latest(rq.ctx, root)
		switch {
		case errors.Is(err, duty.ErrNotFound):
		case err != nil:
			return err
		default:
			page.Scanned, page.AsOf = true, rep.AsOf
			for _, v := range rep.Violations {
				role := ""
				if v.Subject == ref {
					role = "record.as.subject"
				} else if slices.Contains(v.Evidence, ref) {
					role = "record.as.evidence"
				}
				if role == "" {
					continue
				}
				r := row{V: v, Dept: names.dept(v.Department), Subject: names.ref(rq.lang, v.Subject), New: isNew(rep, &v)}
				for _, e := range v.Evidence {
					r.Evidence = append(r.Evidence, evidence{Ref: e, Label: names.ref(rq.lang, e)})
				}
				page.Violations = append(page.Violations, namedViolation{Row: r, Role: text(rq.lang, role)})
			}
			for _, w := range rep.Warnings { // sorted by fails_on
				if w.Subject == ref || slices.Contains(w.Evidence, ref) {
					page.Warnings = append(page.Warnings, warningRow(rq.lang, rep.AsOf, &w, names))
				}
			}
		}
	}
	return h.render(rq, http.StatusOK, "record", page.Name, page)
}

// codeFields are the fields whose values are codes with a label: collection.field → family.
var codeFields = map[string]string{
	"people.rank": "rank", "appointments.rank": "rank", "people.roles": "role",
	"departments.kind": "kind", "talks.kind": "talk",
}

// fieldOf renders one field by its schema: references become links to the named record, and
// codes show their label next to the code.
func fieldOf(coll string, f duty.Field, v any, names *namer, lang string) fieldView {
	fv := fieldView{Name: f.Name}
	family := codeFields[coll+"."+f.Name]
	one := func(f duty.Field, x any) value {
		s := fmt.Sprint(x)
		if b, ok := x.(bool); ok {
			s = map[bool]string{true: "true", false: "false"}[b]
		}
		if str, ok := x.(string); ok && family != "" && f.Ref == "" {
			if label := code(lang, family, str); label != str {
				s = label + " (" + str + ")"
			}
		}
		if f.Ref != "" {
			if id, ok := x.(string); ok {
				r := duty.Ref{Collection: f.Ref, ID: id}
				label := names.ref(lang, r)
				if label != id {
					label += " (" + id + ")"
				}
				return value{Text: label, Link: recordURL(r)}
			}
		}
		return value{Text: s}
	}
	switch f.Kind {
	case duty.Strings:
		arr, _ := v.([]any)
		fv.List = []value{}
		for _, x := range arr {
			fv.List = append(fv.List, one(f, x))
		}
	case duty.Objects:
		arr, _ := v.([]any)
		t := &tableView{}
		for _, sf := range f.Fields {
			t.Cols = append(t.Cols, sf.Name)
		}
		for _, x := range arr {
			m, _ := x.(map[string]any)
			cells := make([]value, len(f.Fields))
			for i, sf := range f.Fields {
				if y, ok := m[sf.Name]; ok {
					cells[i] = one(sf, y)
				}
			}
			t.Rows = append(t.Rows, cells)
		}
		fv.Table = t
	default:
		x := one(f, v)
		fv.Value = &x
	}
	return fv
}
