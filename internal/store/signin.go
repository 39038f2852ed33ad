package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// signInFailuresColl holds failed sign-ins per client address and window, for every process
// sharing the store (ratelimit.Shared).
const signInFailuresColl = "signin_failures"

// AddFailure records one failed sign-in of key in the window starting at start and returns the
// window's count over every process.
//
// Each failure is a document of its own, counted afterwards, rather than a counter increased
// with $inc: FerretDB v1 applies an update by reading the document, changing it in Go and
// writing it back, so two concurrent $inc of one counter can lose one (seen here on its
// PostgreSQL backend: 6 of 7). An insert of a fresh _id is atomic on every backend. Windows
// ended more than one window ago are deleted when a window's first failure is recorded, so the
// collection stays small.
func (s *Store) AddFailure(ctx context.Context, key string, start time.Time, window time.Duration) (int, error) {
	k := key + "|" + start.UTC().Format(duty.TimeFormat)
	coll := s.db.Collection(signInFailuresColl)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: randomHex(12)}, {Key: "k", Value: k},
		{Key: "ends_at", Value: start.Add(window).UTC().Format(duty.TimeFormat)}}); err != nil {
		return 0, fmt.Errorf("record a failed sign-in: %w", unavailable(err))
	}
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "k", Value: k}})
	if err != nil {
		return 0, fmt.Errorf("count failed sign-ins: %w", unavailable(err))
	}
	if n == 1 {
		old := start.Add(-window).UTC().Format(duty.TimeFormat)
		_, _ = coll.DeleteMany(ctx, bson.D{{Key: "ends_at", Value: bson.D{{Key: "$lt", Value: old}}}})
	}
	return int(n), nil
}
