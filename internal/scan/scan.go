// Package scan runs a compliance scan from start to end: take an organisation's records, evaluate
// them organ by organ against the policy engine, keep the violations within the requested
// department's subtree, and build the report.
package scan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/pool"
)

// Options says what to scan.
type Options struct {
	// AsOf is the scan date YYYY-MM-DD; "" means today in the local time zone.
	AsOf string
	// Department limits the report to that department's subtree; "" means every organ.
	Department string
	// Engine evaluates the policies; nil means the built-in bundle.
	Engine *policy.Engine
	// Workers bounds how many organs are evaluated at once; 0 means GOMAXPROCS.
	Workers int
	// Readers bounds how many organs a scan of the store reads at once; 0 means 1, which on
	// a machine of few cores leaves them to the evaluation.
	Readers int
	// Progress, when set, is called after each organ with the organs done and the total.
	Progress func(done, total int)
}

// Normalize fills in defaults and checks the options: the as-of date and the engine.
func (o *Options) Normalize(ctx context.Context) error {
	if o.AsOf == "" {
		o.AsOf = time.Now().Format(time.DateOnly)
	}
	if err := duty.CheckDate("as_of", o.AsOf); err != nil {
		return err
	}
	if o.Engine == nil {
		e, err := policy.Compile(ctx, policy.Builtin())
		if err != nil {
			return fmt.Errorf("built-in policies: %w", err)
		}
		o.Engine = e
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Readers <= 0 {
		o.Readers = 1
	}
	return nil
}

// ScanDir loads the dataset folder dir (duty.LoadDir) and scans it.
func ScanDir(ctx context.Context, dir string, opts Options) (*duty.Report, error) {
	ds, err := duty.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return Dataset(ctx, ds, opts)
}

// Dataset scans a validated dataset held in memory.
func Dataset(ctx context.Context, ds *duty.Dataset, opts Options) (*duty.Report, error) {
	if err := opts.Normalize(ctx); err != nil {
		return nil, err
	}
	organs, tree := duty.Split(ds)
	organs, keep, err := Scope(tree, organs, opts.Department)
	if err != nil {
		return nil, err
	}
	f, err := EvaluateAll(ctx, opts, organs)
	if err != nil {
		return nil, err
	}
	rep := NewReport(opts, FilterScope(f.Violations, keep))
	SetWarnings(rep, FilterScopeWarnings(f.Warnings, keep))
	return rep, nil
}

// Scope picks the organs a scan of department needs and the set of departments whose violations
// it reports (nil for all). That is the department's organ, plus any organ with an appointment
// to a department of the subtree: an appointment is evaluated with its person's organ (where
// the person's talks are) but reported under its own department_id, which may lie in another
// organ. An unknown department is duty.ErrNotFound.
func Scope(tree *duty.Tree, organs []*duty.Organ, department string) ([]*duty.Organ, map[string]bool, error) {
	if department == "" {
		return organs, nil, nil
	}
	if tree.Department(department) == nil {
		return nil, nil, fmt.Errorf("department %q: %w", department, duty.ErrNotFound)
	}
	keep := tree.Subtree(department)
	organ := tree.Organ(department)
	var out []*duty.Organ
	for _, o := range organs {
		if o.ID == organ || slices.ContainsFunc(o.Docs["appointments"], func(a duty.Doc) bool { return keep[a.Str("department_id")] }) {
			out = append(out, o)
		}
	}
	return out, keep, nil
}

// FilterScope keeps the violations whose department is in keep (all when keep is nil).
func FilterScope(vs []duty.Violation, keep map[string]bool) []duty.Violation {
	return filterScope(vs, keep, func(v *duty.Violation) string { return v.Department })
}

// FilterScopeWarnings keeps the warnings whose department is in keep (all when keep is nil):
// a department scan reports warnings like violations.
func FilterScopeWarnings(ws []duty.Warning, keep map[string]bool) []duty.Warning {
	return filterScope(ws, keep, func(w *duty.Warning) string { return w.Department })
}

func filterScope[T any](xs []T, keep map[string]bool, department func(*T) string) []T {
	if keep == nil {
		return xs
	}
	out := xs[:0:0]
	for i := range xs {
		if keep[department(&xs[i])] {
			out = append(out, xs[i])
		}
	}
	return out
}

// Evaluate runs the engine over the organs on a pool of opts.Workers goroutines and returns all
// violations, sorted. It stops at the first error or when ctx is cancelled.
func Evaluate(ctx context.Context, opts Options, organs []*duty.Organ) ([]duty.Violation, error) {
	return EvaluateEach(ctx, opts.Workers, len(organs), func() func(context.Context, int) ([]duty.Violation, error) {
		return func(ctx context.Context, i int) ([]duty.Violation, error) {
			return opts.Engine.Evaluate(ctx, organs[i], opts.AsOf)
		}
	}, opts.Progress)
}

// EvaluateAll is Evaluate with the warnings: the organs' violations and warnings, each sorted.
func EvaluateAll(ctx context.Context, opts Options, organs []*duty.Organ) (policy.Findings, error) {
	ws := make([][]duty.Warning, len(organs)) // by organ; each written by the one worker of its organ
	vs, err := EvaluateEach(ctx, opts.Workers, len(organs), func() func(context.Context, int) ([]duty.Violation, error) {
		return func(ctx context.Context, i int) ([]duty.Violation, error) {
			f, err := opts.Engine.EvaluateAll(ctx, organs[i], opts.AsOf)
			ws[i] = f.Warnings
			return f.Violations, err
		}
	}, opts.Progress)
	if err != nil {
		return policy.Findings{}, err
	}
	return policy.Findings{Violations: vs, Warnings: concatWarnings(ws)}, nil
}

// concatWarnings joins warnings and sorts them (duty.SortWarnings); never nil.
func concatWarnings(ws [][]duty.Warning) []duty.Warning {
	all := []duty.Warning{}
	for _, w := range ws {
		all = append(all, w...)
	}
	duty.SortWarnings(all)
	return all
}

// SetWarnings puts warnings, sorted, in report r and counts them in its summary.
func SetWarnings(r *duty.Report, ws []duty.Warning) {
	if ws == nil {
		ws = []duty.Warning{}
	}
	duty.SortWarnings(ws)
	r.Warnings = ws
	r.Summary.Warnings = len(ws)
}

// EvaluateEach evaluates n organs, numbered 0 to n-1, on a pool of workers goroutines and
// returns all their violations, sorted. Each worker calls newWorker once for the function it
// evaluates its organs with, so that it can keep state of its own (a decoder, a term table).
// progress, if not nil, is called after each organ. It stops at the first error or when ctx is
// cancelled.
func EvaluateEach(ctx context.Context, workers, n int, newWorker func() func(ctx context.Context, i int) ([]duty.Violation, error),
	progress func(done, total int)) ([]duty.Violation, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := pool.NewFirstError(cancel)
	type result struct {
		i  int
		vs []duty.Violation
	}
	organs := make([]int, n)
	for i := range organs {
		organs[i] = i
	}
	results := make(chan result)
	wait := pool.Run(ctx, min(workers, max(n, 1)), pool.Feed(ctx, organs), results, func() func(context.Context, int) (result, error) {
		evaluate := newWorker()
		return func(ctx context.Context, i int) (result, error) {
			vs, err := evaluate(ctx, i)
			return result{i, vs}, err
		}
	}, errs.Fail)
	go func() { wait(); close(results) }()
	byOrgan := make([][]duty.Violation, n)
	done := 0
	for r := range results {
		byOrgan[r.i] = r.vs
		done++
		if progress != nil {
			progress(done, n)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []duty.Violation
	for _, vs := range byOrgan {
		all = append(all, vs...)
	}
	duty.SortViolations(all)
	return all, nil
}

// NewReport builds the report of a finished scan.
func NewReport(opts Options, vs []duty.Violation) *duty.Report {
	if vs == nil {
		vs = []duty.Violation{}
	}
	r := &duty.Report{
		ScanID:         NewID(),
		AsOf:           opts.AsOf,
		PolicyRevision: opts.Engine.Revision(),
		GeneratedAt:    time.Now().UTC().Format(time.RFC3339),
		Summary:        duty.Summarize(vs),
		Violations:     vs,
		Warnings:       []duty.Warning{},
	}
	if opts.Department != "" {
		d := opts.Department
		r.Department = &d
	}
	return r
}

// NewID returns a new scan id: sortable by time, unique by chance.
func NewID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405.000000") + "-" + hex.EncodeToString(b[:])
}
