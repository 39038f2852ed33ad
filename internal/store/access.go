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
	e.At = s.stamp()
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
	out, _, err := s.AuditSearch(ctx, AuditQuery{Actor: actor, Limit: limit})
	return out, err
}

// PutUser creates or changes a user. The last active admin can be neither demoted nor
// disabled (duty.ErrConflict): nobody could manage users afterwards.
func (s *Store) PutUser(ctx context.Context, actor string, u duty.User) error {
	if err := duty.CheckUser(u); err != nil {
		return err
	}
	if u.Department != "" {
		if _, err := s.Get(ctx, "departments", u.Department); err != nil {
			return fmt.Errorf("department %q of user %s: %w", u.Department, u.Name, duty.ErrInvalid)
		}
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	old, err := s.GetUser(ctx, u.Name)
	switch {
	case err == nil:
		u.CreatedAt = old.CreatedAt
	case errors.Is(err, duty.ErrNotFound):
		u.CreatedAt = s.stamp()
	default:
		return err
	}
	if old != nil && activeAdmin(old) && !activeAdmin(&u) {
		n, err := s.db.Collection(usersColl).CountDocuments(ctx, bson.D{
			{Key: "_id", Value: bson.D{{Key: "$ne", Value: u.Name}}},
			{Key: "role", Value: duty.RoleAdmin},
			{Key: "disabled", Value: bson.D{{Key: "$ne", Value: true}}},
		})
		if err != nil {
			return fmt.Errorf("count admins: %w", unavailable(err))
		}
		if n == 0 {
			return fmt.Errorf("user %s is the last active admin and cannot be demoted or disabled; make another user admin first: %w", u.Name, duty.ErrConflict)
		}
	}
	if err := upsertRetry(func() error {
		_, err := s.db.Collection(usersColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: u.Name}}, u, options.Replace().SetUpsert(true))
		return err
	}); err != nil {
		return fmt.Errorf("save user %s: %w", u.Name, unavailable(err))
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "user.put", Collection: usersColl, IDs: []string{u.Name},
		Before: []string{userHash(old)}, After: []string{userHash(&u)}})
}

func activeAdmin(u *duty.User) bool { return u.Role == duty.RoleAdmin && !u.Disabled }

func userHash(u *duty.User) string {
	if u == nil {
		return ""
	}
	return hashSecret(u.Name + "\x00" + u.Role + "\x00" + u.Department + fmt.Sprint(u.Disabled) + "\x00" + u.DisplayName)[:16]
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
	set, err := s.passwordUsers(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].PasswordSet = set[out[i].Name]
	}
	return out, nil
}

// CreateToken makes a new bearer token for a user, without expiry (CreateTokenUntil).
func (s *Store) CreateToken(ctx context.Context, actor, user, name string) (*duty.Token, string, error) {
	return s.CreateTokenUntil(ctx, actor, user, name, time.Time{})
}

// CreateTokenUntil makes a new bearer token for a user and returns it with its secret, which
// is shown once: only its hash is stored. A non-zero expires is the moment from which the
// token is refused; it must lie in the future.
func (s *Store) CreateTokenUntil(ctx context.Context, actor, user, name string, expires time.Time) (*duty.Token, string, error) {
	if err := duty.CheckTokenRequest(name, expires, s.clock()); err != nil {
		return nil, "", err
	}
	if _, err := s.GetUser(ctx, user); err != nil {
		return nil, "", err
	}
	id, secret := randomHex(6), randomHex(16)
	t := &duty.Token{ID: id, User: user, Name: name, Hash: hashSecret(secret), CreatedAt: s.stamp()}
	if !expires.IsZero() {
		t.ExpiresAt = expires.UTC().Format(duty.TimeFormat)
	}
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
	if err := upsertRetry(func() error {
		_, err := s.db.Collection(tokensColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.ID}}, t, options.Replace().SetUpsert(true))
		return err
	}); err != nil {
		return fmt.Errorf("save token: %w", unavailable(err))
	}
	return nil
}

