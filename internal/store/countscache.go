package store

import (
	"context"
	"sync"
)

// countsCache keeps the per-department counts of the scans read last, by scan, as maps: they
// never change once the scan is done, and the overview reads the latest scan's on every page.
// At 1,000 organs a scan's counts are one document of some 70,000 departments, whose reading
// and decoding cost more than the rest of the page. The retention empties the cache when it
// removes summaries (Prune), as it does the report documents'.
type countsCache struct {
	mu    sync.Mutex
	scans map[string]map[string]DepartmentCounts
	order []string // oldest first
}

// countsKept is how many scans' counts are kept (the latest of a few scopes, and the trend's).
const countsKept = 4

func (c *countsCache) get(scan string) (map[string]DepartmentCounts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.scans[scan]
	return m, ok
}

func (c *countsCache) put(scan string, m map[string]DepartmentCounts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scans == nil {
		c.scans = map[string]map[string]DepartmentCounts{}
	}
	if _, ok := c.scans[scan]; ok {
		return
	}
	if len(c.order) >= countsKept {
		delete(c.scans, c.order[0])
		c.order = c.order[1:]
	}
	c.scans[scan] = m
	c.order = append(c.order, scan)
}

func (c *countsCache) forget() {
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
