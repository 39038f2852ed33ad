package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

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
	fence := &writeFence{id: held, renewed: time.Now(), clock: s.clock}
	s.fence.Store(fence)
	release := keepHolding(ctx, writeLeaseTTL, func(ctx context.Context) {
		_ = fence.renew(ctx, lease)
	}, func(ctx context.Context) {
		// Should this fail, the lease lapses after writeLeaseTTL and the next writer takes it.
		_, _ = lease.UpdateOne(ctx, bson.D{{Key: "_id", Value: held}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "released", Value: true}}}})
	})
	unlock = func() {
		release()
		s.fence.Store(nil)
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

// ErrWriteLeaseLost stops a write whose process lost the write lease: it stalled (paused,
// swapped out, or cut off from the store) for longer than the lease lasts, another process
// took the lease over and completed or undid what this one had journaled, and may have
// written since. Nothing more may be written under the old holding, not even to complete the
// write: the process that took over did.
var ErrWriteLeaseLost = fmt.Errorf("this process lost the write lease while it wrote (it stalled for longer than the lease lasts and another process took it over, completing or undoing the write): %w", duty.ErrUnavailable)

// writeFence is the holding of the write lease a process writes under. The lease's holdings
// are numbered (leases.go): one that another process took over is no longer the latest, and
// a write checks that before each step (Store.checkFence), so that a process resuming after
// a stall writes nothing more. The check reads the store only when the holding was not
// renewed for a while (a stall, or a slow store); between two steps it costs nothing.
type writeFence struct {
	id      string
	mu      sync.Mutex
	renewed time.Time        // the last renewal that found the holding still this process's (real time: a stall is real)
	clock   func() time.Time // the store's clock, which the holding's expiry is written in
	lost    atomic.Bool
}

// renew extends the holding; it finds the holding lost when it is gone (the process that
// took the lease over removed the earlier holdings).
func (f *writeFence) renew(ctx context.Context, lease *mongo.Collection) error {
	if f.lost.Load() {
		return ErrWriteLeaseLost
	}
	started := time.Now()
	res, err := lease.UpdateOne(ctx, bson.D{{Key: "_id", Value: f.id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expires_at", Value: f.clock().Add(writeLeaseTTL).UTC().Format(duty.TimeFormat)}}}})
	if err != nil {
		return fmt.Errorf("renew the write lease: %w", unavailable(err))
	}
	if res.MatchedCount == 0 {
		f.lost.Store(true)
		return ErrWriteLeaseLost
	}
	f.mu.Lock()
	f.renewed = started
	f.mu.Unlock()
	return nil
}

// fenceCheckAfter is how long after its last renewal a holding is checked in the store before
// the next step of a write.
const fenceCheckAfter = writeLeaseTTL / 6

// checkFence returns ErrWriteLeaseLost when this process wrote under a holding of the write
// lease that another process has since taken over; nil when it holds none (an exclusive store,
// or no write under way).
func (s *Store) checkFence(ctx context.Context, thorough bool) error {
	f := s.fence.Load()
	if f == nil {
		return nil
	}
	if f.lost.Load() {
		return ErrWriteLeaseLost
	}
	f.mu.Lock()
	since := time.Since(f.renewed)
	f.mu.Unlock()
	if !thorough && since < fenceCheckAfter {
		return nil
	}
	latest, _, err := latestHolding(ctx, s.db.Collection(writeLeaseColl), writeLeasePrefix)
	if err != nil {
		return err
	}
	if latest == nil || latest.ID != f.id {
		f.lost.Store(true)
		return ErrWriteLeaseLost
	}
	// Still the latest: nobody took it over, so nobody wrote; renew it before going on.
	return f.renew(ctx, s.db.Collection(writeLeaseColl))
}

// fenceKey carries Store.checkFence in the context of a write's steps, for the helpers that
// write many documents in several commands (insertOrReplace, replaceAll).
type fenceKey struct{}

// withFence returns ctx carrying the write lease's check of s.
func (s *Store) withFence(ctx context.Context) context.Context {
	return context.WithValue(ctx, fenceKey{}, s)
}

// fenced checks the write lease carried by ctx (withFence), if any, before one more command.
func fenced(ctx context.Context) error {
	if s, ok := ctx.Value(fenceKey{}).(*Store); ok {
		return s.checkFence(ctx, false)
	}
	return nil
}

// writePoint says whether a hook point is a step of a write under the write lease.
func writePoint(point string) bool {
	for _, p := range []string{"put.", "delete.", "rebuild."} {
		if strings.HasPrefix(point, p) {
			return true
		}
	}
	return false
}
