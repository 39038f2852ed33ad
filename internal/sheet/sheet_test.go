package sheet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

var admin = duty.Principal{User: "admin", Role: duty.RoleAdmin}

// organ is a small organisation: two organs whose offices share a name, people of whom two
// share a name.
const organ = `{
 "departments": [
  {"id": "O1", "name": "省人大机关", "kind": "organ"},
  {"id": "O1-OFF", "name": "办公厅", "kind": "office", "parent_id": "O1"},
  {"id": "O1-DIV", "name": "联络处", "kind": "division", "parent_id": "O1"},
  {"id": "O2", "name": "另一机关", "kind": "organ"},
  {"id": "O2-OFF", "name": "办公厅", "kind": "office", "parent_id": "O2"}
 ],
 "people": [
  {"id": "P1", "name": "汤军", "department_id": "O1", "rank": "bureau", "roles": ["party_group_secretary"], "active": true},
  {"id": "P2", "name": "王芳", "department_id": "O1-DIV", "rank": "division", "roles": ["department_head"], "active": true},
  {"id": "P3", "name": "李强", "department_id": "O1-DIV", "rank": "section", "roles": [], "active": true},
  {"id": "P4", "name": "李强", "department_id": "O1-OFF", "rank": "staff", "roles": [], "active": true}
 ]
}`

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st := storetest.Open(tb)
	var docs map[string][]map[string]any
	if err := json.Unmarshal([]byte(organ), &docs); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.PutMany(context.Background(), admin, duty.RawDocs(docs)); err != nil {
		tb.Fatal(err)
	}
	return st
}

// template returns the import template of the collections, opened.
func template(tb testing.TB, colls ...string) *excelize.File {
	tb.Helper()
	var cs []*duty.Collection
	for _, c := range colls {
		cs = append(cs, duty.Lookup(c))
	}
	var buf bytes.Buffer
	if err := sheet.WriteTemplate(&buf, cs, sheet.TemplateOptions{Departments: []string{"省人大机关", "联络处"}}); err != nil {
		tb.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// fill writes rows from row 2 of a sheet; a time.Time becomes a date cell.
func fill(tb testing.TB, f *excelize.File, name string, rows ...[]any) {
	tb.Helper()
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		tb.Fatal(err)
	}
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			if v == nil {
				continue
			}
			if err := f.SetCellValue(name, cell, v); err != nil {
				tb.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				_ = f.SetCellStyle(name, cell, cell, style)
			}
		}
	}
}

