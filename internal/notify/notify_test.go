package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/notify"
)

// memStore is an in-memory notify.Store; every recorded delivery is also sent on recorded.
type memStore struct {
	mu       sync.Mutex
	hooks    []duty.Webhook
	depts    []duty.Doc
	warned   map[string][]string
	all      []duty.Delivery
	recorded chan duty.Delivery
	// failHooks is how many Webhooks reads answer a store error.
	failHooks int
}

func newMemStore(hooks ...duty.Webhook) *memStore {
	return &memStore{hooks: hooks, warned: map[string][]string{}, recorded: make(chan duty.Delivery, 100), depts: []duty.Doc{
		{"id": "ORG", "name": "省人大机关", "kind": "organ"},
		{"id": "OFF", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
		{"id": "DIV", "name": "秘书处", "kind": "division", "parent_id": "OFF"},
		{"id": "RES", "name": "研究室", "kind": "office", "parent_id": "ORG"},
	}}
}

func (m *memStore) Webhooks(context.Context) ([]duty.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failHooks > 0 {
		m.failHooks--
		return nil, fmt.Errorf("read webhooks: connection refused: %w", duty.ErrUnavailable)
	}
	return append([]duty.Webhook(nil), m.hooks...), nil
}
func (m *memStore) Departments(context.Context) ([]duty.Doc, error) { return m.depts, nil }
func (m *memStore) AddDelivery(_ context.Context, d *duty.Delivery) error {
	m.mu.Lock()
	m.all = append(m.all, *d)
	m.mu.Unlock()
	m.recorded <- *d
	return nil
}
func (m *memStore) WarnedKeys(_ context.Context, scope string) (map[string]bool, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys, ok := m.warned[scope]
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out, ok, nil
}
func (m *memStore) SetWarnedKeys(_ context.Context, scope, _, _ string, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.warned[scope] = keys
	return nil
}

// next waits for the next recorded delivery attempt.
func (m *memStore) next(tb testing.TB) duty.Delivery {
	tb.Helper()
	select {
	case d := <-m.recorded:
		return d
	case <-time.After(30 * time.Second): // a bound on failure only
		tb.Fatal("no delivery recorded in 30 s")
	}
	return duty.Delivery{}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2025, 6, 30, 2, 0, 0, 0, time.UTC)

func viol(policy, severity, dept, subject, zh string) duty.Violation {
	return duty.Violation{Policy: policy, Severity: severity, Reason: "missing", Department: dept, Accountable: "leaders",
		Subject: duty.Ref{Collection: "people", ID: subject}, Details: map[string]any{}, Message: duty.Message{ZH: zh, EN: "en"}}
}

// report has a new high violation in DIV, a new medium one, a persisting high one, a new high
// one in RES and a warning in OFF.
func report(scanID string) (*duty.Scan, *duty.Report) {
	fresh := &duty.Seen{AsOf: "2025-06-30", ScanID: scanID}
	old := &duty.Seen{AsOf: "2025-05-31", ScanID: "S-OLD"}
	vs := []duty.Violation{
		viol("talk.pre_appointment", "high", "DIV", "P-1", "张三任前未谈话"),
		viol("archive.integrity_file", "medium", "DIV", "P-2", "李四一人一档缺失"),
		viol("letter.three_levels", "high", "DIV", "P-3", "王五责任书缺失"),
		viol("archive.major_matters", "high", "RES", "P-4", "赵六重大事项未报告"),
	}
	vs[0].FirstSeen, vs[1].FirstSeen, vs[2].FirstSeen, vs[3].FirstSeen = fresh, fresh, old, fresh
	w := duty.Warning{Violation: viol("suggestion.closeout", "medium", "OFF", "S-1", "工作建议书事项将逾期"), FailsOn: "2025-07-05"}
	rep := &duty.Report{ScanID: scanID, AsOf: "2025-06-30", Violations: vs, Warnings: []duty.Warning{w}}
	return &duty.Scan{ID: scanID, Status: duty.ScanDone, AsOf: "2025-06-30", Report: rep}, rep
}

// receiver is a loopback endpoint that records requests and answers with status(n) for the
// n-th request (1-based) and body.
type receiver struct {
	srv  *httptest.Server
	got  chan received
	mu   sync.Mutex
	n    int
	code func(n int) int
	body string
}

type received struct {
	header http.Header
	query  map[string]string
	body   []byte
}

func newReceiver(tb testing.TB, code func(n int) int, body string) *receiver {
	r := &receiver{got: make(chan received, 100), code: code, body: body}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, _ := io.ReadAll(req.Body)
		q := map[string]string{}
		for k := range req.URL.Query() {
			q[k] = req.URL.Query().Get(k)
		}
		r.mu.Lock()
		r.n++
		n := r.n
		r.mu.Unlock()
		r.got <- received{req.Header.Clone(), q, data}
		w.WriteHeader(r.code(n))
		_, _ = io.WriteString(w, r.body)
	}))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) next(tb testing.TB) received {
	tb.Helper()
	select {
	case x := <-r.got:
		return x
	case <-time.After(30 * time.Second):
		tb.Fatal("the receiver got nothing in 30 s")
	}
	return received{}
}

