package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// The kill tests run dutycheck in a child process (this test binary again, told by
// childEnv to run a command line instead of the tests), stop it at a named point of the store
// (DUTYCHECK_PAUSE_AT, see pauseHook), kill it with SIGKILL, and open the same --data folder
// again, as the next start does.

const childEnv = "DUTYCHECK_KILLTEST_CHILD"

func TestMain(m *testing.M) {
	// This test binary is also the policy sandbox child of the services the tests start
	// (serve runs the sandbox with os.Executable(), the test binary here).
	policy.SandboxMain()
	if args := os.Getenv(childEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, "bad", childEnv, err)
			os.Exit(3)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, argv, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	code := m.Run()
	removeBuiltBinary()
	os.Exit(code)
}

// child is a dutycheck process under test.
type child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced on every new line
	done  chan struct{} // closed when stderr ends
}

// startChild runs `dutycheck args...` in a child process with the extra environment.
func startChild(tb testing.TB, env []string, args ...string) *child {
	tb.Helper()
	argv, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+string(argv)), env...)
	return startCmd(tb, cmd)
}

// startCmd starts cmd, collecting its stderr by lines; it is killed when the test ends.
func startCmd(tb testing.TB, cmd *exec.Cmd) *child {
	tb.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			close(c.more)
			c.more = make(chan struct{})
			c.mu.Unlock()
		}
	}()
	tb.Cleanup(func() { c.kill() })
	return c
}

// waitFor returns the first line of the child's stderr matching re, waiting for it as long as
// the child runs. The child signals the points it reaches: nothing here waits on the clock.
func (c *child) waitFor(tb testing.TB, re *regexp.Regexp) []string {
	tb.Helper()
	seen := 0
	for {
		c.mu.Lock()
		lines, more := c.lines, c.more
		c.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m
			}
		}
		select {
		case <-more:
		case <-c.done:
			c.mu.Lock()
			n := len(c.lines)
			c.mu.Unlock()
			if n == seen {
				_ = c.cmd.Wait()
				tb.Fatalf("the child ended (%v) before printing %q; its stderr:\n%s", c.cmd.ProcessState, re, c.stderr())
			}
		}
	}
}

func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// kill sends SIGKILL and waits for the child to be gone (its lock released by the kernel).
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

var sampleDir = filepath.Join("..", "..", "fixtures", "sample")

func pausedAt(point string) *regexp.Regexp {
	return regexp.MustCompile(`paused at ` + regexp.QuoteMeta(point) + ` `)
}

// openData opens the store on dataDir as a start does (recovery included); close it with the
// returned func.
func openData(tb testing.TB, dataDir string) (*store.Store, func()) {
	tb.Helper()
	st, closeStore, err := openStore(context.Background(), storeConfig{DataDir: dataDir, Database: "dutycheck", LogLevel: slog.LevelError},
		newLogger(io.Discard, slog.LevelError))
	if err != nil {
		tb.Fatalf("start on %s: %v", dataDir, err)
	}
	return st, closeStore
}

// restart is openData closed when the test ends.
func restart(tb testing.TB, dataDir string) *store.Store {
	tb.Helper()
	st, closeStore := openData(tb, dataDir)
	tb.Cleanup(closeStore)
	return st
}

// datasetIDs returns the ids of a dataset folder's records by collection.
func datasetIDs(tb testing.TB, dir string) map[string][]string {
	tb.Helper()
	raw, err := duty.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]string{}
	for c, docs := range raw {
		for _, d := range docs {
			if m, ok := d.Value.(map[string]any); ok {
				out[c] = append(out[c], fmt.Sprint(m["id"]))
			}
		}
	}
	return out
}

// checkStore checks, after a restart, every invariant of a crash: each record of the dataset
// present (or none, when none is wanted), the organ tables equal to the collections, an audit
// entry for every record, and scans reporting exactly what the records say.
func checkStore(tb testing.TB, st *store.Store, ids map[string][]string, present bool) {
	tb.Helper()
	ctx := context.Background()
	trail, err := st.AuditTrail(ctx, "", 100000)
	if err != nil {
		tb.Fatal(err)
	}
	audited := map[string]bool{}
	for _, e := range trail {
		if e.Action == "records.put" {
			for _, id := range e.IDs {
				audited[e.Collection+"/"+id] = true
			}
		}
	}
	missing, unaudited, there := 0, 0, 0
	for c, list := range ids {
		for _, id := range list {
			_, err := st.Get(ctx, c, id)
			switch {
			case err == nil:
				there++
				if !audited[c+"/"+id] {
					unaudited++
				}
			case present:
				missing++
			}
		}
	}
	if missing > 0 || unaudited > 0 || (!present && there > 0) {
		tb.Errorf("after the restart: %d records missing, %d present without an audit entry, %d present (want all: %v)", missing, unaudited, there, present)
	}
	if err := st.VerifyOrganTables(ctx); err != nil {
		tb.Errorf("after the restart: %v", err)
	}
	checkScan(tb, st)
}

