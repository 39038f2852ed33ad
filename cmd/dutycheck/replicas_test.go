package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// The replica tests run three `dutycheck serve` processes, built from this package, on one
// database server (MONGODB_URI: FerretDB over PostgreSQL in CI, scripts/pgferret), each test on
// a database of its own, and reproduce the failures of issue 18 through the HTTP API.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// dutycheckBinary builds the dutycheck binary once per test run.
func dutycheckBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dutycheck-replicas-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "dutycheck")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// removeBuiltBinary removes the binary dutycheckBinary built, when the tests end (TestMain).
func removeBuiltBinary() {
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
}

// cluster is a database on the shared server and the replicas serving it.
type cluster struct {
	uri, db, bin string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip("the replica tests need a database server several processes share: set MONGODB_URI (scripts/pgferret start prints it)")
	}
	c := &cluster{uri: uri, db: fmt.Sprintf("replicas_%d", time.Now().UnixNano()%1e9), bin: dutycheckBinary(t)}
	// Registered first, so it runs last: after the replicas are killed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = store.DropDatabase(ctx, uri, c.db)
	})
	return c
}

// replica is one serve process.
type replica struct {
	*child
	base string
}

var servingLine = regexp.MustCompile(`dutycheck serving.* addr=(http://\S+)`)

// launch starts a serve process on the cluster's database; ready waits for it to serve.
func (c *cluster) launch(t *testing.T, env ...string) *replica {
	t.Helper()
	cmd := exec.Command(c.bin, "serve", "--mongo-uri", c.uri, "--mongo-db", c.db, "--addr", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), "DUTYCHECK_ADMIN_TOKEN="+testAdminToken), env...)
	return &replica{child: startCmd(t, cmd)}
}

func (r *replica) ready(t *testing.T) *replica {
	t.Helper()
	r.base = r.waitFor(t, servingLine)[1]
	return r
}

// start launches a replica and waits for it to serve.
func (c *cluster) start(t *testing.T, env ...string) *replica { return c.launch(t, env...).ready(t) }

