package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Leases. FerretDB v1 applies an update by reading the document, changing it in Go and writing
// it back, so no conditional update is atomic on it; an insert of a new _id is, on every
// backend. A lease is therefore a sequence of documents, one per holding, whose _id is the
// lease's name followed by the holding's number (the fencing counter): the holder of number n
// took it by inserting n while n-1 was released, done or lapsed. Only the holder changes its
// own document (to renew, release or finish it), so those updates need no atomicity either.
// The write lease (writelease.go), the chunks of a shared scan (scanwork.go) and the retention
// (retention.go) are such leases.

// leaseDoc is one holding of a lease.
type leaseDoc struct {
	ID      string `bson:"_id"`
	Owner   string `bson:"owner"`
	Expires string `bson:"expires_at"`
	// Claimed is when the holding was taken (by the clock of the lease's kind).
	Claimed  string `bson:"claimed_at,omitempty"`
	Released bool   `bson:"released"`
	// Done says that the holder finished the work the lease stands for (a chunk of a scan):
	// nobody takes it again.
	Done bool `bson:"done,omitempty"`
	// Failed, on a released holding, says why the holder could not do the work; only the
	// scan's coordinator takes such a chunk again.
	Failed string `bson:"failed,omitempty"`
	// Token is random, drawn by the holder: what it stores under the holding carries it, so
	// nothing stored under an equal number in an earlier life of the lease (a scan's work
	// published again after its coordinator died) is taken for the holding's.
	Token string `bson:"token,omitempty"`
}

// holdingID is the _id of holding n of the lease named prefix.
func holdingID(prefix string, n int64) string { return fmt.Sprintf("%s%019d", prefix, n) }

// holdingNumber is the number of a holding of the lease named prefix.
func holdingNumber(prefix, id string) (int64, error) {
	if len(id) != len(prefix)+19 || id[:len(prefix)] != prefix {
		return 0, fmt.Errorf("unexpected holding %q of lease %q", id, prefix)
	}
	return strconv.ParseInt(id[len(prefix):], 10, 64)
}

// latestHolding returns the latest holding of the lease named prefix and its number, or nil and
// 0 when it was never taken.
func latestHolding(ctx context.Context, coll *mongo.Collection, prefix string) (*leaseDoc, int64, error) {
	var d leaseDoc
	// The holdings' numbers are digits, which sort before ':'.
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix + ":"}}}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read lease %s: %w", prefix, unavailable(err))
	}
	n, err := holdingNumber(prefix, d.ID)
	if err != nil {
		return nil, 0, err
	}
	return &d, n, nil
}

// insertHolding takes holding n of the lease named prefix for owner (with token, "" for none)
// at claimed until expires; false when another process inserted it first.
func insertHolding(ctx context.Context, coll *mongo.Collection, prefix string, n int64, owner, token string, claimed, expires time.Time) (string, bool, error) {
	id := holdingID(prefix, n)
	_, err := coll.InsertOne(ctx, leaseDoc{ID: id, Owner: owner, Token: token, Claimed: claimed.UTC().Format(duty.TimeFormat), Expires: expires.UTC().Format(duty.TimeFormat)})
	if mongo.IsDuplicateKeyError(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("take lease %s: %w", prefix, unavailable(err))
	}
	// The earlier holdings are history now.
	_, _ = coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: id}}}})
	return id, true, nil
}

// setHolding changes holding id (the caller's own), only while it still bears token (when not
// ""): a holder whose lease lapsed and was taken again, under an equal number, changes nothing.
func setHolding(ctx context.Context, coll *mongo.Collection, id, token string, set bson.D) error {
	filter := bson.D{{Key: "_id", Value: id}}
	if token != "" {
		filter = append(filter, bson.E{Key: "token", Value: token})
	}
	_, err := coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return fmt.Errorf("update lease %s: %w", id, unavailable(err))
	}
	return nil
}

// keepHolding renews a holding every ttl/3 with renew until the returned function is called;
// that function stops the renewal, waits for it, then calls release (bounded to 10 s: should it
// fail, the holding lapses after its ttl). One renewal loop for every lease this process holds.
func keepHolding(ctx context.Context, ttl time.Duration, renew, release func(context.Context)) func() {
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				renew(renewCtx)
			}
		}
	}()
	return func() {
		stop()
		<-renewed
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		release(rctx)
	}
}
