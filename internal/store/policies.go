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

const (
	revisionsColl = "policy_revisions"
	markerColl    = "policy_active"
	markerID      = "active"
)

// file is one bundle file; paths are kept as values because FerretDB refuses dots in keys.
type file struct {
	Path    string `bson:"path"`
	Content string `bson:"content"`
}

type revisionDoc struct {
	duty.PolicyRevision `bson:",inline"`
	Files               []file `bson:"files"`
}

// SaveRevision stores a new policy revision with the next sequence number and returns it.
func (s *Store) SaveRevision(ctx context.Context, rev *duty.PolicyRevision) error {
	latest, err := s.latestSeq(ctx)
	if err != nil {
		return err
	}
	rev.Seq = latest + 1
	rev.ID = fmt.Sprintf("r%d", rev.Seq)
	rev.CreatedAt = now()
	doc := revisionDoc{PolicyRevision: *rev}
	for p, c := range rev.Files {
		doc.Files = append(doc.Files, file{p, c})
	}
	slices.SortFunc(doc.Files, func(a, b file) int { return strings.Compare(a.Path, b.Path) })
	if _, err := s.db.Collection(revisionsColl).InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("policy revision %s was saved concurrently; try again: %w", rev.ID, duty.ErrConflict)
		}
		return fmt.Errorf("save policy revision: %w", unavailable(err))
	}
	return nil
}

func (s *Store) latestSeq(ctx context.Context) (int64, error) {
	revs, err := s.Revisions(ctx)
	if err != nil {
		return 0, err
	}
	if len(revs) == 0 {
		return 0, nil
	}
	return revs[0].Seq, nil
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

// Revision returns one policy revision with its files.
func (s *Store) Revision(ctx context.Context, id string) (*duty.PolicyRevision, error) {
	var d revisionDoc
	err := s.db.Collection(revisionsColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("policy revision %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read policy revision %q: %w", id, unavailable(err))
	}
	rev := d.PolicyRevision
	rev.Files = make(map[string]string, len(d.Files))
	for _, f := range d.Files {
		rev.Files[f.Path] = f.Content
	}
	return &rev, nil
}

// Activate makes revision id the one in force for every process sharing the store.
func (s *Store) Activate(ctx context.Context, id, by string) (*duty.ActivePolicy, error) {
	rev, err := s.Revision(ctx, id)
	if err != nil {
		return nil, err
	}
	cur, err := s.Active(ctx)
	if err != nil && !errors.Is(err, duty.ErrNotFound) {
		return nil, err
	}
	seq := int64(1)
	if cur != nil {
		seq = cur.Seq + 1
	}
	a := &duty.ActivePolicy{Revision: rev.ID, Seq: seq, ActivatedBy: by, ActivatedAt: now()}
	_, err = s.db.Collection(markerColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: markerID}},
		bson.D{{Key: "_id", Value: markerID}, {Key: "revision", Value: a.Revision}, {Key: "seq", Value: a.Seq},
			{Key: "activated_by", Value: a.ActivatedBy}, {Key: "activated_at", Value: a.ActivatedAt}},
		options.Replace().SetUpsert(true))
	if err != nil {
		return nil, fmt.Errorf("activate policy revision %s: %w", id, unavailable(err))
	}
	return a, nil
}

// Active returns the marker of the revision in force; duty.ErrNotFound before the first.
func (s *Store) Active(ctx context.Context) (*duty.ActivePolicy, error) {
	var a duty.ActivePolicy
	err := s.db.Collection(markerColl).FindOne(ctx, bson.D{{Key: "_id", Value: markerID}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("no active policy revision: %w", duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read active policy revision: %w", unavailable(err))
	}
	return &a, nil
}
