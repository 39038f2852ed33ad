package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// OrganRecords returns the records of the given collections kept in organ's table (the
// generation in force), by collection. It reads that one table, never a whole collection: the
// pages' lists and a person's page (一人一档) read an organ's records this way. On MongoDB the
// query reads the collections' keys only (a prefix of the table's _id per collection); the
// embedded store reads the organ's table and filters in Go, which still costs only that organ's
// records.
func (s *Store) OrganRecords(ctx context.Context, organ string, collections ...string) (map[string][]duty.Doc, error) {
	out := make(map[string][]duty.Doc, len(collections))
	if len(collections) == 0 || organ == "" {
		return out, nil
	}
	// One anchored prefix per collection, so that MongoDB scans only those keys of the _id index.
	prefixes := make(bson.A, len(collections))
	for i, c := range collections {
		if duty.Lookup(c) == nil {
			return nil, fmt.Errorf("collection %q: %w", c, duty.ErrNotFound)
		}
		prefixes[i] = bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(c) + "/"}}}}
	}
	if err := s.loadGen(ctx); err != nil {
		return nil, err
	}
	filter := bson.D{{Key: "$or", Value: prefixes}}
	cur, err := s.organColl(s.currentGen(), organ).Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("read organ %q: %w", organ, unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		key, _ := cur.Current.Lookup("_id").StringValueOK()
		name, _, _ := strings.Cut(key, "/")
		d, _, err := fromRaw(cur.Current)
		if err != nil {
			return nil, fmt.Errorf("read organ %q: decode %s: %w", organ, key, err)
		}
		out[name] = append(out[name], d)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read organ %q: %w", organ, unavailable(err))
	}
	return out, nil
}

// Referrer is a record that names another one (duty.Referrer).
type Referrer = duty.Referrer

// Referrers returns up to limit records (per referring field) that name the record id of
// collection, other than itself. A record that is still named may not be deleted (Delete).
func (s *Store) Referrers(ctx context.Context, collection, id string, limit int) ([]Referrer, error) {
	var out []Referrer
	for _, c := range duty.Collections {
		for _, path := range refPaths(c.Fields, "", collection) {
			cur, err := s.db.Collection(c.Name).Find(ctx, bson.D{{Key: path, Value: id}},
				options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", c.Name, unavailable(err))
			}
			for cur.Next(ctx) {
				ref, _ := cur.Current.Lookup("_id").StringValueOK()
				if c.Name == collection && ref == id {
					continue
				}
				out = append(out, Referrer{Ref: duty.Ref{Collection: c.Name, ID: ref}, Field: path})
			}
			err = cur.Err()
			cur.Close(context.WithoutCancel(ctx))
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", c.Name, unavailable(err))
			}
		}
	}
	return out, nil
}

// OrganVersionOf returns the version of one organ's records (OrganVersions, for one organ): a
// reader that keeps what it read of an organ reuses it while the version is the same and settled.
func (s *Store) OrganVersionOf(ctx context.Context, organ string) (OrganVersion, error) {
	var d organVersionDoc
	err := s.db.Collection(organVersionsColl).FindOne(ctx, bson.D{{Key: "_id", Value: organ}}).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return OrganVersion{Settled: true}, nil
	case err != nil:
		return OrganVersion{}, fmt.Errorf("read the version of organ %q: %w", organ, unavailable(err))
	}
	return OrganVersion{Version: d.Version, Settled: d.Pending == 0 && len(d.PendingOps) == 0}, nil
}
