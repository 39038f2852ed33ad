package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	code, out, errOut := runCLI(t, "gen", "--organs", "2", "--seed", "3", "--out", dir)
	if code != exitOK {
		t.Fatalf("gen = %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, "wrote 2 organs") {
		t.Errorf("gen printed %q", out)
	}
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 10 {
		t.Fatalf("gen wrote %d files, %v; want one per collection", len(files), err)
	}
	// The same options give the same files.
	again := filepath.Join(t.TempDir(), "ds")
	if code, _, errOut := runCLI(t, "gen", "--organs", "2", "--seed", "3", "--out", again); code != exitOK {
		t.Fatalf("gen again = %d, stderr %s", code, errOut)
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		b, _ := os.ReadFile(filepath.Join(again, f.Name()))
		if string(a) != string(b) {
			t.Errorf("%s differs between two runs with the same seed", f.Name())
		}
	}
	// The dataset is valid and scans.
	code, out, errOut = runCLI(t, "scan", "--input", dir, "--as-of", "2025-12-31")
	if code != exitViolations {
		t.Fatalf("scan of the generated dataset = %d, stderr %s", code, errOut)
	}
	if rep := parseReport(t, out); len(rep.Violations) == 0 {
		t.Error("the generated organs have no violations at rate 0.05")
	}

	for _, args := range [][]string{
		{"gen", "--organs", "2"},
		{"gen", "--organs", "0", "--out", dir},
		{"gen", "--rate", "2", "--out", dir},
		{"gen", "--out", dir, "extra"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitBadInput {
			t.Errorf("%v = %d, want %d", args, code, exitBadInput)
		}
	}
}

func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("bench runs the whole pipeline")
	}
	t.Setenv("MONGODB_URI", "") // the embedded store in a folder of its own, never a shared server's default database
	code, out, errOut := runCLI(t, "bench", "--organs", "2", "--runs", "1", "--json")
	if code != exitOK {
		t.Fatalf("bench = %d, stderr %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --json printed %q: %v", out, err)
	}
	for _, k := range []string{"organs", "records", "violations", "read_s", "scan_s", "eval_s", "opa_cli_s", "rescan_s", "peak_rss_mb"} {
		if _, ok := r[k].(float64); !ok {
			t.Errorf("bench --json: %s = %v, want a number", k, r[k])
		}
	}
	if r["organs"] != 2.0 || r["records"].(float64) < 2000 || r["violations"].(float64) == 0 {
		t.Errorf("bench measured %v organs, %v records, %v violations", r["organs"], r["records"], r["violations"])
	}
	if r["same_violations"] != true {
		t.Errorf("bench: same_violations = %v, want true (stderr %s)", r["same_violations"], errOut)
	}
	for _, k := range []string{"read_s", "scan_s", "eval_s", "rescan_s", "peak_rss_mb"} {
		if v, _ := r[k].(float64); v <= 0 {
			t.Errorf("bench: %s = %v, want > 0", k, v)
		}
	}

	if code, _, _ := runCLI(t, "bench", "--organs", "2,x"); code != exitBadInput {
		t.Errorf("bench --organs 2,x = %d, want %d", code, exitBadInput)
	}
	if !slices.Contains(strings.Split(usage, "\n"), "  dutycheck bench [--organs 10,100,1000] [--runs 3] [--json] [--offline] [--data DIR] [--mongo-uri URI]") {
		t.Error("usage does not show bench")
	}
}

func TestBenchOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("bench evaluates generated organs")
	}
	data := t.TempDir()
	code, out, errOut := runCLI(t, "bench", "--offline", "--organs", "2", "--runs", "2", "--json", "--data", data)
	if code != exitOK {
		t.Fatalf("bench --offline = %d, stderr %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --offline --json printed %q: %v", out, err)
	}
	if v, _ := r["eval_s"].(float64); v <= 0 || r["violations"].(float64) == 0 || r["same_violations"] != true {
		t.Errorf("bench --offline: eval_s %v, violations %v, same %v", r["eval_s"], r["violations"], r["same_violations"])
	}
	for _, k := range []string{"read_s", "scan_s", "rescan_s", "load_s"} {
		if r[k] != 0.0 {
			t.Errorf("bench --offline: %s = %v, want 0 (no store)", k, r[k])
		}
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("bench --offline wrote %d entries into the data folder; it should not open a store", len(entries))
	}
}

// TestBenchReplicasNeedsAServer: `bench --replicas` without a shared database server says what
// it needs instead of starting processes on private embedded stores.
func TestBenchReplicasNeedsAServer(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	err := runBench(context.Background(), []string{"--replicas", "3"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--mongo-uri or MONGODB_URI") {
		t.Errorf("bench --replicas without a server: %v", err)
	}
	if err := runBench(context.Background(), []string{"--replicas", "1", "--mongo-uri", "mongodb://127.0.0.1:1/"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("bench --replicas 1: %v", err)
	}
}
