package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dutycheck/dutycheck/internal/bench"
	"github.com/dutycheck/dutycheck/internal/embeddb"
	"github.com/dutycheck/dutycheck/internal/store"
)

// benchConfig is what `dutycheck bench` needs.
type benchConfig struct {
	Sizes    []int
	Runs     int
	JSON     bool
	DataDir  string
	MongoURI string
	Seed     int64
	Year     int
	Rate     float64
	OPA      string
	OPAMode  string
	Offline  bool
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(strings.TrimLeft(a, "-"), "replicas") && strings.HasPrefix(a, "-")
	}) {
		return runBenchReplicas(ctx, args, stdout, stderr)
	}
	if i := slices.IndexFunc(args, func(a string) bool { return a == "--serve" || a == "-serve" }); i >= 0 {
		return runBenchServe(ctx, slices.Delete(slices.Clone(args), i, i+1), stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg benchConfig
	sizes := fs.String("organs", "10,100,1000", "comma-separated numbers of organs, each measured on its own")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs of each measure; the median is reported")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object per size instead of a table")
	fs.StringVar(&cfg.DataDir, "data", "", "folder of the embedded store (default: a temporary folder, removed)")
	fs.StringVar(&cfg.MongoURI, "mongo-uri", os.Getenv("MONGODB_URI"), "MongoDB URI (env MONGODB_URI); empty starts the embedded store")
	fs.Int64Var(&cfg.Seed, "seed", 1, "generator seed")
	fs.IntVar(&cfg.Year, "year", 2025, "generated year; scans run as of its last day")
	fs.Float64Var(&cfg.Rate, "rate", 0.05, "share of duty checks the generated organs fail")
	fs.StringVar(&cfg.OPA, "opa", "", "opa binary (default: opa on PATH or in GOPATH/bin)")
	fs.StringVar(&cfg.OPAMode, "opa-mode", "", "opa CLI input: files (one per organ), file (one for all), or empty to use the faster")
	fs.BoolVar(&cfg.Offline, "offline", false, "measure only the evaluation in memory and the opa CLI, without the store")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bench: --organs must list positive numbers, got %q", *sizes)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	if cfg.Runs < 1 {
		return fmt.Errorf("bench: --runs must be at least 1, got %d", cfg.Runs)
	}
	if cfg.OPAMode != "" && cfg.OPAMode != "files" && cfg.OPAMode != "file" {
		return fmt.Errorf("bench: --opa-mode must be files or file, got %q", cfg.OPAMode)
	}

	var results []*bench.Result
	if len(cfg.Sizes) == 1 {
		r, err := benchOne(ctx, cfg, cfg.Sizes[0], stderr)
		if err != nil {
			return err
		}
		results = append(results, r)
	} else {
		// Each size in a process of its own, so that its peak memory is its own.
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		for _, n := range cfg.Sizes {
			child := []string{"bench", "--json", "--organs", strconv.Itoa(n), "--runs", strconv.Itoa(cfg.Runs),
				"--seed", strconv.FormatInt(cfg.Seed, 10), "--year", strconv.Itoa(cfg.Year),
				"--rate", strconv.FormatFloat(cfg.Rate, 'g', -1, 64), "--mongo-uri", cfg.MongoURI}
			if cfg.DataDir != "" {
				child = append(child, "--data", cfg.DataDir)
			}
			if cfg.OPA != "" {
				child = append(child, "--opa", cfg.OPA)
			}
			if cfg.OPAMode != "" {
				child = append(child, "--opa-mode", cfg.OPAMode)
			}
			if cfg.Offline {
				child = append(child, "--offline")
			}
			cmd := exec.CommandContext(ctx, self, child...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("bench %d organs: %w", n, err)
			}
			var r bench.Result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				return fmt.Errorf("bench %d organs: %w", n, err)
			}
			results = append(results, &r)
		}
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	printBench(stdout, results)
	return nil
}

// benchOne measures one size in this process.
func benchOne(ctx context.Context, cfg benchConfig, organs int, stderr io.Writer) (*bench.Result, error) {
	bc := bench.Config{Organs: organs, Runs: cfg.Runs, Seed: cfg.Seed, Year: cfg.Year, Rate: cfg.Rate,
		OPA: cfg.OPA, OPAMode: cfg.OPAMode, Offline: cfg.Offline, Log: stderr}
	if bc.OPA == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			if home, err := os.UserHomeDir(); err == nil {
				gopath = filepath.Join(home, "go")
			}
		}
		p, err := bench.FindOPA(exec.LookPath, gopath)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err, "— measuring without it")
			bc.OPANote = err.Error()
		}
		bc.OPA = p
	}
	if cfg.Offline {
		return bench.Run(ctx, bc)
	}
	uri := cfg.MongoURI
	if uri == "" {
		dir := cfg.DataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "dutycheck-bench-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		db, err := embeddb.Start(ctx, embeddb.Config{Dir: filepath.Join(dir, "db")})
		if err != nil {
			return nil, err
		}
		defer db.Close()
		uri = db.URI()
	}
	exclusive := cfg.MongoURI == ""
	bc.Store = func(ctx context.Context, database string) (*store.Store, error) {
		return store.Open(ctx, store.Config{URI: uri, Database: database, Exclusive: exclusive})
	}
	return bench.Run(ctx, bc)
}

func printBench(w io.Writer, results []*bench.Result) {
	if len(results) == 0 {
		return
	}
	m := results[0].Machine
	fmt.Fprintf(w, "machine: %s, %d cores (GOMAXPROCS %d), %.0f GB, %s; load average %s at the start\n\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.MemoryGB, m.GoVersion, m.LoadStart)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "organs\trecords\tviolations\tread s\tscan s\teval s\topa CLI s\trescan s\tpeak MB\tscan MB\tscan/read\topa/eval\tscan/rescan\tscan ms/organ\tsame\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.3f\t%.0f\t%.0f\t%.2f\t%.1f\t%.0f\t%.1f\t%v\t\n",
			r.Organs, r.Records, r.Violations, r.ReadS, r.ScanS, r.EvalS, r.OPACLIS, r.RescanS,
			r.PeakRSSMB, r.ScanPeakRSSMB, r.ScanOverRead, r.OPAOverEval, r.ScanOverRescan,
			1000*r.ScanS/float64(r.Organs), r.Same)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "%d organs: load %.1f s, one-record write %.3f s, opa CLI mode %q (%d violations), a 10x organ costs %.1fx, load average %s at the end\n",
			r.Organs, r.LoadS, r.WriteS, r.OPAMode, r.OPAViolations, r.Organ10x, r.Machine.LoadEnd)
		if r.OPANote != "" {
			fmt.Fprintf(w, "  %s\n", r.OPANote)
		}
	}
}
