package duty

import (
	"context"
	"fmt"
	"io"
	"time"
)

// The services below are what the edges (internal/httpapi and internal/web) use. The edges
// hold these interfaces, never the concrete types, so that they translate HTTP to calls and
// errors to statuses and nothing more, and so that their tests run on in-memory fakes
// (internal/duty/dutytest). internal/store implements Store and internal/scan ScanRunner, which
// the edges reach through ScopedScans; cmd/dutycheck wires them. Every method that takes an actor checks the actor's role and
// department subtree itself and audits what it changes: the edges check nothing twice.

// Records reads and writes the records of the collections (DOMAIN.md).
type Records interface {
	// Get returns a record whatever the actor: for the edges' own look-ups (a department's
	// name, a subject's organ); the pages show a record through GetScoped.
	Get(ctx context.Context, collection, id string) (Doc, error)
	// GetWithOrgan is Get with the id of the organ the record belongs to.
	GetWithOrgan(ctx context.Context, collection, id string) (Doc, string, error)
	// GetScoped returns a record the actor may read: outside the actor's subtree it is
	// ErrNotFound, as if it did not exist.
	GetScoped(ctx context.Context, actor Principal, collection, id string) (Doc, error)
	// PutBatch validates a batch of one collection and writes all of it or nothing
	// (*ValidationError lists every problem).
	PutBatch(ctx context.Context, actor Principal, collection string, raw []RawDoc) (int, error)
	// PutMany is PutBatch over several collections at once.
	PutMany(ctx context.Context, actor Principal, batches map[string][]RawDoc) (int, error)
	// Delete removes a record the actor may write; a record still named by another is
	// ErrConflict.
	Delete(ctx context.Context, actor Principal, collection, id string) error
	// EachRecord calls fn with every record of collection the actor may read (of the actor's
	// organ when organWide).
	EachRecord(ctx context.Context, actor Principal, collection string, organWide bool, fn func(Doc) error) error
	// InScope reports whether department lies in the actor's subtree.
	InScope(ctx context.Context, actor Principal, department string) (bool, error)
	// Tree is the department tree.
	Tree(ctx context.Context) (*Tree, error)
	// Departments lists every department record.
	Departments(ctx context.Context) ([]Doc, error)
	// OrganRecords returns the records of one organ, by collection.
	OrganRecords(ctx context.Context, organ string, collections ...string) (map[string][]Doc, error)
	// OrganVersionOf is the version of an organ's records, for caches of them.
	OrganVersionOf(ctx context.Context, organ string) (OrganVersion, error)
	// Referrers lists up to limit records (per field) that name the record.
	Referrers(ctx context.Context, collection, id string, limit int) ([]Referrer, error)
}

// Reports reads the stored scans, their reports' counts and the policy revisions.
type Reports interface {
	ListScans(ctx context.Context, limit int) ([]Scan, error)
	// LatestReports names the latest report of every scope that has one ("" is the whole store).
	LatestReports(ctx context.Context) (map[string]LatestReport, error)
	// DepartmentCountsOf is the count of every department's own findings in a scan.
	DepartmentCountsOf(ctx context.Context, scanID string) (map[string]DepartmentCounts, error)
	// OrganCounts is, per scan, the violations of each organ.
	OrganCounts(ctx context.Context, scanIDs []string) (map[string]map[string]int, error)
	Revisions(ctx context.Context) ([]PolicyRevision, error)
	Revision(ctx context.Context, id string) (*PolicyRevision, error)
	// EvidenceContent writes the content of an evidence file (the ledger checked the reader).
	EvidenceContent(ctx context.Context, id string, w io.Writer) error
}

// Accounts holds the users, their tokens and passwords, and the browser sessions. A token,
// a password or a session that does not sign in is ErrNotFound, whatever the reason.
type Accounts interface {
	// Authenticate resolves a bearer token to its principal.
	Authenticate(ctx context.Context, token string) (*Principal, error)
	// SignIn resolves a user name and password to a principal.
	SignIn(ctx context.Context, name, password string) (*Principal, error)
	// CreateSession starts a session for a principal signed in by token or password and
	// returns its cookie value; it ends with that token or password, or after ttl.
	CreateSession(ctx context.Context, p Principal, ttl time.Duration) (string, error)
	// Session resolves a cookie value to a live session.
	Session(ctx context.Context, id string) (*Session, error)
	DeleteSession(ctx context.Context, id string) error

	Users(ctx context.Context) ([]User, error)
	GetUser(ctx context.Context, name string) (*User, error)
	// PutUser creates or changes a user; the last active admin can be neither demoted nor
	// disabled (ErrConflict).
	PutUser(ctx context.Context, actor string, u User) error
	SetPassword(ctx context.Context, actor, user, password string) error
	HasPassword(ctx context.Context, user string) (bool, error)
	// SetupUser names the user of a password set-up token; UseSetupToken sets the password.
	SetupUser(ctx context.Context, token string) (string, error)
	UseSetupToken(ctx context.Context, token, password string) (string, error)

	// Tokens lists the tokens (without hashes) of a user, or of all users for "".
	Tokens(ctx context.Context, user string) ([]Token, error)
	// CreateTokenUntil makes a token and returns it with its secret, shown once.
	CreateTokenUntil(ctx context.Context, actor, user, name string, expires time.Time) (*Token, string, error)
	RevokeToken(ctx context.Context, actor, id string) error

	// AuditSearch reads the audit trail, newest first; the bool tells whether more follow.
	AuditSearch(ctx context.Context, q AuditQuery) ([]AuditEntry, bool, error)
}

