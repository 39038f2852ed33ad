// Package live keeps the policies in force while the service runs: revisions of the whole
// bundle in the store, the compile-and-test gate every change passes, atomic activation and
// rollback, impact previews, and the poll that makes every process sharing the store follow the
// active revision within seconds. In directory mode it watches a policy folder instead of taking
// changes through the API.
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
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Config wires a Manager.
type Config struct {
	Store *store.Store
	// Builtin is the bundle that seeds the first revision of an empty store.
	Builtin *policy.Bundle
	// Dir, when set, is the policy folder to follow (directory mode); API changes are refused.
	Dir string
	// PollInterval is how often the active-revision marker (and the folder) is checked; 0 means 500ms.
	PollInterval time.Duration
	Log          *slog.Logger
	// Sandbox, when set, runs the gate's tests and evaluates drafts (previews) in child
	// processes with bounded memory and time; the service always sets it. Without it (tests)
	// they run in this process.
	Sandbox *policy.Sandbox
}

// Manager holds the engine in force and changes it safely.
type Manager struct {
	cfg      Config
	current  atomic.Pointer[state]
	refused  atomic.Pointer[Refusal]
	previous atomic.Pointer[string] // hash in force before the last change, for the audit trail
	mu       sync.Mutex             // serialises changes made by this process
	dirHash  string
}

type state struct {
	engine    *policy.Engine
	revision  string // store revision id, e.g. "r3"
	markerSeq int64
}

// Refusal is a change that did not pass the gate in directory mode.
type Refusal struct {
	At       string           `json:"at"`
	Problems []policy.Problem `json:"problems"`
}

// New loads the policies in force: in directory mode the folder (recorded as a revision when it
// changed), else the store's active revision, seeding the built-in bundle into an empty store.
// A broken folder does not stop the start: the last good revision serves and the refusal is
// reported by Refused.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := &Manager{cfg: cfg}
	if cfg.Dir != "" {
		if err := m.syncDir(ctx); err != nil {
			var be *policy.BundleError
			if !errors.As(err, &be) {
				return nil, err
			}
		}
		if m.current.Load() != nil {
			return m, nil
		}
	}
	if err := m.follow(ctx); err == nil {
		return m, nil
	} else if !errors.Is(err, duty.ErrNotFound) {
		return nil, err
	}
	// An empty store: the built-in bundle is the first revision.
	if _, err := m.commit(ctx, cfg.Builtin, "system", "built-in bundle"); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Manager) setCurrent(st *state) {
	if cur := m.current.Load(); cur != nil {
		h := cur.engine.Revision()
		m.previous.Store(&h)
	}
	m.current.Store(st)
}

// Engine returns the engine in force. Scans take it once at their start.
func (m *Manager) Engine() *policy.Engine { return m.current.Load().engine }

// Revision returns the id of the store revision in force.
func (m *Manager) Revision() string { return m.current.Load().revision }

// Refused returns the last change refused in directory mode since the last good one, or nil.
func (m *Manager) Refused() *Refusal { return m.refused.Load() }

// DirMode reports whether the policies follow a folder.
func (m *Manager) DirMode() bool { return m.cfg.Dir != "" }

// Run polls until ctx ends: the store's active-revision marker (a change made by another
// process) and, in directory mode, the folder.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if m.cfg.Dir != "" {
			if err := m.syncDir(ctx); err != nil && ctx.Err() == nil {
				m.cfg.Log.Warn("policy folder change refused; the last good revision keeps serving", "folder", m.cfg.Dir, "err", err)
			}
		}
		if err := m.follow(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Log.Warn("follow active policy revision", "err", err)
		}
	}
}

