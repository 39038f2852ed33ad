package duty

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Webhook kinds: a generic JSON payload signed with HMAC-SHA256, and the DingTalk and WeCom
// group robots (JSON with a markdown text).
const (
	WebhookGeneric  = "generic"
	WebhookDingTalk = "dingtalk"
	WebhookWeCom    = "wecom"
)

// WebhookKinds lists the webhook kinds.
var WebhookKinds = []string{WebhookGeneric, WebhookDingTalk, WebhookWeCom}

// ManageWebhooks is the action of creating and deleting webhooks and reading their deliveries.
// It is the admins' (those who manage users): a webhook's URL is a request the server makes on
// its network, so only the people who already hold the keys of the service may aim it.
const ManageWebhooks = ManageUsers

// Webhook is an endpoint told about each finished scan's new high-severity violations and
// warnings that entered their window, one message per subscribed department subtree.
type Webhook struct {
	ID   string `json:"id" bson:"_id"`
	Name string `json:"name" bson:"name"`
	Kind string `json:"kind" bson:"kind"`
	URL  string `json:"url" bson:"url"`
	// Secret signs generic payloads (HMAC-SHA256) and, when set, DingTalk requests (the robot's
	// "加签" secret). It is never shown after creation.
	Secret      string   `json:"-" bson:"secret"`
	HasSecret   bool     `json:"has_secret" bson:"-"`
	Departments []string `json:"departments" bson:"departments"`
	CreatedAt   string   `json:"created_at" bson:"created_at"`
	CreatedBy   string   `json:"created_by" bson:"created_by"`
}

// Check validates a webhook's fields other than its departments' existence (the store checks
// those): a name, a known kind, an absolute http or https URL with a host, and at least one
// department. Errors match ErrInvalid.
func (w *Webhook) Check() error {
	switch {
	case !ValidName(w.Name):
		return fmt.Errorf("name %q: %w: expected %s", w.Name, ErrInvalid, NameRule)
	case !slices.Contains(WebhookKinds, w.Kind):
		return fmt.Errorf("kind %q: %w: expected one of %s", w.Kind, ErrInvalid, strings.Join(WebhookKinds, ", "))
	case len(w.Departments) == 0:
		return fmt.Errorf("departments: %w: expected at least one department id", ErrInvalid)
	}
	if err := CheckWebhookURL(w.URL); err != nil {
		return err
	}
	if len(w.Secret) > 256 {
		return fmt.Errorf("secret: %w: at most 256 characters", ErrInvalid)
	}
	return nil
}

// CheckWebhookURL accepts an absolute http or https URL with a host and no user information.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > 2048:
		return fmt.Errorf("url: %w: at most 2048 characters", ErrInvalid)
	case err != nil:
		return fmt.Errorf("url %q: %w: %v", raw, ErrInvalid, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("url %q: %w: expected an http or https URL", raw, ErrInvalid)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("url %q: %w: expected a host", raw, ErrInvalid)
	case u.User != nil:
		return fmt.Errorf("url %q: %w: user information in the URL is not accepted; use the secret", raw, ErrInvalid)
	}
	return nil
}

// Delivery statuses.
const (
	DeliveryOK        = "ok"
	DeliveryFailed    = "failed"    // this attempt failed; another may follow
	DeliveryGaveUp    = "gave_up"   // the last attempt failed, or the endpoint refused for good
	DeliveryAbandoned = "abandoned" // not attempted (again): the service stopped
)

// Delivery is one attempt to deliver one message to one webhook.
type Delivery struct {
	ID         string `json:"id" bson:"_id"`
	WebhookID  string `json:"webhook_id" bson:"webhook_id"`
	ScanID     string `json:"scan_id" bson:"scan_id"`
	Department string `json:"department" bson:"department"`
	// Message is the same for every attempt of one message.
	Message  string `json:"message" bson:"message"`
	Attempt  int    `json:"attempt" bson:"attempt"`
	At       string `json:"at" bson:"at"`
	Status   string `json:"status" bson:"status"`
	HTTPCode int    `json:"http_status,omitempty" bson:"http_status,omitempty"`
	Error    string `json:"error,omitempty" bson:"error,omitempty"`
	// Millis is how long the attempt took.
	Millis int64 `json:"duration_ms" bson:"duration_ms"`
	// Violations and Warnings count what the message reported.
	Violations int `json:"violations" bson:"violations"`
	Warnings   int `json:"warnings" bson:"warnings"`
}
