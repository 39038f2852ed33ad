package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// PutBatch validates a batch of documents of one collection and, only when every one is valid,
// upserts them all by id. Validation is duty.Validate's (schema, unique ids, references,
// department tree), where a reference may name a record of the same batch or one already stored.
// Invalid input changes nothing and comes back as a *duty.ValidationError; an unknown collection
// is duty.ErrNotFound. It returns the number of documents written.
func (s *Store) PutBatch(ctx context.Context, actor duty.Principal, collection string, raw []duty.RawDoc) (int, error) {
	if duty.Lookup(collection) == nil {
		return 0, fmt.Errorf("collection %q: %w", collection, duty.ErrNotFound)
	}
	return s.PutMany(ctx, actor, map[string][]duty.RawDoc{collection: raw})
}

// PutMany is PutBatch over several collections at once (a dataset folder being imported): a
// reference may name any record of any of the batches, or a stored one. Nothing is written
// unless every document of every batch is valid.
//
// A department user (actor.Scope() != "") writes only records of its subtree: each document's
// department (duty.DepartmentOfDoc) and that of the stored record it replaces must be in the
// subtree; references may name records of the same organ. Every write is appended to the audit
// trail with the actor and the before/after hashes.
//
// It goes in four steps, under the write lease: validate (validatePut), plan the writes
// (put.plan), write them, journaled first (journalPutOp, then writePut), and audit them
// (auditPut).
func (s *Store) PutMany(ctx context.Context, actor duty.Principal, batches map[string][]duty.RawDoc) (int, error) {
	for name := range batches {
		if duty.Lookup(name) == nil {
			return 0, fmt.Errorf("collection %q: %w", name, duty.ErrNotFound)
		}
	}
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if err := s.loadGen(ctx); err != nil {
		return 0, err
	}
	p, err := s.validatePut(ctx, actor, batches)
	if err != nil {
		return 0, err
	}
	if err := p.plan(); err != nil {
		return 0, err
	}
	h, chunks, err := s.journalPutOp(ctx, actor, p)
	if err != nil {
		return 0, err
	}
	// Journaled: from here on the write is completed whatever happens to the request (a cancelled
	// context no longer stops it half-way), and a failure is completed at once (finishFailed).
	apply := func(ctx context.Context) (int, error) {
		written, err := s.writePut(ctx, h, p)
		if err != nil {
			return written, err
		}
		if err := s.auditPut(ctx, h, chunks); err != nil {
			return written, err
		}
		return written, s.finishOp(ctx, h)
	}
	written, err := apply(s.withFence(context.WithoutCancel(ctx)))
	if err != nil {
		return written, s.finishFailed(ctx, h, err)
	}
	return written, nil
}

// put is one PutMany under way: the validated batch, the stored records it replaces and the
// writes planned for it.
type put struct {
	*duty.Batch
	old      map[string]map[string]duty.Doc // collection → id → the stored record replaced
	oldOrgan map[string]map[string]string   // collection → id → its organ stamp
	// writes are, by collection, the new records and the replaced ones.
	writes map[string][]*recordWrite
	tables organWrites
	// restamp says that a department or a person moves to another organ; departments that the
	// batch writes departments.
	restamp, departments bool
	organs               []string // the organs whose tables change
}

// recordWrite is records written to a collection at once: inserted (new) or replaced.
type recordWrite struct {
	ids    []string
	docs   []any
	insert bool
}

// resolver is the store as duty.Validate sees it: its stored records' organ stamps and its
// departments.
type resolver struct{ s *Store }

func (r resolver) Stamps(ctx context.Context, collection string, ids []string) (map[string]string, error) {
	return r.s.organStamps(ctx, collection, ids)
}

func (r resolver) Departments(ctx context.Context) ([]duty.Doc, error) { return r.s.Departments(ctx) }

