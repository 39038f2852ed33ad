package store

import (
	"context"
	"sync"
)

// scanCache keeps what the store decoded of the scans read last, by scan, for the n scans read
// last: what it keeps of a done scan never changes. The retention empties it when it removes
// scans or summaries (Prune), as it does the report documents'.
//
// Two are kept (Store.counts, Store.heads). A scan's per-department counts: at 1,000 organs one
// document of some 70,000 departments, read by the overview on every page, whose reading and
// decoding cost more than the rest of the page. A scan's index (headscache.go).
type scanCache[V any] struct {
	mu    sync.Mutex
	n     int // how many scans are kept; none when 0
	scans map[string]V
	order []string // oldest first
}

// countsKept is how many scans' counts are kept (the latest of a few scopes, and the trend's).
const countsKept = 4

func (c *scanCache[V]) get(scan string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.scans[scan]
	return v, ok
}

func (c *scanCache[V]) put(scan string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scans == nil {
		c.scans = map[string]V{}
	}
	if _, ok := c.scans[scan]; ok || c.n <= 0 {
		return
	}
	if len(c.order) >= c.n {
		delete(c.scans, c.order[0])
		c.order = c.order[1:]
	}
	c.scans[scan] = v
	c.order = append(c.order, scan)
}

func (c *scanCache[V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scans, c.order = nil, nil
}

// DepartmentCountsOf returns each department's own counts in a finished scan, by department
// (ScanDepartmentCounts as a map). The map is shared: callers must not change it.
func (s *Store) DepartmentCountsOf(ctx context.Context, scanID string) (map[string]DepartmentCounts, error) {
	if m, ok := s.counts.get(scanID); ok {
		return m, nil
	}
	list, err := s.scanCounts(ctx, scanID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]DepartmentCounts, len(list))
	for _, c := range list {
		m[c.Department] = c
	}
	s.counts.put(scanID, m)
	return m, nil
}
