package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Shards. The tables kept per organ — its organ tables (organ_g<N>.<organ>), its findings
// (report_organ.<organ>) and its cases (cases.<organ>) — live in shardCount databases beside
// the store's own, "<Database>_s00" … "<Database>_s31", an organ's in shard fnv32a(organ) mod
// shardCount; the store's database keeps only the shared collections (records, scans, the
// journal, the report summaries, accounts …), a few dozen whatever the number of organs.
//
// The cost is per database on the embedded store: FerretDB v1 lists a database's collections
// (copying and sorting the metadata of every one of them) on every query, and SQLite parses the
// schema of the database's whole file for every new connection. With every organ's tables in
// one database (2,000 collections and their indexes at 1,000 organs) a lookup of a session
// cost milliseconds of that alone; split, each query lists a few dozen collections.
//
// The number of shards is fixed by the layout (recorded in store_meta "shards"; a store
// recorded with another number is refused rather than read wrong). Stores of the earlier
// layout are moved at open: the organ tables are rebuilt into the shards (organTablesFormat),
// and the findings and cases tables are copied into their shard, each table dropped from the
// store's database only once wholly copied (moveToShards).
const (
	shardCount = 32
	shardsMeta = "shards"
	// maxDatabaseName is the longest database name MongoDB (64 bytes with its terminating NUL)
	// and FerretDB v1 accept.
	maxDatabaseName = 63
)

// shardName is the name of shard i of database db.
func shardName(db string, i int) string { return fmt.Sprintf("%s_s%02d", db, i) }

// shardOf returns the shard of an organ: stable across processes, versions and platforms.
func shardOf(organ string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(organ))
	return int(h.Sum32() % shardCount)
}

// shard returns the database holding organ's tables.
func (s *Store) shard(organ string) *mongo.Database { return s.shards[shardOf(organ)] }

// organColl is the table of organ in generation gen.
func (s *Store) organColl(gen int64, organ string) *mongo.Collection {
	return s.shard(organ).Collection(organTable(gen, organ))
}

// findingsColl is the table of organ's findings.
func (s *Store) findingsColl(organ string) *mongo.Collection {
	return s.shard(organ).Collection(findingsPrefix + organ)
}

// casesColl is the table of organ's cases.
func (s *Store) casesColl(organ string) *mongo.Collection {
	return s.shard(organ).Collection(casesPrefix + organ)
}

// databases returns the store's database and its shards.
func (s *Store) databases() []*mongo.Database {
	return append([]*mongo.Database{s.db}, s.shards...)
}

// Databases names the store's database and its shards: every database the store writes.
func (s *Store) Databases() []string {
	out := make([]string, 0, shardCount+1)
	for _, db := range s.databases() {
		out = append(out, db.Name())
	}
	return out
}

// shardColls lists the collections of every shard whose name starts with prefix.
func (s *Store) shardColls(ctx context.Context, prefix string) ([]*mongo.Collection, error) {
	var out []*mongo.Collection
	for _, db := range s.shards {
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", db.Name(), unavailable(err))
		}
		slices.Sort(names)
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, db.Collection(n))
			}
		}
	}
	return out, nil
}

// checkShards records the number of shards in a store that has none recorded, and refuses a
// store recorded with another number (its organs' tables would be looked for in the wrong
// shards). The record is written only when missing, so that of two processes opening a new
// store at once, both read the number the first recorded.
//
// A store database without the record whose shard databases hold tables is not a new store but
// one whose database was lost (a deleted or replaced file of the embedded store, the wrong
// database name): it is refused rather than opened empty, which would serve an empty store,
// and scan it, as if it held nothing.
func (s *Store) checkShards(ctx context.Context) error {
	err := s.db.Collection(metaColl).FindOne(ctx, bson.D{{Key: "_id", Value: shardsMeta}}).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		for _, sh := range s.shards {
			names, err := sh.ListCollectionNames(ctx, bson.D{})
			if err != nil {
				return fmt.Errorf("list the collections of shard database %s: %w", sh.Name(), unavailable(err))
			}
			if len(names) > 0 {
				return fmt.Errorf("the store database %q holds no store (no %s record), but its shard database %s holds %d tables: "+
					"the store's database was lost or replaced; restore it from a backup (or, to start afresh, move the whole folder or database away)",
					s.db.Name(), metaColl, sh.Name(), len(names))
			}
		}
	} else if err != nil {
		return fmt.Errorf("read store metadata: %w", unavailable(err))
	}
	err = upsertRetry(func() error {
		_, err := s.db.Collection(metaColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: shardsMeta}},
			bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "count", Value: shardCount}}}}, options.UpdateOne().SetUpsert(true))
		return err
	})
	if err != nil {
		return fmt.Errorf("record the shards: %w", unavailable(err))
	}
	var m struct {
		Count int `bson:"count"`
	}
	if err := s.db.Collection(metaColl).FindOne(ctx, bson.D{{Key: "_id", Value: shardsMeta}}).Decode(&m); err != nil {
		return fmt.Errorf("read store metadata: %w", unavailable(err))
	}
	if m.Count != shardCount {
		return fmt.Errorf("the store keeps its organs' tables in %d shard databases, this version in %d: open it with the version that wrote it", m.Count, shardCount)
	}
	return nil
}

// moveToShards moves the findings and cases tables of the earlier layout from the store's
// database into their organ's shard. Each table is copied whole, then dropped: a move killed
// half-way leaves the table in the store's database and part of it in the shard, and the next
// start copies it again. The copy inserts only what the shard lacks: the documents copied
// before are the same, and a document already in the shard is either such a copy or newer (a
// case changed by a process sharing the store that opened after the move). Open moves them
// before anything reads them.
func (s *Store) moveToShards(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", unavailable(err))
	}
	slices.Sort(names)
	for _, n := range names {
		var to *mongo.Collection
		if organ, ok := strings.CutPrefix(n, findingsPrefix); ok {
			to = s.findingsColl(organ)
		} else if organ, ok := strings.CutPrefix(n, casesPrefix); ok {
			to = s.casesColl(organ)
		} else {
			continue
		}
		if err := s.copyTable(ctx, s.db.Collection(n), to); err != nil {
			return fmt.Errorf("move %s to %s: %w", n, to.Database().Name(), err)
		}
		if err := s.hook("shards.copied"); err != nil {
			return err
		}
		if err := s.db.Collection(n).Drop(ctx); err != nil {
			return fmt.Errorf("drop %s: %w", n, unavailable(err))
		}
	}
	return nil
}

// copyTable inserts every document of from that to lacks.
func (s *Store) copyTable(ctx context.Context, from, to *mongo.Collection) error {
	cur, err := from.Find(ctx, bson.D{})
	if err != nil {
		return unavailable(err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var batch []any
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := insertNew(ctx, to, batch)
		batch, size = batch[:0], 0
		return err
	}
	for cur.Next(ctx) {
		batch = append(batch, bson.Raw(slices.Clone(cur.Current)))
		if size += len(cur.Current); len(batch) == 500 || size > 8<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return unavailable(err)
	}
	return flush()
}
