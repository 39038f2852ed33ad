package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/passwd"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
)

// loginCookie carries the CSRF token of a form shown before sign-in (double submit): the
// sign-in form on /login, the first admin password on /setup. Before sign-in there is no
// session to keep it in.
const loginCookie = "dutycheck_login"

// The Retry-After of a locked-out sign-in, in seconds: the address's window and the account's.
const (
	addressRetry = "60"
	accountRetry = "900"
)

type loginPage struct {
	Next   string
	Error  string
	Notice string
	// Name is the user name typed, kept after a failed sign-in (never the password).
	Name string
}

func (h *handler) loginForm(rq *request) error {
	next := localPath(rq.r.URL.Query().Get("next"))
	if rq.signed {
		return rq.redirect(next)
	}
	page := loginPage{Next: next}
	switch {
	case rq.r.URL.Query().Get("setup") == "done":
		page.Notice = text(rq.lang, "signin.setup.done")
	case rq.r.URL.Query().Get("password") == "changed":
		page.Notice = text(rq.lang, "signin.pw.changed")
	}
	return h.showLogin(rq, http.StatusOK, page, "")
}

// preAuthToken sets the double-submit cookie of a form shown before sign-in, for path, and
// makes it the page's CSRF token.
func preAuthToken(rq *request, path string) {
	token := randomHex(16)
	http.SetCookie(rq.w, &http.Cookie{Name: loginCookie, Value: token, Path: path, MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: rq.r.TLS != nil})
	rq.csrf = token
}

// preAuthSent reports whether a form posted before sign-in carries the token of its cookie.
func preAuthSent(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	return err == nil && httpapi.SameToken(r.PostForm.Get(httpapi.CSRFField), c.Value)
}

func (h *handler) showLogin(rq *request, status int, page loginPage, errKey string) error {
	preAuthToken(rq, "/login")
	if errKey != "" {
		page.Error = text(rq.lang, errKey)
	}
	return h.render(rq, status, "login", text(rq.lang, "login.title"), page)
}

// login starts a browser session, an HttpOnly, SameSite=Strict cookie (Secure over TLS), for a
// user name and password, or for a pasted bearer token (the form with a token field). Failures
// are rate limited per client address, one count with the API's token sign-ins, and those of a
// password also per user name: an account being guessed from many addresses is locked out too.
func (h *handler) login(rq *request) error {
	r := rq.r
	if err := r.ParseForm(); err != nil {
		return duty.ErrInvalid
	}
	page := loginPage{Next: localPath(r.PostForm.Get("next"))}
	if !preAuthSent(r) {
		return h.showLogin(rq, http.StatusForbidden, page, "login.csrf")
	}
	ip := ratelimit.Key(httpapi.ClientIP(r))
	if r.PostForm.Has("token") {
		if !h.limiter.Allow(ip) {
			rq.w.Header().Set("Retry-After", addressRetry)
			return h.showLogin(rq, http.StatusTooManyRequests, page, "login.limited")
		}
		token := strings.TrimSpace(r.PostForm.Get("token"))
		token = strings.TrimPrefix(token, "Bearer ")
		p, err := h.Store.Authenticate(rq.ctx, token)
		if errors.Is(err, duty.ErrNotFound) || token == "" {
			h.limiter.Fail(ip)
			return h.showLogin(rq, http.StatusUnauthorized, page, "login.bad")
		}
		if err != nil {
			return err
		}
		return h.startSession(rq, *p, page.Next)
	}
	page.Name = strings.TrimSpace(r.PostForm.Get("name"))
	if len(page.Name) > 512 {
		page.Name = "" // not shown again: no user has such a name
	}
	p, status, err := h.checkPassword(rq, page.Name, r.PostForm.Get("password"))
	switch {
	case err != nil:
		return err
	case status == http.StatusTooManyRequests:
		return h.showLogin(rq, status, page, "signin.locked")
	case status != 0:
		return h.showLogin(rq, status, page, "signin.bad")
	}
	return h.startSession(rq, *p, page.Next)
}

// checkPassword checks a user name and password under the sign-in limits: the principal, or
// the status of the refusal, 429 (locked out: the address or the name has had too many failures;
// Retry-After set) or 401 (a wrong name or password, counted against both).
func (h *handler) checkPassword(rq *request, name, pw string) (*duty.Principal, int, error) {
	ip := ratelimit.Key(httpapi.ClientIP(rq.r))
	if !duty.ValidName(name) {
		name = "" // no user has it: one count for all such names, and no huge key in the store
	}
	account := ratelimit.AccountKey(name)
	switch {
	case !h.limiter.Allow(ip):
		rq.w.Header().Set("Retry-After", addressRetry)
		return nil, http.StatusTooManyRequests, nil
	case !h.accounts.Allow(account):
		rq.w.Header().Set("Retry-After", accountRetry)
		return nil, http.StatusTooManyRequests, nil
	}
	p, err := h.Store.SignIn(rq.ctx, name, pw)
	if errors.Is(err, duty.ErrNotFound) {
		h.limiter.Fail(ip)
		h.accounts.Fail(account)
		return nil, http.StatusUnauthorized, nil
	}
	return p, 0, err
}

