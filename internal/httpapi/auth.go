package httpapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
)

const (
	principalKey = "dutycheck.principal"
	// SessionCookie is the browser session cookie; CSRFHeader and CSRFField carry the session's
	// CSRF token on unsafe requests made with it.
	SessionCookie = "dutycheck_session"
	CSRFHeader    = "X-CSRF-Token"
	CSRFField     = "csrf"
	csrfKey       = "dutycheck.csrf"
)

// authenticate resolves the bearer token or the session cookie to a principal; requests with
// neither, or with a bad one, answer 401. Token failures are rate limited per client address.
func (s *server) authenticate(c *gin.Context) {
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			s.unauthorized(c, "the Authorization header must be \"Bearer <token>\"")
			return
		}
		ip := ratelimit.Key(ClientIP(c.Request))
		if !s.limiter.Allow(ip) {
			c.Header("Retry-After", "60")
			c.AbortWithStatusJSON(http.StatusTooManyRequests, errorBody("rate_limited", "too many failed sign-ins from this address; wait a minute", nil))
			return
		}
		p, err := s.Store.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			if errors.Is(err, duty.ErrNotFound) {
				s.limiter.Fail(ip)
				s.unauthorized(c, "unknown or revoked token")
				return
			}
			s.fail(c, err)
			return
		}
		s.setPrincipal(c, *p)
		c.Next()
		return
	}
	if cookie, err := c.Cookie(SessionCookie); err == nil && cookie != "" {
		sess, err := s.Store.Session(c.Request.Context(), cookie)
		if err == nil {
			if unsafe(c.Request.Method) {
				if !CSRFSent(c.Request, sess.CSRF) {
					c.AbortWithStatusJSON(http.StatusForbidden, errorBody("csrf", "missing or wrong CSRF token", nil))
					return
				}
			}
			c.Set(csrfKey, sess.CSRF)
			s.setPrincipal(c, sess.Principal)
			c.Next()
			return
		}
	}
	s.unauthorized(c, "sign in: send \"Authorization: Bearer <token>\"")
}

// CSRFSent reports whether an unsafe request made with a session cookie carries the session's
// CSRF token want, in the X-CSRF-Token header or the csrf form field. It is the one CSRF check
// of the API and the pages.
func CSRFSent(r *http.Request, want string) bool {
	sent := r.Header.Get(CSRFHeader)
	if sent == "" {
		sent = r.PostFormValue(CSRFField)
	}
	return SameToken(sent, want)
}

// SameToken reports, in constant time, whether a CSRF token sent with a request is the one
// expected; an empty token never matches. The API and the pages both check with it.
func SameToken(sent, want string) bool {
	return sent != "" && want != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

type clientIPKey struct{}

// ClientIP is the address of the client that sent r, as the API's router resolved it: the
// connection's peer, or, behind a configured trusted proxy, the address the proxy names. The
// pages count failed sign-ins against it too.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func (s *server) unauthorized(c *gin.Context, msg string) {
	c.Header("WWW-Authenticate", `Bearer realm="dutycheck"`)
	c.AbortWithStatusJSON(http.StatusUnauthorized, errorBody("unauthorized", msg, nil))
}

func (s *server) setPrincipal(c *gin.Context, p duty.Principal) {
	c.Set(principalKey, p)
	c.Set(actorKey, p.User)
}

// principal returns who makes the request (set by authenticate).
func principal(c *gin.Context) duty.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(duty.Principal)
	return pr
}

// require answers 403 unless the principal's role allows the action.
func require(a duty.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Can(a) {
			c.AbortWithStatusJSON(http.StatusForbidden, errorBody("forbidden", fmt.Sprintf("your role (%s) may not %s", principal(c).Role, a), nil))
			return
		}
		c.Next()
	}
}
