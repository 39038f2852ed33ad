package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestWebhooksAPI: an admin creates, lists, reads and deletes webhooks, each change audited;
// a URL that is not http(s), an unknown kind or a subscription to an unknown department answers
// 422 and stores nothing; an inspector may not touch them; a generic webhook without a secret
// gets one, shown once; the secret never comes back.
func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	ctx := context.Background()
	raw := map[string][]duty.RawDoc{"departments": {
		{Value: map[string]any{"id": "ORG-X", "name": "机关", "kind": "organ"}},
		{Value: map[string]any{"id": "DIV-X", "name": "秘书处", "kind": "division", "parent_id": "ORG-X"}},
	}}
	if _, err := e.fake.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		note, body, want string
	}{
		{"ftp url", `{"name": "a", "kind": "generic", "url": "ftp://example.org/x", "departments": ["ORG-X"]}`, "http or https"},
		{"file url", `{"name": "a", "kind": "generic", "url": "file:///etc/passwd", "departments": ["ORG-X"]}`, "http or https"},
		{"no host", `{"name": "a", "kind": "generic", "url": "http:///x", "departments": ["ORG-X"]}`, "host"},
		{"user info", `{"name": "a", "kind": "generic", "url": "https://u:p@example.org/", "departments": ["ORG-X"]}`, "user information"},
		{"unknown department", `{"name": "a", "kind": "wecom", "url": "https://example.org/", "departments": ["ORG-X", "NOPE"]}`, "no such department"},
		{"no department", `{"name": "a", "kind": "wecom", "url": "https://example.org/", "departments": []}`, "at least one"},
		{"unknown kind", `{"name": "a", "kind": "slack", "url": "https://example.org/", "departments": ["ORG-X"]}`, "generic, dingtalk, wecom"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			r := e.bearer("admin", "POST", "/api/v1/webhooks", tc.body)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) {
				t.Errorf("%d %s, want 422 naming %q", r.status, r.body, tc.want)
			}
		})
	}
	if r := e.bearer("admin", "GET", "/api/v1/webhooks", ""); r.status != 200 || !strings.Contains(r.body, `"webhooks":[]`) {
		t.Fatalf("after refusals: %d %s", r.status, r.body)
	}
	if r := e.bearer("inspector", "POST", "/api/v1/webhooks", `{"name": "a", "kind": "generic", "url": "https://example.org/", "departments": ["ORG-X"]}`); r.status != http.StatusForbidden {
		t.Errorf("inspector create: %d", r.status)
	}

	r := e.bearer("admin", "POST", "/api/v1/webhooks", `{"name": "ops", "kind": "generic", "url": "https://example.org/hook", "departments": ["DIV-X"]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct {
		Webhook duty.Webhook `json:"webhook"`
		Secret  string       `json:"secret"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil {
		t.Fatal(err)
	}
	id := created.Webhook.ID
	if len(created.Secret) < 32 || !created.Webhook.HasSecret || created.Webhook.CreatedBy != "admin" {
		t.Errorf("created %+v with secret %q", created.Webhook, created.Secret)
	}
	r2 := e.bearer("admin", "POST", "/api/v1/webhooks", `{"name": "ding", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t", "secret": "SECabc", "departments": ["ORG-X"]}`)
	if r2.status != http.StatusCreated || strings.Contains(r2.body, "SECabc") {
		t.Errorf("create dingtalk: %d %s (the given secret is not echoed)", r2.status, r2.body)
	}
	list := e.bearer("admin", "GET", "/api/v1/webhooks", "")
	if list.status != 200 || strings.Contains(list.body, created.Secret) || strings.Contains(list.body, "SECabc") || !strings.Contains(list.body, `"name":"ding"`) {
		t.Errorf("list: %d %s", list.status, list.body)
	}
	if g := e.bearer("admin", "GET", "/api/v1/webhooks/"+id, ""); g.status != 200 || !strings.Contains(g.body, `"departments":["DIV-X"]`) || strings.Contains(g.body, created.Secret) {
		t.Errorf("get: %d %s", g.status, g.body)
	}
	if g := e.bearer("admin", "GET", "/api/v1/webhooks/"+id+"/deliveries", ""); g.status != 200 || g.body != `{"deliveries":[]}` {
		t.Errorf("deliveries: %d %s", g.status, g.body)
	}
	if g := e.bearer("admin", "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=0", ""); g.status != 400 {
		t.Errorf("deliveries?limit=0: %d", g.status)
	}
	// The admin page lists the webhooks (robot tokens hidden) and the delivery attempts.
	if err := e.fake.AddDelivery(ctx, &duty.Delivery{WebhookID: id, ScanID: "S-9", Department: "DIV-X", Message: "m", Attempt: 2,
		Status: duty.DeliveryOK, HTTPCode: 200, Violations: 3, Warnings: 1}); err != nil {
		t.Fatal(err)
	}
	page := e.send("GET", "/admin/webhooks", nil, nil, e.session("admin"))
	for _, want := range []string{"消息推送", "ops", "https://example.org/hook", "钉钉群机器人", "https://oapi.dingtalk.com/robot/send?…", "机关", "秘书处", "S-9", "成功", "3／1"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("admin page lacks %q", want)
		}
	}
	if page.status != 200 || strings.Contains(page.body, "access_token") || strings.Contains(page.body, created.Secret) {
		t.Errorf("admin page: %d, shows a token or secret", page.status)
	}
	if p := e.send("GET", "/admin/webhooks", nil, nil, e.session("inspector")); p.status != http.StatusForbidden {
		t.Errorf("inspector page: %d", p.status)
	}
	if d := e.bearer("admin", "DELETE", "/api/v1/webhooks/"+id, ""); d.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", d.status, d.body)
	}
	for _, p := range []string{"/api/v1/webhooks/" + id, "/api/v1/webhooks/" + id + "/deliveries"} {
		if g := e.bearer("admin", "GET", p, ""); g.status != 404 {
			t.Errorf("GET %s after delete: %d", p, g.status)
		}
	}
	if d := e.bearer("admin", "DELETE", "/api/v1/webhooks/"+id, ""); d.status != 404 {
		t.Errorf("delete again: %d", d.status)
	}
	trail, err := e.fake.AuditTrail(ctx, "admin", 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range trail {
		if a.Collection == "webhooks" {
			actions = append(actions, a.Action+" "+a.IDs[0])
		}
	}
	if want := []string{"webhook.delete " + id, "webhook.create " + strings.TrimPrefix(actions[1], "webhook.create "), "webhook.create " + id}; len(actions) != 3 ||
		actions[0] != want[0] || actions[2] != want[2] {
		t.Errorf("audit trail %v", actions)
	}
}
