package web

import (
	"context"
	"errors"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// nameCache keeps the names of the people of the organs whose reports the pages showed last,
// each with the organ's version when they were read: a report page names the people its
// violations are about from the organ's map, read once per version of the organ, instead of
// one lookup per person. The version is read from the store on every use (one small lookup),
// so a write to a person is seen by the next page whichever process made it, and a store that
// cannot answer fails the page instead of a page from the cache.
type nameCache struct {
	mu      sync.Mutex
	entries map[string]*nameEntry
	order   []string // oldest first
}

type nameEntry struct {
	version int64
	names   map[string]string // person id → name
}

// namesKept is how many organs' names the pages keep (a few tens of bytes a person: 256 organs
// of 1,100 people are about 15 MB).
const namesKept = 256

// organNames returns the names of organ's people by id.
func (h *handler) organNames(ctx context.Context, organ string) (map[string]string, error) {
	ver, err := h.Store.OrganVersionOf(ctx, organ)
	if err != nil {
		return nil, err
	}
	c := &h.names
	c.mu.Lock()
	if e := c.entries[organ]; e != nil && ver.Settled && e.version == ver.Version {
		c.mu.Unlock()
		return e.names, nil
	}
	c.mu.Unlock()
	docs, err := h.Store.OrganRecords(ctx, organ, "people")
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(docs["people"]))
	for _, p := range docs["people"] {
		names[p.ID()] = p.Str("name")
	}
	after, err := h.Store.OrganVersionOf(ctx, organ)
	if err != nil {
		return nil, err
	}
	if !ver.Settled || !after.Settled || after.Version != ver.Version {
		return names, nil // changed while read: good for this page, not kept
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*nameEntry{}
	}
	if _, ok := c.entries[organ]; !ok {
		if len(c.order) >= namesKept {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, organ)
	}
	c.entries[organ] = &nameEntry{version: ver.Version, names: names}
	return names, nil
}

// preload gives the namer the names of the people of the organs of the given departments (the
// departments of the violations a page shows: their subjects are mostly of those organs).
func (n *namer) preload(departments []string) error {
	seen := map[string]bool{}
	for _, d := range departments {
		organ := n.tree.Organ(d)
		if organ == "" || seen[organ] {
			continue
		}
		seen[organ] = true
		names, err := n.h.organNames(n.ctx, organ)
		if err != nil {
			return err
		}
		for id, name := range names {
			if _, ok := n.people[id]; !ok {
				n.people[id] = name
			}
		}
	}
	return nil
}

// lookupPerson reads one person's name from the store: a person missing is shown by id, any
// other failure is kept in n.err, which the page returns instead of the page.
func (n *namer) lookupPerson(id string) string {
	d, err := n.h.Store.Get(n.ctx, "people", id)
	switch {
	case err == nil:
		return d.Str("name")
	case !errors.Is(err, duty.ErrNotFound) && n.err == nil:
		n.err = err
	}
	return id
}
