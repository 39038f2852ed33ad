package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/pool"
	"github.com/dutycheck/dutycheck/internal/store"
)

// A scan over the store reads organ by organ from the organ tables (store.ReadOrgan): each
// record once, decoded straight into the policy input. Readers, evaluators and the writer of
// the report work at once, so organs are evaluated while the next ones are read and each
// organ's violations are stored as soon as they are known; at any time the scan holds the
// records of a few organs only.
//
// It compares with the previous report (store.PreviousScanMeta): of the same scope or of an
// enclosing one (an ancestor department or the whole store, its violations limited to this
// scope), at the latest as-of date on or before this scan's, the last run of that date. So a
// department scan after an organ scan finds the organ's checks persisting, and a scan as of an
// earlier date than the latest report neither claims that report's checks resolved nor dates
// a first_seen after its own as-of date.
//
// It reuses, from the previous scan when it has the same scope, the violations of every organ whose
// version (store.OrganVersions), the policy revision, the as-of date and the departments
// reported on are those of that scan: the organ's violations would be exactly the same. Their
// first_seen is unchanged too (all persist), so the new report points to the earlier chunks
// instead of writing them again (store.OrganResult.Source), and only the organs that changed
// are read, evaluated, compared and written.

// outcome is what a scan found for one organ.
type outcome struct {
	organ  string
	result store.OrganResult
	vs     []duty.Violation
	ws     []duty.Warning
	skip   bool // not an organ: its table holds no root department
}

// cached is the last report of one scope, by organ, kept in memory so that a re-scan does not
// read back what it reuses.
type cached struct {
	scanID  string
	byOrgan map[string][]duty.Violation
}

// warnedScan is one scan's warnings by organ. The store keeps each organ's warnings beside its
// violations (the reports read back carry them), but a result stored by an earlier version has
// none that could be told from "no warnings"; so an organ's result is reused only while its
// scan's warnings are held here: the latest warnedScans scans of any scope. A result of an older
// scan, or of a scan before the service started, is evaluated again rather than reported
// without its warnings.
type warnedScan struct {
	scanID  string
	byOrgan map[string][]duty.Warning
}

// warnedScans bounds how many scans' warnings the service keeps in memory.
const warnedScans = 8

// cacheScopes bounds how many scopes' reports the service keeps in memory.
const cacheScopes = 4

func (s *Service) cachedReport(scope, scanID string) map[string][]duty.Violation {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if c, ok := s.cache[scope]; ok && c.scanID == scanID {
		return c.byOrgan
	}
	return nil
}

// cachedWarnings returns scan scanID's warnings by organ when held in memory (warnedScan), else nil.
func (s *Service) cachedWarnings(scanID string) map[string][]duty.Warning {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	for _, w := range s.warned {
		if w.scanID == scanID {
			return w.byOrgan
		}
	}
	return nil
}

func (s *Service) remember(scope, scanID string, byOrgan map[string][]duty.Violation, warnings map[string][]duty.Warning) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.cache == nil {
		s.cache = map[string]cached{}
	}
	if _, ok := s.cache[scope]; !ok && len(s.cache) >= cacheScopes {
		for k := range s.cache {
			delete(s.cache, k)
			break
		}
	}
	s.cache[scope] = cached{scanID: scanID, byOrgan: byOrgan}
	if len(s.warned) >= warnedScans {
		s.warned = slices.Delete(s.warned, 0, len(s.warned)-warnedScans+1)
	}
	s.warned = append(s.warned, warnedScan{scanID: scanID, byOrgan: warnings})
}

// plan is what a scan will do: the organs it evaluates, those it reuses, and what it needs of
// the previous scan.
type plan struct {
	evaluate []string
	reuse    []store.OrganResult
	versions map[string]store.OrganVersion
	keep     map[string]bool // departments reported on, nil for all
	keepHash string
	organs   []string // the organs of this scan: evaluated or reused
	prev     *store.ScanMeta
	prevIdx  map[string]store.OrganResult // the previous scan's index, when indexed
}

