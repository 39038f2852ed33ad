package embeddb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, registered as "sqlite"
)

// FerretDB v1's SQLite backend keeps each collection in a table whose one column,
// _ferretdb_sjson, holds the document as JSON, and pushes a find by _id down as
// "WHERE _ferretdb_sjson->'$._id' = ?". The unique index it creates for _id is on another
// expression (_ferretdb_sjson->"_id"), which SQLite does not match with that clause: every
// lookup by _id scans and parses the whole table (25 ms for the 30,000 people of 100 organs,
// ten times that at 1,000), so a record GET cost the size of its collection. idIndexSuffix names
// an index on the very expression of the pushed-down clause, which SQLite then searches
// (a few microseconds). FerretDB does not know of it (its metadata lists its own indexes
// only) and drops it with the table.
const (
	idIndexSuffix = "_dutycheck_id"
	idExpr        = `_ferretdb_sjson->'$._id'`
)

// IndexIDs gives every collection of database for which want returns true an index that
// serves FerretDB's lookups by _id (see idIndexSuffix), and returns how many it created. It is
// idempotent and cheap when every such index exists; call it after the collections are created
// (store.Open creates the record collections). A collection created later gets its index at the
// next call. A failure costs speed, not correctness: the lookups scan the table as before.
func (db *DB) IndexIDs(ctx context.Context, database string, want func(collection string) bool) (int, error) {
	file := filepath.Join(db.dir, database+".sqlite")
	if _, err := os.Stat(file); err != nil {
		return 0, fmt.Errorf("index ids of %s: %w", database, err)
	}
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("index ids of %s: %w", database, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	have := map[string]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index'`)
	if err != nil {
		return 0, fmt.Errorf("index ids of %s: %w", database, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return 0, fmt.Errorf("index ids of %s: %w", database, err)
		}
		have[name] = true
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("index ids of %s: %w", database, err)
	}
	var tables []string
	rows, err = conn.QueryContext(ctx, `SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		return 0, fmt.Errorf("index ids of %s: %w", database, err)
	}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			rows.Close()
			return 0, fmt.Errorf("index ids of %s: %w", database, err)
		}
		if want(name) && !have[table+idIndexSuffix] {
			tables = append(tables, table)
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("index ids of %s: %w", database, err)
	}
	made := 0
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+idIndexSuffix, t, idExpr)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return made, fmt.Errorf("index ids of %s table %s: %w", database, t, err)
		}
		made++
	}
	return made, nil
}