// Webhooks holds the webhooks and their deliveries.
type Webhooks interface {
	Webhooks(ctx context.Context) ([]Webhook, error)
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	CreateWebhook(ctx context.Context, actor string, w *Webhook) error
	DeleteWebhook(ctx context.Context, actor, id string) error
	Deliveries(ctx context.Context, webhookID string, limit int) ([]Delivery, error)
}

// Store is every stored service the edges use, in one value (internal/store.Store).
type Store interface {
	Records
	Reports
	Accounts
	Webhooks
	// Ping reports whether the store answers (readiness).
	Ping(ctx context.Context) error
}

// ScanRunner runs scans and reads their reports for anybody (internal/scan.Service): the
// service's own work. The edges reach it through Scans (ScopedScans).
type ScanRunner interface {
	// Start checks the request and runs a scan: to the end when wait, else in the
	// background. Too many scans at once is ErrBusy.
	Start(ctx context.Context, req ScanRequest, wait bool) (*Scan, error)
	Get(ctx context.Context, id string) (*Scan, error)
	// Latest is the latest report of a department's subtree ("" the whole store).
	Latest(ctx context.Context, department string) (*Report, error)
	// Slot takes one of the scans' places for work as heavy as a scan (a preview), or
	// refuses with ErrBusy.
	Slot() (release func(), err error)
}

// Scans are the scans as an actor may start and see them: a department outside the actor's
// subtree, and its scans and reports, are ErrNotFound, as if they did not exist.
type Scans interface {
	// Start runs a scan of req.Department ("" the actor's scope).
	Start(ctx context.Context, actor Principal, req ScanRequest, wait bool) (*Scan, error)
	Get(ctx context.Context, actor Principal, id string) (*Scan, error)
	// List lists the actor's scans among the newest limit, newest first.
	List(ctx context.Context, actor Principal, limit int) ([]Scan, error)
	Latest(ctx context.Context, actor Principal, department string) (*Report, error)
	Slot() (release func(), err error)
}

// ScopedScans returns the scans of run as actors may see them, their scope read from st.
func ScopedScans(run ScanRunner, st ScanScope) Scans { return scopedScans{run, st} }

// ScanScope is what ScopedScans reads of the store.
type ScanScope interface {
	InScope(ctx context.Context, actor Principal, department string) (bool, error)
	ListScans(ctx context.Context, limit int) ([]Scan, error)
	Tree(ctx context.Context) (*Tree, error)
}

type scopedScans struct {
	run ScanRunner
	st  ScanScope
}

// visible answers notFound unless department lies in the actor's subtree.
func (s scopedScans) visible(ctx context.Context, actor Principal, department string, notFound error) error {
	ok, err := s.st.InScope(ctx, actor, department)
	switch {
	case err != nil:
		return err
	case !ok:
		return notFound
	}
	return nil
}

func (s scopedScans) Start(ctx context.Context, actor Principal, req ScanRequest, wait bool) (*Scan, error) {
	if req.Department == "" {
		req.Department = actor.Scope()
	}
	if err := s.visible(ctx, actor, req.Department, fmt.Errorf("department %q: %w", req.Department, ErrNotFound)); err != nil {
		return nil, err
	}
	return s.run.Start(ctx, req, wait)
}

func (s scopedScans) Get(ctx context.Context, actor Principal, id string) (*Scan, error) {
	sc, err := s.run.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.visible(ctx, actor, sc.Department, fmt.Errorf("scan %q: %w", sc.ID, ErrNotFound)); err != nil {
		return nil, err
	}
	return sc, nil
}

func (s scopedScans) List(ctx context.Context, actor Principal, limit int) ([]Scan, error) {
	scans, err := s.st.ListScans(ctx, limit)
	if err != nil {
		return nil, err
	}
	var reach Reach // the whole tree, unless the actor has a scope
	if actor.Scope() != "" {
		tree, err := s.st.Tree(ctx) // once, not once a scan (InScope)
		if err != nil {
			return nil, err
		}
		reach = ReachOf(actor, tree)
	}
	visible := []Scan{}
	for _, sc := range scans {
		if reach.Department(sc.Department) {
			visible = append(visible, sc)
		}
	}
	return visible, nil
}