func bytesOf(tb testing.TB, f *excelize.File) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func day(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func header(tb testing.TB, f *excelize.File, name string) []string {
	tb.Helper()
	rows, err := f.GetRows(name)
	if err != nil || len(rows) == 0 {
		tb.Fatalf("sheet %s: %v", name, err)
	}
	return rows[0]
}

// TestTemplateRoundTrip: a template filled in (names for people and departments, labels for
// kinds, date cells and dates as text, nested sheets keyed by the parent id) imports into the
// records a JSON batch would have made.
func TestTemplateRoundTrip(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	f := template(t, "talks", "record_books", "people")
	if got, want := f.GetSheetList()[0], "填写说明"; got != want {
		t.Errorf("first sheet %q, want %q", got, want)
	}
	if got := header(t, f, "廉政谈话"); !cmp.Equal(got, []string{"谈话编号", "谈话类型", "谈话对象", "谈话人", "谈话日期", "已记录"}) {
		t.Errorf("talk titles %v", got)
	}
	if got := header(t, f, "全程记实本-履责记录"); !cmp.Equal(got, []string{"记实本编号", "记录日期", "对应任务", "记录内容"}) {
		t.Errorf("entry titles %v", got)
	}
	dvs, err := f.GetDataValidations("廉政谈话")
	if err != nil || len(dvs) < 3 {
		t.Errorf("talks: data validations %d, %v; want the kind drop-down, the dates, the booleans", len(dvs), err)
	}
	fill(t, f, "廉政谈话",
		[]any{"T1", "任前廉政谈话", "王芳", "汤军", day("2025-03-01"), "是"},
		[]any{"T2", "reminder", "P3", nil, "2025-04-02", "否"})
	fill(t, f, "全程记实本", []any{"B1", 2025, "王芳", day("2025-01-10")})
	fill(t, f, "全程记实本-任务清单", []any{"B1", "K1", "学习", day("2025-06-30")})
	fill(t, f, "全程记实本-履责记录", []any{"B1", day("2025-02-01"), "K1", "=HYPERLINK(\"x\")"}, []any{"B1", day("2025-02-03"), nil, ""})
	fill(t, f, "全程记实本-监督检查", []any{"B1", day("2025-05-05"), "汤军", nil})
	// 办公厅 alone is two departments; the id is one.
	fill(t, f, "人员", []any{"P5", "赵敏", "联络处", "科级", "纪检委员、处室（单位）主要负责人", "O1-OFF", "是", nil})
	res, err := sheet.Import(ctx, sheet.Input{Name: "t.xlsx", Data: bytesOf(t, f)}, admin, st, sheet.Limits{}, nil)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res.Rows != 8 || res.Written != 4 {
		t.Errorf("rows %d written %d, want 8 and 4", res.Rows, res.Written)
	}
	want := map[string]duty.Doc{
		"talks/T1": {"id": "T1", "kind": "pre_appointment", "person_id": "P2", "conducted_by": "P1", "held_on": "2025-03-01", "recorded": true},
		"talks/T2": {"id": "T2", "kind": "reminder", "person_id": "P3", "held_on": "2025-04-02", "recorded": false},
		"record_books/B1": {"id": "B1", "year": int64(2025), "holder_id": "P2", "issued_on": "2025-01-10",
			"tasks":       []any{map[string]any{"id": "K1", "title": "学习", "due_on": "2025-06-30"}},
			"entries":     []any{map[string]any{"date": "2025-02-01", "task_id": "K1", "content": "=HYPERLINK(\"x\")"}, map[string]any{"date": "2025-02-03", "content": ""}},
			"inspections": []any{map[string]any{"date": "2025-05-05", "inspector_id": "P1"}}},
		"people/P5": {"id": "P5", "name": "赵敏", "department_id": "O1-DIV", "rank": "section", "roles": []any{"discipline_member", "department_head"},
			"supervises": []any{"O1-OFF"}, "active": true},
	}
	for key, w := range want {
		coll, id, _ := strings.Cut(key, "/")
		got, err := st.Get(ctx, coll, id)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if d := cmp.Diff(w, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", key, d)
		}
	}
}

// refused imports f and checks that it is refused with exactly the wanted problems (sheet,
// row, column, and a Chinese reason containing zh) and that nothing is written.
func refused(t *testing.T, st *store.Store, in sheet.Input, want []sheet.Problem) []sheet.Problem {
	t.Helper()
	ctx := context.Background()
	_, err := sheet.Import(ctx, in, admin, st, sheet.Limits{}, nil)
	var re *sheet.RefusedError
	if !errors.As(err, &re) || !errors.Is(err, duty.ErrInvalid) {
		t.Fatalf("import: %v, want refused", err)
	}
	if len(re.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(re.Problems), len(want), re.Problems)
	}
	for i := range min(len(want), len(re.Problems)) {
		g, w := re.Problems[i], want[i]
		if g.Sheet != w.Sheet || g.Row != w.Row || g.Column != w.Column || !strings.Contains(g.ZH, w.ZH) || g.EN == "" {
			t.Errorf("problem %d: %+v, want %+v", i, g, w)
		}
		for _, r := range g.ZH {
			if strings.ContainsRune(",;:()", r) {
				t.Errorf("problem %d: ASCII punctuation in the Chinese %q", i, g.ZH)
				break
			}
		}
	}
	for _, id := range []string{"T1", "T2", "T3"} {
		if _, err := st.Get(ctx, "talks", id); !errors.Is(err, duty.ErrNotFound) {
			t.Errorf("talk %s of a refused import: %v, want not stored", id, err)
		}
	}
	return re.Problems
}

