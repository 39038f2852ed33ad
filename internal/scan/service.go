package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Service runs scans over the stored records and keeps their reports.
type Service struct {
	store   *store.Store
	engine  func() *policy.Engine
	log     *slog.Logger
	timeout time.Duration
	readers int
	slots   chan struct{} // one per running scan; nil for no bound

	base   context.Context // background scans run under it; cancelled by Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup

	cacheMu sync.Mutex
	cache   map[string]cached // scope → its last report, by organ

	beforeSave func(context.Context, *duty.Report) error
	afterScan  func(context.Context, *duty.Scan) error
}

// ServiceConfig wires a Service.
type ServiceConfig struct {
	Store *store.Store
	// Engine returns the policy engine in force; a scan takes it once at its start and finishes
	// on it even when another revision is activated meanwhile.
	Engine func() *policy.Engine
	Log    *slog.Logger
	// Timeout bounds one scan; 0 means 30 minutes.
	Timeout time.Duration
	// Readers bounds how many organs a scan reads from the store at once (Options.Readers).
	Readers int
	// MaxScans bounds the scans that run at once, waited for or in the background; Start
	// refuses one more with duty.ErrBusy (HTTP 429 with Retry-After) rather than queueing it, so
	// that a client learns at once and nothing piles up. 0 means DefaultMaxScans; negative, no
	// bound.
	MaxScans int
	// BeforeSave, when set, may change a finished report before it is stored (the ledger moves
	// the violations approved waivers cover to the report's waived list); the summary is then
	// counted again (Resummarize). Its error fails the scan: a report is never stored without it.
	BeforeSave func(ctx context.Context, rep *duty.Report) error
	// AfterScan, when set, is called with every scan stored as done (the ledger brings its cases
	// up to date). Its error is logged; the scan stays done.
	AfterScan func(ctx context.Context, sc *duty.Scan) error
}

// DefaultMaxScans is the number of scans that may run at once unless configured: a scan keeps
// one core busy, and the machine should still answer reads.
const DefaultMaxScans = 2

// NewService returns a scan service.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxScans == 0 {
		cfg.MaxScans = DefaultMaxScans
	}
	var slots chan struct{}
	if cfg.MaxScans > 0 {
		slots = make(chan struct{}, cfg.MaxScans)
	}
	base, cancel := context.WithCancel(context.Background())
	return &Service{store: cfg.Store, engine: cfg.Engine, log: cfg.Log, timeout: cfg.Timeout, readers: cfg.Readers, slots: slots, base: base, cancel: cancel,
		beforeSave: cfg.BeforeSave, afterScan: cfg.AfterScan}
}

// Request says what to scan.
type Request struct {
	Department string `json:"department"`
	AsOf       string `json:"as_of"`
	// Full evaluates every organ again instead of reusing the results of organs unchanged since
	// the previous scan of the scope (benchmarks and tests compare the two).
	Full bool `json:"-"`
}

// Start checks the request, stores a running scan and runs it: to the end before returning when
// wait is true (under ctx), else in the background (until done or Shutdown).
// At most ServiceConfig.MaxScans scans run at once; one more is refused with duty.ErrBusy.
func (s *Service) Start(ctx context.Context, req Request, wait bool) (*duty.Scan, error) {
	release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	sc, err := s.start(ctx, req, wait, release)
	if err != nil {
		release()
	}
	return sc, err
}

// start is Start holding a slot; it calls release when the scan ends.
func (s *Service) start(ctx context.Context, req Request, wait bool, release func()) (*duty.Scan, error) {
	opts := Options{AsOf: req.AsOf, Department: req.Department, Engine: s.engine(), Readers: s.readers}
	if err := opts.Normalize(ctx); err != nil {
		return nil, err
	}
	if req.Department != "" {
		if _, err := s.store.Get(ctx, "departments", req.Department); err != nil {
			return nil, err
		}
	}
	sc := &duty.Scan{ID: NewID(), Status: duty.ScanRunning, Department: req.Department, AsOf: opts.AsOf,
		PolicyRevision: opts.Engine.Revision(), StartedAt: time.Now().UTC().Format(duty.TimeFormat)}
	if err := s.store.CreateScan(ctx, sc); err != nil {
		return nil, err
	}
	if wait {
		defer release()
		s.wg.Add(1)
		defer s.wg.Done()
		runCtx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		return s.run(runCtx, sc, opts, req.Full)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer release()
		runCtx, cancel := context.WithTimeout(s.base, s.timeout)
		defer cancel()
		if _, err := s.run(runCtx, sc, opts, req.Full); err != nil {
			s.log.Warn("scan failed", "scan", sc.ID, "err", err)
		}
	}()
	return sc, nil
}