// checkScan runs a scan on the organ tables and compares it with an evaluation of the records
// read from their collections.
func checkScan(tb testing.TB, st *store.Store) {
	tb.Helper()
	ctx := context.Background()
	e, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		tb.Fatal(err)
	}
	const asOf = "2025-12-31"
	organs, keep, err := scan.LoadScope(ctx, st, "")
	if err != nil {
		tb.Fatal(err)
	}
	opts := scan.Options{AsOf: asOf, Engine: e}
	if err := opts.Normalize(ctx); err != nil {
		tb.Fatal(err)
	}
	vs, err := scan.Evaluate(ctx, opts, organs)
	if err != nil {
		tb.Fatal(err)
	}
	want := violationKeys(scan.FilterScope(vs, keep))
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: newLogger(io.Discard, slog.LevelError)})
	sc, err := svc.Start(ctx, scan.Request{AsOf: asOf}, true)
	if err != nil {
		tb.Fatalf("scan after the restart: %v", err)
	}
	if diff := cmp.Diff(want, violationKeys(sc.Report.Violations)); diff != "" {
		tb.Errorf("scan after the restart: %d violations, the records say %d (-records +scan):\n%s", len(sc.Report.Violations), len(want), diff)
	}
}

func violationKeys(vs []duty.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Key()
	}
	slices.Sort(out)
	return out
}

// TestKillDuringImport kills `dutycheck import` of the sample at each point of its batch and
// restarts on the same folder. Before the journal, a restart within ten minutes left the organ
// tables without the records written (scans reported 1,100 violations for 625), the batch half
// written and without an audit entry.
func TestKillDuringImport(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the kill tests use the embedded store")
	}
	ids := datasetIDs(t, sampleDir)
	// Into an empty store every record is new: the import journals their ids and is undone
	// when killed before its audit entries, completed once they are begun. Into a store that
	// holds the records (an import run again), it journals the records and is completed.
	for _, tc := range []struct {
		point   string
		again   bool // the sample is imported once before
		present bool // the import is complete after the restart
	}{
		{point: "put.journal-chunks"},
		{point: "put.after-journal"},
		{point: "put.mid-batch"},
		{point: "put.before-audit"},
		{point: "put.after-first-audit", present: true},
		{point: "put.after-journal", again: true, present: true},
		{point: "put.mid-batch", again: true, present: true},
		{point: "put.before-audit", again: true, present: true},
	} {
		name := tc.point
		if tc.again {
			name += "/again"
		}
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			if tc.again {
				st, closeStore := openData(t, data)
				if _, err := importDir(context.Background(), st, sampleDir); err != nil {
					t.Fatal(err)
				}
				closeStore()
			}
			c := startChild(t, []string{"DUTYCHECK_PAUSE_AT=" + tc.point}, "import", "--data", data, sampleDir)
			c.waitFor(t, pausedAt(tc.point))
			c.kill()
			st := restart(t, data)
			rec := st.Recovered()
			if tc.point != "put.journal-chunks" && (len(rec.Completed) != 1 || strings.Contains(rec.Completed[0], "undone") == tc.present) {
				t.Errorf("recovery %v, want the import completed: %v", rec.Completed, tc.present)
			}
			checkStore(t, st, ids, tc.present)
		})
	}
}

