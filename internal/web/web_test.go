package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
	"github.com/dutycheck/dutycheck/internal/web"
)

// env is a service on the embedded store (st) with the sample organ, two scans of the whole
// store (2025-06-30 and 2025-12-31), and one signed-in session per role; or, for the tests whose
// subject is not the store, the same without scans on the in-memory fake (fake).
type env struct {
	tb       testing.TB
	st       *store.Store
	fake     *dutytest.Store // the in-memory store of the tests whose subject is not the store
	scans    *scan.Service
	pages    http.Handler
	srv      *httptest.Server
	tokens   map[string]string // user → bearer token
	sessions map[string]string // user → session cookie
	whole    string            // id of the 2025-12-31 scan of the whole store
}

const (
	scope   = "ORG-1-OFF"    // the office user's subtree: the general office and its divisions
	inside  = "ORG-1-DIV-04" // a division in it
	outside = "ORG-1-DIV-01" // a division of the Party Committee, outside it
)

var users = []struct{ name, role, dept string }{
	{"admin", duty.RoleAdmin, ""},
	{"editor", duty.RolePolicyEditor, ""},
	{"inspector", duty.RoleInspector, ""},
	{"office", duty.RoleDepartment, scope},
}

// newEnv is the service with the sample organ loaded and scanned as of 2025-06-30 and
// 2025-12-31, and every user of users signed in.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	return startEnv(tb, []string{"2025-06-30", "2025-12-31"}, users)
}

// startEnv is the service with the sample organ loaded, whole-store scans as of each of
// scanDates, and each of signedIn with a token and a session.
func startEnv(tb testing.TB, scanDates []string, signedIn []struct{ name, role, dept string }) *env {
	tb.Helper()
	e, _ := startEnvWith(tb, scanDates, signedIn, false)
	return e
}

// sampleStore is a store with the sample organ's records.
func sampleStore(tb testing.TB) *store.Store {
	tb.Helper()
	st := storetest.Open(tb)
	storetest.Load(tb, st, "../../fixtures/sample")
	return st
}

// sampleFake is the in-memory fake of the store with the sample organ's records.
func sampleFake(tb testing.TB) *dutytest.Store {
	tb.Helper()
	st := dutytest.NewStore(dutytest.Config{})
	storetest.Load(tb, st, "../../fixtures/sample")
	return st
}

// startEnvWith is startEnv, with the rectification ledger (today 2025-12-31, evidence files of
// at most 1 MiB) behind the scans, the pages and the API when withLedger.
func startEnvWith(tb testing.TB, scanDates []string, signedIn []struct{ name, role, dept string }, withLedger bool) (*env, *ledger.Service) {
	tb.Helper()
	ctx := context.Background()
	st := sampleStore(tb)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := builtinManager(tb, st, quiet)
	cfg := scan.ServiceConfig{Store: st, Engine: mgr.Engine, Log: quiet}
	var l *ledger.Service
	if withLedger {
		l = ledger.New(ledger.Config{Today: func() string { return "2025-12-31" }, MaxFileBytes: 1 << 20, Log: quiet}, ledger.Deps{Store: st, Engine: mgr.Engine})
		cfg.BeforeSave, cfg.AfterScan = l.BeforeSave, []func(context.Context, *duty.Scan, *duty.Report){l.AfterScan}
	}
	scans := scan.NewService(cfg)
	e := &env{tb: tb, st: st, scans: scans, tokens: map[string]string{}, sessions: map[string]string{}}
	for _, asOf := range scanDates {
		sc, err := scans.Start(ctx, scan.Request{AsOf: asOf}, true)
		if err != nil {
			tb.Fatal(err)
		}
		e.whole = sc.ID
	}
	e.signIn(st, signedIn)
	var ledgerSvc duty.Ledger // none unless withLedger (not a nil *ledger.Service)
	if l != nil {
		ledgerSvc = l
	}
	e.pages = web.New(web.Config{Today: func() string { return "2025-12-31" }, Log: quiet}, web.Deps{Store: st, Scans: scans, Policies: mgr, Ledger: ledgerSvc})
	e.srv = httptest.NewServer(httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Scans: scans, Policies: mgr, Pages: e.pages, Ledger: ledgerSvc}))
	tb.Cleanup(func() {
		e.srv.Close()
		scans.Shutdown(context.Background())
	})
	return e, l
}

