package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/web"
)

// TestScanCap: with one scan slot taken, another scan is refused at once with 429 and
// Retry-After, on the API and on the page; when the scan ends the slot is free again. The first
// scan is held inside the service (its engine lookup waits for the test), not by a clock.
func TestScanCap(t *testing.T) {
	t.Parallel()
	e := newStoreAuthEnv(t)
	ctx := context.Background()
	raw := map[string][]duty.RawDoc{"departments": {{Value: map[string]any{"id": "ORG-X", "name": "机关", "kind": "organ"}}}}
	if _, err := e.st.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := live.New(ctx, live.Config{Store: e.st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	entered, hold := make(chan struct{}), make(chan struct{})
	var once sync.Once
	engine := func() *policy.Engine {
		once.Do(func() { close(entered); <-hold })
		return mgr.Engine()
	}
	scans := scan.NewService(scan.ServiceConfig{Store: e.st, Engine: engine, Log: quiet, MaxScans: 1})
	t.Cleanup(func() { scans.Shutdown(context.Background()) })
	limiter := ratelimit.New(10, time.Minute)
	pages := web.New(web.Config{Log: quiet}, web.Deps{Store: e.st, Scans: scans, Policies: mgr, Limiter: limiter})
	e.srv.Close()
	e.srv = httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: e.st, Scans: scans, Policies: mgr, Pages: pages, Limiter: limiter})))
	t.Cleanup(e.srv.Close)
	sess := e.session("admin")
	csrf := e.csrf(sess)

	first := make(chan answer, 1)
	go func() { first <- e.bearer("admin", "POST", "/api/v1/scans", `{"as_of": "2025-06-30"}`) }()
	<-entered

	r := e.bearer("admin", "POST", "/api/v1/scans", `{"as_of": "2025-06-30", "wait": false}`)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "scans are running") {
		t.Errorf("API, second scan: %d Retry-After %q %s; want 429 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	form := url.Values{httpapi.CSRFField: {csrf}, "as_of": {"2025-06-30"}}
	r = e.send("POST", "/scans", strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, sess)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "同时进行的检查已达上限") {
		t.Errorf("page, second scan: %d Retry-After %q; want 429 with a Chinese message: %.400s", r.status, r.header.Get("Retry-After"), r.body)
	}

	// A preview evaluates its scope twice, like a scan: it takes a scan slot too (twelve
	// concurrent previews of 20 organs grew a service from 111 to 864 MB).
	preview := `{"draft": {"params": {"talk.pre_appointment": {"max_days_before": 30}}}, "as_of": "2025-06-30"}`
	r = e.bearer("admin", "POST", "/api/v1/policies/preview", preview)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "scans are running") {
		t.Errorf("API, a preview while the scan slot is taken: %d Retry-After %q %s; want 429 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	form = url.Values{httpapi.CSRFField: {csrf}, "action": {"preview"}, "max_days_before": {"30"}}
	r = e.send("POST", "/policies/talk.pre_appointment/params", strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, sess)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "同时进行的检查已达上限") {
		t.Errorf("page, a preview while the scan slot is taken: %d; want 429 with a Chinese message: %.400s", r.status, r.body)
	}

	close(hold)
	if r := <-first; r.status != http.StatusCreated {
		t.Fatalf("first scan: %d %s", r.status, r.body)
	}
	if r := e.bearer("admin", "POST", "/api/v1/scans", `{"as_of": "2025-06-30"}`); r.status != http.StatusCreated {
		t.Errorf("a scan after the first ended: %d %s, want 201", r.status, r.body)
	}
	if r := e.bearer("admin", "POST", "/api/v1/policies/preview", preview); r.status != http.StatusOK {
		t.Errorf("a preview after the scans ended: %d %s, want 200", r.status, r.body)
	}
}
