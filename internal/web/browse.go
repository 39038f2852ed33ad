package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The record lists (记录): per collection, the records of one organ with a search by name or
// id, department, year and kind, in pages of pageSize. A list reads the organ's table
// (duty.Records.OrganRecords: the collection's records and the organ's people, for names and
// departments), never a whole collection; a department user sees only its subtree.

const pageSize = 50

// organRecs is what one organ's records look like to a user: the records read, the department
// tree and the part of it the user may see.
type organRecs struct {
	organ  string
	tree   *orgTree
	docs   map[string][]duty.Doc
	people map[string]duty.Doc
	reach  duty.Reach
}

// chooseOrgan returns the organ a page shows: a department user's own; for the others the
// organ asked for (?organ=), else the first. It also returns the organs the user may choose.
func (h *handler) chooseOrgan(rq *request, tree *orgTree, asked string) (string, []option) {
	reach := duty.ReachOf(rq.p, tree.Tree)
	organs := reach.Organs()
	if !reach.Whole() {
		return organs[0], nil
	}
	chosen := ""
	if slices.Contains(organs, asked) {
		chosen = asked
	} else if len(organs) > 0 {
		chosen = organs[0]
	}
	opts := make([]option, 0, len(organs))
	for _, o := range organs {
		opts = append(opts, option{Value: o, Label: tree.Department(o).Str("name"), Selected: o == chosen})
	}
	return chosen, opts
}

// organCache keeps the records the pages last read of a few organs, each with the organ's
// version and the department tree it was read with: a page reuses them while both are the same
// (a write to one of the organ's records changes its version, before and after, in the store,
// whichever process makes it). The documents are shared: nothing may change them.
type organCache struct {
	mu      sync.Mutex
	entries map[string]*organEntry
	order   []string // oldest first
}

type organEntry struct {
	version int64
	tree    *duty.Tree
	docs    map[string][]duty.Doc
}

// organsKept is how many organs' records the pages keep.
const organsKept = 4

