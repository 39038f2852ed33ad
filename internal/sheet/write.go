package sheet

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// safe neutralises a formula in a text cell, the way the CSV downloads do.
func safe(s string) string { return duty.SafeCell(s) }

// book is a workbook being written, with its styles.
type book struct {
	f                           *excelize.File
	date, head, need, wrap, top int
}

func newBook() (*book, error) {
	b := &book{f: excelize.NewFile()}
	dateFmt := "yyyy-mm-dd"
	var err error
	styles := []struct {
		id *int
		s  *excelize.Style
	}{
		{&b.date, &excelize.Style{CustomNumFmt: &dateFmt}},
		{&b.head, &excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}}},
		{&b.need, &excelize.Style{Font: &excelize.Font{Bold: true, Color: "9C0006"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}}},
		{&b.wrap, &excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&b.top, &excelize.Style{Font: &excelize.Font{Bold: true}}},
	}
	for _, s := range styles {
		if *s.id, err = b.f.NewStyle(s.s); err != nil {
			b.f.Close()
			return nil, err
		}
	}
	return b, nil
}

// firstSheet renames the default sheet of a new workbook.
func (b *book) firstSheet(name string) error { return b.f.SetSheetName("Sheet1", name) }

// TemplateOptions are the choices a template offers beside the enumerations.
type TemplateOptions struct {
	// Departments are the names offered in the department drop-downs: the departments the user
	// may name (a name that more than one has is offered as their ids).
	Departments []string
}

