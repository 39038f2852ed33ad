package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/dutycheck/dutycheck/internal/store"
)

// TestPasswdCommand: on a store without users, `dutycheck passwd admin` creates the first admin
// with the password read from standard input; a short password and an unknown user change
// nothing.
func TestPasswdCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testStoreConfig(t, dir)
	args := func(user string) []string {
		return []string{"--data", dir, "--mongo-uri=" + cfg.MongoURI, "--mongo-db", cfg.Database, "--log-level", "error", user}
	}
	var out, errOut bytes.Buffer
	if err := runPasswd(ctx, args("admin"), strings.NewReader("short\n"), &out, &errOut); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("a short password: %v", err)
	}
	const pw = "长城永不倒 2026"
	if err := runPasswd(ctx, args("admin"), strings.NewReader(pw+"\n"), &out, &errOut); err != nil {
		t.Fatalf("passwd admin: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "created admin as an admin") || !strings.Contains(out.String(), "password of admin set") {
		t.Errorf("output %q", out.String())
	}
	if err := runPasswd(ctx, args("nobody"), strings.NewReader(pw+"\n"), &out, &errOut); err == nil || !strings.Contains(err.Error(), `no user "nobody"`) {
		t.Errorf("an unknown user: %v", err)
	}
	st, closeStore, err := openStore(ctx, cfg, newLogger(io.Discard, slog.LevelError))
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	p, err := st.SignIn(ctx, "admin", pw)
	if err != nil || p.Role != "admin" {
		t.Errorf("sign-in with the password set from the console: %+v, %v", p, err)
	}
	if e, _, err := st.AuditSearch(ctx, store.AuditQuery{Actor: passwdActor, Limit: 10}); err != nil || len(e) != 2 {
		t.Errorf("audit entries of the console: %d, %v; want the user and its password", len(e), err)
	}
}

// lockedBuffer is a log destination read while the service writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// TestServeSetupLink: serve on a store where no admin has a password prints a one-time link to
// the page that sets it.
func TestServeSetupLink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &lockedBuffer{}
	cfg := serveConfig{Addr: "127.0.0.1:0", Store: testStoreConfig(t, t.TempDir()), AdminToken: testAdminToken}
	go func() { done <- serve(ctx, cfg, newLogger(logs, slog.LevelInfo), ready) }()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	m := regexp.MustCompile(`link="?(http://[^"\s]+/setup\?token=[0-9a-f]+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no setup link in the log:\n%s", logs.String())
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="setup-form"`) || !strings.Contains(string(body), "admin") {
		t.Errorf("the setup link: %d %.300s", resp.StatusCode, body)
	}
}
