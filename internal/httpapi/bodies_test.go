package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTrailingDataRefused: a JSON body is one value; anything after it (a second object, a
// stray word, a half-pasted request) is a malformed body (400) and changes nothing, as a batch
// with data after its array is, instead of acting on the first value alone.
func TestTrailingDataRefused(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	for _, tc := range []struct {
		note, method, path, body string
	}{
		{"scan with a word after it", "POST", "/api/v1/scans", `{"as_of": "2025-12-31"} garbage`},
		{"scan with a second object", "POST", "/api/v1/scans", `{"as_of": "2025-12-31"} {"as_of": "2025-06-30"}`},
		{"rollback with a second object", "POST", "/api/v1/policies/revisions/r1/activate", `{"base": "r1"} {"base": "r2"}`},
		{"user with a second object", "PUT", "/api/v1/users/someone", `{"role": "inspector"} {"role": "admin"}`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			a := e.bearer("admin", tc.method, tc.path, tc.body)
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, "after") {
				t.Errorf("%s %s %q: %d %s; want 400 naming the data after the value", tc.method, tc.path, tc.body, a.status, a.body)
			}
		})
	}
	if a := e.bearer("admin", "GET", "/api/v1/users", ""); strings.Contains(a.body, "someone") {
		t.Errorf("the refused user was written: %s", a.body)
	}
}
