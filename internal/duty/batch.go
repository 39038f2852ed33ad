package duty

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Resolver tells the validator of a batch about the records already stored, which the batch's
// references may name and whose departments the batch's join (store.PutMany); nil stands for
// none (a dataset folder checked on its own).
type Resolver interface {
	// Stamps returns, of ids (sorted, without repeats) of collection, those stored, each with
	// its organ stamp.
	Stamps(ctx context.Context, collection string, ids []string) (map[string]string, error)
	// Departments returns the stored departments.
	Departments(ctx context.Context) ([]Doc, error)
}

// Batch is a set of documents of any collections validated together (Validate).
type Batch struct {
	// Raw are the documents as given, and Docs the same documents normalized, position for
	// position.
	Raw  map[string][]RawDoc
	Docs map[string][]Doc
	// Index gives, by collection, the position of the document of each id (the first one).
	Index map[string]map[string]int
	// Stored are the stored records that the batch's references name and the batch does not
	// hold, by collection, each with its organ stamp.
	Stored map[string]map[string]string
	// Before is the department tree stored before the batch, After the one the batch makes.
	Before, After *Tree
}

// Has reports whether the batch holds a record of collection with id.
func (b *Batch) Has(collection, id string) bool {
	_, ok := b.Index[collection][id]
	return ok
}

// Doc returns the batch's record of collection with id, or nil.
func (b *Batch) Doc(collection, id string) Doc {
	if i, ok := b.Index[collection][id]; ok {
		return b.Docs[collection][i]
	}
	return nil
}

// MissingRef is the problem of the reference in field to id of collection that names no
// record: neither one of the batch nor (with a resolver) a stored one. It also stands for a
// record a user may not name, which must look the same as none.
func MissingRef(field, id, collection string) Problem {
	return Problem{Field: field, Kind: KindMissingRef, Args: []string{id},
		Message: fmt.Sprintf("names %q, which is not a record in %s", id, collection)}
}

// Validate checks a batch (collection name → raw documents) as one whole: each document
// against its schema, ids unique per collection, every reference naming a record of the batch
// or, through stored, a stored one, and the department tree the batch makes (with the stored
// departments it does not replace) free of cycles. The problems come back in a
// *ValidationError: all at once without stored, and with stored those of the documents' schemas
// and ids first, alone if there are any; an error of stored, or ctx's, comes back as it is. The one validator of records: the
// dataset loader (NewDataset) and the store's writes (store.PutMany) use it.
func Validate(ctx context.Context, raw map[string][]RawDoc, stored Resolver) (*Batch, error) {
	b := &Batch{Raw: raw, Docs: map[string][]Doc{}, Index: map[string]map[string]int{}, Stored: map[string]map[string]string{}}
	var probs []Problem
	add := func(r RawDoc, id string, ps ...Problem) {
		probs = append(probs, at(ps, r.File, r.Line, r.Index, id)...)
	}
	for _, c := range Collections {
		list := raw[c.Name]
		ids := map[string]int{}
		b.Index[c.Name] = ids
		docs := make([]Doc, len(list))
		for i, r := range list {
			if i%256 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			d, ps := NormalizeRaw(c, r.Value)
			id := d.ID()
			if j, dup := ids[id]; dup && id != "" {
				msg := fmt.Sprintf("duplicates the id of document %d", list[j].Index)
				if list[j].File != "" {
					msg += fmt.Sprintf(" (%s line %d)", list[j].File, list[j].Line)
				}
				ps = append(ps, Problem{Field: "id", Kind: KindDuplicateID, Message: msg})
			} else if id != "" {
				ids[id] = i
			}
			if c.Name == "departments" {
				ps = append(ps, CheckDepartment(d)...)
			}
			add(r, id, ps...)
			docs[i] = d
		}
		b.Docs[c.Name] = docs
	}

	// With stored records to look up, a batch with malformed documents is refused before any
	// lookup: it is refused anyway, and the reads would be work for nothing. A dataset on its
	// own costs nothing more to check whole, so every problem is reported at once.
	if stored != nil && len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}

	// References: to the batch, else to stored records.
	wanted := map[string]map[string]bool{}
	b.refs(func(_ Doc, _ RawDoc, _, coll, id string) {
		if wanted[coll] == nil {
			wanted[coll] = map[string]bool{}
		}
		wanted[coll][id] = true
	})
	for _, coll := range slices.Sorted(maps.Keys(wanted)) {
		found := map[string]string{}
		if stored != nil {
			var err error
			if found, err = stored.Stamps(ctx, coll, slices.Sorted(maps.Keys(wanted[coll]))); err != nil {
				return nil, err
			}
		}
		b.Stored[coll] = found
	}
	b.refs(func(d Doc, r RawDoc, field, coll, id string) {
		if _, ok := b.Stored[coll][id]; !ok {
			add(r, d.ID(), MissingRef(field, id, coll))
		}
	})

	// The department tree as it will be after the batch.
	var depts []Doc
	if stored != nil {
		var err error
		if depts, err = stored.Departments(ctx); err != nil {
			return nil, err
		}
	}
	b.Before = NewTree(depts)
	b.After = b.Before
	if batch := b.Docs["departments"]; len(batch) > 0 {
		merged := make([]Doc, 0, len(depts)+len(batch))
		for _, d := range depts {
			if !b.Has("departments", d.ID()) {
				merged = append(merged, d)
			}
		}
		for _, d := range batch {
			if d.ID() != "" {
				merged = append(merged, d)
			}
		}
		b.After = NewTree(merged)
		for _, id := range b.After.Cycles() {
			if i, ok := b.Index["departments"][id]; ok {
				add(raw["departments"][i], id, Problem{Field: "parent_id", Kind: KindCycle,
					Message: "makes a cycle in the department tree (the department is its own ancestor)"})
			}
		}
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return b, nil
}

// refs calls fn for each reference of the batch's documents (with an id) that names no record
// of the batch.
func (b *Batch) refs(fn func(d Doc, r RawDoc, field, coll, id string)) {
	for _, c := range Collections {
		for i, d := range b.Docs[c.Name] {
			if d.ID() == "" {
				continue
			}
			c.Refs(d, func(field, coll, id string) {
				if !b.Has(coll, id) {
					fn(d, b.Raw[c.Name][i], field, coll, id)
				}
			})
		}
	}
}