// TestBadInput: every bad input is refused with its sheet, row, column and reason, and nothing
// of the import is written.
func TestBadInput(t *testing.T) {
	st := openStore(t)
	good := []any{"T1", "任前廉政谈话", "王芳", nil, day("2025-03-01"), "是"}
	cases := []struct {
		note string
		in   func(t *testing.T) sheet.Input
		want []sheet.Problem
	}{
		{"not a workbook", func(*testing.T) sheet.Input {
			return sheet.Input{Name: "x.xlsx", Data: []byte("\x00\x01\x02 not a spreadsheet")}
		}, []sheet.Problem{{ZH: "不是 Excel 工作簿"}}},
		{"a zip that is not a workbook", func(*testing.T) sheet.Input {
			return sheet.Input{Name: "x.xlsx", Data: []byte("PK\x03\x04 broken")}
		}, []sheet.Problem{{ZH: "不是 Excel 工作簿"}}},
		{"missing column", func(t *testing.T) sheet.Input {
			f := template(t, "talks")
			_ = f.RemoveCol("廉政谈话", "E")
			fill(t, f, "廉政谈话", []any{"T1", "任前廉政谈话", "王芳", nil, "是"})
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{{Sheet: "廉政谈话", Row: 1, ZH: "缺少必填列「谈话日期」"}}},
		{"unknown column", func(t *testing.T) sheet.Input {
			f := template(t, "talks")
			_ = f.SetCellStr("廉政谈话", "G1", "备注")
			fill(t, f, "廉政谈话", good)
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{{Sheet: "廉政谈话", Row: 1, Column: "G", ZH: "不认识的列标题「备注」"}}},
		{"unknown sheet", func(t *testing.T) sheet.Input {
			f := template(t, "talks")
			_, _ = f.NewSheet("谈话2")
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{{Sheet: "谈话2", ZH: "不认识的工作表「谈话2」"}}},
		{"wrong types and dates", func(t *testing.T) sheet.Input {
			f := template(t, "talks")
			fill(t, f, "廉政谈话", good,
				[]any{"T2", "闲谈", "王芳", nil, "2025-02-30", "也许"},
				[]any{"T3", "提醒谈话", "王芳", nil, "2300-01-01", nil})
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{
			{Sheet: "廉政谈话", Row: 3, Column: "B", ZH: "「闲谈」不是可选的值"},
			{Sheet: "廉政谈话", Row: 3, Column: "E", ZH: "应为日期"},
			{Sheet: "廉政谈话", Row: 3, Column: "F", ZH: "应填「是」或「否」"},
			{Sheet: "廉政谈话", Row: 4, Column: "E", ZH: "超出可接受的范围"},
		}},
		{"a required cell empty", func(t *testing.T) sheet.Input {
			f := template(t, "talks")
			fill(t, f, "廉政谈话", []any{"T1", "任前廉政谈话", nil, nil, day("2025-03-01")})
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{{Sheet: "廉政谈话", Row: 2, Column: "C", ZH: "此项必填"}}},
		{"names: none and ambiguous", func(t *testing.T) sheet.Input {
			f := template(t, "talks")
			fill(t, f, "廉政谈话", []any{"T1", "提醒谈话", "张无忌", "李强", day("2025-03-01")})
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{
			{Sheet: "廉政谈话", Row: 2, Column: "C", ZH: "没有编号或名称为「张无忌」的人员"},
			{Sheet: "廉政谈话", Row: 2, Column: "D", ZH: "名称「李强」对应多条人员记录（编号P3、P4）"},
		}},
		{"nested row of no parent", func(t *testing.T) sheet.Input {
			f := template(t, "record_books")
			fill(t, f, "全程记实本", []any{"B1", 2025, "王芳", day("2025-01-10")})
			fill(t, f, "全程记实本-任务清单", []any{"B9", "K1", "学习", day("2025-06-30")})
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{{Sheet: "全程记实本-任务清单", Row: 2, Column: "A", ZH: "没有编号为「B9」的记录"}}},
		{"a nested sheet missing", func(t *testing.T) sheet.Input {
			f := template(t, "record_books")
			_ = f.DeleteSheet("全程记实本-监督检查")
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{{ZH: "缺少工作表「全程记实本-监督检查」"}}},
		{"refused by the store: duplicate ids, nested too", func(t *testing.T) sheet.Input {
			f := template(t, "record_books", "talks")
			fill(t, f, "廉政谈话", good, good)
			fill(t, f, "全程记实本", []any{"B1", 2025, "王芳", day("2025-01-10")})
			fill(t, f, "全程记实本-任务清单", []any{"B1", "K1", "学习", day("2025-06-30")}, []any{"B1", "K1", "又一项", day("2025-07-30")})
			return sheet.Input{Data: bytesOf(t, f)}
		}, []sheet.Problem{
			{Sheet: "全程记实本-任务清单", Row: 3, Column: "B", ZH: "编号与同一记录的另一项重复"},
			{Sheet: "廉政谈话", Row: 3, Column: "A", ZH: "编号与本批中另一行重复"},
		}},
		{"csv with a bad date", func(*testing.T) sheet.Input {
			return sheet.Input{Name: "talks.csv", Collection: "talks", Data: []byte(duty.BOM + "id,kind,person_id,held_on\nT1,general,P2,2025-13-01\n")}
		}, []sheet.Problem{{Sheet: "廉政谈话", Row: 2, Column: "D", ZH: "应为日期"}}},
		{"csv in GBK (Excel's \"CSV\" on a Chinese Windows)", func(*testing.T) sheet.Input {
			return sheet.Input{Name: "talks.csv", Collection: "talks", Data: []byte("id,kind,person_id,held_on\nT1,general,\xcd\xf5\xb7\xbc,2025-03-01\n")} // 王芳
		}, []sheet.Problem{{ZH: "不是 UTF-8 编码"}}},
		{"csv of a collection with nested sheets", func(*testing.T) sheet.Input {
			return sheet.Input{Name: "b.csv", Collection: "record_books", Data: []byte("id,year,holder_id,issued_on\n")}
		}, []sheet.Problem{{ZH: "不能用 CSV 导入"}}},
	}
	for _, tc := range cases {
		t.Run(tc.note, func(t *testing.T) {
			refused(t, st, tc.in(t), tc.want)
		})
	}
}

// TestMarked: the copy of a refused workbook has the bad cells filled and commented with the
// reasons, and a first sheet listing the problems; the good cells are left as they were.
func TestMarked(t *testing.T) {
	st := openStore(t)
	f := template(t, "talks")
	fill(t, f, "廉政谈话", []any{"T1", "提醒谈话", "王芳", nil, day("2025-03-01")}, []any{"T2", "提醒谈话", "张无忌", nil, "2025-02-30"})
	data := bytesOf(t, f)
	// The date comes first: references are resolved once every cell is right.
	probs := refused(t, st, sheet.Input{Data: data}, []sheet.Problem{
		{Sheet: "廉政谈话", Row: 3, Column: "E", ZH: "应为日期"},
	})
	marked, err := sheet.Mark(data, probs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := excelize.OpenReader(bytes.NewReader(marked))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.GetSheetList()[0]; got != "问题清单" {
		t.Errorf("first sheet of the marked copy %q", got)
	}
	comments, err := m.GetComments("廉政谈话")
	if err != nil {
		t.Fatal(err)
	}
	byCell := map[string]string{}
	for _, c := range comments {
		text := c.Text
		for _, p := range c.Paragraph {
			text += p.Text
		}
		byCell[c.Cell] = text
	}
	for _, p := range probs {
		cell := fmt.Sprintf("%s%d", p.Column, p.Row)
		if !strings.Contains(byCell[cell], p.ZH) {
			t.Errorf("cell %s: comment %q, want it to hold %q", cell, byCell[cell], p.ZH)
		}
		if got := fillOf(t, m, "廉政谈话", cell); got != sheet.MarkFill {
			t.Errorf("cell %s: fill %q, want %s", cell, got, sheet.MarkFill)
		}
	}
	if got := fillOf(t, m, "廉政谈话", "A2"); got == sheet.MarkFill {
		t.Errorf("a good cell is marked")
	}
	listed, _ := m.GetRows("问题清单")
	if len(listed) != len(probs)+1 {
		t.Errorf("the problem sheet has %d rows, want %d", len(listed), len(probs)+1)
	}
}

// TestMarkedKeepsNoFormula: the marked copy of a refused workbook goes back to its uploader
// and to the admins; a formula the uploader put in it (=HYPERLINK, a DDE call) must not run
// when an admin opens it. Every formula cell becomes its text, neutralised like every cell of
// a download (duty.SafeCell), whether its row is bad or not.
func TestMarkedKeepsNoFormula(t *testing.T) {
	f := template(t, "talks")
	fill(t, f, "廉政谈话", []any{"T1", "提醒谈话", "王芳", nil, day("2025-03-01")}, []any{"T2", "提醒谈话", "张无忌", nil, "2025-02-30"})
	formulas := map[string]string{"F2": `HYPERLINK("http://evil.example/","x")`, "D3": `cmd|' /C calc'!A0`, "Z3": "1+1"}
	for cell, fm := range formulas {
		if err := f.SetCellFormula("廉政谈话", cell, fm); err != nil {
			t.Fatal(err)
		}
	}
	data := bytesOf(t, f)
	probs := []sheet.Problem{{Sheet: "廉政谈话", Row: 3, Column: "E", ZH: "应为日期", EN: "expected a date"}}
	marked, err := sheet.Mark(data, probs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := excelize.OpenReader(bytes.NewReader(marked))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for cell, fm := range formulas {
		if got, _ := m.GetCellFormula("廉政谈话", cell); got != "" {
			t.Errorf("cell %s of the marked copy is the formula %q", cell, got)
		}
		if got, _ := m.GetCellValue("廉政谈话", cell); got != "'="+fm {
			t.Errorf("cell %s of the marked copy is %q, want the formula as text %q", cell, got, "'="+fm)
		}
	}
}

func fillOf(tb testing.TB, f *excelize.File, sheetName, cell string) string {
	tb.Helper()
	id, err := f.GetCellStyle(sheetName, cell)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil || st == nil || len(st.Fill.Color) == 0 {
		return ""
	}
	c := strings.ToUpper(st.Fill.Color[0])
	if len(c) == 8 {
		c = c[2:]
	}
	return c
}

// TestRowLimit: a workbook with more rows than the limit is refused at the first row beyond it.
func TestRowLimit(t *testing.T) {
	f := template(t, "talks")
	var rows [][]any
	for i := range 5 {
		rows = append(rows, []any{fmt.Sprintf("T%d", i), "提醒谈话", "P2", nil, day("2025-03-01")})
	}
	fill(t, f, "廉政谈话", rows...)
	p, err := sheet.Read(context.Background(), sheet.Input{Data: bytesOf(t, f)}, admin, nil, sheet.Limits{MaxRows: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != 1 || p.Problems[0].Row != 5 || !strings.Contains(p.Problems[0].ZH, "行数超过上限（3 行）") {
		t.Errorf("problems %+v", p.Problems)
	}
}

// refusing is a store that refuses every batch with the problems it holds, each on the first
// document of the talks.
type refusing struct {
	sheet.Store
	probs []duty.Problem
}

func (r refusing) PutMany(context.Context, duty.Principal, map[string][]duty.RawDoc) (int, error) {
	return 0, &duty.ValidationError{Problems: r.probs}
}

// TestRefusedKinds: a problem of each kind the store refuses a batch with is listed at its
// cell, in the Chinese of duty's one table (none in the generic "refused").
func TestRefusedKinds(t *testing.T) {
	st := openStore(t)
	f := template(t, "talks")
	fill(t, f, "廉政谈话", []any{"T1", "任前廉政谈话", "王芳", nil, day("2025-03-01"), "是"})
	data := bytesOf(t, f)
	for _, k := range duty.ProblemKinds() {
		t.Run(string(k), func(t *testing.T) {
			p := duty.Problem{File: "廉政谈话", Index: 0, ID: "T1", Field: "held_on", Kind: k, Message: "an English message", Args: []string{"甲", "乙"}}
			_, err := sheet.Import(context.Background(), sheet.Input{Data: data}, admin, refusing{st, []duty.Problem{p}}, sheet.Limits{}, nil)
			var re *sheet.RefusedError
			if !errors.As(err, &re) || len(re.Problems) != 1 {
				t.Fatalf("import: %v, want one problem", err)
			}
			want := sheet.Problem{Sheet: "廉政谈话", Row: 2, Column: "E", Title: "谈话日期", Field: "held_on", ZH: p.Chinese(), EN: p.Message}
			if diff := cmp.Diff(want, re.Problems[0]); diff != "" || want.ZH == "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if strings.ContainsAny(want.ZH, ",;:()%") {
				t.Errorf("ASCII punctuation in the Chinese %q", want.ZH)
			}
		})
	}
}

// TestProblemIn: where a problem is, in each language, then why.
func TestProblemIn(t *testing.T) {
	for _, tc := range []struct {
		note   string
		p      sheet.Problem
		zh, en string
	}{
		{"the file", sheet.Problem{ZH: "甲", EN: "a"}, "甲", "a"},
		{"a sheet", sheet.Problem{Sheet: "人员", ZH: "甲", EN: "a"}, "工作表「人员」：甲", `sheet "人员": a`},
		{"a row", sheet.Problem{Sheet: "人员", Row: 3, ZH: "甲", EN: "a"}, "工作表「人员」，第 3 行：甲", `sheet "人员", row 3: a`},
		{"a cell", sheet.Problem{Sheet: "人员", Row: 3, Column: "C", ZH: "甲", EN: "a"}, "工作表「人员」，第 3 行，C 列：甲", `sheet "人员", row 3, column C: a`},
		{"a titled cell", sheet.Problem{Row: 3, Column: "C", Title: "姓名", ZH: "甲", EN: "a"}, "第 3 行，C 列（姓名）：甲", "row 3, column C (姓名): a"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := tc.p.In("zh"); got != tc.zh {
				t.Errorf("zh %q, want %q", got, tc.zh)
			}
			if got := tc.p.String(); got != tc.en {
				t.Errorf("en %q, want %q", got, tc.en)
			}
		})
	}
}

// TestDisposition: a download named in Chinese reaches the browser intact (RFC 2231), and an
// ASCII name stays readable.
func TestDisposition(t *testing.T) {
	for _, name := range []string{"report-机关.csv", "report-ORG-1.csv", `a "quoted"; name.xlsx`} {
		d, params, err := mime.ParseMediaType(sheet.Disposition(name))
		if err != nil || d != "attachment" || params["filename"] != name {
			t.Errorf("Disposition(%q) = %q: parsed %q, %q, %v", name, sheet.Disposition(name), d, params, err)
		}
		for _, r := range sheet.Disposition(name) {
			if r > 0x7e {
				t.Errorf("Disposition(%q) = %q holds a non-ASCII character", name, sheet.Disposition(name))
				break
			}
		}
	}
}
