// Package edgetest starts the edges (internal/httpapi with internal/web in front) on a store
// for the tests of both, and sends them requests as a browser or a client would, without
// following redirects. It is a test helper: only tests import it.
package edgetest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/web"
)

// Quiet is a logger that writes nothing, for the services under test.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Config is what Serve starts.
type Config struct {
	Store duty.Store
	// Limiter counts failed sign-ins per client address, shared by the API and the pages (10 a
	// minute when nil); Accounts counts failed password sign-ins per user (the pages' default
	// when nil).
	Limiter, Accounts *ratelimit.Failures
	// TrustedProxies is httpapi.Config.TrustedProxies.
	TrustedProxies []string
	// Wrap, when not nil, wraps the API (the API's tests check every answer against its
	// OpenAPI description).
	Wrap func(http.Handler) http.Handler
}

// Serve starts the API with the pages in front of c.Store; the server closes when the test
// ends.
func Serve(tb testing.TB, c Config) *httptest.Server {
	tb.Helper()
	if c.Limiter == nil {
		c.Limiter = ratelimit.New(10, time.Minute)
	}
	quiet := Quiet()
	pages := web.New(web.Config{Log: quiet}, web.Deps{Store: c.Store, Limiter: c.Limiter, Accounts: c.Accounts})
	var h http.Handler = httpapi.New(httpapi.Config{Log: quiet, TrustedProxies: c.TrustedProxies},
		httpapi.Deps{Store: c.Store, Pages: pages, Limiter: c.Limiter})
	if c.Wrap != nil {
		h = c.Wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// Answer is what a request answered.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Cookies are the cookies the answer sets.
func (a Answer) Cookies() []*http.Cookie { return (&http.Response{Header: a.Header}).Cookies() }

// Send makes one request to srv without following redirects; header holds extra headers. A
// request that cannot be made fails the test.
func Send(tb testing.TB, srv *httptest.Server, method, path string, body io.Reader, header map[string]string, cookies ...*http.Cookie) Answer {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body) // what came: a test of an answer cut short sees it so
	return Answer{resp.StatusCode, resp.Header, string(data)}
}

// CSRFInput finds the CSRF token of a page's form: its first submatch.
var CSRFInput = regexp.MustCompile(`name="` + httpapi.CSRFField + `" value="([0-9a-f]+)"`)
