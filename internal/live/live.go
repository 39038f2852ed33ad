// Package live keeps the policies in force while the service runs: an append-only history of
// revisions of the whole bundle in the store, the compile-and-test gate every change passes,
// compare-and-set changes (each made on the revision its author saw; a change on a stale base is
// refused, in one process and across processes sharing the store), rollbacks and adoptions of a
// new built-in bundle as revisions of their own, every revision in the audit trail with its
// actor, impact previews, and the poll that makes every process sharing the store follow the
// newest revision within a poll interval. In directory mode it watches a policy folder instead of
// taking changes through the API.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/guard"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// Config wires a Manager.
type Config struct {
	// Store keeps the revisions (internal/store in the binary, dutytest.Store in the edges'
	// tests). When it also keeps an earlier version's marker (duty.LegacyPolicyMarker), New
	// migrates it.
	Store duty.PolicyStore
	// Builtin is the bundle built into the binary: it seeds the first revision of an empty store,
	// and when it differs from the one the store was seeded with (or last adopted), Drift says so.
	Builtin *policy.Bundle
	// Dir, when set, is the policy folder to follow (directory mode); API changes are refused.
	Dir string
	// PollInterval is how often Run looks for revisions written by other processes (and checks
	// the folder); 0 means 500ms.
	PollInterval time.Duration
	Log          *slog.Logger
	// Sandbox, when set, runs the gate's tests and evaluates drafts (previews) in child
	// processes with bounded memory and time; the service always sets it. Without it (tests)
	// they run in this process.
	Sandbox *policy.Sandbox
}

// The actors of the changes the service makes by itself.
const (
	ActorBuiltin   = "system:builtin"   // the built-in bundle seeded into an empty store
	ActorDirectory = "system:directory" // a change of the policy folder (serve --policies)
	ActorMigration = "system:migration" // a rollback of an earlier version, recorded as a revision
)

// Manager holds the engine in force and changes it safely.
type Manager struct {
	cfg         Config
	current     atomic.Pointer[state]
	refused     atomic.Pointer[duty.PolicyRefusal]
	mu          sync.Mutex   // orders the moves of current (it only ever moves forward)
	dirHash     string       // the folder content last committed or refused (directory mode)
	builtinHash string       // hash of cfg.Builtin
	guard       *guard.Guard // refuses changes that silently switch a duty off (gate.go)
}

type state struct {
	engine *policy.Engine
	rev    duty.PolicyRevision // the revision in force, without its files
	// builtin is the hash of the built-in bundle the store was seeded with or last adopted ("" when
	// none), recorded in revision builtinIn.
	builtin, builtinIn string
}

// New loads the policies in force (the newest stored revision), seeding the built-in bundle
// into an empty store. In directory mode the folder is then recorded as a revision when it
// differs; a broken folder does not stop the start: the last good revision serves and the
// refusal is reported by Refused. It logs a warning when the binary's built-in bundle differs
// from the one the store was seeded with (duty.PolicyDrift).
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := &Manager{cfg: cfg, builtinHash: cfg.Builtin.Revision(), guard: guard.New(cfg.Builtin)}
	if err := m.load(ctx); err != nil && !errors.Is(err, duty.ErrNotFound) {
		return nil, err
	}
	if err := m.migrate(ctx); err != nil {
		return nil, err
	}
	if cfg.Dir != "" {
		err := m.syncDir(ctx)
		for try := 0; try < 3 && errors.Is(err, duty.ErrConflict); try++ {
			err = m.syncDir(ctx) // another process stored a revision first: again on the newest
		}
		var be *duty.BundleError
		if err != nil && !errors.As(err, &be) {
			return nil, err
		}
	}
	if m.current.Load() == nil {
		// An empty store: the built-in bundle is the first revision.
		_, err := m.commit(ctx, nil, cfg.Builtin, duty.PolicyRevision{Author: ActorBuiltin,
			Message: "built-in bundle", Source: duty.SourceBuiltin, BuiltinHash: m.builtinHash})
		if errors.Is(err, duty.ErrConflict) { // another process seeded it at the same moment
			err = m.load(ctx)
		}
		if err != nil {
			return nil, err
		}
	}
	m.reconcileAudit(ctx)
	if d := m.Drift(); d != nil {
		cfg.Log.Warn("the built-in policy bundle of this binary differs from the one the store was seeded with; "+
			"the stored revision keeps serving until an admin adopts it (POST /api/v1/policies/builtin/adopt)",
			"builtin", d.Builtin, "recorded", d.Recorded, "recorded_in", d.RecordedIn, "in_force", m.Revision())
	}
	return m, nil
}

