package dutytest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// policyContract is what internal/live needs of a store, with the records to preview on.
type policyContract interface {
	duty.Store
	duty.PolicyStore
}

// revisionStory drives the policy revisions and the preview's reading of organs as
// internal/live does, and tells what each step answered.
func revisionStory(t *testing.T, st policyContract, eng *policy.Engine) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	say := func(step string, err error) { out = append(out, step+": "+kind(err)) }
	ids := func(revs []duty.PolicyRevision) string {
		var s []string
		for _, r := range revs {
			s = append(s, fmt.Sprintf("%s(seq %d, %d files)", r.ID, r.Seq, len(r.Files)))
		}
		return strings.Join(s, " ")
	}
	show := func(r *duty.PolicyRevision) string {
		if r == nil {
			return "none"
		}
		return fmt.Sprintf("%s seq %d hash %s author %s message %q parent %q source %q restored %q builtin %q files %v dated %v",
			r.ID, r.Seq, r.Hash, r.Author, r.Message, r.Parent, r.Source, r.RestoredFrom, r.BuiltinHash, r.Files, r.CreatedAt != "")
	}

	revs, err := st.Revisions(ctx)
	say("revisions of an empty store: "+ids(revs), err)
	_, err = st.RevisionMeta(ctx, "r1")
	say("r1 of an empty store", err)

	first := duty.PolicyRevision{Hash: "h1", Author: "system:builtin", Message: "built-in bundle", Source: "builtin", BuiltinHash: "h1",
		Files: map[string]string{"duty/a.rego": "package duty.a\n", "params/data.json": "{}"}}
	err = st.InsertRevision(ctx, &first, 0)
	say("the first revision: "+show(&first), err)
	again := duty.PolicyRevision{Hash: "h1b", Author: "other", Files: map[string]string{"duty/a.rego": "package duty.a\n"}}
	err = st.InsertRevision(ctx, &again, 0)
	say("another first revision, on the same empty base: "+again.ID, err)
	second := duty.PolicyRevision{Hash: "h2", Author: "editor", Message: "max_gap_days 40", Source: "api", Parent: "r1",
		Files: map[string]string{"duty/a.rego": "package duty.a\n", "params/overrides.json": `{"a":{"x":1}}`}}
	err = st.InsertRevision(ctx, &second, first.Seq)
	say("a change on r1", err)
	stale := duty.PolicyRevision{Hash: "h3", Author: "late", Parent: "r1", Files: map[string]string{"duty/a.rego": "package duty.a\n"}}
	err = st.InsertRevision(ctx, &stale, first.Seq)
	say("another change on r1 (stale)", err)
	back := duty.PolicyRevision{Hash: "h1", Author: "editor", Source: "page", Parent: "r2", RestoredFrom: "r1",
		Files: map[string]string{"duty/a.rego": "package duty.a\n", "params/data.json": "{}"}}
	err = st.InsertRevision(ctx, &back, second.Seq)
	say("a rollback on r2", err)

	revs, err = st.Revisions(ctx)
	say("revisions: "+ids(revs), err)
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		r, err := st.Revision(ctx, id)
		say("revision "+id+": "+show(r), err)
		r, err = st.RevisionMeta(ctx, id)
		say("its meta: "+show(r), err)
	}
	if r, err := st.Revision(ctx, "r1"); err == nil {
		r.Files["duty/a.rego"] = "changed by the reader"
		r, err = st.Revision(ctx, "r1")
		say("r1 after its reader changed its copy: "+show(r), err)
	}

	// The audit trail of the revisions.
	un, err := st.UnauditedRevisions(ctx)
	say("unaudited: "+ids(un), err)
	entry := duty.AuditEntry{Actor: "system:builtin", Action: "policy.seed", Collection: "policy_revisions", IDs: []string{"r1"}, Before: []string{""}, After: []string{"h1"}}
	say("audit r1", st.AuditRevision(ctx, entry, &first))
	say("audit r1 again", st.AuditRevision(ctx, entry, &first))
	trail, _, err := st.AuditSearch(ctx, duty.AuditQuery{Record: "r1"})
	say(fmt.Sprintf("entries of r1: %d", len(trail)), err)
	if len(trail) > 0 {
		out = append(out, fmt.Sprintf("r1's entry at r1's time %v: %s %s %v %v %v", trail[0].At == first.CreatedAt, trail[0].Actor, trail[0].Action, trail[0].IDs, trail[0].Before, trail[0].After))
	}
	un, err = st.UnauditedRevisions(ctx)
	say("unaudited after r1's entry: "+ids(un), err)
	preview := duty.AuditEntry{Actor: "editor", Action: "policy.preview", Collection: "policy_revisions",
		IDs: []string{"department:* as_of:2025-12-31"}, Before: []string{"h2"}, After: []string{"h9"}}
	say("audit a preview", st.Audit(ctx, preview))
	trail, _, err = st.AuditSearch(ctx, duty.AuditQuery{Action: "policy.preview"})
	say(fmt.Sprintf("preview entries: %d", len(trail)), err)
	if len(trail) > 0 {
		out = append(out, fmt.Sprintf("the preview's entry: %s %v %v %v dated %v", trail[0].Actor, trail[0].IDs, trail[0].Before, trail[0].After, trail[0].At != ""))
	}
	audited, err := st.AuditedRevisions(ctx)
	say(fmt.Sprintf("named by the trail: %v", audited), err)
	say("mark r3 audited", st.MarkRevisionAudited(ctx, "r3"))
	say("mark r9 audited", st.MarkRevisionAudited(ctx, "r9"))
	un, err = st.UnauditedRevisions(ctx)
	say("unaudited at the end: "+ids(un), err)
	gap := duty.PolicyRevision{Hash: "h7", Author: "x", Files: map[string]string{"duty/a.rego": "package duty.a\n"}}
	err = st.InsertRevision(ctx, &gap, 6)
	say("a revision after r6 that is not there", err)
	revs, err = st.Revisions(ctx)
	say("revisions, by sequence: "+ids(revs), err)

	// What a preview evaluates: the organs of a scope, loaded as a scan loads them.
	raw, err := duty.ReadDir("../../../fixtures/sample")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.PutMany(ctx, duty.System("test"), raw)
	say("load the sample", err)
	for _, dept := range []string{"", scope, inside, outside, "nowhere"} {
		organs, keep, err := scan.LoadScope(ctx, st, dept)
		var docs []string
		for _, o := range organs {
			for _, ds := range o.Docs { // a set to the policies: the store keeps no order of departments
				slices.SortFunc(ds, func(a, b duty.Doc) int { return strings.Compare(a.ID(), b.ID()) })
			}
			b, jerr := json.Marshal(o.Docs)
			if jerr != nil {
				t.Fatal(jerr)
			}
			docs = append(docs, fmt.Sprintf("organ %s: %s", o.ID, b))
		}
		var kept []string
		for d := range keep {
			kept = append(kept, d)
		}
		slices.Sort(kept)
		say(fmt.Sprintf("the organs of %q: %s; reported %v", dept, strings.Join(docs, "; "), kept), err)
		opts := scan.Options{AsOf: "2025-12-31", Department: dept, Engine: eng}
		if err := opts.Normalize(ctx); err != nil {
			t.Fatal(err)
		}
		vs, err := scan.Evaluate(ctx, opts, organs)
		var keys []string
		for _, v := range scan.FilterScope(vs, keep) {
			keys = append(keys, v.Key())
		}
		slices.Sort(keys)
		say(fmt.Sprintf("the violations of %q (%d): %v", dept, len(keys), keys), err)
	}
	return out
}

// TestFakeKeepsTheRevisionContract: the fake keeps the policy revisions as the real store does
// (the compare-and-set of a change, the order, the files, the audit entries written once) and
// gives a preview the same organs, hence the same violations.
func TestFakeKeepsTheRevisionContract(t *testing.T) {
	eng, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	real := revisionStory(t, storetest.Open(t), eng)
	fake := revisionStory(t, dutytest.NewStore(dutytest.Config{}), eng)
	sameStory(t, real, fake,
		"another first revision, on the same empty base: r1: conflict",
		"another change on r1 (stale): conflict",
		"entries of r1: 1: ok",
		"unaudited at the end: r2(seq 2, 0 files): ok",
		`the organs of "nowhere": ; reported []: not found`,
	)
	if slices.ContainsFunc(real, func(l string) bool { return strings.HasPrefix(l, `the violations of "" (0)`) }) {
		t.Errorf("the sample has no violation: the preview's comparison proves nothing")
	}
}
