package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

var sharedN atomic.Int64

// sharedStores opens n stores on one fresh database, each with a client of its own: n processes
// sharing a MongoDB.
func sharedStores(tb testing.TB, n int) []*store.Store {
	tb.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("shared_%d_%d", time.Now().UnixNano()%1e9, sharedN.Add(1))
	var out []*store.Store
	for range n {
		st, err := store.Open(ctx, store.Config{URI: storetest.URI(tb), Database: name})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, st)
	}
	_ = out[0].Drop(ctx) // a database left by an earlier run
	tb.Cleanup(func() {
		_ = out[0].Drop(context.Background())
		for _, st := range out {
			_ = st.Close(context.Background())
		}
	})
	return out
}

func paramDraft(id, name string, v any) duty.PolicyDraft {
	return duty.PolicyDraft{Params: map[string]map[string]any{id: {name: v}}}
}

// change is one kind of change racing others.
type change struct {
	name string
	do   func(m *live.Manager, base string) (*duty.PolicyRevision, error)
}

func applyParam(id, name string, v any) change {
	return change{fmt.Sprintf("%s.%s=%v", id, name, v), func(m *live.Manager, base string) (*duty.PolicyRevision, error) {
		return m.Apply(context.Background(), paramDraft(id, name, v), duty.PolicyChange{Base: base, Author: "u-" + name})
	}}
}

func rollbackTo(id string) change {
	return change{"rollback to " + id, func(m *live.Manager, base string) (*duty.PolicyRevision, error) {
		return m.Rollback(context.Background(), id, duty.PolicyChange{Base: base, Author: "u-rollback"})
	}}
}

// race runs the changes at once, each on base, and returns the revisions made and the errors.
func race(ms []*live.Manager, base string, changes []change) ([]*duty.PolicyRevision, []error) {
	revs := make([]*duty.PolicyRevision, len(changes))
	errs := make([]error, len(changes))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			revs[i], errs[i] = c.do(ms[i%len(ms)], base)
		}()
	}
	close(start)
	wg.Wait()
	return revs, errs
}

// checkOneWinner checks that exactly one change won and every other one was refused as stale,
// naming the winner as the revision in force.
func checkOneWinner(t *testing.T, revs []*duty.PolicyRevision, errs []error) *duty.PolicyRevision {
	t.Helper()
	var won *duty.PolicyRevision
	for i, err := range errs {
		if err == nil {
			if won != nil {
				t.Fatalf("two changes made on the same base both succeeded: %s and %s", won.ID, revs[i].ID)
			}
			won = revs[i]
		}
	}
	if won == nil {
		t.Fatalf("no change won: %v", errs)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		var se *duty.StaleError
		if !errors.As(err, &se) || !errors.Is(err, duty.ErrConflict) {
			t.Errorf("the losing change: err = %v, want a StaleError matching ErrConflict", err)
		} else if se.Current != won.ID {
			t.Errorf("the losing change was told %s is in force, want %s", se.Current, won.ID)
		}
	}
	return won
}

// Concurrent changes in one process: exactly one wins, the others are refused; none is lost.
func TestConcurrentChangesInOneProcess(t *testing.T) {
	for _, tc := range []struct {
		note    string
		changes []change
	}{
		{"two parameters of two policies", []change{applyParam("meeting.joint", "max_gap_days", 33), applyParam("talk.pre_appointment", "max_days_before", 33)}},
		{"the same parameter", []change{applyParam("meeting.joint", "max_gap_days", 31), applyParam("meeting.joint", "max_gap_days", 32), applyParam("meeting.joint", "max_gap_days", 34)}},
		{"a change against a rollback", []change{applyParam("meeting.joint", "max_gap_days", 33), rollbackTo("r1")}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t)
			m := newManager(t, st, "")
			if _, err := m.Apply(ctx, paramDraft("talk.pre_appointment", "max_days_before", 80), duty.PolicyChange{Base: "r1", Author: "setup"}); err != nil {
				t.Fatal(err)
			}
			revs, errs := race([]*live.Manager{m}, "r2", tc.changes)
			won := checkOneWinner(t, revs, errs)
			if m.Revision() != won.ID || m.Engine().Revision() != won.Hash {
				t.Errorf("in force %s (%s), want the winner %s (%s)", m.Revision(), m.Engine().Revision(), won.ID, won.Hash)
			}
			stored, err := st.Revisions(ctx)
			if err != nil || len(stored) != 3 {
				t.Errorf("stored %d revisions (%v), want r1, r2 and the winner", len(stored), err)
			}
			// The loser, redone on the winner, goes through: nothing was lost.
			for i, err := range errs {
				if err != nil {
					if _, err := tc.changes[i].do(m, won.ID); err != nil && !errors.Is(err, duty.ErrInvalid) {
						t.Errorf("%s redone on %s: %v", tc.changes[i].name, won.ID, err)
					}
					break
				}
			}
		})
	}
}

