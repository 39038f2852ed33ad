// Package embeddb starts the embedded MongoDB-compatible store: FerretDB v1 with its SQLite
// backend, in-process, listening on a loopback port. It is dutycheck's only importer of FerretDB;
// everything else reaches the store through the MongoDB driver and the URI this package hands
// back, exactly as it would reach a real MongoDB.
package embeddb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Config says where the embedded store keeps its files and how loud it is.
type Config struct {
	// Dir is the folder of the SQLite files; it is created when missing.
	Dir string
	// Logger receives FerretDB's own logs; nil discards them.
	Logger *slog.Logger
}

// DB is a running embedded store.
type DB struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts FerretDB on 127.0.0.1 with a free port and waits until it accepts connections.
func Start(ctx context.Context, cfg Config) (*DB, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded store folder %q: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded store folder %q: %w", dir, err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded store in %s: %w", dir, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	db := &DB{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(db.done)
		_ = f.Run(runCtx)
	}()
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }()
	select {
	case db.uri = <-uriCh:
	case <-db.done:
		return nil, errors.New("start embedded store: it stopped before listening")
	case <-time.After(30 * time.Second):
		cancel()
		return nil, errors.New("start embedded store: not listening after 30s")
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
	return db, nil
}

// URI is the MongoDB connection string of the running store.
func (db *DB) URI() string { return db.uri }

// Close stops the store and waits until its files are closed.
func (db *DB) Close() {
	db.cancel()
	<-db.done
}
