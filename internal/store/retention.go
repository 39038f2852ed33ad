package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Retention says which done scans keep their findings. The others keep their scan document,
// its summary and its violations by organ (the trend), and lose their findings, their index
// and their per-department counts. A scope's latest report is always kept.
type Retention struct {
	// KeepScans is how many of the last finished scans of each scope keep their findings.
	KeepScans int
	// KeepDays keeps the findings of every scan finished within that many days.
	KeepDays int
}

// Default retention: serve --keep-scans and --keep-days.
const (
	DefaultKeepScans = 20
	DefaultKeepDays  = 90
)

// Pruning is what Prune did.
type Pruning struct {
	// Pruned lists the scans whose findings were removed this time.
	Pruned []string
	// Removed counts the documents deleted (findings, indexes, summaries of unfinished scans).
	Removed int64
}

// Prune applies the retention as of now: it marks the scans past it pruned (their reports are
// no longer shown), then, when it pruned any or collect is true, deletes every finding and
// index that no kept scan points to — those of pruned scans (unless a kept scan reuses them)
// and what scans that never finished wrote. Marking comes first and deleting is idempotent, so
// a prune cut short by a crash is completed by the next (the service collects at every start).
// No scan may run in the meantime (scan.Service guarantees it): a running scan's findings
// would look unreferenced.
func (s *Store) Prune(ctx context.Context, r Retention, now time.Time, collect bool) (Pruning, error) {
	var out Pruning
	if r.KeepScans < 1 {
		r.KeepScans = 1
	}
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{},
		options.Find().SetProjection(bson.D{{Key: "summary_json", Value: 0}, {Key: "progress", Value: 0}}))
	if err != nil {
		return out, fmt.Errorf("read scans: %w", unavailable(err))
	}
	var all []scanDoc
	for cur.Next(ctx) {
		var d scanDoc
		if err := cur.Decode(&d); err != nil {
			cur.Close(context.WithoutCancel(ctx))
			return out, fmt.Errorf("decode scan: %w", err)
		}
		all = append(all, d)
	}
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return out, fmt.Errorf("read scans: %w", unavailable(err))
	}
	latest, err := s.LatestReports(ctx)
	if err != nil {
		return out, err
	}
	keepLatest := map[string]bool{}
	for _, l := range latest {
		keepLatest[l.ScanID] = true
	}
	cutoff := now.Add(-time.Duration(r.KeepDays) * 24 * time.Hour).UTC().Format(duty.TimeFormat)
	byScope := map[string][]*scanDoc{}
	for i := range all {
		d := &all[i]
		if d.Status == duty.ScanDone && d.Format == reportFormat {
			byScope[d.Department] = append(byScope[d.Department], d)
		}
	}
	for _, ds := range byScope {
		slices.SortFunc(ds, func(a, b *scanDoc) int {
			return -strings.Compare(a.FinishedAt+"\x00"+a.ID, b.FinishedAt+"\x00"+b.ID)
		})
		for i, d := range ds {
			if d.Pruned || i < r.KeepScans || d.FinishedAt >= cutoff || keepLatest[d.ID] {
				continue
			}
			_, err := s.db.Collection(scansColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "pruned", Value: true}, {Key: "updated_at", Value: now.UTC().Format(duty.TimeFormat)}}}})
			if err != nil {
				return out, fmt.Errorf("prune scan %s: %w", d.ID, unavailable(err))
			}
			d.Pruned = true
			out.Pruned = append(out.Pruned, d.ID)
		}
	}
	if len(out.Pruned) == 0 && !collect {
		return out, nil
	}
	// Marked before deleting, cleared after: a collection cut short is done again at start.
	if err := s.setCollectPending(ctx, true); err != nil {
		return out, err
	}
	if err := s.hook("prune.after-mark"); err != nil {
		return out, err
	}
	defer s.reports.forget()
	defer s.counts.forget()
	defer s.heads.forget()
	// What is still referenced: the findings and index of every kept scan, the findings it
	// reuses from earlier scans, and whatever a running scan writes.
	referenced := []string{}
	for i := range all {
		d := &all[i]
		switch {
		case d.Status == duty.ScanRunning:
			referenced = append(referenced, d.ID)
		case d.Status == duty.ScanDone && d.Format == reportFormat:
			if d.Pruned {
				continue
			}
			h, err := s.head(ctx, d.ID)
			if err != nil {
				return out, err
			}
			referenced = append(referenced, d.ID)
			for _, e := range h.Entries {
				referenced = append(referenced, e.Source)
			}
		}
	}
	slices.Sort(referenced)
	referenced = slices.Compact(referenced)
	// Each organ's findings table (the findings, the organ's chunk lists, the resolved checks),
	// in the shards.
	findings, err := s.shardColls(ctx, findingsPrefix)
	if err != nil {
		return out, err
	}
	var kept []string // the done scans that keep their findings
	for i := range all {
		if d := &all[i]; d.Status == duty.ScanDone && d.Format == reportFormat && !d.Pruned {
			kept = append(kept, d.ID)
		}
	}
	dels := []struct {
		coll   *mongo.Collection
		filter bson.D
	}{
		{s.db.Collection(headsColl), bson.D{{Key: "scan", Value: bson.D{{Key: "$nin", Value: kept}}}}},
		{s.db.Collection(countsColl), bson.D{{Key: "scan", Value: bson.D{{Key: "$nin", Value: kept}}}}},
	}
	for _, c := range findings {
		dels = append(dels, struct {
			coll   *mongo.Collection
			filter bson.D
		}{c, bson.D{{Key: "scan", Value: bson.D{{Key: "$nin", Value: referenced}}}}})
	}
	for _, del := range dels {
		res, err := del.coll.DeleteMany(ctx, del.filter)
		if err != nil {
			return out, fmt.Errorf("remove the findings of old scans: %w", unavailable(err))
		}
		out.Removed += res.DeletedCount
	}
	return out, s.setCollectPending(ctx, false)
}

