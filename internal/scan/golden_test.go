package scan_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden reports in fixtures/golden")

// TestGoldenReports scans the sample organ at several as-of dates and compares the reports with
// fixtures/golden (scan id, time and policy revision blanked). Refresh with -update after a
// deliberate change, and review the diff.
func TestGoldenReports(t *testing.T) {
	ds, err := duty.LoadDir(filepath.Join("..", "..", "fixtures", "sample"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ asOf, department string }{
		{"2025-06-30", ""},
		{"2025-12-31", ""},
		{"2025-12-31", "ORG-1-OFF"},
		{"2026-02-15", ""},
	} {
		name := "sample-" + tc.asOf
		if tc.department != "" {
			name += "-" + tc.department
		}
		t.Run(name, func(t *testing.T) {
			rep, err := scan.Dataset(context.Background(), ds, scan.Options{AsOf: tc.asOf, Department: tc.department})
			if err != nil {
				t.Fatal(err)
			}
			rep.ScanID, rep.GeneratedAt, rep.PolicyRevision = "", "", ""
			var buf bytes.Buffer
			if err := duty.WriteJSON(&buf, rep); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("..", "..", "fixtures", "golden", name+".json")
			if *update {
				if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/scan -run TestGoldenReports -update)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("report differs from %s (-want +got):\n%s", file, diff)
			}
		})
	}
}
