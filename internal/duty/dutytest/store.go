// Package dutytest holds in-memory fakes of the services of internal/duty, for the tests of
// the edges (internal/httpapi, internal/web) whose subject is not the store: routing, sign-in,
// sessions and CSRF, error mapping, limits, the OpenAPI contract, forms and pages.
//
// The fakes keep the services' rules where those rules live in internal/duty (validation of
// records and users, a department user's scope, not found, conflicts); what only the real
// store does (its journal, write lease, organ tables and BSON) is tested on the real store. A
// test uses Store through duty.Store exactly as the binary uses internal/store.
package dutytest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/passwd"
)

// Store is an in-memory duty.Store. The zero value is not usable: call NewStore.
type Store struct {
	mu  sync.Mutex
	now func() time.Time
	pw  *passwd.Hasher

	records  map[string]map[string]duty.Doc // collection → id → record
	versions map[string]int64               // organ → version
	users    map[string]duty.User
	password map[string]password // user → password
	tokens   map[string]duty.Token
	sessions map[string]session // hash of the cookie value → session
	setup    *setupToken
	hooks    map[string]duty.Webhook
	delivery []duty.Delivery
	audit    []duty.AuditEntry
	seq      int

	scans     []duty.Scan
	revisions map[string]*revision // id → policy revision
	latest    map[string]duty.LatestReport
	counts    map[string]map[string]duty.DepartmentCounts // scan → department → counts
	organs    map[string]map[string]int                   // scan → organ → violations
	evidence  map[string][]byte
	failures  map[string]int // failed sign-ins: key|window start → count

	// down, when set, is what every call answers (a store that does not answer).
	down error
}

type password struct{ hash, stamp string }

// revision is a stored policy revision, with its files, and whether its audit entry is written.
type revision struct {
	duty.PolicyRevision
	audited bool
}

type session struct {
	user, token, password, csrf string
	expires                     time.Time
}

type setupToken struct {
	user, hash string
	expires    time.Time
}

// Config sets up a Store.
type Config struct {
	// Now is the store's clock; nil is time.Now.
	Now func() time.Time
}

// NewStore returns an empty store.
func NewStore(cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{
		now: cfg.Now,
		// The cheapest argon2id: the fake checks passwords as the store does, not as slowly.
		pw:       passwd.New(passwd.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		records:  map[string]map[string]duty.Doc{},
		versions: map[string]int64{},
		users:    map[string]duty.User{},
		password: map[string]password{},
		tokens:   map[string]duty.Token{},
		sessions: map[string]session{},
		hooks:    map[string]duty.Webhook{},
		latest:   map[string]duty.LatestReport{},
		counts:   map[string]map[string]duty.DepartmentCounts{},
		organs:   map[string]map[string]int{},
		evidence: map[string][]byte{},

		revisions: map[string]*revision{},
	}
}

var (
	_ duty.Store       = (*Store)(nil)
	_ duty.PolicyStore = (*Store)(nil)
)

// SetDown makes every later call answer err (wrapped in duty.ErrUnavailable); nil brings the
// store back.
func (s *Store) SetDown(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("store: %w: %w", duty.ErrUnavailable, err)
	}
	s.down = err
}

// lock takes the store's lock and answers the store's failure, if any.
func (s *Store) lock(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.down != nil {
		s.mu.Unlock()
		return nil, s.down
	}
	return s.mu.Unlock, nil
}

