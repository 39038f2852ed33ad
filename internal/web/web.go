// Package web is dutycheck's browser interface for the people who read the reports and adjust
// the duties: discipline inspection staff and organ Party staff. It serves server-rendered
// pages (html/template, Chinese by default with an English switch) from templates, a stylesheet
// and a small script embedded in the binary, as a plain net/http handler that httpapi mounts for
// every path outside /api/.
//
// Every page sits behind a browser session (duty.Accounts.CreateSession, started on the sign-in
// page with a user name and password, or by pasting a bearer token) and shows only what the
// user's role and department scope allow;
// every form carries the session's CSRF token, checked on every POST. The pages reuse the
// services the JSON API uses (duty.Store, duty.Scans, duty.Policies); they hold no logic of their
// own about scans or policies.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config holds the settings of the pages.
type Config struct {
	// SessionTTL is how long a browser session lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// Today returns the default as-of date of a scan form (YYYY-MM-DD); nil means today in the
	// server's time zone.
	Today func() string
	Log   *slog.Logger
	// OrgansPerPage is how many organs the overview shows at a time; 0 means 10.
	OrgansPerPage int
}

// Deps are the services the pages show and drive.
type Deps struct {
	// Store and Scans are the services of internal/duty (internal/store and internal/scan
	// in the binary, fakes in tests). Scans are reached as the signed-in user may see them
	// (duty.ScopedScans).
	Store    duty.Store
	Scans    duty.ScanRunner
	Policies duty.Policies
	// Ledger, when set, serves the rectification ledger's pages (ledger.go).
	Ledger duty.Ledger
	// Imports runs the spreadsheet imports, shared with the API (httpapi.Deps); nil makes one
	// for the pages alone.
	Imports *sheet.Jobs
	// Limiter counts failed sign-ins per client address, shared with the API (httpapi.Deps);
	// nil makes one for the pages alone.
	Limiter *ratelimit.Failures
	// Accounts counts failed password sign-ins per user name (ratelimit.AccountKey); nil makes
	// one allowing AccountFailures per AccountWindow.
	Accounts *ratelimit.Failures
}

// A user name is locked out after AccountFailures failed password sign-ins within one
// AccountWindow (aligned to the clock), whatever addresses they came from.
const (
	AccountFailures = 5
	AccountWindow   = 15 * time.Minute
)

type handler struct {
	cfg Config
	Deps
	mux     *http.ServeMux
	pages   map[string]*template.Template
	assets  map[string]string // file name → content hash, for cache-busting URLs
	limiter *ratelimit.Failures
	// accounts counts failed password sign-ins per user name.
	accounts *ratelimit.Failures
	trees    treeCache  // the department tree as the pages show it (report.go)
	organs   organCache // the records of the organs the record pages showed last (browse.go)
	names    nameCache  // the names of the people of the organs the report pages showed last (names.go)
	scans    duty.Scans // Deps.Scans, scoped
}

