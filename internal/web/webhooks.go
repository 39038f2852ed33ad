package web

import (
	"net/http"
	"net/url"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// webhookMessages are the texts of the webhooks page, merged into messages.
var webhookMessages = map[string][2]string{
	"nav.webhooks":       {"消息推送", "Webhooks"},
	"wh.title":           {"消息推送", "Webhooks"},
	"wh.intro":           {"每次检查完成后，新增的严重问题和进入预警期的事项按订阅的部门推送到下列地址（钉钉、企业微信群机器人或通用接口）。推送地址由管理员通过接口 /api/v1/webhooks 设置。", "After each scan, new high-severity violations and warnings that entered their window are posted to these endpoints (DingTalk, WeCom group robots or a generic endpoint), one message per subscribed department. Admins manage them through /api/v1/webhooks."},
	"wh.none":            {"尚未设置推送地址。", "No webhooks yet."},
	"wh.name":            {"名称", "Name"},
	"wh.kind":            {"类型", "Kind"},
	"wh.url":             {"地址", "URL"},
	"wh.departments":     {"订阅部门", "Departments"},
	"wh.created":         {"设置时间", "Created"},
	"wh.kind.generic":    {"通用接口（签名）", "Generic (signed)"},
	"wh.kind.dingtalk":   {"钉钉群机器人", "DingTalk robot"},
	"wh.kind.wecom":      {"企业微信群机器人", "WeCom robot"},
	"wh.deliveries":      {"最近推送记录", "Recent deliveries"},
	"wh.deliveries.none": {"尚无推送记录。", "No deliveries yet."},
	"wh.at":              {"时间", "At"},
	"wh.webhook":         {"推送地址", "Webhook"},
	"wh.department":      {"部门", "Department"},
	"wh.scan":            {"检查", "Scan"},
	"wh.attempt":         {"第几次", "Attempt"},
	"wh.status":          {"结果", "Result"},
	"wh.items":           {"问题／预警", "Violations / warnings"},
	"wh.error":           {"说明", "Detail"},
	"wh.st.ok":           {"成功", "Delivered"},
	"wh.st.failed":       {"失败，将重试", "Failed, will retry"},
	"wh.st.gave_up":      {"失败，已放弃", "Failed, gave up"},
	"wh.st.abandoned":    {"服务停止，未送出", "Abandoned at shutdown"},
	"wh.deleted":         {"（已删除）", "(deleted)"},
}

func init() {
	for k, v := range webhookMessages {
		messages[k] = v
	}
}

type webhooksPage struct {
	Hooks      []webhookRow
	Deliveries []deliveryRow
}

type webhookRow struct {
	Hook        duty.Webhook
	URL         string // without the query, which holds the robots' access tokens
	Departments []string
}

type deliveryRow struct {
	D          duty.Delivery
	Webhook    string
	Department string
}

// shownURL hides a URL's query and fragment, which carry robot access tokens and keys.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	hidden := u.RawQuery != "" || u.Fragment != ""
	u.RawQuery, u.Fragment, u.User = "", "", nil
	s := u.String()
	if hidden {
		s += "?…"
	}
	return s
}

// webhooks lists the webhooks and the latest delivery attempts, for admins.
func (h *handler) webhooks(rq *request) error {
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	name := func(id string) string {
		if d := tree.Department(id); d != nil && d.Str("name") != "" {
			return d.Str("name")
		}
		return id
	}
	hooks, err := h.Store.Webhooks(rq.ctx)
	if err != nil {
		return err
	}
	ds, err := h.Store.Deliveries(rq.ctx, "", 100)
	if err != nil {
		return err
	}
	page := webhooksPage{}
	names := map[string]string{}
	for _, w := range hooks {
		row := webhookRow{Hook: w, URL: shownURL(w.URL)}
		for _, d := range w.Departments {
			row.Departments = append(row.Departments, name(d))
		}
		page.Hooks = append(page.Hooks, row)
		names[w.ID] = w.Name
	}
	for _, d := range ds {
		n, ok := names[d.WebhookID]
		if !ok {
			n = d.WebhookID + text(rq.lang, "wh.deleted")
		}
		page.Deliveries = append(page.Deliveries, deliveryRow{D: d, Webhook: n, Department: name(d.Department)})
	}
	return h.render(rq, http.StatusOK, "webhooks", text(rq.lang, "wh.title"), page)
}
