package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/passwd"
)

const (
	// passwordsColl holds one document per user with a password: its argon2id hash and a
	// random stamp that changes with every new password (browser sessions are bound to it).
	// It is apart from the users so that no listing or change of a user can carry the hash.
	passwordsColl = "passwords"
	// setupColl holds the one-time setup token of the first admin password (SetupToken).
	setupColl = "setup"
	setupID   = "admin-password"
)

type passwordDoc struct {
	User  string `bson:"_id"`
	Hash  string `bson:"hash"`
	Stamp string `bson:"stamp"`
	SetAt string `bson:"set_at"`
}

// clock is the store's time (Config.Clock).
func (s *Store) clock() time.Time { return s.cfg.Clock.Now() }

// stamp is the store's time as stored (duty.TimeFormat, UTC).
func (s *Store) stamp() string { return s.clock().UTC().Format(duty.TimeFormat) }

// MaxDisplayName is the longest display name (姓名) of a user, in characters (duty.MaxDisplayName).
const MaxDisplayName = duty.MaxDisplayName

// passwordUsers returns the names of the users with a password.
func (s *Store) passwordUsers(ctx context.Context) (map[string]bool, error) {
	cur, err := s.db.Collection(passwordsColl).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read passwords: %w", unavailable(err))
	}
	var docs []struct {
		User string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read passwords: %w", unavailable(err))
	}
	out := make(map[string]bool, len(docs))
	for _, d := range docs {
		out[d.User] = true
	}
	return out, nil
}

// password returns a user's password document, nil when the user has none.
func (s *Store) password(ctx context.Context, user string) (*passwordDoc, error) {
	var d passwordDoc
	err := s.db.Collection(passwordsColl).FindOne(ctx, bson.D{{Key: "_id", Value: user}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read password of %q: %w", user, unavailable(err))
	}
	return &d, nil
}

// passwordStamp is the stamp of a user's password, "" when it has none.
func (s *Store) passwordStamp(ctx context.Context, user string) (string, error) {
	d, err := s.password(ctx, user)
	if err != nil || d == nil {
		return "", err
	}
	return d.Stamp, nil
}

// HasPassword reports whether the user has a password.
func (s *Store) HasPassword(ctx context.Context, user string) (bool, error) {
	d, err := s.password(ctx, user)
	return d != nil, err
}

// SetPassword gives a user a new password (passwd.Check: 10 to 128 characters), stored as an
// argon2id hash; the password itself is neither stored nor logged. Every browser session of the
// user ends: those signed in with the old password through its stamp, the others because they
// are deleted. The audit trail records who set whose password and when (action
// user.password), with fingerprints of the old and new stamps, never the password or its hash.
func (s *Store) SetPassword(ctx context.Context, actor, user, pw string) error {
	if err := passwd.Check(pw); err != nil {
		return fmt.Errorf("password of %s: %w: %w", user, duty.ErrInvalid, err)
	}
	if _, err := s.GetUser(ctx, user); err != nil {
		return err
	}
	hash, err := s.cfg.Passwords.Hash(ctx, pw)
	if err != nil {
		return err
	}
	old, err := s.password(ctx, user)
	if err != nil {
		return err
	}
	d := passwordDoc{User: user, Hash: hash, Stamp: randomHex(16), SetAt: s.stamp()}
	if err := upsertRetry(func() error {
		_, err := s.db.Collection(passwordsColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: user}}, d, options.Replace().SetUpsert(true))
		return err
	}); err != nil {
		return fmt.Errorf("save the password of %s: %w", user, unavailable(err))
	}
	if _, err := s.db.Collection(sessionsColl).DeleteMany(ctx, bson.D{{Key: "user", Value: user}}); err != nil {
		return fmt.Errorf("end the sessions of %s: %w", user, unavailable(err))
	}
	before := ""
	if old != nil {
		before = hashSecret(old.Stamp)[:16]
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "user.password", Collection: usersColl, IDs: []string{user},
		Before: []string{before}, After: []string{hashSecret(d.Stamp)[:16]}})
}

// errSignIn is the one answer to a failed sign-in by name and password, whatever failed.
var errSignIn = fmt.Errorf("unknown user or wrong password: %w", duty.ErrNotFound)

// SignIn checks a user's name and password and returns the principal, bound to the password's
// stamp for a browser session (CreateSession). An unknown user, a user without a password, a
// disabled user and a wrong password all answer the same duty.ErrNotFound, after the same work:
// a password hash is computed in every case (a dummy one when there is no hash to check), so
// that neither the answer nor its time tells which users exist. Rate limiting is the caller's.
func (s *Store) SignIn(ctx context.Context, name, pw string) (*duty.Principal, error) {
	var hash, stamp string
	var u *duty.User
	if duty.ValidName(name) {
		var err error
		u, err = s.GetUser(ctx, name)
		switch {
		case errors.Is(err, duty.ErrNotFound):
			u = nil
		case err != nil:
			return nil, err
		}
		if u != nil {
			d, err := s.password(ctx, name)
			if err != nil {
				return nil, err
			}
			if d != nil {
				hash, stamp = d.Hash, d.Stamp
			}
		}
	}
	ok, err := s.cfg.Passwords.Verify(ctx, hash, pw)
	if err != nil && !errors.Is(err, passwd.ErrMalformed) {
		return nil, err // the request ended while waiting for a hashing slot
	}
	if !ok || u == nil || u.Disabled {
		return nil, errSignIn
	}
	return &duty.Principal{User: u.Name, Role: u.Role, Department: u.Department, DisplayName: u.DisplayName, Password: stamp}, nil
}

