package live

import (
	"context"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// gate is the check every bundle passes before it is previewed, stored or put in force: it
// compiles (parameter schemas and values included) and passes its Rego tests (policy.Check, in
// the sandbox when there is one), and no duty that reported violations on the reference organ
// stops reporting unless the bundle switches it off explicitly (guard.Check). The engine in
// force is the guard's baseline.
//
// The engine it returns is already bound to the sandbox (m.bind): the guard evaluates the draft
// there, since a module whose tests pass may still blow up on records, and the caller evaluates
// or puts in force that same engine, whose child has compiled the bundle once. The caller owns
// it: Close it when it is not put in force.
func (m *Manager) gate(ctx context.Context, b *policy.Bundle) (*policy.Engine, []duty.TestResult, error) {
	eng, results, err := m.check(ctx, b)
	if err != nil {
		return nil, results, err
	}
	var before *policy.Engine
	if cur := m.current.Load(); cur != nil {
		before = cur.engine
	}
	bound := m.bind(eng)
	if err := m.guard.Check(ctx, before, bound); err != nil {
		bound.Close()
		return nil, results, err
	}
	return bound, results, nil
}
