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

// organNames returns the names of organ's people by id. When few is true and the names kept
// are not those of the organ's current version, it returns nil instead of reading the organ:
// a handful of lookups by id cost less than reading the organ's table.
func (h *handler) organNames(ctx context.Context, organ string, few bool) (map[string]string, error) {
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
	if few {
		return nil, nil
	}
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

// fewPeople is how many people of one organ a page looks up one by one rather than read the
// organ's names (an organ has about 1,100 people).
const fewPeople = 16

// preload gives the namer the names of the people a page names, by organ: refs are the
// records the page names and depts the departments of the findings they come from (a
// finding's people are mostly of its department's organ).
func (n *namer) preload(refs []duty.Ref, depts []string) error {
	need := map[string]map[string]bool{} // organ → people named
	for i, r := range refs {
		if r.Collection != "people" {
			continue
		}
		organ := n.tree.Organ(depts[i])
		if organ == "" {
			continue
		}
		if need[organ] == nil {
			need[organ] = map[string]bool{}
		}
		need[organ][r.ID] = true
	}
	for organ, people := range need {
		names, err := n.h.organNames(n.ctx, organ, len(people) <= fewPeople)
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