// AuditQuery selects entries of the audit trail (duty.AuditQuery).
type AuditQuery = duty.AuditQuery

// AuditSearch returns the entries that match q, newest first, at most q.Limit, and whether
// more follow (the next page starts Before the last one answered).
func (s *Store) AuditSearch(ctx context.Context, q AuditQuery) ([]duty.AuditEntry, bool, error) {
	filter := bson.D{}
	for _, f := range []struct{ key, value string }{{"actor", q.Actor}, {"action", q.Action}, {"ids", q.Record}} {
		if f.value != "" {
			filter = append(filter, bson.E{Key: f.key, Value: f.value})
		}
	}
	at := bson.D{}
	if q.From != "" {
		at = append(at, bson.E{Key: "$gte", Value: q.From})
	}
	if q.To != "" {
		at = append(at, bson.E{Key: "$lte", Value: q.To})
	}
	if len(at) > 0 {
		filter = append(filter, bson.E{Key: "at", Value: at})
	}
	if q.Before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: q.Before}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: -1}})
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit) + 1) // one more tells whether more follow
	}
	cur, err := s.db.Collection(auditColl).Find(ctx, filter, opts)
	if err != nil {
		return nil, false, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	out := []duty.AuditEntry{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	more := q.Limit > 0 && len(out) > q.Limit
	if more {
		out = out[:q.Limit]
	}
	return out, more, nil
}

type setupDoc struct {
	ID      string `bson:"_id"`
	User    string `bson:"user"`
	Hash    string `bson:"hash"`
	Expires string `bson:"expires"`
}

// NeedsSetup returns the admin whose password the first start should set: "" when some active
// admin has a password already; else the user "admin" when it is an active admin, else the
// first active admin by name. With no active admin at all it is "" too (Bootstrap creates one).
func (s *Store) NeedsSetup(ctx context.Context) (string, error) {
	users, err := s.Users(ctx)
	if err != nil {
		return "", err
	}
	who := ""
	for _, u := range users {
		if !activeAdmin(&u) {
			continue
		}
		if u.PasswordSet {
			return "", nil
		}
		if who == "" || u.Name == "admin" {
			who = u.Name
		}
	}
	return who, nil
}

// SetupToken makes a one-time token that sets the password of the admin NeedsSetup names,
// valid for ttl or until used, and returns that admin and the token; "" when no admin needs a
// password. A new token replaces the previous one (each start prints its own). Only its hash is
// stored.
func (s *Store) SetupToken(ctx context.Context, ttl time.Duration) (user, token string, err error) {
	user, err = s.NeedsSetup(ctx)
	if err != nil || user == "" {
		return "", "", err
	}
	token = randomHex(24)
	d := setupDoc{ID: setupID, User: user, Hash: hashSecret(token), Expires: s.clock().Add(ttl).UTC().Format(duty.TimeFormat)}
	if err := upsertRetry(func() error {
		_, err := s.db.Collection(setupColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: setupID}}, d, options.Replace().SetUpsert(true))
		return err
	}); err != nil {
		return "", "", fmt.Errorf("save the setup token: %w", unavailable(err))
	}
	return user, token, nil
}

// errSetup is the one answer to a setup token that is unknown, used, expired, or no longer
// needed.
var errSetup = fmt.Errorf("unknown, used or expired setup link: %w", duty.ErrNotFound)

// SetupUser returns the admin whose password the setup token sets; duty.ErrNotFound when the
// token is unknown, expired or no longer needed (an admin has a password by now).
func (s *Store) SetupUser(ctx context.Context, token string) (string, error) {
	var d setupDoc
	err := s.db.Collection(setupColl).FindOne(ctx, bson.D{{Key: "_id", Value: setupID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", errSetup
	}
	if err != nil {
		return "", fmt.Errorf("read the setup token: %w", unavailable(err))
	}
	if subtle.ConstantTimeCompare([]byte(d.Hash), []byte(hashSecret(token))) != 1 || d.Expires <= s.stamp() {
		return "", errSetup
	}
	who, err := s.NeedsSetup(ctx)
	if err != nil {
		return "", err
	}
	if who != d.User {
		return "", errSetup
	}
	return d.User, nil
}

// UseSetupToken sets the first admin's password with the one-time setup token (actor "setup"
// in the audit trail) and spends the token; it returns the admin's name. A bad password is
// duty.ErrInvalid and leaves the token valid.
func (s *Store) UseSetupToken(ctx context.Context, token, pw string) (string, error) {
	user, err := s.SetupUser(ctx, token)
	if err != nil {
		return "", err
	}
	if err := passwd.Check(pw); err != nil {
		return "", fmt.Errorf("password of %s: %w: %w", user, duty.ErrInvalid, err)
	}
	// Spend the token first: of two uses at once, only the one that deletes it goes on.
	res, err := s.db.Collection(setupColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: setupID}, {Key: "hash", Value: hashSecret(token)}})
	if err != nil {
		return "", fmt.Errorf("spend the setup token: %w", unavailable(err))
	}
	if res.DeletedCount != 1 {
		return "", errSetup
	}
	if err := s.SetPassword(ctx, "setup", user, pw); err != nil {
		return "", err
	}
	return user, nil
}
