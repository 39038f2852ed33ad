package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Store.heads keeps the decoded index (report_heads) of the scans read last, with each organ's
// entries (a scanCache): a done scan's index never changes, and every department report reads
// it. At 1,000 organs it is one document of 1,000 entries, whose decoding cost more than the
// rest of the report (7 % of the CPU of the reads under load). In another process sharing the
// store, a scan removed by the retention is no longer pointed to (report_latest is read on
// every report), and its chunks, read afterwards, fail as missing.

// keptHead is a decoded scan index and, for each organ, the indexes in Entries of the entries
// holding or naming its departments (Organ or Foreign).
type keptHead struct {
	head    *headDoc
	byOrgan map[string][]int
}

// headsKept is how many scans' indexes are kept (the latest of a few scopes).
const headsKept = 4

// keptHeadOf returns the decoded index of a done scan, shared: callers must not change it.
func (s *Store) keptHeadOf(ctx context.Context, scanID string) (*keptHead, error) {
	if k, ok := s.heads.get(scanID); ok {
		return k, nil
	}
	// Not through findRaw: the decoded index is what is kept, not its bytes as well.
	raw, err := s.db.Collection(headsColl).FindOne(ctx, bson.D{{Key: "_id", Value: scanID}}).Raw()
	if err != nil {
		return nil, fmt.Errorf("the index of scan %s: %w", scanID, missing(err, scanID))
	}
	var h headDoc
	if err := bson.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("decode the index of scan %s: %w", scanID, err)
	}
	k := &keptHead{head: &h, byOrgan: make(map[string][]int, len(h.Entries))}
	for i, e := range h.Entries {
		k.byOrgan[e.Organ] = append(k.byOrgan[e.Organ], i)
		for _, o := range e.Foreign {
			if o != e.Organ {
				k.byOrgan[o] = append(k.byOrgan[o], i)
			}
		}
	}
	s.heads.put(scanID, k)
	return k, nil
}
