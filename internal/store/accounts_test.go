package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/passwd"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// openClocked opens a store on a fresh database with the clock at 2026-01-10 09:00 UTC, and
// users admin (admin) and clerk (inspector, 王小明).
func openClocked(t *testing.T) (*store.Store, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC))
	cfg := storetest.NewConfig(t)
	cfg.Clock = clk
	return openUsers(t, cfg), clk
}

// openUsers opens a store with cfg and users admin (admin) and clerk (inspector, 王小明).
func openUsers(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	st := storetest.OpenConfig(t, cfg)
	for _, u := range []duty.User{{Name: "admin", Role: duty.RoleAdmin}, {Name: "clerk", DisplayName: "王小明", Role: duty.RoleInspector}} {
		if err := st.PutUser(context.Background(), "test", u); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

const goodPassword = "长城永不倒 2026"

// clerkSignedIn gives clerk the password goodPassword and signs it in.
func clerkSignedIn(t *testing.T, st *store.Store) *duty.Principal {
	t.Helper()
	ctx := context.Background()
	if err := st.SetPassword(ctx, "admin", "clerk", goodPassword); err != nil {
		t.Fatal(err)
	}
	p, err := st.SignIn(ctx, "clerk", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPasswordSignIn(t *testing.T) {
	hasher := passwd.New(passwd.Default, 2)
	cfg := storetest.NewConfig(t)
	cfg.Passwords = hasher
	st := openUsers(t, cfg)
	ctx := context.Background()
	if _, err := st.SignIn(ctx, "clerk", goodPassword); !errors.Is(err, duty.ErrNotFound) {
		t.Fatalf("sign-in before any password: %v, want not found", err)
	}
	for _, bad := range []string{"short", strings.Repeat("x", passwd.MaxLength+1), "0123456789\n"} {
		if err := st.SetPassword(ctx, "admin", "clerk", bad); !errors.Is(err, duty.ErrInvalid) {
			t.Errorf("SetPassword(%q): %v, want invalid", bad, err)
		}
	}
	if err := st.SetPassword(ctx, "admin", "nobody", goodPassword); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("password of an unknown user: %v", err)
	}
	if err := st.SetPassword(ctx, "admin", "clerk", goodPassword); err != nil {
		t.Fatal(err)
	}
	p, err := st.SignIn(ctx, "clerk", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if p.User != "clerk" || p.Role != duty.RoleInspector || p.DisplayName != "王小明" || p.Password == "" || p.Token != "" {
		t.Errorf("principal %+v", p)
	}
	// Every failure is the same answer, after the same work: one hash each, a dummy's when
	// there is nothing to check.
	var msgs []string
	for _, try := range []struct{ name, pw string }{
		{"clerk", goodPassword + "!"}, {"clerk", ""}, {"nobody", goodPassword}, {"admin", goodPassword}, {"bad/name", goodPassword},
	} {
		before := hasher.Computed()
		_, err := st.SignIn(ctx, try.name, try.pw)
		if n := hasher.Computed() - before; n != 1 {
			t.Errorf("SignIn(%q, …) computed %d hashes, want 1", try.name, n)
		}
		if !errors.Is(err, duty.ErrNotFound) {
			t.Errorf("SignIn(%q, …): %v, want not found", try.name, err)
			continue
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("failed sign-ins answer differently: %q and %q", msgs[0], m)
		}
	}
	users, err := st.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.PasswordSet != (u.Name == "clerk") {
			t.Errorf("user %s password_set %v", u.Name, u.PasswordSet)
		}
	}
	// The audit trail says who set whose password, never the password or its hash.
	entries, _, err := st.AuditSearch(ctx, store.AuditQuery{Action: "user.password", Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].Actor != "admin" || entries[0].IDs[0] != "clerk" {
		t.Fatalf("audit of the password: %+v, %v", entries, err)
	}
	for _, h := range append(entries[0].Before, entries[0].After...) {
		if strings.Contains(h, "argon2") || strings.Contains(h, goodPassword) {
			t.Errorf("the audit entry holds %q", h)
		}
	}
	// A disabled user cannot sign in with the right password.
	if err := st.PutUser(ctx, "admin", duty.User{Name: "clerk", Role: duty.RoleInspector, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SignIn(ctx, "clerk", goodPassword); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("disabled user signed in: %v", err)
	}
}

// TestPasswordSessionEnds: a session signed in with a password ends when the password is set
// again or the user disabled; a token session of the user ends with the password reset too.
func TestPasswordSessionEnds(t *testing.T) {
	tests := []struct {
		note string
		end  func(ctx context.Context, st *store.Store) error
	}{
		{"password reset", func(ctx context.Context, st *store.Store) error {
			return st.SetPassword(ctx, "admin", "clerk", "another password 1")
		}},
		{"user disabled", func(ctx context.Context, st *store.Store) error {
			return st.PutUser(ctx, "admin", duty.User{Name: "clerk", Role: duty.RoleInspector, Disabled: true})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			st, _ := openClocked(t)
			ctx := context.Background()
			p := clerkSignedIn(t, st)
			sess, err := st.CreateSession(ctx, *p, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tk, _, err := st.CreateToken(ctx, "admin", "clerk", "script")
			if err != nil {
				t.Fatal(err)
			}
			tokSess, err := st.CreateSession(ctx, duty.Principal{User: "clerk", Token: tk.ID}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if s, err := st.Session(ctx, sess); err != nil || s.Principal.User != "clerk" || s.Principal.DisplayName != "王小明" {
				t.Fatalf("session before: %+v, %v", s, err)
			}
			if err := tc.end(ctx, st); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{sess, tokSess} {
				if _, err := st.Session(ctx, id); !errors.Is(err, duty.ErrNotFound) {
					t.Errorf("session after: %v, want not found", err)
				}
			}
		})
	}
}

// TestPasswordSessionStamp: a sign-in that checked the old password just before a reset gets a
// session that never resolves (bound to the old password's stamp).
func TestPasswordSessionStamp(t *testing.T) {
	st, _ := openClocked(t)
	ctx := context.Background()
	p := clerkSignedIn(t, st)
	if err := st.SetPassword(ctx, "admin", "clerk", "another password 1"); err != nil {
		t.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, *p, time.Hour) // after the reset, with the old stamp
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, sess); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("session of the old password: %v, want not found", err)
	}
}

func TestTokenExpiry(t *testing.T) {
	st, clk := openClocked(t)
	ctx := context.Background()
	if _, _, err := st.CreateTokenUntil(ctx, "admin", "clerk", "past", clk.Now().Add(-time.Second)); !errors.Is(err, duty.ErrInvalid) {
		t.Errorf("a token expiring in the past: %v, want invalid", err)
	}
	tk, secret, err := st.CreateTokenUntil(ctx, "admin", "clerk", "script", clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if tk.ExpiresAt != "2026-01-10T10:00:00.000000Z" {
		t.Errorf("expires_at %q", tk.ExpiresAt)
	}
	p, err := st.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, *p, 12*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		tokens, err := st.Tokens(ctx, "clerk")
		if err != nil || len(tokens) != 1 {
			t.Fatalf("tokens: %+v, %v", tokens, err)
		}
		return tokens[0].Status
	}
	if s := status(); s != duty.TokenActive {
		t.Errorf("status before expiry %q", s)
	}
	clk.Advance(time.Hour) // the very moment of expiry
	if _, err := st.Authenticate(ctx, secret); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("expired token: %v, want not found", err)
	}
	if _, err := st.Session(ctx, sess); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("session of an expired token: %v, want not found", err)
	}
	if s := status(); s != duty.TokenExpired {
		t.Errorf("status after expiry %q, want expired", s)
	}
}

func TestDisplayName(t *testing.T) {
	st, _ := openClocked(t)
	ctx := context.Background()
	for _, bad := range []string{" 王小明", "王\u200b小明", "王\n明", strings.Repeat("名", store.MaxDisplayName+1)} {
		if err := st.PutUser(ctx, "admin", duty.User{Name: "clerk", DisplayName: bad, Role: duty.RoleInspector}); !errors.Is(err, duty.ErrInvalid) {
			t.Errorf("display name %q: %v, want invalid", bad, err)
		}
	}
	u, err := st.GetUser(ctx, "clerk")
	if err != nil || u.DisplayName != "王小明" {
		t.Errorf("user after refused changes: %+v, %v", u, err)
	}
}

func TestAuditSearch(t *testing.T) {
	st, _ := openClocked(t)
	ctx := context.Background()
	if err := st.SetPassword(ctx, "admin", "clerk", goodPassword); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, _, err := st.CreateToken(ctx, "admin", "clerk", "t"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		note string
		q    store.AuditQuery
		want int
	}{
		{note: "everything", q: store.AuditQuery{Limit: 100}, want: 8}, // 2 users, 1 password, 5 tokens
		{note: "by actor", q: store.AuditQuery{Actor: "admin", Limit: 100}, want: 6},
		{note: "by action", q: store.AuditQuery{Action: "token.create", Limit: 100}, want: 5},
		{note: "by record", q: store.AuditQuery{Record: "clerk", Limit: 100}, want: 2},
		{note: "from the future", q: store.AuditQuery{From: "2999-01-01", Limit: 100}, want: 0},
		{note: "up to the past", q: store.AuditQuery{To: "2000-01-01", Limit: 100}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			got, _, err := st.AuditSearch(ctx, tc.q)
			if err != nil || len(got) != tc.want {
				t.Errorf("%d entries, %v; want %d", len(got), err, tc.want)
			}
		})
	}
	// Pages of 3 cover the 8 entries once each, newest first.
	var seen []string
	before := ""
	for range 5 {
		page, more, err := st.AuditSearch(ctx, store.AuditQuery{Before: before, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seen = append(seen, e.ID)
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(seen) != 8 {
		t.Errorf("paging saw %d entries, want 8", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Errorf("paging not newest first: %v", seen)
		}
	}
	if all, more, err := st.AuditSearch(ctx, store.AuditQuery{}); err != nil || len(all) != 8 || more {
		t.Errorf("without a limit: %d entries, more %v, %v; want all 8", len(all), more, err)
	}
}

// TestSetupToken: the first admin's password is set once with the one-time token; afterwards
// the token, and any new one, is refused.
func TestSetupToken(t *testing.T) {
	st, _ := openClocked(t)
	ctx := context.Background()
	user, token, err := st.SetupToken(ctx, time.Hour)
	if err != nil || user != "admin" || token == "" {
		t.Fatalf("SetupToken: %q %q %v", user, token, err)
	}
	if _, err := st.SetupUser(ctx, token+"x"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("wrong setup token: %v", err)
	}
	if got, err := st.SetupUser(ctx, token); err != nil || got != "admin" {
		t.Errorf("SetupUser: %q, %v", got, err)
	}
	if _, err := st.UseSetupToken(ctx, token, "short"); !errors.Is(err, duty.ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	if got, err := st.UseSetupToken(ctx, token, goodPassword); err != nil || got != "admin" {
		t.Fatalf("UseSetupToken: %q, %v", got, err)
	}
	if _, err := st.SignIn(ctx, "admin", goodPassword); err != nil {
		t.Errorf("sign-in with the password set: %v", err)
	}
	if _, err := st.UseSetupToken(ctx, token, "another password 1"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("second use: %v, want not found", err)
	}
	if u, tok, err := st.SetupToken(ctx, time.Hour); err != nil || u != "" || tok != "" {
		t.Errorf("a setup token once an admin has a password: %q %q %v", u, tok, err)
	}
	entries, _, err := st.AuditSearch(ctx, store.AuditQuery{Actor: "setup", Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].Action != "user.password" {
		t.Errorf("audit of the setup: %+v, %v", entries, err)
	}

	// An expired token is refused.
	st2, clk2 := openClocked(t)
	_, token, err = st2.SetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clk2.Advance(time.Hour)
	if _, err := st2.UseSetupToken(ctx, token, goodPassword); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("expired setup token: %v", err)
	}
}

// TestLockOutShared: failed sign-ins are counted in the store per account and per address, so
// that two processes (two Failures sharing the store) lock out an account, and an address,
// after the limit together — the account whatever address the attempts come from.
func TestLockOutShared(t *testing.T) {
	st, _ := openClocked(t)
	now := time.Date(2026, 1, 10, 9, 0, 5, 0, time.UTC)
	procs := make([]*ratelimit.Failures, 2)
	for i := range procs {
		procs[i] = ratelimit.New(5, 15*time.Minute)
		procs[i].Now = func() time.Time { return now }
		procs[i].Shared = st
	}
	account := ratelimit.AccountKey("clerk")
	allowed := 0
	for i := range 20 {
		f := procs[i%2]
		if f.Allow(account) {
			allowed++
			f.Fail(account)
		}
	}
	if allowed < 5 || allowed > 6 {
		t.Errorf("%d attempts at one account allowed across 2 processes, want 5 or 6", allowed)
	}
	for i, f := range procs {
		if f.Allow(account) {
			t.Errorf("process %d still allows the account", i)
		}
		if !f.Allow(ratelimit.AccountKey("admin")) || !f.Allow(ratelimit.Key("203.0.113.9")) {
			t.Errorf("process %d locks out another account or an address too", i)
		}
	}
	now = now.Add(15 * time.Minute)
	if !procs[0].Allow(account) {
		t.Error("the account is still locked out in the next window")
	}
}
