package policy

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// collectionIndex maps a collection name to its place in duty.Collections.
var collectionIndex = func() map[string]int {
	m := make(map[string]int, len(duty.Collections))
	for i, c := range duty.Collections {
		m[c.Name] = i
	}
	return m
}()

// keyTerms holds one shared term per field name of the schema (and the input's own keys), so
// that decoding a record allocates no key. Terms in an input are never changed by OPA.
var keyTerms = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	var add func(fs []duty.Field)
	add = func(fs []duty.Field) {
		for _, f := range fs {
			if m[f.Name] == nil {
				m[f.Name] = ast.StringTerm(f.Name)
			}
			add(f.Fields)
		}
	}
	for _, c := range duty.Collections {
		add(c.Fields)
		if m[c.Name] == nil {
			m[c.Name] = ast.StringTerm(c.Name)
		}
	}
	for _, k := range []string{"as_of", "organ", upcomingKey} {
		m[k] = ast.StringTerm(k)
	}
	return m
}()

func keyTerm(k string) *ast.Term {
	if t, ok := keyTerms[k]; ok {
		return t
	}
	return ast.StringTerm(k)
}

// OrganInput is the policy input of one organ as of a date (docs/POLICY-CONTRACT.md), built
// record by record directly as OPA values: from the store's bytes through Terms, or from
// duty.Docs by Evaluate. Records dated after the as-of date, and the dated elements of their
// arrays, are left out as they are added; appointments effective in the next MaxWarnDays days
// go to upcoming_appointments instead, for the warnings of pre-appointment talks.
type OrganInput struct {
	ID, AsOf string

	colls    [][]*ast.Term // by place in duty.Collections
	upcoming []*ast.Term   // appointments effective from AsOf + 1 to upTo
	upTo     string
	records  int
	byID     map[string]map[string]ast.Object // collection → id → record, built on demand
}

// upcomingKey is the input's array of the appointments recorded ahead of time.
const upcomingKey = "upcoming_appointments"

// NewOrganInput returns an empty input for organ id as of asOf.
func NewOrganInput(id, asOf string) *OrganInput {
	in := &OrganInput{ID: id, AsOf: asOf, colls: make([][]*ast.Term, len(duty.Collections))}
	if d, err := time.Parse(time.DateOnly, asOf); err == nil {
		in.upTo = d.AddDate(0, 0, MaxWarnDays).Format(time.DateOnly)
	}
	return in
}

// Records returns the number of records added (those kept and those dated after the as-of
// date).
func (in *OrganInput) Records() int { return in.records }

// Add adds one record of collection c, an object term, unless it is dated after the as-of
// date; its dated array elements after that date are dropped.
func (in *OrganInput) Add(c *duty.Collection, rec *ast.Term) {
	in.records++
	obj, ok := rec.Value.(ast.Object)
	if !ok {
		return
	}
	if c.DateField != "" {
		if d := stringField(obj, c.DateField); d > in.AsOf {
			if c.Name == "appointments" && d <= in.upTo {
				in.upcoming = append(in.upcoming, rec)
			}
			return
		}
	}
	if len(c.Nested) > 0 {
		rec = in.filterNested(c, obj, rec)
	}
	i := collectionIndex[c.Name]
	in.colls[i] = append(in.colls[i], rec)
}

func (in *OrganInput) filterNested(c *duty.Collection, obj ast.Object, rec *ast.Term) *ast.Term {
	var replace map[string]*ast.Term
	for field, dateField := range c.Nested {
		arr, ok := obj.Get(keyTerm(field)).Value.(*ast.Array)
		if !ok {
			continue
		}
		var kept []*ast.Term
		for j := range arr.Len() {
			e := arr.Elem(j)
			if eo, ok := e.Value.(ast.Object); ok && stringField(eo, dateField) > in.AsOf {
				if kept == nil {
					kept = make([]*ast.Term, j, arr.Len())
					for k := range j {
						kept[k] = arr.Elem(k)
					}
				}
				continue
			}
			if kept != nil {
				kept = append(kept, e)
			}
		}
		if kept != nil {
			if replace == nil {
				replace = map[string]*ast.Term{}
			}
			replace[field] = ast.NewTerm(ast.NewArray(kept...))
		}
	}
	if replace == nil {
		return rec
	}
	items := make([][2]*ast.Term, 0, obj.Len())
	obj.Foreach(func(k, v *ast.Term) {
		if s, ok := k.Value.(ast.String); ok {
			if r, ok := replace[string(s)]; ok {
				v = r
			}
		}
		items = append(items, [2]*ast.Term{k, v})
	})
	return ast.NewTerm(ast.NewObject(items...))
}

func stringField(obj ast.Object, field string) string {
	t := obj.Get(keyTerm(field))
	if t == nil {
		return ""
	}
	s, _ := t.Value.(ast.String)
	return string(s)
}

// Value returns the input object: as_of, organ, every collection, possibly empty, and
// upcoming_appointments.
func (in *OrganInput) Value() ast.Value {
	items := make([][2]*ast.Term, 0, len(duty.Collections)+3)
	items = append(items,
		ast.Item(keyTerm("as_of"), ast.StringTerm(in.AsOf)),
		ast.Item(keyTerm("organ"), ast.StringTerm(in.ID)),
		ast.Item(keyTerm(upcomingKey), ast.NewTerm(ast.NewArray(in.upcoming...))))
	for i, c := range duty.Collections {
		items = append(items, ast.Item(keyTerm(c.Name), ast.NewTerm(ast.NewArray(in.colls[i]...))))
	}
	return ast.NewObject(items...)
}

