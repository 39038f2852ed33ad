package store

import (
	"context"
	"fmt"
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

// SetInOrganTableForTest sets field to value in the document key ("<collection>/<id>") of the
// organ table in force of organ, behind the store's back, as a lost or stray write would.
func SetInOrganTableForTest(ctx context.Context, s *Store, organ, key, field string, value any) error {
	if err := s.loadGen(ctx); err != nil {
		return err
	}
	res, err := s.organColl(s.currentGen(), organ).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}})
	if err == nil && res.MatchedCount != 1 {
		err = fmt.Errorf("organ %s has no %s in its table", organ, key)
	}
	return err
}
