package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/priority"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Service runs scans over the stored records and keeps their reports.
type Service struct {
	store   *store.Store
	engine  func() *policy.Engine
	log     *slog.Logger
	timeout time.Duration
	readers int
	reads   *priority.Reads
	slots   chan struct{} // one per running scan; nil for no bound
	after   []func(ctx context.Context, sc *duty.Scan, rep *duty.Report)

	base   context.Context // background scans run under it; cancelled by Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup

	observe func(sc *duty.Scan, d time.Duration)

	cacheMu sync.Mutex
	cache   map[string]cached // scope → its last report, by organ
	warned  []warnedScan      // the latest scans' warnings by organ, newest last

	retention store.Retention
	now       func() time.Time
	// reports is held for reading by every running scan and for writing by the retention,
	// which must not delete the findings a scan is writing or reusing.
	reports sync.RWMutex
	// kick tells Housekeep that a scan ended (its retention may now apply); collect that one
	// failed (what it wrote is garbage).
	kick    chan struct{}
	collect atomic.Bool
	// beforeSave may change a finished report before it is stored (ServiceConfig.BeforeSave).
	beforeSave func(context.Context, *duty.Report) error
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
	// Observe, when set, is told of every scan that ends, done or failed, and how long it took
	// (the metrics).
	Observe func(sc *duty.Scan, d time.Duration)
	// AfterScan are called, in order, after each scan is stored as done, with the scan and its
	// report (warnings included). They run on the scan's goroutine, so they must return at
	// once (hand the work to a queue of their own) and must not change the scan or the report;
	// ctx ends with the scan's request.
	AfterScan []func(ctx context.Context, sc *duty.Scan, rep *duty.Report)
	// Retention says which scans keep their findings (Housekeep); zero values mean
	// store.DefaultKeepScans and store.DefaultKeepDays.
	Retention store.Retention
	// Now is the clock of the retention and of the sessions' expiry; nil means time.Now.
	Now func() time.Time
	// BeforeSave, when set, may change a finished report before it is stored (the ledger moves
	// the violations approved waivers cover to the report's waived list); the summary is then
	// counted again (Resummarize). Its error fails the scan: a report is never stored without it.
	BeforeSave func(ctx context.Context, rep *duty.Report) error
	// Reads, when set, counts the service's reads (the HTTP read gate's): a scan's evaluators
	// but the first wait for them to be quiet before taking the next organ, so that reads come
	// first (priority.Reads).
	Reads *priority.Reads
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
	if cfg.Retention.KeepScans == 0 {
		cfg.Retention.KeepScans = store.DefaultKeepScans
	}
	if cfg.Retention.KeepDays == 0 {
		cfg.Retention.KeepDays = store.DefaultKeepDays
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Service{store: cfg.Store, engine: cfg.Engine, log: cfg.Log, timeout: cfg.Timeout, readers: cfg.Readers, reads: cfg.Reads, slots: slots, base: base, cancel: cancel,
		observe: cfg.Observe, after: cfg.AfterScan, retention: cfg.Retention, now: cfg.Now, kick: make(chan struct{}, 1),
		beforeSave: cfg.BeforeSave}
	return s
}

// Request asks for a scan (duty.ScanRequest).
type Request = duty.ScanRequest

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
	} else {
		// A store without departments has nothing to check: a clean report would say it
		// complies (fail closed, as `dutycheck scan` refuses a folder without departments).
		tree, err := s.store.Tree(ctx)
		if err != nil {
			return nil, err
		}
		if len(tree.Organs()) == 0 {
			return nil, fmt.Errorf("scan: %w; load the records first (PUT /api/v1/collections/departments, then the others, or dutycheck import)", duty.ErrEmptyStore)
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

// Slot takes a scan slot for work that evaluates like a scan (a policy preview evaluates the
// whole scope twice): it counts against MaxScans, and one more is refused with duty.ErrBusy.
// Call release when the work ends; a nil Service has no bound.
func (s *Service) Slot() (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	return s.acquire()
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

func (s *Service) run(ctx context.Context, sc *duty.Scan, opts Options, full bool) (_ *duty.Scan, err error) {
	s.reports.RLock()
	defer func() {
		s.reports.RUnlock()
		if err != nil {
			s.collect.Store(true)
		}
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}()
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
	// On a shared store, another process may be applying the retention: the scan is stored as
	// running, so the next round leaves it alone, but this one must end first.
	err = s.store.AwaitRetention(ctx)
	var (
		rep      *duty.Report
		results  []store.OrganResult
		keepHash string
	)
	if err == nil {
		rep, results, keepHash, err = s.scanStore(ctx, sc, opts, full)
	}
	if err != nil {
		reason := err.Error()
		if errors.Is(err, context.Canceled) {
			reason = "cancelled"
		} else if errors.Is(err, context.DeadlineExceeded) {
			reason = fmt.Sprintf("timed out after %s", s.timeout)
		}
		sc.Status, sc.Error = duty.ScanFailed, reason
		if s.observe != nil {
			s.observe(sc, time.Since(started))
		}
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
	if s.observe != nil {
		s.observe(sc, time.Since(started))
	}
	s.log.Info("scan done", "scan", sc.ID, "department", sc.Department, "as_of", sc.AsOf,
		"violations", rep.Summary.Violations, "organs", sc.Progress.Total, "duration", time.Since(started))
	for _, fn := range s.after {
		fn(ctx, sc, rep)
	}
	return sc, nil
}

// LoadScope reads the organs a scan of department needs from the store (every organ when
// department is ""), each collection once, and the set of departments whose violations it
// reports (nil for all).
func LoadScope(ctx context.Context, st duty.OrganLoader, department string) ([]*duty.Organ, map[string]bool, error) {
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

// Get returns a scan with its report when done.
func (s *Service) Get(ctx context.Context, id string) (*duty.Scan, error) {
	return s.store.GetScan(ctx, id)
}

// Latest returns the latest report covering department's subtree: among the done scans of the
// department itself, of an ancestor, or of the whole store, the one with the latest as-of date
// (of those, the last finished), limited to the subtree. It reads only the subtree's findings
// (store.DepartmentReport).
func (s *Service) Latest(ctx context.Context, department string) (*duty.Report, error) {
	return s.store.DepartmentReport(ctx, department)
}

// Housekeep applies the retention (store.Prune) and deletes expired sessions
// (store.PurgeSessions): at once, then at every tick and after every scan, until ctx ends. The retention waits
// while scans run. Errors are logged; the next round tries again.
func (s *Service) Housekeep(ctx context.Context, tick <-chan time.Time) {
	for {
		s.housekeep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-s.kick:
		}
	}
}

// HousekeepOnce is one round of Housekeep; it reports whether the retention ran (it does not
// while a scan runs). A round collects what an earlier run left (store.CollectPending) or a
// failed scan of this one wrote; collecting reads every organ's findings table once.
func (s *Service) HousekeepOnce(ctx context.Context) bool { return s.housekeep(ctx) }

func (s *Service) housekeep(ctx context.Context) bool {
	now := s.now()
	if n, err := s.store.PurgeSessions(ctx, now); err != nil {
		s.log.Warn("purge sessions", "err", err)
	} else if n > 0 {
		s.log.Info("expired sessions deleted", "sessions", n)
	}
	if !s.reports.TryLock() {
		return false // a scan runs; its end kicks another round
	}
	defer s.reports.Unlock()
	end, ok, err := s.store.BeginRetention(ctx)
	if err != nil {
		s.log.Warn("retention of old scans", "err", err)
		return false
	}
	if !ok {
		return false // a scan runs in another process; the next round tries again
	}
	defer end()
	collect := s.collect.Swap(false)
	if !collect {
		// What an earlier run left: a collection cut short, the scans of a dead process.
		pending, err := s.store.CollectPending(ctx)
		if err != nil {
			s.log.Warn("retention of old scans", "err", err)
			return true
		}
		collect = pending
	}
	p, err := s.store.Prune(ctx, s.retention, now, collect)
	if err != nil {
		s.collect.Store(true)
		s.log.Warn("retention of old scans", "err", err)
		return true
	}
	if len(p.Pruned) > 0 || p.Removed > 0 {
		s.log.Info("retention of old scans", "pruned", len(p.Pruned), "documents_removed", p.Removed)
	}
	return true
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