// FormatToken is the bearer token a client sends: dct_<id>_<secret>.
func FormatToken(id, secret string) string { return "dct_" + id + "_" + secret }

// envTokenName names the token made from DUTYCHECK_ADMIN_TOKEN.
const envTokenName = "DUTYCHECK_ADMIN_TOKEN"

// EnsureAdminToken makes the given token an admin's ("admin" user), for DUTYCHECK_ADMIN_TOKEN.
// Any string of 16 or more characters is accepted; it is stored hashed. Every other token made
// from the variable is revoked, so that rotating the variable ends the old token (and the browser
// sessions started with it). A token that an admin revoked stays revoked: the service refuses to
// start with it.
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
	var old duty.Token
	err := s.db.Collection(tokensColl).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&old)
	switch {
	case err == nil && old.RevokedAt != "":
		return fmt.Errorf("DUTYCHECK_ADMIN_TOKEN: %w: this token was revoked on %s; set a new one", duty.ErrInvalid, old.RevokedAt)
	case err == nil:
	case errors.Is(err, mongo.ErrNoDocuments):
		if err := s.insertToken(ctx, &duty.Token{ID: id, User: "admin", Name: envTokenName, Hash: hashSecret(token), CreatedAt: s.stamp()}); err != nil {
			return err
		}
		if err := s.Audit(ctx, duty.AuditEntry{Actor: "system", Action: "token.create", Collection: tokensColl, IDs: []string{id},
			Before: []string{""}, After: []string{hashSecret(token)[:16]}}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("read token: %w", unavailable(err))
	}
	cur, err := s.db.Collection(tokensColl).Find(ctx, bson.D{
		{Key: "name", Value: envTokenName},
		{Key: "_id", Value: bson.D{{Key: "$ne", Value: id}}},
		{Key: "revoked_at", Value: bson.D{{Key: "$exists", Value: false}}},
	})
	if err != nil {
		return fmt.Errorf("read tokens: %w", unavailable(err))
	}
	var stale []duty.Token
	if err := cur.All(ctx, &stale); err != nil {
		return fmt.Errorf("read tokens: %w", unavailable(err))
	}
	for _, t := range stale {
		if !strings.HasPrefix(t.ID, "env-") {
			continue
		}
		if err := s.RevokeToken(ctx, "system", t.ID); err != nil {
			return fmt.Errorf("revoke the previous DUTYCHECK_ADMIN_TOKEN: %w", err)
		}
	}
	return nil
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
	_, token, err := s.CreateToken(ctx, "system", "admin", "first-start")
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
	at := s.stamp()
	for i := range out {
		out[i].Status = out[i].StatusAt(at)
	}
	return out, nil
}

// RevokeToken revokes a token; revoked tokens stop working at once.
func (s *Store) RevokeToken(ctx context.Context, actor, id string) error {
	res, err := s.db.Collection(tokensColl).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: s.stamp()}}}})
	if err != nil {
		return fmt.Errorf("revoke token: %w", unavailable(err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("token %q: %w", id, duty.ErrNotFound)
	}
	return s.Audit(ctx, duty.AuditEntry{Actor: actor, Action: "token.revoke", Collection: tokensColl, IDs: []string{id},
		Before: []string{"active"}, After: []string{"revoked"}})
}

// Authenticate resolves a bearer token to its user. Unknown, malformed, revoked and expired
// tokens and disabled users are all duty.ErrNotFound, so that an attacker learns nothing from
// the answer.
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
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hashSecret(secret))) != 1 || t.StatusAt(s.stamp()) != duty.TokenActive {
		return nil, fail
	}
	p, err := s.principal(ctx, t.User)
	if err != nil {
		return nil, err
	}
	p.Token = t.ID
	return p, nil
}

