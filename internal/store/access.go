package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

const (
	usersColl    = "users"
	tokensColl   = "tokens"
	sessionsColl = "sessions"
	auditColl    = "audit"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// docHash is the audit trail's fingerprint of a document: sha256 of its canonical JSON.
func docHash(d duty.Doc) string {
	if d == nil {
		return ""
	}
	b, _ := json.Marshal(d) // map keys sorted
	return hashSecret(string(b))[:16]
}

// Audit appends an entry to the audit trail. There is no method to change or remove one.
func (s *Store) Audit(ctx context.Context, e duty.AuditEntry) error {
	e.At = now()
	e.ID = e.At + "-" + randomHex(4)
	if e.IDs == nil {
		e.IDs = []string{}
	}
	if _, err := s.db.Collection(auditColl).InsertOne(ctx, e); err != nil {
		return fmt.Errorf("write audit trail: %w", unavailable(err))
	}
	return nil
}

// AuditTrail returns the newest entries first, at most limit, optionally of one actor.
func (s *Store) AuditTrail(ctx context.Context, actor string, limit int) ([]duty.AuditEntry, error) {
	filter := bson.D{}
	if actor != "" {
		filter = bson.D{{Key: "actor", Value: actor}}
	}
	cur, err := s.db.Collection(auditColl).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	out := []duty.AuditEntry{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read audit trail: %w", unavailable(err))
	}
	return out, nil
}

// PutUser creates or changes a user.
func (s *Store) PutUser(ctx context.Context, actor string, u duty.User) error {
	switch {
	case u.Name == "" || strings.ContainsAny(u.Name, " /\\\t\n"):
		return fmt.Errorf("user name %q: %w: expected a name without spaces or slashes", u.Name, duty.ErrInvalid)
	case !slices.Contains(duty.UserRoles, u.Role):
		return fmt.Errorf("role %q: %w: expected one of %s", u.Role, duty.ErrInvalid, strings.Join(duty.UserRoles, ", "))
	case u.Role == duty.RoleDepartment && u.Department == "":
		return fmt.Errorf("a department user needs a department: %w", duty.ErrInvalid)
	case u.Role != duty.RoleDepartment && u.Department != "":
		return fmt.Errorf("only a department user has a department: %w", duty.ErrInvalid)
	}
	if u.Department != "" {
		if _, err := s.Get(ctx, "departments", u.Department); err != nil {
			return fmt.Errorf("department %q of user %s: %w", u.Department, u.Name, duty.ErrInvalid)
		}
	}
	old, err := s.GetUser(ctx, u.Name)
	if err == nil {
		u.CreatedAt = old.CreatedAt
	} else {
		u.CreatedAt = now()
	}
	if _, err := s.db.Collection(usersColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: u.Name}}, u, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save user %s: %w", u.Name, unavailable(err))
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "user.put", Collection: usersColl, IDs: []string{u.Name},
		Before: []string{userHash(old)}, After: []string{userHash(&u)}})
}

func userHash(u *duty.User) string {
	if u == nil {
		return ""
	}
	return hashSecret(u.Name + "\x00" + u.Role + "\x00" + u.Department + fmt.Sprint(u.Disabled))[:16]
}

// GetUser returns a user.
func (s *Store) GetUser(ctx context.Context, name string) (*duty.User, error) {
	var u duty.User
	err := s.db.Collection(usersColl).FindOne(ctx, bson.D{{Key: "_id", Value: name}}).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("user %q: %w", name, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %q: %w", name, unavailable(err))
	}
	return &u, nil
}

// Users lists the users.
func (s *Store) Users(ctx context.Context) ([]duty.User, error) {
	cur, err := s.db.Collection(usersColl).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read users: %w", unavailable(err))
	}
	out := []duty.User{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read users: %w", unavailable(err))
	}
	slices.SortFunc(out, func(a, b duty.User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateToken makes a new bearer token for a user and returns it with its secret, which is
// shown once: only its hash is stored.
func (s *Store) CreateToken(ctx context.Context, actor, user, name string) (*duty.Token, string, error) {
	if _, err := s.GetUser(ctx, user); err != nil {
		return nil, "", err
	}
	id, secret := randomHex(6), randomHex(16)
	t := &duty.Token{ID: id, User: user, Name: name, Hash: hashSecret(secret), CreatedAt: now()}
	if err := s.insertToken(ctx, t); err != nil {
		return nil, "", err
	}
	if err := s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "token.create", Collection: tokensColl, IDs: []string{id},
		Before: []string{""}, After: []string{t.Hash[:16]}}); err != nil {
		return nil, "", err
	}
	return t, FormatToken(id, secret), nil
}

func (s *Store) insertToken(ctx context.Context, t *duty.Token) error {
	if _, err := s.db.Collection(tokensColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.ID}}, t, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save token: %w", unavailable(err))
	}
	return nil
}

// FormatToken is the bearer token a client sends: dct_<id>_<secret>.
func FormatToken(id, secret string) string { return "dct_" + id + "_" + secret }

