package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// RetakeScheduledRun claims day's scheduled scan again when the process that claimed it died
// before its scan was done: it never started the scan, or the scan was failed as interrupted
// (recovery fails the scans of dead processes). The new claim is inserted as "<day>#<n>", so
// that of several processes trying at once exactly one gets it, and it keeps the as-of date of
// the first. It returns the claim (its Day the claim's _id, for SetScheduledScan) and true when
// this process got it; false while the run is done, under way in a live process, or failed for
// another reason than its process's death (which running it again would not mend).
func (s *Store) RetakeScheduledRun(ctx context.Context, day string) (*ScheduledRun, bool, error) {
	var latest ScheduledRun
	// "<day>#01" … sort after "<day>" and before "<day>$".
	err := s.db.Collection(scheduleRunsColl).FindOne(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: day}, {Key: "$lt", Value: day + "$"}}}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&latest)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, nil // never claimed: the schedule claims it at its time
	}
	if err != nil {
		return nil, false, fmt.Errorf("read the scheduled scan of %s: %w", day, unavailable(err))
	}
	alive, err := s.aliveFunc(ctx)
	if err != nil {
		return nil, false, err
	}
	if latest.ScanID == "" {
		if alive(latest.Instance) {
			return nil, false, nil // starting it, or waiting for a free scan slot
		}
	} else {
		sc, err := s.GetScan(ctx, latest.ScanID)
		switch {
		case errors.Is(err, duty.ErrNotFound):
			if alive(latest.Instance) {
				return nil, false, nil
			}
		case err != nil:
			return nil, false, err
		case sc.Status != duty.ScanFailed || !strings.HasPrefix(sc.Error, "interrupted"):
			return nil, false, nil
		}
	}
	n := 0
	if _, suffix, ok := strings.Cut(latest.Day, "#"); ok {
		if _, err := fmt.Sscanf(suffix, "%d", &n); err != nil {
			return nil, false, fmt.Errorf("scheduled run %q: unexpected id", latest.Day)
		}
	}
	run := ScheduledRun{Day: fmt.Sprintf("%s#%02d", day, n+1), AsOf: latest.AsOf, ClaimedAt: s.stamp(), Instance: s.instance}
	_, err = s.db.Collection(scheduleRunsColl).InsertOne(ctx, run)
	if mongo.IsDuplicateKeyError(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("claim the scheduled scan of %s again: %w", day, unavailable(err))
	}
	return &run, true, nil
}