// validatePut validates the batches against the stored records (duty.Validate), reads the
// records they replace and, for a department user, checks the scope.
func (s *Store) validatePut(ctx context.Context, actor duty.Principal, batches map[string][]duty.RawDoc) (*put, error) {
	b, err := duty.Validate(ctx, batches, resolver{s})
	if err != nil {
		return nil, err
	}
	p := &put{Batch: b, old: map[string]map[string]duty.Doc{}, oldOrgan: map[string]map[string]string{}}
	for _, c := range duty.Collections {
		if len(b.Docs[c.Name]) == 0 {
			continue
		}
		if p.old[c.Name], p.oldOrgan[c.Name], err = s.storedByID(ctx, c.Name, keys(boolSet(b.Index[c.Name]))); err != nil {
			return nil, err
		}
	}
	if root := actor.Scope(); root != "" {
		if probs := s.scopeProblems(ctx, root, p); len(probs) > 0 {
			return nil, &duty.ValidationError{Problems: probs}
		}
	}
	return p, nil
}

// plan works out the writes: each record goes to its collection and to its organ's table; a
// record that changes organ leaves the old one's table.
func (p *put) plan() error {
	tree := p.After
	personOrgan := func(id string) string {
		if d := p.Doc("people", id); d != nil {
			return tree.Organ(d.Str("department_id"))
		}
		return p.Stored["people"][id]
	}
	p.writes, p.tables = map[string][]*recordWrite{}, organWrites{}
	p.departments = len(p.Docs["departments"]) > 0
	for _, c := range duty.Collections {
		list := p.Docs[c.Name]
		if len(list) == 0 {
			continue
		}
		fresh, replaced := &recordWrite{insert: true}, &recordWrite{}
		for _, d := range list {
			organ := duty.OrganOf(c, d, tree.Organ, personOrgan)
			prevOrgan, existed := p.oldOrgan[c.Name][d.ID()]
			switch c.Name {
			case "departments":
				p.restamp = p.restamp || (p.Before.Department(d.ID()) != nil && p.Before.Organ(d.ID()) != organ)
			case "people":
				p.restamp = p.restamp || (existed && prevOrgan != organ)
			}
			stored := toBSON(d, organ)
			w := fresh
			if existed {
				w = replaced
			}
			w.ids, w.docs = append(w.ids, d.ID()), append(w.docs, stored)
			key := tableKey(c.Name, d.ID())
			if existed && prevOrgan != organ && prevOrgan != "" {
				ch := p.tables.change(prevOrgan)
				ch.remove = append(ch.remove, key)
			}
			if organ == "" {
				continue
			}
			td, err := tableDoc(c.Name, d.ID(), stored)
			if err != nil {
				return err
			}
			ch := p.tables.change(organ)
			if existed && prevOrgan == organ {
				ch.replaceIDs, ch.replace = append(ch.replaceIDs, key), append(ch.replace, td)
			} else {
				ch.insertIDs, ch.insert = append(ch.insertIDs, key), append(ch.insert, td)
			}
		}
		p.writes[c.Name] = []*recordWrite{fresh, replaced}
	}
	p.organs = p.tables.organs()
	return nil
}

// journalPutOp writes the journal first: every record the batch writes and its audit hashes.
// From here on, a crash is completed by the next start (journal.go).
func (s *Store) journalPutOp(ctx context.Context, actor duty.Principal, p *put) (*journalHead, []journalChunk, error) {
	h := s.newOp("put", actor)
	h.Restamp, h.Departments, h.Organs = p.restamp, p.departments, p.organs
	h.Undo = true
	for _, ws := range p.writes {
		for _, w := range ws {
			h.Undo = h.Undo && (w.insert || len(w.ids) == 0)
		}
	}
	var puts []pendingPut
	for _, c := range duty.Collections {
		list := p.Docs[c.Name]
		if len(list) == 0 {
			continue
		}
		pp := pendingPut{collection: c.Name}
		for _, d := range list {
			pp.ids = append(pp.ids, d.ID())
			pp.before = append(pp.before, docHash(p.old[c.Name][d.ID()]))
			pp.after = append(pp.after, docHash(d))
		}
		// The stored documents, in the order of the ids.
		byID := make(map[string]bson.D, len(list))
		for _, w := range p.writes[c.Name] {
			for k, id := range w.ids {
				byID[id] = w.docs[k].(bson.D)
			}
		}
		for _, id := range pp.ids {
			pp.docs = append(pp.docs, byID[id])
		}
		puts = append(puts, pp)
	}
	chunks, err := s.journalPut(ctx, h, puts)
	if err != nil {
		return nil, nil, err
	}
	return h, chunks, nil
}