// load puts the newest stored revision in force; duty.ErrNotFound when the store has none.
func (m *Manager) load(ctx context.Context) error {
	revs, err := m.cfg.Store.Revisions(ctx)
	if err != nil {
		return err
	}
	if len(revs) == 0 {
		return fmt.Errorf("no policy revision: %w", duty.ErrNotFound)
	}
	bh, bin := recordedBuiltin(revs)
	st, err := m.stateOf(ctx, revs[0].ID, bh, bin)
	if err != nil {
		return err
	}
	m.advance(st)
	return nil
}

// recordedBuiltin finds the built-in bundle the store was last seeded with or adopted, in
// revisions listed newest first. Earlier versions did not record it: their seeded revision,
// "built-in bundle" by "system", has the built-in bundle's hash as its own.
func recordedBuiltin(revs []duty.PolicyRevision) (hash, in string) {
	for _, r := range revs {
		if r.BuiltinHash != "" {
			return r.BuiltinHash, r.ID
		}
	}
	for _, r := range revs {
		if r.Author == "system" && r.Message == "built-in bundle" {
			return r.Hash, r.ID
		}
	}
	return "", ""
}

// stateOf compiles stored revision id. It passed the gate when it was stored.
func (m *Manager) stateOf(ctx context.Context, id, builtin, builtinIn string) (*state, error) {
	rev, err := m.cfg.Store.Revision(ctx, id)
	if err != nil {
		return nil, err
	}
	eng, err := policy.Compile(ctx, &policy.Bundle{Files: rev.Files})
	if err != nil {
		return nil, fmt.Errorf("compile policy revision %s: %w", rev.ID, err)
	}
	rev.Files = nil
	return &state{engine: m.bind(eng), rev: *rev, builtin: builtin, builtinIn: builtinIn}, nil
}

// advance puts st in force unless a newer revision already is; it reports whether it did.
func (m *Manager) advance(st *state) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.current.Load(); cur != nil && cur.rev.Seq >= st.rev.Seq {
		return false
	}
	m.current.Store(st)
	return true
}

// migrate records a rollback made by an earlier version (which moved an active-revision
// marker instead of appending a revision) as a revision, so that the newest revision is the
// one in force, and removes the marker.
func (m *Manager) migrate(ctx context.Context) error {
	legacy, ok := m.cfg.Store.(duty.LegacyPolicyMarker)
	if !ok {
		return nil // a store no earlier version wrote
	}
	id, err := legacy.LegacyActive(ctx)
	if err != nil || id == "" {
		return err
	}
	st := m.current.Load()
	if st != nil && st.rev.ID != id {
		old, err := m.cfg.Store.RevisionMeta(ctx, id)
		if err != nil {
			return err
		}
		if old.Hash != st.rev.Hash {
			_, err := m.rollback(ctx, st, id, duty.PolicyChange{Author: ActorMigration, Source: duty.SourceMigration,
				Message: "revision " + id + " was in force (rolled back by an earlier version)"})
			if errors.Is(err, duty.ErrConflict) {
				err = m.load(ctx) // another process migrated first
			}
			if err != nil {
				return err
			}
		}
	}
	return legacy.DropLegacyActive(ctx)
}

// Engine returns the engine in force. Scans take it once at their start.
func (m *Manager) Engine() *policy.Engine { return m.current.Load().engine }

// Catalogue returns the engine in force as the edges read it; nil (a nil interface, not one
// holding a nil engine) when no policies are loaded.
func (m *Manager) Catalogue() duty.PolicyCatalogue {
	if e := m.Engine(); e != nil {
		return e
	}
	return nil
}

// A Manager is the policies service of the edges.
var _ duty.Policies = (*Manager)(nil)

// Revision returns the id of the store revision in force.
func (m *Manager) Revision() string { return m.current.Load().rev.ID }

// Refused returns the last change refused in directory mode since the last good one, or nil.
func (m *Manager) Refused() *duty.PolicyRefusal { return m.refused.Load() }

