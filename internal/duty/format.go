package duty

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// CSVHeader is the first row of a CSV report.
var CSVHeader = []string{"department", "policy", "severity", "reason", "accountable", "subject_collection", "subject_id", "details", "message_zh", "message_en", "evidence", "first_seen"}

// BOM is the UTF-8 byte order mark every CSV starts with, so that spreadsheet programs read
// the Chinese text as UTF-8.
const BOM = "\ufeff"

// WriteCSV writes the report's violations as CSV, one row each, in report order (WriteCSVRows).
func WriteCSV(w io.Writer, r *Report) error {
	rows := make([][]string, 0, len(r.Violations))
	for _, v := range r.Violations {
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
			strings.Join(ev, " "), first})
	}
	return WriteCSVRows(w, CSVHeader, rows)
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
// tab, a carriage return or a line feed gets a leading apostrophe, so that Excel, WPS and
// LibreOffice show it as text instead of evaluating it (=HYPERLINK(…), =cmd|…, @SUM(…)).
// Every cell of every spreadsheet export goes through it: records, messages and details are
// written by users and policy editors.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteTable writes the report for people in a terminal: a heading, then the violations grouped
// by department and policy, with messages in lang ("zh" or "en").
func WriteTable(w io.Writer, r *Report, lang string, deptName func(id string) string) error {
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
		fmt.Fprintf(w, "履责检查报告  截至 %s  范围 %s  策略版本 %s\n", r.AsOf, scope, r.PolicyRevision)
		fmt.Fprintf(w, "问题 %d 项(高 %d,中 %d,低 %d)\n", r.Summary.Violations,
			r.Summary.BySeverity["high"], r.Summary.BySeverity["medium"], r.Summary.BySeverity["low"])
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	lastDept, lastPolicy := "\x00", "\x00"
	for _, v := range r.Violations {
		if v.Department != lastDept {
			name := v.Department
			if n := deptName(v.Department); n != "" {
				name = n + " (" + v.Department + ")"
			}
			tw.Flush()
			fmt.Fprintf(w, "\n== %s ==\n", printable(name))
			lastDept, lastPolicy = v.Department, "\x00"
		}
		if v.Policy != lastPolicy {
			tw.Flush()
			fmt.Fprintf(w, "  -- %s [%s]\n", printable(v.Policy), printable(v.Severity))
			lastPolicy = v.Policy
		}
		msg := v.Message.ZH
		if en || msg == "" {
			msg = v.Message.EN
		}
		subject := v.Subject.Collection + "/" + v.Subject.ID
		if d := DetailString(v.Details); d != "" {
			subject += " " + d
		}
		fmt.Fprintf(tw, "     %s\t%s\t%s\n", printable(v.Reason), printable(subject), printable(msg))
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