// follow loads the store's active revision when the marker moved.
func (m *Manager) follow(ctx context.Context) error {
	a, err := m.cfg.Store.Active(ctx)
	if err != nil {
		return err
	}
	if cur := m.current.Load(); cur != nil && cur.markerSeq == a.Seq {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.current.Load(); cur != nil && cur.markerSeq >= a.Seq {
		return nil
	}
	rev, err := m.cfg.Store.Revision(ctx, a.Revision)
	if err != nil {
		return err
	}
	eng, err := policy.Compile(ctx, &policy.Bundle{Files: rev.Files})
	if err != nil {
		return fmt.Errorf("compile active revision %s: %w", rev.ID, err)
	}
	m.current.Store(&state{engine: m.bind(eng), revision: rev.ID, markerSeq: a.Seq})
	m.cfg.Log.Info("policy revision in force", "revision", rev.ID, "hash", eng.Revision())
	return nil
}

// syncDir reloads the folder when its content changed: through the gate, then recorded and
// activated; a refused change is kept for Refused.
func (m *Manager) syncDir(ctx context.Context) error {
	b, err := policy.LoadDir(m.cfg.Dir)
	if err != nil {
		m.refuse([]policy.Problem{{File: m.cfg.Dir, Message: err.Error()}})
		return err
	}
	h := b.Revision()
	if h == m.dirHash {
		return nil
	}
	m.dirHash = h
	if cur := m.current.Load(); cur != nil && cur.engine.Revision() == h {
		m.refused.Store(nil)
		return nil
	}
	if _, err := m.commit(ctx, b, "folder "+m.cfg.Dir, "changed in the policy folder"); err != nil {
		var be *policy.BundleError
		if errors.As(err, &be) {
			m.refuse(be.Problems)
		}
		return err
	}
	m.refused.Store(nil)
	return nil
}

func (m *Manager) refuse(probs []policy.Problem) {
	m.refused.Store(&Refusal{At: time.Now().UTC().Format(time.RFC3339), Problems: probs})
}

// commit gates a bundle (compile and Rego tests), stores it as a new revision, activates it and
// puts it in force in this process at once.
func (m *Manager) commit(ctx context.Context, b *policy.Bundle, author, message string) (*duty.PolicyRevision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	eng, _, err := m.check(ctx, b)
	if err != nil {
		return nil, err
	}
	parent := ""
	if cur := m.current.Load(); cur != nil {
		parent = cur.revision
	}
	rev := &duty.PolicyRevision{Hash: eng.Revision(), Author: author, Message: message, Parent: parent, Files: b.Files}
	if err := m.cfg.Store.SaveRevision(ctx, rev); err != nil {
		return nil, err
	}
	a, err := m.cfg.Store.Activate(ctx, rev.ID, author)
	if err != nil {
		return nil, err
	}
	m.setCurrent(&state{engine: m.bind(eng), revision: rev.ID, markerSeq: a.Seq})
	m.cfg.Log.Info("policy revision activated", "revision", rev.ID, "hash", rev.Hash, "author", author, "message", message)
	return rev, nil
}

// Draft is a proposed change to the bundle in force.
type Draft struct {
	// Files maps a bundle path to its new content; null deletes the file.
	Files map[string]*string `json:"files,omitempty"`
	// Params maps a policy id to parameter values to change.
	Params map[string]map[string]any `json:"params,omitempty"`
	// Message says why (kept with the revision).
	Message string `json:"message,omitempty"`
	// Replace starts from an empty bundle instead of the one in force (a whole folder pushed).
	Replace bool `json:"replace,omitempty"`
}

// Bundle applies the draft to the bundle in force. Paths must be clean relative paths of .rego
// or data.json files (or params/overrides.json).
func (m *Manager) Bundle(d Draft) (*policy.Bundle, error) {
	b := m.Engine().Bundle().Clone()
	if d.Replace {
		b = &policy.Bundle{Files: map[string]string{}}
	}
	var probs []policy.Problem
	for p, content := range d.Files {
		clean := path.Clean(p)
		switch {
		case clean != p || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "..") || strings.Contains(p, "\\"):
			probs = append(probs, policy.Problem{File: p, Message: "must be a clean relative path inside the bundle"})
		case !strings.HasSuffix(p, ".rego") && path.Base(p) != "data.json" && p != policy.OverridesFile:
			probs = append(probs, policy.Problem{File: p, Message: "is not a bundle file: expected a .rego module, a data.json or " + policy.OverridesFile})
		case content == nil:
			if _, ok := b.Files[p]; !ok {
				probs = append(probs, policy.Problem{File: p, Message: "cannot be deleted: no such file in the bundle"})
			}
			delete(b.Files, p)
		default:
			b.Files[p] = *content
		}
	}
	if len(probs) > 0 {
		return nil, &policy.BundleError{Problems: probs}
	}
	ids := make([]string, 0, len(d.Params))
	for id := range d.Params {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, ok := m.Engine().Policy(id); !ok && d.Files == nil {
			return nil, fmt.Errorf("policy %q: %w", id, duty.ErrNotFound)
		}
		var err error
		if b, err = b.WithParams(id, d.Params[id]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Validate runs the gate over a draft without storing anything.
func (m *Manager) Validate(ctx context.Context, d Draft) ([]policy.TestResult, error) {
	b, err := m.Bundle(d)
	if err != nil {
		return nil, err
	}
	_, results, err := m.check(ctx, b)
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
func (m *Manager) check(ctx context.Context, b *policy.Bundle) (*policy.Engine, []policy.TestResult, error) {
	if m.cfg.Sandbox != nil {
		return m.cfg.Sandbox.Check(ctx, b)
	}
	return policy.Check(ctx, b)
}

// ErrDirMode refuses API changes while the policies follow a folder.
var ErrDirMode = errors.New("the policies follow a folder (serve --policies); change the files there")

// Apply gates a draft and, when it passes, stores and activates it as a new revision.
func (m *Manager) Apply(ctx context.Context, d Draft, author string) (*duty.PolicyRevision, error) {
	if m.DirMode() {
		return nil, fmt.Errorf("%w: %w", ErrDirMode, duty.ErrConflict)
	}
	b, err := m.Bundle(d)
	if err != nil {
		return nil, err
	}
	if b.Revision() == m.Engine().Revision() {
		return nil, fmt.Errorf("the draft changes nothing: %w", duty.ErrInvalid)
	}
	msg := d.Message
	if msg == "" {
		msg = "changed through the API"
	}
	return m.commit(ctx, b, author, msg)
}

// Rollback re-activates an earlier revision after passing it through the gate again (the
// engine may have changed since it was stored).
func (m *Manager) Rollback(ctx context.Context, id, author string) (*duty.PolicyRevision, error) {
	if m.DirMode() {
		return nil, fmt.Errorf("%w: %w", ErrDirMode, duty.ErrConflict)
	}
	rev, err := m.cfg.Store.Revision(ctx, id)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	eng, _, err := m.check(ctx, &policy.Bundle{Files: rev.Files})
	if err != nil {
		return nil, err
	}
	a, err := m.cfg.Store.Activate(ctx, rev.ID, author)
	if err != nil {
		return nil, err
	}
	m.setCurrent(&state{engine: m.bind(eng), revision: rev.ID, markerSeq: a.Seq})
	m.cfg.Log.Info("policy revision re-activated", "revision", rev.ID, "author", author)
	return rev, nil
}

// Impact is what a draft would change in a scope's violations, relative to the revision in force.
type Impact struct {
	AsOf       string `json:"as_of"`
	Department string `json:"department,omitempty"`
	Active     string `json:"active_revision"`
	Draft      string `json:"draft_hash"`
	// Detailed tells whether Added and Removed list the violations: only for a caller who may
	// read records, and only inside its scope. Others get Counts alone.
	Detailed  bool             `json:"detailed"`
	Added     []duty.Violation `json:"added"`
	Removed   []duty.Violation `json:"removed"`
	Unchanged int              `json:"unchanged"`
	Counts    ImpactCounts     `json:"counts"`
}

// ImpactCounts counts the violations a draft adds and removes.
type ImpactCounts struct {
	Added   Tally `json:"added"`
	Removed Tally `json:"removed"`
}

// Tally counts violations by policy, by policy and reason ("<policy>/<reason>") and by
// department. A draft writes its violations' reason and department itself, so that it could
// smuggle record contents through them: a reason its policy's METADATA does not list, and a
// department the store does not hold, are counted under "(other)".
type Tally struct {
	Total        int            `json:"total"`
	ByPolicy     map[string]int `json:"by_policy"`
	ByReason     map[string]int `json:"by_reason"`
	ByDepartment map[string]int `json:"by_department"`
}

const otherKey = "(other)"

func tally(vs []duty.Violation, reasons map[string]map[string]bool, depts map[string]bool) Tally {
	t := Tally{Total: len(vs), ByPolicy: map[string]int{}, ByReason: map[string]int{}, ByDepartment: map[string]int{}}
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
func (m *Manager) Preview(ctx context.Context, d Draft, req scan.Request, p duty.Principal) (*Impact, error) {
	b, err := m.Bundle(d)
	if err != nil {
		return nil, err
	}
	depts, err := m.cfg.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	tree := duty.NewTree(depts)
	if root := p.Scope(); root != "" {
		if req.Department == "" {
			req.Department = root
		}
		if !tree.Subtree(root)[req.Department] {
			return nil, fmt.Errorf("department %q: %w", req.Department, duty.ErrNotFound)
		}
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
	draft, _, err := m.check(ctx, b)
	if err != nil {
		return nil, err
	}
	if m.cfg.Sandbox != nil {
		draft = m.cfg.Sandbox.Bind(draft)
		defer draft.Close()
	}
	before, opts, err := m.evaluate(ctx, active, req)
	if err != nil {
		return nil, err
	}
	after, _, err := m.evaluate(ctx, draft, req)
	if err != nil {
		return nil, err
	}
	imp := &Impact{AsOf: opts.AsOf, Department: req.Department, Active: m.Revision(), Draft: draft.Revision(),
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
	imp.Counts = ImpactCounts{Added: tally(imp.Added, reasons, known), Removed: tally(imp.Removed, reasons, known)}
	if imp.Detailed = p.Can(duty.ReadRecords); !imp.Detailed {
		imp.Added, imp.Removed = []duty.Violation{}, []duty.Violation{}
	}
	return imp, nil
}

func (m *Manager) evaluate(ctx context.Context, eng *policy.Engine, req scan.Request) ([]duty.Violation, scan.Options, error) {
	opts := scan.Options{AsOf: req.AsOf, Department: req.Department, Engine: eng}
	if err := opts.Normalize(ctx); err != nil {
		return nil, opts, err
	}
	organs, keep, err := scan.LoadScope(ctx, m.cfg.Store, req.Department)
	if err != nil {
		return nil, opts, err
	}
	vs, err := scan.Evaluate(ctx, opts, organs)
	if err != nil {
		return nil, opts, err
	}
	return scan.FilterScope(vs, keep), opts, nil
}

// Previous returns the content hash of the revision that was in force before the latest change
// made by this process ("" when none), for the audit trail.
func (m *Manager) Previous() string {
	if p := m.previous.Load(); p != nil {
		return *p
	}
	return ""
}
