package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/httpapi"
)

// TestAccountsAPI: display names, passwords and token expiry through the users API, on a store
// whose clock the test moves (the in-memory fake: the subject is the API).
func TestAccountsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC))
	st := dutytest.NewStore(dutytest.Config{Now: clk.Now})
	tokens := map[string]string{}
	for _, u := range []duty.User{{Name: "admin", Role: duty.RoleAdmin}, {Name: "inspector", Role: duty.RoleInspector}} {
		if err := st.PutUser(ctx, "test", u); err != nil {
			t.Fatal(err)
		}
		_, tok, err := st.CreateToken(ctx, "test", u.Name, "test")
		if err != nil {
			t.Fatal(err)
		}
		tokens[u.Name] = tok
	}
	srv := httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st})))
	t.Cleanup(srv.Close)
	call := func(token, method, path, body string, want int) map[string]any {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, m)
		}
		return m
	}
	admin := tokens["admin"]

	// A display name, kept when a later change leaves it out.
	u := call(admin, "PUT", "/api/v1/users/clerk", `{"role": "inspector", "display_name": "王小明"}`, 200)
	if u["display_name"] != "王小明" || u["password_set"] != nil {
		t.Errorf("new user %v", u)
	}
	u = call(admin, "PUT", "/api/v1/users/clerk", `{"role": "inspector", "disabled": false}`, 200)
	if u["display_name"] != "王小明" {
		t.Errorf("display name lost by a change without it: %v", u)
	}
	call(admin, "PUT", "/api/v1/users/clerk", `{"role": "inspector", "display_name": "王\n明"}`, 422)

	// A password: set by an admin only, never answered, audited without it.
	const pw = "长城永不倒 2026"
	call(tokens["inspector"], "PUT", "/api/v1/users/clerk/password", `{"password": "`+pw+`"}`, 403)
	call(admin, "PUT", "/api/v1/users/clerk/password", `{"password": "short"}`, 422)
	call(admin, "PUT", "/api/v1/users/clerk/password", `{"password": "`+pw+`"}`, 204)
	if _, err := st.SignIn(ctx, "clerk", pw); err != nil {
		t.Errorf("sign-in with the password set through the API: %v", err)
	}
	list := call(admin, "GET", "/api/v1/users", "", 200)
	raw, _ := json.Marshal(list)
	if !strings.Contains(string(raw), `"password_set":true`) || strings.Contains(string(raw), "argon2") || strings.Contains(string(raw), pw) {
		t.Errorf("users list: %s", raw)
	}
	audit := call(admin, "GET", "/api/v1/audit?action=user.password&record=clerk", "", 200)
	raw, _ = json.Marshal(audit)
	if entries, _ := audit["entries"].([]any); len(entries) != 1 || strings.Contains(string(raw), pw) {
		t.Errorf("audit of the password: %s", raw)
	}

	// A token with an expiry: refused from that moment, and listed as expired.
	tk := call(admin, "POST", "/api/v1/users/clerk/tokens", `{"name": "nightly", "expires_at": "2026-01-10T18:00:00+08:00"}`, 201)
	if tk["expires_at"] != "2026-01-10T10:00:00.000000Z" {
		t.Errorf("new token %v", tk)
	}
	secret, _ := tk["token"].(string)
	call(secret, "GET", "/api/v1/me", "", 200)
	clk.Advance(time.Hour)
	call(secret, "GET", "/api/v1/me", "", 401)
	listed := call(admin, "GET", "/api/v1/tokens?user=clerk", "", 200)
	ts, _ := listed["tokens"].([]any)
	if len(ts) != 1 || ts[0].(map[string]any)["status"] != duty.TokenExpired {
		t.Errorf("tokens of clerk: %v", listed)
	}

	// The audit trail in pages of two, newest first, each entry once.
	seen := map[string]bool{}
	next := ""
	for range 20 {
		page := call(admin, "GET", "/api/v1/audit?limit=2&before="+next, "", 200)
		for _, e := range page["entries"].([]any) {
			id := e.(map[string]any)["id"].(string)
			if seen[id] {
				t.Errorf("entry %s on two pages", id)
			}
			seen[id] = true
		}
		n, ok := page["next"].(string)
		if !ok {
			break
		}
		next = n
	}
	all, _, err := st.AuditSearch(ctx, duty.AuditQuery{Limit: 1000})
	if err != nil || len(seen) != len(all) || len(all) < 5 {
		t.Errorf("paging saw %d entries of %d (%v)", len(seen), len(all), err)
	}
}
