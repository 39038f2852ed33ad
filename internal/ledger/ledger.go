// Package ledger is the rectification ledger (整改台账 · 销号) and its governed waivers (豁免),
// issue 16: every failing check found by a scan becomes a case that a department works until a
// later scan closes it, and a violation that is legitimately not to be fixed may be waived for a
// while, once another user with the role inspector or admin approves it.
//
// The rules live here; the documents are kept by internal/store, which is the only truth: the
// ledger holds no state between calls, and its read-modify-writes run under the store's write
// lease, so that several processes may serve one store. Scans reach the ledger through two
// hooks of the scan service: BeforeSave (before a report is stored: approved waivers move the
// violations they cover to the report's waived list) and AfterScan (after: the cases of the
// scan's scope are brought up to date). Its parameters (rectification periods, waiver maximum,
// standing weights) are data of the policy bundle in force (duty.LedgerParams).
package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Config is the ledger's configuration. Its parameters (rectification periods, the waiver
// maximum, the standing's weights) are not here: they are data of the policy bundle (duty.LedgerParams).
type Config struct {
	// MaxFileBytes bounds an uploaded evidence file (413 above it). Default 20 MiB.
	MaxFileBytes int64
	// Today returns the current date (YYYY-MM-DD) for deadlines and overdue flags; default
	// the UTC date of the clock. Tests set it.
	Today func() string
	Log   *slog.Logger
	// Hook, for tests, is called at named points of bringing the cases up to date
	// ("sync.opened-audited": the new cases audited, none stored yet; "sync.case-written":
	// after each stored case moved); an error stops there as a crash would.
	Hook func(point string) error
}

// Deps are what the ledger works on.
type Deps struct {
	Store *store.Store
	// Engine returns the policy engine in force: its policies are the ones a waiver may name.
	Engine func() *policy.Engine
}

// Service is the ledger. It holds no state of its own: the store is the only truth, so that
// several processes serving one store agree. Every read-modify-write of cases and waivers runs
// under the store's write lease (store.LockLedger).
type Service struct {
	cfg    Config
	st     *store.Store
	engine func() *policy.Engine
	// syncMu serialises this process's passes over the scans pending for the ledger.
	syncMu sync.Mutex
}

// New returns the ledger.
func New(cfg Config, deps Deps) *Service {
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = 20 << 20
	}
	if cfg.Today == nil {
		cfg.Today = func() string { return time.Now().UTC().Format(time.DateOnly) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg, st: deps.Store, engine: deps.Engine}
}

// Config returns the ledger's configuration (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// addDays returns date + n days, both YYYY-MM-DD.
func addDays(date string, n int) (string, error) {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return "", err
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly), nil
}

// period is the rectification period of a severity among the parameters p; a severity without
// one (none but high, medium and low exist) gets the longest.
func period(p duty.LedgerParams, severity string) int {
	if d, ok := p.Periods[severity]; ok {
		return d
	}
	longest := 0
	for _, d := range p.Periods {
		longest = max(longest, d)
	}
	return longest
}

func newID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(b[:])
}

func now() string { return time.Now().UTC().Format(duty.TimeFormat) }

// tree returns the department tree.
func (s *Service) tree(ctx context.Context) (*duty.Tree, error) {
	// The store keeps the tree while the departments are the same: building it anew for each
	// organ of the overview cost the whole tree per organ.
	return s.st.Tree(ctx)
}

// mustSee is nil when the principal may see a record of department, else what of kind and id
// is not found (duty.ErrNotFound: a record outside a department user's subtree is not
// found). It reads the department tree only for a department user.
func (s *Service) mustSee(ctx context.Context, p duty.Principal, department, kind, id string) error {
	ok, err := duty.InScope(p, department, func() (*duty.Tree, error) { return s.tree(ctx) })
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%s %q: %w", kind, id, duty.ErrNotFound)
	}
	return nil
}

func (s *Service) hook(point string) error {
	if s.cfg.Hook == nil {
		return nil
	}
	return s.cfg.Hook(point)
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:16]
}

// Bounds of what a user writes into a case or a waiver. A case is one document (MongoDB holds
// at most 16 MiB), read whole by its page and rewritten by every move, and each record a
// submission links is read under the store's write lease.
const (
	// MaxTextChars bounds a note, a rectification, a waiver's reason and a decision's note.
	MaxTextChars = 2000
	// MaxOwnerChars bounds the name of a case's owner.
	MaxOwnerChars = 128
	// MaxEvidence bounds the records, and the files, one submission links.
	MaxEvidence = 100
	// MaxHistory bounds the events of a case a user's action may add to.
	MaxHistory = 1000
)

// checkText refuses text over max characters or with a control character (duty.ControlChar;
// lines lets a multi-line text keep its tabs and line breaks): duty.ErrInvalid, naming the field.
func checkText(field, text string, max int, lines bool) error {
	if n := utf8.RuneCountInString(text); n > max {
		return invalid("%s: too long: %d characters, at most %d", field, n, max)
	}
	if i := duty.ControlChar(text, lines); i >= 0 {
		r, _ := utf8.DecodeRuneInString(text[i:])
		return invalid("%s: must not contain control characters, got %U at byte %d", field, r, i)
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", duty.ErrInvalid, fmt.Sprintf(format, args...))
}

// MaxFileBytes bounds an uploaded evidence file (Config.MaxFileBytes).
func (s *Service) MaxFileBytes() int64 { return s.cfg.MaxFileBytes }

// Service is the ledger the edges use (duty.Ledger).
var _ duty.Ledger = (*Service)(nil)
