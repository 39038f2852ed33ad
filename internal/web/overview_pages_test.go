package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
	"github.com/dutycheck/dutycheck/internal/web"
)

// The overview shows the organs a page at a time (Config.OrgansPerPage): every organ on
// exactly one page, in order, with links to the pages before and after; a page past the last
// shows the last.
func TestOverviewPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	ds := gen.Generate(gen.Options{Organs: 3, Seed: 1, Year: 2025, ViolationRate: 0.05})
	if _, err := st.PutMany(ctx, duty.System("test"), duty.RawDocs(ds)); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := live.New(ctx, live.Config{Store: st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	scans := scan.NewService(scan.ServiceConfig{Store: st, Engine: mgr.Engine, Log: quiet})
	defer scans.Shutdown(ctx)
	if _, err := scans.Start(ctx, scan.Request{AsOf: "2025-12-31"}, true); err != nil {
		t.Fatal(err)
	}
	if err := st.PutUser(ctx, "test", duty.User{Name: "admin", Role: duty.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	tk, _, err := st.CreateToken(ctx, "test", "admin", "test")
	if err != nil {
		t.Fatal(err)
	}
	session, err := st.CreateSession(ctx, duty.Principal{User: "admin", Token: tk.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pages := web.New(web.Config{Log: quiet, OrgansPerPage: 2}, web.Deps{Store: st, Scans: scans, Policies: mgr})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Scans: scans, Policies: mgr, Pages: pages}))
	defer srv.Close()
	get := func(path string) string {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: session})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	organ := regexp.MustCompile(`<section class="card organ" aria-labelledby="organ-([^"]+)"`)
	organsOf := func(body string) []string {
		var out []string
		for _, m := range organ.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	first, second := get("/"), get("/?page=2")
	got := append(organsOf(first), organsOf(second)...)
	tree, err := st.Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := tree.Organs()
	if len(organsOf(first)) != 2 || !slices.Equal(got, want) {
		t.Errorf("organs on pages 1 and 2: %v, want %v, two on the first", got, want)
	}
	for _, c := range []struct {
		body       string
		prev, next bool
	}{{first, false, true}, {second, true, false}} {
		if hasPrev, hasNext := regexp.MustCompile(`id="page-prev" href="/\?page=1"`).MatchString(c.body), regexp.MustCompile(`id="page-next" href="/\?page=2"`).MatchString(c.body); hasPrev != c.prev || hasNext != c.next {
			t.Errorf("links: prev %v next %v, want %v %v", hasPrev, hasNext, c.prev, c.next)
		}
	}
	if last := organsOf(get("/?page=99")); !slices.Equal(last, organsOf(second)) {
		t.Errorf("a page past the last shows %v, want the last page's %v", last, organsOf(second))
	}
}
