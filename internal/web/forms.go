package web

import (
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

// The record forms: create, edit and delete a record of any collection, nested items included
// (a record book's tasks, entries and inspections, a suggestion's items, an integrity file's
// major matters). A form is built from the schema (duty.Collections) and labelled from the
// catalogue (duty.Names); what it sends is written through the records service (duty.Records.PutBatch), the API's path, so
// that the validation (duty's one validator) and the access rule (a department user's subtree
// and the effect rule) are the API's. Problems come back with field paths and are shown beside
// the fields, in Chinese, with what the user typed kept.
//
// Field names in the form: a field by its name ("held_on"); a nested item's field as
// "<array>.<row>.<field>" ("entries.2.date"), with "<array>.<row>._drop" to remove a row; a
// list of strings as one per line (or, for roles, checkboxes). Rows left empty are ignored, so
// the blank row each form offers adds an item without any script.

// pickers are the people and departments a form offers by name (datalists): those of the organ
// the user may see.
type pickers struct {
	People, Depts []option
}

func pickersOf(v *organRecs) *pickers {
	p := &pickers{}
	ids := make([]string, 0, len(v.people))
	for id := range v.people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		person := v.people[id]
		if v.visible("people", person) {
			p.People = append(p.People, option{Value: id, Label: personLabel(v, person)})
		}
	}
	for _, o := range deptOptions(v, "", false) {
		p.Depts = append(p.Depts, option{Value: o.Value, Label: strings.TrimLeft(o.Label, "　")})
	}
	return p
}

// personLabel is a person's name with their department, as a picker offers it.
func personLabel(v *organRecs, p duty.Doc) string {
	return p.Str("name") + "（" + v.tree.Department(p.Str("department_id")).Str("name") + "）"
}

// resolve turns what the user typed into a reference field into an id: an id stays, a name (or
// a picker's label) that names exactly one person or department the user may see becomes its
// id; anything else is kept for the validator to refuse.
func (v *organRecs) resolve(coll, typed string) string {
	var match []string
	switch coll {
	case "people":
		if _, ok := v.people[typed]; ok {
			return typed
		}
		for id, p := range v.people {
			if v.visible("people", p) && (p.Str("name") == typed || personLabel(v, p) == typed) {
				match = append(match, id)
			}
		}
	case "departments":
		if v.tree.Department(typed) != nil {
			return typed
		}
		for id := range v.tree.Subtree(v.organ) {
			if v.reach.Department(id) && v.tree.Department(id).Str("name") == typed {
				match = append(match, id)
			}
		}
	}
	if len(match) == 1 {
		return match[0]
	}
	return typed
}

// formField is one input of a form.
type formField struct {
	Name, Label, Kind, Value string
	Checked                  map[string]bool
	Options                  []option
	Required, ReadOnly       bool
	Err                      string
	Hint                     string // the name of what a reference names
	List                     string // the datalist of a reference
}

// formTable is the rows of a nested array.
type formTable struct {
	Name, Label string
	Cols        []string
	Rows        []formRow
	Blank       formRow // the row the script adds (index "__i__")
	Next        int
	Err         string
}

type formRow struct {
	Index    string
	DropName string
	Cells    []formField
	Drop     bool
	Err      string
}

type formPage struct {
	Coll, CollLabel, ID, Name string
	New                       bool
	Action, Cancel, Delete    string
	Organ                     string
	Fields                    []formField
	Tables                    []formTable
	Errors                    []string
	Invalid                   bool
	Pick                      *pickers
	Tasks                     []option // a record book's tasks, for its entries
}

// inputKind is how a field is entered.
func inputKind(coll string, f duty.Field) string {
	l := duty.Names.Field(coll, f.Name)
	switch {
	case f.Kind == duty.Date:
		return "date"
	case f.Kind == duty.Bool:
		return "bool"
	case f.Kind == duty.Int && l.Enum != "":
		return "select"
	case f.Kind == duty.Int:
		return "number"
	case f.Kind == duty.Strings && len(f.Enum) > 0:
		return "checks"
	case f.Kind == duty.Strings:
		return "lines"
	case f.Ref == "people":
		return "person"
	case f.Ref == "departments":
		return "dept"
	case len(f.Enum) > 0:
		return "select"
	case l.Enum != "":
		return "suggest" // free text with labelled values offered (a meeting's kind)
	}
	return "text"
}