func (s scopedScans) Latest(ctx context.Context, actor Principal, department string) (*Report, error) {
	if err := s.visible(ctx, actor, department, fmt.Errorf("department %q: %w", department, ErrNotFound)); err != nil {
		return nil, err
	}
	return s.run.Latest(ctx, department)
}

func (s scopedScans) Slot() (func(), error) { return s.run.Slot() }

// ScanRequest asks for a scan.
type ScanRequest struct {
	Department string `json:"department"`
	AsOf       string `json:"as_of"`
	// Full evaluates every organ again instead of reusing the results of organs unchanged since
	// the previous scan of the scope (benchmarks and tests compare the two).
	Full bool `json:"-"`
}

// Session is a signed-in browser: who, and the CSRF token its forms carry.
type Session struct {
	Principal Principal
	CSRF      string
}

// AuditQuery selects entries of the audit trail. Empty fields select everything.
type AuditQuery struct {
	Actor  string
	Action string
	// Record is an id the entry names (a record, a user, a token, a policy revision…).
	Record string
	// From and To bound the entries' time, inclusive, as TimeFormat strings (UTC); "" leaves
	// that end open.
	From, To string
	// Before continues a listing: only entries with an id before this one (the last id of the
	// previous page).
	Before string
	// Limit is the most entries answered; 0 is all of them.
	Limit int
}

// Referrer is a record that names another one: its collection, id and the field that names it.
type Referrer struct {
	Ref   Ref
	Field string
}

// OrganVersion is the state of one organ's records.
type OrganVersion struct {
	// Version increases with every write to one of the organ's records.
	Version int64
	// Settled is false while a write to the organ is under way (or was interrupted): its
	// records may be changing, so no result computed from them is reused.
	Settled bool
}

// LatestReport names the scan whose report a scope shows: the latest as-of date's, the last
// run of that date.
type LatestReport struct {
	Scope, ScanID, AsOf, FinishedAt, PolicyRevision, GeneratedAt string
}

// Later reports whether l is a later report than o: a later as-of date, or the same date run
// later (then the later scan id).
func (l LatestReport) Later(o LatestReport) bool {
	if l.AsOf != o.AsOf {
		return l.AsOf > o.AsOf
	}
	if l.FinishedAt != o.FinishedAt {
		return l.FinishedAt > o.FinishedAt
	}
	return l.ScanID > o.ScanID
}

// LatestFor picks, from the latest reports of the scopes (Reports.LatestReports), the latest
// report covering department: of the whole store, the department or an ancestor
// (Tree.Covering). False when none does.
func LatestFor(latest map[string]LatestReport, tree *Tree, department string) (LatestReport, bool) {
	var best LatestReport
	found := false
	for _, sc := range tree.Covering(department) {
		if l, ok := latest[sc]; ok && (!found || l.Later(best)) {
			best, found = l, true
		}
	}
	return best, found
}

// Count is a key and a number.
type Count struct {
	Key string `bson:"k"`
	N   int    `bson:"n"`
}

// DepartmentCounts summarises one department's own findings in a scan (not its subtree's).
type DepartmentCounts struct {
	Department string         `bson:"d"`
	Violations int            `bson:"v"`
	BySeverity map[string]int `bson:"s,omitempty"`
	// ByPolicy is a list, not a map: policy ids hold dots, which FerretDB refuses in keys.
	ByPolicy   []Count `bson:"p,omitempty"`
	New        int     `bson:"new,omitempty"`
	Persisting int     `bson:"per,omitempty"`
	Resolved   int     `bson:"res,omitempty"`
	Warnings   int     `bson:"w,omitempty"`
	Waived     int     `bson:"x,omitempty"`
}

// AuditDays turns the dates from and to (YYYY-MM-DD, either "" for an open end) into the
// bounds of AuditQuery: from the start of from to the end of to, as days of loc (the server's
// time zone, the one the pages show times in). A malformed date, or to before from, is
// ErrInvalid naming the field.
func AuditDays(from, to string, loc *time.Location) (string, string, error) {
	var bounds [2]string
	var days [2]time.Time
	for i, f := range []struct{ name, value string }{{"from", from}, {"to", to}} {
		if f.value == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, f.value, loc)
		if err != nil {
			return "", "", fmt.Errorf("%s %q: %w: expected a date YYYY-MM-DD", f.name, f.value, ErrInvalid)
		}
		days[i] = d
		if i == 1 {
			d = d.AddDate(0, 0, 1).Add(-time.Microsecond)
		}
		bounds[i] = d.UTC().Format(TimeFormat)
	}
	if from != "" && to != "" && days[1].Before(days[0]) {
		return "", "", fmt.Errorf("to %s is before from %s: %w", to, from, ErrInvalid)
	}
	return bounds[0], bounds[1], nil
}