// EnsureAdminToken makes the given token an admin's ("admin" user), for DUTYCHECK_ADMIN_TOKEN.
// Any string of 16 or more characters is accepted; it is stored hashed.
func (s *Store) EnsureAdminToken(ctx context.Context, token string) error {
	if len(token) < 16 {
		return fmt.Errorf("DUTYCHECK_ADMIN_TOKEN: %w: use at least 16 characters", duty.ErrInvalid)
	}
	if _, err := s.GetUser(ctx, "admin"); errors.Is(err, duty.ErrNotFound) {
		if err := s.PutUser(ctx, "system", duty.User{Name: "admin", Role: duty.RoleAdmin}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	id := "env-" + hashSecret(token)[:12]
	return s.insertToken(ctx, &duty.Token{ID: id, User: "admin", Name: "DUTYCHECK_ADMIN_TOKEN", Hash: hashSecret(token), CreatedAt: now()})
}

// Bootstrap creates the first admin and a token for it when there is no user at all; it
// returns the token ("" when users exist).
func (s *Store) Bootstrap(ctx context.Context) (string, error) {
	users, err := s.Users(ctx)
	if err != nil || len(users) > 0 {
		return "", err
	}
	if err := s.PutUser(ctx, "system", duty.User{Name: "admin", Role: duty.RoleAdmin}); err != nil {
		return "", err
	}
	_, token, err := s.CreateToken(ctx, "system", "admin", "first start")
	return token, err
}

// Tokens lists the tokens (without hashes), of one user or all.
func (s *Store) Tokens(ctx context.Context, user string) ([]duty.Token, error) {
	filter := bson.D{}
	if user != "" {
		filter = bson.D{{Key: "user", Value: user}}
	}
	cur, err := s.db.Collection(tokensColl).Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", unavailable(err))
	}
	out := []duty.Token{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read tokens: %w", unavailable(err))
	}
	slices.SortFunc(out, func(a, b duty.Token) int { return strings.Compare(a.CreatedAt, b.CreatedAt) })
	return out, nil
}

// RevokeToken revokes a token; revoked tokens stop working at once.
func (s *Store) RevokeToken(ctx context.Context, actor, id string) error {
	res, err := s.db.Collection(tokensColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: now()}}}})
	if err != nil {
		return fmt.Errorf("revoke token: %w", unavailable(err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("token %q: %w", id, duty.ErrNotFound)
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "token.revoke", Collection: tokensColl, IDs: []string{id},
		Before: []string{"active"}, After: []string{"revoked"}})
}

// Authenticate resolves a bearer token to its user. Unknown, malformed and revoked tokens and
// disabled users are all duty.ErrNotFound, so that an attacker learns nothing from the answer.
func (s *Store) Authenticate(ctx context.Context, token string) (*duty.Principal, error) {
	fail := fmt.Errorf("unknown or revoked token: %w", duty.ErrNotFound)
	var id, secret string
	if rest, ok := strings.CutPrefix(token, "dct_"); ok {
		id, secret, ok = strings.Cut(rest, "_")
		if !ok {
			return nil, fail
		}
	} else {
		id, secret = "env-"+hashSecret(token)[:12], token
	}
	var t duty.Token
	err := s.db.Collection(tokensColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fail
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", unavailable(err))
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hashSecret(secret))) != 1 || t.RevokedAt != "" {
		return nil, fail
	}
	return s.principal(ctx, t.User)
}

func (s *Store) principal(ctx context.Context, user string) (*duty.Principal, error) {
	u, err := s.GetUser(ctx, user)
	if err != nil || u.Disabled {
		return nil, fmt.Errorf("unknown or disabled user: %w", duty.ErrNotFound)
	}
	return &duty.Principal{User: u.Name, Role: u.Role, Department: u.Department}, nil
}

// Session is a signed-in browser.
type Session struct {
	Principal duty.Principal
	CSRF      string
}

type sessionDoc struct {
	ID      string `bson:"_id"`
	User    string `bson:"user"`
	CSRF    string `bson:"csrf"`
	Expires string `bson:"expires"`
}

// CreateSession starts a browser session for a user and returns its cookie value.
func (s *Store) CreateSession(ctx context.Context, user string, ttl time.Duration) (string, error) {
	id := randomHex(24)
	d := sessionDoc{ID: hashSecret(id), User: user, CSRF: randomHex(16), Expires: time.Now().Add(ttl).UTC().Format(duty.TimeFormat)}
	if _, err := s.db.Collection(sessionsColl).InsertOne(ctx, d); err != nil {
		return "", fmt.Errorf("save session: %w", unavailable(err))
	}
	return id, nil
}

// Session resolves a session cookie value; expired and unknown sessions are duty.ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	var d sessionDoc
	err := s.db.Collection(sessionsColl).FindOne(ctx, bson.D{{Key: "_id", Value: hashSecret(id)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && d.Expires < now()) {
		return nil, fmt.Errorf("no such session: %w", duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", unavailable(err))
	}
	p, err := s.principal(ctx, d.User)
	if err != nil {
		return nil, err
	}
	return &Session{Principal: *p, CSRF: d.CSRF}, nil
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.Collection(sessionsColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: hashSecret(id)}})
	if err != nil {
		return fmt.Errorf("delete session: %w", unavailable(err))
	}
	return nil
}