// open opens the cluster's database from the test, as one more process.
func (c *cluster) open(t *testing.T) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Config{URI: c.uri, Database: c.db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// replicaClient bounds each request: a request that hangs (issue 18: FerretDB deadlocked by two
// batches at once) fails the test instead of stalling it.
var replicaClient = &http.Client{Timeout: 3 * time.Minute}

// call sends a request as the admin and returns the status and the body.
func (r *replica) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := replicaClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// revision is the policy revision a replica serves.
func (r *replica) revision(t *testing.T) string {
	t.Helper()
	code, body := r.call(t, http.MethodGet, "/api/v1/policies", nil)
	var v struct {
		Revision string `json:"revision"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		t.Fatalf("GET /policies: %d %s", code, body)
	}
	return v.Revision
}

// converge waits until every replica serves revision rev and returns how long it took; a
// replica that has not followed within a minute fails the test (split brain).
func converge(t *testing.T, rev string, reps ...*replica) time.Duration {
	t.Helper()
	start := time.Now()
	for _, r := range reps {
		for r.revision(t) != rev {
			if time.Since(start) > time.Minute {
				t.Fatalf("replica %s still serves %s a minute after %s was stored", r.base, r.revision(t), rev)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// made is the answer to a policy change: the revision stored.
type made struct {
	Revision struct {
		ID string `json:"id"`
	} `json:"revision"`
}

// both runs f and g at once and waits for them.
func both(f, g func()) {
	var wg sync.WaitGroup
	wg.Go(f)
	wg.Go(g)
	wg.Wait()
}

// TestReplicas starts three replicas at once on an empty database, then reproduces through them
// the failures issue 18 found with two: organ tables drifting from the records under
// concurrent batches (and FerretDB hanging under two 300-document batches), dangling
// references, split brain and lost updates of the policies; and measures how fast a policy
// change reaches the other replicas.
func TestReplicas(t *testing.T) {
	c := newCluster(t)
	// Simultaneous start on an empty database (issue 18: E11000 on store_meta in 3 of 6 tries).
	launched := []*replica{c.launch(t), c.launch(t), c.launch(t)}
	for _, r := range launched {
		r.ready(t)
		if code, body := r.call(t, http.MethodGet, "/readyz", nil); code != http.StatusOK {
			t.Fatalf("readyz: %d %s", code, body)
		}
	}
	a, b, third := launched[0], launched[1], launched[2]
	st := c.open(t)
	ctx := context.Background()
	if code, body := a.call(t, http.MethodPut, "/api/v1/collections/departments", []map[string]any{
		{"id": "ORG-R", "name": "机关", "kind": "organ"},
		{"id": "ORG-R-D", "name": "处", "kind": "division", "parent_id": "ORG-R"},
	}); code != http.StatusOK {
		t.Fatalf("departments: %d %s", code, body)
	}

	t.Run("concurrent batches of the same people", func(t *testing.T) {
		batch := func(who string) []map[string]any {
			docs := make([]map[string]any, 300)
			for i := range docs {
				docs[i] = map[string]any{"id": fmt.Sprintf("P-%03d", i), "name": fmt.Sprintf("%s%03d", who, i),
					"department_id": "ORG-R-D", "rank": "staff", "roles": []any{}, "active": true}
			}
			return docs
		}
		for round := range 3 {
			var codeA, codeB int
			both(func() { codeA, _ = a.call(t, http.MethodPut, "/api/v1/collections/people", batch("甲")) },
				func() { codeB, _ = b.call(t, http.MethodPut, "/api/v1/collections/people", batch("乙")) })
			if codeA != http.StatusOK || codeB != http.StatusOK {
				t.Fatalf("round %d: the batches answered %d and %d; want 200 both", round, codeA, codeB)
			}
			if err := st.VerifyOrganTables(ctx); err != nil {
				t.Errorf("round %d: the organ tables differ from the records: %v", round, err)
			}
		}
		// The server still answers everyone (issue 18: two such batches hung FerretDB).
		if code, _ := third.call(t, http.MethodGet, "/api/v1/collections/people/P-299", nil); code != http.StatusOK {
			t.Errorf("a read after the batches: %d", code)
		}
	})

	t.Run("a deletion and a referencing write do not cross", func(t *testing.T) {
		for i := range 8 {
			pid, tid := fmt.Sprintf("P-D%d", i), fmt.Sprintf("T-D%d", i)
			if code, body := a.call(t, http.MethodPut, "/api/v1/collections/people", []map[string]any{{"id": pid, "name": "张三",
				"department_id": "ORG-R-D", "rank": "division", "roles": []any{}, "active": true}}); code != http.StatusOK {
				t.Fatalf("person: %d %s", code, body)
			}
			both(func() { a.call(t, http.MethodDelete, "/api/v1/collections/people/"+pid, nil) },
				func() {
					b.call(t, http.MethodPut, "/api/v1/collections/talks", []map[string]any{{"id": tid, "kind": "pre_appointment", "person_id": pid, "held_on": "2025-02-01"}})
				})
			pcode, _ := third.call(t, http.MethodGet, "/api/v1/collections/people/"+pid, nil)
			tcode, _ := third.call(t, http.MethodGet, "/api/v1/collections/talks/"+tid, nil)
			if tcode == http.StatusOK && pcode == http.StatusNotFound {
				t.Errorf("round %d: talk %s names %s, which is gone", i, tid, pid)
			}
		}
	})

	t.Run("simultaneous parameter changes and rollbacks do not split", func(t *testing.T) {
		const path = "/api/v1/policies/talk.pre_appointment/params"
		base := a.revision(t)
		var codes [2]int
		var bodies [2][]byte
		both(func() {
			codes[0], bodies[0] = a.call(t, http.MethodPut, path, map[string]any{"base": base, "params": map[string]any{"max_days_before": 60}})
		},
			func() {
				codes[1], bodies[1] = b.call(t, http.MethodPut, path, map[string]any{"base": base, "params": map[string]any{"max_days_before": 61}})
			})
		got := []int{codes[0], codes[1]}
		slices.Sort(got)
		if !slices.Equal(got, []int{http.StatusCreated, http.StatusConflict}) {
			t.Fatalf("two changes on %s: %d %s, %d %s; want one 201 and one 409", base, codes[0], bodies[0], codes[1], bodies[1])
		}
		winner := 60
		if codes[1] == http.StatusCreated {
			winner = 61
		}
		rev := a.revision(t)
		if codes[1] == http.StatusCreated {
			rev = b.revision(t)
		}
		converge(t, rev, a, b, third)

		// A change on one replica followed at once by another on the second, made on the first's
		// revision (issue 18: the second silently reverted the first, 5 of 5).
		code, body := a.call(t, http.MethodPut, path, map[string]any{"base": rev, "params": map[string]any{"max_days_before": 62}})
		var made made
		if code != http.StatusCreated || json.Unmarshal(body, &made) != nil || made.Revision.ID == "" {
			t.Fatalf("change on a: %d %s", code, body)
		}
		code, body = b.call(t, http.MethodPut, path, map[string]any{"base": made.Revision.ID, "params": map[string]any{"warn_days": 9}})
		if code != http.StatusCreated || json.Unmarshal(body, &made) != nil {
			t.Fatalf("change on b at once after a's: %d %s", code, body)
		}
		converge(t, made.Revision.ID, a, b, third)
		code, body = third.call(t, http.MethodGet, path, nil)
		var params struct {
			Params map[string]any `json:"params"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &params) != nil {
			t.Fatalf("params: %d %s", code, body)
		}
		if params.Params["max_days_before"] != float64(62) || params.Params["warn_days"] != float64(9) {
			t.Errorf("after a's change and b's: %v; want max_days_before 62 (a's, kept) and warn_days 9 (b's); the winner of the race set %d", params.Params, winner)
		}

		// Two rollbacks at once.
		cur := third.revision(t)
		both(func() {
			codes[0], bodies[0] = a.call(t, http.MethodPost, "/api/v1/policies/revisions/r1/activate", map[string]any{"base": cur})
		},
			func() {
				codes[1], bodies[1] = b.call(t, http.MethodPost, "/api/v1/policies/revisions/r1/activate", map[string]any{"base": cur})
			})
		got = []int{codes[0], codes[1]}
		slices.Sort(got)
		if !slices.Equal(got, []int{http.StatusCreated, http.StatusConflict}) {
			t.Fatalf("two rollbacks on %s: %d %s, %d %s; want one 201 and one 409", cur, codes[0], bodies[0], codes[1], bodies[1])
		}
		i := slices.Index(codes[:], http.StatusCreated)
		if json.Unmarshal(bodies[i], &made) != nil || made.Revision.ID == "" {
			t.Fatalf("rollback answer: %s", bodies[i])
		}
		converge(t, made.Revision.ID, a, b, third)
	})

	t.Run("propagation of a policy change", func(t *testing.T) {
		var times []time.Duration
		for i := range 5 {
			base := a.revision(t)
			converge(t, base, a, b, third)
			code, body := a.call(t, http.MethodPut, "/api/v1/policies/talk.pre_appointment/params",
				map[string]any{"base": base, "params": map[string]any{"max_days_before": 50 + i}})
			var made made
			if code != http.StatusCreated || json.Unmarshal(body, &made) != nil {
				t.Fatalf("change: %d %s", code, body)
			}
			times = append(times, converge(t, made.Revision.ID, b, third).Round(time.Millisecond))
		}
		slices.Sort(times)
		t.Logf("a policy change reached both other replicas in %v (median %v, max %v over %d changes)", times, times[len(times)/2], times[len(times)-1], len(times))
	})
}