// startSession sets the session cookie of a principal that just signed in and goes on to next.
func (h *handler) startSession(rq *request, p duty.Principal, next string) error {
	id, err := h.Store.CreateSession(rq.ctx, p, h.cfg.SessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(rq.w, &http.Cookie{Name: httpapi.SessionCookie, Value: id, Path: "/", MaxAge: int(h.cfg.SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: rq.r.TLS != nil})
	http.SetCookie(rq.w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1})
	how := "token"
	if p.Token == "" {
		how = "password"
	}
	h.cfg.Log.Info("signed in", "user", p.User, "role", p.Role, "with", how)
	return rq.redirect(next)
}

func (h *handler) logout(rq *request) error {
	if err := h.Store.DeleteSession(rq.ctx, rq.session); err != nil {
		return err
	}
	http.SetCookie(rq.w, &http.Cookie{Name: httpapi.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: rq.r.TLS != nil})
	return rq.redirect("/login")
}

// passwordProblem is the page's message for a password refused by passwd.Check (or two that
// differ), "" for another error.
func passwordProblem(lang string, err error) string {
	for _, k := range []struct {
		err error
		key string
	}{{passwd.ErrTooShort, "pw.short"}, {passwd.ErrTooLong, "pw.long"}, {passwd.ErrControl, "pw.control"}} {
		if errors.Is(err, k.err) {
			return text(lang, k.key)
		}
	}
	return ""
}

// newPassword reads a form's new password and its confirmation: the password, or the message
// to show beside the field.
func newPassword(rq *request) (string, string) {
	pw := rq.r.PostForm.Get("password")
	if pw != rq.r.PostForm.Get("confirm") {
		return "", text(rq.lang, "pw.mismatch")
	}
	if msg := passwordProblem(rq.lang, passwd.Check(pw)); msg != "" {
		return "", msg
	}
	return pw, ""
}

type setupPage struct {
	Token string
	User  string
	Error string
}

// setupForm shows the form of the first admin password, behind the one-time link serve prints.
func (h *handler) setupForm(rq *request) error {
	token := rq.r.URL.Query().Get("token")
	user, err := h.Store.SetupUser(rq.ctx, token)
	if errors.Is(err, duty.ErrNotFound) {
		return h.showSetup(rq, http.StatusNotFound, setupPage{Error: text(rq.lang, "setup.bad")})
	}
	if err != nil {
		return err
	}
	return h.showSetup(rq, http.StatusOK, setupPage{Token: token, User: user})
}

func (h *handler) showSetup(rq *request, status int, page setupPage) error {
	preAuthToken(rq, "/setup")
	return h.render(rq, status, "setup", text(rq.lang, "setup.title"), page)
}

// setup sets the first admin's password with the one-time token. A wrong token counts as a
// failed sign-in of the address.
func (h *handler) setup(rq *request) error {
	r := rq.r
	if err := r.ParseForm(); err != nil {
		return duty.ErrInvalid
	}
	page := setupPage{Token: r.PostForm.Get("token")}
	if !preAuthSent(r) {
		return errCSRF
	}
	ip := ratelimit.Key(httpapi.ClientIP(r))
	if !h.limiter.Allow(ip) {
		rq.w.Header().Set("Retry-After", addressRetry)
		page.Error = text(rq.lang, "login.limited")
		return h.showSetup(rq, http.StatusTooManyRequests, page)
	}
	user, err := h.Store.SetupUser(rq.ctx, page.Token)
	if errors.Is(err, duty.ErrNotFound) {
		h.limiter.Fail(ip)
		return h.showSetup(rq, http.StatusNotFound, setupPage{Error: text(rq.lang, "setup.bad")})
	}
	if err != nil {
		return err
	}
	page.User = user
	pw, msg := newPassword(rq)
	if msg != "" {
		page.Error = msg
		return h.showSetup(rq, http.StatusUnprocessableEntity, page)
	}
	if _, err := h.Store.UseSetupToken(rq.ctx, page.Token, pw); errors.Is(err, duty.ErrNotFound) {
		return h.showSetup(rq, http.StatusNotFound, setupPage{Error: text(rq.lang, "setup.bad")})
	} else if err != nil {
		return err
	}
	h.cfg.Log.Info("first admin password set", "user", user)
	return rq.redirect("/login?setup=done")
}
