package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The write lease serialises record writes (batches, deletions, rebuilds of the organ tables,
// recovery) across every process sharing the store, as writeMu does inside one: a batch's
// reference checks, its writes to the collections and to the organ tables, and the organ
// versions it marks are never interleaved with another process's. Without it, two replicas
// writing the same people at once left the organ tables different from the collections, and a
// deletion crossing a referencing write left a reference dangling (issue 18).
//
// The lease is one of the store's leases (leases.go), named "w".
const (
	writeLeaseColl = "write_lease"
	// writeLeaseTTL is how long a holding lasts without renewal; the holder renews it every
	// third of that while it writes, so only a process that died or stalled loses it.
	writeLeaseTTL = 30 * time.Second
)

const writeLeasePrefix = "w"

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
	lease := s.db.Collection(writeLeaseColl)
	release := keepHolding(ctx, writeLeaseTTL, func(ctx context.Context) {
		_, _ = lease.UpdateOne(ctx, bson.D{{Key: "_id", Value: held}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: s.clock().Add(writeLeaseTTL).UTC().Format(duty.TimeFormat)}}}})
	}, func(ctx context.Context) {
		// Should this fail, the lease lapses after writeLeaseTTL and the next writer takes it.
		_, _ = lease.UpdateOne(ctx, bson.D{{Key: "_id", Value: held}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "released", Value: true}}}})
	})
	unlock = func() {
		release()
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
		latest, n, err := latestHolding(ctx, coll, writeLeasePrefix)
		if err != nil {
			return "", false, err
		}
		free := false
		switch {
		case latest == nil, latest.Released, latest.Owner == s.instance:
			// Never taken, released, or this process's own (writeMu is held: its release failed).
			free = true
		case latest.Expires <= s.stamp():
			// Lapsed: taken over only once its owner is dead by its process lease too,
			// which is what recovery goes by, so that recovery completes the owner's writes.
			alive, err := s.aliveFunc(ctx)
			if err != nil {
				return "", false, err
			}
			free = !alive(latest.Owner)
			tookOver = free
		}
		if free {
			id, ok, err := insertHolding(ctx, coll, writeLeasePrefix, n+1, s.instance, "", s.clock(), s.clock().Add(writeLeaseTTL))
			if err != nil {
				return "", false, err
			}
			if ok {
				if tookOver {
					s.tookOver("write")
				}
				return id, tookOver, nil
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
