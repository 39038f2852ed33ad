package guard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/guard"
	"github.com/dutycheck/dutycheck/internal/policy"
)

func compile(tb testing.TB, b *policy.Bundle) *policy.Engine {
	tb.Helper()
	e, err := policy.Compile(context.Background(), b)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return e
}

// TestReferenceOrganViolatesEveryDuty holds the reference organ to its promise: with the shipped
// parameters every built-in duty reports at least one violation of each of its reasons there.
func TestReferenceOrganViolatesEveryDuty(t *testing.T) {
	e := compile(t, policy.Builtin())
	o, err := guard.Reference()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Evaluate(context.Background(), o, guard.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, v := range vs {
		seen[v.Policy+" "+v.Reason]++
	}
	for _, m := range e.Policies() {
		if len(m.Reasons) == 0 {
			t.Errorf("%s declares no reasons", m.ID)
		}
		for _, r := range m.Reasons {
			if seen[m.ID+" "+r] == 0 {
				t.Errorf("%s reports no %q violation on the reference organ", m.ID, r)
			}
		}
	}
	counts, err := guard.New(nil).Counts(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range e.Policies() {
		if counts[m.ID] == 0 {
			t.Errorf("Counts[%s] = 0", m.ID)
		}
	}
}

// TestOtherOrgansViolateEveryDuty: the reference organ is not a lucky draw — the first organ of
// any seed and year violates every reason of every duty as of its year's end, so the guard's
// baseline does not hang on one seed.
func TestOtherOrgansViolateEveryDuty(t *testing.T) {
	e := compile(t, policy.Builtin())
	for _, opts := range []gen.Options{
		{Seed: 2, Year: 2025, ViolationRate: 0.02},
		{Seed: 7, Year: 2024, ViolationRate: 0.05},
		{Seed: 42, Year: 2030, ViolationRate: 0.01},
		{Seed: 1000, Year: 2019, ViolationRate: 0.1},
	} {
		o, err := guard.Organ(opts)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := e.Evaluate(context.Background(), o, fmt.Sprintf("%d-12-31", opts.Year))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, v := range vs {
			seen[v.Policy+" "+v.Reason] = true
		}
		for _, m := range e.Policies() {
			for _, r := range m.Reasons {
				if !seen[m.ID+" "+r] {
					t.Errorf("seed %d, year %d: %s reports no %q violation", opts.Seed, opts.Year, m.ID, r)
				}
			}
		}
	}
}

// edit returns a copy of the built-in bundle changed by fn.
func edit(tb testing.TB, fn func(b *policy.Bundle) *policy.Bundle) *policy.Bundle {
	tb.Helper()
	return fn(policy.Builtin().Clone())
}

func withParams(id string, params map[string]any) func(*policy.Bundle) *policy.Bundle {
	return func(b *policy.Bundle) *policy.Bundle {
		c, err := b.WithParams(id, params)
		if err != nil {
			panic(err)
		}
		return c
	}
}

func switchOff(ids ...string) func(*policy.Bundle) *policy.Bundle {
	return func(b *policy.Bundle) *policy.Bundle {
		change := map[string]bool{}
		for _, id := range ids {
			change[id] = true
		}
		c, err := b.WithSwitchedOff(change)
		if err != nil {
			panic(err)
		}
		return c
	}
}

func replace(file, old, new string) func(*policy.Bundle) *policy.Bundle {
	return func(b *policy.Bundle) *policy.Bundle {
		if !strings.Contains(b.Files[file], old) {
			panic(file + " does not contain " + old)
		}
		b.Files[file] = strings.Replace(b.Files[file], old, new, 1)
		return b
	}
}

func remove(files ...string) func(*policy.Bundle) *policy.Bundle {
	return func(b *policy.Bundle) *policy.Bundle {
		for _, f := range files {
			delete(b.Files, f)
		}
		return b
	}
}

func chain(fns ...func(*policy.Bundle) *policy.Bundle) func(*policy.Bundle) *policy.Bundle {
	return func(b *policy.Bundle) *policy.Bundle {
		for _, fn := range fns {
			b = fn(b)
		}
		return b
	}
}

// The enum of pre_appointment's ranks, as the module declares it.
const ranksEnum = `#         enum:
#           - {value: bureau, zh: 厅级, en: bureau}
#           - {value: division, zh: 处级, en: division}
#           - {value: section, zh: 科级, en: section}
#           - {value: staff, zh: 科级以下, en: staff}
`

const otherDuty = `# METADATA
# title: 其他
# description: A duty of somebody else's bundle.
# custom:
#   id: z.other
#   severity: low
package duty.z.other

violation contains v if {
	some p in input.people
	p.active == false
	v := {"reason": "inactive", "subject": {"collection": "people", "id": p.id}}
}
`

func TestCheck(t *testing.T) {
	tests := []struct {
		note        string
		before      func(*policy.Bundle) *policy.Bundle // nil: no revision in force
		after       func(*policy.Bundle) *policy.Bundle
		want        []string // duties refused
		wantMessage string
	}{
		{note: "the built-in bundle on a first start", after: chain()},
		{note: "the built-in bundle over itself", before: chain(), after: chain()},
		{note: "a harmless parameter change", before: chain(), after: withParams("talk.pre_appointment", map[string]any{"max_days_before": 30})},
		{note: "a gap no year can exceed, within the schema", before: chain(),
			after: withParams("meeting.joint", map[string]any{"max_gap_days": 366}),
			want:  []string{"meeting.joint"}, wantMessage: "duty meeting.joint reports no violation on the reference organ"},
		{note: "the same, switched off explicitly", before: chain(),
			after: chain(withParams("meeting.joint", map[string]any{"max_gap_days": 366}), switchOff("meeting.joint"))},
		// The yearly duties count year Y of as_of only, and a deadline must have passed: 12-31
		// never passes within its year, so these duties would fire on no day at all.
		{note: "a deadline of 12-31", before: chain(),
			after: withParams("meeting.annual_conduct", map[string]any{"deadline": "12-31"}),
			want:  []string{"meeting.annual_conduct"}},
		{note: "a misspelt rank with the enum taken out of the schema", before: chain(),
			after: chain(replace("duty/talk/pre_appointment.rego", ranksEnum, ""),
				withParams("talk.pre_appointment", map[string]any{"ranks": []any{"burea"}})),
			want: []string{"talk.pre_appointment"}},
		{note: "the Chinese labels with the enum taken out of the schema", before: chain(),
			after: chain(replace("duty/archive/integrity_file.rego", ranksEnum, ""),
				withParams("archive.integrity_file", map[string]any{"ranks": []any{"厅级", "处级"}})),
			want: []string{"archive.integrity_file"}},
		{note: "a rule rewritten to never match", before: chain(),
			after: replace("duty/meeting/joint.rego", "violation contains v if {", "violation contains v if {\n\tinput.never_there\n"),
			want:  []string{"meeting.joint"}},
		{note: "a duty deleted", before: chain(),
			after: remove("duty/branch/discipline_member.rego", "duty/branch/discipline_member_test.rego"),
			want:  []string{"branch.discipline_member"}, wantMessage: "duty branch.discipline_member is no longer in the bundle"},
		{note: "a duty deleted and switched off", before: chain(),
			after: chain(remove("duty/branch/discipline_member.rego", "duty/branch/discipline_member_test.rego"), switchOff("branch.discipline_member"))},
		{note: "a broken duty on a first start (directory mode)",
			after: replace("duty/meeting/joint.rego", "violation contains v if {", "violation contains v if {\n\tinput.never_there\n"),
			want:  []string{"meeting.joint"}, wantMessage: "under the built-in bundle"},
		{note: "somebody else's bundle on a first start", after: func(*policy.Bundle) *policy.Bundle {
			return &policy.Bundle{Files: map[string]string{"duty/z/other.rego": otherDuty}}
		}},
		{note: "two duties broken at once", before: chain(),
			after: chain(withParams("letter.three_levels", map[string]any{"deadline": "12-31"}),
				withParams("list.six_levels", map[string]any{"deadline": "12-31"})),
			want: []string{"letter.three_levels", "list.six_levels"}},
	}
	g := guard.New(policy.Builtin())
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			var before *policy.Engine
			if tc.before != nil {
				before = compile(t, edit(t, tc.before))
			}
			after := compile(t, edit(t, tc.after))
			err := g.Check(context.Background(), before, after)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused, want accepted: %v", err)
				}
				return
			}
			var be *duty.BundleError
			if !errors.As(err, &be) || !errors.Is(err, duty.ErrInvalid) {
				t.Fatalf("Check = %v, want a *duty.BundleError", err)
			}
			var named []string
			for _, p := range be.Problems {
				id := strings.Fields(strings.TrimPrefix(p.Message, "duty "))[0]
				named = append(named, id)
				if !strings.Contains(p.Message, `"switch_off"`) {
					t.Errorf("the refusal does not say how to switch the duty off: %s", p.Message)
				}
			}
			if !slices.Equal(named, tc.want) {
				t.Errorf("refused %v, want %v:\n%v", named, tc.want, err)
			}
			if tc.wantMessage != "" && !strings.Contains(err.Error(), tc.wantMessage) {
				t.Errorf("refusal does not say %q:\n%v", tc.wantMessage, err)
			}
		})
	}
}

