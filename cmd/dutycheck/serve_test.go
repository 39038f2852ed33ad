package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/store"
)

// startServe runs `serve` on the embedded store in dataDir and returns its base URL and a stop
// function that shuts it down gracefully.
func startServe(tb testing.TB, dataDir string) (string, func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg := serveConfig{Addr: "127.0.0.1:0", Store: testStoreConfig(tb, dataDir), AdminToken: testAdminToken}
	go func() { done <- serve(ctx, cfg, newLogger(os.Stderr, slog.LevelError), ready) }()
	select {
	case addr := <-ready:
		stop := func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("serve returned %v", err)
			}
		}
		return "http://" + addr, stop
	case err := <-done:
		cancel()
		tb.Fatalf("serve failed to start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		tb.Fatal("serve did not start in 60s")
	}
	return "", nil
}

// testStoreConfig is the embedded store in dataDir, or, when MONGODB_URI is set, a database of
// that MongoDB named after dataDir (so that a restart on the same folder finds its records).
func testStoreConfig(tb testing.TB, dataDir string) storeConfig {
	tb.Helper()
	cfg := storeConfig{DataDir: dataDir, LogLevel: slog.LevelError, Database: "dutycheck"}
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		cfg.MongoURI = uri
		cfg.Database = fmt.Sprintf("dutycheck_test_%x", sha256.Sum256([]byte(dataDir)))[:40] // the same folder, the same database
		db := cfg.Database
		tb.Cleanup(func() { // after the services on it have stopped (cleanups run in reverse)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = store.DropDatabase(ctx, uri, db)
		})
	}
	return cfg
}

// testAdminToken is the DUTYCHECK_ADMIN_TOKEN of the services the tests start.
const testAdminToken = "test-admin-token-0123456789"

type client struct {
	tb    testing.TB
	base  string
	token string // "" means the admin token
}

func (c client) do(method, path string, body []byte) (int, []byte) {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch c.token {
	case "":
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
	case "none":
	default:
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (c client) json(method, path string, body any, wantStatus int, into any) {
	c.tb.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			c.tb.Fatal(err)
		}
	}
	status, out := c.do(method, path, data)
	if status != wantStatus {
		c.tb.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, wantStatus, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			c.tb.Fatalf("%s %s: decode %s: %v", method, path, out, err)
		}
	}
}

// loadThroughAPI PUTs a dataset the way a client would: departments without their discipline
// members, people, every other collection, then the departments in full.
func loadThroughAPI(c client, ds map[string][]map[string]any) {
	c.tb.Helper()
	var bare []map[string]any
	for _, d := range ds["departments"] {
		cp := map[string]any{}
		for k, v := range d {
			if k != "discipline_member_id" {
				cp[k] = v
			}
		}
		bare = append(bare, cp)
	}
	c.json("PUT", "/api/v1/collections/departments", bare, http.StatusOK, nil)
	for _, col := range duty.Collections[1:] {
		if docs := ds[col.Name]; len(docs) > 0 {
			c.json("PUT", "/api/v1/collections/"+col.Name, docs, http.StatusOK, nil)
		}
	}
	c.json("PUT", "/api/v1/collections/departments", ds["departments"], http.StatusOK, nil)
}

func keyStrings(tb testing.TB, vs []duty.Violation) []string {
	tb.Helper()
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		d, _ := json.Marshal(v.Details)
		out = append(out, strings.Join([]string{v.Department, v.Policy, v.Subject.Collection, v.Subject.ID, v.Reason, string(d)}, "|"))
	}
	slices.Sort(out)
	return out
}

func expectedStrings(tb testing.TB, keys []conformance.Key) []string {
	tb.Helper()
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		d, _ := json.Marshal(k.Details)
		var norm map[string]any // 2 and 2.0 and json.Number print alike after a round trip
		_ = json.Unmarshal(d, &norm)
		d, _ = json.Marshal(norm)
		out = append(out, strings.Join([]string{k.Department, k.Policy, k.Subject.Collection, k.Subject.ID, k.Reason, string(d)}, "|"))
	}
	slices.Sort(out)
	return out
}

func TestServeEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	base, stop := startServe(t, dataDir)
	c := client{tb: t, base: base}

	c.json("GET", "/healthz", nil, http.StatusOK, nil)
	c.json("GET", "/readyz", nil, http.StatusOK, nil)

	const asOf = "2025-06-30"
	ds := gen.Generate(gen.Options{Boundaries: true, Seed: 7, AsOf: asOf, Organs: 2})
	loadThroughAPI(c, ds)

	// The whole store.
	var sc duty.Scan
	c.json("POST", "/api/v1/scans", map[string]any{"as_of": asOf}, http.StatusCreated, &sc)
	if sc.Status != duty.ScanDone || sc.Report == nil {
		t.Fatalf("scan = %+v, want done with a report", sc)
	}
	want := expectedStrings(t, conformance.Expected(ds, asOf, ""))
	if len(want) == 0 {
		t.Fatal("the generated dataset has no violations: the comparison would prove nothing")
	}
	if diff := cmp.Diff(want, keyStrings(t, sc.Report.Violations)); diff != "" {
		t.Errorf("whole-store scan (-want oracle +got service):\n%s", diff)
	}
	for _, v := range sc.Report.Violations {
		if v.FirstSeen == nil || v.FirstSeen.ScanID != sc.ID {
			t.Fatalf("first scan: violation %+v has first_seen %+v, want this scan", v, v.FirstSeen)
		}
	}

	// One department's subtree, without waiting.
	organ := ds["departments"][0]["id"].(string)
	var dept string
	for _, d := range ds["departments"] {
		if d["kind"] == "division" {
			dept = d["id"].(string)
			break
		}
	}
	var pending duty.Scan
	c.json("POST", "/api/v1/scans", map[string]any{"as_of": asOf, "department": dept, "wait": false}, http.StatusAccepted, &pending)
	deadline := time.Now().Add(60 * time.Second)
	var got duty.Scan
	for {
		c.json("GET", "/api/v1/scans/"+pending.ID, nil, http.StatusOK, &got)
		if got.Status != duty.ScanRunning || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.Status != duty.ScanDone {
		t.Fatalf("department scan status %q (%s)", got.Status, got.Error)
	}
	if diff := cmp.Diff(expectedStrings(t, conformance.Expected(ds, asOf, dept)), keyStrings(t, got.Report.Violations)); diff != "" {
		t.Errorf("department %s scan (-want oracle +got service):\n%s", dept, diff)
	}

	// The latest report of the organ's subtree comes from the whole-store scan.
	var rep duty.Report
	c.json("GET", "/api/v1/departments/"+organ+"/report", nil, http.StatusOK, &rep)
	if diff := cmp.Diff(expectedStrings(t, conformance.Expected(ds, asOf, organ)), keyStrings(t, rep.Violations)); diff != "" {
		t.Errorf("organ %s report (-want oracle +got service):\n%s", organ, diff)
	}
	status, csvBody := c.do("GET", "/api/v1/departments/"+organ+"/report?format=csv", nil)
	if !strings.HasPrefix(string(csvBody), "\ufeff") {
		t.Errorf("csv report does not start with a byte order mark")
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(csvBody), "\ufeff")), "\n")
	if status != http.StatusOK || !strings.HasPrefix(lines[0], "department,policy,severity,reason") || len(lines) != len(rep.Violations)+len(rep.Warnings)+1 {
		t.Errorf("csv report: status %d, %d lines for %d violations and %d warnings; header %q", status, len(lines), len(rep.Violations), len(rep.Warnings), lines[0])
	}

	// Fix one missing pre-appointment talk and scan again: the fixed check is resolved, every
	// other violation persists with its first_seen.
	var fixed *duty.Violation
	for i, v := range sc.Report.Violations {
		if v.Policy == "talk.pre_appointment" {
			fixed = &sc.Report.Violations[i]
			break
		}
	}
	if fixed == nil {
		t.Fatal("seed 7 has no talk.pre_appointment violation to fix")
	}
	var appt map[string]any
	c.json("GET", "/api/v1/collections/appointments/"+fixed.Subject.ID, nil, http.StatusOK, &appt)
	fixTalk := map[string]any{"id": "FIX-TALK", "kind": "pre_appointment", "person_id": appt["person_id"], "held_on": appt["effective_on"]}
	c.json("PUT", "/api/v1/collections/talks", []map[string]any{fixTalk}, http.StatusOK, nil)
	ds["talks"] = append(ds["talks"], fixTalk) // the oracle's copy of the records follows the store
	var second duty.Scan
	c.json("POST", "/api/v1/scans", map[string]any{"as_of": asOf}, http.StatusCreated, &second)
	var resolved []string
	for _, v := range second.Report.Resolved {
		resolved = append(resolved, v.Policy+"/"+v.Subject.ID)
	}
	if !slices.Contains(resolved, fixed.Policy+"/"+fixed.Subject.ID) {
		t.Errorf("second scan resolved %v, want it to include %s/%s", resolved, fixed.Policy, fixed.Subject.ID)
	}
	for _, v := range second.Report.Violations {
		if v.FirstSeen == nil || v.FirstSeen.ScanID != sc.ID {
			t.Fatalf("second scan: violation %s/%s first_seen = %+v, want the first scan %s", v.Policy, v.Subject.ID, v.FirstSeen, sc.ID)
		}
	}
	if s := second.Report.Summary; s.Persisting != len(second.Report.Violations) || s.New != 0 || s.Resolved != len(resolved) {
		t.Errorf("second scan summary = %+v, want all persisting and %d resolved", s, len(resolved))
	}

	// Other as-of dates: early in the year before and after the deadlines, late in the year, early
	// next year.
	for _, other := range []string{"2025-01-31", "2025-04-01", "2025-12-31", "2026-01-15", "2026-04-15"} {
		var osc duty.Scan
		c.json("POST", "/api/v1/scans", map[string]any{"as_of": other}, http.StatusCreated, &osc)
		if diff := cmp.Diff(expectedStrings(t, conformance.Expected(ds, other, "")), keyStrings(t, osc.Report.Violations)); diff != "" {
			t.Errorf("whole-store scan as of %s (-want oracle +got service):\n%s", other, diff)
		}
	}

	// Bad input: refused whole, with the bad field named; nothing written.
	status, body := c.do("PUT", "/api/v1/collections/talks", []byte(`[
		{"id":"NEW-OK","kind":"general","person_id":"`+ds["people"][0]["id"].(string)+`","held_on":"2025-05-01"},
		{"id":"NEW-BAD","kind":"general","person_id":"NOBODY","held_on":"2025-05-01"}]`))
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field":"person_id"`) || !strings.Contains(string(body), `"index":1`) {
		t.Errorf("bad batch: status %d body %s, want 422 naming index 1 field person_id", status, body)
	}
	if status, _ := c.do("GET", "/api/v1/collections/talks/NEW-OK", nil); status != http.StatusNotFound {
		t.Errorf("the valid half of a refused batch was written (GET status %d)", status)
	}
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"malformed JSON", "PUT", "/api/v1/collections/talks", `[{"id":`, 400},
		{"empty body", "PUT", "/api/v1/collections/talks", ``, 400},
		{"object instead of array", "PUT", "/api/v1/collections/talks", `{"id":"x"}`, 400},
		{"wrong types", "PUT", "/api/v1/collections/talks", `[{"id":7,"kind":true,"person_id":[],"held_on":20250101}]`, 422},
		{"unknown collection", "PUT", "/api/v1/collections/salaries", `[]`, 404},
		{"unknown record", "GET", "/api/v1/collections/people/NOBODY", ``, 404},
		{"unknown scan", "GET", "/api/v1/scans/NOPE", ``, 404},
		{"unknown department report", "GET", "/api/v1/departments/NOPE/report", ``, 404},
		{"scan of unknown department", "POST", "/api/v1/scans", `{"department":"NOPE"}`, 404},
		{"scan with bad date", "POST", "/api/v1/scans", `{"as_of":"2025-13-01"}`, 422},
		{"scan out of the date range", "POST", "/api/v1/scans", `{"as_of":"2262-04-12"}`, 422},
		{"preview out of the date range", "POST", "/api/v1/policies/preview", `{"draft":{},"as_of":"1899-12-31"}`, 422},
		{"scan with unknown field", "POST", "/api/v1/scans", `{"asof":"2025-01-01"}`, 400},
		{"delete referenced person", "DELETE", "/api/v1/collections/people/" + ds["people"][0]["id"].(string), ``, 409},
		{"huge body", "PUT", "/api/v1/collections/talks", "[" + strings.Repeat(" ", 33<<20) + "]", 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.do(tc.method, tc.path, []byte(tc.body))
			if status != tc.want {
				t.Errorf("status %d, want %d; body %.300s", status, tc.want, body)
			}
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
				t.Errorf("body %.300s is not a JSON error with a message", body)
			}
		})
	}

	// Restart on the same data folder: records and scans are still there.
	stop()
	base, stop = startServe(t, dataDir)
	defer stop()
	c = client{tb: t, base: base}
	var person map[string]any
	c.json("GET", "/api/v1/collections/people/"+ds["people"][0]["id"].(string), nil, http.StatusOK, &person)
	if diff := cmp.Diff(normalizeJSON(t, ds["people"][0]), person); diff != "" {
		t.Errorf("person after restart (-want +got):\n%s", diff)
	}
	var again duty.Scan
	c.json("GET", "/api/v1/scans/"+sc.ID, nil, http.StatusOK, &again)
	if again.Status != duty.ScanDone || len(again.Report.Violations) != len(sc.Report.Violations) {
		t.Errorf("scan after restart: status %q, %d violations, want done with %d", again.Status, len(again.Report.Violations), len(sc.Report.Violations))
	}
}

func normalizeJSON(tb testing.TB, v any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestServeRefusesAPolicyFolderNeverGood: `serve --policies DIR` whose folder is refused at
// the first start (a module that does not parse) does not start on the built-in bundle in its
// place, which would scan with rules other than the folder's and only say so on /readyz: it
// stops with the problem named. Once a revision of the folder was in force, a broken folder at
// start leaves it serving (tested in internal/live).
func TestServeRefusesAPolicyFolderNeverGood(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../policies")); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "duty", "meeting", "joint.rego")
	if err := os.WriteFile(broken, []byte("package duty.meeting.joint\n\nviolation contains v if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig{Addr: "127.0.0.1:0", Store: testStoreConfig(t, t.TempDir()), AdminToken: testAdminToken, PoliciesDir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, newLogger(io.Discard, slog.LevelError), ready) }()
	var err error
	select {
	case addr := <-ready:
		cancel()
		<-done
		t.Fatalf("serve started on %s with a policy folder that was never good", addr)
	case err = <-done:
	}
	if !errors.Is(err, duty.ErrInvalid) || !strings.Contains(err.Error(), "joint.rego") {
		t.Errorf("serve: %v; want it refused, naming duty/meeting/joint.rego", err)
	}
}
