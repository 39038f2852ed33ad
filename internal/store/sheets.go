package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// EachRecord calls fn with every record of a collection that actor may see, in no particular
// order, stopping at fn's first error. Without organWide these are the records a read by the
// actor finds (GetScoped: a department user's subtree); with it, those its references may name
// (a department user's whole organ), as the spreadsheet imports resolve names.
func (s *Store) EachRecord(ctx context.Context, actor duty.Principal, collection string, organWide bool, fn func(duty.Doc) error) error {
	if duty.Lookup(collection) == nil {
		return fmt.Errorf("collection %q: %w", collection, duty.ErrNotFound)
	}
	var filter bson.D
	var reach duty.Reach // the whole tree, unless the actor has a scope
	var personDept map[string]string
	if root := actor.Scope(); root != "" {
		depts, err := s.Departments(ctx)
		if err != nil {
			return err
		}
		tree := duty.NewTree(depts)
		filter = bson.D{{Key: duty.OrganField, Value: tree.Organ(root)}}
		if !organWide {
			reach = duty.ReachOf(actor, tree)
			personDept = map[string]string{}
			if collection != "people" && collection != "departments" {
				err := s.all(ctx, "people", filter, func(d duty.Doc, _ string) { personDept[d.ID()] = d.Str("department_id") })
				if err != nil {
					return err
				}
			}
		}
	}
	if filter == nil {
		filter = bson.D{}
	}
	var ferr error
	err := s.all(ctx, collection, filter, func(d duty.Doc, _ string) {
		if ferr != nil {
			return
		}
		if !reach.Record(collection, d, func(p string) string { return personDept[p] }) {
			return
		}
		ferr = fn(d)
	})
	if ferr != nil {
		return ferr
	}
	return err
}
