package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// errNotWorkbook is Mark's answer for input that is not a workbook (a CSV file, or not a
// spreadsheet at all): there is nothing to mark.
var errNotWorkbook = errors.New("not an xlsx workbook")

// MarkFill is the fill colour of a bad cell in a marked workbook.
const MarkFill = "FFC7CE"

// Mark returns a copy of the workbook data with the cells of the problems filled in red and
// commented with the reasons (Chinese, then English); a problem of a whole row marks its
// first cell, one of a whole sheet its first cell. A sheet 问题清单 (Problems) at the front
// lists every problem. At most MaxProblems problems are marked.
func Mark(data []byte, problems []Problem) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, errNotWorkbook
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 512 << 20})
	if err != nil {
		return nil, errNotWorkbook
	}
	defer f.Close()
	if len(problems) > MaxProblems {
		problems = problems[:MaxProblems]
	}
	formulas := hasFormulas(data)
	sheets := map[string]bool{}
	for _, s := range f.GetSheetList() {
		sheets[s] = true
		if !formulas {
			continue
		}
		if err := formulasAsText(f, s); err != nil {
			return nil, err
		}
	}
	// One comment per cell, holding every reason of that cell.
	type mark struct {
		sheet, cell string
		texts       []string
	}
	var marks []*mark
	byCell := map[[2]string]*mark{}
	for _, p := range problems {
		if !sheets[p.Sheet] {
			continue
		}
		col, row := p.Column, p.Row
		if col == "" {
			col = "A"
		}
		if row == 0 {
			row = 1
		}
		cell := col + strconv.Itoa(row)
		k := [2]string{p.Sheet, cell}
		m := byCell[k]
		if m == nil {
			m = &mark{sheet: p.Sheet, cell: cell}
			byCell[k] = m
			marks = append(marks, m)
		}
		m.texts = append(m.texts, p.ZH+"\n"+p.EN)
	}
	styles := map[int]int{} // a cell's style → the same style filled
	for _, m := range marks {
		old, err := f.GetCellStyle(m.sheet, m.cell)
		if err != nil {
			return nil, err
		}
		filled, ok := styles[old]
		if !ok {
			st, err := f.GetStyle(old)
			if err != nil || st == nil {
				st = &excelize.Style{}
			}
			st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{MarkFill}}
			st.Border = []excelize.Border{{Type: "left", Color: "C00000", Style: 2}, {Type: "right", Color: "C00000", Style: 2},
				{Type: "top", Color: "C00000", Style: 2}, {Type: "bottom", Color: "C00000", Style: 2}}
			if filled, err = f.NewStyle(st); err != nil {
				return nil, err
			}
			styles[old] = filled
		}
		if err := f.SetCellStyle(m.sheet, m.cell, m.cell, filled); err != nil {
			return nil, err
		}
		text := strings.Join(m.texts, "\n")
		if err := f.AddComment(m.sheet, excelize.Comment{Author: "dutycheck", Cell: m.cell, Text: text,
			Paragraph: []excelize.RichTextRun{{Text: text}}, Width: 320, Height: 120}); err != nil {
			return nil, err
		}
	}
	if err := writeProblemSheet(f, problems); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeProblemSheet puts a sheet listing the problems at the front of the workbook.
func writeProblemSheet(f *excelize.File, problems []Problem) error {
	name := word("problems", "zh")
	if i, _ := f.GetSheetIndex(name); i >= 0 {
		if err := f.DeleteSheet(name); err != nil {
			return err
		}
	}
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	if err := f.MoveSheet(name, f.GetSheetList()[0]); err != nil {
		return err
	}
	head := []any{"工作表", "行", "列", "列标题", "问题", "Problem"}
	if err := f.SetSheetRow(name, "A1", &head); err != nil {
		return err
	}
	for i, p := range problems {
		row := []any{p.Sheet, p.Row, p.Column, p.Title, p.ZH, p.EN}
		if p.Row == 0 {
			row[1] = ""
		}
		for k, v := range row {
			if s, ok := v.(string); ok {
				row[k] = safe(s)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(name, cell, &row); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(name, "A", "A", 22)
	_ = f.SetColWidth(name, "D", "D", 16)
	_ = f.SetColWidth(name, "E", "F", 60)
	idx, _ := f.GetSheetIndex(name)
	f.SetActiveSheet(idx)
	return nil
}

// formulasAsText replaces every formula cell of the sheet by the formula's text, neutralised like
// every cell of a download (duty.SafeCell): the marked copy goes to the uploader and to the
// admins, and a formula of the upload (=HYPERLINK, a DDE call) must not run when they open it.
func formulasAsText(f *excelize.File, sheet string) error {
	rows, err := f.Rows(sheet)
	if err != nil {
		return err
	}
	// The cells holding anything: a formula cell is among them even without a cached value.
	var cells []string
	for r := 1; rows.Next(); r++ {
		cols, err := rows.Columns()
		if err != nil {
			_ = rows.Close()
			return err
		}
		for c := range cols {
			name, _ := excelize.CoordinatesToCellName(c+1, r)
			cells = append(cells, name)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, cell := range cells {
		fm, err := f.GetCellFormula(sheet, cell)
		if err != nil || fm == "" {
			continue
		}
		if err := f.SetCellStr(sheet, cell, safe("="+fm)); err != nil {
			return err
		}
	}
	return nil
}

// formulaElement is the start of a formula element (<f>, <f t="shared" …/>, <x:f>) in a
// worksheet's XML.
var formulaElement = regexp.MustCompile(`<([A-Za-z0-9_]+:)?f[\s>/]`)

// hasFormulas reports whether any worksheet of the workbook holds a formula element, or
// whether that cannot be told (then formulasAsText looks at every cell). Reading each cell's
// formula costs more than marking a workbook without any, the usual case.
func hasFormulas(data []byte) bool {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return true
	}
	for _, zf := range z.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") || !strings.HasSuffix(zf.Name, ".xml") {
			continue
		}
		r, err := zf.Open()
		if err != nil {
			return true
		}
		found, err := containsFormula(io.LimitReader(r, 512<<20))
		_ = r.Close()
		if found || err != nil {
			return true
		}
	}
	return false
}

// containsFormula searches r for formulaElement in chunks that overlap by a few bytes, so that
// an element across two chunks is found.
func containsFormula(r io.Reader) (bool, error) {
	const overlap = 64
	buf := make([]byte, 1<<20)
	n := 0
	for {
		m, err := io.ReadFull(r, buf[n:])
		n += m
		if formulaElement.Match(buf[:n]) {
			return true, nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		n = copy(buf, buf[n-overlap:n])
	}
}
