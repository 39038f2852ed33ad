package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dutycheck/dutycheck/internal/bench"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/store"
)

// runBenchReplicas is `dutycheck bench --replicas N`: --organs generated organs loaded into a
// database of their own on the shared server (--mongo-uri or MONGODB_URI, dropped at the end),
// then serve processes of this binary on it (bench.Replicas).
func runBenchReplicas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench --replicas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	replicas := fs.Int("replicas", 3, "serve processes sharing the scans")
	organs := fs.Int("organs", 100, "generated organs")
	uri := fs.String("mongo-uri", os.Getenv("MONGODB_URI"), "the shared database server (env MONGODB_URI): FerretDB over PostgreSQL (scripts/pgferret) or MongoDB")
	seed := fs.Int64("seed", 1, "generator seed")
	year := fs.Int("year", 2025, "generated year; scans run as of days of its December")
	vrate := fs.Float64("violation-rate", 0.05, "share of duty checks the generated organs fail")
	changes := fs.Int("changes", 5, "policy changes whose propagation is timed")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("bench --replicas: unexpected argument %q", fs.Arg(0))
	case *replicas < 2 || *organs < 1 || *changes < 1:
		return fmt.Errorf("bench --replicas: --replicas must be at least 2, --organs and --changes at least 1")
	case *uri == "":
		return fmt.Errorf("bench --replicas: the replicas need a database server they share: give --mongo-uri or MONGODB_URI (scripts/pgferret start prints one)")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench --replicas: "+format+"\n", a...) }
	db := fmt.Sprintf("bench_replicas_%d", time.Now().UnixNano()%1e9)
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = store.DropDatabase(dctx, *uri, db)
	}()
	st, err := store.Open(ctx, store.Config{URI: *uri, Database: db})
	if err != nil {
		return err
	}
	ds := gen.Generate(gen.Options{Organs: *organs, Seed: *seed, Year: *year, ViolationRate: *vrate})
	logf("loading %d organs, %d records into database %s", *organs, ds.Count(), db)
	start := time.Now()
	_, err = st.PutMany(ctx, duty.System("bench"), duty.RawDocs(ds))
	_ = st.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	loadS := time.Since(start).Seconds()
	logf("loaded in %.1f s", loadS)

	token := randomToken()
	res, err := bench.Replicas(ctx, bench.ReplicasConfig{Replicas: *replicas, Token: token, Year: *year, Changes: *changes, Log: stderr,
		Start: func(ctx context.Context, pauseAt string) (bench.Replica, error) {
			return startReplica(ctx, exe, *uri, db, token, pauseAt)
		}})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Machine bench.Machine `json:"machine"`
			Organs  int           `json:"organs"`
			Records int           `json:"records"`
			LoadS   float64       `json:"load_s"`
			*bench.ReplicasResult
		}{bench.MachineInfo(), *organs, ds.Count(), loadS, res})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%d organs, %d records (loaded in %.1f s), %d replicas on %s\n\n", *organs, ds.Count(), loadS, *replicas, redactURI(*uri))
	fmt.Fprintln(tw, "measure\tseconds\tviolations")
	fmt.Fprintf(tw, "full scan, 1 replica\t%.1f\t%d\n", res.OneS, res.Violations[0])
	fmt.Fprintf(tw, "full scan, %d replicas\t%.1f (%+.0f%%)\t%d\n", *replicas, res.ManyS, 100*(res.ManyS/res.OneS-1), res.Violations[1])
	fmt.Fprintf(tw, "full scan, %d replicas, one killed holding a chunk\t%.1f\t%d\n", *replicas, res.KilledS, res.Violations[2])
	fmt.Fprintf(tw, "  of which after the kill (chunk lease %s)\t%.1f\t\n", store.DefaultChunkLeaseTTL, res.AfterKillS)
	fmt.Fprintf(tw, "full scan whose coordinator is killed: from the kill to its end (taken over)\t%.1f\t%d\n", res.CoordinatorKilledS, res.Violations[3])
	p := res.PropagationMs
	fmt.Fprintf(tw, "policy change served by the %d others: median, max\t%.3f, %.3f\t\n", *replicas-1, p[len(p)/2]/1000, p[len(p)-1]/1000)
	return tw.Flush()
}

// redactURI drops the user information of a MongoDB URI.
func redactURI(uri string) string {
	if i := strings.Index(uri, "@"); i >= 0 {
		if j := strings.Index(uri, "://"); j >= 0 && j < i {
			return uri[:j+3] + "…@" + uri[i+1:]
		}
	}
	return uri
}

// replicaProcess is a serve process started by the bench.
type replicaProcess struct {
	cmd    *exec.Cmd
	url    string
	paused chan struct{}
	once   sync.Once
	ended  chan struct{}
}

var (
	servingRe = regexp.MustCompile(`dutycheck serving.* addr=(http://\S+)`)
	pausedRe  = regexp.MustCompile(`paused at `)
)

// startReplica runs `exe serve` on database db of uri and waits until it serves.
func startReplica(ctx context.Context, exe, uri, db, token, pauseAt string) (*replicaProcess, error) {
	// At the info level: the bench reads the line saying where it serves.
	cmd := exec.Command(exe, "serve", "--mongo-uri", uri, "--mongo-db", db, "--addr", "127.0.0.1:0", "--log-level", "info")
	cmd.Env = append(os.Environ(), "DUTYCHECK_ADMIN_TOKEN="+token)
	if pauseAt != "" {
		cmd.Env = append(cmd.Env, "DUTYCHECK_PAUSE_AT="+pauseAt)
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &replicaProcess{cmd: cmd, paused: make(chan struct{}), ended: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		defer close(p.ended)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var tail []string
		for sc.Scan() {
			line := sc.Text()
			if m := servingRe.FindStringSubmatch(line); m != nil {
				ready <- m[1]
			}
			if pausedRe.MatchString(line) {
				p.once.Do(func() { close(p.paused) })
			}
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
		}
		if len(tail) > 0 && p.url == "" {
			ready <- "" // ended before serving
			fmt.Fprintln(os.Stderr, strings.Join(tail, "\n"))
		}
	}()
	select {
	case u := <-ready:
		if u == "" {
			_ = cmd.Wait()
			return nil, fmt.Errorf("a replica ended before serving (%v)", cmd.ProcessState)
		}
		p.url = u
		return p, nil
	case <-time.After(2 * time.Minute):
		p.Kill()
		return nil, fmt.Errorf("a replica did not serve within 2 minutes")
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
}

func (p *replicaProcess) URL() string             { return p.url }
func (p *replicaProcess) Paused() <-chan struct{} { return p.paused }

// Kill ends the process with SIGKILL.
func (p *replicaProcess) Kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

// Stop asks the process to end (SIGTERM) and waits for it.
func (p *replicaProcess) Stop() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
}
