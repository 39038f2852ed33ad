package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/edgetest"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// authEnv is the API and the pages on a fresh store with two users and no records: enough to
// sign in, out and be thrown out. The store is the in-memory fake (fake) unless the test's
// subject is the store path (st, newStoreAuthEnv).
type authEnv struct {
	tb     testing.TB
	st     *store.Store
	fake   *dutytest.Store
	srv    *httptest.Server
	tokens map[string]string // user → bearer token
}

// accounts is what an authEnv needs of its store to set it up.
type accounts interface {
	duty.Store
	CreateToken(ctx context.Context, actor, user, name string) (*duty.Token, string, error)
}

// newAuthEnv is an authEnv on the in-memory fake of the store.
func newAuthEnv(tb testing.TB, trusted []string) *authEnv {
	tb.Helper()
	e := &authEnv{tb: tb, fake: dutytest.NewStore(dutytest.Config{})}
	e.start(e.fake, trusted)
	return e
}

// newStoreAuthEnv is an authEnv on the real store, for the tests that drive scans
// (scan.Service works on the real store).
func newStoreAuthEnv(tb testing.TB) *authEnv {
	tb.Helper()
	e := &authEnv{tb: tb, st: storetest.Open(tb)}
	e.start(e.st, nil)
	return e
}

func (e *authEnv) start(st accounts, trusted []string) {
	tb := e.tb
	tb.Helper()
	ctx := context.Background()
	e.tokens = map[string]string{}
	for _, u := range []duty.User{{Name: "admin", Role: duty.RoleAdmin}, {Name: "inspector", Role: duty.RoleInspector}} {
		if err := st.PutUser(ctx, "test", u); err != nil {
			tb.Fatal(err)
		}
		_, tok, err := st.CreateToken(ctx, "test", u.Name, "test")
		if err != nil {
			tb.Fatal(err)
		}
		e.tokens[u.Name] = tok
	}
	e.srv = edgetest.Serve(tb, edgetest.Config{Store: st, TrustedProxies: trusted,
		Wrap: func(h http.Handler) http.Handler { return validated(tb, h) }})
}

type answer struct {
	status int
	header http.Header
	body   string
}

// send makes one request without following redirects; header holds extra headers.
func (e *authEnv) send(method, path string, body io.Reader, header map[string]string, cookies ...*http.Cookie) answer {
	e.tb.Helper()
	a := edgetest.Send(e.tb, e.srv, method, path, body, header, cookies...)
	return answer{a.Status, a.Header, a.Body}
}

func (e *authEnv) bearer(user, method, path, body string) answer {
	e.tb.Helper()
	return e.send(method, path, strings.NewReader(body), map[string]string{"Authorization": "Bearer " + e.tokens[user], "Content-Type": "application/json"})
}

// signIn signs in through the page with token and next, and returns the answer of the POST.
func (e *authEnv) signIn(token, next string, header map[string]string) answer {
	e.tb.Helper()
	page := e.send("GET", "/login", nil, header)
	m := edgetest.CSRFInput.FindStringSubmatch(page.body)
	if m == nil {
		e.tb.Fatalf("sign-in page without a CSRF field: %d %.300s", page.status, page.body)
	}
	cookies := (&http.Response{Header: page.header}).Cookies()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	form := url.Values{httpapi.CSRFField: {m[1]}, "token": {token}, "next": {next}}
	return e.send("POST", "/login", strings.NewReader(form.Encode()), h, cookies...)
}

// session signs user in through the page and returns the session cookie.
func (e *authEnv) session(user string) *http.Cookie {
	e.tb.Helper()
	r := e.signIn(e.tokens[user], "/", nil)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == httpapi.SessionCookie {
			return c
		}
	}
	e.tb.Fatalf("sign-in of %s: %d, no session cookie", user, r.status)
	return nil
}

// csrf returns the CSRF token the pages show to the session.
func (e *authEnv) csrf(sess *http.Cookie) string {
	e.tb.Helper()
	r := e.send("GET", "/", nil, nil, sess)
	m := edgetest.CSRFInput.FindStringSubmatch(r.body)
	if m == nil {
		e.tb.Fatalf("no CSRF field on / : %d %.300s", r.status, r.body)
	}
	return m[1]
}

