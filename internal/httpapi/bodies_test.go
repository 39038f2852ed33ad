package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestTrailingDataRefused: a JSON body is one value; anything after it (a second object, a
// stray word, a half-pasted request) is a malformed body (400) and changes nothing, as a batch
// with data after its array is, instead of acting on the first value alone; so is a key twice
// in one object, of which the decoder would keep the last, and text that is not UTF-8, which
// it would read as U+FFFD.
func TestTrailingDataRefused(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	for _, tc := range []struct {
		note, method, path, body string
	}{
		{"scan with a word after it", "POST", "/api/v1/scans", `{"as_of": "2025-12-31"} garbage`},
		{"scan with a second object", "POST", "/api/v1/scans", `{"as_of": "2025-12-31"} {"as_of": "2025-06-30"}`},
		{"rollback with a second object", "POST", "/api/v1/policies/revisions/r1/activate", `{"base": "r1"} {"base": "r2"}`},
		{"scan with a key twice", "POST", "/api/v1/scans", `{"as_of": "2025-12-31", "as_of": "2025-06-30"}`},
		{"user with a key twice", "PUT", "/api/v1/users/someone", `{"role": "inspector", "role": "admin"}`},
		{"user named in GBK", "PUT", "/api/v1/users/someone", "{\"role\": \"inspector\", \"display_name\": \"\xd5\xc5\xc8\xfd\"}"},
		{"batch in GBK", "PUT", "/api/v1/collections/departments", "[{\"id\": \"ORG-9\", \"name\": \"\xd5\xc5\", \"kind\": \"organ\"}]"},
		{"user with a second object", "PUT", "/api/v1/users/someone", `{"role": "inspector"} {"role": "admin"}`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			a := e.bearer("admin", tc.method, tc.path, tc.body)
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, "after") && !strings.Contains(a.body, "twice") && !strings.Contains(a.body, "not UTF-8") {
				t.Errorf("%s %s %q: %d %s; want 400 naming what is wrong", tc.method, tc.path, tc.body, a.status, a.body)
			}
		})
	}
	if a := e.bearer("admin", "GET", "/api/v1/users", ""); strings.Contains(a.body, "someone") {
		t.Errorf("the refused user was written: %s", a.body)
	}
	if a := e.bearer("admin", "GET", "/api/v1/collections/departments/ORG-9", ""); a.status != http.StatusNotFound {
		t.Errorf("the refused department was written: %d %s", a.status, a.body)
	}
}

// TestDuplicateKeyRefused: a record with a key twice (the decoder would keep the last value
// unseen) is a malformed batch: 400 naming the key, nothing written.
func TestDuplicateKeyRefused(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	a := e.bearer("admin", "PUT", "/api/v1/collections/departments", `[{"id": "ORG-9", "name": "x", "kind": "organ", "id": "ORG-8"}]`)
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, `the key \"id\" appears twice`) {
		t.Errorf("batch with a key twice: %d %s; want 400 naming the key", a.status, a.body)
	}
	for _, id := range []string{"ORG-9", "ORG-8"} {
		if a := e.bearer("admin", "GET", "/api/v1/collections/departments/"+id, ""); a.status != http.StatusNotFound {
			t.Errorf("GET %s after the refused batch: %d, want 404", id, a.status)
		}
	}
}

// TestProblemShape: every problem of a refused batch has the four keys INTERFACES.md promises,
// {index, id, field, message}, also where the document has no usable id or the problem is the
// whole document's: id and field are then empty strings, never absent.
func TestProblemShape(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	a := e.bearer("admin", "PUT", "/api/v1/collections/talks", `[1, {"kind": "general"}, {"id": 5}]`)
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("batch of bad documents: %d %s; want 422", a.status, a.body)
	}
	var got struct {
		Error struct{ Problems []map[string]any }
	}
	if err := json.Unmarshal([]byte(a.body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Error.Problems) < 3 {
		t.Fatalf("problems: %s; want at least one per document", a.body)
	}
	for _, p := range got.Error.Problems {
		for _, k := range []string{"index", "id", "field", "message"} {
			if _, ok := p[k]; !ok {
				t.Errorf("problem %v has no %q", p, k)
			}
		}
	}
}
