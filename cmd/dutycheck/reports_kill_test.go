package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// postScan starts a scan on a child's service and returns it.
func postScan(tb testing.TB, addr string, wait bool) duty.Scan {
	tb.Helper()
	body := `{"as_of":"2025-12-31","wait":false}`
	if wait {
		body = `{"as_of":"2025-12-31","wait":true}`
	}
	req, _ := http.NewRequest(http.MethodPost, addr+"/api/v1/scans", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var sc duty.Scan
	if err := json.NewDecoder(resp.Body).Decode(&sc); err != nil || sc.ID == "" || resp.StatusCode >= 300 {
		tb.Fatalf("POST /scans: %d %+v %v", resp.StatusCode, sc, err)
	}
	return sc
}

// TestKillAtScanEnd: a process killed after a scan wrote its findings and summaries but before
// it was marked done leaves the previous report the latest, whole; the next start fails the
// scan and its housekeeping removes everything the scan wrote.
func TestKillAtScanEnd(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the kill tests use the embedded store")
	}
	data := t.TempDir()
	env := []string{"DUTYCHECK_ADMIN_TOKEN=" + testAdminToken}
	c := startChild(t, env, "serve", "--data", data, "--addr", "127.0.0.1:0", "--load", sampleDir, "--as-of", "none")
	addr := c.waitFor(t, regexp.MustCompile(`dutycheck serving.* addr=(http://\S+)`))[1]
	first := postScan(t, addr, true)
	c.kill()

	c = startChild(t, append(env, "DUTYCHECK_PAUSE_AT=scan.before-done"), "serve", "--data", data, "--addr", "127.0.0.1:0")
	addr = c.waitFor(t, regexp.MustCompile(`dutycheck serving.* addr=(http://\S+)`))[1]
	killed := postScan(t, addr, false)
	c.waitFor(t, pausedAt("scan.before-done"))
	c.kill()

	st := restart(t, data)
	ctx := context.Background()
	sc, err := st.GetScan(ctx, killed.ID)
	if err != nil || sc.Status != duty.ScanFailed || !strings.Contains(sc.Error, "interrupted") {
		t.Fatalf("the killed scan after the restart: %+v, %v; want failed, interrupted", sc, err)
	}
	rep, err := st.DepartmentReport(ctx, "ORG-1")
	if err != nil || rep.ScanID != first.ID || rep.Summary.Violations != first.Report.Summary.Violations {
		t.Fatalf("latest report after the restart: %+v, %v; want the first scan's, %d violations", rep, err, first.Report.Summary.Violations)
	}
	// The killed scan's findings and summaries were written: housekeeping at start removes them.
	e, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: newLogger(io.Discard, slog.LevelError)})
	if _, err := st.ScanDepartmentCounts(ctx, killed.ID); err != nil {
		t.Fatalf("the killed scan wrote no summary before the kill point: %v", err)
	}
	if !svc.HousekeepOnce(ctx) {
		t.Fatal("housekeeping did not run")
	}
	if _, err := st.ScanDepartmentCounts(ctx, killed.ID); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("summary of the killed scan after housekeeping: %v; want removed", err)
	}
	if _, err := st.OrganReports(ctx, []store.OrganResult{{Organ: "ORG-1", Source: killed.ID, Chunks: 1}}); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("findings of the killed scan after housekeeping: %v; want removed", err)
	}
	if got, err := st.GetScan(ctx, first.ID); err != nil || len(got.Report.Violations) != first.Report.Summary.Violations {
		t.Errorf("the first scan after housekeeping: %v", err)
	}
	checkScan(t, st)
}
