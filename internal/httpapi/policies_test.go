package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/web"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// service is the API and the pages over the in-memory fake of the store (the policies' tests
// are about the gate, the bases and the pages, not the store: the store's revisions are
// compared with the fake's in internal/duty/dutytest), with an admin's token and session.
type service struct {
	tb      testing.TB
	st      *dutytest.Store
	srv     *httptest.Server
	token   string
	session string
}

func newService(tb testing.TB, st *dutytest.Store, builtin *policy.Bundle) *service {
	tb.Helper()
	ctx := context.Background()
	m, err := live.New(ctx, live.Config{Store: st, Builtin: builtin, Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	s := &service{tb: tb, st: st}
	if err := st.PutUser(ctx, "test", duty.User{Name: "admin", Role: duty.RoleAdmin}); err != nil {
		tb.Fatal(err)
	}
	tk, tok, err := st.CreateToken(ctx, "test", "admin", "test")
	if err != nil {
		tb.Fatal(err)
	}
	s.token = tok
	if s.session, err = st.CreateSession(ctx, duty.Principal{User: "admin", Token: tk.ID}, time.Hour); err != nil {
		tb.Fatal(err)
	}
	scans := dutytest.NewRunner(st, 1)
	pages := web.New(web.Config{Log: quiet}, web.Deps{Store: st, Scans: scans, Policies: m})
	s.srv = httptest.NewServer(validated(tb, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: st, Scans: scans, Policies: m, Pages: pages})))
	tb.Cleanup(s.srv.Close)
	return s
}

type polAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (s *service) call(method, path string, header map[string]string, body string) polAnswer {
	s.tb.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := polAnswer{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	_ = json.Unmarshal(data, &a.body)
	return a
}

// field digs a string out of a JSON polAnswer: field(a, "error", "code").
func field(a polAnswer, keys ...string) string {
	var cur any = a.body
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// Every change through the API names its base; a stale one is refused with 409 and the
// revision in force, a missing one with 428.
func TestPolicyChangesNeedTheirBase(t *testing.T) {
	t.Parallel()
	s := newService(t, dutytest.NewStore(dutytest.Config{}), policy.Builtin())
	const params = "/api/v1/policies/meeting.joint/params"
	for _, tc := range []struct {
		note         string
		method, path string
		header       map[string]string
		body         string
		status       int
		code         string // error code, or the new revision
		inForce      string
	}{
		{"no base", "PUT", params, nil, `{"params":{"max_gap_days":40}}`, 428, "base_required", "r1"},
		{"If-Match", "PUT", params, map[string]string{"If-Match": `"r1"`}, `{"params":{"max_gap_days":40}}`, 201, "r2", "r2"},
		{"stale body base", "PUT", params, nil, `{"params":{"max_gap_days":41},"base":"r1"}`, 409, "stale_base", "r2"},
		{"stale If-Match", "PUT", params, map[string]string{"If-Match": `W/"r1"`}, `{"params":{"max_gap_days":41}}`, 409, "stale_base", "r2"},
		{"two different bases", "PUT", params, map[string]string{"If-Match": `"r1"`}, `{"params":{"max_gap_days":41},"base":"r2"}`, 400, "bad_request", "r2"},
		{"If-Match any", "PUT", params, map[string]string{"If-Match": `*`}, `{"params":{"max_gap_days":41}}`, 400, "bad_request", "r2"},
		{"delete on a stale base", "DELETE", "/api/v1/policies/meeting.joint?base=r1", nil, "", 409, "stale_base", "r2"},
		{"module without base", "PUT", "/api/v1/policies/meeting.joint", nil, `{"module":"package duty.meeting.joint\n"}`, 428, "base_required", "r2"},
		{"rollback without base", "POST", "/api/v1/policies/revisions/r1/activate", nil, "", 428, "base_required", "r2"},
		{"rollback on a stale base", "POST", "/api/v1/policies/revisions/r1/activate", nil, `{"base":"r1"}`, 409, "stale_base", "r2"},
		{"rollback", "POST", "/api/v1/policies/revisions/r1/activate", nil, `{"base":"r2","message":"back"}`, 201, "r3", "r3"},
		{"draft without base", "POST", "/api/v1/policies/revisions", nil, `{"params":{"meeting.joint":{"max_gap_days":42}}}`, 428, "base_required", "r3"},
		{"draft", "POST", "/api/v1/policies/revisions", nil, `{"params":{"meeting.joint":{"max_gap_days":42}},"base":"r3"}`, 201, "r4", "r4"},
		{"adopt with nothing to adopt", "POST", "/api/v1/policies/builtin/adopt", nil, `{"base":"r4"}`, 422, "invalid", "r4"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			a := s.call(tc.method, tc.path, tc.header, tc.body)
			got := field(a, "error", "code")
			if a.status/100 == 2 {
				got = field(a, "revision", "id")
				if a.header.Get("ETag") != `"`+got+`"` {
					t.Errorf("ETag %q, want the new revision %q", a.header.Get("ETag"), got)
				}
			}
			if a.status != tc.status || got != tc.code {
				t.Errorf("%d %s, want %d %s: %s", a.status, got, tc.status, tc.code, a.raw)
			}
			if tc.code == "stale_base" && field(a, "error", "current") != tc.inForce {
				t.Errorf("a stale change is told %q is in force, want %s: %s", field(a, "error", "current"), tc.inForce, a.raw)
			}
			l := s.call("GET", "/api/v1/policies", nil, "")
			if field(l, "revision") != tc.inForce || l.header.Get("ETag") != `"`+tc.inForce+`"` {
				t.Errorf("in force %s (ETag %s), want %s", field(l, "revision"), l.header.Get("ETag"), tc.inForce)
			}
		})
	}
	r3 := s.call("GET", "/api/v1/policies/revisions/r3", nil, "")
	if field(r3, "restored_from") != "r1" || field(r3, "parent") != "r2" || field(r3, "author") != "admin" || field(r3, "source") != "api" {
		t.Errorf("the rollback's revision: %s", r3.raw[:min(len(r3.raw), 300)])
	}

	// Concurrent changes on the same base: exactly one 201, the others 409.
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"params": map[string]any{"max_gap_days": 50 + i}, "base": "r4"})
			statuses[i] = s.call("PUT", params, nil, string(body)).status
		}()
	}
	wg.Wait()
	won := 0
	for _, st := range statuses {
		switch st {
		case 201:
			won++
		case 409:
		default:
			t.Errorf("a concurrent change answered %d", st)
		}
	}
	if won != 1 {
		t.Errorf("concurrent changes on one base: statuses %v, want exactly one 201", statuses)
	}
}

