// Package notify tells the systems the users already read about each finished scan: for the
// new high-severity violations (first seen in this scan) and the warnings that entered their
// window (not warned in the previous notified scan of the same scope), it POSTs one message per
// department subtree each webhook is subscribed to — a signed generic JSON payload, or the
// DingTalk or WeCom group robot's markdown message — in Chinese.
//
// Delivery never holds up a scan: AfterScan only queues the finished scan (a full queue drops
// it, logged), a planner turns it into messages and a few workers deliver them with retries and
// exponential backoff, recording every attempt in the store. Shutdown drains the queue while
// its context lasts and then abandons the rest, recording that too.
//
// Webhook URLs are requests the server makes on its own network (SSRF): only admins create
// webhooks, the URL must be http or https, redirects are not followed and the answer's body is
// read only up to a few KiB.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/duty"
)

// Store is what the notifier reads and writes (store.Store has these methods).
type Store interface {
	Webhooks(ctx context.Context) ([]duty.Webhook, error)
	Departments(ctx context.Context) ([]duty.Doc, error)
	AddDelivery(ctx context.Context, d *duty.Delivery) error
	WarnedKeys(ctx context.Context, scope string) (map[string]bool, bool, error)
	SetWarnedKeys(ctx context.Context, scope, scanID, asOf string, keys []string) error
}

// Config wires a Notifier.
type Config struct {
	Store Store
	// Client sends the requests; nil means one with Timeout per attempt that follows no
	// redirect.
	Client *http.Client
	// Clock times the retries and stamps the signatures; nil means the real clock.
	Clock clock.Clock
	Log   *slog.Logger
	// Title returns a policy's Chinese title (nil or "": the message shows the policy id).
	Title func(policy string) string
	// Queue bounds the finished scans waiting to be planned, and the messages waiting to be
	// delivered; 0 means 64.
	Queue int
	// Workers deliver messages at once; 0 means 4.
	Workers int
	// Attempts is how often a message is tried; 0 means 5.
	Attempts int
	// Backoff is the wait before the first retry, doubled before each next one up to
	// MaxBackoff; 0 means 2 s and 5 min.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt; 0 means 10 s.
	Timeout time.Duration
}

// Signature headers of generic payloads: the Unix time in seconds, and
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
const (
	HeaderTimestamp = "X-Dutycheck-Timestamp"
	HeaderSignature = "X-Dutycheck-Signature"
	HeaderDelivery  = "X-Dutycheck-Delivery"
)

// Notifier delivers scan notifications to the stored webhooks.
type Notifier struct {
	cfg Config

	mu     sync.Mutex
	closed bool
	scans  chan job
	msgs   chan message

	base   context.Context // cancelled when Shutdown gives up waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type job struct {
	scan *duty.Scan
	rep  *duty.Report
}

// message is one message to one webhook, ready but for its timestamp and signature.
type message struct {
	hook       duty.Webhook
	scanID     string
	department string
	id         string
	payload    Payload
	violations int
	warnings   int
}

// New starts a notifier's planner and workers; stop them with Shutdown.
func New(cfg Config) *Notifier {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 64
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	base, cancel := context.WithCancel(context.Background())
	n := &Notifier{cfg: cfg, scans: make(chan job, cfg.Queue), msgs: make(chan message, cfg.Queue), base: base, cancel: cancel}
	n.wg.Add(1)
	go n.planner()
	for range cfg.Workers {
		n.wg.Add(1)
		go n.work()
	}
	return n
}

// AfterScan queues a finished scan for notification and returns at once (the scan service's
// after-scan hook). A full queue or a notifier shut down drops the scan, logged.
func (n *Notifier) AfterScan(_ context.Context, sc *duty.Scan, rep *duty.Report) {
	if sc == nil || rep == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.cfg.Log.Warn("notifications: stopped; scan not notified", "scan", sc.ID)
		return
	}
	select {
	case n.scans <- job{scan: sc, rep: rep}:
	default:
		n.cfg.Log.Warn("notifications: queue full; scan not notified", "scan", sc.ID, "queue", cap(n.scans))
	}
}

