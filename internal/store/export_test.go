package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// RecoverForTest runs one recovery round as KeepAlive does.
func RecoverForTest(ctx context.Context, s *Store) error { return s.recoverDead(ctx) }

// LapseForTest makes s look as a process that stalled past its leases does to the others: its
// process lease and its holding of the write lease lapsed.
func LapseForTest(ctx context.Context, s *Store) error {
	past := time.Now().Add(-time.Minute).UTC().Format(duty.TimeFormat)
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: past}}}}
	if _, err := s.db.Collection(instancesColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: s.instance}}, set); err != nil {
		return err
	}
	_, err := s.db.Collection(writeLeaseColl).UpdateMany(ctx, bson.D{{Key: "owner", Value: s.instance}}, set)
	return err
}