// docValues is a stored record as form values.
func docValues(c *duty.Collection, d duty.Doc) url.Values {
	vals := url.Values{}
	scalar := func(v any) string {
		switch x := v.(type) {
		case bool:
			return strconv.FormatBool(x)
		case nil:
			return ""
		}
		return fmt.Sprint(v)
	}
	for _, f := range c.Fields {
		v, ok := d[f.Name]
		if !ok {
			continue
		}
		switch f.Kind {
		case duty.Strings:
			arr, _ := v.([]any)
			var parts []string
			for _, x := range arr {
				parts = append(parts, scalar(x))
			}
			if len(f.Enum) > 0 {
				vals[f.Name] = parts
			} else {
				vals.Set(f.Name, strings.Join(parts, "\n"))
			}
		case duty.Objects:
			arr, _ := v.([]any)
			for i, x := range arr {
				m, _ := x.(map[string]any)
				for _, sf := range f.Fields {
					if y, ok := m[sf.Name]; ok {
						vals.Set(fmt.Sprintf("%s.%d.%s", f.Name, i, sf.Name), scalar(y))
					}
				}
			}
		default:
			vals.Set(f.Name, scalar(v))
		}
	}
	return vals
}

// rowIndices returns the row numbers of a nested array present in the form, in order.
func rowIndices(vals url.Values, array string) []int {
	seen := map[int]bool{}
	for k := range vals {
		rest, ok := strings.CutPrefix(k, array+".")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < 10000 {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// fieldValue is the value a form input gives a field, absent when empty. What does not parse
// as the field's type is passed on as typed, for the validator to refuse.
func fieldValue(f duty.Field, typed string, v *organRecs) (any, bool) {
	s := strings.TrimSpace(typed)
	if s == "" {
		return nil, false
	}
	switch f.Kind {
	case duty.Int:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	case duty.Bool:
		if b, err := strconv.ParseBool(s); err == nil {
			return b, true
		}
	default:
		if f.Ref != "" {
			return v.resolve(f.Ref, s), true
		}
	}
	return s, true
}

// formDoc turns the form into the document to validate and write, and says for each nested
// array which form row each of its items came from (for placing problems).
func formDoc(c *duty.Collection, vals url.Values, v *organRecs) (map[string]any, map[string][]int) {
	doc := map[string]any{}
	rows := map[string][]int{}
	for _, f := range c.Fields {
		switch f.Kind {
		case duty.Strings:
			var items []string
			if len(f.Enum) > 0 {
				items = vals[f.Name]
			} else {
				items = strings.Split(vals.Get(f.Name), "\n")
			}
			list := []any{}
			for _, it := range items {
				if x, ok := fieldValue(duty.Field{Kind: duty.String, Ref: f.Ref}, it, v); ok {
					list = append(list, x)
				}
			}
			if len(list) > 0 || !f.Optional {
				doc[f.Name] = list
			}
		case duty.Objects:
			list := []any{}
			for _, i := range rowIndices(vals, f.Name) {
				prefix := fmt.Sprintf("%s.%d.", f.Name, i)
				if vals.Get(prefix+"_drop") != "" {
					continue
				}
				item := map[string]any{}
				for _, sf := range f.Fields {
					if x, ok := fieldValue(sf, vals.Get(prefix+sf.Name), v); ok {
						item[sf.Name] = x
					}
				}
				if len(item) == 0 {
					continue
				}
				list = append(list, item)
				rows[f.Name] = append(rows[f.Name], i)
			}
			doc[f.Name] = list
		default:
			if x, ok := fieldValue(f, vals.Get(f.Name), v); ok {
				doc[f.Name] = x
			}
		}
	}
	return doc, rows
}

// inputOf is the input of field f of collection coll (path: "entries.date" for a nested one)
// named name, holding typed.
func inputOf(rq *request, v *organRecs, coll, path, name string, f duty.Field, vals url.Values) formField {
	typed := vals.Get(name)
	in := formField{Name: name, Label: duty.Names.Field(coll, path).In(rq.lang), Kind: inputKind(coll, f), Value: typed,
		Required: !f.Optional && f.Kind != duty.Strings && f.Kind != duty.Objects}
	l := duty.Names.Field(coll, path)
	switch in.Kind {
	case "select":
		var vals []string
		if len(f.Enum) > 0 {
			vals = f.Enum
		} else {
			for k := range duty.Names.Enums[l.Enum] {
				vals = append(vals, k)
			}
			slices.Sort(vals)
		}
		in.Options = append(in.Options, option{Value: "", Label: "—", Selected: typed == ""})
		found := typed == ""
		for _, x := range vals {
			lab, _ := duty.Names.Enum(l.Enum, x)
			in.Options = append(in.Options, option{Value: x, Label: lab.In(rq.lang), Selected: x == typed})
			found = found || x == typed
		}
		if !found { // keep what was sent, for the validator's message beside it
			in.Options = append(in.Options, option{Value: typed, Label: typed, Selected: true})
		}
	case "suggest":
		for k := range duty.Names.Enums[l.Enum] {
			lab, _ := duty.Names.Enum(l.Enum, k)
			in.Options = append(in.Options, option{Value: k, Label: lab.In(rq.lang)})
		}
		slices.SortFunc(in.Options, func(a, b option) int { return strings.Compare(a.Value, b.Value) })
		if lab, ok := duty.Names.Enum(l.Enum, typed); ok {
			in.Hint = lab.In(rq.lang)
		}
	case "bool":
		in.Options = []option{{Value: "", Label: "—", Selected: typed == ""}}
		for _, b := range []string{"true", "false"} {
			lab, _ := duty.Names.Enum("bool", b)
			in.Options = append(in.Options, option{Value: b, Label: lab.In(rq.lang), Selected: typed == b})
		}
	case "checks":
		in.Checked = map[string]bool{}
		for _, x := range vals[name] {
			in.Checked[x] = true
		}
		for _, x := range f.Enum {
			lab, _ := duty.Names.Enum(l.Enum, x)
			in.Options = append(in.Options, option{Value: x, Label: lab.In(rq.lang), Selected: in.Checked[x]})
		}
	case "person":
		in.List = "dl-people"
		if p, ok := v.people[strings.TrimSpace(typed)]; ok {
			in.Hint = personLabel(v, p)
		}
	case "text":
		if coll == "record_books" && path == "entries.task_id" {
			in.List = "dl-tasks" // the book's tasks (formPage.Tasks)
		}
	case "dept":
		in.List = "dl-departments"
		if d := v.tree.Department(strings.TrimSpace(typed)); d != nil {
			in.Hint = d.Str("name")
		}
	}
	return in
}

var problemPath = regexp.MustCompile(`^([A-Za-z_]+)(?:\[(\d+)\])?(?:\.([A-Za-z_]+))?$`)

// buildForm is the form of a record of c holding vals, with the problems placed beside their
// fields (rows: the form row of each nested item sent).
func (h *handler) buildForm(rq *request, c *duty.Collection, v *organRecs, vals url.Values, isNew bool, probs []duty.Problem, rows map[string][]int) *formPage {
	coll := c.Name
	page := &formPage{Coll: coll, CollLabel: duty.Names.Collection(coll).In(rq.lang), ID: vals.Get("id"), New: isNew,
		Organ: v.organ, Pick: pickersOf(v), Invalid: len(probs) > 0}
	tables := map[string]int{}
	fields := map[string]int{}
	for _, f := range c.Fields {
		if f.Kind != duty.Objects {
			in := inputOf(rq, v, coll, f.Name, f.Name, f, vals)
			in.ReadOnly = f.Name == "id" && !isNew
			fields[f.Name] = len(page.Fields)
			page.Fields = append(page.Fields, in)
			continue
		}
		t := formTable{Name: f.Name, Label: duty.Names.Field(coll, f.Name).In(rq.lang)}
		for _, sf := range f.Fields {
			t.Cols = append(t.Cols, duty.Names.Field(coll, f.Name+"."+sf.Name).In(rq.lang))
		}
		idx := rowIndices(vals, f.Name)
		next := 0
		if len(idx) > 0 {
			next = idx[len(idx)-1] + 1
		}
		if rq.r.Method == http.MethodGet {
			idx = append(idx, next) // a blank row: one more item without any script
			next++
		}
		row := func(i string) formRow {
			r := formRow{Index: i, DropName: f.Name + "." + i + "._drop", Drop: vals.Get(f.Name+"."+i+"._drop") != ""}
			for _, sf := range f.Fields {
				r.Cells = append(r.Cells, inputOf(rq, v, coll, f.Name+"."+sf.Name, f.Name+"."+i+"."+sf.Name, sf, vals))
			}
			return r
		}
		for _, i := range idx {
			t.Rows = append(t.Rows, row(strconv.Itoa(i)))
		}
		t.Blank, t.Next = row("__i__"), next
		tables[f.Name] = len(page.Tables)
		page.Tables = append(page.Tables, t)
	}
	for _, i := range rowIndices(vals, "tasks") {
		if id := vals.Get(fmt.Sprintf("tasks.%d.id", i)); c.Name == "record_books" && id != "" {
			page.Tasks = append(page.Tasks, option{Value: id, Label: vals.Get(fmt.Sprintf("tasks.%d.title", i))})
		}
	}
	for _, p := range probs {
		msg := problemText(rq.lang, p)
		m := problemPath.FindStringSubmatch(p.Field)
		if m == nil {
			page.Errors = append(page.Errors, msg)
			continue
		}
		name, idx, sub := m[1], m[2], m[3]
		if fi, ok := fields[name]; ok {
			page.Fields[fi].Err = joinErr(page.Fields[fi].Err, msg)
			continue
		}
		ti, ok := tables[name]
		if !ok {
			page.Errors = append(page.Errors, msg)
			continue
		}
		t := &page.Tables[ti]
		n, err := strconv.Atoi(idx)
		if idx == "" || err != nil || n >= len(rows[name]) {
			t.Err = joinErr(t.Err, msg)
			continue
		}
		form := strconv.Itoa(rows[name][n])
		for ri := range t.Rows {
			r := &t.Rows[ri]
			if r.Index != form {
				continue
			}
			placed := false
			for ci := range r.Cells {
				if strings.HasSuffix(r.Cells[ci].Name, "."+sub) && sub != "" {
					r.Cells[ci].Err, placed = joinErr(r.Cells[ci].Err, msg), true
				}
			}
			if !placed {
				r.Err = joinErr(r.Err, msg)
			}
		}
	}
	return page
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// msgIDTaken is the problem of a new record whose id is already used.
const msgIDTaken = "is already the id of a stored record"

// problemText is a problem as the pages say it: in Chinese from its kind (duty.Problem.Chinese;
// English pages show the validator's own words).
func problemText(lang string, p duty.Problem) string {
	if lang == langEN {
		return p.Message
	}
	if zh := p.Chinese(); zh != "" {
		return zh
	}
	return text(lang, "form.err.other", p.Message)
}

// newForm is the form of a new record; query values fill its fields (a person's page leads to
// a new talk with the person given).
func (h *handler) newForm(rq *request) error {
	c, v, err := h.formOrgan(rq, rq.r.URL.Query().Get("organ"))
	if err != nil {
		return err
	}
	vals := url.Values{}
	for _, f := range c.Fields {
		if x := rq.r.URL.Query().Get(f.Name); x != "" && f.Kind != duty.Objects {
			vals.Set(f.Name, x)
		}
	}
	if vals.Get("id") == "" {
		ids, err := h.organDocs(rq.ctx, v.tree.Tree, v.organ, []string{c.Name})
		if err != nil {
			return err
		}
		vals.Set("id", nextID(ids[c.Name]))
	}
	return h.showForm(rq, http.StatusOK, c, v, vals, true, nil, nil)
}

// formOrgan looks up the collection of the path and reads the organ a new record's pickers
// offer.
func (h *handler) formOrgan(rq *request, asked string) (*duty.Collection, *organRecs, error) {
	c := duty.Lookup(rq.r.PathValue("collection"))
	if c == nil {
		return nil, nil, fmt.Errorf("collection %q: %w", rq.r.PathValue("collection"), duty.ErrNotFound)
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return nil, nil, err
	}
	organ, _ := h.chooseOrgan(rq, tree, asked)
	v, err := h.readOrgan(rq, tree, organ)
	return c, v, err
}

func (h *handler) showForm(rq *request, status int, c *duty.Collection, v *organRecs, vals url.Values, isNew bool, probs []duty.Problem, rows map[string][]int) error {
	page := h.buildForm(rq, c, v, vals, isNew, probs, rows)
	title := text(rq.lang, "form.new", page.CollLabel)
	if isNew {
		page.Action = "/new/" + url.PathEscape(c.Name)
		page.Cancel = "/records/" + url.PathEscape(c.Name)
	} else {
		ref := duty.Ref{Collection: c.Name, ID: page.ID}
		page.Action, page.Cancel, page.Delete = editURL(ref), recordURL(ref), recordURL(ref)+"/delete"
		page.Name = page.ID
		title = text(rq.lang, "form.edit", page.CollLabel, page.ID)
	}
	return h.render(rq, status, "record_form", title, page)
}

// createRecord writes a new record from its form.
func (h *handler) createRecord(rq *request) error {
	vals := rq.r.PostForm
	c, v, err := h.formOrgan(rq, vals.Get("organ"))
	if err != nil {
		return err
	}
	if id := strings.TrimSpace(vals.Get("id")); id != "" && duty.ValidID(id) {
		switch _, err := h.Store.Get(rq.ctx, c.Name, id); {
		case err == nil:
			return h.showForm(rq, http.StatusUnprocessableEntity, c, v, vals, true, []duty.Problem{{Field: "id", Kind: duty.KindIDTaken, Message: msgIDTaken}}, nil)
		case !errors.Is(err, duty.ErrNotFound):
			return err
		}
	}
	return h.saveRecord(rq, c, v, vals, true)
}

// saveRecord validates and writes the form's record through the store's write path; problems
// show the form again.
func (h *handler) saveRecord(rq *request, c *duty.Collection, v *organRecs, vals url.Values, isNew bool) error {
	doc, rows := formDoc(c, vals, v)
	_, err := h.Store.PutBatch(rq.ctx, rq.p, c.Name, []duty.RawDoc{{Value: doc}})
	var verr *duty.ValidationError
	switch {
	case errors.As(err, &verr):
		return h.showForm(rq, http.StatusUnprocessableEntity, c, v, vals, isNew, verr.Problems, rows)
	case err != nil:
		return err
	}
	return rq.redirect(recordURL(duty.Ref{Collection: c.Name, ID: doc["id"].(string)}) + "?saved=1")
}

// storedRecord reads the record of the path as the user may see it (outside a department
// user's subtree: not found) and the organ it belongs to.
func (h *handler) storedRecord(rq *request) (*duty.Collection, duty.Doc, *organRecs, error) {
	coll, id := rq.r.PathValue("collection"), rq.r.PathValue("id")
	c := duty.Lookup(coll)
	if c == nil {
		return nil, nil, nil, fmt.Errorf("collection %q: %w", coll, duty.ErrNotFound)
	}
	d, err := h.Store.GetScoped(rq.ctx, rq.p, coll, id)
	if err != nil {
		return nil, nil, nil, err
	}
	_, organ, err := h.Store.GetWithOrgan(rq.ctx, coll, id)
	if err != nil {
		return nil, nil, nil, err
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := h.readOrgan(rq, tree, organ)
	return c, d, v, err
}

// editForm is the form of a stored record.
func (h *handler) editForm(rq *request) error {
	c, d, v, err := h.storedRecord(rq)
	if err != nil {
		return err
	}
	if !v.mayWrite(rq, c.Name, d) {
		return errForbidden
	}
	return h.showForm(rq, http.StatusOK, c, v, docValues(c, d), false, nil, nil)
}

// updateRecord writes a stored record from its form; its id stays.
func (h *handler) updateRecord(rq *request) error {
	c, d, v, err := h.storedRecord(rq)
	if err != nil {
		return err
	}
	vals := rq.r.PostForm
	vals.Set("id", d.ID())
	return h.saveRecord(rq, c, v, vals, false)
}

type deletePage struct {
	Ref       duty.Ref
	Name      string
	CollLabel string
	Users     []referrer
	More      bool
	Errors    []string
}

type referrer struct {
	Label, Field, Link string
}

// deleteForm asks to confirm the deletion of a record, or says which records still name it.
func (h *handler) deleteForm(rq *request) error {
	c, d, v, err := h.storedRecord(rq)
	if err != nil {
		return err
	}
	return h.showDelete(rq, http.StatusOK, c, d, v, nil)
}

func (h *handler) showDelete(rq *request, status int, c *duty.Collection, d duty.Doc, v *organRecs, errs []string) error {
	ref := duty.Ref{Collection: c.Name, ID: d.ID()}
	n := v.namer(rq.ctx, h)
	page := deletePage{Ref: ref, Name: n.ref(rq.lang, ref), CollLabel: duty.Names.Collection(c.Name).In(rq.lang), Errors: errs}
	users, err := h.Store.Referrers(rq.ctx, c.Name, d.ID(), 5)
	if err != nil {
		return err
	}
	for _, u := range users {
		page.Users = append(page.Users, referrer{Label: duty.Names.Collection(u.Ref.Collection).In(rq.lang) + " " + n.ref(rq.lang, u.Ref),
			Field: duty.Names.Field(u.Ref.Collection, u.Field).In(rq.lang), Link: recordURL(u.Ref)})
	}
	page.More = len(users) >= 5
	return h.render(rq, status, "record_delete", text(rq.lang, "del.title", page.Name), page)
}

// deleteRecord deletes a record through the store, which refuses while other records name it.
func (h *handler) deleteRecord(rq *request) error {
	c, d, v, err := h.storedRecord(rq)
	if err != nil {
		return err
	}
	err = h.Store.Delete(rq.ctx, rq.p, c.Name, d.ID())
	var verr *duty.ValidationError
	switch {
	case errors.Is(err, duty.ErrConflict):
		return h.showDelete(rq, http.StatusConflict, c, d, v, []string{text(rq.lang, "del.named")})
	case errors.As(err, &verr):
		var errs []string
		for _, p := range verr.Problems {
			errs = append(errs, problemText(rq.lang, p))
		}
		return h.showDelete(rq, http.StatusUnprocessableEntity, c, d, v, errs)
	case err != nil:
		return err
	}
	return rq.redirect("/records/" + url.PathEscape(c.Name) + "?" + url.Values{"organ": {v.organ}, "deleted": {d.ID()}}.Encode())
}

var trailingNumber = regexp.MustCompile(`^(.*?)([0-9]+)$`)

// nextID suggests the id of a new record after those of its organ: the highest number after
// the most used prefix, plus one, as wide ("ORG-1-T-169" → "ORG-1-T-170"); "" when the ids
// follow no such pattern. The user may type another.
func nextID(docs []duty.Doc) string {
	type run struct {
		n, max, width int
	}
	runs := map[string]*run{}
	best := ""
	for _, d := range docs {
		m := trailingNumber.FindStringSubmatch(d.ID())
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil {
			continue
		}
		r := runs[m[1]]
		if r == nil {
			r = &run{}
			runs[m[1]] = r
		}
		r.n++
		if n >= r.max {
			r.max, r.width = n, len(m[2])
		}
		if b := runs[best]; b == nil || r.n > b.n || (r.n == b.n && m[1] < best) {
			best = m[1]
		}
	}
	r := runs[best]
	if r == nil {
		return ""
	}
	return fmt.Sprintf("%s%0*d", best, r.width, r.max+1)
}
