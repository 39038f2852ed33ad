package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportSheetCLI: `dutycheck import FILE.csv` refuses a bad row with its sheet, row and
// column in Chinese and English (exit 2, nothing written), then imports the corrected file.
func TestImportSheetCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded store")
	}
	t.Setenv("MONGODB_URI", "")
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "部门.csv")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("部门编号,部门名称,部门类型\nORG-9,某机关,机关\nORG-9-X,某处,处所\n")
	code, out, errOut := runCLI(t, "import", "--data", data, "--collection", "departments", file)
	if code != 2 || !strings.Contains(errOut, "工作表「部门」，第 3 行，C 列（部门类型）：「处所」不是可选的值") || !strings.Contains(errOut, "row 3, column C") {
		t.Errorf("bad CSV: exit %d, want 2; stdout %q; stderr:\n%s", code, out, errOut)
	}
	write("部门编号,部门名称,部门类型,上级部门\nORG-9,某机关,机关,\nORG-9-X,某处,处室,某机关\n")
	code, out, errOut = runCLI(t, "import", "--data", data, "--collection", "departments", file)
	if code != 0 || !strings.Contains(out, "imported 2 records") {
		t.Errorf("good CSV: exit %d; stdout %q; stderr:\n%s", code, out, errOut)
	}
}