// acquire takes a scan slot, or answers duty.ErrBusy when every slot is taken. Release may be
// called more than once.
func (s *Service) acquire() (release func(), err error) {
	if s.slots == nil {
		return func() {}, nil
	}
	select {
	case s.slots <- struct{}{}:
		return sync.OnceFunc(func() { <-s.slots }), nil
	default:
		return nil, fmt.Errorf("%d scans are running, the most allowed at once; try again when one has finished: %w", cap(s.slots), duty.ErrBusy)
	}
}

func (s *Service) run(ctx context.Context, sc *duty.Scan, opts Options, full bool) (*duty.Scan, error) {
	started := time.Now()
	var lastSave time.Time
	var mu sync.Mutex
	opts.Progress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		sc.Progress = duty.Progress{Done: done, Total: total}
		if time.Since(lastSave) > 500*time.Millisecond || done == total {
			lastSave = time.Now()
			_ = s.store.UpdateProgress(ctx, sc.ID, sc.Progress)
		}
	}
	rep, results, keepHash, err := s.scanStore(ctx, sc, opts, full)
	if err != nil {
		reason := err.Error()
		if errors.Is(err, context.Canceled) {
			reason = "cancelled"
		} else if errors.Is(err, context.DeadlineExceeded) {
			reason = fmt.Sprintf("timed out after %s", s.timeout)
		}
		sc.Status, sc.Error = duty.ScanFailed, reason
		if ferr := s.store.FailScan(context.WithoutCancel(ctx), sc.ID, reason); ferr != nil {
			s.log.Error("record failed scan", "scan", sc.ID, "err", ferr)
		}
		return nil, fmt.Errorf("scan %s: %w", sc.ID, err)
	}
	if s.beforeSave != nil {
		if err := s.beforeSave(ctx, rep); err != nil {
			sc.Status, sc.Error = duty.ScanFailed, err.Error()
			_ = s.store.FailScan(context.WithoutCancel(ctx), sc.ID, err.Error())
			return nil, fmt.Errorf("scan %s: %w", sc.ID, err)
		}
		Resummarize(rep)
	}
	sc.Status, sc.Report, sc.Summary = duty.ScanDone, rep, &rep.Summary
	sc.FinishedAt = time.Now().UTC().Format(duty.TimeFormat)
	if err := s.store.FinishIndexedScan(ctx, sc, results, keepHash); err != nil {
		_ = s.store.FailScan(context.WithoutCancel(ctx), sc.ID, "could not save the report")
		return nil, err
	}
	if s.afterScan != nil {
		if err := s.afterScan(context.WithoutCancel(ctx), sc); err != nil {
			s.log.Error("after the scan", "scan", sc.ID, "err", err)
		}
	}
	s.log.Info("scan done", "scan", sc.ID, "department", sc.Department, "as_of", sc.AsOf,
		"violations", rep.Summary.Violations, "organs", sc.Progress.Total, "duration", time.Since(started))
	return sc, nil
}

