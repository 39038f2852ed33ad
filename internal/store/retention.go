package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Retention says which done scans keep their findings. The others keep their scan document
// and their per-department and per-organ summaries (the trend), and lose their findings and
// their index. A scope's latest report is always kept.
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
	if err := s.hook("prune.after-mark"); err != nil {
		return out, err
	}
	// What is still referenced: the findings and index of every kept scan, the findings it
	// reuses from earlier scans, and whatever a running scan writes.
	referenced := []string{}
	done := []string{}
	for i := range all {
		d := &all[i]
		switch {
		case d.Status == duty.ScanRunning:
			referenced = append(referenced, d.ID)
		case d.Status == duty.ScanDone && d.Format == reportFormat:
			done = append(done, d.ID)
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
	slices.Sort(done)
	for _, del := range []struct {
		coll   string
		filter bson.D
	}{
		{violationsColl, bson.D{{Key: "scan", Value: bson.D{{Key: "$nin", Value: referenced}}}}},
		{summariesColl, bson.D{{Key: "kind", Value: bson.D{{Key: "$in", Value: []string{kindHead, kindOrgan}}}},
			{Key: "scan", Value: bson.D{{Key: "$nin", Value: referenced}}}}},
		// The trend keeps the summaries of done scans, pruned or not; an unfinished scan's go.
		{summariesColl, bson.D{{Key: "kind", Value: bson.D{{Key: "$in", Value: []string{kindDepts, kindTrend}}}},
			{Key: "scan", Value: bson.D{{Key: "$nin", Value: done}}}}},
	} {
		res, err := s.db.Collection(del.coll).DeleteMany(ctx, del.filter)
		if err != nil {
			return out, fmt.Errorf("remove the findings of old scans: %w", unavailable(err))
		}
		out.Removed += res.DeletedCount
	}
	return out, nil
}
