package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
	"github.com/dutycheck/dutycheck/internal/web"
)

// TestScanFormOnAnEmptyStore: the scan form on a store without a department answers 409 with
// the form again and, in Chinese, why nothing was scanned and what to do, rather than an error
// page (the scan service refuses a scan that would check nothing).
func TestScanFormOnAnEmptyStore(t *testing.T) {
	st := storetest.Open(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := builtinManager(t, st, quiet)
	scans := scan.NewService(scan.ServiceConfig{Store: st, Engine: mgr.Engine, Log: quiet})
	e := &env{tb: t, st: st, scans: scans, tokens: map[string]string{}, sessions: map[string]string{}}
	e.signIn(st, users[:1])
	e.pages = web.New(web.Config{Today: func() string { return "2025-12-31" }, Log: quiet}, web.Deps{Store: st, Scans: scans, Policies: mgr})
	e.srv = httptest.NewServer(httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Scans: scans, Policies: mgr, Pages: e.pages}))
	t.Cleanup(func() {
		e.srv.Close()
		scans.Shutdown(context.Background())
	})
	r := e.post("admin", "/scans", url.Values{"as_of": {"2025-12-31"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "还没有任何部门") || !strings.Contains(r.body, `name="as_of"`) {
		t.Errorf("scan form on an empty store: %d %.600s; want 409, the form and why", r.status, r.body)
	}
}
