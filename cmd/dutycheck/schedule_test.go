package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/notify"
)

// TestScheduledScanNotifies drives `serve --schedule 02:00 --tz Asia/Shanghai` on the embedded
// store with the sample organ and a fake clock: an admin subscribes a generic webhook (a
// loopback receiver) to the organ; when the clock reaches 02:00 in Shanghai the service scans
// everything as of that day and the receiver gets one signed message in Chinese with the new
// high-severity violations; the delivery is visible through the API and on the admin page.
func TestScheduledScanNotifies(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer rcv.Close()

	clk := clock.NewFake(time.Date(2025, 6, 30, 1, 0, 0, 0, loc))
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	cfg := serveConfig{Addr: "127.0.0.1:0", LoadDir: filepath.Join("..", "..", "fixtures", "sample"),
		Store: testStoreConfig(t, t.TempDir()), AdminToken: testAdminToken, Schedule: "02:00", TimeZone: "Asia/Shanghai", Clock: clk}
	go func() { done <- serve(ctx, cfg, newLogger(io.Discard, slog.LevelError), ready) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(120 * time.Second):
		t.Fatal("serve did not start")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()
	c := client{tb: t, base: base}
	status, body := c.do("POST", "/api/v1/webhooks", []byte(`{"name": "inspection-office", "kind": "generic", "url": "`+rcv.URL+`/in", "departments": ["ORG-1"]}`))
	if status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	var created struct {
		Webhook duty.Webhook `json:"webhook"`
		Secret  string       `json:"secret"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}

	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second) // a bound on failure only
	defer wcancel()
	if err := clk.WaitSleepers(wctx, 1); err != nil {
		t.Fatal("the scheduler is not waiting:", err)
	}
	clk.Set(time.Date(2025, 6, 30, 2, 0, 0, 0, loc))

	var req *http.Request
	var payload []byte
	select {
	case req = <-got:
		payload = <-bodies
	case <-time.After(300 * time.Second): // a bound on failure only
		t.Fatal("the webhook got no message")
	}
	if err := notify.Verify(created.Secret, req.Header.Get(notify.HeaderTimestamp), req.Header.Get(notify.HeaderSignature), payload, clk.Now(), 5*time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
	var p notify.Payload
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.AsOf != "2025-06-30" || p.Department.Name != "浙江省人大常委会机关" || len(p.Violations) == 0 {
		t.Errorf("payload as of %s for %+v with %d violations", p.AsOf, p.Department, len(p.Violations))
	}
	for _, it := range p.Violations {
		if it.Severity != "high" || it.PolicyTitle == it.Policy || it.Department.Name == it.Department.ID {
			t.Errorf("item %+v: want high severity with the policy's title and the department's name", it)
			break
		}
	}
	if !strings.Contains(p.Text, "新增严重问题") || !strings.Contains(p.Text, "检查日期：2025-06-30") {
		t.Errorf("text:\n%s", p.Text)
	}
	status, body = c.do("GET", "/api/v1/scans/"+p.ScanID, nil)
	if status != 200 || !bytes.Contains(body, []byte(`"as_of":"2025-06-30"`)) {
		t.Errorf("the scheduled scan: %d %.200s", status, body)
	}

	// The delivery is recorded once the worker has written it; poll the API on the fake
	// clock's terms (no wall-clock sleep: each request takes its own time).
	var ds struct {
		Deliveries []duty.Delivery `json:"deliveries"`
	}
	for i := 0; i < 1000 && len(ds.Deliveries) == 0; i++ {
		status, body = c.do("GET", "/api/v1/webhooks/"+created.Webhook.ID+"/deliveries", nil)
		if status != 200 || json.Unmarshal(body, &ds) != nil {
			t.Fatalf("deliveries: %d %s", status, body)
		}
	}
	if len(ds.Deliveries) != 1 || ds.Deliveries[0].Status != duty.DeliveryOK || ds.Deliveries[0].ScanID != p.ScanID {
		t.Errorf("deliveries %+v", ds.Deliveries)
	}
}

// TestServeScheduleFlags: a bad --schedule or --tz stops serve with exit status 2 and says why.
func TestServeScheduleFlags(t *testing.T) {
	for _, tc := range []struct{ args, want []string }{
		{[]string{"serve", "--schedule", "25:00"}, []string{"--schedule", "HH:MM"}},
		{[]string{"serve", "--schedule", "02:00", "--tz", "Mars/Olympus"}, []string{"--tz", "IANA"}},
	} {
		run1(t, tc.args, tc.want)
	}
	// The same settings from the environment (a configuration without flags).
	t.Setenv("DUTYCHECK_SCHEDULE", "24:61")
	run1(t, []string{"serve"}, []string{"--schedule", "HH:MM"})
	t.Setenv("DUTYCHECK_SCHEDULE", "02:00")
	t.Setenv("DUTYCHECK_TZ", "Mars/Olympus")
	run1(t, []string{"serve"}, []string{"--tz", "IANA"})
}

func run1(t *testing.T, args, want []string) {
	t.Helper()
	for _, tc := range []struct{ args, want []string }{{args, want}} {
		var stderr bytes.Buffer
		code := run(context.Background(), tc.args, io.Discard, &stderr)
		if code != exitBadInput {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitBadInput)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr.String(), w)
			}
		}
	}
}
