package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/pool"
)

// OPAVersion is the version of OPA dutycheck is built with, the one to compare with.
var OPAVersion = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/open-policy-agent/opa" {
				return d.Version
			}
		}
	}
	return "v1.22.2"
}()

// opaInputs are the files the opa CLI runs over: the bundle, one input file per organ, and
// all.json holding every organ. They are written before the measure, from the organs.
type opaInputs struct {
	dir, bundle string
	files       []string
	object      string // the query's object of every duty's violation set
}

// remove deletes the files.
func (in *opaInputs) remove() { os.RemoveAll(in.dir) }

// writeOPAInputs writes the bundle and the inputs of organs as of date: exactly the engine's
// (records dated after the as-of date left out).
func writeOPAInputs(eng *policy.Engine, organs []*duty.Organ, date string) (_ *opaInputs, err error) {
	dir, err := os.MkdirTemp("", "dutycheck-bench-opa-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	bundle := filepath.Join(dir, "bundle")
	for name, text := range eng.Bundle().Files {
		if policy.IsTest(name) {
			continue
		}
		p := filepath.Join(bundle, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	var sets []string
	for _, m := range eng.Policies() {
		sets = append(sets, fmt.Sprintf("%q: data.%s.violation", m.ID, m.Package))
	}
	object := "{" + strings.Join(sets, ", ") + "}"

	files := make([]string, len(organs))
	all, err := os.Create(filepath.Join(dir, "all.json"))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(all, 1<<20)
	w.WriteString(`{"organs": [`)
	for i, o := range organs {
		b, err := json.Marshal(inputJSON(o, date))
		if err != nil {
			return nil, err
		}
		files[i] = filepath.Join(dir, fmt.Sprintf("organ-%d.json", i))
		if err := os.WriteFile(files[i], b, 0o644); err != nil {
			return nil, err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.Write(b)
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := all.Close(); err != nil {
		return nil, err
	}
	return &opaInputs{dir: dir, bundle: bundle, files: files, object: object}, nil
}

// opaRunner returns a run of the same bundle over the same records by the opa CLI: `opa eval`
// of every duty's violation set, over one input file per organ (GOMAXPROCS processes at a
// time) or over one file holding every organ (one process, each organ evaluated `with input
// as` it). With no mode configured it tries each once and returns the faster; the mode is
// recorded in res. A run returns the number of violations the CLI found.
func opaRunner(ctx context.Context, cfg *Config, res *Result, in *opaInputs) (func() (int, error), error) {
	perFile := func() (int, error) { return opaFiles(ctx, cfg.OPA, in.bundle, in.files, "x := "+in.object) }
	oneFile := func() (int, error) {
		return opaEval(ctx, cfg.OPA, in.bundle, filepath.Join(in.dir, "all.json"),
			"x := [v | some o in input.organs; v := "+in.object+" with input as o]")
	}
	modes := map[string]func() (int, error){"files": perFile, "file": oneFile}
	mode := cfg.OPAMode
	if mode == "" {
		best := time.Duration(-1)
		for _, m := range []string{"files", "file"} {
			start := time.Now()
			if _, err := modes[m](); err != nil {
				return nil, fmt.Errorf("opa CLI (%s): %w", m, err)
			}
			if d := time.Since(start); best < 0 || d < best {
				best, mode = d, m
			}
		}
	}
	run, ok := modes[mode]
	if !ok {
		return nil, fmt.Errorf("opa mode %q: want files or file", mode)
	}
	res.OPAMode = mode
	return func() (int, error) {
		n, err := run()
		if err != nil {
			return 0, fmt.Errorf("opa CLI (%s): %w", mode, err)
		}
		return n, nil
	}, nil
}

// inputJSON is the policy input of an organ as JSON-ready values.
func inputJSON(o *duty.Organ, date string) map[string]any {
	view := o.AsOf(date)
	in := map[string]any{"as_of": date, "organ": o.ID}
	for _, c := range duty.Collections {
		docs := view.Docs[c.Name]
		if docs == nil {
			docs = []duty.Doc{}
		}
		in[c.Name] = docs
	}
	return in
}

// opaFiles evaluates query over each input file, GOMAXPROCS processes at a time, and returns the
// number of violations; the first failure stops the other processes.
func opaFiles(ctx context.Context, opa, bundle string, files []string, query string) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := pool.NewFirstError(cancel)
	counts := make(chan int)
	wait := pool.Run(ctx, runtime.GOMAXPROCS(0), pool.Feed(ctx, files), counts, func() func(context.Context, string) (int, error) {
		return func(ctx context.Context, f string) (int, error) { return opaEval(ctx, opa, bundle, f, query) }
	}, errs.Fail)
	go func() { wait(); close(counts) }()
	total := 0
	for n := range counts {
		total += n
	}
	if err := errs.Err(); err != nil {
		return total, err
	}
	return total, ctx.Err()
}

// opaEval runs one `opa eval` and counts the violations in its result: x is an object of sets,
// or an array of such objects.
func opaEval(ctx context.Context, opa, bundle, input, query string) (int, error) {
	cmd := exec.CommandContext(ctx, opa, "eval", "--format", "json", "-d", bundle, "-i", input, query)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r struct {
		Result []struct {
			Bindings struct {
				X json.RawMessage `json:"x"`
			} `json:"bindings"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Result) != 1 {
		return 0, fmt.Errorf("opa eval printed no result: %.200s", out)
	}
	var objs []map[string][]json.RawMessage
	if err := json.Unmarshal(r.Result[0].Bindings.X, &objs); err != nil {
		var one map[string][]json.RawMessage
		if err := json.Unmarshal(r.Result[0].Bindings.X, &one); err != nil {
			return 0, fmt.Errorf("opa eval result: %w", err)
		}
		objs = append(objs, one)
	}
	n := 0
	for _, o := range objs {
		for _, set := range o {
			n += len(set)
		}
	}
	return n, nil
}
