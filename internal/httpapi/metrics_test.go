package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/metrics"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// TestMetrics: /metrics answers admins and inspectors, not department users or anonymous
// clients, in the Prometheus text format, with the scans, their violations by policy and
// severity, and the requests by route pattern (not by path, so ids cannot grow the label set).
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newStoreAuthEnv(t)
	ctx := context.Background()
	raw := map[string][]duty.RawDoc{
		"departments": {{Value: map[string]any{"id": "ORG-M", "name": "机关", "kind": "organ"}},
			{Value: map[string]any{"id": "ORG-M-D", "name": "处", "kind": "division", "parent_id": "ORG-M"}}},
		"people": {{Value: map[string]any{"id": "P-1", "name": "张三", "department_id": "ORG-M", "rank": "bureau",
			"roles": []any{"party_group_secretary"}, "active": true}}},
	}
	if _, err := e.st.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutUser(ctx, "test", duty.User{Name: "dept", Role: duty.RoleDepartment, Department: "ORG-M-D"}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := e.st.CreateToken(ctx, "test", "dept", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["dept"] = tok
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := live.New(ctx, live.Config{Store: e.st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	scans := scan.NewService(scan.ServiceConfig{Store: e.st, Engine: mgr.Engine, Log: quiet, Observe: m.Scan})
	t.Cleanup(func() { scans.Shutdown(context.Background()) })
	e.srv.Close()
	e.srv = httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: e.st, Scans: scans, Policies: mgr, Metrics: m})))
	t.Cleanup(e.srv.Close)

	if r := e.bearer("admin", "POST", "/api/v1/scans", `{"as_of":"2025-12-31"}`); r.status != http.StatusCreated {
		t.Fatalf("scan: %d %.300s", r.status, r.body)
	}
	for _, id := range []string{"P-1", "P-404"} {
		e.bearer("admin", "GET", "/api/v1/collections/people/"+id, "")
	}
	if r := e.send("GET", "/metrics", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous /metrics: %d, want 401", r.status)
	}
	if r := e.bearer("dept", "GET", "/metrics", ""); r.status != http.StatusForbidden {
		t.Errorf("department user's /metrics: %d, want 403", r.status)
	}
	r := e.bearer("inspector", "GET", "/metrics", "")
	if r.status != http.StatusOK {
		t.Fatalf("inspector's /metrics: %d %.300s", r.status, r.body)
	}
	for _, want := range []string{
		`dutycheck_scans_total{scope="all",status="done"} 1`,
		`dutycheck_http_requests_total{method="GET",route="/api/v1/collections/:collection/:id",status="200"} 1`,
		`dutycheck_http_requests_total{method="GET",route="/api/v1/collections/:collection/:id",status="404"} 1`,
		`dutycheck_http_requests_total{method="POST",route="/api/v1/scans",status="201"} 1`,
		`dutycheck_http_request_duration_seconds_bucket{method="POST",route="/api/v1/scans",le="+Inf"} 1`,
		`dutycheck_organs_evaluated_total 1`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The secretary without letters, record book or lists: high violations of letters at least.
	if !regexp.MustCompile(`dutycheck_violations\{policy="[a-z_.]+",severity="(high|medium|low)"\} [1-9]`).MatchString(r.body) {
		t.Errorf("no violation gauge in:\n%s", grepLines(r.body, "dutycheck_violations"))
	}
	if strings.Contains(r.body, "P-404") {
		t.Errorf("a path reached a label")
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
