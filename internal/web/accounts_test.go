package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/edgetest"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/web"
)

const pw = "长城永不倒 2026 "

// newAcctEnv is the pages and the API on a store with the sample organ's records and the users
// of users, each with a password (pw + its name), and sign-in limits on a clock the test holds.
func newAcctEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	st := sampleFake(tb)
	for _, u := range users {
		if err := st.PutUser(ctx, "test", duty.User{Name: u.name, Role: u.role, Department: u.dept}); err != nil {
			tb.Fatal(err)
		}
		if err := st.SetPassword(ctx, "test", u.name, pw+u.name); err != nil {
			tb.Fatal(err)
		}
	}
	at := time.Date(2026, 1, 10, 9, 0, 5, 0, time.UTC) // the limits' windows never end in a test
	limiter, accounts := ratelimit.New(10, time.Minute), ratelimit.New(web.AccountFailures, web.AccountWindow)
	for _, l := range []*ratelimit.Failures{limiter, accounts} {
		l.Now = func() time.Time { return at }
		l.Shared = st
	}
	e := &env{tb: tb, fake: st}
	e.srv = edgetest.Serve(tb, edgetest.Config{Store: st, Limiter: limiter, Accounts: accounts})
	return e
}

// send makes one request with the cookies given, without following redirects.
func (e *env) send(method, path string, form url.Values, cookies ...*http.Cookie) response {
	e.tb.Helper()
	var body io.Reader
	var header map[string]string
	if form != nil {
		body = strings.NewReader(form.Encode())
		header = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	}
	a := edgetest.Send(e.tb, e.srv, method, path, body, header, cookies...)
	return response{a.Status, a.Header, a.Body}
}

func cookiesOf(r response) []*http.Cookie { return (&http.Response{Header: r.header}).Cookies() }

// preAuth posts a form shown before sign-in (path's GET first, for its CSRF cookie and field).
func (e *env) preAuth(get, post string, form url.Values) response {
	e.tb.Helper()
	page := e.send("GET", get, nil)
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		e.tb.Fatalf("no CSRF field on %s: %d %.300s", get, page.status, page.body)
	}
	form.Set(httpapi.CSRFField, m[1])
	return e.send("POST", post, form, cookiesOf(page)...)
}

// signIn signs in with name and password on the page and returns the answer and the session.
func (e *env) pwSignIn(name, password string) (response, *http.Cookie) {
	e.tb.Helper()
	r := e.preAuth("/login", "/login", url.Values{"name": {name}, "password": {password}, "next": {"/admin/users"}})
	for _, c := range cookiesOf(r) {
		if c.Name == httpapi.SessionCookie {
			return r, c
		}
	}
	return r, nil
}

// session signs user in with its password, failing the test otherwise.
func (e *env) pwSession(user string) *http.Cookie {
	e.tb.Helper()
	r, c := e.pwSignIn(user, pw+user)
	if c == nil {
		e.tb.Fatalf("sign-in of %s: %d %.300s", user, r.status, r.body)
	}
	return c
}

// post sends a form with the session's CSRF token.
func (e *env) postWith(sess *http.Cookie, path string, form url.Values) response {
	e.tb.Helper()
	m := csrfField.FindStringSubmatch(e.send("GET", "/admin/users", nil, sess).body)
	if m == nil {
		e.tb.Fatal("no CSRF field for the session")
	}
	form.Set(httpapi.CSRFField, m[1])
	return e.send("POST", path, form, sess)
}

var loginError = regexp.MustCompile(`id="login-error">([^<]*)<`)

