package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The policy revisions are an append-only log: revision n has _id "r<n>", and the revision in
// force is the one with the highest sequence number. Every change — a new bundle, a rollback,
// the built-in seeding, an adoption of a new built-in bundle — appends a revision, so the history
// is complete and the in-force pointer is the log's head.
//
// A change is a compare-and-set: it is made on a base revision n and inserted as "r<n+1>". The
// _id is unique (on FerretDB v1 as on MongoDB), so of two changes made on the same base by any
// number of processes exactly one insert succeeds; the other gets a duplicate key and is told
// that its base is stale. No transaction, no read-then-write window.
const (
	revisionsColl = "policy_revisions"
	// legacyMarkerColl held the active-revision pointer of earlier versions (a rollback moved the
	// pointer instead of appending a revision). It is read once to migrate, then removed.
	legacyMarkerColl = "policy_active"
	legacyMarkerID   = "active"
)

// file is one bundle file; paths are kept as values because FerretDB refuses dots in keys.
type file struct {
	Path    string `bson:"path"`
	Content string `bson:"content"`
}

type revisionDoc struct {
	duty.PolicyRevision `bson:",inline"`
	Files               []file `bson:"files"`
	// Audited is set once the revision's audit entry is written (AuditRevision).
	Audited bool `bson:"audited,omitempty"`
}

var (
	_ duty.PolicyStore        = (*Store)(nil)
	_ duty.LegacyPolicyMarker = (*Store)(nil)
)

// InsertRevision appends rev as the revision that follows revision baseSeq (0 for the first of
// an empty store): rev.Seq, rev.ID and rev.CreatedAt are set here. When another revision
// already follows baseSeq, nothing is written and the error matches duty.ErrConflict: the change
// was made on a stale base.
func (s *Store) InsertRevision(ctx context.Context, rev *duty.PolicyRevision, baseSeq int64) error {
	rev.Seq = baseSeq + 1
	rev.ID = duty.RevisionID(rev.Seq)
	rev.CreatedAt = s.stamp()
	doc := revisionDoc{PolicyRevision: *rev}
	for p, c := range rev.Files {
		doc.Files = append(doc.Files, file{p, c})
	}
	slices.SortFunc(doc.Files, func(a, b file) int { return strings.Compare(a.Path, b.Path) })
	if _, err := s.db.Collection(revisionsColl).InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("policy revision %s already exists: %w", rev.ID, duty.ErrConflict)
		}
		return fmt.Errorf("save policy revision %s: %w", rev.ID, unavailable(err))
	}
	return nil
}

// Revisions lists the stored policy revisions, newest first, without their files.
func (s *Store) Revisions(ctx context.Context) ([]duty.PolicyRevision, error) {
	cur, err := s.db.Collection(revisionsColl).Find(ctx, bson.D{},
		options.Find().SetProjection(bson.D{{Key: "files", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("read policy revisions: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var out []duty.PolicyRevision
	for cur.Next(ctx) {
		var d revisionDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode policy revision: %w", err)
		}
		out = append(out, d.PolicyRevision)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read policy revisions: %w", unavailable(err))
	}
	slices.SortFunc(out, func(a, b duty.PolicyRevision) int { return int(b.Seq - a.Seq) })
	return out, nil
}

// RevisionMeta returns one policy revision without its files (cheap: read by _id).
func (s *Store) RevisionMeta(ctx context.Context, id string) (*duty.PolicyRevision, error) {
	return s.revision(ctx, id, options.FindOne().SetProjection(bson.D{{Key: "files", Value: 0}}))
}

// Revision returns one policy revision with its files.
func (s *Store) Revision(ctx context.Context, id string) (*duty.PolicyRevision, error) {
	return s.revision(ctx, id, options.FindOne())
}

func (s *Store) revision(ctx context.Context, id string, opts *options.FindOneOptionsBuilder) (*duty.PolicyRevision, error) {
	var d revisionDoc
	err := s.db.Collection(revisionsColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, opts).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("policy revision %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read policy revision %q: %w", id, unavailable(err))
	}
	rev := d.PolicyRevision
	if d.Files != nil {
		rev.Files = make(map[string]string, len(d.Files))
		for _, f := range d.Files {
			rev.Files[f.Path] = f.Content
		}
	}
	return &rev, nil
}

// LegacyActive returns the revision id an earlier version's active-revision marker points at,
// or "" when there is no marker.
func (s *Store) LegacyActive(ctx context.Context) (string, error) {
	var m struct {
		Revision string `bson:"revision"`
	}
	err := s.db.Collection(legacyMarkerColl).FindOne(ctx, bson.D{{Key: "_id", Value: legacyMarkerID}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the earlier active-revision marker: %w", unavailable(err))
	}
	return m.Revision, nil
}

// DropLegacyActive removes an earlier version's active-revision marker once migrated.
func (s *Store) DropLegacyActive(ctx context.Context) error {
	if _, err := s.db.Collection(legacyMarkerColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: legacyMarkerID}}); err != nil {
		return fmt.Errorf("remove the earlier active-revision marker: %w", unavailable(err))
	}
	return nil
}

// AuditRevision appends the audit entry of policy revision rev, once: the entry's time is the
// revision's and its id is that time and the revision id, so writing it again (after a crash
// between the revision and its entry) changes nothing, and it sorts with the other entries by
// time. The revision is then marked audited.
func (s *Store) AuditRevision(ctx context.Context, e duty.AuditEntry, rev *duty.PolicyRevision) error {
	e.At = rev.CreatedAt
	e.ID = rev.CreatedAt + "-" + rev.ID
	if _, err := s.db.Collection(auditColl).InsertOne(ctx, e); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write audit trail: %w", unavailable(err))
	}
	return s.MarkRevisionAudited(ctx, rev.ID)
}

// MarkRevisionAudited records that revision id has its audit entry.
func (s *Store) MarkRevisionAudited(ctx context.Context, id string) error {
	_, err := s.db.Collection(revisionsColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "audited", Value: true}}}})
	if err != nil {
		return fmt.Errorf("mark policy revision %s audited: %w", id, unavailable(err))
	}
	return nil
}

// UnauditedRevisions lists, oldest first and without their files, the revisions not marked
// audited: written by an earlier version, or by a process that died before their entry.
func (s *Store) UnauditedRevisions(ctx context.Context) ([]duty.PolicyRevision, error) {
	cur, err := s.db.Collection(revisionsColl).Find(ctx, bson.D{{Key: "audited", Value: bson.D{{Key: "$ne", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "files", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("read policy revisions: %w", unavailable(err))
	}
	var docs []revisionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read policy revisions: %w", unavailable(err))
	}
	out := make([]duty.PolicyRevision, len(docs))
	for i, d := range docs {
		out[i] = d.PolicyRevision
	}
	slices.SortFunc(out, func(a, b duty.PolicyRevision) int { return int(a.Seq - b.Seq) })
	return out, nil
}

// AuditedRevisions returns the ids of the policy revisions that have an entry in the audit
// trail, whichever version wrote it. It reads every policy entry: used once, for the revisions
// of an earlier version.
func (s *Store) AuditedRevisions(ctx context.Context) (map[string]bool, error) {
	cur, err := s.db.Collection(auditColl).Find(ctx, bson.D{{Key: "collection", Value: revisionsColl}},
		options.Find().SetProjection(bson.D{{Key: "ids", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	var entries []struct {
		IDs []string `bson:"ids"`
	}
	if err := cur.All(ctx, &entries); err != nil {
		return nil, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	out := map[string]bool{}
	for _, e := range entries {
		for _, id := range e.IDs {
			out[id] = true
		}
	}
	return out, nil
}