// Shutdown stops taking scans and delivers what is queued while ctx lasts; then it cancels the
// deliveries under way and records the messages left as abandoned.
func (n *Notifier) Shutdown(ctx context.Context) {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.scans)
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		n.cancel()
		<-done
	}
	n.cancel()
}

// planner turns each queued scan into messages.
func (n *Notifier) planner() {
	defer n.wg.Done()
	defer close(n.msgs)
	for j := range n.scans {
		msgs, err := n.planRetried(j)
		if err != nil {
			n.cfg.Log.Error("notifications: plan failed; scan not notified", "scan", j.scan.ID, "attempts", n.cfg.Attempts, "err", err)
			continue
		}
		for _, m := range msgs {
			n.msgs <- m // bounded: the planner waits, never the scan
		}
	}
}

// planRetried plans a scan's messages, tried again after Backoff, 2×Backoff, … up to Attempts
// times when the store answers an error: a scan whose plan fails is never notified (its new
// violations are new only in it), so a passing store error must not cost its messages.
func (n *Notifier) planRetried(j job) ([]message, error) {
	wait := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		msgs, err := n.plan(n.base, j.scan, j.rep)
		if err == nil || attempt >= n.cfg.Attempts {
			return msgs, err
		}
		n.cfg.Log.Warn("notifications: plan failed; trying again", "scan", j.scan.ID, "attempt", attempt, "err", err)
		if err := n.cfg.Clock.Sleep(n.base, wait); err != nil {
			return nil, err
		}
		wait = min(wait*2, n.cfg.MaxBackoff)
	}
}

// plan computes the messages of a finished scan and records the scan's warnings as notified
// for its scope.
func (n *Notifier) plan(ctx context.Context, sc *duty.Scan, rep *duty.Report) ([]message, error) {
	prev, _, err := n.cfg.Store.WarnedKeys(ctx, sc.Department)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(rep.Warnings))
	var entered []duty.Warning
	for _, w := range rep.Warnings {
		k := keyHash(&w.Violation)
		keys = append(keys, k)
		if !prev[k] {
			entered = append(entered, w)
		}
	}
	var fresh []duty.Violation
	for _, v := range rep.Violations {
		if v.Severity == "high" && v.FirstSeen != nil && v.FirstSeen.ScanID == rep.ScanID {
			fresh = append(fresh, v)
		}
	}
	// The warnings are recorded as notified last, once everything the messages need is read: a
	// plan that fails before must not leave them marked, or the next scan would not send them.
	setWarned := func() error { return n.cfg.Store.SetWarnedKeys(ctx, sc.Department, sc.ID, rep.AsOf, keys) }
	if len(fresh)+len(entered) == 0 {
		return nil, setWarned()
	}
	hooks, err := n.cfg.Store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	if len(hooks) == 0 {
		return nil, setWarned()
	}
	depts, err := n.cfg.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	tree := duty.NewTree(depts)
	var out []message
	for _, h := range hooks {
		for _, d := range h.Departments {
			if tree.Department(d) == nil {
				continue // deleted since the webhook was made
			}
			sub := tree.Subtree(d)
			p := Payload{Event: "dutycheck.scan", ScanID: rep.ScanID, AsOf: rep.AsOf,
				Department: Dept{ID: d, Name: deptName(tree, d)}, Violations: []Item{}, Warnings: []Item{}}
			for _, v := range fresh {
				if sub[v.Department] {
					p.Violations = append(p.Violations, n.item(tree, v, ""))
				}
			}
			for _, w := range entered {
				if sub[w.Department] {
					p.Warnings = append(p.Warnings, n.item(tree, w.Violation, w.FailsOn))
				}
			}
			if len(p.Violations)+len(p.Warnings) == 0 {
				continue
			}
			p.Title, p.Text = Markdown(&p)
			out = append(out, message{hook: h, scanID: rep.ScanID, department: d, id: randomID(), payload: p,
				violations: len(p.Violations), warnings: len(p.Warnings)})
		}
	}
	if err := setWarned(); err != nil {
		return nil, err
	}
	return out, nil
}