// LoadScope reads the organs a scan of department needs from the store (every organ when
// department is ""), each collection once, and the set of departments whose violations it
// reports (nil for all).
func LoadScope(ctx context.Context, st *store.Store, department string) ([]*duty.Organ, map[string]bool, error) {
	var ids []string // nil: every organ
	if department != "" {
		depts, err := st.Departments(ctx)
		if err != nil {
			return nil, nil, err
		}
		tree := duty.NewTree(depts)
		if tree.Department(department) == nil {
			return nil, nil, fmt.Errorf("department %q: %w", department, duty.ErrNotFound)
		}
		if ids, err = st.OrgansWithAppointmentsIn(ctx, tree.Subtree(department)); err != nil {
			return nil, nil, err
		}
		ids = append(ids, tree.Organ(department))
	}
	organs, tree, err := st.LoadOrgans(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	return Scope(tree, organs, department)
}

// Compare fills first_seen on each violation of rep and rep.Resolved from prev, the previous
// report in rep's scope (nil when there is none; see store.PreviousScanMeta), its violations
// already limited to rep's scope. A first_seen after rep's as-of date is not inherited.
func Compare(rep *duty.Report, prev *duty.Scan) {
	before := map[string]duty.Violation{}
	if prev != nil && prev.Report != nil {
		for _, v := range prev.Report.Violations {
			before[v.Key()] = v
		}
	}
	now := map[string]bool{}
	rep.Summary.New, rep.Summary.Persisting = 0, 0
	for i := range rep.Violations {
		v := &rep.Violations[i]
		k := v.Key()
		now[k] = true
		if p, ok := before[k]; ok && p.FirstSeen != nil && p.FirstSeen.AsOf <= rep.AsOf {
			v.FirstSeen = p.FirstSeen
			rep.Summary.Persisting++
		} else {
			v.FirstSeen = &duty.Seen{AsOf: rep.AsOf, ScanID: rep.ScanID}
			rep.Summary.New++
		}
	}
	rep.Resolved = []duty.Violation{}
	if prev != nil && prev.Report != nil {
		for _, v := range prev.Report.Violations {
			if !now[v.Key()] {
				rep.Resolved = append(rep.Resolved, v)
			}
		}
	}
	rep.Summary.Resolved = len(rep.Resolved)
}

// Get returns a scan with its report when done.
func (s *Service) Get(ctx context.Context, id string) (*duty.Scan, error) {
	return s.store.GetScan(ctx, id)
}

// Latest returns the latest report covering department's subtree: among the done scans of the
// department itself, of an ancestor, or of the whole store, the one with the latest as-of date
// (of those, the last finished), limited to the subtree.
func (s *Service) Latest(ctx context.Context, department string) (*duty.Report, error) {
	depts, err := s.store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	tree := duty.NewTree(depts)
	if tree.Department(department) == nil {
		return nil, fmt.Errorf("department %q: %w", department, duty.ErrNotFound)
	}
	scopes := []string{""}
	for cur := department; cur != ""; cur = tree.Department(cur).Str("parent_id") {
		scopes = append(scopes, cur)
		if tree.Department(cur) == nil || len(scopes) > len(depts)+1 {
			break
		}
	}
	sc, err := s.store.LatestScan(ctx, scopes)
	if err != nil {
		return nil, err
	}
	rep := *sc.Report
	keep := tree.Subtree(department)
	rep.Violations = FilterScope(rep.Violations, keep)
	rep.Resolved = FilterScope(rep.Resolved, keep)
	if rep.Waived != nil {
		var ws []duty.Waived
		for _, w := range rep.Waived {
			if keep[w.Department] {
				ws = append(ws, w)
			}
		}
		rep.Waived = ws
	}
	if sc.Department != department {
		Resummarize(&rep)
	}
	d := department
	rep.Department = &d
	return &rep, nil
}

// Resummarize counts a report's summary again from its lists: the violations by policy,
// severity and department, new (first seen in this report's scan) and persisting, resolved,
// warnings and waived.
func Resummarize(rep *duty.Report) {
	sum := duty.Summarize(rep.Violations)
	sum.New, sum.Persisting = 0, 0
	for _, v := range rep.Violations {
		if v.FirstSeen != nil && v.FirstSeen.ScanID == rep.ScanID {
			sum.New++
		} else {
			sum.Persisting++
		}
	}
	sum.Resolved = len(rep.Resolved)
	sum.Warnings = len(rep.Warnings)
	sum.Waived = len(rep.Waived)
	rep.Summary = sum
}

// Shutdown waits for running scans to finish; when ctx ends first it cancels them (they are
// recorded as failed) and waits for them to stop.
func (s *Service) Shutdown(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
}