func ok200(int) int { return http.StatusOK }

func start(tb testing.TB, st *memStore, clk clock.Clock) *notify.Notifier {
	n := notify.New(notify.Config{Store: st, Clock: clk, Log: quiet, Attempts: 3, Backoff: 2 * time.Second,
		Title: func(p string) string { return map[string]string{"talk.pre_appointment": "任前廉政谈话"}[p] }})
	tb.Cleanup(func() { n.Shutdown(context.Background()) })
	return n
}

// TestGenericSigned: a generic webhook subscribed to the office gets one message holding the
// new high violation of the division under it and the office's warning, signed with its secret
// over the timestamp and the body; the medium, the persisting and the other office's
// violations are left out.
func TestGenericSigned(t *testing.T) {
	rcv := newReceiver(t, ok200, "")
	st := newMemStore(duty.Webhook{ID: "wh-1", Name: "ops", Kind: duty.WebhookGeneric, URL: rcv.srv.URL + "/hook", Secret: "s3cret", Departments: []string{"OFF"}})
	clk := clock.NewFake(t0)
	n := start(t, st, clk)
	sc, rep := report("S-1")
	n.AfterScan(context.Background(), sc, rep)

	got := rcv.next(t)
	ts := got.header.Get(notify.HeaderTimestamp)
	if ts != strconv.FormatInt(t0.Unix(), 10) {
		t.Errorf("timestamp %q, want %d", ts, t0.Unix())
	}
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(ts + "." + string(got.body)))
	if want := "sha256=" + fmtHex(mac.Sum(nil)); got.header.Get(notify.HeaderSignature) != want {
		t.Errorf("signature %q, want %q", got.header.Get(notify.HeaderSignature), want)
	}
	if err := notify.Verify("s3cret", ts, got.header.Get(notify.HeaderSignature), got.body, t0.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := notify.Verify("other", ts, got.header.Get(notify.HeaderSignature), got.body, t0, 5*time.Minute); err == nil {
		t.Error("Verify with another secret passed")
	}
	if err := notify.Verify("s3cret", ts, got.header.Get(notify.HeaderSignature), got.body, t0.Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("Verify an hour later passed")
	}
	var p notify.Payload
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range append(p.Violations, p.Warnings...) {
		ids = append(ids, it.Subject.ID+"@"+it.Department.Name+"@"+it.FailsOn)
	}
	if diff := cmp.Diff([]string{"P-1@秘书处@", "S-1@办公厅@2025-07-05"}, ids); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if p.Department != (notify.Dept{ID: "OFF", Name: "办公厅"}) || p.ScanID != "S-1" || p.AsOf != "2025-06-30" || p.Event != "dutycheck.scan" {
		t.Errorf("payload head %+v", p)
	}
	for _, want := range []string{"办公厅", "新增严重问题 1 项，进入预警期 1 项", "【任前廉政谈话】张三任前未谈话（秘书处）", "2025-07-05 起"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, p.Text)
		}
	}
	if strings.Contains(p.Text, "赵六") || strings.Contains(p.Text, "王五") || strings.Contains(p.Text, "李四") {
		t.Errorf("text has items it should not:\n%s", p.Text)
	}
	d := st.next(t)
	if d.Status != duty.DeliveryOK || d.Attempt != 1 || d.HTTPCode != 200 || d.WebhookID != "wh-1" || d.Violations != 1 || d.Warnings != 1 {
		t.Errorf("delivery %+v", d)
	}
}

func fmtHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestRobots: the DingTalk robot gets {"msgtype": "markdown", "markdown": {title, text}} on a
// URL signed with its secret (timestamp in ms and base64 HMAC of "timestamp\nsecret"); the WeCom
// robot gets {"msgtype": "markdown", "markdown": {content}}; each subscribed department subtree
// is a message of its own.
func TestRobots(t *testing.T) {
	ding := newReceiver(t, ok200, `{"errcode":0,"errmsg":"ok"}`)
	wecom := newReceiver(t, ok200, `{"errcode":0,"errmsg":"ok"}`)
	st := newMemStore(
		duty.Webhook{ID: "wh-d", Name: "ding", Kind: duty.WebhookDingTalk, URL: ding.srv.URL + "/robot/send?access_token=abc", Secret: "SECxyz", Departments: []string{"ORG"}},
		duty.Webhook{ID: "wh-w", Name: "wecom", Kind: duty.WebhookWeCom, URL: wecom.srv.URL + "/cgi-bin/webhook/send?key=k", Departments: []string{"DIV", "RES"}},
	)
	n := start(t, st, clock.NewFake(t0))
	sc, rep := report("S-1")
	n.AfterScan(context.Background(), sc, rep)

	got := ding.next(t)
	var dm struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(got.body, &dm); err != nil {
		t.Fatal(err)
	}
	if dm.MsgType != "markdown" || !strings.Contains(dm.Markdown.Title, "省人大机关") || !strings.Contains(dm.Markdown.Text, "赵六重大事项未报告（研究室）") ||
		!strings.Contains(dm.Markdown.Text, "张三任前未谈话") {
		t.Errorf("DingTalk body: %s", got.body)
	}
	ms := strconv.FormatInt(t0.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte("SECxyz"))
	mac.Write([]byte(ms + "\nSECxyz"))
	if got.query["access_token"] != "abc" || got.query["timestamp"] != ms || got.query["sign"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("DingTalk query %v", got.query)
	}

	contents := map[string]bool{}
	for range 2 {
		got := wecom.next(t)
		var wm struct {
			MsgType  string `json:"msgtype"`
			Markdown struct {
				Content string `json:"content"`
			} `json:"markdown"`
		}
		if err := json.Unmarshal(got.body, &wm); err != nil || wm.MsgType != "markdown" {
			t.Fatalf("WeCom body %s: %v", got.body, err)
		}
		contents[wm.Markdown.Content] = true
	}
	var divs, res int
	for c := range contents {
		switch {
		case strings.Contains(c, "### 履责检查提醒：秘书处") && strings.Contains(c, "张三") && !strings.Contains(c, "赵六"):
			divs++
		case strings.Contains(c, "### 履责检查提醒：研究室") && strings.Contains(c, "赵六") && !strings.Contains(c, "张三"):
			res++
		}
	}
	if divs != 1 || res != 1 {
		t.Errorf("WeCom messages, one per subtree, got %v", contents)
	}
}

