package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestPurgeSessions: expired sessions are deleted, live ones kept, on the clock given.
func TestPurgeSessions(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	token, err := st.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	short, err := st.CreateSession(ctx, *p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	long, err := st.CreateSession(ctx, *p, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.PurgeSessions(ctx, time.Now())
	if err != nil || n != 0 {
		t.Fatalf("purge now = %d, %v; want 0", n, err)
	}
	n, err = st.PurgeSessions(ctx, time.Now().Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge in two hours = %d, %v; want 1", n, err)
	}
	if _, err := st.Session(ctx, short); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("purged session: %v", err)
	}
	if s, err := st.Session(ctx, long); err != nil || s.Principal.User != p.User {
		t.Errorf("live session after the purge: %+v, %v", s, err)
	}
	if n, err := st.PurgeSessions(ctx, time.Now().Add(49*time.Hour)); err != nil || n != 1 {
		t.Errorf("purge in 49 hours = %d, %v; want 1", n, err)
	}
}
