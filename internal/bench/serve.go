package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// ServeConfig says how to load a running service (`dutycheck bench --serve`).
type ServeConfig struct {
	// Addr is the service's base URL (http://127.0.0.1:port).
	Addr  string
	Token string // an admin's bearer token
	// Rate is the requests per second of the open-loop load; Duration how long each phase lasts.
	Rate     float64
	Duration time.Duration
	// Overviews is how many times the overview page is fetched, one after the other.
	Overviews int
	// Departments and Records are what the load asks for, picked at random (seeded).
	Departments []string
	Records     []Ref
	// ScanAsOf is the as-of date of the full scan run during the last phase: a date no stored
	// report has, so that no organ's results are reused.
	ScanAsOf string
	Seed     uint64
	Log      io.Writer
	// Phase, when set, is called as each measured phase starts ("idle", "overview",
	// "during a full scan") and with "" after the last: a caller profiles some of them.
	Phase func(name string)
	// NoScan leaves out the phase during a full scan (a quicker run while working on reads).
	NoScan bool
}

// Ref names one record to GET.
type Ref struct{ Collection, ID string }

// Latency is what one kind of request measured in one phase.
type Latency struct {
	Phase    string  `json:"phase"`
	Kind     string  `json:"kind"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// PerSecond is the answers per second over the phase.
	PerSecond float64 `json:"per_s"`
}

// ServeResult is what the load measured.
type ServeResult struct {
	Latencies []Latency `json:"latencies"`
	// ScanS is how long the full scan of the last phase took.
	ScanS float64 `json:"scan_s"`
}

// Serve loads the service, after a few requests of each kind to warm it up: the department
// report (JSON, CSV), the department report page and record GETs at cfg.Rate for cfg.Duration; then the overview page, one request at a time; then
// the API GETs again while a full scan runs. The load is open-loop: each request is sent at its
// scheduled time whatever the answers before it, and its latency counts from that time, so a
// slow service cannot hide its queue by slowing the load down.
func Serve(ctx context.Context, cfg ServeConfig) (*ServeResult, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 || len(cfg.Departments) == 0 || len(cfg.Records) == 0 {
		return nil, fmt.Errorf("bench --serve: a rate, a duration, departments and records are needed")
	}
	api := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 2 * time.Minute}
	pages, err := signIn(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	kinds := []struct {
		name   string
		client *http.Client
		path   func() string
	}{
		{"department report (API, JSON)", api, func() string {
			return "/api/v1/departments/" + url.PathEscape(pick(rng, cfg.Departments)) + "/report"
		}},
		{"department report (API, CSV)", api, func() string {
			return "/api/v1/departments/" + url.PathEscape(pick(rng, cfg.Departments)) + "/report?format=csv"
		}},
		{"department report page", pages, func() string { return "/departments/" + url.PathEscape(pick(rng, cfg.Departments)) }},
		{"record (API)", api, func() string {
			r := pick(rng, cfg.Records)
			return "/api/v1/collections/" + r.Collection + "/" + url.PathEscape(r.ID)
		}},
		{"record page", pages, func() string {
			r := pick(rng, cfg.Records)
			return "/records/" + r.Collection + "/" + url.PathEscape(r.ID)
		}},
	}
	var mu sync.Mutex // rng
	next := func() (string, *http.Client, string) {
		mu.Lock()
		defer mu.Unlock()
		k := kinds[rng.IntN(len(kinds))]
		return k.name, k.client, k.path()
	}
	res := &ServeResult{}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "bench --serve: "+format+"\n", args...)
		}
	}

	// Warm-up, not measured: the first request of each kind after a start reads what the
	// service then keeps (the department tree, the report documents), and a cold start under
	// the full load measures the start, not the reads.
	for range 3 {
		for _, k := range kinds {
			_ = get(ctx, k.client, cfg, k.path())
		}
	}
	_ = get(ctx, pages, cfg, "/")

	phase := func(name string) {
		if cfg.Phase != nil {
			cfg.Phase(name)
		}
	}
	defer phase("")
	phase("idle")
	logf("phase 1: %.0f requests/s for %s, no scan running", cfg.Rate, cfg.Duration)
	res.Latencies = append(res.Latencies, openLoop(ctx, "idle", cfg, next, nil)...)
	logLatencies(logf, res.Latencies)

	phase("overview")
	logf("phase 2: the overview page, %d times one after the other", cfg.Overviews)
	var times []time.Duration
	errs := 0
	start := time.Now()
	for range cfg.Overviews {
		t0 := time.Now()
		if err := get(ctx, pages, cfg, "/"); err != nil {
			errs++
			logf("overview: %v", err)
		}
		times = append(times, time.Since(t0))
	}
	res.Latencies = append(res.Latencies, summarize("idle", "overview page", times, errs, time.Since(start)))
	logLatencies(logf, res.Latencies[len(res.Latencies)-1:])

	if cfg.NoScan {
		return res, nil
	}
	phase("during a full scan")
	logf("phase 3: %.0f requests/s while a full scan as of %s runs", cfg.Rate, cfg.ScanAsOf)
	scanID, err := startScan(ctx, api, cfg)
	if err != nil {
		return nil, err
	}
	scanStart := time.Now()
	done := make(chan error, 1)
	go func() { done <- waitScan(ctx, api, cfg, scanID, 500*time.Millisecond) }()
	res.Latencies = append(res.Latencies, openLoop(ctx, "during a full scan", cfg, next, done)...)
	if err := <-done; err != nil {
		return nil, err
	}
	res.ScanS = time.Since(scanStart).Seconds()
	return res, nil
}

// logLatencies logs each phase's numbers as it ends, so that a long run shows them early.
func logLatencies(logf func(string, ...any), ls []Latency) {
	for _, l := range ls {
		logf("%s, %s: %d requests, %d errors, p50 %.1f ms, p99 %.1f ms, max %.1f ms", l.Phase, l.Kind, l.Requests, l.Errors, l.P50ms, l.P99ms, l.MaxMs)
	}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// openLoop sends requests at cfg.Rate for cfg.Duration (or, when until is not nil, until it
// yields, re-delivering its value) and returns each kind's latencies.
func openLoop(ctx context.Context, phase string, cfg ServeConfig, next func() (string, *http.Client, string), until chan error) []Latency {
	type sample struct {
		kind string
		d    time.Duration
		err  error
		due  time.Duration // since the phase started
	}
	var (
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
	)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var untilErr error
	finished := false
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := 0; ; i++ {
		// The i-th request is due at start + i·interval, whatever happened before: a late
		// sender catches up at once instead of dropping requests (open loop).
		scheduled := start.Add(time.Duration(i) * interval)
		if until == nil && !scheduled.Before(deadline) {
			break
		}
		timer.Reset(time.Until(scheduled))
		select {
		case <-ctx.Done():
			break loop
		case err := <-until:
			untilErr, finished = err, true
			break loop
		case <-timer.C:
		}
		kind, client, path := next()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := get(ctx, client, cfg, path)
			d := time.Since(scheduled)
			mu.Lock()
			samples = append(samples, sample{kind, d, err, scheduled.Sub(start)})
			mu.Unlock()
		}()
	}
	elapsed := time.Since(start)
	wg.Wait()
	if finished {
		until <- untilErr
	}
	by := map[string][]time.Duration{}
	errs := map[string]int{}
	for _, s := range samples {
		by[s.kind] = append(by[s.kind], s.d)
		if s.err != nil {
			errs[s.kind]++
		}
	}
	var out []Latency
	for _, k := range sortedKinds(by) {
		out = append(out, summarize(phase, k, by[k], errs[k], elapsed))
	}
	// When the slow requests were due: the 10-second windows of the phase whose slowest
	// request took over a second, to set against what the service was doing then.
	slowest := map[int]time.Duration{}
	for _, s := range samples {
		if w := int(s.due / (10 * time.Second)); s.d > slowest[w] {
			slowest[w] = s.d
		}
	}
	var slow []string
	for w := range int(elapsed/(10*time.Second)) + 1 {
		if d := slowest[w]; d > time.Second {
			slow = append(slow, fmt.Sprintf("%d–%d s: %.1f s", 10*w, 10*w+10, d.Seconds()))
		}
	}
	if len(slow) > 0 && cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "bench --serve: %s, the slowest request due in each 10 s over a second (of %.0f s): %s\n",
			phase, elapsed.Seconds(), strings.Join(slow, ", "))
	}
	return out
}

func sortedKinds(m map[string][]time.Duration) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func summarize(phase, kind string, ds []time.Duration, errs int, elapsed time.Duration) Latency {
	slices.Sort(ds)
	q := func(p float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		i := min(len(ds)-1, int(p*float64(len(ds))))
		return float64(ds[i].Microseconds()) / 1000
	}
	l := Latency{Phase: phase, Kind: kind, Requests: len(ds), Errors: errs, P50ms: q(0.50), P95ms: q(0.95), P99ms: q(0.99)}
	if len(ds) > 0 {
		l.MaxMs = float64(ds[len(ds)-1].Microseconds()) / 1000
	}
	if elapsed > 0 {
		l.PerSecond = float64(len(ds)-errs) / elapsed.Seconds()
	}
	return l
}

// get fetches path and reads the whole answer; anything but 200 is an error.
func get(ctx context.Context, client *http.Client, cfg ServeConfig, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Addr+path, nil)
	if err != nil {
		return err
	}
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// signIn returns a client holding a browser session of the token's user.
func signIn(ctx context.Context, cfg ServeConfig) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if err := get(ctx, c, cfg, "/login"); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Addr + "/login")
	csrf := ""
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "dutycheck_login" {
			csrf = ck.Value
		}
	}
	form := url.Values{"token": {cfg.Token}, "csrf": {csrf}, "next": {"/"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Addr+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("sign in: %s", resp.Status)
	}
	return c, nil
}

func startScan(ctx context.Context, c *http.Client, cfg ServeConfig) (string, error) {
	body, _ := json.Marshal(map[string]any{"as_of": cfg.ScanAsOf, "wait": false})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Addr+"/api/v1/scans", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var sc struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sc); err != nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("start a scan: %s %v", resp.Status, err)
	}
	return sc.ID, nil
}

// waitScan polls the scan every poll until it is done (the polls are not measured).
func waitScan(ctx context.Context, c *http.Client, cfg ServeConfig, id string, poll time.Duration) error {
	began, next := time.Now(), time.Duration(0)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Addr+"/api/v1/scans/"+url.PathEscape(id), nil)
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		var sc struct {
			Status   string          `json:"status"`
			Error    json.RawMessage `json:"error"`
			Progress struct {
				Done  int `json:"done"`
				Total int `json:"total"`
			} `json:"progress"`
		}
		err = json.NewDecoder(resp.Body).Decode(&sc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("read scan %s: %s %s %v", id, resp.Status, sc.Error, err)
		}
		// The scan's progress every 10 s, to set against the slow requests (openLoop).
		if el := time.Since(began); el >= next && cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "bench --serve: the scan at %.0f s: %d of %d organs\n", el.Seconds(), sc.Progress.Done, sc.Progress.Total)
			next += 10 * time.Second
		}
		switch sc.Status {
		case "done":
			return nil
		case "failed":
			return fmt.Errorf("scan %s failed: %s", id, sc.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// MachineInfo describes the machine the bench runs on.
func MachineInfo() Machine { return machine() }