func (s *Store) principal(ctx context.Context, user string) (*duty.Principal, error) {
	u, err := s.GetUser(ctx, user)
	switch {
	case errors.Is(err, duty.ErrNotFound) || err == nil && u.Disabled:
		return nil, fmt.Errorf("unknown or disabled user: %w", duty.ErrNotFound)
	case err != nil:
		// The store did not answer: not a failed sign-in (which the rate limit counts), a 503.
		return nil, err
	}
	return &duty.Principal{User: u.Name, Role: u.Role, Department: u.Department, DisplayName: u.DisplayName}, nil
}

// Session is a signed-in browser (duty.Session).
type Session = duty.Session

type sessionDoc struct {
	ID    string `bson:"_id"`
	User  string `bson:"user"`
	Token string `bson:"token"`
	// Password is the stamp of the password a session signed in by name and password was
	// started with (Token is then "").
	Password string `bson:"password,omitempty"`
	CSRF     string `bson:"csrf"`
	Expires  string `bson:"expires"`
}

// CreateSession starts a browser session for the principal signed in with a token
// (Authenticate) or a password (SignIn) and returns its cookie value. The session lives as
// long as that token or password: it ends when the token is revoked or expires, the password is
// set again or its user disabled, whichever comes first, or after ttl.
func (s *Store) CreateSession(ctx context.Context, p duty.Principal, ttl time.Duration) (string, error) {
	if p.Token == "" && p.Password == "" || p.User == "" {
		return "", fmt.Errorf("a session needs the token or password it was started with: %w", duty.ErrInvalid)
	}
	id := randomHex(24)
	d := sessionDoc{ID: hashSecret(id), User: p.User, Token: p.Token, Password: p.Password, CSRF: randomHex(16),
		Expires: s.clock().Add(ttl).UTC().Format(duty.TimeFormat)}
	if _, err := s.db.Collection(sessionsColl).InsertOne(ctx, d); err != nil {
		return "", fmt.Errorf("save session: %w", unavailable(err))
	}
	return id, nil
}

// Session resolves a session cookie value. Expired and unknown sessions, sessions whose token
// was revoked or expired, whose password was set again or whose user was disabled (checked on
// every call), and sessions saved with neither (before tokens bound them) are all
// duty.ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	gone := fmt.Errorf("no such session: %w", duty.ErrNotFound)
	var d sessionDoc
	at := s.stamp()
	err := s.db.Collection(sessionsColl).FindOne(ctx, bson.D{{Key: "_id", Value: hashSecret(id)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (d.Expires < at || d.Token == "" && d.Password == "")) {
		return nil, gone
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", unavailable(err))
	}
	if d.Token != "" {
		var t duty.Token
		err = s.db.Collection(tokensColl).FindOne(ctx, bson.D{{Key: "_id", Value: d.Token}}).Decode(&t)
		if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (t.StatusAt(at) != duty.TokenActive || t.User != d.User)) {
			return nil, gone
		}
		if err != nil {
			return nil, fmt.Errorf("read token: %w", unavailable(err))
		}
	} else {
		stamp, err := s.passwordStamp(ctx, d.User)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare([]byte(stamp), []byte(d.Password)) != 1 {
			return nil, gone
		}
	}
	p, err := s.principal(ctx, d.User)
	if err != nil {
		return nil, err
	}
	p.Token, p.Password = d.Token, d.Password
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

// PurgeSessions deletes the sessions expired at now, and those saved with neither a token nor a
// password (before tokens bound them), which never resolve; it returns how many.
func (s *Store) PurgeSessions(ctx context.Context, now time.Time) (int64, error) {
	unbound := bson.D{{Key: "$and", Value: bson.A{
		bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "token", Value: ""}},
			bson.D{{Key: "token", Value: bson.D{{Key: "$exists", Value: false}}}},
		}}},
		bson.D{{Key: "password", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}}
	res, err := s.db.Collection(sessionsColl).DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "expires", Value: bson.D{{Key: "$lt", Value: now.UTC().Format(duty.TimeFormat)}}}},
		unbound,
	}}})
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", unavailable(err))
	}
	return res.DeletedCount, nil
}
