// Package guard refuses a policy change that silently switches a duty off, whatever the
// parameter schemas say. It evaluates the changed bundle on a reference organ that violates
// every reason of every duty — one organisation made by internal/gen, the same every time —
// and refuses the change when a duty that reported violations there before (under the
// revision in force, or under the built-in bundle for the duties the bundle shares with it)
// reports none after, unless the changed bundle switches that duty off explicitly
// (policy.SwitchedOffFile).
//
// The schemas of METADATA custom.params catch the wrong values they know of; the guard catches
// the rest: a rule rewritten to never match, a schema loosened together with a bad value, a duty
// deleted, a parameter the schema cannot see.
package guard

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// The reference organ: organ 1 of a generated dataset, which carries at least one violation of
// every reason of every duty (internal/gen's first-organ plan), evaluated as of the last day of
// its year. With the shipped parameters every built-in duty reports at least one violation
// there (TestReferenceOrganViolatesEveryDuty).
var reference = gen.Options{Organs: 1, Seed: 1, Year: 2025, ViolationRate: 0.02}

// AsOf is the as-of date of the reference evaluation.
const AsOf = "2025-12-31"

// Guard compares per-duty violation counts on the reference organ. It is safe for concurrent
// use; counts are kept per bundle revision, so the revision in force is evaluated once.
type Guard struct {
	builtin *policy.Bundle

	mu        sync.Mutex
	input     *policy.OrganInput
	builtinE  *policy.Engine
	counts    map[string]counted // bundle revision → its files and violations by policy id
	buildErr  error
	inputDone bool
}

// New returns a guard whose baseline for duties shared with builtin is builtin's count on the
// reference organ; builtin may be nil (then only the revision in force is the baseline).
func New(builtin *policy.Bundle) *Guard {
	return &Guard{builtin: builtin, counts: map[string]counted{}}
}

// Reference returns the reference organ, validated as any dataset is.
func Reference() (*duty.Organ, error) { return Organ(reference) }

// Organ generates a one-organ dataset with opts (Organs is taken as 1) and returns the organ,
// validated as any dataset is.
func Organ(opts gen.Options) (*duty.Organ, error) {
	opts.Organs = 1
	d, err := duty.NewDataset(duty.RawDocs(gen.Generate(opts)))
	if err != nil {
		return nil, fmt.Errorf("generated organ (seed %d, year %d): %w", opts.Seed, opts.Year, err)
	}
	organs, _ := duty.Split(d)
	if len(organs) != 1 {
		return nil, fmt.Errorf("generated organ (seed %d, year %d): %d organs, want 1", opts.Seed, opts.Year, len(organs))
	}
	return organs[0], nil
}

// Counts returns the number of violations of each duty of e on the reference organ (duties
// switched off count 0).
func (g *Guard) Counts(ctx context.Context, e *policy.Engine) (map[string]int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.countsLocked(ctx, e)
}

func (g *Guard) countsLocked(ctx context.Context, e *policy.Engine) (map[string]int, error) {
	// The revision is a 64-bit hash: counts are another bundle's only when its files are the
	// same, never on a collision.
	if c, ok := g.counts[e.Revision()]; ok && maps.Equal(c.files, e.Bundle().Files) {
		return c.byPolicy, nil
	}
	if !g.inputDone {
		g.inputDone = true
		o, err := Reference()
		if err != nil {
			g.buildErr = err
		} else {
			g.input, g.buildErr = policy.InputOf(o, AsOf)
		}
	}
	if g.buildErr != nil {
		return nil, g.buildErr
	}
	vs, err := e.EvaluateInput(ctx, g.input)
	if err != nil {
		return nil, fmt.Errorf("evaluate the reference organ: %w", err)
	}
	c := map[string]int{}
	for _, m := range e.Policies() {
		c[m.ID] = 0
	}
	for _, v := range vs {
		c[v.Policy]++
	}
	if len(g.counts) > 64 { // drafts come and go; keep the memory bounded
		clear(g.counts)
	}
	g.counts[e.Revision()] = counted{files: e.Bundle().Files, byPolicy: c}
	return c, nil
}

func (g *Guard) builtinEngine(ctx context.Context) (*policy.Engine, error) {
	if g.builtin == nil {
		return nil, nil
	}
	if g.builtinE == nil {
		e, err := policy.Compile(ctx, g.builtin)
		if err != nil {
			return nil, fmt.Errorf("compile the built-in bundle: %w", err)
		}
		g.builtinE = e
	}
	return g.builtinE, nil
}

// counted is what Counts found for one bundle.
type counted struct {
	files    map[string]string // the bundle's files (never changed once compiled)
	byPolicy map[string]int
}

// Check refuses the change from before (the engine in force; nil when none) to after with a
// *duty.BundleError naming each duty that reported violations on the reference organ before
// and reports none after without being switched off in after. The baseline of a duty is its
// count under before, else, for a duty of after that the built-in bundle has too, its count
// under the built-in bundle — so a first start or a folder that breaks a built-in duty is
// refused as well.
func (g *Guard) Check(ctx context.Context, before, after *policy.Engine) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	got, err := g.countsLocked(ctx, after)
	if err != nil {
		return err
	}
	type base struct {
		n    int
		from string
		file string
	}
	expect := map[string]base{}
	if before != nil {
		c, err := g.countsLocked(ctx, before)
		if err != nil {
			return err
		}
		for _, m := range before.Policies() {
			if c[m.ID] > 0 {
				expect[m.ID] = base{c[m.ID], "the revision in force", m.File}
			}
		}
	}
	bi, err := g.builtinEngine(ctx)
	if err != nil {
		return err
	}
	if bi != nil {
		c, err := g.countsLocked(ctx, bi)
		if err != nil {
			return err
		}
		for _, m := range after.Policies() {
			if _, ok := expect[m.ID]; !ok && c[m.ID] > 0 {
				expect[m.ID] = base{c[m.ID], "the built-in bundle", m.File}
			}
		}
	}
	off, err := after.Bundle().SwitchedOff()
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(expect))
	for id := range expect {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var probs []duty.BundleProblem
	for _, id := range ids {
		if slices.Contains(off, id) || got[id] > 0 {
			continue
		}
		b := expect[id]
		what := "reports no violation"
		if _, ok := after.Policy(id); !ok {
			what = "is no longer in the bundle"
		}
		probs = append(probs, duty.BundleProblem{File: b.file, Kind: duty.BundleSilenced, Message: fmt.Sprintf(
			"duty %s %s on the reference organ (generated: seed %d, year %d, as of %s), where it reported %d under %s: "+
				"the change would switch it off silently. To switch it off, say so in the change: \"switch_off\": {%q: true} in a draft, "+
				"\"switch_off\": true with its parameters, or the id listed in %s",
			id, what, reference.Seed, reference.Year, AsOf, b.n, b.from, id, policy.SwitchedOffFile)})
	}
	if len(probs) > 0 {
		return &duty.BundleError{Problems: probs}
	}
	return nil
}
