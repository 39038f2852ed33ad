package sheet

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Input is a workbook (or CSV file) to import.
type Input struct {
	// Name is the file's name as uploaded; a name ending in .csv is read as CSV.
	Name string
	Data []byte
	// Collection, when set, is the collection every sheet must belong to (and the collection of
	// a CSV file); empty means each sheet names its collection.
	Collection string
}

// Limits bound an import.
type Limits struct {
	// MaxRows bounds the data rows of all sheets together; 0 means 100,000 (about 450 MiB of
	// heap while the batch is validated and written: BenchmarkImport50k).
	MaxRows int
	// MaxUnzipped bounds the workbook's size once unpacked (a zip bomb); 0 means 512 MiB.
	MaxUnzipped int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxRows == 0 {
		l.MaxRows = 100_000
	}
	if l.MaxUnzipped == 0 {
		l.MaxUnzipped = 512 << 20
	}
	return l
}

// Names finds the records an import may name by id or by name: the people and departments a
// reference of the importing user may name (store.EachRecord, organ-wide).
type Names interface {
	EachRecord(ctx context.Context, actor duty.Principal, collection string, organWide bool, fn func(duty.Doc) error) error
}

// sheetIn is one sheet being read.
type sheetIn struct {
	name   string
	layout *Layout
	order  int
	cols   []*Column      // by spreadsheet column; nil for a column the reader skips (names beside ids)
	colOf  map[string]int // field → spreadsheet column (0-based)
	titles []string
}

// origin is where a document came from: its row and the rows of its nested items.
type origin struct {
	sheet  *sheetIn
	row    int
	nested map[string][]place
}

type place struct {
	sheet *sheetIn
	row   int
}

// pendingRef is a reference cell, resolved once every sheet is read (it may name a record of
// the same import by id or by name).
type pendingRef struct {
	coll, value string
	set         func(id string)
	at          Problem
}

// reading is the state of one import's reading.
type reading struct {
	ctx      context.Context
	actor    duty.Principal
	limits   Limits
	names    Names
	progress func(done, total int)

	sheets   []*sheetIn
	docs     map[string][]map[string]any
	origins  map[string][]*origin
	byID     map[string]map[string]int
	refs     []pendingRef
	problems []Problem
	rows     int
	total    int
}

// Parsed is a workbook read into batches, ready for store.PutMany, or its problems.
type Parsed struct {
	Batches  map[string][]duty.RawDoc
	Rows     int
	Problems []Problem
	r        *reading
}

// Read reads a workbook (or CSV) into one batch per collection. Every cell is checked against
// its column (type, date, enumerated value, reference by id or by name); the problems come back
// in Parsed.Problems by sheet, row and column. progress, when not nil, is called with the rows
// read so far and the rows the sheets declare. It stops with ctx's error when ctx is done.
func Read(ctx context.Context, in Input, actor duty.Principal, names Names, limits Limits, progress func(done, total int)) (*Parsed, error) {
	r := &reading{ctx: ctx, actor: actor, limits: limits.withDefaults(), names: names, progress: progress,
		docs: map[string][]map[string]any{}, origins: map[string][]*origin{}, byID: map[string]map[string]int{}}
	if progress == nil {
		r.progress = func(int, int) {}
	}
	var coll *duty.Collection
	if in.Collection != "" {
		if coll = duty.Lookup(in.Collection); coll == nil {
			return nil, fmt.Errorf("collection %q: %w", in.Collection, duty.ErrNotFound)
		}
	}
	var err error
	switch {
	case bytes.HasPrefix(in.Data, []byte("PK\x03\x04")):
		err = r.readXLSX(in.Data, coll)
	case strings.HasSuffix(strings.ToLower(in.Name), ".csv") ||
		(!strings.HasSuffix(strings.ToLower(in.Name), ".xlsx") && utf8.Valid(in.Data) && !bytes.ContainsRune(in.Data, 0) && len(in.Data) > 0):
		err = r.readCSV(in.Data, coll)
	default:
		r.fileProblem("p.notxlsx", "no zip archive")
	}
	if err != nil {
		return nil, err
	}
	if len(r.problems) == 0 {
		if err := r.resolve(); err != nil {
			return nil, err
		}
	}
	order := map[string]int{}
	for _, s := range r.sheets {
		order[s.name] = s.order
	}
	sortProblems(r.problems, order)
	p := &Parsed{Rows: r.rows, Problems: r.problems, r: r, Batches: map[string][]duty.RawDoc{}}
	for c, list := range r.docs {
		raw := make([]duty.RawDoc, len(list))
		for i, d := range list {
			raw[i] = duty.RawDoc{File: r.origins[c][i].sheet.name, Line: r.origins[c][i].row, Index: i, Value: d}
		}
		p.Batches[c] = raw
	}
	return p, nil
}