// DirMode reports whether the policies follow a folder.
func (m *Manager) DirMode() bool { return m.cfg.Dir != "" }

// Drift returns the difference between the built-in bundle and the store's, or nil when there is
// none (or in directory mode, where the folder is the source of truth).
func (m *Manager) Drift() *duty.PolicyDrift {
	st := m.current.Load()
	if m.DirMode() || st == nil || st.builtin == m.builtinHash || st.rev.Hash == m.builtinHash {
		return nil
	}
	return &duty.PolicyDrift{Builtin: m.builtinHash, Recorded: st.builtin, RecordedIn: st.builtinIn, InForce: st.rev.ID,
		Message: "this binary's built-in policy bundle differs from the one the store was seeded with; " +
			"the stored revision keeps serving until an admin adopts it"}
}

// BuiltinChanges lists what adopting the built-in bundle would change in the bundle in force.
func (m *Manager) BuiltinChanges() []duty.FileDiff {
	return DiffFiles(m.Engine().Bundle().Files, m.adoptable(m.current.Load()).Files)
}

// adoptable is the built-in bundle with the parameter changes in force carried over.
func (m *Manager) adoptable(st *state) *policy.Bundle {
	b := m.cfg.Builtin.Clone()
	if ov, ok := st.engine.Bundle().Files[policy.OverridesFile]; ok {
		b.Files[policy.OverridesFile] = ov
	}
	return b
}

// AdoptBuiltin makes the binary's built-in bundle a new revision on base c.Base, through the
// gate. The parameter changes in force (params/overrides.json) are carried over; rule changes are
// replaced by the built-in rules (BuiltinChanges lists them first).
func (m *Manager) AdoptBuiltin(ctx context.Context, c duty.PolicyChange) (*duty.PolicyRevision, error) {
	if m.DirMode() {
		return nil, fmt.Errorf("%w: %w", ErrDirMode, duty.ErrConflict)
	}
	st, err := m.on(ctx, c.Base)
	if err != nil {
		return nil, err
	}
	if m.Drift() == nil {
		return nil, fmt.Errorf("the built-in bundle of this binary (%s) is the one the store already has: nothing to adopt: %w", m.builtinHash, duty.ErrInvalid)
	}
	msg := c.Message
	if msg == "" {
		msg = "adopted the built-in bundle " + m.builtinHash
	}
	return m.commit(ctx, st, m.adoptable(st), duty.PolicyRevision{Author: c.Author, Message: msg, Source: c.Source, BuiltinHash: m.builtinHash})
}

// Run polls until ctx ends: for revisions written by other processes and, in directory mode,
// the folder.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.Poll(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Log.Warn("policy poll", "err", err)
		}
	}
}

// Poll does once what Run does every PollInterval: records a changed folder (directory mode) and
// follows the revisions other processes wrote.
func (m *Manager) Poll(ctx context.Context) error {
	var errs []error
	if m.cfg.Dir != "" {
		if err := m.syncDir(ctx); err != nil {
			m.cfg.Log.Warn("policy folder change refused; the last good revision keeps serving", "folder", m.cfg.Dir, "err", err)
		}
	}
	if err := m.follow(ctx); err != nil {
		errs = append(errs, fmt.Errorf("follow policy revisions: %w", err))
	}
	return errors.Join(errs...)
}