// dateSerial is the spreadsheet serial number of a date from 1900-03-01 on (days since
// 1899-12-30; the serial of 1900-01-01, duty.MinDate, is 1).
func dateSerial(s string) int {
	t, _ := time.Parse(time.DateOnly, s)
	return int(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// WriteTemplate writes the import template of collections: a first sheet explaining every
// column, then the sheets of each collection (its own and its nested ones) with the Chinese
// column titles (required ones in red), drop-downs for the enumerations and the departments,
// date validation and format on the date columns, and a hidden sheet of the choices.
func WriteTemplate(w io.Writer, colls []*duty.Collection, opts TemplateOptions) error {
	b, err := newBook()
	if err != nil {
		return err
	}
	defer b.f.Close()
	f := b.f
	guide := word("guide", "zh")
	if err := b.firstSheet(guide); err != nil {
		return err
	}
	lists := word("lists", "zh")
	if _, err := f.NewSheet(lists); err != nil {
		return err
	}
	// The choices: one column per list, referenced by the drop-downs.
	choice := map[string]string{} // list → range
	addList := func(key, title string, values []string) error {
		if _, ok := choice[key]; ok || len(values) == 0 {
			return nil
		}
		col, _ := excelize.ColumnNumberToName(len(choice) + 1)
		if err := f.SetCellStr(lists, col+"1", title); err != nil {
			return err
		}
		for i, v := range values {
			if err := f.SetCellStr(lists, fmt.Sprintf("%s%d", col, i+2), safe(v)); err != nil {
				return err
			}
		}
		choice[key] = fmt.Sprintf("'%s'!$%s$2:$%s$%d", lists, col, col, len(values)+1)
		return nil
	}
	if err := addList("departments", duty.Names.Collection("departments").ZH, opts.Departments); err != nil {
		return err
	}
	row := 1
	put := func(cells ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return f.SetSheetRow(guide, cell, &cells)
	}
	if err := put(word("guide.intro", "zh")); err != nil {
		return err
	}
	if err := f.MergeCell(guide, "A1", "F1"); err != nil {
		return err
	}
	_ = f.SetRowHeight(guide, 1, 90)
	_ = f.SetCellStyle(guide, "A1", "A1", b.wrap)
	row++
	if err := put(word("guide.sheet", "zh"), word("guide.column", "zh"), word("guide.field", "zh"), word("guide.need", "zh"), word("guide.type", "zh")); err != nil {
		return err
	}
	_ = f.SetCellStyle(guide, "A3", "E3", b.top)
	for _, c := range colls {
		for _, l := range Layouts(c) {
			name := l.Name()
			if _, err := f.NewSheet(name); err != nil {
				return err
			}
			for i, col := range l.Columns {
				cell, _ := excelize.CoordinatesToCellName(i+1, 1)
				letter, _ := excelize.ColumnNumberToName(i + 1)
				title := col.Title(c.Name, "zh")
				if err := f.SetCellStr(name, cell, title); err != nil {
					return err
				}
				style := b.head
				if !col.Field.Optional {
					style = b.need
				}
				_ = f.SetCellStyle(name, cell, cell, style)
				_ = f.SetColWidth(name, letter, letter, float64(max(12, 2*len([]rune(title))+4)))
				need := word("yes", "zh")
				if col.Field.Optional {
					need = word("no", "zh")
				}
				if err := put(name, title, col.Code(), need, describe(l, col, "zh")); err != nil {
					return err
				}
				if err := b.validate(name, letter, l, col, choice, addList); err != nil {
					return err
				}
			}
			if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
				return err
			}
		}
	}
	_ = f.SetColWidth(guide, "A", "A", 24)
	_ = f.SetColWidth(guide, "B", "C", 18)
	_ = f.SetColWidth(guide, "D", "D", 6)
	_ = f.SetColWidth(guide, "E", "E", 70)
	if err := f.SetSheetVisible(lists, false); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

// validate adds the column's data validation: a drop-down of an enumeration's labels or of the
// departments, a date between duty.MinDate and duty.MaxDate (with the date format), an integer
// in range.
func (b *book) validate(sheet, letter string, l *Layout, col Column, choice map[string]string, addList func(key, title string, values []string) error) error {
	f := b.f
	sqref := letter + "2:" + letter + "1048576"
	dv := excelize.NewDataValidation(true)
	dv.SetSqref(sqref)
	fl := col.Field
	enum := duty.Names.Field(l.Collection.Name, col.Path).Enum
	switch {
	case fl.Kind == duty.Date:
		if err := f.SetColStyle(sheet, letter, b.date); err != nil {
			return err
		}
		if err := dv.SetRange(1, dateSerial(duty.MaxDate), excelize.DataValidationTypeDate, excelize.DataValidationOperatorBetween); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, word("type.date", "zh"), word("p.daterange", "zh", ""))
	case enum != "" && fl.Kind != duty.Strings:
		var labels []string
		for _, v := range enumValues(enum) {
			lb, _ := duty.Names.Enum(enum, v)
			labels = append(labels, lb.ZH)
		}
		if err := addList(enum, col.Title(l.Collection.Name, "zh"), labels); err != nil {
			return err
		}
		dv.SetSqrefDropList(choice[enum])
		if len(fl.Enum) > 0 || fl.Kind == duty.Bool || fl.Kind == duty.Int {
			dv.SetError(excelize.DataValidationErrorStyleStop, col.Title(l.Collection.Name, "zh"), describe(l, col, "zh"))
		}
	case fl.Ref == "departments" && fl.Kind == duty.String && choice["departments"] != "":
		dv.SetSqrefDropList(choice["departments"])
		// Warning only: an id is as good as a name.
		dv.SetError(excelize.DataValidationErrorStyleWarning, col.Title(l.Collection.Name, "zh"), describe(l, col, "zh"))
	case fl.Kind == duty.Int && fl.Max > 0:
		if err := dv.SetRange(int(fl.Min), int(fl.Max), excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, col.Title(l.Collection.Name, "zh"), describe(l, col, "zh"))
	default:
		return nil
	}
	return f.AddDataValidation(sheet, dv)
}

// describe says what a column takes, for the guide and the validation messages.
func describe(l *Layout, col Column, lang string) string {
	fl := col.Field
	coll := l.Collection.Name
	enum := duty.Names.Field(coll, col.Path).Enum
	labels := func() string {
		var out []string
		for _, v := range enumValues(enum) {
			lb, _ := duty.Names.Enum(enum, v)
			if lang == "en" {
				out = append(out, lb.EN)
			} else {
				out = append(out, "「"+lb.ZH+"」")
			}
		}
		if lang == "en" {
			return strings.Join(out, ", ")
		}
		return strings.Join(out, "")
	}
	switch {
	case col.Parent:
		main := Layouts(l.Collection)[0]
		return word("type.parent", lang, duty.Names.Collection(coll).In(lang), main.name(lang))
	case fl.Kind == duty.Date:
		return word("type.date", lang)
	case fl.Kind == duty.Bool:
		return word("type.bool", lang)
	case fl.Kind == duty.Int && enum != "":
		return word("type.enum", lang, labels())
	case fl.Kind == duty.Int:
		return word("type.int", lang, fl.Min, fl.Max)
	case fl.Kind == duty.Strings && enum != "":
		return word("type.enums", lang, labels())
	case fl.Kind == duty.Strings && fl.Ref != "":
		return word("type.refs", lang, duty.Names.Collection(fl.Ref).In(lang))
	case fl.Kind == duty.Strings:
		return word("type.lines", lang)
	case fl.Ref != "":
		return word("type.ref", lang, duty.Names.Collection(fl.Ref).In(lang))
	case fl.Name == "id":
		return word("type.id", lang)
	case enum != "" && len(fl.Enum) == 0:
		return word("type.enumfree", lang, labels())
	case enum != "":
		return word("type.enum", lang, labels())
	}
	return word("type.text", lang)
}

// Namer names a record of people or departments by its id ("" when it has no name).
type Namer func(collection, id string) string

// WriteCollection writes records of one collection as a workbook laid out like its template
// (re-importable): its own sheet and its nested ones, Chinese titles, enumerated values and
// booleans by their Chinese labels, dates as date cells, beside each reference column a column
// of the names, every text through duty.SafeCell. It streams the rows.
func WriteCollection(w io.Writer, c *duty.Collection, docs []duty.Doc, names Namer) error {
	b, err := newBook()
	if err != nil {
		return err
	}
	defer b.f.Close()
	for k, l := range Layouts(c) {
		name := l.Name()
		if k == 0 {
			err = b.firstSheet(name)
		} else {
			_, err = b.f.NewSheet(name)
		}
		if err != nil {
			return err
		}
		sw, err := b.f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		var head []any
		for _, col := range l.Columns {
			title := col.Title(c.Name, "zh")
			head = append(head, excelize.Cell{StyleID: b.head, Value: title})
			if col.Field.Ref != "" {
				head = append(head, excelize.Cell{StyleID: b.head, Value: nameTitle(title)})
			}
		}
		if err := sw.SetColWidth(1, len(head), 16); err != nil {
			return err
		}
		if err := sw.SetRow("A1", head); err != nil {
			return err
		}
		r := 2
		emit := func(parent string, obj map[string]any) error {
			var cells []any
			for _, col := range l.Columns {
				if col.Parent {
					cells = append(cells, safe(parent))
					continue
				}
				cells = append(cells, b.value(c.Name, col, obj[col.Field.Name]))
				if col.Field.Ref != "" {
					cells = append(cells, safe(refNames(col.Field.Ref, obj[col.Field.Name], names)))
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, r)
			r++
			return sw.SetRow(cell, cells)
		}
		for _, d := range docs {
			if l.Nested == nil {
				if err := emit("", d); err != nil {
					return err
				}
				continue
			}
			items, _ := d[l.Nested.Name].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					if err := emit(d.ID(), m); err != nil {
						return err
					}
				}
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return b.f.Write(w)
}

// value is the cell of a field's value: a date cell, a number, a label, or safe text.
func (b *book) value(coll string, col Column, v any) any {
	if v == nil {
		return nil
	}
	fl := col.Field
	switch fl.Kind {
	case duty.Date:
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.DateOnly, s); err == nil {
				return excelize.Cell{StyleID: b.date, Value: t}
			}
		}
	case duty.Int:
		if duty.Names.Field(coll, col.Path).Enum == "" {
			return v
		}
	case duty.Strings:
		arr, _ := v.([]any)
		sep := "、"
		if fl.Ref == "" && len(fl.Enum) == 0 {
			sep = "\n"
		}
		parts := make([]string, len(arr))
		for i, e := range arr {
			parts[i] = duty.Names.Value(coll, col.Path, e, "zh")
		}
		return safe(strings.Join(parts, sep))
	}
	return safe(duty.Names.Value(coll, col.Path, v, "zh"))
}

// refNames names the records a reference field's value names.
func refNames(coll string, v any, names Namer) string {
	if names == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return names(coll, x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, names(coll, s))
			}
		}
		return strings.Join(out, "、")
	}
	return ""
}