func (r *reading) fileProblem(key string, args ...any) {
	zh, en := both(key, args...)
	r.problems = append(r.problems, Problem{ZH: zh, EN: en})
}

func (r *reading) add(p Problem, key string, args ...any) {
	p.ZH, p.EN = both(key, args...)
	r.problems = append(r.problems, p)
}

// readXLSX reads the sheets of a workbook: every collection sheet, in the schema's order (a
// collection's own sheet before its nested ones), skipping the guide and the choices.
func (r *reading) readXLSX(data []byte, only *duty.Collection) error {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true,
		UnzipSizeLimit: r.limits.MaxUnzipped, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		r.fileProblem("p.notxlsx", err.Error())
		return nil
	}
	defer f.Close()
	colls := duty.Collections
	if only != nil {
		colls = []*duty.Collection{only}
	}
	found := map[*duty.Collection]map[string]*sheetIn{} // collection → layout code → sheet
	counts := rowCounts(data)
	for i, name := range f.GetSheetList() {
		if isOwnSheet(name) {
			continue
		}
		l := LayoutByName(name, colls)
		if l == nil {
			if only != nil && LayoutByName(name, duty.Collections) != nil {
				r.add(Problem{Sheet: name}, "p.othercoll", name, duty.Names.Collection(only.Name).ZH)
				continue
			}
			var known []string
			for _, c := range colls {
				for _, l := range Layouts(c) {
					known = append(known, "「"+l.Name()+"」")
				}
			}
			r.problems = append(r.problems, Problem{Sheet: name,
				ZH: word("p.unknownsheet", "zh", name, strings.Join(known, "")),
				EN: word("p.unknownsheet", "en", name, strings.Join(codes(colls), ", "))})
			continue
		}
		if found[l.Collection] == nil {
			found[l.Collection] = map[string]*sheetIn{}
		}
		if prev, dup := found[l.Collection][l.Code()]; dup {
			r.add(Problem{Sheet: name}, "p.dupsheet", name, prev.name)
			continue
		}
		s := &sheetIn{name: name, layout: l, order: i}
		found[l.Collection][l.Code()] = s
		r.sheets = append(r.sheets, s)
		r.total += max(0, counts[name]-1)
	}
	if len(r.sheets) == 0 && len(r.problems) == 0 {
		r.fileProblem("p.nosheet")
	}
	// Records are written whole: a collection's sheet needs its nested sheets, and a nested
	// sheet its collection's sheet.
	for c, byCode := range found {
		for _, l := range Layouts(c) {
			if byCode[l.Code()] == nil {
				r.add(Problem{}, "p.needsheet", l.Name())
			}
		}
	}
	if len(r.problems) > 0 {
		return nil
	}
	slices.SortFunc(r.sheets, func(a, b *sheetIn) int { return sheetRank(a.layout) - sheetRank(b.layout) })
	for _, s := range r.sheets {
		rows, err := f.Rows(s.name)
		if err != nil {
			return fmt.Errorf("read sheet %q: %w", s.name, err)
		}
		err = r.readRows(s, func() ([]string, bool, error) {
			if !rows.Next() {
				return nil, false, rows.Error()
			}
			cells, err := rows.Columns(excelize.Options{RawCellValue: true})
			return cells, true, err
		})
		_ = rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// sheetRank orders sheets by the schema: collections in load order, each one's own sheet
// before its nested ones.
func sheetRank(l *Layout) int {
	n := slices.Index(duty.Collections, l.Collection) * 100
	if l.Nested != nil {
		n += 1 + slices.IndexFunc(l.Collection.Fields, func(f duty.Field) bool { return f.Name == l.Nested.Name })
	}
	return n
}

func codes(colls []*duty.Collection) []string {
	var out []string
	for _, c := range colls {
		for _, l := range Layouts(c) {
			out = append(out, l.Code())
		}
	}
	return out
}

// isOwnSheet reports whether a sheet is one the workbooks of dutycheck add around the records
// (the guide, the choices of the drop-downs, the problems of a marked copy).
func isOwnSheet(name string) bool {
	for _, k := range []string{"guide", "lists", "problems"} {
		if name == word(k, "zh") || strings.EqualFold(name, word(k, "en")) {
			return true
		}
	}
	return false
}

// readCSV reads a CSV file as the sheet of one collection (one without nested sheets).
func (r *reading) readCSV(data []byte, coll *duty.Collection) error {
	if coll == nil {
		r.fileProblem("p.csvcoll")
		return nil
	}
	ls := Layouts(coll)
	if len(ls) > 1 {
		r.fileProblem("p.csvnested", duty.Names.Collection(coll.Name).ZH)
		return nil
	}
	if !utf8.Valid(data) {
		// Excel's plain "CSV" on a Chinese Windows is GBK: read as UTF-8, every Chinese name
		// would turn into U+FFFD and be stored so.
		r.fileProblem("p.notutf8")
		return nil
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte(duty.BOM))))
	cr.FieldsPerRecord = -1
	s := &sheetIn{name: ls[0].Name(), layout: ls[0]}
	r.sheets = append(r.sheets, s)
	r.total = bytes.Count(data, []byte("\n"))
	return r.readRows(s, func() ([]string, bool, error) {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, false, nil
		}
		if err != nil {
			r.fileProblem("p.badcsv", err.Error())
			return nil, false, nil
		}
		return rec, true, nil
	})
}

