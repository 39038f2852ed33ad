package duty

import (
	"slices"
	"strings"
)

// Organ is the records of one organisation: its organ department, every department under it,
// and every record that belongs to it. Policies are evaluated one organ at a time.
type Organ struct {
	ID   string
	Docs map[string][]Doc

	index map[string]map[string]Doc
}

// Split places every record of the dataset in its organ: departments by their root; people by
// their department; every other record by the department or person its Collection.OrganVia
// names. It returns the organs sorted by id, and the department tree.
func Split(ds *Dataset) ([]*Organ, *Tree) {
	tree := NewTree(ds.Docs["departments"])
	organs := map[string]*Organ{}
	get := func(id string) *Organ {
		o := organs[id]
		if o == nil {
			o = &Organ{ID: id, Docs: map[string][]Doc{}}
			organs[id] = o
		}
		return o
	}
	for _, id := range tree.Organs() {
		get(id)
	}
	personOrgan := map[string]string{}
	for _, p := range ds.Docs["people"] {
		personOrgan[p.ID()] = tree.Organ(p.Str("department_id"))
	}
	for _, c := range Collections {
		for _, d := range ds.Docs[c.Name] {
			id := OrganOf(c, d, tree.Organ, func(p string) string { return personOrgan[p] })
			if id == "" {
				continue
			}
			o := get(id)
			o.Docs[c.Name] = append(o.Docs[c.Name], d)
		}
	}
	out := make([]*Organ, 0, len(organs))
	for _, o := range organs {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *Organ) int { return strings.Compare(a.ID, b.ID) })
	return out, tree
}

// OrganOf returns the organ of document d of collection c, given the organ of a department and
// of a person.
func OrganOf(c *Collection, d Doc, deptOrgan, personOrgan func(string) string) string {
	switch {
	case c.Name == "departments":
		return deptOrgan(d.ID())
	case c.OrganVia == "":
		return ""
	case refCollection(c, c.OrganVia) == "people":
		return personOrgan(d.Str(c.OrganVia))
	default:
		return deptOrgan(d.Str(c.OrganVia))
	}
}

func refCollection(c *Collection, field string) string {
	for _, f := range c.Fields {
		if f.Name == field {
			return f.Ref
		}
	}
	return ""
}

// AsOf returns the organ as it stood on date: records dated after it are left out (by each
// collection's DateField), and so are the dated elements of their arrays (a record book's entries
// and inspections, an integrity file's major matters). The receiver is not changed.
func (o *Organ) AsOf(date string) *Organ {
	out := &Organ{ID: o.ID, Docs: make(map[string][]Doc, len(o.Docs))}
	for _, c := range Collections {
		docs := o.Docs[c.Name]
		if c.DateField == "" && len(c.Nested) == 0 {
			out.Docs[c.Name] = docs
			continue
		}
		kept := make([]Doc, 0, len(docs))
		for _, d := range docs {
			if c.DateField != "" && d.Str(c.DateField) > date {
				continue
			}
			if len(c.Nested) > 0 {
				d = filterNested(c, d, date)
			}
			kept = append(kept, d)
		}
		out.Docs[c.Name] = kept
	}
	return out
}

func filterNested(c *Collection, d Doc, date string) Doc {
	cp := make(Doc, len(d))
	for k, v := range d {
		cp[k] = v
	}
	for field, dateField := range c.Nested {
		arr, ok := d[field].([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(arr))
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				if s, _ := m[dateField].(string); s > date {
					continue
				}
			}
			kept = append(kept, e)
		}
		cp[field] = kept
	}
	return cp
}

// Find returns the record of the collection with the id, or nil.
func (o *Organ) Find(collection, id string) Doc {
	if o.index == nil {
		o.index = map[string]map[string]Doc{}
	}
	idx, ok := o.index[collection]
	if !ok {
		idx = make(map[string]Doc, len(o.Docs[collection]))
		for _, d := range o.Docs[collection] {
			idx[d.ID()] = d
		}
		o.index[collection] = idx
	}
	return idx[id]
}

// DepartmentOf returns the department a violation about the subject belongs to (see
// DepartmentOfDoc).
func (o *Organ) DepartmentOf(subject Ref) string {
	if subject.Collection == "departments" {
		return subject.ID
	}
	return DepartmentOfDoc(subject.Collection, o.Find(subject.Collection, subject.ID), func(p string) string {
		return o.Find("people", p).Str("department_id")
	})
}

// DepartmentOfDoc returns the department a record belongs to (DOMAIN.md): a department itself;
// a person's department; a record's department_id; else the department of the person it is
// about (a book's holder, an integrity file's or talk's person, a letter's signer).
func DepartmentOfDoc(collection string, d Doc, personDept func(id string) string) string {
	if d == nil {
		return ""
	}
	return DepartmentOfFields(collection, d.Str, personDept)
}

// DepartmentOfFields is DepartmentOfDoc for a record held in another representation (the
// policy engine's): field returns a string field of the record, "" when absent.
func DepartmentOfFields(collection string, field func(name string) string, personDept func(id string) string) string {
	switch collection {
	case "departments":
		return field("id")
	case "people":
		return field("department_id")
	}
	if dept := field("department_id"); dept != "" {
		return dept
	}
	for _, f := range []string{"holder_id", "person_id", "signer_id"} {
		if p := field(f); p != "" {
			return personDept(p)
		}
	}
	return ""
}
