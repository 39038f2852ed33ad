package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The write lease serialises record writes (batches, deletions, rebuilds of the organ tables,
// recovery) across every process sharing the store, as writeMu does inside one: a batch's
// reference checks, its writes to the collections and to the organ tables, and the organ
// versions it marks are never interleaved with another process's. Without it, two replicas
// writing the same people at once left the organ tables different from the collections, and a
// deletion crossing a referencing write left a reference dangling (issue 18).
//
// FerretDB v1 applies an update by reading the document, changing it in Go and writing it back,
// so no conditional update is atomic on it; an insert of a new _id is, on every backend. The
// lease is therefore a sequence of documents, one per holding, whose _id is the holding's
// number (the fencing counter): the holder of number n took it by inserting n while n-1 was
// released or its lease had lapsed. Only the holder changes its own document (to renew or
// release it), and the next holder deletes the earlier ones.
const (
	writeLeaseColl = "write_lease"
	// writeLeaseTTL is how long a holding lasts without renewal; the holder renews it every
	// third of that while it writes, so only a process that died or stalled loses it.
	writeLeaseTTL = 30 * time.Second
)

type leaseDoc struct {
	ID       string `bson:"_id"`
	Owner    string `bson:"owner"`
	Expires  string `bson:"expires_at"`
	Released bool   `bson:"released"`
}

func leaseID(n int64) string { return fmt.Sprintf("w%019d", n) }

// lockWrites takes writeMu and, on a shared store, the write lease; unlock gives both back. It
// waits while another process holds the lease, until ctx ends. Taking over the lease of a
// process that died first completes what that process left half-done (recoverDeadLocked).
func (s *Store) lockWrites(ctx context.Context) (unlock func(), err error) {
	s.writeMu.Lock()
	if s.cfg.Exclusive {
		return s.writeMu.Unlock, nil
	}
	held, tookOver, err := s.takeWriteLease(ctx)
	if err != nil {
		s.writeMu.Unlock()
		return nil, err
	}
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(writeLeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				_, _ = s.db.Collection(writeLeaseColl).UpdateOne(renewCtx, bson.D{{Key: "_id", Value: held}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: time.Now().Add(writeLeaseTTL).UTC().Format(duty.TimeFormat)}}}})
			}
		}
	}()
	unlock = func() {
		stopRenew()
		<-renewed
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		// Should this fail, the lease lapses after writeLeaseTTL and the next writer takes it.
		_, _ = s.db.Collection(writeLeaseColl).UpdateOne(rctx, bson.D{{Key: "_id", Value: held}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "released", Value: true}}}})
		s.writeMu.Unlock()
	}
	if tookOver {
		if err := s.recoverDeadLocked(ctx); err != nil {
			unlock()
			return nil, fmt.Errorf("complete the writes of a process that died holding the write lease: %w", err)
		}
	}
	return unlock, nil
}

// takeWriteLease inserts the next holding once the latest one is released or lapsed, and
// returns its _id and whether it took over a lapsed holding (a process died holding it).
// The caller holds writeMu.
func (s *Store) takeWriteLease(ctx context.Context) (id string, tookOver bool, err error) {
	coll := s.db.Collection(writeLeaseColl)
	wait := 2 * time.Millisecond
	for {
		var latest leaseDoc
		err := coll.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&latest)
		var next int64 = 1
		free := false
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			free = true
		case err != nil:
			return "", false, fmt.Errorf("read the write lease: %w", unavailable(err))
		default:
			var n int64
			if _, serr := fmt.Sscanf(latest.ID, "w%d", &n); serr != nil {
				return "", false, fmt.Errorf("read the write lease: unexpected holding %q", latest.ID)
			}
			next = n + 1
			switch {
			case latest.Released, latest.Owner == s.instance:
				// Released, or this process's own (writeMu is held: its release failed).
				free = true
			case latest.Expires <= now():
				// Lapsed: taken over only once its owner is dead by its process lease too,
				// which is what recovery goes by, so that recovery completes the owner's writes.
				alive, err := s.aliveFunc(ctx)
				if err != nil {
					return "", false, err
				}
				free = !alive(latest.Owner)
				tookOver = free
			}
		}
		if free {
			id = leaseID(next)
			_, err := coll.InsertOne(ctx, leaseDoc{ID: id, Owner: s.instance,
				Expires: time.Now().Add(writeLeaseTTL).UTC().Format(duty.TimeFormat)})
			if err == nil {
				_, _ = coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: id}}}})
				return id, tookOver, nil
			}
			if !mongo.IsDuplicateKeyError(err) {
				return "", false, fmt.Errorf("take the write lease: %w", unavailable(err))
			}
			wait = 2 * time.Millisecond // another process took it: look again at once
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}
