package duty

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// CSVHeader is the first row of a CSV report for scripts (the API's and the CLI's default):
// the column names of docs/report.md, which stay as they are. policy_zh … reason_en name the
// policy and the reason for people, in Chinese and English, from the policy bundle's METADATA;
// kind is "violation", "warning" or "waived"; fails_on is a warning's first failing day, empty
// otherwise; waiver_id and waiver_until name the approved waiver that set a waived violation
// aside and its end date, empty otherwise; department_name and subject_name are the names
// beside the department's and a person's or department's subject's ids.
var CSVHeader = []string{"department", "policy", "severity", "reason", "accountable", "subject_collection", "subject_id", "details", "message_zh", "message_en", "evidence", "first_seen",
	"policy_zh", "policy_en", "reason_zh", "reason_en", "kind", "fails_on", "waiver_id", "waiver_until", "department_name", "subject_name"}

// CSVTitles are the Chinese titles of CSVHeader's columns, in the same order: the header row of
// the CSV the pages offer, and of the API's and the CLI's with the Chinese header (header=zh,
// --header zh). Only the header row differs; the cells are the same.
var CSVTitles = []string{"部门编号", "规则编号", "严重程度", "原因代码", "责任层级", "对象类型", "对象编号", "详情", "问题描述", "问题描述（英文）", "证据", "首次发现",
	"规则", "规则（英文）", "原因", "原因（英文）", "类别", "到期日", "豁免编号", "豁免有效期至", "部门", "对象名称"}

// CSVOptions choose a CSV report's header row and the names beside its ids.
type CSVOptions struct {
	// Chinese writes CSVTitles as the header row instead of CSVHeader.
	Chinese bool
	// Names returns the name of a department or a person by collection and id ("" when it has
	// none); nil leaves the name columns empty.
	Names func(collection, id string) string
}

// Labels names a report's codes for people, in "zh" or "en"; the policy bundle (its METADATA)
// is the one source of these names, so a duty added at run time is named like the built-in ones.
type Labels interface {
	PolicyTitle(policy, lang string) string
	ReasonLabel(policy, reason, lang string) string
}

// BOM is the UTF-8 byte order mark every CSV starts with, so that spreadsheet programs read
// the Chinese text as UTF-8.
const BOM = "\ufeff"

// WriteCSV writes the report's violations, then its warnings, then its waived violations, as
// CSV, one row each, in report order (WriteCSVRows), the policy and reason named by labels; the
// kind column marks each row a violation, a warning or waived; a warning's row has its fails_on,
// a waived row its waiver's id and end date; the last two columns hold the names opt.Names gives
// the department and a subject that is a department or a person.
func WriteCSV(w io.Writer, r *Report, labels Labels, opt CSVOptions) error {
	name := func(collection, id string) string {
		if opt.Names == nil || (collection != "departments" && collection != "people") {
			return ""
		}
		return opt.Names(collection, id)
	}
	rows := make([][]string, 0, len(r.Violations)+len(r.Warnings)+len(r.Waived))
	add := func(v *Violation, kind, failsOn string, waiver WaiverRef) {
		ev := make([]string, len(v.Evidence))
		for i, e := range v.Evidence {
			ev[i] = e.Collection + "/" + e.ID
		}
		first := ""
		if v.FirstSeen != nil {
			first = v.FirstSeen.AsOf
		}
		rows = append(rows, []string{v.Department, v.Policy, v.Severity, v.Reason, v.Accountable,
			v.Subject.Collection, v.Subject.ID, DetailString(v.Details), v.Message.ZH, v.Message.EN,
			strings.Join(ev, " "), first,
			labels.PolicyTitle(v.Policy, "zh"), labels.PolicyTitle(v.Policy, "en"),
			labels.ReasonLabel(v.Policy, v.Reason, "zh"), labels.ReasonLabel(v.Policy, v.Reason, "en"),
			kind, failsOn, waiver.ID, waiver.Until,
			name("departments", v.Department), name(v.Subject.Collection, v.Subject.ID)})
	}
	for i := range r.Violations {
		add(&r.Violations[i], "violation", "", WaiverRef{})
	}
	for i := range r.Warnings {
		add(&r.Warnings[i].Violation, "warning", r.Warnings[i].FailsOn, WaiverRef{})
	}
	for i := range r.Waived {
		add(&r.Waived[i].Violation, "waived", "", r.Waived[i].Waiver)
	}
	header := CSVHeader
	if opt.Chinese {
		header = CSVTitles
	}
	return WriteCSVRows(w, header, rows)
}

// WriteCSVRows writes a CSV: a byte order mark, the header, then the rows with every cell
// passed through SafeCell. It is the one CSV writer of dutycheck (reports and the ledger, in
// the API, the pages and the CLI).
func WriteCSVRows(w io.Writer, header []string, rows [][]string) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		out := make([]string, len(row))
		for i, cell := range row {
			out[i] = SafeCell(cell)
		}
		if err := cw.Write(out); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCell neutralises a spreadsheet formula: a cell that starts with "=", "+", "-", "@", a
// tab, a carriage return or a line feed, or with the full-width ＝ ＋ － ＠ (a Chinese input
// method types them, and WPS and Excel in Chinese take them for the ASCII ones), gets a leading
// apostrophe, so that Excel, WPS and LibreOffice show it as text instead of evaluating it
// (=HYPERLINK(…), =cmd|…, @SUM(…)). Every cell of every spreadsheet export goes through it:
// records, messages and details are written by users and policy editors.
func SafeCell(s string) string {
	if FormulaLike(s) {
		return "'" + s
	}
	return s
}