// New returns the handler of the pages. It panics when the embedded templates do not parse,
// which a test catches before any release.
func New(cfg Config, deps Deps) http.Handler {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Today == nil {
		cfg.Today = func() string { return time.Now().Format(time.DateOnly) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.OrgansPerPage <= 0 {
		cfg.OrgansPerPage = organsPerPage
	}
	if deps.Limiter == nil {
		deps.Limiter = ratelimit.New(10, time.Minute)
	}
	if deps.Accounts == nil {
		deps.Accounts = ratelimit.New(AccountFailures, AccountWindow)
	}
	h := &handler{cfg: cfg, Deps: deps, mux: http.NewServeMux(), limiter: deps.Limiter, accounts: deps.Accounts}
	if deps.Scans != nil {
		h.scans = duty.ScopedScans(deps.Scans, deps.Store)
	}
	h.assets = assetHashes()
	h.pages = parsePages(h.assets)

	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})))
	h.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/icon.svg", http.StatusMovedPermanently)
	})
	h.mux.HandleFunc("GET /login", h.public(h.loginForm))
	h.mux.HandleFunc("POST /login", h.public(h.login))
	h.route("POST /logout", "", h.logout)

	h.route("GET /{$}", "", h.overview)
	h.route("GET /departments/{id}", duty.ReadReports, h.departmentReport)
	h.route("GET /departments/{id}/due", duty.ReadReports, h.due)
	h.route("GET /departments/{id}/report.csv", duty.ReadReports, h.departmentDownload("csv"))
	h.route("GET /departments/{id}/report.json", duty.ReadReports, h.departmentDownload("json"))
	h.route("GET /scans", duty.RunScans, h.scanForm)
	h.route("POST /scans", duty.RunScans, h.startScan)
	h.route("GET /scans/{id}", duty.ReadReports, h.scanPage)
	h.route("GET /scans/{id}/report.csv", duty.ReadReports, h.scanDownload("csv"))
	h.route("GET /scans/{id}/report.json", duty.ReadReports, h.scanDownload("json"))
	h.route("GET /records/{collection}/{id}", duty.ReadRecords, h.record)
	h.recordRoutes()
	h.route("GET /policies", duty.ReadPolicies, h.policyList)
	h.route("GET /policies/revisions", duty.ReadPolicies, h.revisions)
	h.route("GET /policies/diff", duty.ReadPolicies, h.diff)
	h.route("POST /policies/revisions/{rev}/activate", duty.WritePolicies, h.rollback)
	h.route("POST /policies/builtin/adopt", duty.WritePolicies, h.adoptBuiltin)
	h.route("GET /policies/{id}", duty.ReadPolicies, h.policyPage)
	h.route("POST /policies/{id}/params", duty.WritePolicies, h.policyParams)
	h.route("POST /policies/{id}/module", duty.WritePolicies, h.policyModule)
	h.route("GET /admin/webhooks", duty.ManageWebhooks, h.webhooks)
	h.accountRoutes()
	if deps.Ledger != nil {
		h.route("GET /ledger", duty.ReadReports, h.ledgerPage)
		h.route("GET /ledger.xlsx", duty.ReadReports, h.ledgerDownload("xlsx"))
		h.route("GET /ledger.csv", duty.ReadReports, h.ledgerDownload("csv"))
		h.route("GET /cases/{id}", duty.ReadReports, h.casePage)
		h.route("POST /cases/{id}", duty.WriteRecords, h.caseAction)
		h.route("POST /cases/{id}/files", duty.WriteRecords, h.caseUpload)
		h.route("GET /cases/{id}/files/{file}", duty.ReadReports, h.caseFile)
		h.route("GET /standing", duty.ReadReports, h.standingPage)
		h.route("GET /waivers", duty.ReadReports, h.waiversPage)
		h.route("POST /waivers/{id}", duty.ReadReports, h.waiverDecision)
		h.route("POST /cases/{id}/waiver", duty.ReadReports, h.waiverRequest)
		h.route("GET /standing.csv", duty.ReadReports, h.standingCSV)
	}
	h.sheetRoutes()
	h.route("/", "", func(rq *request) error { return errNotFound })
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// request is one page request: the writer, the request, its language and, behind the session,
// who makes it and the session's CSRF token.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context
	lang    string
	p       duty.Principal
	csrf    string
	session string
	signed  bool
	// self is the page the language switch leads back to, when it is not the request's URL (a
	// form's answer to a POST).
	self string
}

type pageFunc func(rq *request) error

var (
	errNotFound  = fmt.Errorf("page: %w", duty.ErrNotFound)
	errForbidden = errors.New("forbidden")
	errCSRF      = errors.New("missing or wrong CSRF token")
)

// securityHeaders are sent with every page: no framing, no inline script, no sniffing, no
// referrer leaving the site, and no caching of pages that show records.
func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
}

// public wraps the pages that need no session (sign-in).
func (h *handler) public(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		rq := &request{w: w, r: r, ctx: r.Context(), lang: language(w, r)}
		if sess, id, err := h.session(r); err == nil {
			rq.p, rq.csrf, rq.session, rq.signed = sess.Principal, sess.CSRF, id, true
		}
		if err := fn(rq); err != nil {
			h.fail(rq, err)
		}
	}
}