// readRows reads a sheet: the header, then each row that is not empty.
func (r *reading) readRows(s *sheetIn, next func() ([]string, bool, error)) error {
	header, ok, err := next()
	if err != nil || !ok {
		if err == nil && len(r.problems) == 0 {
			r.add(Problem{Sheet: s.name, Row: 1}, "p.noheader")
		}
		return err
	}
	if !r.readHeader(s, header) {
		return nil
	}
	coll := s.layout.Collection.Name
	for row := 2; ; row++ {
		cells, ok, err := next()
		if err != nil || !ok {
			return err
		}
		if !slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue
		}
		r.rows++
		if r.rows%512 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			r.progress(r.rows, max(r.total, r.rows))
		}
		if r.rows > r.limits.MaxRows {
			r.add(Problem{Sheet: s.name, Row: row}, "p.toomany", r.limits.MaxRows)
			return nil
		}
		obj := map[string]any{}
		parent := ""
		for i, col := range s.cols {
			if col == nil {
				continue
			}
			raw := ""
			if i < len(cells) {
				raw = unsafeCell(strings.TrimSpace(cells[i]))
			}
			if col.Parent {
				parent = raw
				if raw == "" {
					r.add(r.at(s, row, i), "p.required")
				}
				continue
			}
			r.cell(s, row, i, col, raw, obj)
		}
		if s.layout.Nested == nil {
			r.addDoc(coll, obj, &origin{sheet: s, row: row})
			continue
		}
		if parent == "" {
			continue
		}
		idx, ok := r.byID[coll][parent]
		if !ok {
			main := Layouts(s.layout.Collection)[0]
			p := r.at(s, row, 0)
			r.add(p, "p.noparent", main.Name(), parent)
			continue
		}
		field := s.layout.Nested.Name
		d, org := r.docs[coll][idx], r.origins[coll][idx]
		arr, _ := d[field].([]any)
		d[field] = append(arr, obj)
		org.nested[field] = append(org.nested[field], place{s, row})
	}
}

func (r *reading) addDoc(coll string, obj map[string]any, org *origin) {
	org.nested = map[string][]place{}
	for _, l := range Layouts(org.sheet.layout.Collection)[1:] {
		obj[l.Nested.Name] = []any{}
	}
	if r.byID[coll] == nil {
		r.byID[coll] = map[string]int{}
	}
	if id, ok := obj["id"].(string); ok {
		if _, dup := r.byID[coll][id]; !dup {
			r.byID[coll][id] = len(r.docs[coll])
		}
	}
	r.docs[coll] = append(r.docs[coll], obj)
	r.origins[coll] = append(r.origins[coll], org)
}

// at is the place of a cell, for a problem.
func (r *reading) at(s *sheetIn, row, i int) Problem {
	p := Problem{Sheet: s.name, Row: row}
	p.Column, _ = excelize.ColumnNumberToName(i + 1)
	if i < len(s.titles) {
		p.Title = s.titles[i]
	}
	if i < len(s.cols) && s.cols[i] != nil {
		p.Field = s.cols[i].Code()
	}
	return p
}

