// Package sheet is dutycheck's spreadsheet edge: per collection an Excel template (Chinese
// column titles, drop-downs for enumerations and departments, date cells, a first sheet
// explaining the columns), the reading of a filled workbook (or CSV) into the batches the store
// validates and writes as one (store.PutMany, the same path as PUT /collections), the copy of a
// refused workbook with its bad cells marked and commented, import jobs with progress and
// cancellation, and the xlsx exports of the collections and of the reports.
//
// Every title and enumerated value comes from the catalogue duty.Names (policies/labels); the
// few words of the workbook itself (the explanation sheet, the problems) are in words.go.
package sheet

import (
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Layout is one sheet of a collection's workbook: the collection's own sheet (Nested nil), or
// the sheet of one of its arrays of objects (record-book tasks, entries and inspections,
// suggestion items, major matters), whose rows are keyed by the parent's id in the first column.
type Layout struct {
	Collection *duty.Collection
	Nested     *duty.Field
	Columns    []Column
}

// Column is one column of a sheet: a field of the collection (or of the nested objects), or
// the parent key of a nested sheet.
type Column struct {
	Field duty.Field
	// Path names the field in the catalogue: "held_on", "tasks.due_on".
	Path string
	// Parent marks the first column of a nested sheet: the id of the parent record.
	Parent bool
}

// ParentField is the field name of a nested sheet's parent-key column (its title is the parent
// collection's id label).
const ParentField = "parent_id"

// Layouts returns the sheets of a collection: its own, then one per array of objects.
func Layouts(c *duty.Collection) []*Layout {
	main := &Layout{Collection: c}
	out := []*Layout{main}
	for i := range c.Fields {
		f := c.Fields[i]
		if f.Kind != duty.Objects {
			main.Columns = append(main.Columns, Column{Field: f, Path: f.Name})
			continue
		}
		n := &Layout{Collection: c, Nested: &c.Fields[i]}
		n.Columns = append(n.Columns, Column{Field: duty.Field{Name: ParentField, Kind: duty.String}, Path: "id", Parent: true})
		for _, nf := range f.Fields {
			n.Columns = append(n.Columns, Column{Field: nf, Path: f.Name + "." + nf.Name})
		}
		out = append(out, n)
	}
	return out
}

// Name is the sheet's name in Chinese (what a template has), from the catalogue:
// 「廉政谈话」, 「全程记实本-任务清单」.
func (l *Layout) Name() string { return l.name("zh") }

func (l *Layout) name(lang string) string {
	s := duty.Names.Collection(l.Collection.Name).In(lang)
	if l.Nested != nil {
		sep := "-"
		if lang == "en" {
			sep = " - "
		}
		s += sep + duty.Names.Field(l.Collection.Name, l.Nested.Name).In(lang)
	}
	return s
}

// Code is the sheet's name in field names: "talks", "record_books.tasks".
func (l *Layout) Code() string {
	if l.Nested != nil {
		return l.Collection.Name + "." + l.Nested.Name
	}
	return l.Collection.Name
}

// Matches reports whether a sheet named name is this layout's: its Chinese or English name or
// its code, spaces around ignored, letters in any case.
func (l *Layout) Matches(name string) bool {
	name = strings.TrimSpace(name)
	return name == l.Name() || strings.EqualFold(name, l.name("en")) || strings.EqualFold(name, l.Code())
}

// Title is the column's title in lang: the field's label, or for a nested sheet's parent key
// the parent collection's id label.
func (col Column) Title(coll, lang string) string {
	return duty.Names.Field(coll, col.Path).In(lang)
}

// Code is the column's field name as DOMAIN.md writes it (a header a workbook may use instead
// of the title).
func (col Column) Code() string { return col.Field.Name }

// matchesHeader reports whether a header cell names this column: the Chinese or English title,
// or the field name, with spaces and a required mark (*) around ignored.
func (col Column) matchesHeader(coll, h string) bool {
	h = cleanHeader(h)
	return h == col.Title(coll, "zh") || strings.EqualFold(h, col.Title(coll, "en")) || strings.EqualFold(h, col.Code())
}

func cleanHeader(h string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(h), "*＊"))
}

// nameTitle is the title of the column an export puts beside a reference column, with the
// names of the records it names; the reader skips such columns.
func nameTitle(title string) string { return title + word("nameSuffix", "zh") }

// isNameColumn reports whether header is the name column beside a reference column of l.
func (l *Layout) isNameColumn(h string) bool {
	h = cleanHeader(h)
	for _, col := range l.Columns {
		if col.Field.Ref == "" {
			continue
		}
		t := col.Title(l.Collection.Name, "zh")
		if h == nameTitle(t) || strings.EqualFold(h, col.Title(l.Collection.Name, "en")+word("nameSuffix", "en")) || strings.EqualFold(h, col.Code()+"_name") {
			return true
		}
	}
	return false
}

// LayoutByName finds the layout of a sheet name among the collections, or nil.
func LayoutByName(name string, colls []*duty.Collection) *Layout {
	for _, c := range colls {
		for _, l := range Layouts(c) {
			if l.Matches(name) {
				return l
			}
		}
	}
	return nil
}