// writePut writes the journaled records of operation h to their collections and the organ
// tables, and steps the organs' versions before and after; it returns how many records it
// wrote.
func (s *Store) writePut(ctx context.Context, h *journalHead, p *put) (int, error) {
	if err := s.hook("put.after-journal"); err != nil {
		return 0, err
	}
	if err := s.beginOrgans(ctx, p.organs, h.ID); err != nil {
		return 0, err
	}
	if p.departments {
		if err := s.bumpDepartments(ctx); err != nil {
			return 0, err
		}
	}
	written := 0
	for _, c := range duty.Collections {
		for _, w := range p.writes[c.Name] {
			if len(w.ids) == 0 {
				continue
			}
			var err error
			if w.insert {
				err = insertOrReplace(ctx, s.db.Collection(c.Name), w.ids, w.docs)
			} else {
				err = replaceAll(ctx, s.db.Collection(c.Name), w.ids, w.docs)
			}
			if err != nil {
				return written, fmt.Errorf("write %s: %w", c.Name, err)
			}
			if written == 0 {
				if err := s.hook("put.mid-batch"); err != nil {
					return written, err
				}
			}
			written += len(w.ids)
		}
	}
	// A batch that moves records to another organ rebuilds the tables as a new generation
	// instead: scans keep reading the old one, whole, until the switch.
	if !p.restamp {
		if err := p.tables.apply(ctx, s, s.currentGen()); err != nil {
			return written, err
		}
	}
	if p.departments {
		if err := s.bumpDepartments(ctx); err != nil {
			return written, err
		}
	}
	if p.restamp {
		if err := s.restamp(ctx, h.ID); err != nil {
			return written, err
		}
	}
	return written, s.endOrgans(ctx, p.organs, h.ID)
}

// auditPut appends operation h's journaled chunks to the audit trail.
func (s *Store) auditPut(ctx context.Context, h *journalHead, chunks []journalChunk) error {
	if err := s.hook("put.before-audit"); err != nil {
		return err
	}
	for i := range chunks {
		if err := s.auditChunkOf(ctx, h, i, &chunks[i]); err != nil {
			return err
		}
		if i == 0 {
			if err := s.hook("put.after-first-audit"); err != nil {
				return err
			}
		}
	}
	return nil
}

// auditChunk is the most record ids one audit entry lists.
const auditChunk = 5000

// fewIDs is up to how many ids a lookup asks for each id on its own instead of one query for
// all. The embedded store answers an `_id` query by parsing every row of the table in SQLite
// (its _id index is on another expression than its queries use), and an `$in` query by
// decoding every document of the collection in Go, about fifty times slower per row.
const fewIDs = 32

// docsByID returns the stored records of a collection among ids.
func (s *Store) docsByID(ctx context.Context, collection string, ids []string) (map[string]duty.Doc, error) {
	out, _, err := s.storedByID(ctx, collection, ids)
	return out, err
}

// storedByID returns the stored records of a collection among ids, and their organ stamps.
func (s *Store) storedByID(ctx context.Context, collection string, ids []string) (map[string]duty.Doc, map[string]string, error) {
	out, organs := map[string]duty.Doc{}, map[string]string{}
	add := func(d duty.Doc, organ string) { out[d.ID()], organs[d.ID()] = d, organ }
	if len(ids) <= fewIDs {
		for _, id := range ids {
			if err := s.all(ctx, collection, bson.D{{Key: "_id", Value: id}}, add); err != nil {
				return nil, nil, err
			}
		}
		return out, organs, nil
	}
	err := s.all(ctx, collection, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, add)
	return out, organs, err
}

