package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/metrics"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestOpenAPITour calls every operation of the document through the validating wrapper, with
// its usual answers and errors, checking the statuses (TestMain then checks that every
// documented operation had an answer validated).
func TestOpenAPITour(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	if err := st.PutUser(ctx, "test", duty.User{Name: "admin", Role: duty.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	_, adminToken, err := st.CreateToken(ctx, "test", "admin", "test")
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := live.New(ctx, live.Config{Store: st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	scans := scan.NewService(scan.ServiceConfig{Store: st, Engine: mgr.Engine, Log: quiet})
	t.Cleanup(func() { scans.Shutdown(context.Background()) })
	srv := httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet},
		httpapi.Deps{Store: st, Scans: scans, Policies: mgr, Metrics: metrics.New()})))
	t.Cleanup(srv.Close)
	small := httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet, MaxBodyBytes: 64}, httpapi.Deps{Store: st})))
	t.Cleanup(small.Close)

	tokens := map[string]string{"admin": adminToken}
	vars := map[string]string{} // filled from answers: {scan}, {token_id}
	call := func(base, who, method, path, body string, header map[string]string) (int, map[string]any, string) {
		t.Helper()
		for k, v := range vars {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if who != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[who])
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return resp.StatusCode, m, string(data)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }

	const dept = `[{"id": "ORG-T", "name": "机关", "kind": "organ"}, {"id": "DIV-T", "name": "处", "kind": "division", "parent_id": "ORG-T"}]`
	const people = `[{"id": "P-1", "name": "张三", "department_id": "ORG-T", "rank": "bureau", "roles": ["party_group_secretary"], "active": true},
		{"id": "P-2", "name": "李四", "department_id": "DIV-T", "rank": "staff", "roles": [], "active": true}]`
	const asOf = `{"as_of": "2025-06-30"}`
	steps := []struct {
		who, method, path, body string
		header                  map[string]string
		status                  int
		keep                    map[string]string // var ← answer field
	}{
		{"", "GET", "/healthz", "", nil, 200, nil},
		{"", "GET", "/readyz", "", nil, 200, nil},
		{"", "GET", "/api/v1/openapi.json", "", nil, 200, nil},
		{"", "GET", "/api/v1/me", "", nil, 401, nil},
		{"admin", "GET", "/api/v1/me", "", nil, 200, nil},
		{"admin", "GET", "/metrics", "", nil, 200, nil},
		{"", "GET", "/metrics", "", nil, 401, nil},

		{"admin", "PUT", "/api/v1/collections/departments", dept, nil, 200, nil},
		{"admin", "PUT", "/api/v1/collections/people", people, nil, 200, nil},
		{"admin", "PUT", "/api/v1/collections/people", `[{"id": "P-3", "name": "王五", "department_id": "NOWHERE", "rank": "staff", "roles": [], "active": true}]`, nil, 422, nil},
		{"admin", "PUT", "/api/v1/collections/people", `{"id": "P-3"}`, nil, 400, nil},
		{"admin", "PUT", "/api/v1/collections/unicorns", `[]`, nil, 404, nil},
		{"admin", "GET", "/api/v1/collections/people/P-1", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/collections/people/P-404", "", nil, 404, nil},

		{"admin", "POST", "/api/v1/scans", asOf, nil, 201, nil},
		{"admin", "POST", "/api/v1/scans", `{"department": "ORG-T", "as_of": "2025-06-30"}`, nil, 201, nil},
		{"admin", "POST", "/api/v1/scans", `{"as_of": "2025-06-30", "wait": false}`, nil, 202, map[string]string{"scan": "id"}},
		{"admin", "POST", "/api/v1/scans", `{"as_of": "2025-06-31"}`, nil, 422, nil},
		{"admin", "POST", "/api/v1/scans", `{"when": "now"}`, nil, 400, nil},
		{"admin", "POST", "/api/v1/scans", `{"department": "NOWHERE"}`, nil, 404, nil},
		{"admin", "GET", "/api/v1/scans/{scan}", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/scans/S-404", "", nil, 404, nil},
		{"admin", "GET", "/api/v1/scans", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/departments/ORG-T/report", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/departments/ORG-T/report?format=csv", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/departments/ORG-T/report?format=csv&header=zh", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/departments/ORG-T/report?format=xml", "", nil, 400, nil},
		{"admin", "GET", "/api/v1/departments/NOWHERE/report", "", nil, 404, nil},

		{"admin", "GET", "/api/v1/policies", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/meeting.joint", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/no.such", "", nil, 404, nil},
		{"admin", "GET", "/api/v1/policies/meeting.joint/params", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/builtin", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/revisions", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/revisions/r1", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/revisions/r99", "", nil, 404, nil},
		{"admin", "POST", "/api/v1/policies/validate", `{"params": {"meeting.joint": {"max_gap_days": 40}}}`, nil, 200, nil},
		{"admin", "POST", "/api/v1/policies/validate", `{"files": {"duty/meeting/joint.rego": "package duty.meeting.joint\n\nthis is not rego"}}`, nil, 422, nil},
		{"admin", "POST", "/api/v1/policies/preview", `{"draft": {"params": {"meeting.joint": {"max_gap_days": 40}}}, "as_of": "2025-06-30"}`, nil, 200, nil},
		{"admin", "PUT", "/api/v1/policies/meeting.joint/params", `{"params": {"max_gap_days": 40}}`, nil, 428, nil},
		{"admin", "PUT", "/api/v1/policies/meeting.joint/params", `{"params": {"max_gap_days": 40}, "base": "r1"}`, nil, 201, nil},
		{"admin", "PUT", "/api/v1/policies/meeting.joint/params", `{"params": {"max_gap_days": 41}, "base": "r1"}`, nil, 409, nil},
		{"admin", "PUT", "/api/v1/policies/meeting.joint/params", `{"params": {}}`, map[string]string{"If-Match": `"r2"`}, 400, nil},
		{"admin", "PUT", "/api/v1/policies/meeting.joint", `{"base": "r2", "module": "package duty.meeting.joint\n\nthis is not rego"}`, nil, 422, nil},
		{"admin", "POST", "/api/v1/policies/revisions", `{"params": {"meeting.joint": {"max_gap_days": 42}}, "base": "r2"}`, nil, 201, nil},
		{"admin", "GET", "/api/v1/policies/diff?from=r1&to=r3", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/policies/diff?from=r1", "", nil, 400, nil},
		{"admin", "POST", "/api/v1/policies/revisions/r1/activate", `{"base": "r3", "message": "back"}`, nil, 201, nil},
		{"admin", "POST", "/api/v1/policies/builtin/adopt", `{"base": "r4"}`, nil, 422, nil},
		{"admin", "DELETE", "/api/v1/policies/meeting.joint?base=r4", "", nil, 201, nil},

		{"admin", "PUT", "/api/v1/users/dept", `{"role": "department", "department": "DIV-T", "display_name": "王小明"}`, nil, 200, nil},
		{"admin", "PUT", "/api/v1/users/dept", `{"role": "boss"}`, nil, 422, nil},
		{"admin", "PUT", "/api/v1/users/dept/password", `{"password": "长城永不倒 2026"}`, nil, 204, nil},
		{"admin", "PUT", "/api/v1/users/dept/password", `{"password": "short"}`, nil, 422, nil},
		{"admin", "PUT", "/api/v1/users/nobody/password", `{"password": "长城永不倒 2026"}`, nil, 404, nil},
		{"admin", "PUT", "/api/v1/users/dept/password", `{"pw": "x"}`, nil, 400, nil},
		{"admin", "POST", "/api/v1/users/dept/tokens", `{"name": "until", "expires_at": "2999-12-31T23:59:59+08:00"}`, nil, 201, nil},
		{"admin", "POST", "/api/v1/users/dept/tokens", `{"name": "past", "expires_at": "2000-01-01T00:00:00Z"}`, nil, 422, nil},
		{"admin", "POST", "/api/v1/users/dept/tokens", `{"name": "bad", "expires_at": "tomorrow"}`, nil, 422, nil},
		{"admin", "POST", "/api/v1/users/dept/tokens", `{"name": "tour"}`, nil, 201, map[string]string{"dept": "token", "token_id": "id"}},
		{"admin", "POST", "/api/v1/users/nobody/tokens", `{"name": "tour"}`, nil, 404, nil},
		{"admin", "GET", "/api/v1/users", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/tokens", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/audit?limit=5", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/audit?limit=0", "", nil, 400, nil},
		{"admin", "GET", "/api/v1/audit?actor=admin&action=user.password&record=dept&from=2000-01-01&to=2999-12-31&limit=1", "", nil, 200, nil},
		{"admin", "GET", "/api/v1/audit?from=yesterday", "", nil, 422, nil},
		{"dept", "GET", "/api/v1/me", "", nil, 200, nil},
		{"dept", "GET", "/api/v1/audit", "", nil, 403, nil},
		{"dept", "GET", "/metrics", "", nil, 403, nil},
		{"dept", "GET", "/api/v1/scans/{scan}", "", nil, 404, nil},
		{"dept", "POST", "/api/v1/scans", asOf, nil, 201, nil},
		{"dept", "DELETE", "/api/v1/collections/departments/ORG-T", "", nil, 404, nil},
		{"admin", "DELETE", "/api/v1/collections/departments/ORG-T", "", nil, 409, nil},
		{"admin", "DELETE", "/api/v1/collections/people/P-2", "", nil, 204, nil},
		{"admin", "DELETE", "/api/v1/tokens/{token_id}", "", nil, 204, nil},
		{"admin", "DELETE", "/api/v1/tokens/{token_id}x", "", nil, 404, nil},
		{"dept", "GET", "/api/v1/me", "", nil, 401, nil},
	}
	for i, s := range steps {
		status, body, raw := call(srv.URL, s.who, s.method, s.path, s.body, s.header)
		if status != s.status {
			t.Errorf("step %d: %s %s as %q: %d, want %d: %.400s", i, s.method, s.path, s.who, status, s.status, raw)
		}
		for v, f := range s.keep {
			if vars[v] = str(body, f); vars[v] == "" {
				t.Fatalf("step %d: %s %s: no %q in %.300s", i, s.method, s.path, f, raw)
			}
			if v == "dept" {
				tokens["dept"] = vars[v]
			}
		}
	}
	// Replace a policy's module by itself with a comment added: a change that passes the gate.
	_, list, _ := call(srv.URL, "admin", "GET", "/api/v1/policies", "", nil)
	pols, _ := list["policies"].([]any)
	if len(pols) == 0 {
		t.Fatalf("no policies: %v", list)
	}
	id := str(pols[0].(map[string]any)["metadata"].(map[string]any), "id")
	_, pol, _ := call(srv.URL, "admin", "GET", "/api/v1/policies/"+id, "", nil)
	body, _ := json.Marshal(map[string]any{"base": str(pol, "revision"), "module": str(pol, "module") + "\n# a comment\n", "message": "tour"})
	if status, _, raw := call(srv.URL, "admin", "PUT", "/api/v1/policies/"+id, string(body), nil); status != http.StatusCreated {
		t.Errorf("PUT /api/v1/policies/%s with its module and a comment: %d %.400s", id, status, raw)
	}
	if status, _, raw := call(small.URL, "admin", "PUT", "/api/v1/collections/departments", dept, nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d %.300s, want 413", status, raw)
	}

}