// TestRetryBackoff: an endpoint answering 500 is tried again after 2 s and then 4 s; the third
// try succeeds, and every attempt is recorded. A robot's errcode counts as a failure, and a 4xx
// answer (but 408 and 429) is final.
func TestRetryBackoff(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}, "")
	st := newMemStore(duty.Webhook{ID: "wh-1", Name: "ops", Kind: duty.WebhookGeneric, URL: rcv.srv.URL, Secret: "x", Departments: []string{"ORG"}})
	clk := clock.NewFake(t0)
	n := start(t, st, clk)
	sc, rep := report("S-1")
	n.AfterScan(ctx, sc, rep)
	for i, wait := range []time.Duration{2 * time.Second, 4 * time.Second} {
		rcv.next(t)
		if d := st.next(t); d.Status != duty.DeliveryFailed || d.HTTPCode != 500 || d.Attempt != i+1 {
			t.Fatalf("attempt %d: %+v", i+1, d)
		}
		if err := clk.WaitSleepers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := clk.Sleeping(); len(got) != 1 || got[0] != wait {
			t.Fatalf("backoff before attempt %d: %v, want %v", i+2, got, wait)
		}
		clk.Advance(wait)
	}
	rcv.next(t)
	if d := st.next(t); d.Status != duty.DeliveryOK || d.Attempt != 3 {
		t.Errorf("third attempt %+v", d)
	}

	// Final answers: a 400 is not tried again; a robot's errcode is tried until Attempts.
	for _, tc := range []struct {
		note     string
		kind     string
		code     int
		body     string
		attempts int
	}{
		{"400 is final", duty.WebhookGeneric, 400, "bad", 1},
		{"errcode retried", duty.WebhookWeCom, 200, `{"errcode":93000,"errmsg":"invalid webhook url"}`, 3},
	} {
		t.Run(tc.note, func(t *testing.T) {
			rcv := newReceiver(t, func(int) int { return tc.code }, tc.body)
			st := newMemStore(duty.Webhook{ID: "wh-1", Name: "x", Kind: tc.kind, URL: rcv.srv.URL, Secret: "x", Departments: []string{"ORG"}})
			clk := clock.NewFake(t0)
			n := start(t, st, clk)
			sc, rep := report("S-2")
			n.AfterScan(ctx, sc, rep)
			for a := 1; a <= tc.attempts; a++ {
				d := st.next(t)
				want := duty.DeliveryFailed
				if a == tc.attempts {
					want = duty.DeliveryGaveUp
				}
				if d.Status != want || d.Attempt != a {
					t.Fatalf("attempt %d: %+v, want status %s", a, d, want)
				}
				if a < tc.attempts {
					if err := clk.WaitSleepers(ctx, 1); err != nil {
						t.Fatal(err)
					}
					clk.Advance(time.Hour)
				}
			}
			n.Shutdown(ctx)
			if len(rcv.got) != tc.attempts || len(st.recorded) != 0 {
				t.Errorf("%d requests and %d more records, want %d requests and none", len(rcv.got), len(st.recorded), tc.attempts)
			}
		})
	}
}

// TestWarningsEnterOnce: a warning already notified for the scope is not sent again by the
// next scan; a new one is, alone; a warning of another scope's scan counts for that scope.
func TestWarningsEnterOnce(t *testing.T) {
	rcv := newReceiver(t, ok200, "")
	st := newMemStore(duty.Webhook{ID: "wh-1", Name: "ops", Kind: duty.WebhookGeneric, URL: rcv.srv.URL, Secret: "x", Departments: []string{"ORG"}})
	n := start(t, st, clock.NewFake(t0))
	sc, rep := report("S-1")
	n.AfterScan(context.Background(), sc, rep)
	rcv.next(t)
	st.next(t)

	// The second scan: nothing new but one more warning.
	sc2, rep2 := report("S-2")
	rep2.Violations = rep.Violations // first seen in S-1: not new
	extra := duty.Warning{Violation: viol("branch.discipline_member", "low", "RES", "B-1", "支部纪检委员即将离任"), FailsOn: "2025-07-01"}
	rep2.Warnings = append([]duty.Warning{extra}, rep2.Warnings...)
	n.AfterScan(context.Background(), sc2, rep2)
	var p notify.Payload
	if err := json.Unmarshal(rcv.next(t).body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Violations) != 0 || len(p.Warnings) != 1 || p.Warnings[0].Subject.ID != "B-1" || p.ScanID != "S-2" {
		t.Errorf("second message: %+v", p)
	}
	st.next(t)

	// A third identical scan sends nothing; a department scan is a scope of its own.
	sc3, rep3 := report("S-3")
	rep3.Violations, rep3.Warnings = rep.Violations, rep2.Warnings
	n.AfterScan(context.Background(), sc3, rep3)
	sc4, rep4 := report("S-4")
	sc4.Department = "OFF"
	rep4.Violations = nil
	n.AfterScan(context.Background(), sc4, rep4)
	if err := json.Unmarshal(rcv.next(t).body, &p); err != nil {
		t.Fatal(err)
	}
	if p.ScanID != "S-4" || len(p.Warnings) != 1 || p.Warnings[0].Subject.ID != "S-1" {
		t.Errorf("after an unchanged scan, the next message is %+v, want S-4's warning", p)
	}
}