// IsOrgan reports whether the input holds its organ's root department (an organ with id ID
// and no parent): records left with the stamp of a department that is no longer a root do
// not make an organ.
func (in *OrganInput) IsOrgan() bool {
	root := in.find("departments", in.ID)
	return root != nil && root.Get(keyTerm("parent_id")) == nil
}

// departmentOf is duty.Organ.DepartmentOf over the input's records.
func (in *OrganInput) departmentOf(subject duty.Ref) string {
	if subject.Collection == "departments" {
		return subject.ID
	}
	rec := in.find(subject.Collection, subject.ID)
	if rec == nil {
		return ""
	}
	return duty.DepartmentOfFields(subject.Collection, func(f string) string { return stringField(rec, f) },
		func(p string) string {
			if person := in.find("people", p); person != nil {
				return stringField(person, "department_id")
			}
			return ""
		})
}

func (in *OrganInput) find(collection, id string) ast.Object {
	i, ok := collectionIndex[collection]
	if !ok {
		return nil
	}
	if in.byID == nil {
		in.byID = map[string]map[string]ast.Object{}
	}
	idx, ok := in.byID[collection]
	if !ok {
		ts := in.colls[i]
		if collection == "appointments" {
			// A talk's warning names an appointment recorded ahead of time.
			ts = append(slices.Clip(ts), in.upcoming...)
		}
		idx = make(map[string]ast.Object, len(ts))
		for _, t := range ts {
			if obj, ok := t.Value.(ast.Object); ok {
				idx[stringField(obj, "id")] = obj
			}
		}
		in.byID[collection] = idx
	}
	return idx[id]
}

// Term is an OPA term: the value Terms builds and OrganInput.Add takes. Packages that build
// policy input (the store's decoder, the bench) name it through here, so that this package
// stays the only importer of OPA.
type Term = ast.Term

// Terms builds OPA terms for a decoder (duty.ValueBuilder): field names come from one shared
// table, and short strings that recur across records (dates, enumerations, ids named by other
// records) are shared within one Terms. A Terms is used by one goroutine at a time; Reset it
// between organs to bound its table.
type Terms struct {
	strs map[string]*ast.Term
	ints map[int64]*ast.Term
}

// NewTerms returns a builder of OPA terms.
func NewTerms() *Terms {
	return &Terms{strs: make(map[string]*ast.Term, 1024), ints: map[int64]*ast.Term{}}
}

// Reset forgets the shared strings.
func (t *Terms) Reset() {
	clear(t.strs)
	clear(t.ints)
}

// internMax is the length up to which strings are shared: dates, ranks, kinds and ids.
const internMax = 24

// String implements duty.ValueBuilder.
func (t *Terms) String(b []byte) *ast.Term {
	if len(b) > internMax {
		return ast.StringTerm(string(b))
	}
	if term, ok := t.strs[string(b)]; ok {
		return term
	}
	s := string(b)
	term := ast.StringTerm(s)
	t.strs[s] = term
	return term
}

// Bool implements duty.ValueBuilder.
func (t *Terms) Bool(v bool) *ast.Term { return ast.InternedTerm(v) }

// Int implements duty.ValueBuilder.
func (t *Terms) Int(v int64) *ast.Term {
	if term, ok := t.ints[v]; ok {
		return term
	}
	term := ast.NewTerm(ast.Number(strconv.FormatInt(v, 10)))
	t.ints[v] = term
	return term
}

// Float implements duty.ValueBuilder.
func (t *Terms) Float(v float64) *ast.Term { return ast.FloatNumberTerm(v) }

// Null implements duty.ValueBuilder.
func (t *Terms) Null() *ast.Term { return ast.InternedNullTerm }

// Array implements duty.ValueBuilder.
func (t *Terms) Array(elems []*ast.Term) *ast.Term {
	if len(elems) == 0 {
		return ast.NewTerm(ast.NewArray())
	}
	cp := make([]*ast.Term, len(elems))
	copy(cp, elems)
	return ast.NewTerm(ast.NewArray(cp...))
}

// Object implements duty.ValueBuilder. Keys starting with "_" are the store's own fields (the
// organ stamp) and never reach policies.
func (t *Terms) Object(keys [][]byte, vals []*ast.Term) *ast.Term {
	items := make([][2]*ast.Term, 0, len(keys))
	for i, k := range keys {
		if len(k) > 0 && k[0] == '_' {
			continue
		}
		kt, ok := keyTerms[string(k)]
		if !ok {
			kt = ast.StringTerm(string(k))
		}
		items = append(items, [2]*ast.Term{kt, vals[i]})
	}
	return ast.NewTerm(ast.NewObject(items...))
}

var _ duty.ValueBuilder[*ast.Term] = (*Terms)(nil)

// InputOf builds the input of organ o as of asOf from its Docs, passing each record through
// Terms (duty.Build) as a scan's reader passes the stored bytes (store.Decoder): one builder of
// the policy engine's values, wherever the records come from. A value no record can hold is
// an error.
func InputOf(o *duty.Organ, asOf string) (*OrganInput, error) {
	in := NewOrganInput(o.ID, asOf)
	terms := NewTerms()
	for _, c := range duty.Collections {
		for _, d := range o.Docs[c.Name] {
			t, err := duty.Build(terms, d)
			if err != nil {
				return nil, fmt.Errorf("organ %s: %s %s: %w", o.ID, c.Name, d.ID(), err)
			}
			in.Add(c, t)
		}
	}
	return in, nil
}