func TestChangeNeedsItsBase(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	m := newManager(t, st, "")
	if _, err := m.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 40), duty.PolicyChange{Base: "r1", Author: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		note  string
		do    func() error
		stale bool // else: the base is missing
	}{
		{"apply without base", func() error {
			_, err := m.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 41), duty.PolicyChange{Author: "a"})
			return err
		}, false},
		{"apply on the previous revision", func() error {
			_, err := m.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 41), duty.PolicyChange{Base: "r1", Author: "a"})
			return err
		}, true},
		{"apply on a revision that does not exist", func() error {
			_, err := m.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 41), duty.PolicyChange{Base: "r9", Author: "a"})
			return err
		}, true},
		{"rollback without base", func() error {
			_, err := m.Rollback(ctx, "r1", duty.PolicyChange{Author: "a"})
			return err
		}, false},
		{"rollback on a stale base", func() error {
			_, err := m.Rollback(ctx, "r1", duty.PolicyChange{Base: "r1", Author: "a"})
			return err
		}, true},
		{"adopt without base", func() error {
			_, err := m.AdoptBuiltin(ctx, duty.PolicyChange{Author: "a"})
			return err
		}, false},
	} {
		t.Run(tc.note, func(t *testing.T) {
			err := tc.do()
			var se *duty.StaleError
			switch {
			case tc.stale && (!errors.As(err, &se) || se.Current != "r2"):
				t.Errorf("err = %v, want a StaleError naming r2", err)
			case !tc.stale && !errors.Is(err, duty.ErrBaseRequired):
				t.Errorf("err = %v, want ErrBaseRequired", err)
			}
		})
	}
	if revs, _ := st.Revisions(ctx); len(revs) != 2 || m.Revision() != "r2" {
		t.Errorf("refused changes stored something: %d revisions, in force %s", len(revs), m.Revision())
	}
}

// Two processes sharing a store: whichever way the changes interleave, exactly one wins, the
// other is told so, and both end on the same revision.
func TestTwoProcessesNeverSplit(t *testing.T) {
	for _, tc := range []struct {
		note string
		// followed: whether b has followed a's changes before it makes its own.
		concurrent bool
		changes    []change
	}{
		{"at once, two parameters", true, []change{applyParam("meeting.joint", "max_gap_days", 33), applyParam("talk.pre_appointment", "max_days_before", 33)}},
		{"at once, a change and a rollback", true, []change{applyParam("meeting.joint", "max_gap_days", 33), rollbackTo("r1")}},
		{"b behind a", false, []change{applyParam("meeting.joint", "max_gap_days", 33), applyParam("talk.pre_appointment", "max_days_before", 33)}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ctx := context.Background()
			sts := sharedStores(t, 2)
			a := newManager(t, sts[0], "")
			b := newManager(t, sts[1], "")
			if a.Revision() != "r1" || b.Revision() != "r1" {
				t.Fatalf("started on %s and %s, want both on the seeded r1", a.Revision(), b.Revision())
			}
			if _, err := a.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 50), duty.PolicyChange{Base: "r1", Author: "setup"}); err != nil {
				t.Fatal(err)
			}
			if err := b.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			var won *duty.PolicyRevision
			if tc.concurrent {
				revs, errs := race([]*live.Manager{a, b}, "r2", tc.changes)
				won = checkOneWinner(t, revs, errs)
			} else {
				// a changes r2 → r3; b has not polled and still serves r2 when its user, who
				// read r2, makes another change on r2.
				var err error
				if won, err = tc.changes[0].do(a, "r2"); err != nil {
					t.Fatal(err)
				}
				if b.Revision() != "r2" {
					t.Fatalf("b already follows %s", b.Revision())
				}
				_, err = tc.changes[1].do(b, "r2")
				var se *duty.StaleError
				if !errors.As(err, &se) || se.Current != won.ID {
					t.Fatalf("b's change on r2 after a's r3: err = %v, want a StaleError naming %s", err, won.ID)
				}
			}
			for _, m := range []*live.Manager{a, b} {
				if err := m.Poll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if a.Revision() != won.ID || b.Revision() != won.ID || a.Engine().Revision() != b.Engine().Revision() {
				t.Errorf("split: a on %s (%s), b on %s (%s), winner %s", a.Revision(), a.Engine().Revision(), b.Revision(), b.Engine().Revision(), won.ID)
			}
			// Both go on from the winner: a change through b on it is in force in a after a poll.
			rev, err := b.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 44), duty.PolicyChange{Base: won.ID, Author: "b"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if a.Revision() != rev.ID || toString(a.Engine().Params("meeting.joint")["max_gap_days"]) != "44" {
				t.Errorf("a follows %s with max_gap_days %v, want %s with 44", a.Revision(), a.Engine().Params("meeting.joint")["max_gap_days"], rev.ID)
			}
		})
	}
}