// follow puts in force the newest revision written after the one in force. Revisions are
// numbered without gaps, so it reads them by id: r<n+1>, r<n+2>, … until one is missing.
func (m *Manager) follow(ctx context.Context) error {
	cur := m.current.Load()
	if cur == nil {
		return m.load(ctx)
	}
	var next *duty.PolicyRevision
	bh, bin := cur.builtin, cur.builtinIn
	for seq := cur.rev.Seq + 1; ; seq++ {
		r, err := m.cfg.Store.RevisionMeta(ctx, duty.RevisionID(seq))
		if errors.Is(err, duty.ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		next = r
		if r.BuiltinHash != "" {
			bh, bin = r.BuiltinHash, r.ID
		}
	}
	if next == nil {
		return nil
	}
	st, err := m.stateOf(ctx, next.ID, bh, bin)
	if err != nil {
		return err
	}
	if m.advance(st) {
		m.cfg.Log.Info("policy revision in force", "revision", st.rev.ID, "hash", st.rev.Hash, "author", st.rev.Author)
	}
	return nil
}

// syncDir records the folder as a revision when its content changed and passes the gate; a
// refused change is kept for Refused.
func (m *Manager) syncDir(ctx context.Context) error {
	b, err := policy.LoadDir(m.cfg.Dir)
	if err != nil {
		m.refuse([]duty.BundleProblem{{File: m.cfg.Dir, Kind: duty.BundleFolder, Message: err.Error()}})
		return err
	}
	h := b.Revision()
	if h == m.dirHash {
		return nil
	}
	st := m.current.Load()
	if st != nil && st.rev.Hash == h {
		m.dirHash = h
		m.refused.Store(nil)
		return nil
	}
	_, err = m.commit(ctx, st, b, duty.PolicyRevision{Author: ActorDirectory,
		Message: "changed in the policy folder " + m.cfg.Dir, Source: duty.SourceDirectory})
	if err != nil {
		var be *duty.BundleError
		if errors.As(err, &be) {
			m.dirHash = h // not retried until the folder changes again
			m.refuse(be.Problems)
		}
		return err // a stale base or an unavailable store: retried at the next poll
	}
	m.dirHash = h
	m.refused.Store(nil)
	return nil
}

func (m *Manager) refuse(probs []duty.BundleProblem) {
	m.refused.Store(&duty.PolicyRefusal{At: time.Now().UTC().Format(time.RFC3339), Problems: probs})
}

// on returns the state a change made on revision base applies to: the one in force, after
// catching up with the revisions other processes wrote. A change on any other revision is
// stale.
func (m *Manager) on(ctx context.Context, base string) (*state, error) {
	if base == "" {
		return nil, duty.ErrBaseRequired
	}
	st := m.current.Load()
	if st.rev.ID != base {
		if err := m.follow(ctx); err != nil {
			return nil, err
		}
		st = m.current.Load()
	}
	if st.rev.ID != base {
		return nil, &duty.StaleError{Base: base, Current: st.rev.ID}
	}
	return st, nil
}

// commit gates bundle b and stores it as the revision that follows on (nil for the first of an
// empty store) with rev's author, message and source. The store's insert is the compare-and-set:
// when another revision followed on first, in any process, nothing is stored and the answer is
// a duty.StaleError. The new revision is in force in this process at once, in the audit trail, and
// followed by the others within a poll.
func (m *Manager) commit(ctx context.Context, on *state, b *policy.Bundle, rev duty.PolicyRevision) (*duty.PolicyRevision, error) {
	eng, _, err := m.gate(ctx, b)
	if err != nil {
		return nil, err
	}
	var baseSeq int64
	var before, bh, bin string
	if on != nil {
		baseSeq, before, bh, bin = on.rev.Seq, on.rev.Hash, on.builtin, on.builtinIn
		rev.Parent = on.rev.ID
	}
	rev.Hash, rev.Files = eng.Revision(), b.Files
	if err := m.cfg.Store.InsertRevision(ctx, &rev, baseSeq); err != nil {
		eng.Close()
		if !errors.Is(err, duty.ErrConflict) {
			return nil, err
		}
		stale := &duty.StaleError{Base: rev.Parent}
		if ferr := m.follow(ctx); ferr != nil {
			m.cfg.Log.Warn("follow policy revisions", "err", ferr)
		}
		if cur := m.current.Load(); cur != nil {
			stale.Current = cur.rev.ID
		}
		return nil, stale
	}
	if rev.BuiltinHash != "" {
		bh, bin = rev.BuiltinHash, rev.ID
	}
	meta := rev
	meta.Files = nil
	m.advance(&state{engine: eng, rev: meta, builtin: bh, builtinIn: bin}) // bound by the gate
	m.audit(ctx, &meta, before)
	m.cfg.Log.Info("policy revision in force", "revision", rev.ID, "hash", rev.Hash, "author", rev.Author,
		"source", rev.Source, "parent", rev.Parent, "restored_from", rev.RestoredFrom, "message", rev.Message)
	return &rev, nil
}

// auditAction names a revision's kind in the audit trail.
func auditAction(rev *duty.PolicyRevision) string {
	switch {
	case rev.Source == duty.SourceBuiltin:
		return "policy.seed"
	case rev.RestoredFrom != "":
		return "policy.activate"
	case rev.BuiltinHash != "":
		return "policy.adopt"
	}
	return "policy.change"
}

// audit appends a revision to the audit trail. A failure is logged: the revision is stored, and
// the next start adds the missing entry (reconcileAudit).
func (m *Manager) audit(ctx context.Context, rev *duty.PolicyRevision, before string) {
	err := m.cfg.Store.AuditRevision(ctx, duty.AuditEntry{Actor: rev.Author, Action: auditAction(rev), Collection: "policy_revisions",
		IDs: []string{rev.ID}, Before: []string{before}, After: []string{rev.Hash}}, rev)
	if err != nil {
		m.cfg.Log.Error("audit trail: policy revision stored without its entry; added at the next start", "revision", rev.ID, "err", err)
	}
}

// reconcileAudit adds the audit entry of every stored revision that has none: written by an
// earlier version (which audited only API changes) or by a process that died between the
// revision and its entry. Only revisions not marked audited are looked at.
func (m *Manager) reconcileAudit(ctx context.Context) {
	revs, err := m.cfg.Store.UnauditedRevisions(ctx)
	if err != nil || len(revs) == 0 {
		if err != nil {
			m.cfg.Log.Warn("audit trail of policy revisions not checked", "err", err)
		}
		return
	}
	var earlier map[string]bool // entries an earlier version wrote, with ids of its own
	for _, r := range revs {
		if r.Source == "" && earlier == nil {
			if earlier, err = m.cfg.Store.AuditedRevisions(ctx); err != nil {
				m.cfg.Log.Warn("audit trail of policy revisions not checked", "err", err)
				return
			}
		}
	}
	for _, r := range revs {
		if earlier[r.ID] {
			if err := m.cfg.Store.MarkRevisionAudited(ctx, r.ID); err != nil {
				m.cfg.Log.Warn("audit trail of policy revisions", "err", err)
			}
			continue
		}
		before := ""
		if r.Parent != "" {
			if p, err := m.cfg.Store.RevisionMeta(ctx, r.Parent); err == nil {
				before = p.Hash
			}
		}
		m.audit(ctx, &r, before)
	}
}

// Bundle applies the draft to the bundle in force. Paths must be clean relative paths of .rego
// or data.json files (or params/overrides.json).
func (m *Manager) Bundle(d duty.PolicyDraft) (*policy.Bundle, error) {
	return bundleOn(m.Engine(), d)
}

func bundleOn(eng *policy.Engine, d duty.PolicyDraft) (*policy.Bundle, error) {
	b := eng.Bundle().Clone()
	if d.Replace {
		b = &policy.Bundle{Files: map[string]string{}}
	}
	var probs []duty.BundleProblem
	for p, content := range d.Files {
		clean := path.Clean(p)
		switch {
		case clean != p || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "..") || strings.Contains(p, "\\"):
			probs = append(probs, duty.BundleProblem{File: p, Kind: duty.BundlePath, Message: "must be a clean relative path inside the bundle"})
		case !policy.IsBundleFile(p):
			probs = append(probs, duty.BundleProblem{File: p, Kind: duty.BundlePath, Message: "is not a bundle file: expected a .rego module, a data.json, " + policy.OverridesFile + " or " + policy.SwitchedOffFile})
		case content == nil:
			if _, ok := b.Files[p]; !ok {
				probs = append(probs, duty.BundleProblem{File: p, Kind: duty.BundlePath, Message: "cannot be deleted: no such file in the bundle"})
			}
			delete(b.Files, p)
		default:
			b.Files[p] = *content
		}
	}
	if len(probs) > 0 {
		return nil, &duty.BundleError{Problems: probs}
	}
	ids := make([]string, 0, len(d.Params))
	for id := range d.Params {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, ok := eng.ParamSet(id); !ok && d.Files == nil {
			return nil, fmt.Errorf("policy %q: %w", id, duty.ErrNotFound)
		}
		var err error
		if b, err = b.WithParams(id, d.Params[id]); err != nil {
			return nil, err
		}
	}
	if len(d.SwitchOff) > 0 {
		return b.WithSwitchedOff(d.SwitchOff)
	}
	return b, nil
}

