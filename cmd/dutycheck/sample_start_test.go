package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestServeLoadScansAsOfTheDataset: `serve --load fixtures/sample` (the README's command) opens
// on the sample scanned as of the latest date its records are dated by, 2025-12-31, with the
// findings of the golden report of that date, not on a scan at today's date; --as-of DATE
// scans as of that date instead.
func TestServeLoadScansAsOfTheDataset(t *testing.T) {
	for _, tc := range []struct{ asOf, want string }{
		{"dataset", "2025-12-31"},
		{"2025-06-30", "2025-06-30"},
	} {
		t.Run(tc.asOf, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			ready, done := make(chan string, 1), make(chan error, 1)
			cfg := serveConfig{Addr: "127.0.0.1:0", LoadDir: filepath.Join("..", "..", "fixtures", "sample"), LoadAsOf: tc.asOf,
				Store: testStoreConfig(t, t.TempDir()), AdminToken: testAdminToken}
			go func() { done <- serve(ctx, cfg, newLogger(io.Discard, slog.LevelError), ready) }()
			var base string
			select {
			case addr := <-ready:
				base = "http://" + addr
			case err := <-done:
				cancel()
				t.Fatalf("serve: %v", err)
			}
			defer func() { cancel(); <-done }()
			c := client{tb: t, base: base}
			var rep duty.Report
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				status, body := c.do("GET", "/api/v1/departments/ORG-1/report", nil)
				if status == http.StatusOK {
					if err := json.Unmarshal(body, &rep); err != nil {
						t.Fatal(err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no report of the loaded sample after 60 s: %d %s", status, body)
				}
			}
			if rep.AsOf != tc.want {
				t.Errorf("the first report is as of %s, want %s", rep.AsOf, tc.want)
			}
			golden := readGolden(t, "sample-"+tc.want+".json")
			if rep.Summary.Violations != golden.Summary.Violations || len(rep.Warnings) != len(golden.Warnings) {
				t.Errorf("the first report has %d violations and %d warnings, the golden report of %s %d and %d",
					rep.Summary.Violations, len(rep.Warnings), tc.want, golden.Summary.Violations, len(golden.Warnings))
			}
		})
	}
}

func readGolden(tb testing.TB, name string) duty.Report {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "golden", name))
	if err != nil {
		tb.Fatal(err)
	}
	var rep duty.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		tb.Fatal(err)
	}
	return rep
}

// TestServeAsOfFlag: --as-of takes dataset, today, none or a date, and only with --load; a
// refused value stops serve before it opens the store.
func TestServeAsOfFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"without --load", []string{"serve", "--as-of", "2025-12-31"}, "give --load DIR too"},
		{"not a date", []string{"serve", "--load", "x", "--as-of", "yesterday"}, "dataset, today, none"},
		{"impossible date", []string{"serve", "--load", "x", "--as-of", "2025-02-30"}, "YYYY-MM-DD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, stderr %q; want an error saying %q", tc.args, code, errOut, tc.want)
			}
		})
	}
	for _, tc := range []struct{ asOf, latest, want string }{
		{"dataset", "2025-12-31", "2025-12-31"},
		{"dataset", "", ""},
		{"today", "2025-12-31", "2026-12-01"},
		{"2025-06-30", "2025-12-31", "2025-06-30"},
		{"none", "2025-12-31", ""},
		{"", "2025-12-31", ""},
	} {
		if got := resolveLoadAsOf(tc.asOf, tc.latest, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)); got != tc.want {
			t.Errorf("resolveLoadAsOf(%q, %q) = %q, want %q", tc.asOf, tc.latest, got, tc.want)
		}
	}
}
