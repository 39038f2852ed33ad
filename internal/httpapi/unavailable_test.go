package httpapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestStoreUnavailable: when the store does not answer, a bearer request and a page answer
// 503 (the store is unavailable, no internals), and the failures do not count as failed
// sign-ins: once the store is back the same token signs in at once.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	sess := e.session("admin")
	e.fake.SetDown(errors.New("connection refused"))
	for range 12 { // more than the sign-in limit of 10 a minute
		r := e.bearer("admin", "GET", "/api/v1/collections/people/P-1", "")
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"code":"unavailable"`) || strings.Contains(r.body, "refused") {
			t.Fatalf("bearer request with the store down: %d %s", r.status, r.body)
		}
	}
	if r := e.send("GET", "/", nil, nil, sess); r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "refused") {
		t.Errorf("page with the store down: %d %.300s", r.status, r.body)
	}
	e.fake.SetDown(nil)
	if r := e.bearer("admin", "GET", "/api/v1/collections/people/P-1", ""); r.status != http.StatusNotFound {
		t.Errorf("the store back: %d %s, want 404 (no such person)", r.status, r.body)
	}
}