// Validate runs the gate over a draft without storing anything.
func (m *Manager) Validate(ctx context.Context, d duty.PolicyDraft) ([]duty.TestResult, error) {
	b, err := m.Bundle(d)
	if err != nil {
		return nil, err
	}
	eng, results, err := m.gate(ctx, b)
	if eng != nil {
		eng.Close()
	}
	return results, err
}

// bind makes the engine in force evaluate in the sandbox (when there is one): a module that
// passed the gate may still blow up on real records, and scans must not take the service down.
func (m *Manager) bind(e *policy.Engine) *policy.Engine {
	if m.cfg.Sandbox == nil {
		return e
	}
	return m.cfg.Sandbox.Bind(e)
}

// check is the gate: compile, require tests, run them, in the sandbox when there is one.
func (m *Manager) check(ctx context.Context, b *policy.Bundle) (*policy.Engine, []duty.TestResult, error) {
	if m.cfg.Sandbox != nil {
		return m.cfg.Sandbox.Check(ctx, b)
	}
	return policy.Check(ctx, b)
}

// ErrDirMode refuses API changes while the policies follow a folder.
var ErrDirMode = errors.New("the policies follow a folder (serve --policies); change the files there")

// Apply gates a draft made on revision c.Base and, when it passes and c.Base is still in force,
// stores it as the next revision, in force at once. The draft is applied to c.Base's bundle,
// never to a newer one: a change made on a stale base is refused (duty.StaleError), so that no change
// silently undoes another.
func (m *Manager) Apply(ctx context.Context, d duty.PolicyDraft, c duty.PolicyChange) (*duty.PolicyRevision, error) {
	if m.DirMode() {
		return nil, fmt.Errorf("%w: %w", ErrDirMode, duty.ErrConflict)
	}
	st, err := m.on(ctx, c.Base)
	if err != nil {
		return nil, err
	}
	b, err := bundleOn(st.engine, d)
	if err != nil {
		return nil, err
	}
	if b.Revision() == st.engine.Revision() {
		return nil, fmt.Errorf("the draft changes nothing: %w", duty.ErrInvalid)
	}
	msg := c.Message
	if msg == "" {
		msg = d.Message
	}
	if msg == "" {
		msg = "changed through the API"
	}
	return m.commit(ctx, st, b, duty.PolicyRevision{Author: c.Author, Message: msg, Source: c.Source})
}