// Two processes seeding an empty store at once: one seeds, the other serves what it seeded.
func TestTwoProcessesSeedOnce(t *testing.T) {
	sts := sharedStores(t, 2)
	ms := startAtOnce(t, sts, policy.Builtin(), "")
	revs, err := sts[0].Revisions(context.Background())
	if err != nil || len(revs) != 1 {
		t.Fatalf("%d revisions after two seedings (%v), want 1", len(revs), err)
	}
	if ms[0].Revision() != "r1" || ms[1].Revision() != "r1" {
		t.Errorf("in force: %s and %s, want r1", ms[0].Revision(), ms[1].Revision())
	}
}

// builtinV2 is the built-in bundle of a newer binary: one module changed.
func builtinV2(tb testing.TB) *policy.Bundle {
	tb.Helper()
	b := policy.Builtin().Clone()
	const f = "duty/meeting/joint.rego"
	if _, ok := b.Files[f]; !ok {
		tb.Fatalf("no %s in the built-in bundle", f)
	}
	b.Files[f] += "\n# a newer release\n"
	return b
}

func managerWith(tb testing.TB, st *store.Store, builtin *policy.Bundle, dir string, log *slog.Logger) *live.Manager {
	tb.Helper()
	m, err := live.New(context.Background(), live.Config{Store: st, Builtin: builtin, Dir: dir, Log: log})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Every revision — seeding, a change, a rollback, the policy folder, an adoption of a new
// built-in bundle — is in the history and in the audit trail with its actor.
func TestEveryRevisionHasHistoryAndAudit(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	m := newManager(t, st, "")
	if _, err := m.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 40), duty.PolicyChange{Base: "r1", Author: "editor", Source: duty.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rollback(ctx, "r1", duty.PolicyChange{Base: "r2", Author: "admin", Source: duty.SourcePage}); err != nil {
		t.Fatal(err)
	}
	// A process in directory mode records the folder.
	dir := t.TempDir()
	writeBundle(t, dir, builtinV2(t).Files)
	d := managerWith(t, st, policy.Builtin(), dir, quiet)
	if d.Revision() != "r4" {
		t.Fatalf("directory mode: in force %s, want r4", d.Revision())
	}
	// A newer binary: its built-in bundle is adopted by an admin.
	n := managerWith(t, st, builtinV2(t), "", quiet)
	if n.Drift() == nil {
		// r4 (the folder) is the newer built-in bundle already: nothing to adopt.
		if _, err := n.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 41), duty.PolicyChange{Base: "r4", Author: "editor", Source: duty.SourceCLI}); err != nil {
			t.Fatal(err)
		}
	}
	if n.Drift() == nil {
		t.Fatal("no drift reported for a newer built-in bundle")
	}
	if _, err := n.AdoptBuiltin(ctx, duty.PolicyChange{Base: "r5", Author: "admin", Source: duty.SourceAPI}); err != nil {
		t.Fatal(err)
	}

	revs, err := st.Revisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ ID, Author, Source, Action, Parent, RestoredFrom string }
	var got []entry
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		got = append(got, entry{r.ID, r.Author, r.Source, "", r.Parent, r.RestoredFrom})
	}
	want := []entry{
		{"r1", "system:builtin", "builtin", "policy.seed", "", ""},
		{"r2", "editor", "api", "policy.change", "r1", ""},
		{"r3", "admin", "page", "policy.activate", "r2", "r1"},
		{"r4", "system:directory", "directory", "policy.change", "r3", ""},
		{"r5", "editor", "cli", "policy.change", "r4", ""},
		{"r6", "admin", "api", "policy.adopt", "r5", ""},
	}
	trail, err := st.AuditTrail(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	hash := map[string]string{}
	for _, r := range revs {
		hash[r.ID] = r.Hash
	}
	audited := map[string]duty.AuditEntry{}
	for _, e := range trail {
		if e.Collection != "policy_revisions" {
			continue
		}
		if len(e.IDs) != 1 {
			t.Errorf("audit entry %+v: want one revision id", e)
			continue
		}
		if _, dup := audited[e.IDs[0]]; dup {
			t.Errorf("revision %s audited twice", e.IDs[0])
		}
		audited[e.IDs[0]] = e
	}
	for i := range got {
		e, ok := audited[got[i].ID]
		if !ok {
			continue
		}
		if e.Actor == got[i].Author {
			got[i].Action = e.Action
		} else {
			got[i].Action = "actor " + e.Actor
		}
		if len(e.Before) != 1 || e.Before[0] != hash[got[i].Parent] || len(e.After) != 1 || e.After[0] != hash[got[i].ID] {
			t.Errorf("audit entry of %s: before %v after %v, want [%s] [%s]", got[i].ID, e.Before, e.After, hash[got[i].Parent], hash[got[i].ID])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history and audit trail (-want +got):\n%s", diff)
	}
	if revs[0].BuiltinHash != builtinV2(t).Revision() {
		t.Errorf("the adoption recorded built-in %q, want %q", revs[0].BuiltinHash, builtinV2(t).Revision())
	}
}

func writeBundle(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// A store written by an earlier version (revisions without source, built-in hash or audit
// entries) starts without drift and gets its missing audit entries.
func TestEarlierStore(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	b := policy.Builtin()
	if err := st.InsertRevision(ctx, &duty.PolicyRevision{Hash: b.Revision(), Author: "system", Message: "built-in bundle", Files: b.Files}, 0); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, st, "")
	if m.Revision() != "r1" || m.Drift() != nil {
		t.Errorf("in force %s, drift %+v; want r1 and none", m.Revision(), m.Drift())
	}
	trail, err := st.AuditTrail(ctx, "", 10)
	if err != nil || len(trail) != 1 || trail[0].Actor != "system" || trail[0].IDs[0] != "r1" {
		t.Errorf("audit trail %+v (%v), want the seeding of r1 by system", trail, err)
	}
	newManager(t, st, "") // a second start adds nothing
	if trail, _ := st.AuditTrail(ctx, "", 10); len(trail) != 1 {
		t.Errorf("after a second start: %d audit entries, want 1", len(trail))
	}
	// A process died between storing a revision and its audit entry: the next start adds it.
	b2, err := b.WithParams("meeting.joint", map[string]any{"max_gap_days": 40})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InsertRevision(ctx, &duty.PolicyRevision{Hash: b2.Revision(), Author: "editor", Source: duty.SourceAPI, Parent: "r1", Files: b2.Files}, 1); err != nil {
		t.Fatal(err)
	}
	m = newManager(t, st, "")
	trail, err = st.AuditTrail(ctx, "", 10)
	if err != nil || len(trail) != 2 || trail[0].Actor != "editor" || trail[0].Action != "policy.change" || trail[0].IDs[0] != "r2" ||
		trail[0].Before[0] != b.Revision() || trail[0].After[0] != b2.Revision() {
		t.Errorf("audit trail %+v (%v), want r2's change by editor first", trail, err)
	}
	if m.Revision() != "r2" {
		t.Errorf("in force %s, want r2", m.Revision())
	}
}

// A newer binary on a store seeded by an older one: it says so, keeps serving the stored
// revision, and adopts the new built-in bundle only when an admin asks, on the revision in force.
func TestBuiltinDrift(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	old := newManager(t, st, "")
	if old.Drift() != nil {
		t.Fatalf("drift on the store it seeded: %+v", old.Drift())
	}
	if _, err := old.Apply(ctx, paramDraft("meeting.joint", "max_gap_days", 40), duty.PolicyChange{Base: "r1", Author: "editor"}); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	v2 := builtinV2(t)
	n := managerWith(t, st, v2, "", slog.New(slog.NewTextHandler(&logs, nil)))
	d := n.Drift()
	if d == nil {
		t.Fatal("a newer built-in bundle: no drift reported")
	}
	want := duty.PolicyDrift{Builtin: v2.Revision(), Recorded: policy.Builtin().Revision(), RecordedIn: "r1", InForce: "r2"}
	want.Message = d.Message
	if diff := cmp.Diff(want, *d); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "built-in policy bundle") {
		t.Errorf("no warning logged at start:\n%s", logs.String())
	}
	if n.Revision() != "r2" || n.Engine().Revision() != old.Engine().Revision() {
		t.Errorf("the newer binary changed the policies by itself: in force %s", n.Revision())
	}
	changes := n.BuiltinChanges()
	if len(changes) != 1 || changes[0].Path != "duty/meeting/joint.rego" {
		t.Errorf("adoption would change %+v, want only duty/meeting/joint.rego (the parameters carried over)", changes)
	}

	if _, err := n.AdoptBuiltin(ctx, duty.PolicyChange{Base: "r1", Author: "admin"}); !errors.Is(err, duty.ErrConflict) {
		t.Errorf("adoption on a stale base: err = %v, want a conflict", err)
	}
	rev, err := n.AdoptBuiltin(ctx, duty.PolicyChange{Base: "r2", Author: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if rev.ID != "r3" || rev.BuiltinHash != v2.Revision() || n.Drift() != nil {
		t.Errorf("adopted as %+v, drift %+v; want r3 recording %s and no drift", rev, n.Drift(), v2.Revision())
	}
	if toString(n.Engine().Params("meeting.joint")["max_gap_days"]) != "40" {
		t.Errorf("the adoption lost the parameter change: max_gap_days %v", n.Engine().Params("meeting.joint")["max_gap_days"])
	}
	if !strings.HasSuffix(n.Engine().Bundle().Files["duty/meeting/joint.rego"], "# a newer release\n") {
		t.Error("the adopted revision does not have the new built-in module")
	}
	if _, err := n.AdoptBuiltin(ctx, duty.PolicyChange{Base: "r3", Author: "admin"}); !errors.Is(err, duty.ErrInvalid) {
		t.Errorf("adopting twice: err = %v, want ErrInvalid (nothing to adopt)", err)
	}
	// Another process of the new binary starts without drift; one of the old binary has it.
	if d := managerWith(t, st, v2, "", quiet).Drift(); d != nil {
		t.Errorf("a new process after the adoption reports drift %+v", d)
	}
	if err := old.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if old.Revision() != "r3" || old.Drift() == nil {
		t.Errorf("the old binary follows %s with drift %+v; want r3 and a drift", old.Revision(), old.Drift())
	}
}

// Two processes in directory mode start at once on one store and one folder: the folder is
// recorded once, and both serve it.
func TestTwoProcessesInDirectoryMode(t *testing.T) {
	sts := sharedStores(t, 2)
	dir := t.TempDir()
	writeBundle(t, dir, builtinV2(t).Files)
	ms := startAtOnce(t, sts, policy.Builtin(), dir)
	revs, err := sts[0].Revisions(context.Background())
	if err != nil || len(revs) != 1 || revs[0].Author != live.ActorDirectory {
		t.Fatalf("revisions %+v (%v), want one by %s", revs, err, live.ActorDirectory)
	}
	for i, m := range ms {
		if m.Revision() != "r1" || m.Engine().Revision() != builtinV2(t).Revision() {
			t.Errorf("process %d serves %s (%s), want r1 with the folder", i, m.Revision(), m.Engine().Revision())
		}
	}
}

// startAtOnce starts one manager per store, all at the same moment: processes starting together.
func startAtOnce(tb testing.TB, sts []*store.Store, builtin *policy.Bundle, dir string) []*live.Manager {
	tb.Helper()
	ms := make([]*live.Manager, len(sts))
	errs := make([]error, len(sts))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ms[i], errs[i] = live.New(context.Background(), live.Config{Store: sts[i], Builtin: builtin, Dir: dir, Log: quiet})
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
	return ms
}
