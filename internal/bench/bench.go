// Package bench measures dutycheck at the scale of a province (`dutycheck bench`): it generates
// organs (internal/gen), loads them into the store, and times, each as the median of several
// runs, reading every record back, a full scan, the evaluation alone on records in memory, the
// same policies run by the opa CLI, and a re-scan after one record changed; it checks that
// every way gives exactly the same violations.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Config says what to measure.
type Config struct {
	Organs int // organs to generate
	Runs   int // runs of each measure; the median is reported
	Seed   int64
	Year   int
	Rate   float64 // violation rate of the generated organs
	// Store opens the store the dataset is loaded into, on a database of its own that the
	// bench drops at the start and at the end.
	Store func(ctx context.Context, database string) (*store.Store, error)
	// OPA is the opa binary; "" skips the opa CLI measure (OPANote says why).
	OPA     string
	OPANote string
	// OPAMode is "files" (one input file per organ, GOMAXPROCS opa processes at a time), "file"
	// (one input file of every organ, one process) or "" to try both and keep the faster.
	OPAMode string
	// Offline measures only the evaluation in memory, the opa CLI and the organ growth,
	// without the store: no load, read, scan or re-scan (they are reported as 0).
	Offline bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Result is what one bench run measured. Times are in seconds, medians of Runs runs.
type Result struct {
	Organs     int `json:"organs"`
	Records    int `json:"records"`
	Violations int `json:"violations"`
	Runs       int `json:"runs"`

	LoadS   float64 `json:"load_s"`    // importing the dataset through the store's validation (once)
	ReadS   float64 `json:"read_s"`    // (a) reading every record out of the store
	ScanS   float64 `json:"scan_s"`    // (b) a full scan: read, evaluate, compare, store the report
	EvalS   float64 `json:"eval_s"`    // (c) evaluating the records held in memory as a scan receives them
	OPACLIS float64 `json:"opa_cli_s"` // (d) the opa CLI on the same policies and records
	WriteS  float64 `json:"write_s"`   // changing one record through the store's validation
	RescanS float64 `json:"rescan_s"`  // (e) a scan after that change

	PeakRSSMB     float64 `json:"peak_rss_mb"`      // (f) the whole bench process, store included
	ScanPeakRSSMB float64 `json:"scan_peak_rss_mb"` // reads and scans only, the dataset freed

	ScanOverRead   float64 `json:"scan_over_read"`   // b/a
	OPAOverEval    float64 `json:"opa_over_eval"`    // d/c
	ScanOverRescan float64 `json:"scan_over_rescan"` // b/e
	// Organ10x is the evaluation of one organ ten times the usual size over that of one organ.
	Organ10x float64 `json:"organ_10x"`

	OPAMode       string `json:"opa_mode,omitempty"`
	OPAViolations int    `json:"opa_violations"`
	OPANote       string `json:"opa_note,omitempty"`
	// Same is true when the offline evaluation, the full scan and the re-scan (against a full
	// scan of the changed records) gave exactly the same violations, and the opa CLI as many.
	Same bool `json:"same_violations"`

	Machine Machine `json:"machine"`
}

// Machine describes where the bench ran.
type Machine struct {
	CPU        string  `json:"cpu"`
	Cores      int     `json:"cores"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	MemoryGB   float64 `json:"memory_gb"`
	GoVersion  string  `json:"go"`
	LoadStart  string  `json:"load_avg_start"`
	LoadEnd    string  `json:"load_avg_end"`
}

const asOf = "-12-31" // the scan date is the last day of the generated year

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "bench %d organs: "+format+"\n", append([]any{c.Organs}, args...)...)
	}
}

// Run measures one size.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Runs < 1 {
		cfg.Runs = 1
	}
	if cfg.Year == 0 {
		cfg.Year = 2025
	}
	date := fmt.Sprintf("%04d%s", cfg.Year, asOf)
	res := &Result{Organs: cfg.Organs, Runs: cfg.Runs, Machine: machine()}
	eng, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		return nil, err
	}

	gopts := gen.Options{Organs: cfg.Organs, Seed: cfg.Seed, Year: cfg.Year, ViolationRate: cfg.Rate}

	// (c) and (d): the records in memory, and the opa CLI over the same records. The dataset is
	// generated for them and freed before they are timed.
	offline, err := measureOffline(ctx, &cfg, res, gopts, eng, date)
	if err != nil {
		return nil, err
	}

	res.OPAOverEval = ratio(res.OPACLIS, res.EvalS)
	sameOPA := cfg.OPA == "" || res.OPAViolations == res.Violations
	if cfg.Offline {
		res.PeakRSSMB = peakRSSMB(false)
		res.Same = sameOPA
		res.Machine.LoadEnd = loadAvg()
		return res, nil
	}

	// The store: load, then (a), (b), (e). The same dataset again (generation is deterministic),
	// once what the offline measures held is collected.
	runtime.GC()
	cfg.logf("generating")
	ds := gen.Generate(gopts)
	if n := ds.Count(); n != res.Records {
		return nil, fmt.Errorf("generated %d records, then %d for the same options", res.Records, n)
	}
	talk := changeableTalk(ds, cfg.Organs)
	st, err := cfg.Store(ctx, fmt.Sprintf("bench_%d", cfg.Organs))
	if err != nil {
		return nil, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		_ = st.Drop(dctx)
		_ = st.Close(dctx)
	}()
	if err := st.Drop(ctx); err != nil {
		return nil, err
	}
	cfg.logf("loading %d records into the store", res.Records)
	start := time.Now()
	if _, err := st.PutMany(ctx, duty.System("bench"), duty.RawDocs(ds)); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	res.LoadS = time.Since(start).Seconds()
	ds = nil
	runtime.GC()
	debug.FreeOSMemory()
	before := peakRSSMB(true) // the reset below clears the kernel's peak for getrusage too
	resetPeakRSS()
	cfg.logf("loaded in %.1f s; the dataset freed, %.0f MB resident", res.LoadS, peakRSSMB(true))

	same, err := measureStore(ctx, &cfg, res, st, eng, date, talk, offline)
	if err != nil {
		return nil, err
	}
	res.ScanPeakRSSMB = peakRSSMB(true)
	res.PeakRSSMB = max(before, peakRSSMB(false), res.ScanPeakRSSMB)
	res.Same = same && sameOPA
	res.ScanOverRead = ratio(res.ScanS, res.ReadS)
	res.ScanOverRescan = ratio(res.ScanS, res.RescanS)
	res.Machine.LoadEnd = loadAvg()
	return res, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// offlineData is what the offline measures need once the dataset is freed.
type offlineData struct {
	organs   []organRecords
	size     int          // bytes of BSON in organs
	want     []string     // the violations scan.Evaluate found, canonical
	one, big organRecords // the first organ alone, and ten organs made one
	opa      *opaInputs   // nil without the opa CLI
}

// prepareOffline generates the dataset and, untimed, keeps of it only what the offline measures
// need: the records as BSON, the violations the plain evaluation of the organs finds (to check
// the timed one against), and the opa CLI's input files. When it returns, the dataset and its
// organs are garbage.
func prepareOffline(ctx context.Context, cfg *Config, res *Result, gopts gen.Options, eng *policy.Engine, date string) (_ *offlineData, err error) {
	// The dataset is held three ways at once here (generated, validated, encoded); a tight
	// collector keeps the process's peak near what is live rather than twice that. Nothing here
	// is timed.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	cfg.logf("generating")
	ds := gen.Generate(gopts)
	res.Records = ds.Count()
	organs, err := Organs(ds)
	if err != nil {
		return nil, err
	}
	d := &offlineData{}
	if d.organs, d.size, err = encodeOrgans(organs); err != nil {
		return nil, err
	}
	cfg.logf("evaluating the organs once, for reference")
	opts := scan.Options{AsOf: date, Engine: eng}
	if err := opts.Normalize(ctx); err != nil {
		return nil, err
	}
	vs, err := scan.Evaluate(ctx, opts, organs)
	if err != nil {
		return nil, err
	}
	d.want = canonical(vs)
	if cfg.OPA != "" {
		if d.opa, err = writeOPAInputs(eng, organs, date); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				d.opa.remove()
			}
		}()
	}
	d.one = d.organs[0]
	big, err := Organs(Merge(gen.Generate(gen.Options{Organs: 10, Seed: cfg.Seed, Year: cfg.Year, ViolationRate: cfg.Rate})))
	if err != nil {
		return nil, err
	}
	bigRecs, _, err := encodeOrgans(big[:1])
	if err != nil {
		return nil, err
	}
	d.big = bigRecs[0]
	return d, nil
}

// measureOffline times the evaluation of the records in memory, the opa CLI, and the growth
// with the size of an organ. The records are held as a scan receives them from the store, as
// BSON bytes, and evaluated as a scan does (evaluateRecords); the generated dataset is not
// live while they are timed. It returns the violations, as canonical strings, and fails if
// they are not those of the plain evaluation of the organs (scan.Evaluate).
func measureOffline(ctx context.Context, cfg *Config, res *Result, gopts gen.Options, eng *policy.Engine, date string) ([]string, error) {
	d, err := prepareOffline(ctx, cfg, res, gopts, eng, date)
	if err != nil {
		return nil, err
	}
	if d.opa != nil {
		defer d.opa.remove()
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cfg.logf("the dataset freed: %d records held as %.0f MB of BSON, %.0f MB of heap in use",
		res.Records, float64(d.size)/(1<<20), float64(ms.HeapAlloc)/(1<<20))

	var runOPA func() (int, error)
	if d.opa != nil {
		cfg.logf("choosing the opa CLI's faster input")
		if runOPA, err = opaRunner(ctx, cfg, res, d.opa); err != nil {
			return nil, err
		}
	} else {
		res.OPANote = cfg.OPANote
	}
	// (c) and (d) take turns, run by run, so that a change in the machine's speed during the
	// bench (a shared host) weighs on both alike.
	cfg.logf("evaluating in memory and running the opa CLI, %d runs each, in turns", cfg.Runs)
	var evalTimes, opaTimes []float64
	var offline []string
	for run := range cfg.Runs {
		start := time.Now()
		vs, err := evaluateRecords(ctx, eng, d.organs, date)
		if err != nil {
			return nil, err
		}
		evalTimes = append(evalTimes, time.Since(start).Seconds())
		if run == 0 {
			res.Violations = len(vs)
			offline = canonical(vs)
			if !slices.Equal(offline, d.want) {
				return nil, fmt.Errorf("the evaluation of the records as BSON found %d violations and the evaluation of the organs %d; they differ (%s)",
					len(offline), len(d.want), firstDifference(offline, d.want))
			}
		}
		vs = nil
		if runOPA != nil {
			start := time.Now()
			if res.OPAViolations, err = runOPA(); err != nil {
				return nil, err
			}
			opaTimes = append(opaTimes, time.Since(start).Seconds())
		}
	}
	res.EvalS, res.OPACLIS = medianOf(evalTimes), medianOf(opaTimes)

	// Growth with the size of one organ: the first organ alone, and ten organs made one.
	terms := policy.NewTerms()
	dec := store.NewDecoder(terms)
	small, err := d.one.input(dec, terms, date)
	if err != nil {
		return nil, err
	}
	large, err := d.big.input(dec, terms, date)
	if err != nil {
		return nil, err
	}
	t1, err := median(cfg.Runs, func() error { _, err := eng.EvaluateInput(ctx, small); return err })
	if err != nil {
		return nil, err
	}
	t10, err := median(cfg.Runs, func() error { _, err := eng.EvaluateInput(ctx, large); return err })
	if err != nil {
		return nil, err
	}
	res.Organ10x = ratio(t10, t1)
	return offline, nil
}

// firstDifference describes the first violation in one of two sorted lists and not the other.
func firstDifference(got, want []string) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			return "missing " + want[i]
		case i >= len(want):
			return "extra " + got[i]
		case got[i] < want[i]:
			return "extra " + got[i]
		case got[i] > want[i]:
			return "missing " + want[i]
		}
	}
	return "same"
}

// measureStore times reading, full scans and re-scans after a one-record change, and checks
// their violations.
func measureStore(ctx context.Context, cfg *Config, res *Result, st *store.Store, eng *policy.Engine, date string,
	talk map[string]any, offline []string) (bool, error) {
	var err error
	cfg.logf("reading every record")
	res.ReadS, err = median(cfg.Runs, func() error {
		n, err := st.ReadAll(ctx)
		if err == nil && n != res.Records {
			err = fmt.Errorf("read %d records, want %d", n, res.Records)
		}
		return err
	})
	if err != nil {
		return false, err
	}
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return eng },
		Log: discardLogger(), Timeout: 24 * time.Hour})
	same := true
	var full *duty.Scan
	cfg.logf("full scans")
	res.ScanS, err = median(cfg.Runs, func() error {
		full, err = svc.Start(ctx, scan.Request{AsOf: date, Full: true}, true)
		return err
	})
	if err != nil {
		return false, err
	}
	if !slices.Equal(canonical(full.Report.Violations), offline) {
		same = false
		cfg.logf("the full scan's violations differ from the evaluation in memory")
	}

	// One record of one organ changes: a talk is marked unrecorded, then recorded again, and so on.
	var writes []float64
	var re *duty.Scan
	cfg.logf("re-scans after a one-record change")
	res.RescanS, err = timed(cfg.Runs, func() (time.Duration, error) {
		t := maps.Clone(talk)
		t["recorded"] = len(writes)%2 == 1
		start := time.Now()
		if _, err := st.PutBatch(ctx, duty.System("bench"), "talks", []duty.RawDoc{{Value: t}}); err != nil {
			return 0, err
		}
		writes = append(writes, time.Since(start).Seconds())
		start = time.Now()
		re, err = svc.Start(ctx, scan.Request{AsOf: date}, true)
		return time.Since(start), err
	})
	if err != nil {
		return false, err
	}
	slices.Sort(writes)
	res.WriteS = writes[len(writes)/2]
	check, err := svc.Start(ctx, scan.Request{AsOf: date, Full: true}, true)
	if err != nil {
		return false, err
	}
	if !slices.Equal(canonical(re.Report.Violations), canonical(check.Report.Violations)) {
		same = false
		cfg.logf("the re-scan's violations differ from a full scan's")
	}
	return same, nil
}

// changeableTalk returns a talk of the middle organ, the record the re-scans change.
func changeableTalk(ds gen.Dataset, organs int) map[string]any {
	prefix := fmt.Sprintf("ORG-%d-", (organs+1)/2)
	for _, t := range ds["talks"] {
		if id, _ := t["id"].(string); strings.HasPrefix(id, prefix) {
			return maps.Clone(t)
		}
	}
	return maps.Clone(ds["talks"][0])
}

// median runs fn n times and returns the median of its durations in seconds.
func median(n int, fn func() error) (float64, error) {
	return timed(n, func() (time.Duration, error) {
		start := time.Now()
		err := fn()
		return time.Since(start), err
	})
}

// timed runs fn n times and returns the median of the durations it reports, in seconds.
func timed(n int, fn func() (time.Duration, error)) (float64, error) {
	ts := make([]float64, 0, n)
	for range n {
		d, err := fn()
		if err != nil {
			return 0, err
		}
		ts = append(ts, d.Seconds())
	}
	return medianOf(ts), nil
}

// medianOf returns the median of ts (the upper one of an even count), or 0 when there is none.
func medianOf(ts []float64) float64 {
	if len(ts) == 0 {
		return 0
	}
	ts = slices.Clone(ts)
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// canonical renders violations without first_seen, sorted, for comparison.
func canonical(vs []duty.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		v.FirstSeen = nil
		if v.Details == nil {
			v.Details = map[string]any{}
		}
		if v.Evidence == nil {
			v.Evidence = []duty.Ref{}
		}
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

// machine describes this machine.
func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), LoadStart: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGB = kb / (1 << 20)
		}
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// FindOPA looks for the opa binary on PATH and in GOPATH/bin; the error says how to install it.
func FindOPA(lookPath func(string) (string, error), gopath string) (string, error) {
	if p, err := lookPath("opa"); err == nil {
		return p, nil
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "opa")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("opa not found on PATH or in GOPATH/bin; install the version dutycheck uses with `go install github.com/open-policy-agent/opa@" + OPAVersion + "`")
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
