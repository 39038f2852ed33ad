package sheet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Store is what an import needs of the store: the names references may give, and the one
// validated write of batches (store.PutMany, the path of PUT /collections: access by scope and
// effect, references, the department tree, the audit trail; nothing written when anything is
// wrong).
type Store interface {
	Names
	PutMany(ctx context.Context, actor duty.Principal, batches map[string][]duty.RawDoc) (int, error)
}

// The states of an import job.
const (
	Running   = "running"
	Done      = "done"
	Refused   = "refused"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// The phases of a running import.
const (
	PhaseReading = "reading"
	PhaseWriting = "writing"
)

// Job is an import as its user sees it.
type Job struct {
	ID         string `json:"id"`
	User       string `json:"user"`
	File       string `json:"file"`
	Collection string `json:"collection,omitempty"`
	Status     string `json:"status"`
	// Phase is the step a running import is at: reading the rows, or validating and writing them.
	Phase string `json:"phase,omitempty"`
	// Rows is the data rows read so far; Total the rows the sheets declare (an estimate until
	// the reading is done).
	Rows    int `json:"rows"`
	Total   int `json:"total"`
	Written int `json:"written"`
	// Problems are the reasons of a refused import (the first MaxProblems), by sheet, row, column.
	Problems      []Problem `json:"problems,omitempty"`
	ProblemsTotal int       `json:"problems_total,omitempty"`
	// Marked says that a copy of the workbook with the bad cells marked can be downloaded.
	Marked     bool   `json:"marked"`
	Error      string `json:"error,omitempty"`
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at,omitempty"`
}

// CompletedLater is the error of a failed import whose write had begun: the store completes it
// from its journal at its next start, so, unlike other failures, its records will all be
// written.
const CompletedLater = "the store failed while the records were being written; it completes the write when it starts next: the records will all be written"

// MaxProblems bounds the problems a job lists and marks.
const MaxProblems = 1000

// JobsConfig bounds the import jobs.
type JobsConfig struct {
	// MaxRunning is how many imports may run at once; one more is refused with duty.ErrBusy.
	// 0 means 2.
	MaxRunning int
	// Keep is how many finished jobs are kept (the oldest go first); 0 means 50.
	Keep int
	// KeepMarked bounds the bytes of the marked workbooks kept, the newest first; an older
	// refused job loses its marked copy (its problems stay). 0 means 128 MiB.
	KeepMarked int
	// Timeout bounds one import; 0 means 30 minutes.
	Timeout time.Duration
	Limits  Limits
	Log     *slog.Logger
}

// Jobs runs imports in the background, one goroutine each, and keeps their state in memory:
// an import is started, watched and cancelled by the process that received it.
type Jobs struct {
	cfg   JobsConfig
	store Store
	mu    sync.Mutex
	jobs  map[string]*job
	order []string
}

type job struct {
	Job
	actor  duty.Principal
	cancel context.CancelFunc
	marked []byte
	done   chan struct{}
}

// NewJobs returns the registry of imports writing to st.
func NewJobs(cfg JobsConfig, st Store) *Jobs {
	if cfg.MaxRunning == 0 {
		cfg.MaxRunning = 2
	}
	if cfg.Keep == 0 {
		cfg.Keep = 50
	}
	if cfg.KeepMarked == 0 {
		cfg.KeepMarked = 128 << 20
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Jobs{cfg: cfg, store: st, jobs: map[string]*job{}}
}

// Start begins an import of in by actor and returns its job at once.
func (js *Jobs) Start(actor duty.Principal, in Input) (Job, error) {
	if in.Collection != "" && duty.Lookup(in.Collection) == nil {
		return Job{}, fmt.Errorf("collection %q: %w", in.Collection, duty.ErrNotFound)
	}
	js.mu.Lock()
	running := 0
	for _, j := range js.jobs {
		if j.Status == Running {
			running++
		}
	}
	if running >= js.cfg.MaxRunning {
		js.mu.Unlock()
		return Job{}, fmt.Errorf("%d imports are running; try again later: %w", running, duty.ErrBusy)
	}
	ctx, cancel := context.WithTimeout(context.Background(), js.cfg.Timeout)
	j := &job{Job: Job{ID: newID(), User: actor.User, File: in.Name, Collection: in.Collection, Status: Running,
		Phase: PhaseReading, StartedAt: time.Now().UTC().Format(time.RFC3339)}, actor: actor, cancel: cancel, done: make(chan struct{})}
	js.jobs[j.ID] = j
	js.order = append(js.order, j.ID)
	js.trim()
	snapshot := j.Job
	js.mu.Unlock()
	go js.run(ctx, j, in)
	return snapshot, nil
}

// trim forgets the oldest finished jobs beyond Keep, and the marked copies beyond KeepMarked
// bytes. js.mu is held.
func (js *Jobs) trim() {
	kept := 0
	for i := len(js.order) - 1; i >= 0; i-- {
		j := js.jobs[js.order[i]]
		if kept += len(j.marked); kept > js.cfg.KeepMarked {
			kept -= len(j.marked)
			j.marked, j.Marked = nil, false
		}
	}
	for len(js.order) > js.cfg.Keep {
		dropped := false
		for i, id := range js.order {
			if js.jobs[id].Status != Running {
				delete(js.jobs, id)
				js.order = append(js.order[:i], js.order[i+1:]...)
				dropped = true
				break
			}
		}
		if !dropped {
			return
		}
	}
}

func (js *Jobs) run(ctx context.Context, j *job, in Input) {
	defer close(j.done)
	defer j.cancel()
	res, err := Import(ctx, in, j.actor, js.store, js.cfg.Limits, func(p Progress) {
		js.mu.Lock()
		j.Phase, j.Rows, j.Total = p.Phase, p.Rows, p.Total
		js.mu.Unlock()
	})
	var marked []byte
	var refused *RefusedError
	if errors.As(err, &refused) && len(in.Data) > 0 {
		if m, merr := Mark(in.Data, refused.Problems); merr == nil {
			marked = m
		} else if !errors.Is(merr, errNotWorkbook) {
			js.cfg.Log.Warn("mark the refused workbook", "import", j.ID, "err", merr)
		}
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	j.Phase = ""
	j.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	if res != nil {
		j.Rows, j.Written = res.Rows, res.Written
		if j.Total < j.Rows {
			j.Total = j.Rows
		}
	}
	switch {
	case err == nil:
		j.Status = Done
	case errors.Is(err, duty.ErrCompletedAnyway):
		// The store failed half-way through the write and completed it from its journal: every
		// record is written. Saying "failed, nothing written" would have it imported twice.
		j.Status = Done
		j.Written = j.Rows
		js.cfg.Log.Warn("import: the store failed during the write, which it completed", "import", j.ID, "err", err)
	case errors.Is(err, duty.ErrCompletedLater):
		j.Status = Failed
		j.Error = CompletedLater
		js.cfg.Log.Error("import failed during the write", "import", j.ID, "err", err)
	case refused != nil:
		j.Status = Refused
		j.ProblemsTotal = len(refused.Problems)
		j.Problems = refused.Problems[:min(len(refused.Problems), MaxProblems)]
		j.marked, j.Marked = marked, marked != nil
		js.trim()
	case errors.Is(err, context.Canceled):
		j.Status = Cancelled
		j.Error = word("p.cancelled", "en")
	default:
		j.Status = Failed
		if errors.Is(err, context.DeadlineExceeded) {
			j.Error = "the import took longer than " + js.cfg.Timeout.String() + "; nothing was written"
		} else {
			j.Error = "the import failed; nothing was written"
			js.cfg.Log.Error("import failed", "import", j.ID, "err", err)
		}
	}
}

// Shutdown cancels the running imports and waits for them to end, or for ctx.
func (js *Jobs) Shutdown(ctx context.Context) {
	js.mu.Lock()
	var running []*job
	for _, j := range js.jobs {
		if j.Status == Running {
			running = append(running, j)
		}
	}
	js.mu.Unlock()
	for _, j := range running {
		j.cancel()
		select {
		case <-j.done:
		case <-ctx.Done():
			return
		}
	}
}

// Get returns a job of the actor (an admin sees every job); another user's is not found.
func (js *Jobs) Get(actor duty.Principal, id string) (Job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, err := js.mine(actor, id)
	if err != nil {
		return Job{}, err
	}
	return j.Job, nil
}

func (js *Jobs) mine(actor duty.Principal, id string) (*job, error) {
	j, ok := js.jobs[id]
	if !ok || (j.User != actor.User && actor.Role != duty.RoleAdmin) {
		return nil, fmt.Errorf("import %q: %w", id, duty.ErrNotFound)
	}
	return j, nil
}

// Cancel stops a running import of the actor: it ends as cancelled with nothing written,
// unless its records were already being written (the write, journaled, completes). A finished
// import is left as it is.
func (js *Jobs) Cancel(actor duty.Principal, id string) (Job, error) {
	js.mu.Lock()
	j, err := js.mine(actor, id)
	js.mu.Unlock()
	if err != nil {
		return Job{}, err
	}
	j.cancel()
	<-j.done
	return js.Get(actor, id)
}

// Wait blocks until the job has finished or ctx is done, and returns it.
func (js *Jobs) Wait(ctx context.Context, actor duty.Principal, id string) (Job, error) {
	js.mu.Lock()
	j, err := js.mine(actor, id)
	js.mu.Unlock()
	if err != nil {
		return Job{}, err
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return Job{}, ctx.Err()
	}
	return js.Get(actor, id)
}

// Marked returns the copy of a refused workbook with its bad cells marked.
func (js *Jobs) Marked(actor duty.Principal, id string) ([]byte, Job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, err := js.mine(actor, id)
	if err != nil {
		return nil, Job{}, err
	}
	if j.marked == nil {
		return nil, Job{}, fmt.Errorf("import %q has no marked workbook: %w", id, duty.ErrNotFound)
	}
	return j.marked, j.Job, nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "imp-" + hex.EncodeToString(b)
}

// Progress is where a running import is.
type Progress struct {
	Phase       string
	Rows, Total int
}

// Result is a finished import.
type Result struct {
	Rows    int
	Written int
}

// Import reads a workbook and writes its records as one batch through st.PutMany; nothing is
// written unless every row is right. A refused import returns a *RefusedError with its
// problems by sheet, row and column. It stops with ctx's error when ctx is done before the
// store has begun writing.
func Import(ctx context.Context, in Input, actor duty.Principal, st Store, limits Limits, progress func(Progress)) (*Result, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	p, err := Read(ctx, in, actor, st, limits, func(done, total int) { progress(Progress{PhaseReading, done, total}) })
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: p.Rows}
	if len(p.Problems) > 0 {
		return res, &RefusedError{Problems: p.Problems}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	progress(Progress{PhaseWriting, p.Rows, p.Rows})
	n, err := st.PutMany(ctx, actor, p.Batches)
	if probs := p.r.asRefused(err); probs != nil {
		order := map[string]int{}
		for _, s := range p.r.sheets {
			order[s.name] = s.order
		}
		sortProblems(probs, order)
		return res, &RefusedError{Problems: probs}
	}
	res.Written = n
	return res, err
}
