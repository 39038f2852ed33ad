package embeddb_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/embeddb"
	"github.com/dutycheck/dutycheck/internal/store"
)

// shortTempDir is a temporary folder with a short path: a Unix socket path has ~100 bytes.
func shortTempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "edb")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// listeningTCP returns the local addresses of the TCP sockets this process listens on (Linux).
func listeningTCP(tb testing.TB) []string {
	tb.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skip("no /proc: cannot list this process's sockets")
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		if link, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(link, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, file := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 9 && fields[3] == "0A" && mine[fields[9]] { // 0A: LISTEN
				out = append(out, fields[1])
			}
		}
		f.Close()
	}
	return out
}

func TestUnixSocketOnly(t *testing.T) {
	before := listeningTCP(t)
	dir := shortTempDir(t)
	db, err := embeddb.Start(context.Background(), embeddb.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	socket := filepath.Join(dir, "db", embeddb.SocketDir, "ferretdb.sock")
	if want := "mongodb://" + strings.ReplaceAll(socket, "/", "%2F") + "/"; db.URI() != want {
		t.Errorf("URI %q, want %q", db.URI(), want)
	}
	info, err := os.Stat(filepath.Dir(socket))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("socket folder mode %v, want 0700", info.Mode().Perm())
	}
	if after := listeningTCP(t); len(after) != len(before) {
		t.Errorf("the embedded store listens on TCP: %v (before it: %v)", after, before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Config{URI: db.URI(), Database: "t"})
	if err != nil {
		t.Fatalf("connect through the socket: %v", err)
	}
	defer st.Close(ctx)

	if _, err := embeddb.Start(context.Background(), embeddb.Config{Dir: filepath.Join(dir, "db")}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second store on the same folder: %v, want refused as in use", err)
	}
}

// TestStaleSocket: a socket left by a process that died does not stop the next start, and a
// socket folder opened up by someone is closed again.
func TestStaleSocket(t *testing.T) {
	dir := shortTempDir(t)
	sockDir := filepath.Join(dir, "db", embeddb.SocketDir)
	if err := os.MkdirAll(sockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(sockDir, "ferretdb.sock"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	db, err := embeddb.Start(context.Background(), embeddb.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatalf("start over a stale socket: %v", err)
	}
	defer db.Close()
	info, err := os.Stat(sockDir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("socket folder mode %v, want 0700", info.Mode().Perm())
	}
}

func TestSocketPathTooLong(t *testing.T) {
	dir := filepath.Join(shortTempDir(t), strings.Repeat("d", 120))
	_, err := embeddb.Start(context.Background(), embeddb.Config{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "shorter path") {
		t.Errorf("%v, want a clear refusal", err)
	}
}

// A second store on the same folder is refused while the first runs, and allowed once it is
// closed: the lock is the folder's, not a guess from timestamps.
func TestSecondStoreOnTheSameFolderIsRefused(t *testing.T) {
	dir := shortTempDir(t)
	ctx := context.Background()
	first, err := embeddb.Start(ctx, embeddb.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	second, err := embeddb.Start(ctx, embeddb.Config{Dir: dir})
	if !errors.Is(err, embeddb.ErrInUse) {
		if second != nil {
			second.Close()
		}
		first.Close()
		t.Fatalf("second Start on the same folder: err = %v, want ErrInUse", err)
	}
	t.Logf("refused with: %v", err)
	first.Close()
	third, err := embeddb.Start(ctx, embeddb.Config{Dir: dir})
	if err != nil {
		t.Fatalf("Start after the first closed: %v", err)
	}
	third.Close()
}