func keyHash(v *duty.Violation) string {
	h := sha256.Sum256([]byte(v.Key()))
	return hex.EncodeToString(h[:12])
}

func randomID() string {
	var b [8]byte
	_, _ = io.ReadFull(rand.Reader, b[:])
	return hex.EncodeToString(b[:])
}

func deptName(tree *duty.Tree, id string) string {
	if d := tree.Department(id); d != nil && d.Str("name") != "" {
		return d.Str("name")
	}
	return id
}

func (n *Notifier) item(tree *duty.Tree, v duty.Violation, failsOn string) Item {
	it := Item{Policy: v.Policy, PolicyTitle: v.Policy, Severity: v.Severity, Reason: v.Reason,
		Department: Dept{ID: v.Department, Name: deptName(tree, v.Department)}, Subject: v.Subject,
		Details: v.Details, Message: v.Message.ZH, FailsOn: failsOn}
	if n.cfg.Title != nil {
		if t := n.cfg.Title(v.Policy); t != "" {
			it.PolicyTitle = t
		}
	}
	return it
}

// work delivers messages until the queue is closed and empty; once the notifier is cancelled
// the messages left are recorded as abandoned.
func (n *Notifier) work() {
	defer n.wg.Done()
	for m := range n.msgs {
		if n.base.Err() != nil {
			n.record(m, 0, duty.DeliveryAbandoned, 0, "the service stopped before delivery", 0)
			continue
		}
		n.deliver(n.base, m)
	}
}

// deliver tries a message up to Attempts times, waiting Backoff, 2×Backoff, … between tries.
// A 4xx answer other than 408 and 429 is final: the endpoint refuses the message itself.
func (n *Notifier) deliver(ctx context.Context, m message) {
	wait := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		start := n.cfg.Clock.Now()
		code, err := n.send(ctx, m)
		ms := n.cfg.Clock.Now().Sub(start).Milliseconds()
		if err == nil {
			n.record(m, attempt, duty.DeliveryOK, code, "", ms)
			return
		}
		if ctx.Err() != nil {
			n.record(m, attempt, duty.DeliveryAbandoned, code, "the service stopped: "+err.Error(), ms)
			return
		}
		final := attempt >= n.cfg.Attempts || (code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests)
		if final {
			n.record(m, attempt, duty.DeliveryGaveUp, code, err.Error(), ms)
			n.cfg.Log.Warn("notifications: gave up", "webhook", m.hook.ID, "scan", m.scanID, "attempts", attempt, "err", err)
			return
		}
		n.record(m, attempt, duty.DeliveryFailed, code, err.Error(), ms)
		if err := n.cfg.Clock.Sleep(ctx, wait); err != nil {
			n.record(m, attempt+1, duty.DeliveryAbandoned, 0, "the service stopped before the retry", 0)
			return
		}
		wait = min(wait*2, n.cfg.MaxBackoff)
	}
}

func (n *Notifier) record(m message, attempt int, status string, code int, msg string, ms int64) {
	d := &duty.Delivery{WebhookID: m.hook.ID, ScanID: m.scanID, Department: m.department, Message: m.id, Attempt: attempt,
		At: n.cfg.Clock.Now().UTC().Format(duty.TimeFormat), Status: status, HTTPCode: code, Error: msg, Millis: ms,
		Violations: m.violations, Warnings: m.warnings}
	// Recorded even while shutting down: the record says what became of the message.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(n.base), 5*time.Second)
	defer cancel()
	if err := n.cfg.Store.AddDelivery(ctx, d); err != nil {
		n.cfg.Log.Warn("notifications: record delivery", "webhook", m.hook.ID, "err", err)
	}
}