// scopeProblems checks a department user's batch (duty.ScopeProblems), with the stored people
// the checks need.
func (s *Store) scopeProblems(ctx context.Context, root string, p *put) []duty.Problem {
	people, err := s.docsByID(ctx, "people", duty.ScopeNeeds(p.Batch, p.old))
	if err != nil {
		return []duty.Problem{{Kind: duty.KindUnchecked, Message: err.Error()}}
	}
	return duty.ScopeProblems(p.Batch, root, p.old, people)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// organStamps returns id → organ stamp for the stored records of collection among ids.
func (s *Store) organStamps(ctx context.Context, collection string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) <= fewIDs {
		for _, id := range ids {
			_, organ, err := s.get(ctx, collection, id)
			switch {
			case err == nil:
				out[id] = organ
			case !isNotFound(err):
				return nil, err
			}
		}
		return out, nil
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	cur, err := s.db.Collection(collection).Find(ctx, filter,
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: duty.OrganField, Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", collection, unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		id, _ := cur.Current.Lookup("_id").StringValueOK()
		organ, _ := cur.Current.Lookup(duty.OrganField).StringValueOK()
		out[id] = organ
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", collection, unavailable(err))
	}
	return out, nil
}

func boolSet(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// restamp recomputes every record's organ stamp from the department tree and the people,
// rewrites the stamps that changed and rebuilds the organ tables, as part of the journaled
// operation op. It runs after a department or a person moves to another organ, which is rare;
// it is idempotent. The caller holds writeMu.
func (s *Store) restamp(ctx context.Context, op string) error {
	if err := s.restampStamps(ctx); err != nil {
		return err
	}
	return s.rebuildTables(ctx, op)
}

// restampStamps rewrites the organ stamps that the department tree and the people no longer
// give.
func (s *Store) restampStamps(ctx context.Context) error {
	depts, err := s.Departments(ctx)
	if err != nil {
		return err
	}
	tree := duty.NewTree(depts)
	personOrgan := map[string]string{}
	for _, c := range duty.Collections {
		type change struct{ id, organ string }
		var changes []change
		err := s.all(ctx, c.Name, bson.D{}, func(d duty.Doc, stamp string) {
			organ := duty.OrganOf(c, d, tree.Organ, func(p string) string { return personOrgan[p] })
			if c.Name == "people" {
				personOrgan[d.ID()] = organ
			}
			if organ != stamp {
				changes = append(changes, change{d.ID(), organ})
			}
		})
		if err != nil {
			return err
		}
		for _, ch := range changes {
			_, err := s.db.Collection(c.Name).UpdateOne(ctx, bson.D{{Key: "_id", Value: ch.id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: duty.OrganField, Value: ch.organ}}}})
			if err != nil {
				return fmt.Errorf("restamp %s %q: %w", c.Name, ch.id, unavailable(err))
			}
		}
	}
	return nil
}

