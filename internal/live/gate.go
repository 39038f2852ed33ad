package live

import (
	"context"

	"github.com/dutycheck/dutycheck/internal/policy"
)

// gate is the check every bundle passes before it is previewed, stored or put in force: it
// compiles (parameter schemas and values included) and passes its Rego tests (policy.Check), and
// no duty that reported violations on the reference organ stops reporting unless the bundle
// switches it off explicitly (guard.Check). The engine in force is the guard's baseline.
func (m *Manager) gate(ctx context.Context, b *policy.Bundle) (*policy.Engine, []policy.TestResult, error) {
	eng, results, err := policy.Check(ctx, b)
	if err != nil {
		return nil, results, err
	}
	var before *policy.Engine
	if cur := m.current.Load(); cur != nil {
		before = cur.engine
	}
	if err := m.guard.Check(ctx, before, eng); err != nil {
		return nil, results, err
	}
	return eng, results, nil
}