// send makes one attempt; it returns the HTTP status (0 without an answer) and an error unless
// the endpoint took the message.
func (n *Notifier) send(ctx context.Context, m message) (int, error) {
	now := n.cfg.Clock.Now()
	body, target, err := Request(m.hook, &m.payload, now)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "dutycheck-webhook/1")
	if m.hook.Kind == duty.WebhookGeneric {
		ts := strconv.FormatInt(now.Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(m.hook.Secret, ts, body))
		req.Header.Set(HeaderDelivery, m.id)
	}
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return 0, errors.New(redact(err.Error(), m.hook.URL))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, excerpt(answer))
	}
	if m.hook.Kind != duty.WebhookGeneric {
		// The robots answer 200 with {"errcode": 0, "errmsg": "ok"}, or a non-zero errcode.
		var r struct {
			ErrCode *int   `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(answer, &r); err != nil || r.ErrCode == nil {
			return resp.StatusCode, fmt.Errorf("unexpected answer: %s", excerpt(answer))
		}
		if *r.ErrCode != 0 {
			return resp.StatusCode, fmt.Errorf("errcode %d: %s", *r.ErrCode, excerpt([]byte(r.ErrMsg)))
		}
	}
	return resp.StatusCode, nil
}

// redact keeps a webhook URL's query (robot access tokens, keys) out of recorded errors.
func redact(msg, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return msg
	}
	return strings.ReplaceAll(strings.ReplaceAll(msg, "?"+u.RawQuery, "?…"), u.RawQuery, "…")
}

func excerpt(b []byte) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(b)), "")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// Sign is the signature of a generic payload: "sha256=" + the hex HMAC-SHA256, keyed by the
// webhook's secret, of the timestamp header, a dot and the body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a generic payload's signature and that its timestamp lies within tolerance of
// now (a receiver's side of Sign, used by tests and shown in the README).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %s is %s away from now", timestamp, d)
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}

// dingTalkSign is the DingTalk robot's "加签": base64(HMAC-SHA256(secret, ms + "\n" + secret)).
func dingTalkSign(secret string, ms int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ms, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Request returns the body and URL of a message to hook at time now: the generic payload as
// JSON; a DingTalk robot's {"msgtype": "markdown", "markdown": {"title", "text"}}, its URL
// given timestamp and sign parameters when the webhook has a secret; a WeCom robot's
// {"msgtype": "markdown", "markdown": {"content"}}, cut to the robot's 4096 bytes.
func Request(hook duty.Webhook, p *Payload, now time.Time) ([]byte, string, error) {
	target := hook.URL
	var v any
	switch hook.Kind {
	case duty.WebhookGeneric:
		v = p
	case duty.WebhookDingTalk:
		v = robotMessage{MsgType: "markdown", Markdown: robotMarkdown{Title: p.Title, Text: p.Text}}
		if hook.Secret != "" {
			u, err := url.Parse(hook.URL)
			if err != nil {
				return nil, "", fmt.Errorf("webhook url: %w", err)
			}
			ms := now.UnixMilli()
			q := u.Query()
			q.Set("timestamp", strconv.FormatInt(ms, 10))
			q.Set("sign", dingTalkSign(hook.Secret, ms))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case duty.WebhookWeCom:
		v = robotMessage{MsgType: "markdown", Markdown: robotMarkdown{Content: cutBytes(p.Text, weComLimit)}}
	default:
		return nil, "", fmt.Errorf("webhook kind %q: %w", hook.Kind, duty.ErrInvalid)
	}
	body, err := json.Marshal(v)
	return body, target, err
}

// weComLimit is the most bytes a WeCom robot's markdown content may have.
const weComLimit = 4096

// cutBytes cuts s to at most n bytes at a line break, saying how much was left out.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "\n\n……（其余从略，请在 dutycheck 中查看。）"
	cut := s[:n-len(more)]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return strings.ToValidUTF8(cut, "") + more
}

type robotMessage struct {
	MsgType  string        `json:"msgtype"`
	Markdown robotMarkdown `json:"markdown"`
}

type robotMarkdown struct {
	Title   string `json:"title,omitempty"`
	Text    string `json:"text,omitempty"`
	Content string `json:"content,omitempty"`
}
