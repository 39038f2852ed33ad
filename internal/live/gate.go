package live

import (
	"context"

	"github.com/dutycheck/dutycheck/internal/policy"
)

// gate is the check every bundle passes before it is previewed, stored or put in force: it
// compiles (parameter schemas and values included) and passes its Rego tests (policy.Check, in the sandbox when there is one), and
// no duty that reported violations on the reference organ stops reporting unless the bundle
// switches it off explicitly (guard.Check). The engine in force is the guard's baseline.
func (m *Manager) gate(ctx context.Context, b *policy.Bundle) (*policy.Engine, []policy.TestResult, error) {
	eng, results, err := m.check(ctx, b)
	if err != nil {
		return nil, results, err
	}
	var before *policy.Engine
	if cur := m.current.Load(); cur != nil {
		before = cur.engine
	}
	// The draft has passed its tests, not yet been evaluated on records: the guard evaluates
	// it in the sandbox too, so a module that blows up there cannot take the service down.
	bound := m.bind(eng)
	defer func() {
		if bound != eng {
			bound.Close()
		}
	}()
	if err := m.guard.Check(ctx, before, bound); err != nil {
		return nil, results, err
	}
	return eng, results, nil
}
