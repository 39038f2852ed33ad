package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
)

// loginCookie carries the sign-in form's CSRF token (double submit): before sign-in there is no
// session to keep it in.
const loginCookie = "dutycheck_login"

type loginPage struct {
	Next  string
	Error string
}

func (h *handler) loginForm(rq *request) error {
	next := localPath(rq.r.URL.Query().Get("next"))
	if rq.signed {
		return rq.redirect(next)
	}
	return h.showLogin(rq, http.StatusOK, next, "")
}

func (h *handler) showLogin(rq *request, status int, next, errKey string) error {
	token := randomHex(16)
	http.SetCookie(rq.w, &http.Cookie{Name: loginCookie, Value: token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: rq.r.TLS != nil})
	rq.csrf = token
	msg := ""
	if errKey != "" {
		msg = text(rq.lang, errKey)
	}
	return h.render(rq, status, "login", text(rq.lang, "login.title"), loginPage{Next: next, Error: msg})
}

// login turns a pasted bearer token into a browser session: an HttpOnly, SameSite=Strict cookie
// (Secure over TLS). Failures are rate limited per address like the API's token sign-ins.
func (h *handler) login(rq *request) error {
	r := rq.r
	if err := r.ParseForm(); err != nil {
		return duty.ErrInvalid
	}
	next := localPath(r.PostForm.Get("next"))
	c, err := r.Cookie(loginCookie)
	if err != nil || !httpapi.SameToken(r.PostForm.Get(httpapi.CSRFField), c.Value) {
		return h.showLogin(rq, http.StatusForbidden, next, "login.csrf")
	}
	ip := ratelimit.Key(httpapi.ClientIP(r))
	if !h.limiter.Allow(ip) {
		rq.w.Header().Set("Retry-After", "60")
		return h.showLogin(rq, http.StatusTooManyRequests, next, "login.limited")
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	token = strings.TrimPrefix(token, "Bearer ")
	p, err := h.Store.Authenticate(rq.ctx, token)
	if errors.Is(err, duty.ErrNotFound) || token == "" {
		h.limiter.Fail(ip)
		return h.showLogin(rq, http.StatusUnauthorized, next, "login.bad")
	}
	if err != nil {
		return err
	}
	id, err := h.Store.CreateSession(rq.ctx, *p, h.cfg.SessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(rq.w, &http.Cookie{Name: httpapi.SessionCookie, Value: id, Path: "/", MaxAge: int(h.cfg.SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.SetCookie(rq.w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1})
	h.cfg.Log.Info("signed in", "user", p.User, "role", p.Role)
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