// Rollback brings an earlier revision back into force as a new revision (restored_from names
// it), made on revision c.Base, after passing it through the gate again (the engine may have
// changed since it was stored).
func (m *Manager) Rollback(ctx context.Context, id string, c duty.PolicyChange) (*duty.PolicyRevision, error) {
	if m.DirMode() {
		return nil, fmt.Errorf("%w: %w", ErrDirMode, duty.ErrConflict)
	}
	st, err := m.on(ctx, c.Base)
	if err != nil {
		return nil, err
	}
	return m.rollback(ctx, st, id, c)
}

func (m *Manager) rollback(ctx context.Context, st *state, id string, c duty.PolicyChange) (*duty.PolicyRevision, error) {
	if id == st.rev.ID {
		return nil, fmt.Errorf("revision %s is already in force: %w", id, duty.ErrInvalid)
	}
	old, err := m.cfg.Store.Revision(ctx, id)
	if err != nil {
		return nil, err
	}
	msg := c.Message
	if msg == "" {
		msg = "re-activated " + id
	}
	return m.commit(ctx, st, &policy.Bundle{Files: old.Files}, duty.PolicyRevision{Author: c.Author, Message: msg,
		Source: c.Source, RestoredFrom: id})
}

const otherKey = "(other)"

func tally(vs []duty.Violation, reasons map[string]map[string]bool, depts map[string]bool) duty.Tally {
	t := duty.Tally{Total: len(vs), ByPolicy: map[string]int{}, ByReason: map[string]int{}, ByDepartment: map[string]int{}}
	for _, v := range vs {
		t.ByPolicy[v.Policy]++
		r := v.Reason
		if !reasons[v.Policy][r] {
			r = otherKey
		}
		t.ByReason[v.Policy+"/"+r]++
		d := v.Department
		if !depts[d] {
			d = otherKey
		}
		t.ByDepartment[d]++
	}
	return t
}