// TestSignInLimitAndForwardedFor: without trusted proxies X-Forwarded-For is ignored, so
// varying it does not escape the limit; with a trusted proxy it names the client.
func TestSignInLimitAndForwardedFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		note    string
		trusted []string
		// the 11th attempt, after 10 failures each from another forwarded address
		wantOther int
		// an attempt naming the address of the first failures again
		wantSame int
	}{
		{note: "no trusted proxy: one count for the peer", trusted: nil, wantOther: http.StatusTooManyRequests, wantSame: http.StatusTooManyRequests},
		{note: "trusted loopback proxy: one count per forwarded client", trusted: []string{"127.0.0.1/32", "::1/128"}, wantOther: http.StatusUnauthorized, wantSame: http.StatusTooManyRequests},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			e := newAuthEnv(t, tc.trusted)
			bad := func(xff string) int {
				return e.send("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer dct_nope_nope", "X-Forwarded-For": xff}).status
			}
			first := "203.0.113.7"
			for i := range 10 {
				xff := first
				if tc.trusted == nil {
					xff = "198.51.100." + string(rune('0'+i)) // a new address each time
				}
				if got := bad(xff); got != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d, want 401", i+1, got)
				}
			}
			if got := bad("192.0.2.99"); got != tc.wantOther {
				t.Errorf("from another forwarded address: %d, want %d", got, tc.wantOther)
			}
			if got := bad(first); got != tc.wantSame {
				t.Errorf("from the same forwarded address: %d, want %d", got, tc.wantSame)
			}
		})
	}
}

// TestSignInLimitShared: the pages and the API count failures together.
func TestSignInLimitShared(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	for i := range 5 {
		if r := e.signIn("dct_nope_nope", "/", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("page failure %d: %d", i+1, r.status)
		}
		if r := e.send("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer dct_nope_nope"}); r.status != http.StatusUnauthorized {
			t.Fatalf("API failure %d: %d", i+1, r.status)
		}
	}
	if r := e.signIn(e.tokens["admin"], "/", nil); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "过多") {
		t.Errorf("page sign-in after 10 failures: %d, want 429 with a Chinese message: %.300s", r.status, r.body)
	}
	if r := e.bearer("admin", "GET", "/api/v1/me", ""); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("API after 10 failures: %d, want 429 with Retry-After", r.status)
	}
}

// TestSessionEndsWithItsToken: a browser session ends at once when the token it started with
// is revoked or its user disabled, on the pages and on the API.
func TestSessionEndsWithItsToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		note string
		end  func(e *authEnv)
	}{
		{"token revoked", func(e *authEnv) {
			id := strings.Split(e.tokens["inspector"], "_")[1]
			if r := e.bearer("admin", "DELETE", "/api/v1/tokens/"+id, ""); r.status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
		}},
		{"user disabled", func(e *authEnv) {
			if r := e.bearer("admin", "PUT", "/api/v1/users/inspector", `{"role": "inspector", "disabled": true}`); r.status != http.StatusOK {
				t.Fatalf("disable: %d %s", r.status, r.body)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			e := newAuthEnv(t, nil)
			sess := e.session("inspector")
			if r := e.send("GET", "/api/v1/me", nil, nil, sess); r.status != http.StatusOK {
				t.Fatalf("API with the session: %d %s", r.status, r.body)
			}
			if r := e.send("GET", "/", nil, nil, sess); r.status != http.StatusOK {
				t.Fatalf("page with the session: %d", r.status)
			}
			tc.end(e)
			if r := e.send("GET", "/api/v1/me", nil, nil, sess); r.status != http.StatusUnauthorized {
				t.Errorf("API after: %d, want 401", r.status)
			}
			if r := e.send("GET", "/", nil, nil, sess); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
				t.Errorf("page after: %d to %q, want 303 to the sign-in page", r.status, r.header.Get("Location"))
			}
		})
	}
}

// TestEnvAdminTokenRotation: a new DUTYCHECK_ADMIN_TOKEN revokes the previous one, and the
// browser sessions started with it; a token an admin revoked cannot come back.
func TestEnvAdminTokenRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	const old, fresh = "old-admin-token-0123456789", "new-admin-token-0123456789"
	if err := st.EnsureAdminToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureAdminToken(ctx, old); err != nil {
		t.Fatalf("the same token again (a restart): %v", err)
	}
	p, err := st.Authenticate(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, *p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureAdminToken(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, old); err == nil {
		t.Error("the previous env admin token still signs in")
	}
	if _, err := st.Session(ctx, sess); err == nil {
		t.Error("a session of the previous env admin token still works")
	}
	if _, err := st.Authenticate(ctx, fresh); err != nil {
		t.Errorf("the new env admin token: %v", err)
	}
	if err := st.EnsureAdminToken(ctx, old); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("going back to the revoked token: %v, want refused as revoked", err)
	}
}

