package sheet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// LoadNamer names the people and departments actor's references may name (store.EachRecord,
// organ-wide), for the names beside ids of the exports.
func LoadNamer(ctx context.Context, src Names, actor duty.Principal) (Namer, error) {
	names := map[string]map[string]string{}
	for _, c := range []string{"departments", "people"} {
		names[c] = map[string]string{}
		if err := src.EachRecord(ctx, actor, c, true, func(d duty.Doc) error {
			names[c][d.ID()] = d.Str("name")
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return func(coll, id string) string { return names[coll][id] }, nil
}

// ReportNamer returns the names of the departments and the people report r names (its
// findings' departments and subjects), each read by its id through get. A report names a few
// records of the store; reading every person of the store for them (LoadNamer) cost the size of
// the store on every download. The report holds only what the caller may read, and so do the
// records it names. A record deleted since the scan has no name; a store that cannot answer is
// an error.
func ReportNamer(ctx context.Context, get func(ctx context.Context, collection, id string) (duty.Doc, error), r *duty.Report) (Namer, error) {
	names := map[string]map[string]string{"departments": {}, "people": {}}
	want := func(collection, id string) error {
		m, ok := names[collection]
		if !ok || id == "" {
			return nil
		}
		if _, done := m[id]; done {
			return nil
		}
		d, err := get(ctx, collection, id)
		switch {
		case errors.Is(err, duty.ErrNotFound):
			m[id] = ""
		case err != nil:
			return err
		default:
			m[id] = d.Str("name")
		}
		return nil
	}
	var found []*duty.Violation
	for i := range r.Violations {
		found = append(found, &r.Violations[i])
	}
	for i := range r.Warnings {
		found = append(found, &r.Warnings[i].Violation)
	}
	for i := range r.Waived {
		found = append(found, &r.Waived[i].Violation)
	}
	for _, v := range found {
		if err := want("departments", v.Department); err != nil {
			return nil, err
		}
		if err := want(v.Subject.Collection, v.Subject.ID); err != nil {
			return nil, err
		}
	}
	return func(collection, id string) string { return names[collection][id] }, nil
}

// DepartmentChoices lists what a template's department drop-downs offer to actor: the names of
// the departments its references may name, each once; a name that several departments share
// is offered as their ids instead (the import refuses such a name).
func DepartmentChoices(ctx context.Context, src Names, actor duty.Principal) ([]string, error) {
	byName := map[string][]string{}
	if err := src.EachRecord(ctx, actor, "departments", true, func(d duty.Doc) error {
		byName[d.Str("name")] = append(byName[d.Str("name")], d.ID())
		return nil
	}); err != nil {
		return nil, err
	}
	var out []string
	for n, ids := range byName {
		if len(ids) == 1 && n != "" {
			out = append(out, n)
		} else {
			out = append(out, ids...)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Collections returns the collections a template or an import names: one, or every one for
// "" and "all".
func Collections(name string) ([]*duty.Collection, error) {
	if name == "" || name == "all" {
		return duty.Collections, nil
	}
	c := duty.Lookup(name)
	if c == nil {
		return nil, fmt.Errorf("collection %q: %w", name, duty.ErrNotFound)
	}
	return []*duty.Collection{c}, nil
}

// Template writes the import template of a collection ("" or "all": of every collection) for
// actor, its department drop-downs offering the departments actor may name.
func Template(ctx context.Context, w io.Writer, src Names, actor duty.Principal, collection string) error {
	colls, err := Collections(collection)
	if err != nil {
		return err
	}
	depts, err := DepartmentChoices(ctx, src, actor)
	if err != nil {
		return err
	}
	return WriteTemplate(w, colls, TemplateOptions{Departments: depts})
}

// Export writes the records of a collection actor may read (sorted by id) as a workbook laid
// out like the template, with the names beside the ids.
func Export(ctx context.Context, w io.Writer, src Names, actor duty.Principal, collection string) error {
	c := duty.Lookup(collection)
	if c == nil {
		return fmt.Errorf("collection %q: %w", collection, duty.ErrNotFound)
	}
	var docs []duty.Doc
	if err := src.EachRecord(ctx, actor, collection, false, func(d duty.Doc) error {
		docs = append(docs, d)
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(docs, func(a, b duty.Doc) int { return strings.Compare(a.ID(), b.ID()) })
	names, err := LoadNamer(ctx, src, actor)
	if err != nil {
		return err
	}
	return WriteCollection(w, c, docs, names)
}

// FileName is the download name of a workbook: the Chinese name of its contents and a suffix.
func FileName(collection, kind string) string {
	what := "全部记录"
	if c := duty.Lookup(collection); c != nil {
		what = duty.Names.Collection(c.Name).ZH
	}
	return what + "-" + kind + ".xlsx"
}

// ContentType is the media type of an xlsx workbook.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Disposition is the Content-Disposition of a download (a workbook, a CSV, a report, an
// evidence file) named name: non-ASCII names encoded as RFC 2231 says, so a department id or
// file name in Chinese reaches the browser intact. Every download of both edges uses it.
func Disposition(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}