// BenchmarkCheck measures the guard on a parameter change: the revision in force is counted
// once (cached), the draft is evaluated on the reference organ each time.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	before := compile(b, policy.Builtin())
	g := guard.New(policy.Builtin())
	if err := g.Check(ctx, before, before); err != nil {
		b.Fatal(err)
	}
	drafts := make([]*policy.Engine, 8)
	for i := range drafts {
		drafts[i] = compile(b, edit(b, withParams("talk.pre_appointment", map[string]any{"max_days_before": 10 + i})))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// A new guard every 8 drafts keeps each draft uncounted.
		if i%len(drafts) == 0 {
			b.StopTimer()
			g = guard.New(policy.Builtin())
			if err := g.Check(ctx, before, before); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if err := g.Check(ctx, before, drafts[i%len(drafts)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstCheck measures the guard's first use in a process: generating the reference
// organ, compiling the built-in bundle and counting three engines.
func BenchmarkFirstCheck(b *testing.B) {
	ctx := context.Background()
	before := compile(b, policy.Builtin())
	after := compile(b, edit(b, withParams("talk.pre_appointment", map[string]any{"max_days_before": 30})))
	for b.Loop() {
		if err := guard.New(policy.Builtin()).Check(ctx, before, after); err != nil {
			b.Fatal(err)
		}
	}
}