// readHeader maps the header cells to the layout's columns; an unknown, repeated or missing
// required column is a problem. It reports whether the sheet can be read.
func (r *reading) readHeader(s *sheetIn, header []string) bool {
	coll := s.layout.Collection.Name
	s.colOf = map[string]int{}
	s.titles = header
	ok := true
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			s.cols = append(s.cols, nil)
			continue
		}
		var col *Column
		for j := range s.layout.Columns {
			if s.layout.Columns[j].matchesHeader(coll, h) {
				col = &s.layout.Columns[j]
				break
			}
		}
		p := r.at(s, 1, i)
		switch {
		case col == nil && s.layout.isNameColumn(h):
		case col == nil:
			r.add(p, "p.unknowncol", h)
			ok = false
		default:
			if _, dup := s.colOf[col.Code()]; dup {
				r.add(p, "p.dupcol", h)
				ok = false
				col = nil
			} else {
				s.colOf[col.Code()] = i
			}
		}
		s.cols = append(s.cols, col)
	}
	for _, col := range s.layout.Columns {
		if _, ok2 := s.colOf[col.Code()]; !ok2 && (!col.Field.Optional || col.Parent) {
			r.add(Problem{Sheet: s.name, Row: 1, Field: col.Code()}, "p.missingcol", col.Title(coll, "zh"))
			r.problems[len(r.problems)-1].EN = word("p.missingcol", "en", col.Title(coll, "en"))
			ok = false
		}
	}
	return ok
}

// cell reads one cell into obj, or records its problem.
func (r *reading) cell(s *sheetIn, row, i int, col *Column, raw string, obj map[string]any) {
	f := col.Field
	coll := s.layout.Collection.Name
	if raw == "" {
		if f.Kind == duty.Text && !f.Optional {
			obj[f.Name] = ""
		}
		return
	}
	enum := duty.Names.Field(coll, col.Path).Enum
	switch f.Kind {
	case duty.String, duty.Text:
		switch {
		case f.Ref != "":
			r.refs = append(r.refs, pendingRef{coll: f.Ref, value: raw, at: r.at(s, row, i), set: func(id string) { obj[f.Name] = id }})
		case enum != "":
			if v, ok := enumValue(enum, raw); ok {
				obj[f.Name] = v
			} else if len(f.Enum) > 0 {
				r.enumProblem(r.at(s, row, i), enum, raw)
			} else {
				obj[f.Name] = raw // a free kind (meetings): the labelled ones are offered, others are allowed
			}
		default:
			obj[f.Name] = raw
		}
	case duty.Date:
		if d, ok := r.date(r.at(s, row, i), raw); ok {
			obj[f.Name] = d
		}
	case duty.Bool:
		switch strings.ToLower(raw) {
		case "是", "true", "yes", "1", "y":
			obj[f.Name] = true
		case "否", "false", "no", "0", "n":
			obj[f.Name] = false
		default:
			r.add(r.at(s, row, i), "p.bool", raw)
		}
	case duty.Int:
		if enum != "" {
			if v, ok := enumValue(enum, raw); ok {
				raw = v
			}
		}
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			if enum != "" {
				r.enumProblem(r.at(s, row, i), enum, raw)
			} else {
				r.add(r.at(s, row, i), "p.int", raw)
			}
			return
		}
		obj[f.Name] = int64(n)
	case duty.Strings:
		parts := splitList(raw, f.Ref == "" && len(f.Enum) == 0)
		out := make([]any, len(parts))
		obj[f.Name] = out
		for k, part := range parts {
			switch {
			case f.Ref != "":
				r.refs = append(r.refs, pendingRef{coll: f.Ref, value: part, at: r.at(s, row, i), set: func(id string) { out[k] = id }})
			case enum != "":
				if v, ok := enumValue(enum, part); ok {
					out[k] = v
				} else {
					r.enumProblem(r.at(s, row, i), enum, part)
				}
			default:
				out[k] = part
			}
		}
	}
}

// unsafeCell undoes duty.SafeCell: the apostrophe an export put before a formula-like text
// (「'=1+1」) is not part of the value, so an export imports back unchanged.
func unsafeCell(s string) string {
	if rest, ok := strings.CutPrefix(s, "'"); ok && duty.FormulaLike(rest) {
		return rest
	}
	return s
}

