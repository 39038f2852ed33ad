package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dutycheck/dutycheck/internal/bench"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// benchServeResult is what `dutycheck bench --serve` prints with --json.
type benchServeResult struct {
	Organs      int     `json:"organs"`
	Records     int     `json:"records"` // counted when loaded, else estimated from a sample
	Departments int     `json:"departments"`
	Violations  int     `json:"violations"`
	LoadS       float64 `json:"load_s,omitempty"` // 0 when the folder was loaded before
	FirstScanS  float64 `json:"first_scan_s,omitempty"`
	Rate        float64 `json:"rate"`
	// OpenS is the first open of the store: with a store of an earlier layout, its move to
	// the current one.
	OpenS float64 `json:"open_s"`
	// Collections counts the collections of the store's database and its shards;
	// MainCollections those of the store's database alone.
	Collections     int `json:"collections"`
	MainCollections int `json:"main_collections"`
	// PeakRSSMB is the peak resident set of the process (service and load generator) during
	// the loaded phases; OpenFiles the most file descriptors it held at a phase's start.
	PeakRSSMB float64            `json:"peak_rss_mb"`
	OpenFiles int                `json:"open_files"`
	Machine   bench.Machine      `json:"machine"`
	Load      *bench.ServeResult `json:"load"`
}

// runBenchServe is `dutycheck bench --serve`: a store of --organs generated organs on the
// embedded store (built once in --data, reused by later runs on the same folder), one scan,
// the service on loopback, and an open-loop load (bench.Serve).
func runBenchServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench --serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	organs := fs.Int("organs", 1000, "generated organs")
	rate := fs.Float64("rate", 100, "requests per second of the load (open loop)")
	duration := fs.Duration("duration", 30*time.Second, "length of each loaded phase")
	overviews := fs.Int("overviews", 20, "times the overview page is fetched")
	dataDir := fs.String("data", "", "folder of the embedded store, kept and reused by later runs (default: a temporary folder, removed)")
	seed := fs.Int64("seed", 1, "generator seed")
	year := fs.Int("year", 2025, "generated year; scans run as of its last day")
	vrate := fs.Float64("violation-rate", 0.05, "share of duty checks the generated organs fail")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the loaded phases (service and load together) to this file")
	noScan := fs.Bool("no-scan", false, "leave out the phase during a full scan")
	prepare := fs.Bool("prepare", false, "only build the store in --data (load and first scan), without the load phases")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 || *organs < 1 || *rate <= 0 || *duration <= 0 {
		return fmt.Errorf("bench --serve: --organs, --rate and --duration must be positive")
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "dutycheck-bench-serve-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	log := newLogger(stderr, slog.LevelWarn)
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench --serve: "+format+"\n", a...) }
	res := &benchServeResult{Organs: *organs, Rate: *rate}
	res.Machine = bench.MachineInfo()
	sc := storeConfig{DataDir: dir, Database: "dutycheck", LogLevel: slog.LevelWarn}
	asOf := fmt.Sprintf("%04d-12-31", *year)

	// The store: loaded once per folder.
	opening := time.Now()
	st, closeStore, err := openStore(ctx, sc, log)
	if err != nil {
		return err
	}
	res.OpenS = time.Since(opening).Seconds()
	logf("store opened in %.1f s", res.OpenS)
	versions, err := st.OrganVersions(ctx)
	if err != nil {
		closeStore()
		return err
	}
	loaded := 0
	switch {
	case len(versions) == 0:
		logf("generating %d organs", *organs)
		ds := gen.Generate(gen.Options{Organs: *organs, Seed: *seed, Year: *year, ViolationRate: *vrate})
		logf("loading %d records", ds.Count())
		loaded = ds.Count()
		start := time.Now()
		if _, err := st.PutMany(ctx, duty.System("bench"), duty.RawDocs(ds)); err != nil {
			closeStore()
			return fmt.Errorf("load: %w", err)
		}
		res.LoadS = time.Since(start).Seconds()
		logf("loaded in %.1f s", res.LoadS)
	case len(versions) != *organs:
		closeStore()
		return fmt.Errorf("bench --serve: %s holds %d organs, not %d: use another --data folder", dir, len(versions), *organs)
	}
	depts, err := st.Departments(ctx)
	if err != nil {
		closeStore()
		return err
	}
	res.Departments = len(depts)
	var deptIDs []string
	for _, d := range depts {
		deptIDs = append(deptIDs, d.ID())
	}
	slices.Sort(deptIDs)
	records, count, err := sampleRecords(ctx, st)
	if err != nil {
		closeStore()
		return err
	}
	res.Records = count
	if loaded > 0 {
		res.Records = loaded
	}
	used := map[string]bool{}
	scans, err := st.ListScans(ctx, 100)
	if err != nil {
		closeStore()
		return err
	}
	scanned := false
	for _, s := range scans {
		if s.Status == duty.ScanDone {
			used[s.AsOf] = true
			scanned = scanned || s.AsOf == asOf && s.Department == ""
		}
	}
	if !scanned {
		e, err := policy.Compile(ctx, policy.Builtin())
		if err != nil {
			closeStore()
			return err
		}
		logf("the first scan as of %s", asOf)
		svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: log})
		start := time.Now()
		if _, err := svc.Start(ctx, scan.Request{AsOf: asOf}, true); err != nil {
			closeStore()
			return err
		}
		res.FirstScanS = time.Since(start).Seconds()
		logf("scanned in %.1f s", res.FirstScanS)
	}
	if rep, err := st.LatestScan(ctx, []string{""}); err == nil {
		res.Violations = rep.Report.Summary.Violations
	}
	// A date without a report, for a scan that reuses nothing.
	during := ""
	for d := 30; d >= 1; d-- {
		if day := fmt.Sprintf("%04d-12-%02d", *year, d); !used[day] {
			during = day
			break
		}
	}
	if during == "" {
		closeStore()
		return errors.New("bench --serve: every day of December was scanned in this folder; use another --data folder")
	}
	closeStore()
	if *prepare {
		logf("prepared %s: %d organs, %d departments, %d violations", dir, res.Organs, res.Departments, res.Violations)
		return nil
	}

	// The service, on loopback.
	token := "dct-bench-" + randomToken()
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(serveCtx, serveConfig{Addr: "127.0.0.1:0", Store: sc, AdminToken: token, MaxScans: scan.DefaultMaxScans,
			Sandbox:   policy.Limits{Memory: policy.DefaultMemory, Timeout: policy.DefaultTimeout},
			Retention: store.Retention{KeepScans: store.DefaultKeepScans, KeepDays: store.DefaultKeepDays}}, log, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		return fmt.Errorf("bench --serve: the service stopped: %w", err)
	}
	// The CPU profile covers the phases without a scan (the scan's evaluation would drown the
	// reads): the service and the load generator together.
	var profileFile *os.File
	profile := func(name string) {
		if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
			res.OpenFiles = max(res.OpenFiles, len(fds))
		}
		if *cpuProfile == "" {
			return
		}
		switch {
		case name == "idle" && profileFile == nil:
			f, err := os.Create(*cpuProfile)
			if err != nil {
				logf("cpu profile: %v", err)
				return
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				logf("cpu profile: %v", err)
				f.Close()
				return
			}
			profileFile = f
		case name != "idle" && name != "overview" && profileFile != nil:
			pprof.StopCPUProfile()
			profileFile.Close()
			profileFile = nil
		}
	}
	bench.ResetPeakRSS()
	res.Load, err = bench.Serve(ctx, bench.ServeConfig{Addr: "http://" + addr, Token: token, Rate: *rate, Duration: *duration,
		Overviews: *overviews, Departments: deptIDs, Records: records, ScanAsOf: during, Seed: uint64(*seed), Log: stderr, Phase: profile, NoScan: *noScan})
	res.PeakRSSMB = bench.PeakRSSMB()
	stop()
	if serr := <-served; serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	if st, closeStore, err := openStore(ctx, sc, log); err == nil {
		names, _ := st.Collections(ctx)
		res.Collections = len(names)
		for _, n := range names {
			if !strings.Contains(n, "/") {
				res.MainCollections++
			}
		}
		closeStore()
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	m := res.Machine
	fmt.Fprintf(stdout, "machine: %s, %d cores (GOMAXPROCS %d), %.0f GB, %s; load average %s at the start\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.MemoryGB, m.GoVersion, m.LoadStart)
	fmt.Fprintf(stdout, "%d organs, %d departments, %d records, %d violations; %d collections (%d in the store's database, the rest in its shards); open %.1f s, load %.1f s, first scan %.1f s, full scan under load %.1f s; %.0f requests/s\n",
		res.Organs, res.Departments, res.Records, res.Violations, res.Collections, res.MainCollections, res.OpenS, res.LoadS, res.FirstScanS, res.Load.ScanS, res.Rate)
	fmt.Fprintf(stdout, "peak resident set during the load %.0f MB; at most %d open files\n\n", res.PeakRSSMB, res.OpenFiles)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tkind\trequests\terrors\tp50 ms\tp95 ms\tp99 ms\tmax ms\tanswers/s")
	for _, l := range res.Load.Latencies {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n", l.Phase, l.Kind, l.Requests, l.Errors, l.P50ms, l.P95ms, l.P99ms, l.MaxMs, l.PerSecond)
	}
	return tw.Flush()
}

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sampleRecords returns records to GET, of every collection but departments, from the first
// twenty organs (a record GET costs the same whichever organ it is in), and the count of
// records of the store.
func sampleRecords(ctx context.Context, st *store.Store) ([]bench.Ref, int, error) {
	versions, err := st.OrganVersions(ctx)
	if err != nil {
		return nil, 0, err
	}
	ids := make([]string, 0, len(versions))
	for id := range versions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// Each organ's table, not LoadOrgans: on the embedded store that reads every collection
	// whole (minutes at 1,000 organs).
	var colls []string
	for _, c := range duty.Collections {
		colls = append(colls, c.Name)
	}
	var organs []*duty.Organ
	for _, id := range ids[:min(20, len(ids))] {
		docs, err := st.OrganRecords(ctx, id, colls...)
		if err != nil {
			return nil, 0, err
		}
		organs = append(organs, &duty.Organ{ID: id, Docs: docs})
	}
	var out []bench.Ref
	for _, o := range organs {
		for c, docs := range o.Docs {
			if c == "departments" {
				continue
			}
			for _, d := range docs {
				out = append(out, bench.Ref{Collection: c, ID: d.ID()})
			}
		}
	}
	slices.SortFunc(out, func(a, b bench.Ref) int {
		if a.Collection != b.Collection {
			if a.Collection < b.Collection {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		} else if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, countRecords(organs, len(ids)), nil
}

// countRecords estimates the store's records from the sampled organs (the generated organs are
// alike): the sample's records times organs over sampled organs.
func countRecords(organs []*duty.Organ, total int) int {
	n := 0
	for _, o := range organs {
		for _, docs := range o.Docs {
			n += len(docs)
		}
	}
	if len(organs) == 0 {
		return 0
	}
	return n * total / len(organs)
}