// ReportLabels names a report's codes (the policy engine: titles and reasons from METADATA).
type ReportLabels interface {
	duty.Labels
}

// reportColumns are the columns of a report's sheets.
var reportColumns = []string{"序号", "部门编号", "部门", "规则", "严重程度", "原因", "责任层级", "对象类型", "对象编号", "对象名称", "详情", "问题描述", "Description", "证据", "首次发现"}

// reportSheet is one sheet of a report's workbook: its violations and, for warnings, the day
// each fails (due), for waived violations the waiver that set each aside.
type reportSheet struct {
	name    string
	vs      []duty.Violation
	due     []string
	waivers []duty.WaiverRef
}

// WriteReport writes a report as a workbook: a sheet of the violations (问题) and, when there
// are any, one of the warnings (预警, with the day each fails) and one of the waived violations
// (豁免, with the waiver's id and end date), Chinese titles, names beside the ids of
// departments and subjects, dates as date cells, every text through duty.SafeCell.
func WriteReport(w io.Writer, rep *duty.Report, labels ReportLabels, names Namer) error {
	b, err := newBook()
	if err != nil {
		return err
	}
	defer b.f.Close()
	sheets := []reportSheet{{name: "问题", vs: rep.Violations}}
	if len(rep.Warnings) > 0 {
		vs, due := make([]duty.Violation, len(rep.Warnings)), make([]string, len(rep.Warnings))
		for i, wn := range rep.Warnings {
			vs[i], due[i] = wn.Violation, wn.FailsOn
		}
		sheets = append(sheets, reportSheet{name: "预警", vs: vs, due: due})
	}
	if len(rep.Waived) > 0 {
		vs, ws := make([]duty.Violation, len(rep.Waived)), make([]duty.WaiverRef, len(rep.Waived))
		for i, x := range rep.Waived {
			vs[i], ws[i] = x.Violation, x.Waiver
		}
		sheets = append(sheets, reportSheet{name: "豁免", vs: vs, waivers: ws})
	}
	for k, s := range sheets {
		if k == 0 {
			err = b.firstSheet(s.name)
		} else {
			_, err = b.f.NewSheet(s.name)
		}
		if err != nil {
			return err
		}
		sw, err := b.f.NewStreamWriter(s.name)
		if err != nil {
			return err
		}
		cols := slices.Clone(reportColumns)
		if s.due != nil {
			cols = append(cols, "到期日")
		}
		if s.waivers != nil {
			cols = append(cols, "豁免编号", "豁免有效期至")
		}
		head := make([]any, len(cols))
		for i, c := range cols {
			head[i] = excelize.Cell{StyleID: b.head, Value: c}
		}
		_ = sw.SetColWidth(1, 1, 6)
		_ = sw.SetColWidth(2, 11, 16)
		_ = sw.SetColWidth(12, 13, 48)
		_ = sw.SetColWidth(14, len(cols), 16)
		if err := sw.SetRow("A1", head); err != nil {
			return err
		}
		date := func(d string) any {
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				return excelize.Cell{StyleID: b.date, Value: t}
			}
			return nil
		}
		for i, v := range s.vs {
			level, _ := duty.Names.Enum("list_level", v.Accountable)
			var ev []string
			for _, e := range v.Evidence {
				ev = append(ev, duty.Names.Collection(e.Collection).ZH+" "+e.ID)
			}
			first := any(nil)
			if v.FirstSeen != nil {
				first = date(v.FirstSeen.AsOf)
			}
			subject := ""
			if names != nil {
				subject = names(v.Subject.Collection, v.Subject.ID)
			}
			dept := ""
			if names != nil {
				dept = names("departments", v.Department)
			}
			row := []any{i + 1, safe(v.Department), safe(dept), safe(labels.PolicyTitle(v.Policy, "zh")), duty.Names.EnumText("severity", v.Severity, "zh"),
				safe(labels.ReasonLabel(v.Policy, v.Reason, "zh")), safe(level.ZH), duty.Names.Collection(v.Subject.Collection).ZH,
				safe(v.Subject.ID), safe(subject), safe(duty.DetailString(v.Details)), safe(v.Message.ZH), safe(v.Message.EN),
				safe(strings.Join(ev, "、")), first}
			if s.due != nil {
				row = append(row, date(s.due[i]))
			}
			if s.waivers != nil {
				row = append(row, safe(s.waivers[i].ID), date(s.waivers[i].Until))
			}
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return b.f.Write(w)
}