// formulaStarts are the first characters that make a cell a formula to a spreadsheet program.
const formulaStarts = "=+-@\t\r\n＝＋－＠"

// FormulaLike reports whether a spreadsheet program could take s for a formula: whether
// SafeCell neutralises it.
func FormulaLike(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && strings.ContainsRune(formulaStarts, r)
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteTable writes the report for people in a terminal: a heading, then the violations grouped
// by department and policy, with reasons named by labels and messages in lang ("zh" or "en"),
// then, when there are any, the warnings (checks due to fail soon) under a heading of their own,
// grouped the same way, each with its fails_on.
func WriteTable(w io.Writer, r *Report, lang string, labels Labels, deptName func(id string) string) error {
	en := lang == "en"
	scope := "全部机关"
	if en {
		scope = "all organs"
	}
	if r.Department != nil {
		scope = *r.Department
	}
	if en {
		fmt.Fprintf(w, "Compliance report as of %s, scope %s, policy revision %s\n", r.AsOf, scope, r.PolicyRevision)
		fmt.Fprintf(w, "%d violations (high %d, medium %d, low %d)\n", r.Summary.Violations,
			r.Summary.BySeverity["high"], r.Summary.BySeverity["medium"], r.Summary.BySeverity["low"])
	} else {
		fmt.Fprintf(w, "履责检查报告  截至 %s  范围 %s  规则版本 %s\n", r.AsOf, scope, r.PolicyRevision)
		fmt.Fprintf(w, "问题 %d 项（高 %d，中 %d，低 %d）\n", r.Summary.Violations,
			r.Summary.BySeverity["high"], r.Summary.BySeverity["medium"], r.Summary.BySeverity["low"])
	}
	if len(r.Warnings) > 0 {
		if en {
			fmt.Fprintf(w, "%d warnings (checks that fail within their duty's warning days)\n", len(r.Warnings))
		} else {
			fmt.Fprintf(w, "预警 %d 项（将在预警提前天数内到期）\n", len(r.Warnings))
		}
	}
	if err := writeGroups(w, r.Violations, nil, lang, labels, deptName); err != nil {
		return err
	}
	if len(r.Warnings) == 0 {
		return nil
	}
	// Warnings are sorted by fails_on first; the table groups them by department and policy
	// like the violations, in that order within each group.
	ws := slices.Clone(r.Warnings)
	slices.SortStableFunc(ws, func(a, b Warning) int {
		return cmp.Or(strings.Compare(a.Department, b.Department), strings.Compare(a.Policy, b.Policy))
	})
	vs := make([]Violation, len(ws))
	failsOn := make([]string, len(ws))
	for i := range ws {
		vs[i], failsOn[i] = ws[i].Violation, ws[i].FailsOn
	}
	if en {
		fmt.Fprintf(w, "\n==== Warnings: due to fail (fails_on) ====\n")
	} else {
		fmt.Fprintf(w, "\n==== 预警：即将到期（到期日） ====\n")
	}
	return writeGroups(w, vs, failsOn, lang, labels, deptName)
}

// writeGroups writes violations grouped by department and policy, one line each; failsOn, when
// not nil, gives each line's fails_on (warnings), marked 预警 / warning.
func writeGroups(w io.Writer, vs []Violation, failsOn []string, lang string, labels Labels, deptName func(id string) string) error {
	en := lang == "en"
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	lastDept, lastPolicy := "\x00", "\x00"
	for j, v := range vs {
		if v.Department != lastDept {
			name := v.Department
			if n := deptName(v.Department); n != "" && en {
				name = n + " (" + v.Department + ")"
			} else if n != "" {
				name = n + "（" + v.Department + "）"
			}
			tw.Flush()
			fmt.Fprintf(w, "\n== %s ==\n", printable(name))
			lastDept, lastPolicy = v.Department, "\x00"
		}
		if v.Policy != lastPolicy {
			tw.Flush()
			title, sev := printable(labels.PolicyTitle(v.Policy, lang)), printable(Names.EnumText("severity", v.Severity, lang))
			if en {
				fmt.Fprintf(w, "  -- %s (%s) [%s]\n", title, printable(v.Policy), sev)
			} else {
				fmt.Fprintf(w, "  -- %s（%s）[%s]\n", title, printable(v.Policy), sev)
			}
			lastPolicy = v.Policy
		}
		msg := v.Message.ZH
		if en || msg == "" {
			msg = v.Message.EN
		}
		subject := v.Subject.Collection + "/" + v.Subject.ID
		if !en {
			subject = Names.Collection(v.Subject.Collection).ZH + " " + v.Subject.ID
		}
		if d := DetailString(v.Details); d != "" {
			subject += " " + d
		}
		reason := labels.ReasonLabel(v.Policy, v.Reason, lang)
		if failsOn != nil {
			mark := "预警 " + failsOn[j]
			if en {
				mark = "warning " + failsOn[j]
			}
			fmt.Fprintf(tw, "     %s\t%s\t%s\t%s\n", mark, printable(reason), printable(subject), printable(msg))
			continue
		}
		fmt.Fprintf(tw, "     %s\t%s\t%s\n", printable(reason), printable(subject), printable(msg))
	}
	return tw.Flush()
}

// printable replaces control and format characters with U+FFFD for the terminal: a name holding
// an escape sequence must not rewrite the screen, the title or the clipboard of whoever reads
// the table.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return utf8.RuneError
		}
		return r
	}, s)
}
