package live_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

const asOf = "2025-06-30"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func loadDataset(tb testing.TB, st *store.Store) {
	tb.Helper()
	ds := gen.Generate(gen.Options{Boundaries: true, Seed: 11, AsOf: asOf, Organs: 2})
	raw := map[string][]duty.RawDoc{}
	for coll, docs := range ds {
		for i, d := range docs {
			raw[coll] = append(raw[coll], duty.RawDoc{Index: i, Value: jsonLike(tb, d)})
		}
	}
	if _, err := st.PutMany(context.Background(), duty.System("test"), raw); err != nil {
		tb.Fatal(err)
	}
}

func newManager(tb testing.TB, st *store.Store, dir string) *live.Manager {
	tb.Helper()
	m, err := live.New(context.Background(), live.Config{Store: st, Builtin: policy.Builtin(), Dir: dir,
		PollInterval: 100 * time.Millisecond, Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func keys(tb testing.TB, m *live.Manager, st *store.Store) []string {
	tb.Helper()
	organs, keep, err := scan.LoadScope(context.Background(), st, "")
	if err != nil {
		tb.Fatal(err)
	}
	vs, err := scan.Evaluate(context.Background(), scan.Options{AsOf: asOf, Engine: m.Engine(), Workers: 2}, organs)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, v := range scan.FilterScope(vs, keep) {
		out = append(out, v.Key())
	}
	return out
}

func ptr(s string) *string { return &s }

func TestParamsChangeRollbackAndPreview(t *testing.T) {
	st := storetest.Open(t)
	loadDataset(t, st)
	ctx := context.Background()
	m := newManager(t, st, "")
	if m.Revision() != "r1" {
		t.Fatalf("first revision = %q, want r1 (the built-in bundle)", m.Revision())
	}
	before := keys(t, m, st)

	draft := duty.PolicyDraft{Params: map[string]map[string]any{"talk.pre_appointment": {"max_days_before": 10}}, Message: "stricter talks"}
	imp, err := m.Preview(ctx, draft, scan.Request{AsOf: asOf}, duty.System("tester"))
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Added) == 0 {
		t.Fatal("preview of a stricter window added no violation: the test dataset proves nothing")
	}
	rev, err := m.Apply(ctx, draft, duty.PolicyChange{Base: "r1", Author: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if rev.ID != "r2" || m.Revision() != "r2" || rev.Author != "tester" {
		t.Fatalf("after apply: revision %+v, in force %q", rev, m.Revision())
	}
	if got := m.Engine().Params("talk.pre_appointment")["max_days_before"]; got == nil || toString(got) != "10" {
		t.Errorf("max_days_before in force = %v, want 10", got)
	}
	after := keys(t, m, st)

	// The preview predicted exactly what the change did.
	var predicted []string
	was := map[string]bool{}
	for _, k := range before {
		was[k] = true
	}
	for _, v := range imp.Added {
		predicted = append(predicted, v.Key())
	}
	var actual []string
	for _, k := range after {
		if !was[k] {
			actual = append(actual, k)
		}
	}
	if diff := cmp.Diff(actual, predicted); diff != "" {
		t.Errorf("preview added (-actual +predicted):\n%s", diff)
	}
	if len(imp.Removed) != 0 {
		t.Errorf("a stricter window removed %d violations", len(imp.Removed))
	}

	// Rollback restores the earlier behaviour exactly, as a revision of its own.
	back, err := m.Rollback(ctx, "r1", duty.PolicyChange{Base: "r2", Author: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != "r3" || back.RestoredFrom != "r1" || back.Parent != "r2" || m.Revision() != "r3" {
		t.Errorf("rollback made %+v, in force %s; want r3 restored from r1 on r2", back, m.Revision())
	}
	if diff := cmp.Diff(before, keys(t, m, st)); diff != "" {
		t.Errorf("after rollback (-before +now):\n%s", diff)
	}
}

func toString(v any) string {
	switch n := v.(type) {
	case string:
		return n
	default:
		b, _ := jsonMarshal(n)
		return string(b)
	}
}

func TestRefusedChangesKeepTheRevision(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	m := newManager(t, st, "")
	file := m.Engine().Policies()[0].File
	src := m.Engine().Bundle().Files[file]
	for _, tc := range []struct {
		name  string
		draft duty.PolicyDraft
		want  string // in a problem
		file  string
		row   bool
		kind  duty.BundleProblemKind
	}{
		{"syntax error", duty.PolicyDraft{Files: map[string]*string{file: ptr(src + "\nviolation contains v if {\n")}}, "rego_parse_error", file, true, duty.BundleParse},
		{"type error", duty.PolicyDraft{Files: map[string]*string{file: ptr(src + "\n_x := no_such_function(1)\n")}}, "undefined function", file, true, duty.BundleType},
		{"failing test", duty.PolicyDraft{Files: map[string]*string{"duty/extra/fail_test.rego": ptr("package duty.extra.fail_test\n\ntest_always_fails if false\n")}}, "test duty.extra.fail_test.test_always_fails failed", "duty/extra/fail_test.rego", true, duty.BundleTest},
		{"param out of range", duty.PolicyDraft{Params: map[string]map[string]any{"talk.pre_appointment": {"max_days_before": -1}}}, "must be at least 0", "", false, duty.BundleParam},
		{"param of wrong type", duty.PolicyDraft{Params: map[string]map[string]any{"talk.pre_appointment": {"max_days_before": "ninety"}}}, "must be an integer", "", false, duty.BundleParam},
		{"unknown param", duty.PolicyDraft{Params: map[string]map[string]any{"talk.pre_appointment": {"max_days": 3}}}, "is not a parameter", "", false, duty.BundleParam},
		{"bad deadline", duty.PolicyDraft{Params: map[string]map[string]any{"letter.three_levels": {"deadline": "02-30"}}}, "exists in every year", "", false, duty.BundleParam},
		{"leap day deadline", duty.PolicyDraft{Params: map[string]map[string]any{"meeting.annual_conduct": {"deadline": "02-29"}}}, "not 02-29", "", false, duty.BundleParam},
		{"misspelt rank", duty.PolicyDraft{Params: map[string]map[string]any{"talk.pre_appointment": {"ranks": []any{"burea"}}}}, `must be one of "bureau"（厅级）`, "", false, duty.BundleParam},
		{"rank labels", duty.PolicyDraft{Params: map[string]map[string]any{"archive.integrity_file": {"ranks": []any{"厅级", "处级"}}}}, `got "厅级"`, "", false, duty.BundleParam},
		{"duty silenced", duty.PolicyDraft{Params: map[string]map[string]any{"meeting.joint": {"max_gap_days": 366}}}, "duty meeting.joint reports no violation", "duty/meeting/joint.rego", false, duty.BundleSilenced},
		{"path outside the bundle", duty.PolicyDraft{Files: map[string]*string{"../x.rego": ptr("package x")}}, "clean relative path", "../x.rego", false, duty.BundlePath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Apply(ctx, tc.draft, duty.PolicyChange{Base: "r1", Author: "tester"})
			var be *duty.BundleError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BundleError", err)
			}
			found := false
			for _, p := range be.Problems {
				if strings.Contains(p.Message, tc.want) && (tc.file == "" || p.File == tc.file) && (!tc.row || p.Row > 0) && p.Kind == tc.kind {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %+v, want one of kind %q containing %q in %q with a line", be.Problems, tc.kind, tc.want, tc.file)
			}
			if m.Revision() != "r1" {
				t.Errorf("revision in force = %q after a refused change, want r1", m.Revision())
			}
		})
	}
	revs, err := st.Revisions(ctx)
	if err != nil || len(revs) != 1 {
		t.Errorf("stored revisions = %d (%v), want only r1", len(revs), err)
	}
}

func TestSecondProcessFollowsWithinTwoSeconds(t *testing.T) {
	st := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newManager(t, st, "")
	b := newManager(t, st, "") // another process sharing the store
	if _, err := a.Apply(ctx, duty.PolicyDraft{Params: map[string]map[string]any{"meeting.joint": {"max_gap_days": 45}}}, duty.PolicyChange{Base: "r1", Author: "tester"}); err != nil {
		t.Fatal(err)
	}
	// One poll, as Run does every PollInterval, follows the change: no waiting on the clock.
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Revision() != "r2" {
		t.Fatalf("the second process still runs %s after a poll", b.Revision())
	}
	if toString(b.Engine().Params("meeting.joint")["max_gap_days"]) != "45" {
		t.Errorf("second process params = %v", b.Engine().Params("meeting.joint"))
	}
}

func TestDirectoryMode(t *testing.T) {
	st := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	for p, c := range policy.Builtin().Files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := newManager(t, st, dir)
	// Each step polls the folder once, as Run does every PollInterval, and checks the outcome:
	// no waiting on the clock.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		_ = m.Poll(ctx)
		if !cond() {
			t.Fatalf("after a poll, not %s (revision %s, refused %+v)", what, m.Revision(), m.Refused())
		}
	}
	start := m.Revision()
	n := len(m.Engine().Policies())

	// Delete a policy and its test: refused, as the duty would stop reporting without saying so.
	for _, f := range []string{"duty/branch/discipline_member.rego", "duty/branch/discipline_member_test.rego"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("the refused deletion", func() bool {
		r := m.Refused()
		return r != nil && len(r.Problems) == 1 && strings.Contains(r.Problems[0].Message, "duty branch.discipline_member is no longer in the bundle")
	})
	if m.Revision() != start {
		t.Errorf("a silent deletion changed the revision in force to %s", m.Revision())
	}
	// Switched off in the folder: reloaded without it.
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(policy.SwitchedOffFile)), []byte(`["branch.discipline_member"]`), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the deletion", func() bool { return len(m.Engine().Policies()) == n-1 })
	afterDelete := m.Revision()
	if afterDelete == start {
		t.Errorf("deleting a policy made no new revision")
	}

	// A broken file is refused; the last good revision keeps serving and the refusal is reported.
	bad := filepath.Join(dir, "duty/meeting/joint.rego")
	good, _ := os.ReadFile(bad)
	if err := os.WriteFile(bad, append(good, []byte("\nviolation contains x if {\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the refusal", func() bool { return m.Refused() != nil })
	if m.Revision() != afterDelete {
		t.Errorf("a broken folder changed the revision in force to %s", m.Revision())
	}
	if p := m.Refused().Problems; len(p) == 0 || p[0].File != "duty/meeting/joint.rego" || p[0].Row == 0 {
		t.Errorf("refusal problems = %+v, want the file and line", p)
	}
	// API changes are refused in directory mode.
	if _, err := m.Apply(ctx, duty.PolicyDraft{Params: map[string]map[string]any{"meeting.joint": {"max_gap_days": 10}}}, duty.PolicyChange{Base: m.Revision(), Author: "x"}); !errors.Is(err, duty.ErrConflict) {
		t.Errorf("Apply in directory mode: err = %v, want ErrConflict", err)
	}

	// Fix it by renaming a corrected copy into place: reloaded, refusal cleared.
	tmp := filepath.Join(dir, "duty/meeting/joint.rego.tmp")
	fixed := strings.Replace(string(good), "package duty.meeting.joint", "package duty.meeting.joint\n\n# edited", 1)
	if err := os.WriteFile(tmp, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bad); err != nil {
		t.Fatal(err)
	}
	waitFor("the fix", func() bool { return m.Refused() == nil && m.Revision() != afterDelete })
}

func TestDiff(t *testing.T) {
	a := map[string]string{"x.rego": "a\nb\nc\n", "gone.rego": "1\n"}
	b := map[string]string{"x.rego": "a\nB\nc\n", "new.rego": "2\n"}
	got := live.DiffFiles(a, b)
	want := []duty.FileDiff{
		{Path: "gone.rego", Status: "removed", Unified: "--- a/gone.rego\n+++ b/gone.rego\n@@ -1,1 +1,0 @@\n-1\n"},
		{Path: "new.rego", Status: "added", Unified: "--- a/new.rego\n+++ b/new.rego\n@@ -1,0 +1,1 @@\n+2\n"},
		{Path: "x.rego", Status: "changed", Unified: "--- a/x.rego\n+++ b/x.rego\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DiffFiles (-want +got):\n%s", diff)
	}
}
