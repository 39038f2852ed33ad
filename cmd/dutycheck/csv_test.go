package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// formulaDataset writes an organ whose names are spreadsheet formulas: the messages of its
// violations start with them.
func formulaDataset(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	files := map[string]string{
		"departments.json": `[{"id": "ORG-X", "name": "=HYPERLINK(\"http://evil.example\",\"x\")", "kind": "organ"}]`,
		"people.json":      `[{"id": "P-1", "name": "@SUM(1+1)", "department_id": "ORG-X", "rank": "bureau", "roles": ["party_group_secretary"], "active": true}]`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// checkSafeCSV fails unless body starts with the BOM, parses as CSV, has no cell a spreadsheet
// would evaluate, and shows the neutralised formulas of formulaDataset.
func checkSafeCSV(tb testing.TB, body string) {
	tb.Helper()
	rest, ok := strings.CutPrefix(body, "\ufeff")
	if !ok {
		tb.Fatalf("CSV does not start with a byte order mark: %.40q", body)
	}
	rows, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
	if err != nil {
		tb.Fatalf("not CSV: %v", err)
	}
	neutralised := 0
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				tb.Errorf("cell %q starts a formula", cell)
			}
			if strings.HasPrefix(cell, "'=HYPERLINK") || strings.HasPrefix(cell, "'@SUM") {
				neutralised++
			}
		}
	}
	if neutralised == 0 {
		tb.Errorf("no neutralised formula in %d rows: the test dataset no longer puts one first", len(rows)-1)
	}
}

func TestScanCSVNeutralisesFormulas(t *testing.T) {
	code, out, errOut := runCLI(t, "scan", "--input", formulaDataset(t), "--as-of", asOf, "--format", "csv")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (violations); stderr:\n%s", code, errOut)
	}
	checkSafeCSV(t, out)
}