// TestHangingEndpoint: AfterScan returns while an endpoint hangs; the messages for a healthy
// endpoint still go out beside it; Shutdown with an ended context cancels the hanging request
// and records it abandoned.
func TestHangingEndpoint(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	rcv := newReceiver(t, ok200, "")
	st := newMemStore(
		duty.Webhook{ID: "wh-hang", Name: "hang", Kind: duty.WebhookGeneric, URL: hang.URL, Secret: "x", Departments: []string{"ORG"}},
		duty.Webhook{ID: "wh-ok", Name: "ok", Kind: duty.WebhookGeneric, URL: rcv.srv.URL, Secret: "x", Departments: []string{"ORG"}},
	)
	n := notify.New(notify.Config{Store: st, Clock: clock.NewFake(t0), Log: quiet, Timeout: time.Hour})
	sc, rep := report("S-1")
	n.AfterScan(context.Background(), sc, rep) // returns at once: the test would hang here otherwise
	<-entered
	rcv.next(t)
	if d := st.next(t); d.WebhookID != "wh-ok" || d.Status != duty.DeliveryOK {
		t.Errorf("healthy endpoint: %+v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Shutdown(ctx)
	if d := st.next(t); d.WebhookID != "wh-hang" || d.Status != duty.DeliveryAbandoned {
		t.Errorf("hanging endpoint after shutdown: %+v", d)
	}
	n.AfterScan(context.Background(), sc, rep) // after shutdown: dropped, no panic
}

// TestMarkdownEscapes: record text cannot inject markdown into a robot message, and WeCom's
// 4096-byte limit is kept.
func TestMarkdownEscapes(t *testing.T) {
	p := &notify.Payload{ScanID: "S", AsOf: "2025-06-30", Department: notify.Dept{Name: "[办公厅](http://evil)"}}
	for i := range 200 {
		p.Violations = append(p.Violations, notify.Item{PolicyTitle: "任前廉政谈话", Message: strings.Repeat("很长的说明", 5) + strconv.Itoa(i), Department: notify.Dept{Name: "**秘书处**"}})
	}
	title, text := notify.Markdown(p)
	if strings.Contains(text, "[办公厅](") || strings.Contains(text, "（**秘书处**）") || !strings.Contains(title, "新增严重问题 200 项") {
		t.Errorf("not escaped: %s", text[:300])
	}
	p.Title, p.Text = title, text
	body, _, err := notify.Request(duty.Webhook{Kind: duty.WebhookWeCom, URL: "http://x"}, p, t0)
	if err != nil {
		t.Fatal(err)
	}
	var wm struct {
		Markdown struct{ Content string } `json:"markdown"`
	}
	if err := json.Unmarshal(body, &wm); err != nil {
		t.Fatal(err)
	}
	if n := len(wm.Markdown.Content); n > 4096 || n < 3000 || !strings.HasSuffix(wm.Markdown.Content, "其余从略，请在 dutycheck 中查看。）") {
		t.Errorf("WeCom content %d bytes, ends %q", n, wm.Markdown.Content[max(0, n-80):])
	}
}

// TestStoreErrorWhilePlanning: a store error while a finished scan's messages are planned (the
// webhooks cannot be read) is tried again after the backoff, and the scan's new violation and
// warning go out. Before, the plan was dropped with a log line after the warnings had been
// marked notified: the scan's messages were lost, and its warnings never sent by later scans.
func TestStoreErrorWhilePlanning(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t, ok200, "")
	st := newMemStore(duty.Webhook{ID: "wh-1", Name: "ops", Kind: duty.WebhookGeneric, URL: rcv.srv.URL, Secret: "x", Departments: []string{"ORG"}})
	st.failHooks = 1
	clk := clock.NewFake(t0)
	n := start(t, st, clk)
	sc, rep := report("S-1")
	n.AfterScan(ctx, sc, rep)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second) // a bound on failure only
	defer cancel()
	if err := clk.WaitSleepers(wctx, 1); err != nil {
		t.Fatalf("no retry after the store error: %v", err)
	}
	if got := clk.Sleeping(); len(got) != 1 || got[0] != 2*time.Second {
		t.Errorf("wait before planning again: %v, want 2s", got)
	}
	clk.Advance(2 * time.Second)
	var p notify.Payload
	if err := json.Unmarshal(rcv.next(t).body, &p); err != nil {
		t.Fatal(err)
	}
	if p.ScanID != "S-1" || len(p.Violations) != 2 || len(p.Warnings) != 1 {
		t.Errorf("message after the retry: %d violations, %d warnings of %s; want S-1's 2 new high violations and its warning", len(p.Violations), len(p.Warnings), p.ScanID)
	}
	if d := st.next(t); d.Status != duty.DeliveryOK {
		t.Errorf("delivery %+v", d)
	}
}