// TestKillDuringDepartmentMove kills an import that moves a division of the sample to a new
// organ, half-way through the rebuild of the organ tables, and restarts: the move is complete,
// the division's people and their records belong to the new organ in the tables as in the
// collections, and a scan reports what the records say.
func TestKillDuringDepartmentMove(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the kill tests use the embedded store")
	}
	data := t.TempDir()
	st, closeStore := openData(t, data)
	if _, err := importDir(context.Background(), st, sampleDir); err != nil {
		t.Fatal(err)
	}
	closeStore()
	raw, err := duty.ReadDir(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	var div map[string]any
	for _, d := range raw["departments"] {
		if m := d.Value.(map[string]any); m["kind"] == "division" {
			div = m
			break
		}
	}
	div["parent_id"] = "ORG-NEW"
	moveDir := t.TempDir()
	b, _ := json.Marshal([]any{map[string]any{"id": "ORG-NEW", "name": "新机关", "kind": "organ"}, div})
	if err := os.WriteFile(filepath.Join(moveDir, "departments.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, point := range []string{"rebuild.mid", "put.before-audit"} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(data)); err != nil {
				t.Fatal(err)
			}
			c := startChild(t, []string{"DUTYCHECK_PAUSE_AT=" + point}, "import", "--data", dir, moveDir)
			c.waitFor(t, pausedAt(point))
			c.kill()
			st := restart(t, dir)
			if rec := st.Recovered(); len(rec.Completed) != 1 || !rec.Rebuilt {
				t.Errorf("recovery = %+v, want the move completed and the tables rebuilt", rec)
			}
			ids := datasetIDs(t, sampleDir)
			ids["departments"] = append(ids["departments"], "ORG-NEW")
			checkStore(t, st, ids, true)
			moved := 0
			organs, _, err := st.LoadOrgans(context.Background(), []string{"ORG-NEW"})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range organs {
				moved += len(o.Docs["people"])
			}
			if moved == 0 {
				t.Errorf("no person of division %s belongs to ORG-NEW after the restart", div["id"])
			}
		})
	}
}

// TestKillDuringScan kills `dutycheck serve` in the middle of a scan — while it reads an organ,
// and when it records its progress after evaluating one — and restarts: the scan
// is failed with a reason at once (it stayed running for ever before), and a new scan reports
// what the records say.
func TestKillDuringScan(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the kill tests use the embedded store")
	}
	for _, point := range []string{"scan.organ-read", "scan.progress"} {
		t.Run(point, func(t *testing.T) {
			data := t.TempDir()
			c := startChild(t, []string{"DUTYCHECK_PAUSE_AT=" + point, "DUTYCHECK_ADMIN_TOKEN=" + testAdminToken},
				"serve", "--data", data, "--addr", "127.0.0.1:0", "--load", sampleDir, "--as-of", "none")
			addr := c.waitFor(t, regexp.MustCompile(`dutycheck serving.* addr=(http://\S+)`))[1]
			req, _ := http.NewRequest(http.MethodPost, addr+"/api/v1/scans", bytes.NewBufferString(`{"as_of":"2025-12-31","wait":false}`))
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var started duty.Scan
			err = json.NewDecoder(resp.Body).Decode(&started)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusAccepted || started.ID == "" {
				t.Fatalf("POST /scans: %d %+v %v", resp.StatusCode, started, err)
			}
			c.waitFor(t, pausedAt(point))
			c.kill()

			st := restart(t, data)
			sc, err := st.GetScan(context.Background(), started.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Status != duty.ScanFailed || !strings.Contains(sc.Error, "interrupted") {
				t.Errorf("the killed process's scan after the restart: status %q, error %q; want failed, interrupted", sc.Status, sc.Error)
			}
			checkStore(t, st, datasetIDs(t, sampleDir), true)
		})
	}
}

// TestSecondProcessOnTheSameDataIsRefused: while `serve` runs on a folder, `import` and
// `serve` on the same folder refuse to start, naming the lock; once the first is killed
// (SIGKILL: nothing cleans up) the folder is free again.
func TestSecondProcessOnTheSameDataIsRefused(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("the lock is the embedded store's")
	}
	data := t.TempDir()
	c := startChild(t, []string{"DUTYCHECK_ADMIN_TOKEN=" + testAdminToken}, "serve", "--data", data, "--addr", "127.0.0.1:0")
	c.waitFor(t, regexp.MustCompile(`dutycheck serving`))
	for _, args := range [][]string{
		{"import", "--data", data, sampleDir},
		{"serve", "--data", data, "--addr", "127.0.0.1:0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		if code != exitBadInput || !strings.Contains(stderr.String(), "in use by another process") || !strings.Contains(stderr.String(), "dutycheck.lock") {
			t.Errorf("%s on a folder in use: exit %d, stderr %q; want exit 2 and a message naming the lock", args[0], code, stderr.String())
		}
	}
	c.kill()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", "--data", data, sampleDir}, &stdout, &stderr); code != exitOK {
		t.Errorf("import after the first process was killed: exit %d: %s", code, stderr.String())
	}
}
