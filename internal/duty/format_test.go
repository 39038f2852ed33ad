package duty_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dutycheck/dutycheck/internal/duty"
)

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"},
		{"+SUM(1,2)", "'+SUM(1,2)"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"\n=1", "'\n=1"},
		{"＝HYPERLINK(\"http://evil.example\")", "'＝HYPERLINK(\"http://evil.example\")"},
		{"＋SUM(1,2)", "'＋SUM(1,2)"},
		{"－2＋3", "'－2＋3"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"甲＝1", "甲＝1"},
		{"ORG-1", "ORG-1"},
		{"张三没有记实本", "张三没有记实本"},
		{"a=1", "a=1"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := duty.SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// echoLabels names every policy and reason by its code with a suffix (the policy bundle's
// METADATA does it in the program).
type echoLabels string

func (l echoLabels) PolicyTitle(policy, lang string) string { return policy + string(l) }
func (l echoLabels) ReasonLabel(_, reason, lang string) string {
	return reason + string(l)
}

// TestWriteCSVNeutralisesFormulas: the BOM first, and no cell of any column that a spreadsheet
// would evaluate.
func TestWriteCSVNeutralisesFormulas(t *testing.T) {
	evil := []string{"=HYPERLINK(\"http://evil.example\",\"x\")", "+SUM(1)", "-1+1", "@SUM(1)", "\t=1", "\r=1", "＝HYPERLINK(\"x\")", "＋SUM(1)", "－1", "＠SUM(1)"}
	var rep duty.Report
	for _, s := range evil {
		rep.Violations = append(rep.Violations, duty.Violation{
			Department: s, Policy: s, Severity: s, Reason: s, Accountable: s,
			Subject:  duty.Ref{Collection: s, ID: s},
			Details:  map[string]any{"a": s},
			Message:  duty.Message{ZH: s, EN: s},
			Evidence: []duty.Ref{{Collection: s, ID: s}},
		})
		// Warnings go through the same cells, their fails_on too.
		rep.Warnings = append(rep.Warnings, duty.Warning{Violation: rep.Violations[len(rep.Violations)-1], FailsOn: s})
		// Waived violations too, their waiver's id and end date as well.
		rep.Waived = append(rep.Waived, duty.Waived{Violation: rep.Violations[len(rep.Violations)-1], Waiver: duty.WaiverRef{ID: s, Until: s}})
	}
	var buf bytes.Buffer
	if err := duty.WriteCSV(&buf, &rep, echoLabels(""), duty.CSVOptions{Names: func(_, id string) string { return id }}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, duty.BOM+"department,") {
		t.Fatalf("CSV does not start with the BOM and the header: %.40q", out)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, duty.BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3*len(evil)+1 {
		t.Fatalf("%d rows, want %d", len(rows), 3*len(evil)+1)
	}
	if last := rows[len(rows)-1]; last[16] != "waived" || last[18] == "" || last[19] == "" || len(last) != len(duty.CSVHeader) {
		t.Errorf("a waived row: %q", last)
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if r, _ := utf8.DecodeRuneInString(cell); cell != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
				t.Errorf("column %s: cell %q starts a formula", duty.CSVHeader[i], cell)
			}
		}
	}
}

// TestWriteTableNoEscapes: a name with a terminal escape sequence reaches the table without
// its control characters.
func TestWriteTableNoEscapes(t *testing.T) {
	rep := duty.Report{Violations: []duty.Violation{{Department: "D-1", Policy: "p", Severity: "high", Reason: "missing",
		Subject: duty.Ref{Collection: "people", ID: "P-1"},
		Message: duty.Message{ZH: "张三\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J没有记实本\u202e"}}}}
	rep.Warnings = []duty.Warning{{Violation: rep.Violations[0], FailsOn: "2025-07-01"}}
	rep.Warnings[0].Message.ZH = "李四\x1b[2J即将到期"
	var buf bytes.Buffer
	if err := duty.WriteTable(&buf, &rep, "zh", echoLabels("（缺失）\x1b[31m"), func(string) string { return "办公厅\x1b[31m" }); err != nil {
		t.Fatal(err)
	}
	for _, r := range buf.String() {
		if r == 0x1b || r == 0x07 || r == '\u202e' {
			t.Fatalf("the table holds control character %U: %q", r, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "没有记实本") || !strings.Contains(buf.String(), "missing（缺失）") || !strings.Contains(buf.String(), "即将到期") {
		t.Errorf("a message, the reason's label or the warnings are gone: %q", buf.String())
	}
}

// TestWriteCSVHeaderAndNames: the header row is the column names of docs/report.md or, with
// CSVOptions.Chinese, their Chinese titles, one for each column; the cells are the same, and the
// last two columns name the department and a subject that is a person or a department.
func TestWriteCSVHeaderAndNames(t *testing.T) {
	if len(duty.CSVTitles) != len(duty.CSVHeader) {
		t.Fatalf("%d Chinese titles for %d columns", len(duty.CSVTitles), len(duty.CSVHeader))
	}
	rep := duty.Report{Violations: []duty.Violation{
		{Department: "D1", Policy: "p", Severity: "high", Reason: "missing", Subject: duty.Ref{Collection: "people", ID: "P1"}},
		{Department: "D1", Policy: "p", Severity: "high", Reason: "missing", Subject: duty.Ref{Collection: "talks", ID: "T1"}},
		{Department: "D2", Policy: "p", Severity: "high", Reason: "missing", Subject: duty.Ref{Collection: "departments", ID: "D2"}},
	}}
	names := map[string]string{"departments/D1": "联络处", "departments/D2": "办公厅", "people/P1": "张三", "talks/T1": "谈话"}
	opt := duty.CSVOptions{Names: func(c, id string) string { return names[c+"/"+id] }}
	read := func(opt duty.CSVOptions) [][]string {
		var buf bytes.Buffer
		if err := duty.WriteCSV(&buf, &rep, echoLabels(""), opt); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), duty.BOM) {
			t.Fatalf("no byte order mark: %.20q", buf.String())
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), duty.BOM))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	codes := read(opt)
	opt.Chinese = true
	zh := read(opt)
	if !slices.Equal(codes[0], duty.CSVHeader) || !slices.Equal(zh[0], duty.CSVTitles) {
		t.Errorf("header rows %q and %q, want CSVHeader and CSVTitles", codes[0], zh[0])
	}
	if !slices.EqualFunc(codes[1:], zh[1:], slices.Equal) {
		t.Errorf("the cells differ with the Chinese header:\n%q\n%q", codes[1:], zh[1:])
	}
	n := len(duty.CSVHeader)
	var got [][2]string
	for _, row := range codes[1:] {
		got = append(got, [2]string{row[n-2], row[n-1]})
	}
	want := [][2]string{{"联络处", "张三"}, {"联络处", ""}, {"办公厅", "办公厅"}}
	if !slices.Equal(got, want) {
		t.Errorf("department_name, subject_name = %q, want %q", got, want)
	}
	if rows := read(duty.CSVOptions{}); rows[1][n-2] != "" || rows[1][n-1] != "" {
		t.Errorf("without Names the name columns hold %q", rows[1][n-2:])
	}
}