// scopeHash identifies the set of departments a scan reports on ("" for all).
func scopeHash(keep map[string]bool) string {
	if keep == nil {
		return ""
	}
	ids := make([]string, 0, len(keep))
	for id := range keep {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// makePlan decides which organs to evaluate and which results to reuse.
func (s *Service) makePlan(ctx context.Context, opts Options, full bool) (*plan, error) {
	versions, err := s.store.OrganVersions(ctx)
	if err != nil {
		return nil, err
	}
	p := &plan{versions: versions}
	var organs []string
	scopes := []string{""} // this scan's scope and the enclosing ones
	if opts.Department == "" {
		for id := range versions {
			organs = append(organs, id)
		}
	} else {
		depts, err := s.store.Departments(ctx)
		if err != nil {
			return nil, err
		}
		tree := duty.NewTree(depts)
		if tree.Department(opts.Department) == nil {
			return nil, fmt.Errorf("department %q: %w", opts.Department, duty.ErrNotFound)
		}
		p.keep = tree.Subtree(opts.Department)
		// An appointment lives with its person's organ but is reported under its own department.
		if organs, err = s.store.OrgansWithAppointmentsIn(ctx, p.keep); err != nil {
			return nil, err
		}
		if o := tree.Organ(opts.Department); !slices.Contains(organs, o) {
			organs = append(organs, o)
		}
		scopes = tree.Covering(opts.Department)
	}
	slices.Sort(organs)
	p.keepHash = scopeHash(p.keep)
	p.organs = organs

	prev, err := s.store.PreviousScanMeta(ctx, scopes, opts.AsOf)
	switch {
	case errors.Is(err, duty.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		p.prev = prev
	}
	if p.prev != nil && p.prev.Indexed {
		entries, err := s.store.ScanIndex(ctx, p.prev.ID)
		if err != nil {
			return nil, err
		}
		p.prevIdx = make(map[string]store.OrganResult, len(entries))
		for _, e := range entries {
			p.prevIdx[e.Organ] = e
		}
	}
	reusable := !full && p.prevIdx != nil && p.prev.AsOf == opts.AsOf &&
		p.prev.PolicyRevision == opts.Engine.Revision() && p.prev.ScopeHash == p.keepHash
	for _, o := range organs {
		v, known := versions[o]
		e, ok := p.prevIdx[o]
		if reusable && ok && known && v.Settled && e.Version >= 0 && e.Version == v.Version {
			p.reuse = append(p.reuse, e)
			continue
		}
		p.evaluate = append(p.evaluate, o)
	}
	return p, nil
}

// previous returns the violations of the previous report in this scan's scope that the organs
// evaluated now may repeat or resolve: of a scan of the same scope, those of the evaluated
// organs and of organs no longer in the scan; of an enclosing scope's, those of this scan's
// organs in this scan's departments. A previous scan whose report is in a layout this version
// does not read counts as none.
func (s *Service) previous(ctx context.Context, p *plan, opts Options) ([]duty.Violation, error) {
	if p.prev == nil || !p.prev.Indexed {
		return nil, nil
	}
	reused := map[string]bool{}
	for _, e := range p.reuse {
		reused[e.Organ] = true
	}
	same := p.prev.Department == opts.Department
	var entries []store.OrganResult
	for o, e := range p.prevIdx {
		if !reused[o] && (same || slices.Contains(p.organs, o)) {
			entries = append(entries, e)
		}
	}
	var byOrgan map[string][]duty.Violation
	if c := s.cachedReport(p.prev.Department, p.prev.ID); c != nil {
		byOrgan = c
	} else {
		var err error
		if byOrgan, err = s.store.OrganViolations(ctx, entries); err != nil {
			return nil, err
		}
	}
	var out []duty.Violation
	for _, e := range entries {
		out = append(out, byOrgan[e.Organ]...)
	}
	if !same {
		out = FilterScope(out, p.keep)
	}
	return out, nil
}

// reused returns the violations of the reused organs, from memory or from the store.
func (s *Service) reused(ctx context.Context, p *plan, opts Options) (map[string][]duty.Violation, error) {
	if len(p.reuse) == 0 {
		return map[string][]duty.Violation{}, nil
	}
	if c := s.cachedReport(p.prev.Department, p.prev.ID); c != nil {
		return c, nil
	}
	return s.store.OrganViolations(ctx, p.reuse)
}

// scanStore runs a scan over the store: plan, evaluate the organs that need it while reusing the
// others, store each organ's violations as they come, and build the report. The report's
// violations share memory with the service's cache: callers must not change them.
func (s *Service) scanStore(ctx context.Context, sc *duty.Scan, opts Options, full bool) (*duty.Report, []store.OrganResult, string, error) {
	tables, p, err := s.pinnedPlan(ctx, opts, full)
	if err != nil {
		return nil, nil, "", err
	}
	defer tables.Release()
	var reusedWs map[string][]duty.Warning
	if len(p.reuse) > 0 {
		if reusedWs = s.cachedWarnings(p.prev.ID); reusedWs == nil {
			// The reused organs' warnings are not in memory: evaluate them again rather than
			// report them without their warnings.
			for _, e := range p.reuse {
				p.evaluate = append(p.evaluate, e.Organ)
			}
			p.reuse = nil
		}
	}
	total := len(p.evaluate) + len(p.reuse)
	sc.Progress = duty.Progress{Total: total}
	prevVs, err := s.previous(ctx, p, opts)
	if err != nil {
		return nil, nil, "", err
	}
	before := make(map[string]*duty.Seen, len(prevVs))
	for i := range prevVs {
		// A first_seen after this scan's date (in a report stored by an earlier version) is
		// not inherited: the check is new as of this date.
		if fs := prevVs[i].FirstSeen; fs != nil && fs.AsOf <= opts.AsOf {
			before[prevVs[i].Key()] = prevVs[i].FirstSeen
		}
	}
	reusedVs, err := s.reused(ctx, p, opts)
	if err != nil {
		return nil, nil, "", err
	}

	byOrgan := make(map[string][]duty.Violation, total)
	warnByOrgan := make(map[string][]duty.Warning, total)
	results := make([]store.OrganResult, 0, total)
	for _, e := range p.reuse {
		byOrgan[e.Organ] = reusedVs[e.Organ]
		warnByOrgan[e.Organ] = reusedWs[e.Organ]
		results = append(results, e)
	}
	done := len(p.reuse)
	if opts.Progress != nil && done > 0 {
		opts.Progress(done, total)
	}

	seen := &duty.Seen{AsOf: opts.AsOf, ScanID: sc.ID}
	now := map[string]bool{}
	fresh := 0
	sh, err := s.share(ctx, sc.ID, opts, p.evaluate, tables)
	if err != nil {
		return nil, nil, "", err
	}
	defer sh.close()
	err = s.pipeline(ctx, opts, p.evaluate, p.versions, tables, sh, func(o outcome) error {
		done++
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
		if o.skip {
			return nil
		}
		vs := FilterScope(o.vs, p.keep)
		for i := range vs {
			k := vs[i].Key()
			now[k] = true
			if fs, ok := before[k]; ok {
				vs[i].FirstSeen = fs
			} else {
				vs[i].FirstSeen = seen
				fresh++
			}
		}
		ws := FilterScopeWarnings(o.ws, p.keep)
		r, err := s.store.PutOrganReport(ctx, sc.ID, o.organ, o.result.Version, store.OrganReport{Violations: vs, Warnings: ws})
		if err != nil {
			return err
		}
		byOrgan[o.organ] = vs
		warnByOrgan[o.organ] = ws
		results = append(results, r)
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	if err := tables.Check(ctx); err != nil {
		return nil, nil, "", err
	}

	var all []duty.Violation
	ws := make([][]duty.Warning, 0, len(results))
	for _, r := range results {
		all = append(all, byOrgan[r.Organ]...)
		ws = append(ws, warnByOrgan[r.Organ])
	}
	duty.SortViolations(all)
	rep := NewReport(opts, all)
	SetWarnings(rep, concatWarnings(ws))
	rep.ScanID = sc.ID
	rep.Resolved = []duty.Violation{}
	for _, v := range prevVs {
		if !now[v.Key()] {
			rep.Resolved = append(rep.Resolved, v)
		}
	}
	rep.Summary.New, rep.Summary.Persisting, rep.Summary.Resolved = fresh, len(all)-fresh, len(rep.Resolved)
	slices.SortFunc(results, func(a, b store.OrganResult) int { return compareStrings(a.Organ, b.Organ) })
	s.remember(opts.Department, sc.ID, byOrgan, warnByOrgan)
	s.log.Debug("scan plan", "scan", sc.ID, "evaluated", len(p.evaluate), "reused", len(p.reuse))
	return rep, results, p.keepHash, nil
}

// pinnedPlan pins the organ tables in force (store.PinTables), then plans. A scan reads that
// generation only, whole, whatever rebuild (a department moved to another organ) happens
// meanwhile. When a rebuild switched generations between the pin and the plan's reading of the
// organs' versions, it pins and plans again: the versions must be those of the pinned tables.
func (s *Service) pinnedPlan(ctx context.Context, opts Options, full bool) (*store.Tables, *plan, error) {
	for {
		tables, err := s.store.PinTables(ctx)
		if err != nil {
			return nil, nil, err
		}
		p, err := s.makePlan(ctx, opts, full)
		if err == nil {
			var current bool
			if current, err = tables.Current(ctx); err == nil && current {
				return tables, p, nil
			}
		}
		tables.Release()
		if err != nil {
			return nil, nil, err
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pipeline reads the organs of evaluate from their tables, evaluates them on opts.Workers
// goroutines, and hands each outcome to fn, one at a time, as it comes. versions are the
// organs' versions the plan read (nil for none). With sh (a shared scan) the organs come from
// the chunks this process claims, and the outcomes of chunks other processes did come from the
// store; evaluate is then unused. It stops at the first error or when ctx ends.
func (s *Service) pipeline(ctx context.Context, opts Options, evaluate []string, versions map[string]store.OrganVersion,
	tables *store.Tables, sh *sharing, fn func(outcome) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := pool.NewFirstError(cancel)
	fail := errs.Fail
	organs := make(chan string)
	inputs := make(chan *policy.OrganInput, opts.Workers)
	outcomes := make(chan outcome, opts.Workers)
	newOutcome := func(organ string) outcome {
		version := int64(-1)
		// The version read before the records: a write since then changes it, so these
		// results are reused only if nothing was written meanwhile.
		if v, ok := versions[organ]; ok && v.Settled {
			version = v.Version
		}
		return outcome{organ: organ, result: store.OrganResult{Version: version}}
	}

	var feeding sync.WaitGroup
	feeding.Add(1)
	go func() {
		defer feeding.Done()
		defer close(organs)
		if sh != nil {
			if err := sh.feed(ctx, organs, func(r store.ChunkResult) bool {
				o := newOutcome(r.Organ)
				o.skip, o.vs, o.ws = r.Skip, r.Violations, r.Warnings
				select {
				case outcomes <- o:
					return true
				case <-ctx.Done():
					return false
				}
			}); err != nil {
				fail(err)
			}
			return
		}
		for _, o := range evaluate {
			select {
			case organs <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	readers := pool.Run(ctx, min(opts.Readers, max(len(evaluate), 1)), organs, inputs, func() func(context.Context, string) (*policy.OrganInput, error) {
		terms := policy.NewTerms()
		return func(ctx context.Context, o string) (*policy.OrganInput, error) {
			in := policy.NewOrganInput(o, opts.AsOf)
			terms.Reset()
			return in, store.ReadOrganIn(ctx, tables, o, terms, in.Add)
		}
	}, fail)
	go func() { readers(); close(inputs) }()
	// The evaluators but the first give way to the service's reads (priority.Reads).
	workers := pool.RunPaced(ctx, opts.Workers, inputs, outcomes, func() func(context.Context, *policy.OrganInput) (outcome, error) {
		return func(ctx context.Context, in *policy.OrganInput) (outcome, error) {
			o := newOutcome(in.ID)
			if !in.IsOrgan() {
				o.skip = true
				return o, nil
			}
			f, err := opts.Engine.EvaluateInputAll(ctx, in)
			o.vs, o.ws = f.Violations, f.Warnings
			return o, err
		}
	}, fail, s.reads.Wait)
	go func() { workers(); feeding.Wait(); close(outcomes) }()
	failed := false
	for o := range outcomes {
		if failed || ctx.Err() != nil {
			continue
		}
		err := fn(o)
		if err == nil && sh != nil {
			err = sh.handled(ctx, o.organ)
		}
		if err != nil {
			failed = true
			fail(err)
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return ctx.Err()
}
