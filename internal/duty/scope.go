package duty

import (
	"fmt"
	"maps"
	"slices"
)

// The rules of a department user's writes, kept here so that the store and the fakes of the
// edges' tests apply the same ones (services.go).

// ScopeNeeds lists the ids of the stored people ScopeProblems needs to place the documents of
// batch b and of the stored records old it replaces (by collection and id): its references to
// leaders, and the people named by the replaced records and by the batch's stored references.
func ScopeNeeds(b *Batch, old map[string]map[string]Doc) []string {
	need := map[string]bool{}
	for _, byID := range old {
		for _, d := range byID {
			for _, f := range []string{"holder_id", "person_id", "signer_id"} {
				if p := d.Str(f); p != "" {
					need[p] = true
				}
			}
		}
	}
	for _, ds := range b.Docs {
		for _, d := range ds {
			for _, f := range LeaderFields() {
				if p := d.Str(f); p != "" {
					need[p] = true
				}
			}
		}
	}
	for id := range b.Stored["people"] {
		need[id] = true
	}
	return slices.Sorted(maps.Keys(need))
}

// ScopeProblems checks a department user's batch b (validated by Validate): references resolve
// within its organ, and each document, and the stored record it replaces (old, by collection
// and id), belongs to the subtree of root; nothing it writes creates or satisfies an
// organ-level duty or a leader's. people are the stored people of ScopeNeeds.
func ScopeProblems(b *Batch, root string, old map[string]map[string]Doc, people map[string]Doc) []Problem {
	var probs []Problem
	oldTree, tree := b.Before, b.After
	organ := oldTree.Organ(root)
	sub, oldSub := tree.Subtree(root), oldTree.Subtree(root)
	personDept := func(id string) string {
		if d := b.Doc("people", id); d != nil {
			return d.Str("department_id")
		}
		return people[id].Str("department_id")
	}
	oldPersonDept := func(id string) string { return people[id].Str("department_id") }
	isLeader := func(id string) bool {
		if d := b.Doc("people", id); d != nil {
			if _, why := OrganLevel("people", d, KindIn(tree)); why != "" {
				return true
			}
		}
		_, why := OrganLevel("people", people[id], KindIn(oldTree))
		return why != ""
	}
	for _, c := range Collections {
		for i, d := range b.Docs[c.Name] {
			r := b.Raw[c.Name][i]
			add := func(kind ProblemKind, field, msg string) {
				probs = append(probs, Problem{File: r.File, Line: r.Line, Index: r.Index, ID: d.ID(), Field: field, Kind: kind, Message: msg})
			}
			c.Refs(d, func(field, coll, id string) {
				if b.Has(coll, id) {
					return
				}
				if o, ok := b.Stored[coll][id]; ok && o != organ {
					m := MissingRef(field, id, coll)
					m.File, m.Line, m.Index, m.ID = r.File, r.Line, r.Index, d.ID()
					probs = append(probs, m)
				}
			})
			if dept := DepartmentOfDoc(c.Name, d, personDept); !sub[dept] || (c.Name == "departments" && d.ID() == root && d.Str("parent_id") != oldTree.Department(root).Str("parent_id")) {
				add(KindScope, "", fmt.Sprintf("belongs to department %q, outside your department %q and its subtree", dept, root))
			}
			if prev, ok := old[c.Name][d.ID()]; ok && !oldSub[DepartmentOfDoc(c.Name, prev, oldPersonDept)] {
				add(KindIDTaken, "id", "is already used by a record outside your department's subtree")
			}
			// By effect: nothing that satisfies or creates an organ-level duty, before or after.
			if field, why := OrganLevel(c.Name, d, KindIn(tree)); why != "" {
				add(KindOrganLevel, field, why)
			} else if prev, ok := old[c.Name][d.ID()]; ok {
				if field, why := OrganLevel(c.Name, prev, KindIn(oldTree)); why != "" {
					add(KindOrganLevel, field, "of the stored record "+why)
				}
			}
			if field, why := LeaderRecord(c.Name, d, isLeader); why != "" {
				add(KindLeader, field, why)
			} else if prev, ok := old[c.Name][d.ID()]; ok {
				if field, why := LeaderRecord(c.Name, prev, isLeader); why != "" {
					add(KindLeader, field, "of the stored record "+why)
				}
			}
			if h := d.Str("holder_id"); c.Name == "responsibility_lists" && h != "" && !sub[personDept(h)] {
				add(KindScope, "holder_id", fmt.Sprintf("names %q, a person outside your department %q and its subtree, whose list is not yours to keep", h, root))
			}
			if c.Name == "people" {
				for _, v := range asList(d["supervises"]) {
					if id, _ := v.(string); !sub[id] {
						add(KindScope, "supervises", fmt.Sprintf("names %q, outside your department %q and its subtree: supervision there creates letter duties of other departments", id, root))
					}
				}
			}
		}
	}
	return probs
}

// LeadersNamed lists the people a record names in its leader fields, for ScopedDeleteProblem.
func LeadersNamed(d Doc) []string {
	var named []string
	for _, f := range LeaderFields() {
		if p := d.Str(f); p != "" {
			named = append(named, p)
		}
	}
	return named
}

// ScopedDeleteProblem refuses a department user's deletion of the stored record before (of
// collection, with id) that satisfies an organ-level duty or a leader's; people are the stored
// people of LeadersNamed(before). The record being in the user's subtree is checked before
// (a record outside it is not found).
func ScopedDeleteProblem(collection, id string, before Doc, tree *Tree, people map[string]Doc) error {
	if field, why := OrganLevel(collection, before, KindIn(tree)); why != "" {
		return &ValidationError{Problems: []Problem{{ID: id, Field: field, Kind: KindOrganLevel, Message: why}}}
	}
	isLeader := func(p string) bool {
		_, why := OrganLevel("people", people[p], KindIn(tree))
		return why != ""
	}
	if field, why := LeaderRecord(collection, before, isLeader); why != "" {
		return &ValidationError{Problems: []Problem{{ID: id, Field: field, Kind: KindLeader, Message: why}}}
	}
	return nil
}

// KindIn returns the kind of a department of the tree, for OrganLevel.
func KindIn(t *Tree) func(id string) string {
	return func(id string) string { return t.Department(id).Str("kind") }
}

func asList(v any) []any { l, _ := v.([]any); return l }