// splitList splits a cell holding several values: free text one per line, codes and names
// also at commas and enumeration commas.
func splitList(raw string, lines bool) []string {
	seps := "\n\r"
	if !lines {
		seps += "、,，;；"
	}
	var out []string
	for _, p := range strings.FieldsFunc(raw, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reading) enumProblem(p Problem, enum, raw string) {
	var zh, en []string
	for _, v := range enumValues(enum) {
		l, _ := duty.Names.Enum(enum, v)
		zh = append(zh, "「"+l.ZH+"」")
		en = append(en, l.EN)
	}
	p.ZH = word("p.enum", "zh", raw, strings.Join(zh, ""))
	p.EN = word("p.enum", "en", raw, strings.Join(en, ", "))
	r.problems = append(r.problems, p)
}

// date reads a date cell (a serial number) or a text YYYY-MM-DD.
func (r *reading) date(p Problem, raw string) (string, bool) {
	if n, err := strconv.ParseFloat(raw, 64); err == nil && !strings.Contains(raw, "-") {
		if n < 1 || n > 2958465 {
			r.add(p, "p.date", raw)
			return "", false
		}
		t, err := excelize.ExcelDateToTime(n, false)
		if err != nil {
			r.add(p, "p.date", raw)
			return "", false
		}
		raw = t.Format(time.DateOnly)
	}
	if duty.ValidDate(raw) {
		return raw, true
	}
	if _, err := time.Parse(time.DateOnly, raw); err == nil {
		r.add(p, "p.daterange", raw)
	} else {
		r.add(p, "p.date", raw)
	}
	return "", false
}

// resolve turns every reference cell into an id: a value that is the id of a record of the
// import or of one the user's references may name stays; otherwise it must be the name of
// exactly one such record.
func (r *reading) resolve() error {
	var idx *nameIndex
	for _, ref := range r.refs {
		if _, ok := r.byID[ref.coll][ref.value]; ok {
			ref.set(ref.value)
			continue
		}
		if idx == nil {
			var err error
			if idx, err = r.loadNames(); err != nil {
				return err
			}
		}
		if _, ok := idx.ids[ref.coll][ref.value]; ok {
			ref.set(ref.value)
			continue
		}
		var ids []string
		for _, d := range r.docs[ref.coll] {
			if d["name"] == ref.value {
				if id, _ := d["id"].(string); id != "" && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		for _, id := range idx.byName[ref.coll][ref.value] {
			if _, replaced := r.byID[ref.coll][id]; !replaced && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		what := duty.Names.Collection(ref.coll)
		switch len(ids) {
		case 1:
			ref.set(ids[0])
		case 0:
			p := ref.at
			p.ZH, p.EN = word("p.noref", "zh", ref.value, what.ZH), word("p.noref", "en", ref.value, what.EN)
			r.problems = append(r.problems, p)
		default:
			slices.Sort(ids)
			p := ref.at
			p.ZH = word("p.ambiguous", "zh", ref.value, what.ZH, strings.Join(ids, "、"))
			p.EN = word("p.ambiguous", "en", ref.value, what.EN, strings.Join(ids, ", "))
			r.problems = append(r.problems, p)
		}
	}
	r.refs = nil
	return nil
}

// nameIndex holds the stored records of people and departments a reference may name: their
// ids, and their ids by name.
type nameIndex struct {
	ids    map[string]map[string]bool
	byName map[string]map[string][]string
}

func (r *reading) loadNames() (*nameIndex, error) {
	idx := &nameIndex{ids: map[string]map[string]bool{}, byName: map[string]map[string][]string{}}
	if r.names == nil {
		return idx, nil
	}
	for _, c := range []string{"departments", "people"} {
		idx.ids[c], idx.byName[c] = map[string]bool{}, map[string][]string{}
		err := r.names.EachRecord(r.ctx, r.actor, c, true, func(d duty.Doc) error {
			idx.ids[c][d.ID()] = true
			if n := d.Str("name"); n != "" {
				idx.byName[c][n] = append(idx.byName[c][n], d.ID())
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// enumValue finds the value of an enumeration that raw names: the value itself, or its Chinese
// or English label.
func enumValue(enum, raw string) (string, bool) {
	for _, v := range enumValues(enum) {
		l, _ := duty.Names.Enum(enum, v)
		if raw == v || raw == l.ZH || strings.EqualFold(raw, l.EN) || strings.EqualFold(raw, v) {
			return v, true
		}
	}
	return "", false
}

// enumValues lists an enumeration's values in the schema's order where the schema has them.
func enumValues(enum string) []string {
	var out []string
	for v := range duty.Names.Enums[enum] {
		out = append(out, v)
	}
	order := map[string][]string{"department_kind": duty.DepartmentKinds, "rank": duty.Ranks, "role": duty.Roles,
		"talk_kind": duty.TalkKinds, "list_level": duty.ListLevels, "item_status": {"open", "closed"}, "bool": {"true", "false"}}
	want := order[enum]
	slices.SortFunc(out, func(a, b string) int {
		ia, ib := slices.Index(want, a), slices.Index(want, b)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	return out
}
