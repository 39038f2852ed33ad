package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Evidence files are kept in GridFS (bucket "evidence": collections evidence.files and
// evidence.chunks), which the driver implements over ordinary collections and indexes and so
// works on FerretDB v1 as on MongoDB, and described in evidence_files (case, name, type, size,
// SHA-256, who and when). A file's id is new for every upload and neither GridFS nor
// evidence_files is ever written over: a file is never overwritten.
const (
	evidenceBucket = "evidence"
	evidenceColl   = "evidence_files"
)

// PutEvidenceFile stores the content of a new file and its description f (whose ID must be
// new). The content goes first: a description names only a file that is whole.
func (s *Store) PutEvidenceFile(ctx context.Context, f *duty.EvidenceFile, content []byte) error {
	bucket := s.db.GridFSBucket(options.GridFSBucket().SetName(evidenceBucket))
	err := bucket.UploadFromStreamWithID(ctx, f.ID, f.Name, bytes.NewReader(content),
		options.GridFSUpload().SetMetadata(bson.D{{Key: "case", Value: f.Case}, {Key: "sha256", Value: f.SHA256}}))
	if err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("evidence file %s: %w: it exists and is never overwritten", f.ID, duty.ErrConflict)
		}
		return fmt.Errorf("save evidence file %s: %w", f.ID, unavailable(err))
	}
	if _, err := s.db.Collection(evidenceColl).InsertOne(ctx, f); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("evidence file %s: %w: it exists and is never overwritten", f.ID, duty.ErrConflict)
		}
		return fmt.Errorf("save evidence file %s: %w", f.ID, unavailable(err))
	}
	return nil
}

// GetEvidenceFile returns the description of a stored file.
func (s *Store) GetEvidenceFile(ctx context.Context, id string) (*duty.EvidenceFile, error) {
	var f duty.EvidenceFile
	err := s.db.Collection(evidenceColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("evidence file %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read evidence file %q: %w", id, unavailable(err))
	}
	return &f, nil
}

// EvidenceFiles lists the files uploaded to a case, oldest first.
func (s *Store) EvidenceFiles(ctx context.Context, caseID string) ([]duty.EvidenceFile, error) {
	out := []duty.EvidenceFile{}
	cur, err := s.db.Collection(evidenceColl).Find(ctx, bson.D{{Key: "case", Value: caseID}},
		options.Find().SetSort(bson.D{{Key: "uploaded_at", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read evidence files: %w", unavailable(err))
	}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read evidence files: %w", unavailable(err))
	}
	return out, nil
}

// EvidenceContent writes the content of a stored file to w.
func (s *Store) EvidenceContent(ctx context.Context, id string, w io.Writer) error {
	bucket := s.db.GridFSBucket(options.GridFSBucket().SetName(evidenceBucket))
	if _, err := bucket.DownloadToStream(ctx, id, w); err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return fmt.Errorf("evidence file %q: %w", id, duty.ErrNotFound)
		}
		return fmt.Errorf("read evidence file %q: %w", id, unavailable(err))
	}
	return nil
}
