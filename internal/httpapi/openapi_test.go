package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/metrics"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestOpenAPICoversTheRouter: every route of the router (with /metrics and the ledger on) is an operation of
// internal/httpapi/openapi.json and every operation of the document is a route. The failure
// names the routes to add or remove.
func TestOpenAPICoversTheRouter(t *testing.T) {
	t.Parallel()
	doc, _ := loadSpec(t)
	// The ledger's routes are registered without touching its store: a ledger without one lists them.
	h := httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Metrics: metrics.New(), Ledger: ledger.New(ledger.Config{Log: quiet}, ledger.Deps{})})
	routes := map[string]string{} // "GET /api/v1/scans/{id}" → gin's pattern
	for _, r := range httpapi.RoutesOf(h) {
		routes[r.Method+" "+ginPath(r.Path)] = r.Path
	}
	if len(routes) < 30 {
		t.Fatalf("the router has %d routes: %v", len(routes), routes)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	var missing, extra []string
	for op, pattern := range routes {
		if !documented[op] {
			missing = append(missing, op+"  (gin: "+pattern+")")
		}
	}
	for op := range documented {
		if _, ok := routes[op]; !ok {
			extra = append(extra, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("%d routes of the router are missing from internal/httpapi/openapi.json; add them (request, answers, errors):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("%d operations of internal/httpapi/openapi.json are not routes of the router; remove or fix them:\n  %s",
			len(extra), strings.Join(extra, "\n  "))
	}
}

// TestOpenAPIServed: the document is served without authentication, as embedded, and is an
// OpenAPI 3.1 document; its collection parameter lists exactly the schema's collections.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	doc, _ := loadSpec(t)
	h := validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json without a token: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !slices.Equal(rec.Body.Bytes(), httpapi.OpenAPIDocument) {
		t.Errorf("the served document differs from the embedded one")
	}
	var served struct{ OpenAPI string }
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil || served.OpenAPI != "3.1.0" {
		t.Errorf("served document: openapi %q, %v", served.OpenAPI, err)
	}
	var want []any
	for _, c := range duty.Collections {
		want = append(want, c.Name)
	}
	p := doc.Paths.Find("/api/v1/collections/{collection}").Put.Parameters.GetByInAndName("path", "collection")
	if p == nil || !slices.Equal(p.Schema.Value.Enum, want) {
		t.Errorf("the collection parameter's enum is not duty.Collections %v", want)
	}
}

// TestOpenAPICheckCatchesWrongAnswers: the validation the API tests go through refuses an
// undocumented status, a wrong content type, a body of the wrong shape, an undocumented field
// and a missing required header; it accepts the right answer.
func TestOpenAPICheckCatchesWrongAnswers(t *testing.T) {
	t.Parallel()
	jsonCT := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		note   string
		method string
		path   string
		status int
		header http.Header
		body   string
		ok     bool
	}{
		{"right", "GET", "/api/v1/scans/S-1", 404, jsonCT, `{"error":{"code":"not_found","message":"scan \"S-1\": not found"}}`, true},
		{"right scan", "GET", "/api/v1/scans/S-1", 200, jsonCT, `{"id":"S-1","status":"running","as_of":"2025-06-30","progress":{"done":1,"total":3},"started_at":"x"}`, true},
		{"undocumented status", "GET", "/api/v1/scans/S-1", 418, jsonCT, `{"error":{"code":"x","message":"y"}}`, false},
		{"content type", "GET", "/api/v1/scans/S-1", 404, http.Header{"Content-Type": {"text/html"}}, `<p>no</p>`, false},
		{"error shape", "GET", "/api/v1/scans/S-1", 404, jsonCT, `{"error":"not found"}`, false},
		{"undocumented field", "GET", "/api/v1/scans/S-1", 404, jsonCT, `{"error":{"code":"x","message":"y","hint":"z"}}`, false},
		{"bad status value", "GET", "/api/v1/scans/S-1", 200, jsonCT, `{"id":"S-1","status":"paused","as_of":"2025-06-30","progress":{"done":1,"total":3},"started_at":"x"}`, false},
		{"null report department is fine", "GET", "/api/v1/departments/ORG-1/report", 200, jsonCT,
			`{"scan_id":"s","as_of":"2025-06-30","department":null,"policy_revision":"r1","generated_at":"2025-06-30T00:00:00Z","summary":{"violations":0,"by_policy":{},"by_severity":{},"by_department":{},"new":0,"persisting":0,"resolved":0,"warnings":0,"waived":0},"violations":[],"warnings":[]}`, true},
		{"report without warnings", "GET", "/api/v1/departments/ORG-1/report", 200, jsonCT,
			`{"scan_id":"s","as_of":"2025-06-30","department":null,"policy_revision":"r1","generated_at":"2025-06-30T00:00:00Z","summary":{"violations":0,"by_policy":{},"by_severity":{},"by_department":{},"new":0,"persisting":0,"resolved":0,"warnings":0,"waived":0},"violations":[]}`, false},
		{"429 without Retry-After", "POST", "/api/v1/scans", 429, jsonCT, `{"error":{"code":"busy","message":"y"}}`, false},
		{"201 without ETag", "POST", "/api/v1/policies/revisions", 201, jsonCT, `{"revision":{"id":"r2","seq":2,"hash":"h","author":"a","message":"m","created_at":"t"}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			checked, err := checkAnswer(t, httptest.NewRequest(tc.method, tc.path, nil), tc.status, tc.header, []byte(tc.body))
			if !checked {
				t.Fatalf("not checked (%v)", err)
			}
			if (err == nil) != tc.ok {
				t.Errorf("error %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestOpenAPISecurity: the operations the document marks as needing no authentication
// (security: []) answer without a token, and every other one answers 401 (documented, with
// WWW-Authenticate) to a request without one.
func TestOpenAPISecurity(t *testing.T) {
	t.Parallel()
	doc, _ := loadSpec(t)
	st := storetest.Open(t)
	mgr, err := live.New(context.Background(), live.Config{Store: st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(ledger.Config{Log: quiet}, ledger.Deps{Store: st, Engine: mgr.Engine})
	h := validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Policies: mgr, Metrics: metrics.New(), Ledger: l}))
	open := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			url := path
			for _, p := range op.Parameters {
				if p.Value.In == "path" {
					url = strings.ReplaceAll(url, "{"+p.Value.Name+"}", "x")
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, url, strings.NewReader("{}")))
			public := op.Security != nil && len(*op.Security) == 0
			if public {
				open++
			}
			if got := rec.Code == http.StatusUnauthorized; got == public {
				t.Errorf("%s %s without a token: %d; the document says public=%v", method, path, rec.Code, public)
			}
		}
	}
	if open != 3 {
		t.Errorf("%d public operations, want 3 (/healthz, /readyz, /api/v1/openapi.json)", open)
	}
}
