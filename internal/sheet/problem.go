package sheet

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Problem is one thing wrong with an imported workbook: where (sheet, row, column) and why,
// in Chinese and English. Row 0 is the whole sheet (or the file when Sheet is empty); an empty
// Column is the whole row.
type Problem struct {
	Sheet  string `json:"sheet,omitempty"`
	Row    int    `json:"row,omitempty"`
	Column string `json:"column,omitempty"`
	// Title is the column's title as the workbook has it.
	Title string `json:"title,omitempty"`
	// Field is the record's field the cell holds (DOMAIN.md's name), when there is one.
	Field string `json:"field,omitempty"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

// String is the problem in English, for logs and errors.
func (p Problem) String() string { return p.In("en") }

// In is the problem in lang ("en" for English, anything else Chinese): where, then why.
func (p Problem) In(lang string) string {
	var parts []string
	at := func(key string, args ...any) { parts = append(parts, word(key, lang, args...)) }
	if p.Sheet != "" {
		at("at.sheet", p.Sheet)
	}
	if p.Row > 0 {
		at("at.row", p.Row)
	}
	switch {
	case p.Column != "" && p.Title != "":
		at("at.titled", p.Column, p.Title)
	case p.Column != "":
		at("at.column", p.Column)
	}
	why := p.ZH
	if lang == "en" {
		why = p.EN
	}
	if len(parts) == 0 {
		return why
	}
	return strings.Join(parts, word("at.sep", lang)) + word("at.end", lang) + why
}

// RefusedError is an import refused for its problems; nothing was written. It matches
// duty.ErrInvalid.
type RefusedError struct {
	Problems []Problem
}

func (e *RefusedError) Error() string {
	if len(e.Problems) == 1 {
		return "import refused: " + e.Problems[0].String()
	}
	return fmt.Sprintf("import refused: %d problems, the first: %s", len(e.Problems), e.Problems[0].String())
}

// Is makes errors.Is(err, duty.ErrInvalid) true.
func (e *RefusedError) Is(target error) bool { return target == duty.ErrInvalid }

// sortProblems orders problems by sheet (as the workbook has them), row, column.
func sortProblems(ps []Problem, sheetOrder map[string]int) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Sheet != b.Sheet {
			return sheetOrder[a.Sheet] < sheetOrder[b.Sheet]
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		ca, _ := excelize.ColumnNameToNumber(a.Column)
		cb, _ := excelize.ColumnNameToNumber(b.Column)
		return ca < cb
	})
}

// fieldPath splits a store problem's field ("tasks[2].due_on", "roles[1]", "held_on") into the
// array, the element and the field of the element (or the top field and -1).
var fieldPath = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?`)

// fromValidation turns the store's problems with a batch into problems of the workbook, by the
// origin of each document.
func (r *reading) fromValidation(ve *duty.ValidationError) []Problem {
	out := make([]Problem, 0, len(ve.Problems))
	for _, vp := range ve.Problems {
		out = append(out, r.locate(vp))
	}
	return out
}

func (r *reading) locate(vp duty.Problem) Problem {
	zh := vp.Chinese()
	if zh == "" {
		zh = word("p.store", "zh")
	}
	p := Problem{ZH: zh, EN: vp.Message, Field: vp.Field}
	var org *origin
	for _, l := range r.sheets {
		if l.name == vp.File && l.layout.Nested == nil {
			if list := r.origins[l.layout.Collection.Name]; vp.Index >= 0 && vp.Index < len(list) {
				org = list[vp.Index]
			}
		}
	}
	if org == nil {
		p.Sheet = vp.File
		return p
	}
	p.Sheet, p.Row = org.sheet.name, org.row
	field := vp.Field
	if m := fieldPath.FindStringSubmatch(field); m != nil {
		if rows, ok := org.nested[m[1]]; ok {
			i, _ := strconv.Atoi(m[2])
			if i < len(rows) {
				p.Sheet, p.Row = rows[i].sheet.name, rows[i].row
				if m[3] != "" {
					r.column(&p, rows[i].sheet, m[3])
				}
				return p
			}
		}
		field = m[1]
	}
	r.column(&p, org.sheet, strings.SplitN(field, ".", 2)[0])
	return p
}

// column sets the problem's column and title to the cell of field in sheet s, when it has one.
func (r *reading) column(p *Problem, s *sheetIn, field string) {
	if i, ok := s.colOf[field]; ok {
		p.Column, _ = excelize.ColumnNumberToName(i + 1)
		p.Title = s.titles[i]
	}
}

// asRefused returns the problems of a refused batch, or nil when err is not a refusal.
func (r *reading) asRefused(err error) []Problem {
	var ve *duty.ValidationError
	if errors.As(err, &ve) {
		return r.fromValidation(ve)
	}
	return nil
}