// organDocs returns the records of the collections of organ, from the cache when the organ has
// not changed since they were read.
func (h *handler) organDocs(ctx context.Context, tree *duty.Tree, organ string, collections []string) (map[string][]duty.Doc, error) {
	ver, err := h.Store.OrganVersionOf(ctx, organ)
	if err != nil {
		return nil, err
	}
	c := &h.organs
	out := map[string][]duty.Doc{}
	missing := collections
	c.mu.Lock()
	if e := c.entries[organ]; e != nil && ver.Settled && e.version == ver.Version && e.tree == tree {
		missing = nil
		for _, coll := range collections {
			if docs, ok := e.docs[coll]; ok {
				out[coll] = docs
			} else {
				missing = append(missing, coll)
			}
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	docs, err := h.Store.OrganRecords(ctx, organ, missing...)
	if err != nil {
		return nil, err
	}
	after, err := h.Store.OrganVersionOf(ctx, organ)
	if err != nil || !ver.Settled || !after.Settled || after.Version != ver.Version {
		// Changed while read: read whole again for this page, and keep nothing.
		return h.Store.OrganRecords(ctx, organ, collections...)
	}
	for _, coll := range missing {
		if docs[coll] == nil {
			docs[coll] = []duty.Doc{}
		}
		out[coll] = docs[coll]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*organEntry{}
	}
	if e := c.entries[organ]; e != nil && e.version == ver.Version && e.tree == tree {
		for coll, d := range docs {
			e.docs[coll] = d
		}
		return out, nil
	}
	c.order = slices.DeleteFunc(c.order, func(o string) bool { return o == organ })
	if len(c.order) >= organsKept {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	c.entries[organ] = &organEntry{version: ver.Version, tree: tree, docs: maps.Clone(out)}
	c.order = append(c.order, organ)
	return out, nil
}

// readOrgan reads the records of the given collections of organ, and its people, as the user
// may see them.
func (h *handler) readOrgan(rq *request, tree *orgTree, organ string, collections ...string) (*organRecs, error) {
	want := []string{"people"}
	for _, c := range collections {
		if c != "people" && c != "departments" { // departments: from the tree
			want = append(want, c)
		}
	}
	docs, err := h.organDocs(rq.ctx, tree.Tree, organ, want)
	if err != nil {
		return nil, err
	}
	v := &organRecs{organ: organ, tree: tree, docs: docs, people: map[string]duty.Doc{}, reach: duty.ReachOf(rq.p, tree.Tree)}
	for _, p := range docs["people"] {
		v.people[p.ID()] = p
	}
	return v, nil
}

func (v *organRecs) personDept(id string) string { return v.people[id].Str("department_id") }

// records returns the records of a collection the user may see (departments from the tree).
func (v *organRecs) records(coll string) []duty.Doc {
	var list []duty.Doc
	if coll == "departments" {
		for id := range v.tree.Subtree(v.organ) {
			list = append(list, v.tree.Department(id))
		}
	} else {
		list = v.docs[coll]
	}
	out := make([]duty.Doc, 0, len(list))
	for _, d := range list {
		if v.visible(coll, d) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b duty.Doc) int { return strings.Compare(a.ID(), b.ID()) })
	return out
}

// visible reports whether the record lies in the part of the tree the user may see (the rule
// of GetScoped: duty.Reach).
func (v *organRecs) visible(coll string, d duty.Doc) bool {
	return v.reach.Record(coll, d, v.personDept)
}

// mayWrite reports whether the user may change the record: a department user only a record
// of its subtree that is not of the organ's level (duty.Reach.MayChange: the rule the store
// applies to its writes).
func (v *organRecs) mayWrite(rq *request, coll string, d duty.Doc) bool {
	return rq.p.Can(duty.WriteRecords) && v.reach.MayChange(coll, d, v.people)
}

// namer returns a namer that knows the organ's people.
func (v *organRecs) namer(ctx context.Context, h *handler) *namer {
	n := h.newNamer(ctx, v.tree)
	for id, p := range v.people {
		n.people[id] = p.Str("name")
	}
	return n
}

// recordTable is a table of records: a link to each, some of its fields, and an edit link when
// the user may change it.
type recordTable struct {
	ID   string
	Cols []string
	Rows []recordRow
}

type recordRow struct {
	Ref     duty.Ref
	Label   string
	Link    string
	Cells   []fieldView
	CanEdit bool
}

// listFields are the fields a table of records shows: all but the id and a name (the row's
// link shows them).
func listFields(c *duty.Collection) []duty.Field {
	var out []duty.Field
	for _, f := range c.Fields {
		if f.Name != "id" && f.Name != "name" {
			out = append(out, f)
		}
	}
	return out
}

// tableOf builds a table of records of one collection.
func (h *handler) tableOf(rq *request, v *organRecs, n *namer, coll, id string, docs []duty.Doc) *recordTable {
	c := duty.Lookup(coll)
	fields := listFields(c)
	t := &recordTable{ID: id}
	for _, f := range fields {
		t.Cols = append(t.Cols, duty.Names.Field(coll, f.Name).In(rq.lang))
	}
	for _, d := range docs {
		ref := duty.Ref{Collection: coll, ID: d.ID()}
		r := recordRow{Ref: ref, Label: d.ID(), Link: recordLink(ref), CanEdit: v.mayWrite(rq, coll, d)}
		if name := d.Str("name"); name != "" && (coll == "people" || coll == "departments") {
			r.Label = name + paren(rq.lang, d.ID())
		}
		for _, f := range fields {
			x, ok := d[f.Name]
			switch {
			case !ok:
				r.Cells = append(r.Cells, fieldView{Value: &value{Text: "–"}})
			case f.Kind == duty.Objects:
				arr, _ := x.([]any)
				r.Cells = append(r.Cells, fieldView{Value: &value{Text: text(rq.lang, "rec.count", len(arr))}})
			default:
				r.Cells = append(r.Cells, fieldOf(coll, f, x, n, rq.lang))
			}
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// recordLink is where a record's name leads: a person's page for people, else the record page.
func recordLink(r duty.Ref) string {
	if r.Collection == "people" {
		return "/people/" + url.PathEscape(r.ID)
	}
	return recordURL(r)
}

func editURL(r duty.Ref) string { return recordURL(r) + "/edit" }

// EditURL is the address of a record's form.
func (p *Page) EditURL(r duty.Ref) string { return editURL(r) }

// recordRoutes registers the record lists, forms and a person's page.
func (h *handler) recordRoutes() {
	h.route("GET /records", duty.ReadRecords, h.recordsIndex)
	h.route("GET /records/{collection}", duty.ReadRecords, h.recordList)
	h.route("GET /records/{collection}/{id}/edit", duty.WriteRecords, h.editForm)
	h.route("POST /records/{collection}/{id}/edit", duty.WriteRecords, h.updateRecord)
	h.route("GET /records/{collection}/{id}/delete", duty.WriteRecords, h.deleteForm)
	h.route("POST /records/{collection}/{id}/delete", duty.WriteRecords, h.deleteRecord)
	h.route("GET /new/{collection}", duty.WriteRecords, h.newForm)
	h.route("POST /new/{collection}", duty.WriteRecords, h.createRecord)
	h.route("GET /people/{id}", duty.ReadRecords, h.personPageOf)
}

// listSearch is the search of a list page.
type listSearch struct {
	Q, Dept, Year, Kind, Organ string
	Page                       int
}

func parseSearch(q url.Values) listSearch {
	s := listSearch{Q: strings.TrimSpace(q.Get("q")), Dept: q.Get("department"), Year: strings.TrimSpace(q.Get("year")),
		Kind: q.Get("kind"), Organ: q.Get("organ")}
	s.Page, _ = strconv.Atoi(q.Get("page"))
	if s.Page < 1 {
		s.Page = 1
	}
	return s
}

// query is the search as a URL query, on page p.
func (s listSearch) query(p int) string {
	q := url.Values{}
	for k, v := range map[string]string{"q": s.Q, "department": s.Dept, "year": s.Year, "kind": s.Kind, "organ": s.Organ} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p > 1 {
		q.Set("page", strconv.Itoa(p))
	}
	return q.Encode()
}

// yearField is the field a list's year search reads: the year, else the record's date.
func yearField(c *duty.Collection) string {
	if hasField(c, "year") {
		return "year"
	}
	if c.DateField != "" {
		return c.DateField
	}
	for _, f := range c.Fields {
		if f.Kind == duty.Date && !f.Optional {
			return f.Name
		}
	}
	return ""
}

// kindField is the field a list's kind search reads: kind, level or rank, whichever the
// collection has with labelled values.
func kindField(c *duty.Collection) string {
	for _, name := range []string{"kind", "level", "rank"} {
		if hasField(c, name) && duty.Names.Field(c.Name, name).Enum != "" {
			return name
		}
	}
	return ""
}

func hasField(c *duty.Collection, name string) bool {
	return slices.ContainsFunc(c.Fields, func(f duty.Field) bool { return f.Name == name })
}

// enumOptions are the labelled values of a field, in the schema's order when it has one.
func enumOptions(lang, coll, field, selected string, blank bool) []option {
	l := duty.Names.Field(coll, field)
	var vals []string
	for _, f := range duty.Lookup(coll).Fields {
		if f.Name == field {
			vals = slices.Clone(f.Enum)
		}
	}
	if len(vals) == 0 {
		for v := range duty.Names.Enums[l.Enum] {
			vals = append(vals, v)
		}
		slices.Sort(vals)
	}
	var out []option
	if blank {
		out = append(out, option{Value: "", Label: "—", Selected: selected == ""})
	}
	for _, v := range vals {
		lab, _ := duty.Names.Enum(l.Enum, v)
		out = append(out, option{Value: v, Label: lab.In(lang), Selected: v == selected})
	}
	return out
}

// match reports whether a record answers the search: q in its id, its name or the name of a
// person or department it names; its department under Dept; its year; its kind.
// under is the subtree of s.Dept (nil without).
func (s listSearch) match(c *duty.Collection, d duty.Doc, v *organRecs, n *namer, under map[string]bool) bool {
	if under != nil && !under[duty.DepartmentOfDoc(c.Name, d, v.personDept)] {
		return false
	}
	if f := yearField(c); s.Year != "" && f != "" {
		if !strings.HasPrefix(fmt.Sprint(d[f]), s.Year) {
			return false
		}
	}
	if f := kindField(c); s.Kind != "" && f != "" && fmt.Sprint(d[f]) != s.Kind {
		return false
	}
	if s.Q == "" {
		return true
	}
	q := strings.ToLower(s.Q)
	if strings.Contains(strings.ToLower(d.ID()), q) || strings.Contains(strings.ToLower(d.Str("name")), q) {
		return true
	}
	found := false
	c.Refs(d, func(_, coll, id string) {
		if !found && (coll == "people" || coll == "departments") {
			found = strings.Contains(strings.ToLower(n.ref(langZH, duty.Ref{Collection: coll, ID: id})), q)
		}
	})
	return found
}

type listPage struct {
	Coll, CollLabel    string
	Collections        []option
	Search             listSearch
	Organs, Depts      []option
	Kinds              []option
	KindLabel          string
	HasYear            bool
	Deleted            string // the id of the record just deleted
	Table              *recordTable
	Total, Page, Pages int
	Prev, Next         string
	CanCreate          bool
	NewURL             string
}

// recordList is the list page of a collection.
func (h *handler) recordList(rq *request) error {
	coll := rq.r.PathValue("collection")
	c := duty.Lookup(coll)
	if c == nil {
		return fmt.Errorf("collection %q: %w", coll, duty.ErrNotFound)
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	s := parseSearch(rq.r.URL.Query())
	organ, organs := h.chooseOrgan(rq, tree, s.Organ)
	s.Organ = organ
	if rq.p.Scope() != "" {
		s.Organ = ""
	}
	page := listPage{Coll: coll, CollLabel: duty.Names.Collection(coll).In(rq.lang), Search: s, Organs: organs,
		HasYear: yearField(c) != "", CanCreate: rq.p.Can(duty.WriteRecords)}
	page.Collections = collectionOptions(rq.lang, coll)
	page.NewURL = "/new/" + url.PathEscape(coll)
	if s.Organ != "" {
		page.NewURL += "?organ=" + url.QueryEscape(s.Organ)
	}
	if f := kindField(c); f != "" {
		page.Kinds = enumOptions(rq.lang, coll, f, s.Kind, true)
		page.KindLabel = duty.Names.Field(coll, f).In(rq.lang)
	}
	page.Deleted = rq.r.URL.Query().Get("deleted")
	if organ == "" {
		return h.render(rq, http.StatusOK, "record_list", page.CollLabel, page)
	}
	v, err := h.readOrgan(rq, tree, organ, coll)
	if err != nil {
		return err
	}
	page.Depts = deptOptions(v, s.Dept, true)
	n := v.namer(rq.ctx, h)
	var under map[string]bool
	if s.Dept != "" {
		under = tree.Subtree(s.Dept)
	}
	var hits []duty.Doc
	for _, d := range v.records(coll) {
		if s.match(c, d, v, n, under) {
			hits = append(hits, d)
		}
	}
	page.Total = len(hits)
	page.Pages = max(1, (len(hits)+pageSize-1)/pageSize)
	page.Page = min(s.Page, page.Pages)
	from := (page.Page - 1) * pageSize
	shown := hits[from:min(from+pageSize, len(hits))]
	page.Table = h.tableOf(rq, v, n, coll, "records", shown)
	base := "/records/" + url.PathEscape(coll) + "?"
	if page.Page > 1 {
		page.Prev = base + s.query(page.Page-1)
	}
	if page.Page < page.Pages {
		page.Next = base + s.query(page.Page+1)
	}
	return h.render(rq, http.StatusOK, "record_list", page.CollLabel, page)
}

// collectionOptions are the ten collections, for the list pages' tabs.
func collectionOptions(lang, selected string) []option {
	out := make([]option, 0, len(duty.Collections))
	for _, c := range duty.Collections {
		out = append(out, option{Value: c.Name, Label: duty.Names.Collection(c.Name).In(lang), Selected: c.Name == selected})
	}
	return out
}

// deptOptions are the departments of the organ the user may see, by name, in tree order.
func deptOptions(v *organRecs, selected string, blank bool) []option {
	var out []option
	if blank {
		out = append(out, option{Value: "", Label: "—", Selected: selected == ""})
	}
	var walk func(id string, depth int)
	walk = func(id string, depth int) {
		if v.reach.Department(id) {
			out = append(out, option{Value: id, Label: strings.Repeat("　", depth) + v.tree.Department(id).Str("name"), Selected: id == selected})
		}
		for _, k := range v.tree.children(id) {
			walk(k, depth+1)
		}
	}
	walk(v.organ, 0)
	return out
}

// recordsIndex leads to the lists of the ten collections.
func (h *handler) recordsIndex(rq *request) error {
	return rq.redirect("/records/people")
}