// Preview evaluates a draft (in the sandbox) and the revision in force over the stored records
// of a scope and returns what the draft would add and remove, for principal p: the violations
// inside p's scope when p may read records, else only counts. Every preview is audited (who,
// the draft's hash, the scope) before it runs; without the audit it does not run. Nothing else
// is stored.
func (m *Manager) Preview(ctx context.Context, d duty.PolicyDraft, req duty.ScanRequest, p duty.Principal) (*duty.PolicyImpact, error) {
	b, err := m.Bundle(d)
	if err != nil {
		return nil, err
	}
	depts, err := m.cfg.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	reach := duty.ReachOf(p, duty.NewTree(depts))
	if req.Department == "" && !reach.Whole() {
		req.Department = reach.Roots()[0]
	}
	if req.Department != "" && !reach.Department(req.Department) {
		return nil, fmt.Errorf("department %q: %w", req.Department, duty.ErrNotFound)
	}
	if req.AsOf == "" {
		req.AsOf = time.Now().Format(time.DateOnly) // as scan.Options.Normalize, so the audit names the date
	}
	active := m.Engine()
	scope := req.Department
	if scope == "" {
		scope = "*"
	}
	if err := m.cfg.Store.Audit(ctx, duty.AuditEntry{Actor: p.User, Action: "policy.preview", Collection: "policy_revisions",
		IDs: []string{"department:" + scope + " as_of:" + req.AsOf}, Before: []string{active.Revision()}, After: []string{b.Revision()}}); err != nil {
		return nil, fmt.Errorf("audit the preview: %w", err)
	}
	draft, _, err := m.gate(ctx, b) // bound to the sandbox by the gate
	if err != nil {
		return nil, err
	}
	defer draft.Close()
	opts := scan.Options{AsOf: req.AsOf, Engine: active}
	if err := opts.Normalize(ctx); err != nil {
		return nil, err
	}
	// The scope's records are read once, for both engines (evaluating does not change them).
	organs, keep, err := scan.LoadScope(ctx, m.cfg.Store, req.Department)
	if err != nil {
		return nil, err
	}
	before, err := evaluate(ctx, opts, organs, keep)
	if err != nil {
		return nil, err
	}
	opts.Engine = draft
	after, err := evaluate(ctx, opts, organs, keep)
	if err != nil {
		return nil, err
	}
	imp := &duty.PolicyImpact{AsOf: opts.AsOf, Department: req.Department, Active: m.Revision(), Draft: draft.Revision(),
		Added: []duty.Violation{}, Removed: []duty.Violation{}}
	was := map[string]bool{}
	for _, v := range before {
		was[v.Key()] = true
	}
	is := map[string]bool{}
	for _, v := range after {
		is[v.Key()] = true
		if !was[v.Key()] {
			imp.Added = append(imp.Added, v)
		} else {
			imp.Unchanged++
		}
	}
	for _, v := range before {
		if !is[v.Key()] {
			imp.Removed = append(imp.Removed, v)
		}
	}
	reasons := map[string]map[string]bool{}
	for _, e := range []*policy.Engine{active, draft} {
		for _, meta := range e.Policies() {
			if reasons[meta.ID] == nil {
				reasons[meta.ID] = map[string]bool{}
			}
			for _, r := range meta.Reasons {
				reasons[meta.ID][r] = true
			}
		}
	}
	known := map[string]bool{}
	for _, dep := range depts {
		known[dep.ID()] = true
	}
	imp.Counts = duty.ImpactCounts{Added: tally(imp.Added, reasons, known), Removed: tally(imp.Removed, reasons, known)}
	if imp.Detailed = p.Can(duty.ReadRecords); !imp.Detailed {
		imp.Added, imp.Removed = []duty.Violation{}, []duty.Violation{}
	}
	return imp, nil
}

// evaluate runs opts.Engine over the organs of a preview's scope, keeping the violations of the
// scope (keep, as scan.LoadScope gives it).
func evaluate(ctx context.Context, opts scan.Options, organs []*duty.Organ, keep map[string]bool) ([]duty.Violation, error) {
	vs, err := scan.Evaluate(ctx, opts, organs)
	if err != nil {
		return nil, err
	}
	return scan.FilterScope(vs, keep), nil
}
