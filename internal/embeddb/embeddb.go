// Package embeddb starts the embedded MongoDB-compatible store: FerretDB v1 with its SQLite
// backend, in-process, listening on a Unix socket in a folder only the service's user may enter
// (never on TCP: FerretDB has no authentication, so any local user could otherwise read and
// change the store around dutycheck's access control and audit trail). It is dutycheck's only
// importer of FerretDB;
// everything else reaches the store through the MongoDB driver and the URI this package hands
// back, exactly as it would reach a real MongoDB.
package embeddb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	dir    string // the folder of the SQLite files
	cancel context.CancelFunc
	done   chan struct{}
	lock   *os.File
}

// LockFile is the name of the file, in the store's folder, that the running process holds an
// exclusive lock on (flock(2) on Unix, LockFileEx on Windows). The kernel releases it when the process ends, however it ends (kill -9
// included), so a lock never outlives its process and no stale lock needs clearing by hand.
const LockFile = "dutycheck.lock"

// ErrInUse is returned by Start when another process has the folder's store open.
var ErrInUse = errors.New("the embedded store is in use by another process")

// lock takes the folder's lock, or fails at once with ErrInUse.
func lock(dir string) (*os.File, error) {
	name := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded store lock %s: %w", name, err)
	}
	if busy, err := tryLock(f); err != nil {
		owner, _ := os.ReadFile(name)
		f.Close()
		if busy {
			who := strings.TrimSpace(string(owner))
			if who != "" {
				who = " (" + who + ")"
			}
			return nil, fmt.Errorf("%w%s: %s is locked; stop the other dutycheck serve or import using this --data folder, or use another folder", ErrInUse, who, name)
		}
		return nil, fmt.Errorf("embedded store lock %s: %w", name, err)
	}
	// Who holds it, for the message another process shows; informative only, the flock decides.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0)
	}
	return f, nil
}

// SocketDir is the folder, under Config.Dir, of the store's Unix socket; it is mode 0700.
const SocketDir = "sock"

// maxSocketPath is the longest Unix socket path every platform accepts (sun_path is 104 bytes
// on the BSDs and macOS, 108 on Linux, with a terminating NUL).
const maxSocketPath = 103

// Start starts FerretDB on a Unix socket, DIR/sock/ferretdb.sock, in a folder of mode 0700,
// and waits until it accepts connections. It listens on no TCP port. It first takes the
// folder's lock (LockFile): a second process on the same folder gets ErrInUse instead of a
// second FerretDB writing the same SQLite files, whose views would diverge.
func Start(ctx context.Context, cfg Config) (*DB, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded store folder %q: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store folder %q: %w", dir, err)
	}
	lk, err := lock(dir)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			lk.Close()
		}
	}()
	socket, err := socketPath(dir)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded store in %s: %w", dir, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	db := &DB{dir: dir, cancel: cancel, done: make(chan struct{}), lock: lk}
	go func() {
		defer close(db.done)
		_ = f.Run(runCtx)
	}()
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }() // waits until the listener is ready
	select {
	case <-uriCh:
		// The driver wants the socket's path escaped into the host part.
		db.uri = "mongodb://" + url.PathEscape(socket) + "/"
	case <-db.done:
		return nil, errors.New("start embedded store: it stopped before listening")
	case <-time.After(30 * time.Second):
		cancel()
		<-db.done
		return nil, errors.New("start embedded store: not listening after 30s")
	case <-ctx.Done():
		cancel()
		<-db.done
		return nil, ctx.Err()
	}
	started = true
	return db, nil
}

// socketPath prepares the socket's folder under dir (created, or its mode put back to 0700)
// and returns the socket's path. A socket left by a process that died is removed; one that
// answers belongs to a running store, and Start refuses to take it over.
func socketPath(dir string) (string, error) {
	sockDir := filepath.Join(dir, SocketDir)
	if err := os.MkdirAll(sockDir, 0o700); err != nil {
		return "", fmt.Errorf("embedded store socket folder %q: %w", sockDir, err)
	}
	if err := os.Chmod(sockDir, 0o700); err != nil {
		return "", fmt.Errorf("embedded store socket folder %q: %w", sockDir, err)
	}
	socket := filepath.Join(sockDir, "ferretdb.sock")
	if len(socket) > maxSocketPath {
		return "", fmt.Errorf("embedded store: the socket path %s is %d bytes, longer than the %d a Unix socket allows; use a data folder with a shorter path", socket, len(socket), maxSocketPath)
	}
	if _, err := os.Lstat(socket); err == nil {
		if c, err := net.DialTimeout("unix", socket, time.Second); err == nil {
			c.Close()
			return "", fmt.Errorf("embedded store: %s is in use by another running store; stop it first", socket)
		}
		if err := os.Remove(socket); err != nil {
			return "", fmt.Errorf("embedded store: remove the stale socket %s: %w", socket, err)
		}
	}
	return socket, nil
}

// URI is the MongoDB connection string of the running store.
func (db *DB) URI() string { return db.uri }

// Close stops the store and waits until its files are closed.
func (db *DB) Close() {
	db.cancel()
	<-db.done
	db.lock.Close() // releases the flock
}

// ServePostgreSQL runs FerretDB with its PostgreSQL backend (the database at pgURL) on the
// loopback TCP address listen until ctx ends: the separate database server that development and
// CI use to run dutycheck's store, scan and service tests, and several replicas, against a real
// server (scripts/pgferret). It refuses an address that is not loopback, since FerretDB has no
// authentication. ready, when not nil, receives the MongoDB URI once it accepts connections.
func ServePostgreSQL(ctx context.Context, pgURL, listen string, logger *slog.Logger, ready func(uri string)) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("listen address %q: only a loopback address is allowed, FerretDB has no authentication", listen)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: listen},
		Handler:       "postgresql",
		PostgreSQLURL: pgURL,
		Logger:        logger,
	})
	if err != nil {
		return fmt.Errorf("start FerretDB over PostgreSQL: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	if ready != nil {
		uri := make(chan string, 1)
		go func() { uri <- f.MongoDBURI() }()
		select {
		case u := <-uri:
			ready(u)
		case err := <-done:
			return fmt.Errorf("FerretDB over PostgreSQL stopped before listening: %w", err)
		}
	}
	if err := <-done; err != nil && ctx.Err() == nil {
		return fmt.Errorf("FerretDB over PostgreSQL: %w", err)
	}
	return nil
}
