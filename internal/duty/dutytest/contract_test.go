package dutytest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// contract is what both the real store and the fake offer to this test.
type contract interface {
	duty.Store
	CreateToken(ctx context.Context, actor, user, name string) (*duty.Token, string, error)
}

const (
	scope   = "ORG-1-OFF"    // a department user's subtree
	inside  = "ORG-1-DIV-04" // a division in it
	outside = "ORG-1-DIV-01" // a division outside it
)

// kind names the kind of an error, as the edges' status table sees it.
func kind(err error) string {
	var ve *duty.ValidationError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ve):
		return fmt.Sprintf("refused: %v", ve.Problems)
	case errors.Is(err, duty.ErrInvalid):
		return "invalid"
	case errors.Is(err, duty.ErrNotFound):
		return "not found"
	case errors.Is(err, duty.ErrConflict):
		return "conflict"
	}
	return "other: " + err.Error()
}

// story drives a store through the paths the edges' tests rely on and tells what each step
// answered, so that the fake's story can be compared with the real store's.
func story(t *testing.T, st contract) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	say := func(step string, err error) { out = append(out, step+": "+kind(err)) }
	raw, err := duty.ReadDir("../../../fixtures/sample")
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.PutMany(ctx, duty.System("test"), raw)
	say(fmt.Sprintf("load the sample (%d records)", n), err)

	// Records, scoped.
	dept := duty.Principal{User: "office", Role: duty.RoleDepartment, Department: scope}
	_, err = st.Get(ctx, "people", "ORG-1-P-048")
	say("get a person", err)
	_, err = st.Get(ctx, "people", "nobody")
	say("get nobody", err)
	_, err = st.Get(ctx, "nonsense", "x")
	say("get from an unknown collection", err)
	_, err = st.GetScoped(ctx, dept, "people", "ORG-1-P-048")
	say("department user reads inside", err)
	_, err = st.GetScoped(ctx, dept, "people", "ORG-1-P-030")
	say("department user reads outside", err)
	for _, d := range []string{inside, outside, ""} {
		ok, err := st.InScope(ctx, dept, d)
		say(fmt.Sprintf("in scope %q %v", d, ok), err)
	}
	err = st.Delete(ctx, duty.System("test"), "departments", inside)
	say("delete a department still named", err)
	err = st.Delete(ctx, dept, "people", "ORG-1-P-030")
	say("department user deletes outside", err)
	_, err = st.PutBatch(ctx, duty.System("test"), "talks", []duty.RawDoc{{Index: 0, Value: map[string]any{"id": "T-X", "kind": "pre_appointment", "person_id": "nobody", "held_on": "2025-13-01"}}})
	say("an invalid talk", err)
	_, err = st.PutBatch(ctx, dept, "talks", []duty.RawDoc{{Index: 0, Value: map[string]any{"id": "T-OUT", "kind": "pre_appointment", "person_id": "ORG-1-P-030", "conducted_by": "ORG-1-P-031", "held_on": "2025-03-01", "recorded": true}}})
	say("department user writes outside", err)
	_, err = st.PutBatch(ctx, dept, "talks", []duty.RawDoc{{Index: 0, Value: map[string]any{"id": "T-IN", "kind": "pre_appointment", "person_id": "ORG-1-P-049", "conducted_by": "ORG-1-P-048", "held_on": "2025-03-01", "recorded": true}}})
	say("department user writes inside", err)
	_, err = st.GetScoped(ctx, dept, "talks", "T-IN")
	say("department user reads its talk", err)
	err = st.Delete(ctx, dept, "talks", "T-IN")
	say("department user deletes its talk", err)
	_, err = st.Get(ctx, "talks", "T-IN")
	say("the deleted talk", err)
	refs, err := st.Referrers(ctx, "people", "ORG-1-P-049", 5)
	say(fmt.Sprintf("referrers of a person: %d", len(refs)), err)

	// Users, tokens, sessions and passwords.
	say("admin", st.PutUser(ctx, "test", duty.User{Name: "admin", Role: duty.RoleAdmin}))
	say("a user in an unknown department", st.PutUser(ctx, "test", duty.User{Name: "x", Role: duty.RoleDepartment, Department: "nowhere"}))
	say("a user with a bad display name", st.PutUser(ctx, "test", duty.User{Name: "x", Role: duty.RoleInspector, DisplayName: " x"}))
	say("a department user", st.PutUser(ctx, "test", duty.User{Name: "office", Role: duty.RoleDepartment, Department: scope}))
	say("demote the last admin", st.PutUser(ctx, "test", duty.User{Name: "admin", Role: duty.RoleInspector}))
	tk, tok, err := st.CreateToken(ctx, "test", "office", "script")
	say("a token", err)
	p, err := st.Authenticate(ctx, tok)
	say("sign in with it", err)
	if err == nil {
		out = append(out, fmt.Sprintf("principal %s %s %s", p.User, p.Role, p.Scope()))
	}
	_, err = st.Authenticate(ctx, tok+"x")
	say("a wrong secret", err)
	_, _, err = st.CreateTokenUntil(ctx, "test", "office", "old", time.Now().Add(-time.Hour))
	say("a token expired at birth", err)
	sess, err := st.CreateSession(ctx, duty.Principal{User: "office", Token: tk.ID}, time.Hour)
	say("a session", err)
	_, err = st.Session(ctx, sess)
	say("the session", err)
	say("revoke the token", st.RevokeToken(ctx, "test", tk.ID))
	_, err = st.Authenticate(ctx, tok)
	say("the revoked token", err)
	_, err = st.Session(ctx, sess)
	say("the session of the revoked token", err)
	say("a short password", st.SetPassword(ctx, "test", "office", "short"))
	say("a password", st.SetPassword(ctx, "test", "office", "长城永不倒 2026"))
	pp, err := st.SignIn(ctx, "office", "长城永不倒 2026")
	say("sign in with it", err)
	_, err = st.SignIn(ctx, "office", "长城永不倒 2027")
	say("a wrong password", err)
	if pp != nil {
		s2, err := st.CreateSession(ctx, *pp, time.Hour)
		say("a password session", err)
		say("a new password", st.SetPassword(ctx, "test", "office", "长城永不倒 2027"))
		_, err = st.Session(ctx, s2)
		say("the session of the old password", err)
	}
	ok, err := st.HasPassword(ctx, "office")
	say(fmt.Sprintf("has a password %v", ok), err)
	users, err := st.Users(ctx)
	say(fmt.Sprintf("users %d", len(users)), err)
	trail, _, err := st.AuditSearch(ctx, duty.AuditQuery{Action: "user.password", Record: "office"})
	say(fmt.Sprintf("password audit entries %d", len(trail)), err)

	// Webhooks.
	say("a webhook on an unknown department", st.CreateWebhook(ctx, "admin", &duty.Webhook{Name: "w", Kind: duty.WebhookGeneric, URL: "https://example.org/h", Departments: []string{"nowhere"}}))
	w := &duty.Webhook{Name: "w", Kind: duty.WebhookGeneric, URL: "https://example.org/h", Departments: []string{inside}}
	say("a webhook", st.CreateWebhook(ctx, "admin", w))
	_, err = st.GetWebhook(ctx, w.ID)
	say("get it", err)
	say("delete it", st.DeleteWebhook(ctx, "admin", w.ID))
	say("delete it again", st.DeleteWebhook(ctx, "admin", w.ID))
	return out
}

// TestFakeKeepsTheContract: the fake answers every step of the story as the real store does
// (embedded FerretDB, or MONGODB_URI), the same kinds of error and the same refusals.
func TestFakeKeepsTheContract(t *testing.T) {
	real := story(t, storetest.Open(t))
	fake := story(t, dutytest.NewStore(dutytest.Config{}))
	sameStory(t, real, fake,
		"department user reads outside: not found",
		"delete a department still named: conflict",
		"demote the last admin: conflict",
		"the session of the revoked token: not found",
		"the session of the old password: not found",
	)
}

// sameStory fails t unless the fake told the story as the store did and the store's story
// holds every step of want (so that the comparison is not of two stories that prove nothing).
// On a failure it logs the store's story.
func sameStory(t *testing.T, real, fake []string, want ...string) {
	t.Helper()
	if diff := cmp.Diff(real, fake); diff != "" {
		t.Errorf("the fake differs from the store (-store +fake):\n%s", diff)
	}
	for _, w := range want {
		if !slices.Contains(real, w) {
			t.Errorf("the store's story lacks %q", w)
		}
	}
	if t.Failed() {
		for _, l := range real {
			t.Log(l)
		}
	}
}
