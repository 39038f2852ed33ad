package policy

import (
	"maps"
	"slices"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// passed remembers, by content hash (Bundle.Revision) and where the tests ran (in this process,
// or in a sandbox with its limits: a pass within one sandbox's limits says nothing of
// another's), the last few bundles that passed the gate in this process, with their compiled
// engine and their tests' results, so that the same content passes again without being
// compiled and tested again: a draft previewed and then
// applied, a revision rolled back to, each manager of a process seeding the built-in bundle.
// A bundle's tests are deterministic (the capabilities leave out the clock and randomness), so
// a pass stays a pass; a refusal is never remembered, and is checked again every time.
var passed = passedBundles{m: map[string]passedBundle{}}

// passedMax bounds the engines kept (a compiled bundle is a few megabytes).
const passedMax = 8

type passedBundles struct {
	mu    sync.Mutex
	order []string // oldest first
	m     map[string]passedBundle
}

type passedBundle struct {
	e       *Engine
	results []duty.TestResult
}

// passedKey is the key of a bundle's content that passed where: "" in this process, else the
// sandbox's limits.
func passedKey(b *Bundle, where string) string { return b.Revision() + "\x00" + where }

// get returns the engine and a copy of the results of bundle b that passed where. The key is
// only a short hash of the content (Bundle.Revision: 64 bits, within reach of a crafted
// collision), so a remembered pass counts only for exactly the files it was compiled from:
// any other content is checked anew.
func (p *passedBundles) get(b *Bundle, where string) (*Engine, []duty.TestResult, bool) {
	key := passedKey(b, where)
	p.mu.Lock()
	defer p.mu.Unlock()
	pb, ok := p.m[key]
	if !ok || !maps.Equal(pb.e.bundle.Files, b.Files) {
		return nil, nil, false
	}
	return pb.e, slices.Clone(pb.results), true
}

// add remembers that the bundle of e passed where, forgetting the oldest beyond passedMax.
func (p *passedBundles) add(where string, e *Engine, results []duty.TestResult) {
	key := passedKey(e.bundle, where)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[key]; ok {
		return
	}
	p.m[key] = passedBundle{e: e, results: slices.Clone(results)}
	p.order = append(p.order, key)
	if len(p.order) > passedMax {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}