// accountsStore is what an env needs of its store to sign its users in.
type accountsStore interface {
	duty.Store
	CreateToken(ctx context.Context, actor, user, name string) (*duty.Token, string, error)
}

// signIn gives each of signedIn a token and a session.
func (e *env) signIn(st accountsStore, signedIn []struct{ name, role, dept string }) {
	tb := e.tb
	tb.Helper()
	ctx := context.Background()
	for _, u := range signedIn {
		if err := st.PutUser(ctx, "test", duty.User{Name: u.name, Role: u.role, Department: u.dept}); err != nil {
			tb.Fatal(err)
		}
		tk, tok, err := st.CreateToken(ctx, "test", u.name, "test")
		if err != nil {
			tb.Fatal(err)
		}
		e.tokens[u.name] = tok
		if e.sessions[u.name], err = st.CreateSession(ctx, duty.Principal{User: u.name, Token: tk.ID}, time.Hour); err != nil {
			tb.Fatal(err)
		}
	}
}

// newPolicyEnv is the service on the in-memory fake of the store with the sample organ and
// every user of users signed in, and no scan: for the tests of the policy pages, whose subject
// is the gate, the bases and the forms, not the store (the store's revisions and the organs a
// preview reads are compared with the fake's in internal/duty/dutytest).
func newPolicyEnv(tb testing.TB) *env {
	tb.Helper()
	st := sampleFake(tb)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := builtinManager(tb, st, quiet)
	e := &env{tb: tb, fake: st, tokens: map[string]string{}, sessions: map[string]string{}}
	e.signIn(st, users)
	scans := dutytest.NewRunner(st, 1)
	e.pages = web.New(web.Config{Today: func() string { return "2025-12-31" }, Log: quiet}, web.Deps{Store: st, Scans: scans, Policies: mgr})
	e.srv = httptest.NewServer(httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Scans: scans, Policies: mgr, Pages: e.pages}))
	tb.Cleanup(e.srv.Close)
	return e
}

// builtinManager is the policies in force over st, seeded with the built-in bundle.
func builtinManager(tb testing.TB, st duty.PolicyStore, log *slog.Logger) *live.Manager {
	tb.Helper()
	mgr, err := live.New(context.Background(), live.Config{Store: st, Builtin: policy.Builtin(), Log: log})
	if err != nil {
		tb.Fatal(err)
	}
	return mgr
}

// response is what a request answered.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request as user ("" for nobody), without following redirects.
func (e *env) do(user, method, path string, form url.Values) response {
	e.tb.Helper()
	var cookies []*http.Cookie
	if user != "" {
		cookies = append(cookies, &http.Cookie{Name: httpapi.SessionCookie, Value: e.sessions[user]})
	}
	return e.send(method, path, form, cookies...)
}

func (e *env) get(user, path string) response { e.tb.Helper(); return e.do(user, "GET", path, nil) }

var csrfField = regexp.MustCompile(`name="` + httpapi.CSRFField + `" value="([0-9a-f]+)"`)

// csrf returns the CSRF token the pages give user.
func (e *env) csrf(user string) string {
	e.tb.Helper()
	r := e.get(user, "/policies")
	m := csrfField.FindStringSubmatch(r.body)
	if m == nil {
		e.tb.Fatalf("no CSRF field on /policies for %s: %.400s", user, r.body)
	}
	return m[1]
}

// post sends a form with user's CSRF token.
func (e *env) post(user, path string, form url.Values) response {
	e.tb.Helper()
	form.Set(httpapi.CSRFField, e.csrf(user))
	return e.do(user, "POST", path, form)
}

func TestPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	person := func(dept string) string {
		organs, _, err := e.st.LoadOrgans(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range organs[0].Docs["people"] {
			if p.Str("department_id") == dept {
				return p.ID()
			}
		}
		t.Fatalf("no person in %s", dept)
		return ""
	}
	in, out := person(inside), person(outside)

	t.Run("every page for every role", func(t *testing.T) {
		// Statuses by role: admin, editor, inspector, office (department user of ORG-1-OFF).
		type want [4]int
		pages := []struct {
			path string
			want want
		}{
			{"/", want{200, 303, 200, 200}},
			{"/departments/ORG-1", want{200, 403, 200, 404}},
			{"/departments/" + scope, want{200, 403, 200, 200}},
			{"/departments/" + inside + "?severity=high", want{200, 403, 200, 200}},
			{"/departments/" + outside, want{200, 403, 200, 404}},
			{"/departments/" + inside + "/report.csv", want{200, 403, 200, 200}},
			{"/departments/" + outside + "/report.csv", want{200, 403, 200, 404}},
			{"/departments/" + outside + "/report.json", want{200, 403, 200, 404}},
			{"/departments/NO-SUCH", want{404, 403, 404, 404}},
			{"/scans", want{200, 403, 200, 200}},
			{"/scans/" + e.whole, want{200, 403, 200, 404}},
			{"/scans/" + e.whole + "/report.csv", want{200, 403, 200, 404}},
			{"/scans/no-such-scan", want{404, 403, 404, 404}},
			{"/records/people/" + in, want{200, 403, 200, 200}},
			{"/records/people/" + out, want{200, 403, 200, 404}},
			{"/records/departments/" + outside, want{200, 403, 200, 404}},
			{"/records/appointments/ORG-1-A-001", want{200, 403, 200, 404}},
			{"/records/no_such_collection/x", want{404, 403, 404, 404}},
			{"/policies", want{200, 200, 200, 200}},
			{"/policies/talk.pre_appointment", want{200, 200, 200, 200}},
			{"/policies/no.such", want{404, 404, 404, 404}},
			{"/policies/revisions", want{200, 200, 200, 200}},
			{"/policies/diff?from=r1&to=r1", want{200, 200, 200, 200}},
			{"/no/such/page", want{404, 404, 404, 404}},
		}
		for _, pg := range pages {
			for i, u := range users {
				t.Run(u.name+pg.path, func(t *testing.T) {
					r := e.get(u.name, pg.path)
					if r.status != pg.want[i] {
						t.Fatalf("status %d, want %d; body %.300s", r.status, pg.want[i], r.body)
					}
					if r.status == http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
						return
					}
					for h, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
						if got := r.header.Get(h); got != v {
							t.Errorf("%s: %q, want %q", h, got, v)
						}
					}
					if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
						t.Errorf("Content-Security-Policy %q", csp)
					}
					if strings.Contains(r.body, "<script>") || strings.Contains(r.body, " style=") || strings.Contains(r.body, " onclick=") {
						t.Errorf("inline script or style in %s", pg.path)
					}
					if !strings.Contains(r.body, `<html lang="zh-CN">`) || !strings.Contains(r.body, `hreflang="en"`) {
						t.Errorf("page not in Chinese with an English switch")
					}
					if !strings.Contains(r.body, `name="`+httpapi.CSRFField+`"`) {
						t.Errorf("no CSRF field (the sign-out form at least)")
					}
					if r.status == 200 && strings.Contains(r.body, "%!") {
						t.Errorf("a format error in the page: %s", r.body[strings.Index(r.body, "%!")-80:][:160])
					}
				})
			}
		}
	})

	t.Run("sign-in needs a session", func(t *testing.T) {
		r := e.get("", "/departments/ORG-1?severity=high")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next="+url.QueryEscape("/departments/ORG-1?severity=high") {
			t.Errorf("no session: %d %s", r.status, r.header.Get("Location"))
		}
		if r := e.do("", "POST", "/scans", url.Values{"as_of": {"2025-12-31"}}); r.status != http.StatusSeeOther {
			t.Errorf("POST without session: %d", r.status)
		}
		if r := e.get("", "/api/v1/nope"); r.status != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "json") {
			t.Errorf("unknown API path: %d %s", r.status, r.header.Get("Content-Type"))
		}
		if r := e.get("", "/static/app.css"); r.status != 200 || !strings.Contains(r.body, "Noto Sans CJK SC") {
			t.Errorf("stylesheet: %d", r.status)
		}
	})

	t.Run("sign in with a token, sign out", func(t *testing.T) {
		jar := map[string]string{}
		send := func(method, path string, form url.Values) response {
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range jar {
				req.AddCookie(&http.Cookie{Name: k, Value: v})
			}
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			for _, ck := range resp.Cookies() {
				if ck.MaxAge < 0 {
					delete(jar, ck.Name)
				} else {
					jar[ck.Name] = ck.Value
				}
			}
			data, _ := io.ReadAll(resp.Body)
			return response{resp.StatusCode, resp.Header, string(data)}
		}
		form := func(r response, kv ...string) url.Values {
			v := url.Values{}
			if m := csrfField.FindStringSubmatch(r.body); m != nil {
				v.Set(httpapi.CSRFField, m[1])
			}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		page := send("GET", "/login?next=/scans", nil)
		if page.status != 200 || !strings.Contains(page.body, `name="next" value="/scans"`) {
			t.Fatalf("sign-in page: %d %.300s", page.status, page.body)
		}
		if r := send("POST", "/login", url.Values{"token": {e.tokens["inspector"]}}); r.status != http.StatusForbidden {
			t.Errorf("sign-in without the form's CSRF token: %d, want 403", r.status)
		}
		page = send("GET", "/login", nil)
		if r := send("POST", "/login", form(page, "token", "dct_nope_nope")); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `id="login-error"`) {
			t.Errorf("bad token: %d", r.status)
		}
		page = send("GET", "/login", nil)
		r := send("POST", "/login", form(page, "token", e.tokens["inspector"], "next", "//evil.example/"))
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Fatalf("sign-in: %d to %q, want 303 to / (no open redirect)", r.status, r.header.Get("Location"))
		}
		cookie := ""
		for _, c := range r.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, httpapi.SessionCookie+"=") {
				cookie = c
			}
		}
		for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("session cookie %q lacks %s", cookie, attr)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("session cookie %q is Secure over plain HTTP", cookie)
		}
		home := send("GET", "/", nil)
		if home.status != 200 || !strings.Contains(home.body, "<strong>inspector</strong>") {
			t.Fatalf("after sign-in: %d", home.status)
		}
		if r := send("POST", "/logout", url.Values{}); r.status != http.StatusForbidden {
			t.Errorf("sign-out without CSRF token: %d, want 403", r.status)
		}
		if r := send("POST", "/logout", form(home)); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Errorf("sign-out: %d %s", r.status, r.header.Get("Location"))
		}
		if r := send("GET", "/", nil); r.status != http.StatusSeeOther {
			t.Errorf("after sign-out: %d, want a redirect to sign in", r.status)
		}
	})

	t.Run("session cookie is Secure over TLS", func(t *testing.T) {
		page := httptest.NewRecorder()
		e.pages.ServeHTTP(page, httptest.NewRequest("GET", "https://dutycheck.example/login", nil))
		m := csrfField.FindStringSubmatch(page.Body.String())
		if m == nil {
			t.Fatal("no CSRF field on the sign-in page")
		}
		req := httptest.NewRequest("POST", "https://dutycheck.example/login", strings.NewReader(url.Values{
			httpapi.CSRFField: {m[1]}, "token": {e.tokens["admin"]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range page.Result().Cookies() {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		e.pages.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("sign-in over TLS: %d %s", rec.Code, rec.Body)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == httpapi.SessionCookie && (!c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode) {
				t.Errorf("session cookie over TLS: %+v", c)
			}
		}
	})

	t.Run("department user sees only its subtree", func(t *testing.T) {
		home := e.get("office", "/")
		for _, d := range []string{scope, inside} {
			if !strings.Contains(home.body, `href="/departments/`+d+`"`) {
				t.Errorf("overview lacks %s", d)
			}
		}
		for _, d := range []string{"ORG-1", "ORG-1-PC", outside} {
			if strings.Contains(home.body, `href="/departments/`+d+`"`) {
				t.Errorf("overview of the office user links %s", d)
			}
		}
		form := e.get("office", "/scans")
		if strings.Contains(form.body, `value="`+outside+`"`) || strings.Contains(form.body, `value=""`) {
			t.Errorf("scan form offers a department outside the subtree")
		}
		if r := e.post("office", "/scans", url.Values{"department": {outside}, "as_of": {"2025-12-31"}}); r.status != http.StatusNotFound {
			t.Errorf("scan of another subtree: %d, want 404", r.status)
		}
		rep := e.get("office", "/departments/"+scope)
		for _, m := range regexp.MustCompile(`href="/records/people/([^"]+)"`).FindAllStringSubmatch(rep.body, -1) {
			if r := e.get("office", "/records/people/"+m[1]); r.status != 200 {
				t.Errorf("subject %s of the office's report: %d", m[1], r.status)
			}
		}
	})

	t.Run("every POST needs the CSRF token", func(t *testing.T) {
		before, _ := e.st.ListScans(ctx, 100)
		for _, tc := range []struct{ name, path string }{
			{"scan", "/scans"},
			{"params", "/policies/meeting.joint/params"},
			{"module", "/policies/meeting.joint/module"},
			{"rollback", "/policies/revisions/r1/activate"},
			{"logout", "/logout"},
		} {
			for _, token := range []string{"", "0123456789abcdef0123456789abcdef"} {
				t.Run(tc.name, func(t *testing.T) {
					form := url.Values{"as_of": {"2025-12-31"}, "action": {"apply"}, "p.max_gap_days": {"30"}}
					if token != "" {
						form.Set(httpapi.CSRFField, token)
					}
					r := e.do("admin", "POST", tc.path, form)
					if r.status != http.StatusForbidden || !strings.Contains(r.body, "form") {
						t.Errorf("token %q: status %d, want 403", token, r.status)
					}
				})
			}
		}
		after, _ := e.st.ListScans(ctx, 100)
		revs, _ := e.st.Revisions(ctx)
		if len(after) != len(before) || len(revs) != 1 {
			t.Errorf("refused forms changed something: %d scans (was %d), %d revisions", len(after), len(before), len(revs))
		}
		if r := e.get("admin", "/"); r.status != 200 {
			t.Errorf("the session must survive refused forms: %d", r.status)
		}
	})

	t.Run("language switch", func(t *testing.T) {
		zh := e.get("inspector", "/departments/"+scope)
		if !strings.Contains(zh.body, "<h1>办公厅") || !strings.Contains(zh.body, "问题说明") || !strings.Contains(zh.body, ">English</a>") {
			t.Errorf("default page is not Chinese")
		}
		en := e.get("inspector", "/departments/"+scope+"?lang=en&severity=high")
		if !strings.Contains(en.body, `<html lang="en">`) || !strings.Contains(en.body, "Finding") || !strings.Contains(en.body, "Compliance report") {
			t.Errorf("?lang=en page is not English: %.500s", en.body)
		}
		// The switch keeps the page and its filters.
		if !strings.Contains(en.body, `href="/departments/`+scope+`?lang=zh&amp;severity=high"`) {
			t.Errorf("the switch back to Chinese does not keep the page: %s", regexp.MustCompile(`<a class="lang"[^>]*>`).FindString(en.body))
		}
		var langCookie *http.Cookie
		for _, c := range (&http.Response{Header: en.header}).Cookies() {
			if c.Name == "dutycheck_lang" {
				langCookie = c
			}
		}
		if langCookie == nil || langCookie.Value != "en" {
			t.Fatalf("no language cookie set: %v", en.header.Values("Set-Cookie"))
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/scans", nil)
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: e.sessions["inspector"]})
		req.AddCookie(langCookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Run a scan") {
			t.Errorf("the language cookie is not followed on the next page")
		}
	})

	t.Run("report filters and downloads hold what is shown", func(t *testing.T) {
		for _, q := range []string{"", "?severity=high", "?duty=letter.three_levels", "?reason=missing&severity=medium", "?duty=talk.pre_appointment&reason=late"} {
			t.Run(q, func(t *testing.T) {
				page := e.get("inspector", "/departments/ORG-1"+q)
				shown := rowKeys(page.body)
				csvRows := csvKeys(t, e.get("inspector", "/departments/ORG-1/report.csv"+q).body)
				if diff := cmp.Diff(shown, csvRows); diff != "" {
					t.Errorf("CSV differs from the page (-page +csv):\n%s", diff)
				}
				var rep duty.Report
				if err := json.Unmarshal([]byte(e.get("inspector", "/departments/ORG-1/report.json"+q).body), &rep); err != nil {
					t.Fatal(err)
				}
				if rep.Summary.Violations != len(shown) || len(rep.Violations) != len(shown) {
					t.Errorf("JSON holds %d violations (summary %d), the page %d", len(rep.Violations), rep.Summary.Violations, len(shown))
				}
				f, _ := url.ParseQuery(strings.TrimPrefix(q, "?"))
				for _, v := range rep.Violations {
					if s := f.Get("severity"); s != "" && v.Severity != s || f.Get("duty") != "" && v.Policy != f.Get("duty") {
						t.Errorf("filter %s lets through %s %s", q, v.Policy, v.Severity)
					}
				}
				if q == "" && len(shown) != 59 {
					t.Errorf("the sample has 59 violations as of 2025-12-31, the page shows %d", len(shown))
				}
			})
		}
	})

	t.Run("overview: tree, trend and revision", func(t *testing.T) {
		r := e.get("admin", "/")
		for _, want := range []string{`<svg class="trend"`, "2025-06-30: ", "2025-12-31: 59", "r1 · ", "浙江省人大常委会机关", `href="/departments/ORG-1-DC"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
	})

	t.Run("record view names its violations", func(t *testing.T) {
		r := e.get("inspector", "/records/people/ORG-1-P-005")
		if !strings.Contains(r.body, "王亮") || strings.Count(r.body, `class="violation"`) < 2 {
			t.Errorf("record page of P-005: %d violations shown", strings.Count(r.body, `class="violation"`))
		}
		if !strings.Contains(r.body, `href="/records/departments/ORG-1"`) {
			t.Errorf("the department reference is not a link")
		}
	})

	t.Run("start a scan and follow it", func(t *testing.T) {
		if r := e.post("inspector", "/scans", url.Values{"department": {scope}, "as_of": {"2025-13-01"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "YYYY-MM-DD") {
			t.Errorf("bad date: %d", r.status)
		}
		r := e.post("inspector", "/scans", url.Values{"department": {scope}, "as_of": {"2025-12-31"}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/scans/") {
			t.Fatalf("start scan: %d %s", r.status, r.header.Get("Location"))
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			page := e.get("inspector", r.header.Get("Location"))
			if strings.Contains(page.body, `data-status="done"`) {
				if n := len(rowKeys(page.body)); n != 8 {
					t.Errorf("the office has 8 violations as of 2025-12-31, the scan page shows %d", n)
				}
				break
			}
			if !strings.Contains(page.body, `data-status="running"`) || time.Now().After(deadline) {
				t.Fatalf("scan page: %.600s", page.body)
			}
			if !strings.Contains(page.body, "<progress") || !strings.Contains(page.body, `http-equiv="refresh"`) {
				t.Errorf("a running scan's page has no progress or no refresh")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestPolicyEditorPages: a policy editor checks, previews (counts only: an editor may not read
// records), applies and rolls back a change through the pages, audited.
func TestPolicyEditorPages(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t)
	ctx := context.Background()
	path := "/policies/talk.pre_appointment/params"
	params := func(action, v string) url.Values {
		return url.Values{"action": {action}, "p.max_days_before": {v}, "p.ranks": {"bureau, division"}, "p.severity": {"high"},
			"as_of": {"2025-12-31"}, "department": {""}, "message": {"stricter talks"}, "base": {"r1"}}
	}
	if r := e.post("editor", path, params("validate", "soon")); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be an integer") {
		t.Errorf("bad parameter: %d, want 422 naming the problem", r.status)
	}
	if r := e.post("editor", path, params("validate", "30")); r.status != 200 || !strings.Contains(r.body, "alert success") {
		t.Errorf("check: %d", r.status)
	}
	r := e.post("editor", path, params("preview", "30"))
	added := regexp.MustCompile(`data-added="(\d+)"`).FindStringSubmatch(r.body)
	// A policy editor may not read records: counts by duty and department, no violation rows.
	if r.status != 200 || added == nil || added[1] == "0" || strings.Contains(r.body, `class="impact-row"`) ||
		!strings.Contains(r.body, `class="count-row"`) || !strings.Contains(r.body, `id="impact-counts-only"`) {
		t.Fatalf("preview: %d, added %v, want counts and no violation rows", r.status, added)
	}
	if revs, _ := e.fake.Revisions(ctx); len(revs) != 1 {
		t.Errorf("preview stored a revision")
	}
	if !strings.Contains(r.body, `href="/policies/talk.pre_appointment?lang=en"`) {
		t.Errorf("the language switch of a form's answer does not lead back to the policy page")
	}
	r = e.post("editor", path, params("apply", "30"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/policies/talk.pre_appointment?applied=r2" {
		t.Fatalf("apply: %d %s %.300s", r.status, r.header.Get("Location"), r.body)
	}
	if p := e.get("editor", r.header.Get("Location")); !strings.Contains(p.body, `id="applied"`) || !strings.Contains(p.body, `value="30"`) {
		t.Errorf("after apply the page does not show the new value")
	}
	trail, _ := e.fake.AuditTrail(ctx, "editor", 10)
	if len(trail) == 0 || trail[0].Action != "policy.change" || !slices.Equal(trail[0].IDs, []string{"r2"}) {
		t.Errorf("audit trail of editor: %+v", trail)
	}

	broken := url.Values{"action": {"validate"}, "module": {"package duty.talk.pre_appointment\n\nviolation contains v if {\n"}, "test": {""}}
	r = e.post("editor", "/policies/talk.pre_appointment/module", broken)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `class="lineerr"`) {
		t.Errorf("broken module: %d, want 422 with the error under its line", r.status)
	}
	// The compiler's English is the detail; the page says in Chinese what kind of error it is.
	if !strings.Contains(r.body, "语法错误，这里的写法无法解析") || !strings.Contains(r.body, "（原文：rego_parse_error") {
		t.Errorf("broken module: the error is not explained in Chinese beside the compiler's text")
	}

	revs := e.get("editor", "/policies/revisions")
	if !strings.Contains(revs.body, `id="rev-r2"`) || !strings.Contains(revs.body, "/policies/diff?from=r1&amp;to=r2") {
		t.Errorf("revision history lacks r2 or its diff")
	}
	if d := e.get("editor", "/policies/diff?from=r1&to=r2"); !strings.Contains(d.body, "params/overrides.json") || !strings.Contains(d.body, `class="dl add"`) {
		t.Errorf("diff page lacks the change")
	}
	if r := e.post("inspector", "/policies/revisions/r1/activate", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("inspector rolled back: %d", r.status)
	}
	r = e.post("editor", "/policies/revisions/r1/activate", url.Values{"base": {"r2"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/policies/revisions?rolledback=r3&restored=r1" {
		t.Errorf("rollback: %d %s", r.status, r.header.Get("Location"))
	}
	if p := e.get("editor", "/policies/revisions?rolledback=r3&restored=r1"); !strings.Contains(p.body, `id="rolledback"`) || !strings.Contains(p.body, "恢复自 r1") {
		t.Errorf("the revision history does not show the rollback as r3 restoring r1")
	}
	if p := e.get("editor", "/policies/talk.pre_appointment"); !strings.Contains(p.body, `value="90"`) {
		t.Errorf("after rollback max_days_before is not 90 again")
	}
}

var baseField = regexp.MustCompile(`name="base" value="([^"]*)"`)

// TestStaleChangesInPages: every policy form carries the revision it was read on; a change on a
// revision that is no longer in force is refused with 409 and says so in Chinese; nothing is
// stored.
func TestStaleChangesInPages(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t)
	ctx := context.Background()
	checkBases := func(path, want string) {
		t.Helper()
		r := e.get("editor", path)
		bases := baseField.FindAllStringSubmatch(r.body, -1)
		if len(bases) == 0 {
			t.Errorf("%s: no form carries its base", path)
		}
		for _, b := range bases {
			if b[1] != want {
				t.Errorf("%s: a form carries base %q, want %s", path, b[1], want)
			}
		}
	}
	checkBases("/policies/meeting.joint", "r1")
	apply := func(base string, v string) url.Values {
		f := url.Values{"action": {"apply"}, "p.max_gap_days": {v}, "as_of": {"2025-12-31"}, "department": {""}}
		if base != "" {
			f.Set("base", base)
		}
		return f
	}
	// Two editors opened the page on r1; the first applies.
	if r := e.post("editor", "/policies/meeting.joint/params", apply("r1", "40")); r.status != http.StatusSeeOther {
		t.Fatalf("first change: %d %.300s", r.status, r.body)
	}
	checkBases("/policies/revisions", "r2")
	checkBases("/policies/meeting.joint", "r2")
	for _, tc := range []struct {
		note, path string
		form       url.Values
		status     int
		want       string
	}{
		{"params on a stale base", "/policies/meeting.joint/params", apply("r1", "41"), http.StatusConflict, "规则已被他人修改。您是在版本 r1 上修改的，现行版本已是 r2。"},
		{"params without base", "/policies/meeting.joint/params", apply("", "41"), http.StatusPreconditionRequired, "表单没有注明所依据的版本"},
		{"module on a stale base", "/policies/meeting.joint/module", url.Values{"action": {"apply"}, "module": {"package duty.meeting.joint\n"}, "base": {"r1"}}, http.StatusConflict, `id="stale"`},
		{"rollback on a stale base", "/policies/revisions/r1/activate", url.Values{"base": {"r1"}}, http.StatusConflict, "现行版本已是 r2"},
		{"rollback without base", "/policies/revisions/r1/activate", url.Values{}, http.StatusPreconditionRequired, `id="nobase"`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			r := e.post("editor", tc.path, tc.form)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Errorf("status %d, want %d with %q: %.600s", r.status, tc.status, tc.want, r.body)
			}
		})
	}
	if revs, _ := e.fake.Revisions(ctx); len(revs) != 2 {
		t.Errorf("refused changes stored revisions: %d, want 2", len(revs))
	}
	if p := e.get("editor", "/policies/meeting.joint"); !strings.Contains(p.body, `value="40"`) {
		t.Errorf("the first change is not in force")
	}
}

var rowKey = regexp.MustCompile(`<tr class="violation" data-key="([^"]*)"`)

// rowKeys returns the keys of the violation rows a report page shows, sorted.
func rowKeys(body string) []string {
	out := []string{}
	for _, m := range rowKey.FindAllStringSubmatch(body, -1) {
		out = append(out, htmlUnescape(m[1]))
	}
	slices.Sort(out)
	return out
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+").Replace(s)
}

// csvKeys returns the keys of the rows of a CSV download, sorted, in the pages' key format.
func csvKeys(tb testing.TB, body string) []string {
	tb.Helper()
	if !strings.HasPrefix(body, "\ufeff") {
		tb.Errorf("CSV download without a byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], duty.CSVTitles) {
		tb.Fatalf("CSV header %v", rows)
	}
	out := []string{}
	for _, r := range rows[1:] {
		out = append(out, fmt.Sprintf("%s|%s/%s|%s|%s", r[1], r[5], r[6], r[3], r[7]))
	}
	slices.Sort(out)
	return out
}