// Delete removes one record, unless other records still name it: then it is duty.ErrConflict
// and the message lists them, so that no reference is left dangling.
func (s *Store) Delete(ctx context.Context, actor duty.Principal, collection, id string) error {
	if duty.Lookup(collection) == nil {
		return fmt.Errorf("collection %q: %w", collection, duty.ErrNotFound)
	}
	unlock, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	before, err := s.GetScoped(ctx, actor, collection, id)
	if err != nil {
		return err
	}
	if actor.Scope() != "" {
		depts, err := s.Departments(ctx)
		if err != nil {
			return err
		}
		people, err := s.docsByID(ctx, "people", duty.LeadersNamed(before))
		if err != nil {
			return err
		}
		if err := duty.ScopedDeleteProblem(collection, id, before, duty.NewTree(depts), people); err != nil {
			return err
		}
	}
	refs, err := s.Referrers(ctx, collection, id, 5)
	if err != nil {
		return err
	}
	var users []string
	for _, r := range refs {
		users = append(users, fmt.Sprintf("%s %q (%s)", r.Ref.Collection, r.Ref.ID, r.Field))
	}
	if len(users) > 0 {
		return fmt.Errorf("%s %q is still named by %s: %w", collection, id, strings.Join(users, ", "), duty.ErrConflict)
	}
	_, organ, err := s.get(ctx, collection, id)
	if err != nil {
		return err
	}
	var organs []string
	if organ != "" {
		organs = []string{organ}
	}
	if err := s.loadGen(ctx); err != nil {
		return err
	}
	h := s.newOp("delete", actor)
	h.Collection, h.DocID, h.Before, h.Organs = collection, id, docHash(before), organs
	h.Departments = collection == "departments"
	if err := s.writeHead(ctx, h); err != nil {
		return err
	}
	apply := func(ctx context.Context) error { // as in PutMany: journaled, so completed whatever happens
		if err := s.hook("delete.after-journal"); err != nil {
			return err
		}
		if err := s.beginOrgans(ctx, organs, h.ID); err != nil {
			return err
		}
		if collection == "departments" {
			if err := s.bumpDepartments(ctx); err != nil {
				return err
			}
		}
		if _, err := s.db.Collection(collection).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return fmt.Errorf("delete %s %q: %w", collection, id, unavailable(err))
		}
		if organ != "" {
			if _, err := s.organColl(s.currentGen(), organ).DeleteOne(ctx, bson.D{{Key: "_id", Value: tableKey(collection, id)}}); err != nil {
				return fmt.Errorf("delete %s %q from the table of organ %q: %w", collection, id, organ, unavailable(err))
			}
		}
		if collection == "departments" {
			if err := s.bumpDepartments(ctx); err != nil {
				return err
			}
		}
		if err := s.endOrgans(ctx, organs, h.ID); err != nil {
			return err
		}
		err := s.auditOnce(ctx, duty.AuditEntry{ID: auditID(h, 0), At: h.At, Actor: h.Actor, Action: "records.delete",
			Collection: collection, IDs: []string{id}, Before: []string{h.Before}, After: []string{""}})
		if err != nil {
			return err
		}
		return s.finishOp(ctx, h)
	}
	if err := apply(context.WithoutCancel(ctx)); err != nil {
		return s.finishFailed(ctx, h, err)
	}
	return nil
}

// GetScoped returns one record as the actor may see it: a record outside a department user's
// subtree is duty.ErrNotFound, exactly like a record that does not exist.
func (s *Store) GetScoped(ctx context.Context, actor duty.Principal, collection, id string) (duty.Doc, error) {
	d, err := s.Get(ctx, collection, id)
	if err != nil || actor.Scope() == "" {
		return d, err
	}
	tree, err := s.Tree(ctx)
	if err != nil {
		return nil, err
	}
	var lookupErr error
	ok := duty.ReachOf(actor, tree).Record(collection, d, func(p string) string {
		person, err := s.Get(ctx, "people", p)
		if err != nil {
			if !isNotFound(err) && lookupErr == nil {
				lookupErr = err // a store failure is an error, not "outside the subtree"
			}
			return ""
		}
		return person.Str("department_id")
	})
	switch {
	case lookupErr != nil:
		return nil, lookupErr
	case !ok:
		return nil, fmt.Errorf("%s %q: %w", collection, id, duty.ErrNotFound)
	}
	return d, nil
}

// refPaths lists the dotted paths of the fields that name records of target.
func refPaths(fields []duty.Field, prefix, target string) []string {
	var out []string
	for _, f := range fields {
		if f.Kind == duty.Objects {
			out = append(out, refPaths(f.Fields, prefix+f.Name+".", target)...)
		} else if f.Ref == target {
			out = append(out, prefix+f.Name)
		}
	}
	return out
}

// InScope reports whether department is in the principal's subtree: always without a scope,
// never for no department.
func (s *Store) InScope(ctx context.Context, p duty.Principal, department string) (bool, error) {
	return duty.InScope(p, department, func() (*duty.Tree, error) { return s.Tree(ctx) })
}
