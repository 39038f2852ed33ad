// Package storetest gives tests a real store: the embedded FerretDB by default, or the MongoDB
// at MONGODB_URI when it is set. Each call gets a database of its own.
package storetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/embeddb"
	"github.com/dutycheck/dutycheck/internal/store"
)

var (
	once    sync.Once
	shared  *embeddb.DB
	initErr error
	counter atomic.Int64
)

// URI returns the MongoDB URI tests use: MONGODB_URI, or one embedded store started once per
// test binary in a temporary folder.
func URI(tb testing.TB) string {
	tb.Helper()
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return uri
	}
	once.Do(func() {
		dir, err := os.MkdirTemp("", "dutycheck-storetest-")
		if err != nil {
			initErr = err
			return
		}
		shared, initErr = embeddb.Start(context.Background(), embeddb.Config{Dir: dir})
	})
	if initErr != nil {
		tb.Fatalf("start embedded store: %v", initErr)
	}
	return shared.URI()
}

// Open returns a store on a fresh database, closed when the test ends.
func Open(tb testing.TB) *store.Store {
	tb.Helper()
	st := OpenConfig(tb, NewConfig(tb))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = st.Drop(ctx)
	})
	return st
}

// NewConfig returns the configuration of a fresh database of its own, for tests that open it
// more than once (a store "restarted" after a simulated crash). The database is used by this
// test alone, so the store is Exclusive, as the embedded store of a process is.
func NewConfig(tb testing.TB) store.Config {
	tb.Helper()
	name := fmt.Sprintf("test_%d_%d", time.Now().UnixNano()%1e9, counter.Add(1))
	uri := URI(tb)
	if os.Getenv("MONGODB_URI") != "" {
		// A shared server keeps what a test leaves: drop the database once the test's stores
		// are closed (cleanups run last-registered first, so this one runs after theirs).
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = store.DropDatabase(ctx, uri, name)
		})
	}
	return store.Config{URI: uri, Database: name, Exclusive: true}
}

// OpenConfig opens a store, closed when the test ends.
func OpenConfig(tb testing.TB, cfg store.Config) *store.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = st.Close(ctx)
	})
	return st
}

// Load writes the dataset folder dir (a fixture such as ../../fixtures/sample) into st (the
// store, or a fake of it) as the system, failing the test when it does not load.
func Load(tb testing.TB, st duty.Records, dir string) {
	tb.Helper()
	raw, err := duty.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.PutMany(context.Background(), duty.System("test"), raw); err != nil {
		tb.Fatal(err)
	}
}