func builtinV2() *policy.Bundle {
	b := policy.Builtin().Clone()
	b.Files["duty/meeting/joint.rego"] += "\n# a newer release\n"
	return b
}

var csrfField = regexp.MustCompile(`name="` + httpapi.CSRFField + `" value="([0-9a-f]+)"`)

func (s *service) page(method, path string, form url.Values) (int, string, string) {
	s.tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: s.session})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), buf.String()
}

// A newer binary on a store seeded by an older one: /readyz (still ready), the API and the pages
// say so; an admin adopts it on the revision in force, through the API or the page.
func TestBuiltinDrift(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"api", "page"} {
		t.Run(via, func(t *testing.T) {
			st := dutytest.NewStore(dutytest.Config{})
			newService(t, st, policy.Builtin()) // the older binary seeds the store
			s := newService(t, st, builtinV2())
			v2 := builtinV2().Revision()

			r := s.call("GET", "/readyz", nil, "")
			checks, _ := r.body["checks"].(map[string]any)
			pol, _ := checks["policies"].(map[string]any)
			drift, _ := pol["builtin_drift"].(map[string]any)
			if r.status != 200 || r.body["ready"] != true || drift["builtin"] != v2 || drift["recorded"] != policy.Builtin().Revision() {
				t.Errorf("/readyz: %d %s; want ready with the drift", r.status, r.raw)
			}
			b := s.call("GET", "/api/v1/policies/builtin", nil, "")
			if !strings.Contains(b.raw, `"changes":[{"path":"duty/meeting/joint.rego","status":"changed"}]`) {
				t.Errorf("GET /policies/builtin: %s", b.raw)
			}
			status, _, body := s.page("GET", "/policies", nil)
			if status != 200 || !strings.Contains(body, `id="builtin-drift"`) || !strings.Contains(body, "本程序内置的检查规则") || !strings.Contains(body, `id="adopt"`) {
				t.Errorf("/policies shows no drift banner with an adopt button: %d", status)
			}
			if _, _, p := s.page("GET", "/policies/meeting.joint", nil); !strings.Contains(p, `id="builtin-drift"`) {
				t.Errorf("the policy page shows no drift banner")
			}
			switch via {
			case "api":
				if a := s.call("POST", "/api/v1/policies/builtin/adopt", nil, ""); a.status != 428 {
					t.Errorf("adopt without base: %d", a.status)
				}
				a := s.call("POST", "/api/v1/policies/builtin/adopt", nil, `{"base":"r1"}`)
				if a.status != 201 || field(a, "revision", "id") != "r2" || field(a, "revision", "builtin_hash") != v2 {
					t.Fatalf("adopt: %d %s", a.status, a.raw)
				}
			case "page":
				csrf := csrfField.FindStringSubmatch(body)[1]
				if st, _, p := s.page("POST", "/policies/builtin/adopt", url.Values{httpapi.CSRFField: {csrf}, "base": {"r0"}}); st != 409 || !strings.Contains(p, "规则已被他人修改") {
					t.Errorf("adopt on a stale base: %d", st)
				}
				st, loc, _ := s.page("POST", "/policies/builtin/adopt", url.Values{httpapi.CSRFField: {csrf}, "base": {"r1"}})
				if st != http.StatusSeeOther || loc != "/policies?adopted=r2" {
					t.Fatalf("adopt: %d %s", st, loc)
				}
			}
			r = s.call("GET", "/readyz", nil, "")
			if strings.Contains(r.raw, "builtin_drift") {
				t.Errorf("/readyz after the adoption: %s", r.raw)
			}
			if _, _, p := s.page("GET", "/policies?adopted=r2", nil); strings.Contains(p, `id="builtin-drift"`) || !strings.Contains(p, `id="adopted"`) {
				t.Errorf("/policies after the adoption still shows the drift or not the adoption")
			}
		})
	}
}

// The drift banner of every policy page lists the files adopting the built-in bundle changes.
func TestDriftBannerListsTheFiles(t *testing.T) {
	t.Parallel()
	st := dutytest.NewStore(dutytest.Config{})
	newService(t, st, policy.Builtin())
	s := newService(t, st, builtinV2())
	for _, path := range []string{"/policies", "/policies/meeting.joint", "/policies/revisions"} {
		if _, _, p := s.page("GET", path, nil); !strings.Contains(p, `<li><code>duty/meeting/joint.rego</code> 修改</li>`) {
			t.Errorf("%s: the drift banner does not list the changed file", path)
		}
	}
}