// expectedKeys evaluates the records in the organ tables in force from the test, without the
// service: what one process finds.
func expectedKeys(t *testing.T, st *store.Store, asOf string) []string {
	t.Helper()
	ctx := context.Background()
	e, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	organs, keep, err := scan.LoadScope(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	opts := scan.Options{AsOf: asOf, Engine: e}
	if err := opts.Normalize(ctx); err != nil {
		t.Fatal(err)
	}
	vs, err := scan.Evaluate(ctx, opts, organs)
	if err != nil {
		t.Fatal(err)
	}
	return violationKeys(scan.FilterScope(vs, keep))
}

// startScan asks replica r for a scan in the background and returns its id.
func (r *replica) startScan(t *testing.T, asOf string) string {
	t.Helper()
	code, body := r.call(t, http.MethodPost, "/api/v1/scans", map[string]any{"as_of": asOf, "wait": false})
	var sc duty.Scan
	if code != http.StatusAccepted || json.Unmarshal(body, &sc) != nil || sc.ID == "" {
		t.Fatalf("POST /scans: %d %s", code, body)
	}
	return sc.ID
}

// scanOf reads a scan through r.
func (r *replica) scanOf(t *testing.T, id string) duty.Scan {
	t.Helper()
	code, body := r.call(t, http.MethodGet, "/api/v1/scans/"+id, nil)
	var sc duty.Scan
	if code != http.StatusOK || json.Unmarshal(body, &sc) != nil {
		t.Fatalf("GET /scans/%s: %d %s", id, code, body)
	}
	return sc
}

// paused says whether the replica stopped at its pause point.
func (r *replica) paused() bool {
	return strings.Contains(r.stderr(), "paused at ")
}

// TestReplicasShareAScan: three replicas share a scan of 12 organs; one of them, killed with
// SIGKILL while it evaluates a chunk, holds the scan up only until its chunk's lease lapses,
// and the report is what one process finds. Then scans run on one replica while another moves
// a department to another organ (a rebuild of the organ tables) and the third restarts: every
// scan is done and reports the records of one moment (issue 18: a restarting replica's
// rebuild made 3 of 40 scans of another report wrong counts, stored as real scans).
func TestReplicasShareAScan(t *testing.T) {
	c := newCluster(t)
	st := c.open(t)
	ctx := context.Background()
	ds := gen.Generate(gen.Options{Organs: 12, Seed: 7, Year: 2025, ViolationRate: 0.05})
	if _, err := st.PutMany(ctx, duty.System("test"), duty.RawDocs(ds)); err != nil {
		t.Fatal(err)
	}
	a, b := c.start(t), c.start(t)
	dying := c.start(t, "DUTYCHECK_PAUSE_AT=scan.organ-read")

	t.Run("a replica killed mid-scan", func(t *testing.T) {
		for _, asOf := range []string{"2025-12-31", "2025-12-30", "2025-12-29", "2025-12-28"} {
			id := a.startScan(t, asOf)
			var sc duty.Scan
			for {
				if dying.paused() {
					break
				}
				if sc = b.scanOf(t, id); sc.Status != duty.ScanRunning {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !dying.paused() {
				t.Logf("scan as of %s finished (%s) before the third replica took a chunk; again", asOf, sc.Status)
				continue
			}
			dying.kill()
			killed := time.Now()
			for sc = b.scanOf(t, id); sc.Status == duty.ScanRunning; sc = b.scanOf(t, id) {
				if time.Since(killed) > 3*time.Minute {
					t.Fatalf("scan %s still running 3 minutes after a replica was killed", id)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("the scan finished %v after a replica was killed holding one of its chunks (chunk lease %v)", time.Since(killed).Round(time.Millisecond), store.DefaultChunkLeaseTTL)
			if sc.Status != duty.ScanDone {
				t.Fatalf("scan %s: %s (%s); want done", id, sc.Status, sc.Error)
			}
			full := a.scanOf(t, id)
			if diff := cmp.Diff(expectedKeys(t, st, asOf), violationKeys(full.Report.Violations)); diff != "" {
				t.Errorf("the shared scan differs from one process's evaluation (-one +shared):\n%s", diff)
			}
			takeovers := 0
			for _, r := range []*replica{a, b} {
				_, body := r.call(t, http.MethodGet, "/metrics", nil)
				if m := regexp.MustCompile(`dutycheck_lease_takeovers_total\{lease="scan_chunk"\} (\d+)`).FindSubmatch(body); m != nil {
					n, _ := strconv.Atoi(string(m[1]))
					takeovers += n
				}
			}
			if takeovers < 1 {
				t.Errorf("no replica counted the dead replica's chunk as taken over")
			}
			return
		}
		t.Fatal("the third replica never took a chunk of four scans")
	})

	t.Run("the coordinator killed mid-scan", func(t *testing.T) {
		// Its scan is taken over, once its process lease lapses, by a replica that finds it dead.
		coordinator := c.start(t, "DUTYCHECK_PAUSE_AT=scan.organ-read")
		id := coordinator.startScan(t, "2025-11-30")
		for !coordinator.paused() {
			if sc := a.scanOf(t, id); sc.Status != duty.ScanRunning {
				t.Fatalf("scan %s ended (%s) before its coordinator read an organ", id, sc.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
		coordinator.kill()
		killed := time.Now()
		sc := a.scanOf(t, id)
		for ; sc.Status == duty.ScanRunning; sc = a.scanOf(t, id) {
			if time.Since(killed) > 4*time.Minute {
				t.Fatalf("scan %s still running 4 minutes after its coordinator was killed", id)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("the scan of the killed coordinator was finished by another replica %v after the kill", time.Since(killed).Round(time.Millisecond))
		if sc.Status != duty.ScanDone {
			t.Fatalf("scan %s: %s (%s); want done by the replica that took it over", id, sc.Status, sc.Error)
		}
		full := b.scanOf(t, id)
		if diff := cmp.Diff(expectedKeys(t, st, "2025-11-30"), violationKeys(full.Report.Violations)); diff != "" {
			t.Errorf("the scan taken over differs from one process's evaluation (-one +taken over):\n%s", diff)
		}
	})

	t.Run("scans while a department moves and a replica restarts", func(t *testing.T) {
		dying.kill() // when this subtest runs alone: its paused replica would hold a chunk for ChunkMaxHold
		const asOf = "2025-12-31"
		before := expectedKeys(t, st, asOf)
		depts, err := st.Departments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tree := duty.NewTree(depts)
		var moved map[string]any
		for _, d := range depts {
			if tree.Organ(d.ID()) != "ORG-1" && d.Str("kind") == "division" {
				moved = map[string]any{}
				for k, v := range d {
					moved[k] = v
				}
				break
			}
		}
		home := moved["parent_id"]
		afterMove := map[string][]string{}
		scans := make(chan string, 8)
		both(func() {
			defer close(scans)
			for range 6 {
				code, body := a.call(t, http.MethodPost, "/api/v1/scans", map[string]any{"as_of": asOf})
				var sc duty.Scan
				if code != http.StatusCreated || json.Unmarshal(body, &sc) != nil {
					t.Errorf("scan: %d %s", code, body)
					return
				}
				scans <- sc.ID
			}
		}, func() {
			restarted := c.launch(t)
			for i, parent := range []any{"ORG-1", home} {
				moved["parent_id"] = parent
				if code, body := b.call(t, http.MethodPut, "/api/v1/collections/departments", []map[string]any{moved}); code != http.StatusOK {
					t.Errorf("move %d: %d %s", i, code, body)
				}
				if i == 0 {
					afterMove["moved"] = expectedKeys(t, st, asOf)
				}
			}
			restarted.ready(t)
		})
		t.Logf("%d violations before the move, %d after it", len(before), len(afterMove["moved"]))
		want := map[string]bool{strings.Join(before, "\n"): true, strings.Join(afterMove["moved"], "\n"): true}
		n := 0
		for id := range scans {
			sc := a.scanOf(t, id)
			n++
			if sc.Status != duty.ScanDone {
				t.Errorf("scan %s: %s (%s)", id, sc.Status, sc.Error)
				continue
			}
			if !want[strings.Join(violationKeys(sc.Report.Violations), "\n")] {
				t.Errorf("scan %s reports %d violations, neither the records before the move (%d) nor after it (%d)",
					id, len(sc.Report.Violations), len(before), len(afterMove["moved"]))
			}
		}
		if n != 6 {
			t.Errorf("%d scans ran; want 6", n)
		}
	})
}