const collectMeta = "reports_collect"

// setCollectPending records whether findings may be left that no kept scan points to: while a
// collection runs, and after a start that failed the scans of a dead process.
func (s *Store) setCollectPending(ctx context.Context, pending bool) error {
	_, err := s.db.Collection(metaColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: collectMeta}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: pending}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record the collection of old findings: %w", unavailable(err))
	}
	return nil
}

// CollectPending reports whether Prune should collect (its collect argument): a collection was
// cut short, or a scan of a dead process was failed, since the last one.
func (s *Store) CollectPending(ctx context.Context) (bool, error) {
	var m struct {
		Pending bool `bson:"pending"`
	}
	err := s.db.Collection(metaColl).FindOne(ctx, bson.D{{Key: "_id", Value: collectMeta}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the collection of old findings: %w", unavailable(err))
	}
	return m.Pending, nil
}

// The retention across processes. Prune must not run while any scan runs (a running scan's
// findings, and those it reuses from an earlier scan, would look unreferenced); scan.Service
// keeps its own scans and retention apart, and on a shared store BeginRetention and
// AwaitRetention keep them apart across processes: the retention takes a lease ("r" in
// retention_lease) and then looks for running scans of live processes; a scan is stored as
// running first and then waits while the lease is held. Each writes before it reads, so at
// least one of them sees the other.
const (
	retentionLeaseColl   = "retention_lease"
	retentionLeasePrefix = "r"
	retentionLeaseTTL    = time.Minute
)

// BeginRetention takes the retention lease when no scan of a live process runs; ok is false
// (and nothing held) otherwise. end gives the lease back. With an exclusive store it holds
// nothing: the caller keeps its own scans off.
func (s *Store) BeginRetention(ctx context.Context) (end func(), ok bool, err error) {
	if s.cfg.Exclusive {
		return func() {}, true, nil
	}
	coll := s.db.Collection(retentionLeaseColl)
	latest, n, err := latestHolding(ctx, coll, retentionLeasePrefix)
	if err != nil {
		return nil, false, err
	}
	if latest != nil && !latest.Released && latest.Expires > s.clock().UTC().Format(duty.TimeFormat) {
		return nil, false, nil
	}
	id, taken, err := insertHolding(ctx, coll, retentionLeasePrefix, n+1, s.instance, "", s.clock(), s.clock().Add(retentionLeaseTTL))
	if err != nil || !taken {
		return nil, false, err
	}
	end = keepHolding(ctx, retentionLeaseTTL, func(ctx context.Context) {
		_ = setHolding(ctx, coll, id, "", bson.D{{Key: "expires_at", Value: s.clock().Add(retentionLeaseTTL).UTC().Format(duty.TimeFormat)}})
	}, func(ctx context.Context) {
		// Should this fail, the lease lapses after retentionLeaseTTL.
		_ = setHolding(ctx, coll, id, "", bson.D{{Key: "released", Value: true}})
	})
	running, err := s.runningScansOfLive(ctx)
	if err != nil || running {
		end()
		return nil, false, err
	}
	return end, true, nil
}

// runningScansOfLive says whether a scan of a live process is running.
func (s *Store) runningScansOfLive(ctx context.Context) (bool, error) {
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{{Key: "status", Value: duty.ScanRunning}},
		options.Find().SetProjection(bson.D{{Key: "owner", Value: 1}}))
	if err != nil {
		return false, fmt.Errorf("read scans: %w", unavailable(err))
	}
	var owners []struct {
		Owner string `bson:"owner"`
	}
	if err := cur.All(ctx, &owners); err != nil {
		return false, fmt.Errorf("read scans: %w", unavailable(err))
	}
	if len(owners) == 0 {
		return false, nil
	}
	alive, err := s.aliveFunc(ctx)
	if err != nil {
		return false, err
	}
	for _, o := range owners {
		if alive(o.Owner) {
			return true, nil
		}
	}
	return false, nil
}

// AwaitRetention waits, for a scan already stored as running, while another process applies the
// retention (BeginRetention), until ctx ends. With an exclusive store it returns at once.
func (s *Store) AwaitRetention(ctx context.Context) error {
	if s.cfg.Exclusive {
		return nil
	}
	wait := 5 * time.Millisecond
	for {
		latest, _, err := latestHolding(ctx, s.db.Collection(retentionLeaseColl), retentionLeasePrefix)
		if err != nil {
			return err
		}
		if latest == nil || latest.Released || latest.Expires <= s.clock().UTC().Format(duty.TimeFormat) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