// route registers a page behind the session: without one a GET is sent to the sign-in page
// (and back afterwards); a POST must carry the session's CSRF token; the role must allow need.
func (h *handler) route(pattern string, need duty.Action, fn pageFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		rq := &request{w: w, r: r, ctx: r.Context(), lang: language(w, r)}
		sess, id, err := h.session(r)
		switch {
		case errors.Is(err, duty.ErrNotFound):
			next := "/"
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		case err != nil:
			h.fail(rq, err)
			return
		}
		rq.p, rq.csrf, rq.session, rq.signed = sess.Principal, sess.CSRF, id, true
		if r.Method == http.MethodPost {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				// File uploads: the CSRF field is in the multipart body. A body over the
				// request limit is 413, not a missing CSRF field.
				var mbe *http.MaxBytesError
				if err := r.ParseMultipartForm(1 << 20); errors.As(err, &mbe) {
					h.fail(rq, err)
					return
				}
			}
			if err := r.ParseForm(); err != nil {
				h.fail(rq, fmt.Errorf("read form: %w", duty.ErrInvalid))
				return
			}
			if !httpapi.CSRFSent(r, sess.CSRF) {
				h.fail(rq, errCSRF)
				return
			}
		}
		if need != "" && !rq.p.Can(need) {
			h.fail(rq, errForbidden)
			return
		}
		if err := fn(rq); err != nil {
			h.fail(rq, err)
		}
	})
}

// session resolves the session cookie; duty.ErrNotFound when there is none or it expired.
func (h *handler) session(r *http.Request) (*duty.Session, string, error) {
	c, err := r.Cookie(httpapi.SessionCookie)
	if err != nil || c.Value == "" {
		return nil, "", fmt.Errorf("no session: %w", duty.ErrNotFound)
	}
	s, err := h.Store.Session(r.Context(), c.Value)
	if err != nil {
		return nil, "", err
	}
	return s, c.Value, nil
}

// errKeys are the messages of the error codes of httpapi.StatusOf whose own message is not
// shown on a page; the others (invalid, bad_request, conflict, too_large) show the error's
// message.
var errKeys = map[string]string{
	"not_found":   "err.404",
	"unavailable": "err.unavailable",
	"busy":        "err.busy",
	"timeout":     "err.timeout",
	"cancelled":   "err.cancelled",
	"internal":    "err.500",
}

// fail shows the error page with the status of the error's kind (httpapi.StatusOf, the table
// the API answers with too); internal errors are logged and not shown.
func (h *handler) fail(rq *request, err error) {
	status, code := httpapi.StatusOf(err)
	key := errKeys[code]
	switch {
	case errors.Is(err, errCSRF):
		status, key = http.StatusForbidden, "err.csrf"
	case errors.Is(err, errForbidden):
		status, key = http.StatusForbidden, "err.403"
	case status == http.StatusTooManyRequests:
		rq.w.Header().Set("Retry-After", "30")
	}
	if status >= 500 {
		h.cfg.Log.Error("page failed", "path", rq.r.URL.Path, "err", err)
	}
	msg := ""
	if key != "" {
		msg = text(rq.lang, key)
	} else {
		msg = err.Error()
	}
	if rerr := h.render(rq, status, "error", text(rq.lang, "err.title"), errorPage{Status: status, Message: msg}); rerr != nil {
		h.cfg.Log.Error("render error page", "err", rerr)
		http.Error(rq.w, http.StatusText(status), status)
	}
}

type errorPage struct {
	Status  int
	Message string
}

// render executes a page template into a buffer first, so that a template error becomes a
// clean 500 instead of half a page.
func (h *handler) render(rq *request, status int, name, title string, data any) error {
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	self := rq.r.URL
	if rq.self != "" {
		self = &url.URL{Path: rq.self}
	}
	p := &Page{Lang: rq.lang, Title: title, CSRF: rq.csrf, CSRFField: httpapi.CSRFField, D: data, h: h, path: self}
	if rq.signed {
		pr := rq.p
		p.User = &pr
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	rq.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	rq.w.WriteHeader(status)
	_, err := rq.w.Write(buf.Bytes())
	return err
}

// redirect answers 303 to a local path.
func (rq *request) redirect(path string) error {
	http.Redirect(rq.w, rq.r, path, http.StatusSeeOther)
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// localPath returns next when it is a path on this site, else "/": the sign-in page must not
// become an open redirect. A browser drops tabs and line breaks from a URL and reads a
// backslash as a slash, so "/\t/evil.example" and "/\evil.example" lead off-site as "//" does;
// anything with a control character, a space or a backslash, anything that is not a plain
// absolute path ("//host", "http:", "\/"), and anything that does not parse is refused.
func localPath(next string) string {
	if len(next) == 0 || len(next) > 2048 || next[0] != '/' || !utf8.ValidString(next) {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return "/"
		}
	}
	if len(next) > 1 && next[1] == '/' {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}