func (s *Store) stamp() string { return s.now().UTC().Format(duty.TimeFormat) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hashSecret(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

func docHash(d duty.Doc) string {
	if d == nil {
		return ""
	}
	b, _ := json.Marshal(d)
	return hashSecret(string(b))[:16]
}

// auditLocked appends an entry to the audit trail.
func (s *Store) auditLocked(e duty.AuditEntry) {
	s.seq++
	e.At = s.stamp()
	e.ID = fmt.Sprintf("%s-%08d", e.At, s.seq)
	if e.IDs == nil {
		e.IDs = []string{}
	}
	// The fingerprints of what changed, one per id, as the store keeps them.
	for len(e.Before) < len(e.IDs) {
		e.Before = append(e.Before, "")
	}
	for len(e.After) < len(e.IDs) {
		e.After = append(e.After, hashSecret(fmt.Sprint(e.Action, e.IDs, s.seq))[:16])
	}
	s.audit = append(s.audit, e)
}

// Ping answers nil unless the store is down.
func (s *Store) Ping(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	unlock()
	return nil
}

// ---- records ----

func notFound(collection, id string) error {
	return fmt.Errorf("%s %q: %w", collection, id, duty.ErrNotFound)
}

func checkCollection(collection string) error {
	if duty.Lookup(collection) == nil {
		return fmt.Errorf("collection %q: %w", collection, duty.ErrNotFound)
	}
	return nil
}

func (s *Store) departmentsLocked() []duty.Doc {
	var out []duty.Doc
	for _, id := range slices.Sorted(maps.Keys(s.records["departments"])) {
		out = append(out, s.records["departments"][id])
	}
	return out
}

func (s *Store) treeLocked() *duty.Tree { return duty.NewTree(s.departmentsLocked()) }

// organLocked is the organ of a stored record.
func (s *Store) organLocked(collection string, d duty.Doc, tree *duty.Tree) string {
	return duty.OrganOf(duty.Lookup(collection), d, tree.Organ, func(p string) string {
		return tree.Organ(s.records["people"][p].Str("department_id"))
	})
}

// inScopeLocked says whether a stored record lies in the actor's subtree.
func (s *Store) inScopeLocked(actor duty.Principal, collection string, d duty.Doc, tree *duty.Tree) bool {
	return duty.ReachOf(actor, tree).Record(collection, d, func(p string) string { return s.records["people"][p].Str("department_id") })
}

// Get returns a record.
func (s *Store) Get(ctx context.Context, collection, id string) (duty.Doc, error) {
	d, _, err := s.GetWithOrgan(ctx, collection, id)
	return d, err
}

// GetWithOrgan returns a record and its organ.
func (s *Store) GetWithOrgan(ctx context.Context, collection, id string) (duty.Doc, string, error) {
	if err := checkCollection(collection); err != nil {
		return nil, "", err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	d, ok := s.records[collection][id]
	if !ok {
		return nil, "", notFound(collection, id)
	}
	return maps.Clone(d), s.organLocked(collection, d, s.treeLocked()), nil
}

// GetScoped returns a record the actor may read; outside its subtree it is not found.
func (s *Store) GetScoped(ctx context.Context, actor duty.Principal, collection, id string) (duty.Doc, error) {
	if err := checkCollection(collection); err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, ok := s.records[collection][id]
	if !ok || !s.inScopeLocked(actor, collection, d, s.treeLocked()) {
		return nil, notFound(collection, id)
	}
	return maps.Clone(d), nil
}

// resolver is the fake as duty.Validate sees it; its methods run under the store's lock.
type resolver struct{ s *Store }

func (r resolver) Stamps(_ context.Context, collection string, ids []string) (map[string]string, error) {
	tree := r.s.treeLocked()
	out := map[string]string{}
	for _, id := range ids {
		if d, ok := r.s.records[collection][id]; ok {
			out[id] = r.s.organLocked(collection, d, tree)
		}
	}
	return out, nil
}

func (r resolver) Departments(context.Context) ([]duty.Doc, error) {
	return r.s.departmentsLocked(), nil
}

// PutBatch validates and writes a batch of one collection.
func (s *Store) PutBatch(ctx context.Context, actor duty.Principal, collection string, raw []duty.RawDoc) (int, error) {
	if err := checkCollection(collection); err != nil {
		return 0, err
	}
	return s.PutMany(ctx, actor, map[string][]duty.RawDoc{collection: raw})
}

// PutMany validates every batch (duty.Validate, and duty.ScopeProblems for a department
// user) and writes all of them or nothing, auditing each write.
func (s *Store) PutMany(ctx context.Context, actor duty.Principal, batches map[string][]duty.RawDoc) (int, error) {
	for name := range batches {
		if err := checkCollection(name); err != nil {
			return 0, err
		}
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	b, err := duty.Validate(ctx, batches, resolver{s})
	if err != nil {
		return 0, err
	}
	old := map[string]map[string]duty.Doc{}
	for c, docs := range b.Docs {
		old[c] = map[string]duty.Doc{}
		for _, d := range docs {
			if prev, ok := s.records[c][d.ID()]; ok {
				old[c][d.ID()] = prev
			}
		}
	}
	if root := actor.Scope(); root != "" {
		people := map[string]duty.Doc{}
		for _, id := range duty.ScopeNeeds(b, old) {
			if p, ok := s.records["people"][id]; ok {
				people[id] = p
			}
		}
		if probs := duty.ScopeProblems(b, root, old, people); len(probs) > 0 {
			return 0, &duty.ValidationError{Problems: probs}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err // as the store: a request that ended before the write changes nothing
	}
	written := 0
	for _, c := range duty.Collections {
		docs := b.Docs[c.Name]
		if len(docs) == 0 {
			continue
		}
		if s.records[c.Name] == nil {
			s.records[c.Name] = map[string]duty.Doc{}
		}
		e := duty.AuditEntry{Actor: actor.User, Action: "records.put", Collection: c.Name}
		for _, d := range docs {
			e.IDs = append(e.IDs, d.ID())
			e.Before = append(e.Before, docHash(old[c.Name][d.ID()]))
			e.After = append(e.After, docHash(d))
			s.records[c.Name][d.ID()] = maps.Clone(d)
			written++
		}
		s.auditLocked(e)
	}
	tree := s.treeLocked()
	for c, docs := range b.Docs {
		for _, d := range docs {
			s.versions[s.organLocked(c, d, tree)]++
		}
	}
	return written, nil
}

// Delete removes a record the actor may write, unless another record names it.
func (s *Store) Delete(ctx context.Context, actor duty.Principal, collection, id string) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tree := s.treeLocked()
	before, ok := s.records[collection][id]
	if !ok || !s.inScopeLocked(actor, collection, before, tree) {
		return notFound(collection, id)
	}
	if actor.Scope() != "" {
		people := map[string]duty.Doc{}
		for _, p := range duty.LeadersNamed(before) {
			if d, ok := s.records["people"][p]; ok {
				people[p] = d
			}
		}
		if err := duty.ScopedDeleteProblem(collection, id, before, tree, people); err != nil {
			return err
		}
	}
	var users []string
	for _, r := range s.referrersLocked(collection, id, 5) {
		users = append(users, fmt.Sprintf("%s %q (%s)", r.Ref.Collection, r.Ref.ID, r.Field))
	}
	if len(users) > 0 {
		return fmt.Errorf("%s %q is still named by %s: %w", collection, id, strings.Join(users, ", "), duty.ErrConflict)
	}
	s.versions[s.organLocked(collection, before, tree)]++
	delete(s.records[collection], id)
	s.auditLocked(duty.AuditEntry{Actor: actor.User, Action: "records.delete", Collection: collection, IDs: []string{id},
		Before: []string{docHash(before)}, After: []string{""}})
	return nil
}

func (s *Store) referrersLocked(collection, id string, limit int) []duty.Referrer {
	var out []duty.Referrer
	perField := map[string]int{}
	for _, c := range duty.Collections {
		for _, rid := range slices.Sorted(maps.Keys(s.records[c.Name])) {
			if c.Name == collection && rid == id {
				continue
			}
			seen := map[string]bool{}
			c.Refs(s.records[c.Name][rid], func(field, coll, ref string) {
				key := c.Name + "\x00" + field
				if coll != collection || ref != id || seen[field] || perField[key] >= limit {
					return
				}
				seen[field] = true
				perField[key]++
				out = append(out, duty.Referrer{Ref: duty.Ref{Collection: c.Name, ID: rid}, Field: field})
			})
		}
	}
	return out
}

// Referrers lists the records that name a record.
func (s *Store) Referrers(ctx context.Context, collection, id string, limit int) ([]duty.Referrer, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.referrersLocked(collection, id, limit), nil
}

// EachRecord calls fn with every record of collection the actor may read (its whole organ
// when organWide).
func (s *Store) EachRecord(ctx context.Context, actor duty.Principal, collection string, organWide bool, fn func(duty.Doc) error) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	tree := s.treeLocked()
	var docs []duty.Doc
	for _, id := range slices.Sorted(maps.Keys(s.records[collection])) {
		d := s.records[collection][id]
		if root := actor.Scope(); root != "" {
			if organWide && s.organLocked(collection, d, tree) != tree.Organ(root) ||
				!organWide && !s.inScopeLocked(actor, collection, d, tree) {
				continue
			}
		}
		docs = append(docs, maps.Clone(d))
	}
	unlock()
	for _, d := range docs {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// InScope reports whether department lies in the actor's subtree.
func (s *Store) InScope(ctx context.Context, actor duty.Principal, department string) (bool, error) {
	return duty.InScope(actor, department, func() (*duty.Tree, error) { return s.Tree(ctx) })
}

// Tree is the department tree.
func (s *Store) Tree(ctx context.Context) (*duty.Tree, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.treeLocked(), nil
}

// Departments lists the departments.
func (s *Store) Departments(ctx context.Context) ([]duty.Doc, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.departmentsLocked(), nil
}

// OrganRecords returns an organ's records of the collections (all when none is named).
func (s *Store) OrganRecords(ctx context.Context, organ string, collections ...string) (map[string][]duty.Doc, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if len(collections) == 0 {
		for _, c := range duty.Collections {
			collections = append(collections, c.Name)
		}
	}
	tree := s.treeLocked()
	out := map[string][]duty.Doc{}
	for _, c := range collections {
		for _, id := range slices.Sorted(maps.Keys(s.records[c])) {
			if d := s.records[c][id]; s.organLocked(c, d, tree) == organ {
				out[c] = append(out[c], maps.Clone(d))
			}
		}
	}
	return out, nil
}

// OrgansWithAppointmentsIn returns the organs holding an appointment to one of the departments.
func (s *Store) OrgansWithAppointmentsIn(ctx context.Context, departments map[string]bool) ([]string, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tree := s.treeLocked()
	set := map[string]bool{}
	for _, a := range s.records["appointments"] {
		if departments[a.Str("department_id")] {
			set[s.organLocked("appointments", a, tree)] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// LoadOrgans returns the records of the organs ids (all when nil), in the tree's order, each
// collection's sorted by id, with the department tree.
func (s *Store) LoadOrgans(ctx context.Context, ids []string) ([]*duty.Organ, *duty.Tree, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	tree := s.treeLocked()
	organs := map[string]*duty.Organ{}
	var order []*duty.Organ
	for _, id := range tree.Organs() {
		if ids == nil || slices.Contains(ids, id) {
			organs[id] = &duty.Organ{ID: id, Docs: map[string][]duty.Doc{}}
			order = append(order, organs[id])
		}
	}
	for _, c := range duty.Collections {
		for _, id := range slices.Sorted(maps.Keys(s.records[c.Name])) {
			d := s.records[c.Name][id]
			if o := organs[s.organLocked(c.Name, d, tree)]; o != nil {
				o.Docs[c.Name] = append(o.Docs[c.Name], maps.Clone(d))
			}
		}
	}
	return order, tree, nil
}

// OrganVersionOf counts the writes to an organ's records.
func (s *Store) OrganVersionOf(ctx context.Context, organ string) (duty.OrganVersion, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return duty.OrganVersion{}, err
	}
	defer unlock()
	return duty.OrganVersion{Version: s.versions[organ], Settled: true}, nil
}

// ---- reports ----

// AddScan stores a scan as a scan service would, with the counts of its report.
func (s *Store) AddScan(sc duty.Scan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scans = append(s.scans, sc)
}

// ListScans lists the newest scans first.
func (s *Store) ListScans(ctx context.Context, limit int) ([]duty.Scan, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := []duty.Scan{}
	for i := len(s.scans) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		out = append(out, s.scans[i])
	}
	return out, nil
}

// LatestReports names the latest report of each scope.
func (s *Store) LatestReports(ctx context.Context) (map[string]duty.LatestReport, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return maps.Clone(s.latest), nil
}

// DepartmentCountsOf is the count of each department's findings in a scan.
func (s *Store) DepartmentCountsOf(ctx context.Context, scanID string) (map[string]duty.DepartmentCounts, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return maps.Clone(s.counts[scanID]), nil
}

// OrganCounts is, per scan, the violations of each organ.
func (s *Store) OrganCounts(ctx context.Context, scanIDs []string) (map[string]map[string]int, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := map[string]map[string]int{}
	for _, id := range scanIDs {
		if c, ok := s.organs[id]; ok {
			out[id] = maps.Clone(c)
		}
	}
	return out, nil
}

// EvidenceContent writes an evidence file's content.
func (s *Store) EvidenceContent(ctx context.Context, id string, w io.Writer) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	b, ok := s.evidence[id]
	unlock()
	if !ok {
		return fmt.Errorf("evidence file %q: %w", id, duty.ErrNotFound)
	}
	_, err = w.Write(b)
	return err
}

// ---- accounts ----

var errSignIn = fmt.Errorf("unknown user or wrong password: %w", duty.ErrNotFound)

func (s *Store) principalLocked(user string) (*duty.Principal, error) {
	u, ok := s.users[user]
	if !ok || u.Disabled {
		return nil, fmt.Errorf("unknown or disabled user: %w", duty.ErrNotFound)
	}
	return &duty.Principal{User: u.Name, Role: u.Role, Department: u.Department, DisplayName: u.DisplayName}, nil
}

// Authenticate resolves a bearer token (dct_<id>_<secret>, or an environment admin token).
func (s *Store) Authenticate(ctx context.Context, token string) (*duty.Principal, error) {
	fail := fmt.Errorf("unknown or revoked token: %w", duty.ErrNotFound)
	var id, secret string
	if rest, ok := strings.CutPrefix(token, "dct_"); ok {
		if id, secret, ok = strings.Cut(rest, "_"); !ok {
			return nil, fail
		}
	} else {
		id, secret = "env-"+hashSecret(token)[:12], token
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, ok := s.tokens[id]
	if !ok || t.Hash != hashSecret(secret) || t.StatusAt(s.stamp()) != duty.TokenActive {
		return nil, fail
	}
	p, err := s.principalLocked(t.User)
	if err != nil {
		return nil, err
	}
	p.Token = t.ID
	return p, nil
}

// SignIn checks a user's name and password.
func (s *Store) SignIn(ctx context.Context, name, pw string) (*duty.Principal, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	u, known := s.users[name]
	p := s.password[name]
	unlock()
	ok, err := s.pw.Verify(ctx, p.hash, pw)
	if err != nil && !errors.Is(err, passwd.ErrMalformed) {
		return nil, err
	}
	if !ok || !known || u.Disabled {
		return nil, errSignIn
	}
	return &duty.Principal{User: u.Name, Role: u.Role, Department: u.Department, DisplayName: u.DisplayName, Password: p.stamp}, nil
}

// CreateSession starts a browser session bound to the principal's token or password.
func (s *Store) CreateSession(ctx context.Context, p duty.Principal, ttl time.Duration) (string, error) {
	if p.Token == "" && p.Password == "" || p.User == "" {
		return "", fmt.Errorf("a session needs the token or password it was started with: %w", duty.ErrInvalid)
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	id := randomHex(24)
	s.sessions[hashSecret(id)] = session{user: p.User, token: p.Token, password: p.Password, csrf: randomHex(16), expires: s.now().Add(ttl)}
	return id, nil
}

// Session resolves a live session: it ends with its token or password, its user, or its time.
func (s *Store) Session(ctx context.Context, id string) (*duty.Session, error) {
	gone := fmt.Errorf("no such session: %w", duty.ErrNotFound)
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, ok := s.sessions[hashSecret(id)]
	if !ok || !s.now().Before(d.expires) {
		return nil, gone
	}
	if d.token != "" {
		t, ok := s.tokens[d.token]
		if !ok || t.StatusAt(s.stamp()) != duty.TokenActive || t.User != d.user {
			return nil, gone
		}
	} else if s.password[d.user].stamp != d.password {
		return nil, gone
	}
	p, err := s.principalLocked(d.user)
	if err != nil {
		return nil, err
	}
	p.Token, p.Password = d.token, d.password
	return &duty.Session{Principal: *p, CSRF: d.csrf}, nil
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	delete(s.sessions, hashSecret(id))
	return nil
}

// Users lists the users by name.
func (s *Store) Users(ctx context.Context) ([]duty.User, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := []duty.User{}
	for _, name := range slices.Sorted(maps.Keys(s.users)) {
		u := s.users[name]
		_, u.PasswordSet = s.password[name]
		out = append(out, u)
	}
	return out, nil
}

// GetUser returns a user.
func (s *Store) GetUser(ctx context.Context, name string) (*duty.User, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	u, ok := s.users[name]
	if !ok {
		return nil, fmt.Errorf("user %q: %w", name, duty.ErrNotFound)
	}
	return &u, nil
}

func activeAdmin(u duty.User) bool { return u.Role == duty.RoleAdmin && !u.Disabled }

// PutUser creates or changes a user (duty.CheckUser); the last active admin stays one.
func (s *Store) PutUser(ctx context.Context, actor string, u duty.User) error {
	if err := duty.CheckUser(u); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if u.Department != "" {
		if _, ok := s.records["departments"][u.Department]; !ok {
			return fmt.Errorf("department %q of user %s: %w", u.Department, u.Name, duty.ErrInvalid)
		}
	}
	old, existed := s.users[u.Name]
	u.CreatedAt = s.stamp()
	if existed {
		u.CreatedAt = old.CreatedAt
	}
	if existed && activeAdmin(old) && !activeAdmin(u) {
		others := 0
		for name, o := range s.users {
			if name != u.Name && activeAdmin(o) {
				others++
			}
		}
		if others == 0 {
			return fmt.Errorf("user %s is the last active admin and cannot be demoted or disabled; make another user admin first: %w", u.Name, duty.ErrConflict)
		}
	}
	u.PasswordSet = false
	s.users[u.Name] = u
	s.auditLocked(duty.AuditEntry{Actor: actor, Action: "user.put", Collection: "users", IDs: []string{u.Name}})
	return nil
}

// SetPassword gives a user a new password (passwd.Check) and ends the user's sessions.
func (s *Store) SetPassword(ctx context.Context, actor, user, pw string) error {
	if err := passwd.Check(pw); err != nil {
		return fmt.Errorf("password of %s: %w: %w", user, duty.ErrInvalid, err)
	}
	if _, err := s.GetUser(ctx, user); err != nil {
		return err
	}
	hash, err := s.pw.Hash(ctx, pw)
	if err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	s.password[user] = password{hash: hash, stamp: randomHex(16)}
	for k, d := range s.sessions {
		if d.user == user {
			delete(s.sessions, k)
		}
	}
	s.auditLocked(duty.AuditEntry{Actor: actor, Action: "user.password", Collection: "users", IDs: []string{user}})
	return nil
}

// HasPassword reports whether the user has a password.
func (s *Store) HasPassword(ctx context.Context, user string) (bool, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	_, ok := s.password[user]
	return ok, nil
}

var errSetup = fmt.Errorf("unknown, used or expired setup link: %w", duty.ErrNotFound)

// SetupToken makes the one-time token that sets the password of user, valid for ttl.
func (s *Store) SetupToken(user string, ttl time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	token := randomHex(24)
	s.setup = &setupToken{user: user, hash: hashSecret(token), expires: s.now().Add(ttl)}
	return token
}

// SetupUser names the user whose password a live setup token sets.
func (s *Store) SetupUser(ctx context.Context, token string) (string, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if s.setup == nil || s.setup.hash != hashSecret(token) || !s.now().Before(s.setup.expires) {
		return "", errSetup
	}
	return s.setup.user, nil
}

// UseSetupToken spends a setup token on a password.
func (s *Store) UseSetupToken(ctx context.Context, token, pw string) (string, error) {
	user, err := s.SetupUser(ctx, token)
	if err != nil {
		return "", err
	}
	if err := passwd.Check(pw); err != nil {
		return "", fmt.Errorf("password of %s: %w: %w", user, duty.ErrInvalid, err)
	}
	s.mu.Lock()
	spent := s.setup != nil && s.setup.hash == hashSecret(token)
	s.setup = nil
	s.mu.Unlock()
	if !spent {
		return "", errSetup
	}
	return user, s.SetPassword(ctx, "setup", user, pw)
}

// Tokens lists the tokens of a user ("" for all), oldest first.
func (s *Store) Tokens(ctx context.Context, user string) ([]duty.Token, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := []duty.Token{}
	at := s.stamp()
	for _, t := range s.tokens {
		if user == "" || t.User == user {
			t.Status = t.StatusAt(at)
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b duty.Token) int {
		return strings.Compare(a.CreatedAt+a.ID, b.CreatedAt+b.ID)
	})
	return out, nil
}

// CreateToken makes a token without expiry.
func (s *Store) CreateToken(ctx context.Context, actor, user, name string) (*duty.Token, string, error) {
	return s.CreateTokenUntil(ctx, actor, user, name, time.Time{})
}

// CreateTokenUntil makes a token, returned with its secret.
func (s *Store) CreateTokenUntil(ctx context.Context, actor, user, name string, expires time.Time) (*duty.Token, string, error) {
	if err := duty.CheckTokenRequest(name, expires, s.now()); err != nil {
		return nil, "", err
	}
	if _, err := s.GetUser(ctx, user); err != nil {
		return nil, "", err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	id, secret := randomHex(6), randomHex(16)
	t := duty.Token{ID: id, User: user, Name: name, Hash: hashSecret(secret), CreatedAt: s.stamp()}
	if !expires.IsZero() {
		t.ExpiresAt = expires.UTC().Format(duty.TimeFormat)
	}
	s.tokens[id] = t
	s.auditLocked(duty.AuditEntry{Actor: actor, Action: "token.create", Collection: "tokens", IDs: []string{id}})
	return &t, "dct_" + id + "_" + secret, nil
}

// RevokeToken revokes a token.
func (s *Store) RevokeToken(ctx context.Context, actor, id string) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	t, ok := s.tokens[id]
	if !ok {
		return fmt.Errorf("token %q: %w", id, duty.ErrNotFound)
	}
	t.RevokedAt = s.stamp()
	s.tokens[id] = t
	s.auditLocked(duty.AuditEntry{Actor: actor, Action: "token.revoke", Collection: "tokens", IDs: []string{id},
		Before: []string{"active"}, After: []string{"revoked"}})
	return nil
}

// AuditSearch reads the audit trail, newest first.
func (s *Store) AuditSearch(ctx context.Context, q duty.AuditQuery) ([]duty.AuditEntry, bool, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	out := []duty.AuditEntry{}
	for i := len(s.audit) - 1; i >= 0; i-- {
		e := s.audit[i]
		switch {
		case q.Actor != "" && e.Actor != q.Actor,
			q.Action != "" && e.Action != q.Action,
			q.Record != "" && !slices.Contains(e.IDs, q.Record),
			q.From != "" && e.At < q.From,
			q.To != "" && e.At > q.To,
			q.Before != "" && e.ID >= q.Before:
			continue
		}
		out = append(out, e)
	}
	more := q.Limit > 0 && len(out) > q.Limit
	if more {
		out = out[:q.Limit]
	}
	return out, more, nil
}

// AuditTrail returns the newest entries of an actor ("" for all), at most limit.
func (s *Store) AuditTrail(ctx context.Context, actor string, limit int) ([]duty.AuditEntry, error) {
	out, _, err := s.AuditSearch(ctx, duty.AuditQuery{Actor: actor, Limit: limit})
	return out, err
}

// ---- policy revisions (internal/store/policies.go) ----

// meta is a stored revision without its files, as listings answer it.
func (r *revision) meta() duty.PolicyRevision {
	out := r.PolicyRevision
	out.Files = nil
	return out
}

// sortedRevisions lists the stored revisions for which keep is true, oldest first.
func (s *Store) sortedRevisions(keep func(*revision) bool) []duty.PolicyRevision {
	out := []duty.PolicyRevision{}
	for _, r := range s.revisions {
		if keep(r) {
			out = append(out, r.meta())
		}
	}
	slices.SortFunc(out, func(a, b duty.PolicyRevision) int { return int(a.Seq - b.Seq) })
	return out
}

// InsertRevision appends rev as the revision after baseSeq; another revision there already is
// duty.ErrConflict and nothing is stored.
func (s *Store) InsertRevision(ctx context.Context, rev *duty.PolicyRevision, baseSeq int64) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	rev.Seq = baseSeq + 1
	rev.ID = duty.RevisionID(rev.Seq)
	rev.CreatedAt = s.stamp()
	if _, ok := s.revisions[rev.ID]; ok {
		return fmt.Errorf("policy revision %s already exists: %w", rev.ID, duty.ErrConflict)
	}
	kept := *rev
	kept.Files = nil
	if len(rev.Files) > 0 {
		kept.Files = maps.Clone(rev.Files)
	}
	s.revisions[rev.ID] = &revision{PolicyRevision: kept}
	return nil
}

// Revisions lists the policy revisions, newest first, without their files.
func (s *Store) Revisions(ctx context.Context) ([]duty.PolicyRevision, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := s.sortedRevisions(func(*revision) bool { return true })
	slices.Reverse(out)
	return out, nil
}

// Revision returns one policy revision with its files.
func (s *Store) Revision(ctx context.Context, id string) (*duty.PolicyRevision, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := s.revisions[id]
	if !ok {
		return nil, fmt.Errorf("policy revision %q: %w", id, duty.ErrNotFound)
	}
	out := r.PolicyRevision
	out.Files = maps.Clone(r.Files)
	return &out, nil
}

// RevisionMeta returns one policy revision without its files.
func (s *Store) RevisionMeta(ctx context.Context, id string) (*duty.PolicyRevision, error) {
	r, err := s.Revision(ctx, id)
	if r != nil {
		r.Files = nil
	}
	return r, err
}

// Audit appends an entry to the audit trail.
func (s *Store) Audit(ctx context.Context, e duty.AuditEntry) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	s.auditLocked(e)
	return nil
}

// AuditRevision appends rev's entry once, at rev's time, and marks rev audited.
func (s *Store) AuditRevision(ctx context.Context, e duty.AuditEntry, rev *duty.PolicyRevision) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	e.At = rev.CreatedAt
	e.ID = rev.CreatedAt + "-" + rev.ID
	if e.IDs == nil {
		e.IDs = []string{}
	}
	if !slices.ContainsFunc(s.audit, func(a duty.AuditEntry) bool { return a.ID == e.ID }) {
		s.audit = append(s.audit, e)
	}
	unlock()
	return s.MarkRevisionAudited(ctx, rev.ID)
}

// MarkRevisionAudited records that revision id has its audit entry (nothing when there is no
// such revision, as the store's update of no document).
func (s *Store) MarkRevisionAudited(ctx context.Context, id string) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if r, ok := s.revisions[id]; ok {
		r.audited = true
	}
	return nil
}

// UnauditedRevisions lists, oldest first and without their files, the revisions not marked
// audited.
func (s *Store) UnauditedRevisions(ctx context.Context) ([]duty.PolicyRevision, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.sortedRevisions(func(r *revision) bool { return !r.audited }), nil
}

// AuditedRevisions returns the ids that the audit trail's entries about policy revisions name.
func (s *Store) AuditedRevisions(ctx context.Context) (map[string]bool, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := map[string]bool{}
	for _, e := range s.audit {
		if e.Collection == "policy_revisions" {
			for _, id := range e.IDs {
				out[id] = true
			}
		}
	}
	return out, nil
}

// ---- webhooks ----

// CreateWebhook checks and stores a webhook (Webhook.Check; its departments must exist).
func (s *Store) CreateWebhook(ctx context.Context, actor string, w *duty.Webhook) error {
	if err := w.Check(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	seen := map[string]bool{}
	for i, d := range w.Departments {
		if _, ok := s.records["departments"][d]; !ok {
			return fmt.Errorf("departments[%d] %q: %w: no such department", i, d, duty.ErrInvalid)
		}
		if seen[d] {
			return fmt.Errorf("departments[%d] %q: %w: named twice", i, d, duty.ErrInvalid)
		}
		seen[d] = true
	}
	w.ID, w.CreatedAt, w.CreatedBy, w.HasSecret = "wh-"+randomHex(6), s.stamp(), actor, w.Secret != ""
	s.hooks[w.ID] = *w
	s.auditLocked(duty.AuditEntry{Actor: actor, Action: "webhook.create", Collection: "webhooks", IDs: []string{w.ID}})
	return nil
}

// Webhooks lists the webhooks by creation.
func (s *Store) Webhooks(ctx context.Context) ([]duty.Webhook, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := []duty.Webhook{}
	for _, w := range s.hooks {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b duty.Webhook) int { return strings.Compare(a.CreatedAt+a.ID, b.CreatedAt+b.ID) })
	return out, nil
}

// GetWebhook returns a webhook.
func (s *Store) GetWebhook(ctx context.Context, id string) (*duty.Webhook, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w, ok := s.hooks[id]
	if !ok {
		return nil, fmt.Errorf("webhook %q: %w", id, duty.ErrNotFound)
	}
	return &w, nil
}

// DeleteWebhook removes a webhook.
func (s *Store) DeleteWebhook(ctx context.Context, actor, id string) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := s.hooks[id]; !ok {
		return fmt.Errorf("webhook %q: %w", id, duty.ErrNotFound)
	}
	delete(s.hooks, id)
	s.auditLocked(duty.AuditEntry{Actor: actor, Action: "webhook.delete", Collection: "webhooks", IDs: []string{id}})
	return nil
}

// AddDelivery records a delivery attempt, as the notifier does.
func (s *Store) AddDelivery(ctx context.Context, d *duty.Delivery) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if d.At == "" {
		d.At = s.stamp()
	}
	s.seq++
	d.ID = fmt.Sprintf("%s-%08d", d.At, s.seq)
	s.delivery = append(s.delivery, *d)
	return nil
}

// Deliveries lists a webhook's deliveries ("" for all), newest first, at most limit.
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]duty.Delivery, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := []duty.Delivery{}
	for i := len(s.delivery) - 1; i >= 0 && len(out) < limit; i-- {
		if d := s.delivery[i]; webhookID == "" || d.WebhookID == webhookID {
			out = append(out, d)
		}
	}
	return out, nil
}

// AddFailure counts a failed sign-in of key in the window starting at start, shared by every
// limiter on this store (ratelimit.Shared), and returns the window's count.
func (s *Store) AddFailure(ctx context.Context, key string, start time.Time, window time.Duration) (int, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if s.failures == nil {
		s.failures = map[string]int{}
	}
	k := key + "|" + start.UTC().Format(duty.TimeFormat)
	s.failures[k]++
	return s.failures[k], nil
}