// TestLastAdmin: the last active admin can be neither demoted nor disabled.
func TestLastAdmin(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	tests := []struct {
		note, body string
	}{
		{"demote", `{"role": "inspector"}`},
		{"disable", `{"role": "admin", "disabled": true}`},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			r := e.bearer("admin", "PUT", "/api/v1/users/admin", tc.body)
			var body struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal([]byte(r.body), &body)
			if r.status != http.StatusConflict || !strings.Contains(body.Error.Message, "last active admin") {
				t.Errorf("%s the last admin: %d %s, want 409 naming the last active admin", tc.note, r.status, r.body)
			}
		})
	}
	if r := e.bearer("admin", "PUT", "/api/v1/users/second", `{"role": "admin", "disabled": true}`); r.status != http.StatusOK {
		t.Fatalf("a disabled second admin: %d %s", r.status, r.body)
	}
	if r := e.bearer("admin", "PUT", "/api/v1/users/admin", `{"role": "inspector"}`); r.status != http.StatusConflict {
		t.Errorf("demote with only a disabled other admin: %d, want 409", r.status)
	}
	if r := e.bearer("admin", "PUT", "/api/v1/users/second", `{"role": "admin"}`); r.status != http.StatusOK {
		t.Fatalf("enable the second admin: %d %s", r.status, r.body)
	}
	if r := e.bearer("admin", "PUT", "/api/v1/users/admin", `{"role": "inspector"}`); r.status != http.StatusOK {
		t.Errorf("demote with another active admin: %d %s, want 200", r.status, r.body)
	}
}

// TestSignInRedirect: after sign-in the browser goes only to a path of this site.
func TestSignInRedirect(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	sess := e.session("inspector")
	tests := []struct {
		next, want string
	}{
		{"/scans", "/scans"},
		{"/departments/ORG-1?severity=high", "/departments/ORG-1?severity=high"},
		{"/departments/%E5%8A%9E", "/departments/%E5%8A%9E"},
		{"", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{`/\evil.example`, "/"},
		{`\/evil.example`, "/"},
		{`\\evil.example`, "/"},
		{"/\t/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"\t//evil.example", "/"},
		{"/ /evil.example", "/"},
		{"https://evil.example/", "/"},
		{"http:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/\u00a0/evil.example", "/"},
		{"/\u200b/evil.example", "/"},
	}
	for _, tc := range tests {
		t.Run(tc.next, func(t *testing.T) {
			// The tab form as the issue sent it: next=/%09/evil.example, decoded once by the query.
			if r := e.send("GET", "/login?next="+url.QueryEscape(tc.next), nil, nil, sess); r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
				t.Errorf("signed in, GET /login?next=%q: %d to %q, want 303 to %q", tc.next, r.status, r.header.Get("Location"), tc.want)
			}
			if r := e.signIn(e.tokens["inspector"], tc.next, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
				t.Errorf("POST /login next=%q: %d to %q, want 303 to %q", tc.next, r.status, r.header.Get("Location"), tc.want)
			}
		})
	}
	if r := e.send("GET", "/login?next=/%09/evil.example", nil, nil, sess); r.header.Get("Location") != "/" {
		t.Errorf("next=/%%09/evil.example: to %q, want /", r.header.Get("Location"))
	}
}

// TestCSRF: a session's unsafe API request needs the session's CSRF token, in the header or
// the form; the pages' forms likewise.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	sess := e.session("admin")
	token := e.csrf(sess)
	wrong := strings.Repeat("0", len(token))
	tests := []struct {
		note   string
		header string
		want   int
	}{
		{"none", "", http.StatusForbidden},
		{"wrong, same length", wrong, http.StatusForbidden},
		{"prefix", token[:len(token)-1], http.StatusForbidden},
		{"right", token, http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run("API "+tc.note, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			if tc.header != "" {
				h[httpapi.CSRFHeader] = tc.header
			}
			if r := e.send("POST", "/api/v1/users/admin/tokens", strings.NewReader(`{"name": "csrf-test"}`), h, sess); r.status != tc.want {
				t.Errorf("%d %s, want %d", r.status, r.body, tc.want)
			}
		})
		t.Run("page "+tc.note, func(t *testing.T) {
			form := url.Values{}
			if tc.header != "" {
				form.Set(httpapi.CSRFField, tc.header)
			}
			r := e.send("POST", "/logout", strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, sess)
			want := http.StatusForbidden
			if tc.want == http.StatusCreated {
				want = http.StatusSeeOther
			}
			if r.status != want {
				t.Errorf("sign-out: %d, want %d", r.status, want)
			}
		})
	}
}
