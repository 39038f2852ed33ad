package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

const (
	webhooksColl     = "webhooks"
	deliveriesColl   = "webhook_deliveries"
	notifyStateColl  = "notify_state"
	scheduleRunsColl = "schedule_runs"
)

// CreateWebhook checks and stores a new webhook, giving it an id, and audits the change. A
// department that does not exist is refused with duty.ErrInvalid, like a bad URL or kind.
func (s *Store) CreateWebhook(ctx context.Context, actor string, w *duty.Webhook) error {
	if err := w.Check(); err != nil {
		return err
	}
	depts, err := s.Departments(ctx)
	if err != nil {
		return err
	}
	tree := duty.NewTree(depts)
	seen := map[string]bool{}
	for i, d := range w.Departments {
		if tree.Department(d) == nil {
			return fmt.Errorf("departments[%d] %q: %w: no such department", i, d, duty.ErrInvalid)
		}
		if seen[d] {
			return fmt.Errorf("departments[%d] %q: %w: named twice", i, d, duty.ErrInvalid)
		}
		seen[d] = true
	}
	w.ID = "wh-" + randomHex(6)
	w.CreatedAt = s.stamp()
	w.CreatedBy = actor
	w.HasSecret = w.Secret != ""
	if _, err := s.db.Collection(webhooksColl).InsertOne(ctx, w); err != nil {
		return fmt.Errorf("save webhook: %w", unavailable(err))
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "webhook.create", Collection: webhooksColl, IDs: []string{w.ID},
		Before: []string{""}, After: []string{webhookHash(w)}})
}

// webhookHash is the audit trail's fingerprint of a webhook; the secret counts only by its hash.
func webhookHash(w *duty.Webhook) string {
	if w == nil {
		return ""
	}
	return hashSecret(strings.Join([]string{w.Name, w.Kind, w.URL, hashSecret(w.Secret), strings.Join(w.Departments, ",")}, "\x00"))[:16]
}

// Webhooks returns every webhook, by name, secrets included (for delivery; the secret is not
// marshalled to JSON).
func (s *Store) Webhooks(ctx context.Context) ([]duty.Webhook, error) {
	cur, err := s.db.Collection(webhooksColl).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read webhooks: %w", unavailable(err))
	}
	out := []duty.Webhook{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read webhooks: %w", unavailable(err))
	}
	for i := range out {
		out[i].HasSecret = out[i].Secret != ""
	}
	slices.SortFunc(out, func(a, b duty.Webhook) int {
		if r := strings.Compare(a.Name, b.Name); r != 0 {
			return r
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// GetWebhook returns one webhook; duty.ErrNotFound when there is none.
func (s *Store) GetWebhook(ctx context.Context, id string) (*duty.Webhook, error) {
	var w duty.Webhook
	err := s.db.Collection(webhooksColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("webhook %q: %w", id, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook %q: %w", id, unavailable(err))
	}
	w.HasSecret = w.Secret != ""
	return &w, nil
}

// DeleteWebhook removes a webhook and audits it; its deliveries stay on record.
func (s *Store) DeleteWebhook(ctx context.Context, actor, id string) error {
	old, err := s.GetWebhook(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.db.Collection(webhooksColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete webhook %q: %w", id, unavailable(err))
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "webhook.delete", Collection: webhooksColl, IDs: []string{id},
		Before: []string{webhookHash(old)}, After: []string{""}})
}

// AddDelivery records one delivery attempt, giving it an id that sorts by time.
func (s *Store) AddDelivery(ctx context.Context, d *duty.Delivery) error {
	if d.At == "" {
		d.At = s.stamp()
	}
	d.ID = d.At + "-" + randomHex(4)
	if _, err := s.db.Collection(deliveriesColl).InsertOne(ctx, d); err != nil {
		return fmt.Errorf("record delivery: %w", unavailable(err))
	}
	return nil
}

// Deliveries returns the newest delivery attempts first, at most limit, of one webhook or of
// all ("").
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]duty.Delivery, error) {
	filter := bson.D{}
	if webhookID != "" {
		filter = bson.D{{Key: "webhook_id", Value: webhookID}}
	}
	cur, err := s.db.Collection(deliveriesColl).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", unavailable(err))
	}
	out := []duty.Delivery{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", unavailable(err))
	}
	return out, nil
}

type notifyState struct {
	ID     string   `bson:"_id"`
	ScanID string   `bson:"scan_id"`
	AsOf   string   `bson:"as_of"`
	Keys   []string `bson:"keys"`
}

// WarnedKeys returns the keys of the warnings last notified for a scan scope ("" is the whole
// store) and whether any scan of the scope was notified before.
func (s *Store) WarnedKeys(ctx context.Context, scope string) (map[string]bool, bool, error) {
	var st notifyState
	err := s.db.Collection(notifyStateColl).FindOne(ctx, bson.D{{Key: "_id", Value: "scope:" + scope}}).Decode(&st)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return map[string]bool{}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read notification state: %w", unavailable(err))
	}
	out := make(map[string]bool, len(st.Keys))
	for _, k := range st.Keys {
		out[k] = true
	}
	return out, true, nil
}

// SetWarnedKeys records the keys of the warnings of a scope's latest notified scan.
func (s *Store) SetWarnedKeys(ctx context.Context, scope, scanID, asOf string, keys []string) error {
	if keys == nil {
		keys = []string{}
	}
	st := notifyState{ID: "scope:" + scope, ScanID: scanID, AsOf: asOf, Keys: keys}
	_, err := s.db.Collection(notifyStateColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: st.ID}}, st, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save notification state: %w", unavailable(err))
	}
	return nil
}

// ScheduledRun is the record of one day's scheduled scan: the day of the schedule (_id, so
// that only one process can claim it), the as-of date of its scan, and who ran it.
type ScheduledRun struct {
	Day       string `json:"day" bson:"_id"`
	AsOf      string `json:"as_of" bson:"as_of"`
	ClaimedAt string `json:"claimed_at" bson:"claimed_at"`
	Instance  string `json:"instance" bson:"instance"`
	ScanID    string `json:"scan_id,omitempty" bson:"scan_id,omitempty"`
}

// ClaimScheduledRun claims the scheduled scan of day for this process: true when it inserted
// the day's record, false when another process (or an earlier run of this one) already had.
// The unique _id makes the claim atomic across processes sharing the store.
func (s *Store) ClaimScheduledRun(ctx context.Context, day, asOf string) (bool, error) {
	run := ScheduledRun{Day: day, AsOf: asOf, ClaimedAt: s.stamp(), Instance: s.instance}
	_, err := s.db.Collection(scheduleRunsColl).InsertOne(ctx, run)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim the scheduled scan of %s: %w", day, unavailable(err))
	}
	return true, nil
}

// SetScheduledScan records the scan started for day's scheduled run.
func (s *Store) SetScheduledScan(ctx context.Context, day, scanID string) error {
	_, err := s.db.Collection(scheduleRunsColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: day}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "scan_id", Value: scanID}}}})
	if err != nil {
		return fmt.Errorf("record the scheduled scan of %s: %w", day, unavailable(err))
	}
	return nil
}

// LastScheduledRun returns the latest claimed scheduled run; duty.ErrNotFound when none.
func (s *Store) LastScheduledRun(ctx context.Context) (*ScheduledRun, error) {
	var run ScheduledRun
	err := s.db.Collection(scheduleRunsColl).FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&run)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("no scheduled scan yet: %w", duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read scheduled runs: %w", unavailable(err))
	}
	run.Day, _, _ = strings.Cut(run.Day, "#") // a run taken again (RetakeScheduledRun) is its day's
	return &run, nil
}
