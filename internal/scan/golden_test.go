package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
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
	upcoming := withOverlay(t, filepath.Join("..", "..", "fixtures", "sample"), filepath.Join("..", "..", "fixtures", "sample-upcoming"))
	for _, tc := range []struct {
		asOf, department string
		upcoming         bool // the sample with fixtures/sample-upcoming: every duty has a warning
	}{
		{"2025-06-30", "", false},
		{"2025-12-31", "", false},
		{"2025-12-31", "ORG-1-OFF", false},
		{"2026-02-15", "", false},
		{"2026-03-25", "", true},
	} {
		name := "sample-" + tc.asOf
		if tc.upcoming {
			name = "sample-upcoming-" + tc.asOf
		}
		if tc.department != "" {
			name += "-" + tc.department
		}
		t.Run(name, func(t *testing.T) {
			data := ds
			if tc.upcoming {
				data = upcoming
			}
			rep, err := scan.Dataset(context.Background(), data, scan.Options{AsOf: tc.asOf, Department: tc.department})
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
			if tc.upcoming {
				warned := map[string]bool{}
				for _, w := range rep.Warnings {
					warned[w.Policy] = true
				}
				e, err := policy.Compile(context.Background(), policy.Builtin())
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range e.Policies() {
					if !warned[m.ID] {
						t.Errorf("no warning of %s as of %s: fixtures/sample-upcoming should give every duty one", m.ID, tc.asOf)
					}
				}
			}
		})
	}
}

// withOverlay loads the dataset folder dir with each collection's records of overlay appended.
func withOverlay(tb testing.TB, dir, overlay string) *duty.Dataset {
	tb.Helper()
	tmp := tb.TempDir()
	for _, c := range duty.Collections {
		var all []json.RawMessage
		for _, d := range []string{dir, overlay} {
			b, err := os.ReadFile(filepath.Join(d, c.Name+".json"))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				tb.Fatal(err)
			}
			var docs []json.RawMessage
			if err := json.Unmarshal(b, &docs); err != nil {
				tb.Fatalf("%s/%s.json: %v", d, c.Name, err)
			}
			all = append(all, docs...)
		}
		b, err := json.Marshal(all)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, c.Name+".json"), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	ds, err := duty.LoadDir(tmp)
	if err != nil {
		tb.Fatalf("%s with %s: %v", dir, overlay, err)
	}
	return ds
}