func TestSignInWithPassword(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	r, sess := e.pwSignIn("inspector", pw+"inspector")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/users" || sess == nil {
		t.Fatalf("sign-in: %d to %q", r.status, r.header.Get("Location"))
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v", sess)
	}
	if r := e.send("GET", "/api/v1/me", nil, sess); r.status != 200 || !strings.Contains(r.body, `"user":"inspector"`) {
		t.Errorf("the session on the API: %d %s", r.status, r.body)
	}

	// A wrong password and an unknown user: one answer, the name kept, the password not.
	var msgs []string
	for _, try := range []struct{ name, pw string }{{"inspector", "wrong password 1"}, {"nobody", pw + "inspector"}} {
		r, c := e.pwSignIn(try.name, try.pw)
		m := loginError.FindStringSubmatch(r.body)
		if r.status != http.StatusUnauthorized || c != nil || m == nil {
			t.Fatalf("sign-in of %s with a bad password: %d, session %v", try.name, r.status, c)
		}
		msgs = append(msgs, m[1])
		if !strings.Contains(r.body, `value="`+try.name+`"`) || strings.Contains(r.body, try.pw) {
			t.Errorf("the form after a failure does not keep the name, or shows the password")
		}
	}
	if msgs[0] != msgs[1] || msgs[0] != "登录名或密码不正确。" {
		t.Errorf("failure messages %q", msgs)
	}

	// The account: locked after 5 failures in the window (one already), even with the right
	// password; another account from the same address is not.
	for i := range 4 {
		if r, _ := e.pwSignIn("inspector", "wrong password 1"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+2, r.status)
		}
	}
	r, c := e.pwSignIn("inspector", pw+"inspector")
	if r.status != http.StatusTooManyRequests || c != nil || r.header.Get("Retry-After") != "900" || !strings.Contains(r.body, "锁定") {
		t.Errorf("locked account with the right password: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if _, c := e.pwSignIn("editor", pw+"editor"); c == nil {
		t.Error("another account is locked out too")
	}
	// The address: 10 failures in its minute (6 so far, the unknown user's included).
	for i := range 4 {
		if r, _ := e.pwSignIn("x"+string(rune('a'+i)), "wrong password 1"); r.status != http.StatusUnauthorized {
			t.Fatalf("address failure %d: %d", i+7, r.status)
		}
	}
	r, c = e.pwSignIn("admin", pw+"admin")
	if r.status != http.StatusTooManyRequests || c != nil || r.header.Get("Retry-After") != "60" {
		t.Errorf("locked address: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// The token sign-in of scripts shares the address's count.
	r = e.preAuth("/login", "/login", url.Values{"token": {"dct_nope_nope"}})
	if r.status != http.StatusTooManyRequests {
		t.Errorf("token sign-in from the locked address: %d", r.status)
	}
}

// TestAdminPages: an admin creates a user with a password, who signs in; resets the password,
// which ends the user's session; issues and revokes a token; others get 403.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	admin := e.pwSession("admin")
	if r := e.send("GET", "/admin/users", nil, admin); r.status != 200 || !strings.Contains(r.body, `data-user="office"`) || !strings.Contains(r.body, `href="/admin/users"`) {
		t.Fatalf("users page: %d %.300s", r.status, r.body)
	}

	if r := e.send("GET", "/admin/audit?lang=en", nil, admin); r.status != 200 || !strings.Contains(r.body, "<h1>Audit trail</h1>") || !strings.Contains(r.body, ">password set<") {
		t.Errorf("the audit trail in English: %d", r.status)
	}
	// Refused forms keep what was typed and say why beside the field; nothing is created.
	bad := []struct {
		note  string
		form  url.Values
		field string
		msg   string
	}{
		{"bad name", url.Values{"name": {"a/b"}, "role": {"inspector"}}, "u-name-err", "登录名须为"},
		{"short password", url.Values{"name": {"clerk"}, "role": {"inspector"}, "password": {"short"}, "confirm": {"short"}}, "pw-err", "密码至少需要十个字符"},
		{"passwords differ", url.Values{"name": {"clerk"}, "role": {"inspector"}, "password": {pw}, "confirm": {pw + "x"}}, "pw-err", "两次输入的密码不一致"},
		{"department user without department", url.Values{"name": {"clerk"}, "role": {"department"}}, "u-department-err", "部门用户须选择所属部门"},
		{"taken", url.Values{"name": {"editor"}, "role": {"inspector"}}, "u-name-err", "该登录名已被使用"},
		{"display name", url.Values{"name": {"clerk"}, "role": {"inspector"}, "display_name": {"王\u200b明"}}, "u-display-err", "姓名最多"},
	}
	for _, tc := range bad {
		t.Run(tc.note, func(t *testing.T) {
			r := e.postWith(admin, "/admin/users", tc.form)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="`+tc.field+`" class="field-error">`+tc.msg) {
				t.Errorf("%d %.300s", r.status, r.body[strings.Index(r.body, "new-user-h"):])
			}
			if !strings.Contains(r.body, `value="`+tc.form.Get("name")+`"`) {
				t.Errorf("the name typed is not kept")
			}
		})
	}
	if _, err := e.fake.GetUser(context.Background(), "clerk"); err == nil {
		t.Fatal("a refused form created the user")
	}

	// Create a department user of the general office with a password; it signs in.
	r := e.postWith(admin, "/admin/users", url.Values{"name": {"clerk"}, "display_name": {"王小明"}, "role": {"department"},
		"department": {scope}, "password": {pw}, "confirm": {pw}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/users/clerk?done=created" {
		t.Fatalf("create: %d %q %.500s", r.status, r.header.Get("Location"), r.body)
	}
	page := e.send("GET", "/admin/users/clerk?done=created", nil, admin)
	if !strings.Contains(page.body, `id="user-notice"`) || !strings.Contains(page.body, "王小明（clerk）") ||
		!regexp.MustCompile(`<option value="`+scope+`" selected>\x{3000}办公厅<`).MatchString(page.body) {
		t.Errorf("user page after creation: %.3000s", page.body)
	}
	_, clerk := e.pwSignIn("clerk", pw)
	if clerk == nil {
		t.Fatal("the new user cannot sign in")
	}
	if r := e.send("GET", "/api/v1/me", nil, clerk); !strings.Contains(r.body, `"display_name":"王小明"`) || !strings.Contains(r.body, `"department":"`+scope+`"`) {
		t.Errorf("the new user: %s", r.body)
	}
	// A non-admin: 403 on every admin page and form, and nothing changes.
	for _, path := range []string{"/admin/users", "/admin/users/clerk", "/admin/tokens", "/admin/audit"} {
		if r := e.send("GET", path, nil, clerk); r.status != http.StatusForbidden {
			t.Errorf("GET %s as a department user: %d, want 403", path, r.status)
		}
	}
	if r := e.postWith(clerk, "/admin/users/clerk", url.Values{"role": {"admin"}}); r.status != http.StatusForbidden {
		t.Errorf("a department user making itself admin: %d, want 403", r.status)
	}
	if r := e.postWith(clerk, "/admin/users/clerk/password", url.Values{"password": {pw + "1"}, "confirm": {pw + "1"}}); r.status != http.StatusForbidden {
		t.Errorf("a department user resetting a password: %d, want 403", r.status)
	}
	if u, _ := e.fake.GetUser(context.Background(), "clerk"); u.Role != duty.RoleDepartment {
		t.Errorf("clerk's role is %s", u.Role)
	}

	// Reset the password: the session ends, the old password is refused, the new one works.
	const newPw = "新的密码 0123456789"
	if r := e.postWith(admin, "/admin/users/clerk/password", url.Values{"password": {newPw}, "confirm": {newPw}}); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d %.500s", r.status, r.body)
	}
	if r := e.send("GET", "/login", nil, clerk); r.status != http.StatusOK || strings.Contains(r.body, "clerk</strong>") {
		t.Errorf("the session survived the reset: %d", r.status)
	}
	if _, c := e.pwSignIn("clerk", pw); c != nil {
		t.Error("the old password still signs in")
	}
	if _, c := e.pwSignIn("clerk", newPw); c == nil {
		t.Error("the new password does not sign in")
	}

	// The last active admin cannot demote itself.
	r = e.postWith(admin, "/admin/users/admin", url.Values{"role": {"inspector"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "最后一位在用的管理员") {
		t.Errorf("demoting the last admin: %d", r.status)
	}
	// Saving details: disable and enable.
	if r := e.postWith(admin, "/admin/users/editor", url.Values{"role": {"policy_editor"}, "disabled": {"1"}, "display_name": {"李编辑"}}); r.status != http.StatusSeeOther {
		t.Errorf("disable: %d %.500s", r.status, r.body)
	}
	if _, c := e.pwSignIn("editor", pw+"editor"); c != nil {
		t.Error("a disabled user signs in")
	}

	// A token with an expiry: shown once, works on the API, listed, revoked.
	expiry := time.Now().AddDate(0, 0, 30).Format(time.DateOnly)
	r = e.postWith(admin, "/admin/users/clerk/tokens", url.Values{"token_name": {"nightly"}, "expiry": {expiry}})
	m := regexp.MustCompile(`id="new-token">(dct_[0-9a-f_]+)<`).FindStringSubmatch(r.body)
	if r.status != http.StatusCreated || m == nil {
		t.Fatalf("issue a token: %d %.500s", r.status, r.body)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("the issued token on the API: %v %v", resp, err)
	}
	if r := e.postWith(admin, "/admin/users/clerk/tokens", url.Values{"token_name": {"old"}, "expiry": {"2000-01-01"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="token-error"`) {
		t.Errorf("a token expiring in the past: %d", r.status)
	}
	id := strings.Split(m[1], "_")[1]
	list := e.send("GET", "/admin/tokens", nil, admin)
	if !strings.Contains(list.body, `data-token="`+id+`" data-status="active"`) {
		t.Errorf("tokens page lacks the new token")
	}
	if r := e.postWith(admin, "/admin/tokens/"+id+"/revoke", url.Values{"back": {"/admin/users/clerk"}}); r.status != http.StatusSeeOther ||
		r.header.Get("Location") != "/admin/users/clerk?revoked="+id {
		t.Errorf("revoke: %d %q", r.status, r.header.Get("Location"))
	}
	if list := e.send("GET", "/admin/tokens", nil, admin); !strings.Contains(list.body, `data-token="`+id+`" data-status="revoked"`) {
		t.Errorf("tokens page does not list the token as revoked")
	}
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	admin := e.pwSession("admin")
	if r := e.postWith(admin, "/admin/users/office/password", url.Values{"password": {pw + "2"}, "confirm": {pw + "2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.status)
	}
	for i := range 60 { // more than a page
		if _, _, err := e.fake.CreateToken(context.Background(), "admin", "inspector", fmt.Sprintf("t%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	rows := regexp.MustCompile(`<tr class="audit-row" data-id="([^"]+)" data-action="([^"]+)" data-actor="([^"]+)"`)
	tests := []struct {
		note  string
		query string
		check func(action, actor string) bool
		want  int // rows, -1 for a full page
	}{
		{"everything, first page", "", func(string, string) bool { return true }, -1},
		{"by action", "?action=user.password", func(a, _ string) bool { return a == "user.password" }, 5},
		{"by actor and action", "?actor=admin&action=user.password", func(a, who string) bool { return a == "user.password" && who == "admin" }, 1},
		{"by record", "?record=office&action=user.password", func(a, _ string) bool { return a == "user.password" }, 2},
		{"by date", "?from=2999-01-01", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			r := e.send("GET", "/admin/audit"+tc.query, nil, admin)
			if r.status != 200 {
				t.Fatalf("%d", r.status)
			}
			got := rows.FindAllStringSubmatch(r.body, -1)
			want := tc.want
			if want < 0 {
				want = 50
			}
			if len(got) != want {
				t.Errorf("%d rows, want %d", len(got), want)
			}
			for _, g := range got {
				if !tc.check(g[2], g[3]) {
					t.Errorf("row %v does not match the filter", g)
				}
			}
		})
	}
	// Paging: the next page starts after the last row of the first, and offers the first back.
	first := e.send("GET", "/admin/audit", nil, admin)
	next := regexp.MustCompile(`id="audit-next" href="([^"]+)"|href="([^"]+)" id="audit-next"`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatal("no next page")
	}
	href := strings.ReplaceAll(next[1]+next[2], "&amp;", "&")
	second := e.send("GET", href, nil, admin)
	a, b := rows.FindAllStringSubmatch(first.body, -1), rows.FindAllStringSubmatch(second.body, -1)
	if len(b) == 0 || b[0][1] >= a[len(a)-1][1] || !strings.Contains(second.body, `id="audit-first"`) {
		t.Errorf("second page: %d rows, first %v after %v", len(b), b, a[len(a)-1][1])
	}
	if r := e.send("GET", "/admin/audit?from=2026-02-01&to=2026-01-01", nil, admin); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="audit-error"`) {
		t.Errorf("dates in the wrong order: %d", r.status)
	}
	if r := e.send("GET", "/admin/audit?actor=admin", nil, e.pwSession("inspector")); r.status != http.StatusForbidden {
		t.Errorf("the audit trail for an inspector: %d, want 403", r.status)
	}
}

// TestSetupPage: the first admin's password is set once through the one-time link.
func TestSetupPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := dutytest.NewStore(dutytest.Config{})
	if err := st.PutUser(ctx, "system", duty.User{Name: "admin", Role: duty.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	token := st.SetupToken("admin", time.Hour)
	e := &env{tb: t, fake: st, srv: edgetest.Serve(t, edgetest.Config{Store: st})}

	if r := e.send("GET", "/setup?token=nope", nil); r.status != http.StatusNotFound || !strings.Contains(r.body, `id="setup-error"`) {
		t.Errorf("a wrong setup link: %d", r.status)
	}
	link := "/setup?token=" + token
	if r := e.preAuth(link, "/setup", url.Values{"token": {token}, "password": {pw}, "confirm": {pw + "x"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "不一致") {
		t.Errorf("passwords that differ: %d", r.status)
	}
	if r := e.send("POST", "/setup", url.Values{"token": {token}, "password": {pw}, "confirm": {pw}}); r.status != http.StatusForbidden {
		t.Errorf("without the form's CSRF token: %d", r.status)
	}
	r := e.preAuth(link, "/setup", url.Values{"token": {token}, "password": {pw}, "confirm": {pw}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?setup=done" {
		t.Fatalf("setup: %d %q %.300s", r.status, r.header.Get("Location"), r.body)
	}
	if r := e.send("GET", "/login?setup=done", nil); !strings.Contains(r.body, `id="login-notice"`) {
		t.Error("no notice on the sign-in page")
	}
	if _, c := e.pwSignIn("admin", pw); c == nil {
		t.Error("the admin cannot sign in with the password set")
	}
	if r := e.send("GET", link, nil); r.status != http.StatusNotFound {
		t.Errorf("the used link: %d", r.status)
	}
}

// TestAccountPage: every user changes its own password with the current one; a user without a
// password (signed in with a token) cannot set one there.
func TestAccountPage(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	sess := e.pwSession("office")
	if r := e.send("GET", "/account", nil, sess); r.status != 200 || !strings.Contains(r.body, `id="change-form"`) || !strings.Contains(r.body, "办公厅") {
		t.Fatalf("account page: %d %.300s", r.status, r.body)
	}
	const newPw = "新的密码 0123456789"
	if r := e.postWith(sess, "/account/password", url.Values{"current": {"wrong password 1"}, "password": {newPw}, "confirm": {newPw}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "当前密码不正确") {
		t.Errorf("wrong current password: %d", r.status)
	}
	if r := e.postWith(sess, "/account/password", url.Values{"current": {pw + "office"}, "password": {newPw}, "confirm": {"x"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "不一致") {
		t.Errorf("passwords that differ: %d", r.status)
	}
	r := e.postWith(sess, "/account/password", url.Values{"current": {pw + "office"}, "password": {newPw}, "confirm": {newPw}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?password=changed" {
		t.Fatalf("change: %d %q", r.status, r.header.Get("Location"))
	}
	if r := e.send("GET", "/account", nil, sess); r.status != http.StatusSeeOther {
		t.Errorf("the session survived the change: %d", r.status)
	}
	if _, c := e.pwSignIn("office", newPw); c == nil {
		t.Error("the new password does not sign in")
	}

	ctx := context.Background()
	if err := e.fake.PutUser(ctx, "test", duty.User{Name: "robot", Role: duty.RoleInspector}); err != nil {
		t.Fatal(err)
	}
	tk, _, err := e.fake.CreateToken(ctx, "test", "robot", "script")
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.fake.CreateSession(ctx, duty.Principal{User: "robot", Token: tk.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	robot := &http.Cookie{Name: httpapi.SessionCookie, Value: id}
	if r := e.send("GET", "/account", nil, robot); !strings.Contains(r.body, `id="no-password"`) || strings.Contains(r.body, `id="change-form"`) {
		t.Errorf("account page of a user without a password: %d", r.status)
	}
	if r := e.postWith(robot, "/account/password", url.Values{"current": {""}, "password": {newPw}, "confirm": {newPw}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("setting a first password with a token session: %d, want 422", r.status)
	}
	if ok, _ := e.fake.HasPassword(ctx, "robot"); ok {
		t.Error("a token session set a password")
	}
}

// TestSignInHugeInput: a name and a password of megabytes are refused like any wrong ones,
// without echoing the name.
func TestSignInHugeInput(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	huge := strings.Repeat("名", 1<<20)
	r, c := e.pwSignIn(huge, huge)
	if r.status != http.StatusUnauthorized || c != nil || strings.Contains(r.body, huge[:3000]) {
		t.Errorf("huge name and password: %d, echoed %v", r.status, strings.Contains(r.body, huge[:3000]))
	}
	r, c = e.pwSignIn("office", pw+"office"+huge)
	if r.status != http.StatusUnauthorized || c != nil {
		t.Errorf("the right password with a huge tail: %d", r.status)
	}
}
