package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestSimultaneousStartOnAnEmptyDatabase starts three stores at once on one empty database, as
// three replicas would (issue 18: one exited with E11000 on store_meta, users or tokens in 3 of 6
// tries): each sets the env admin token and imports the sample. Every start succeeds, and the
// records are there once.
func TestSimultaneousStartOnAnEmptyDatabase(t *testing.T) {
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	raw, err := duty.ReadDir(filepath.Join("..", "..", "fixtures", "sample"))
	if err != nil {
		t.Fatal(err)
	}
	const replicas = 3
	stores := make([]*store.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx := context.Background()
			st, err := store.Open(ctx, cfg)
			if err != nil {
				errs[i] = err
				return
			}
			stores[i] = st
			if err := st.EnsureAdminToken(ctx, "replica-admin-token-0123456789"); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = st.PutMany(ctx, admin, raw)
		}()
	}
	close(start)
	wg.Wait()
	for i, st := range stores {
		if st != nil {
			t.Cleanup(func() { _ = st.Close(context.Background()) })
		}
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
		}
	}
	if t.Failed() {
		return
	}
	for c, docs := range raw {
		for _, r := range docs {
			id, _ := r.Value.(map[string]any)["id"].(string)
			if _, err := stores[2].Get(context.Background(), c, id); err != nil {
				t.Errorf("%s %s: %v", c, id, err)
			}
		}
	}
	if _, err := stores[1].Authenticate(context.Background(), "replica-admin-token-0123456789"); err != nil {
		t.Errorf("the env admin token does not authenticate: %v", err)
	}
}

// TestSharedSignInFailures: two stores on one database (two replicas) add to one count of
// failed sign-ins per address and window; a new window starts from zero.
func TestSharedSignInFailures(t *testing.T) {
	cfg := storetest.NewConfig(t)
	cfg.Exclusive = false
	a, b := storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	start := time.Date(2025, 6, 30, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for _, st := range []*store.Store{a, b, a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.AddFailure(ctx, "203.0.113.7", start, time.Minute); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, err := b.AddFailure(ctx, "203.0.113.7", start, time.Minute); err != nil || n != 7 {
		t.Errorf("seventh failure: n = %d, %v; want 7", n, err)
	}
	if n, err := a.AddFailure(ctx, "203.0.113.8", start, time.Minute); err != nil || n != 1 {
		t.Errorf("another address: n = %d, %v; want 1", n, err)
	}
	if n, err := a.AddFailure(ctx, "203.0.113.7", start.Add(time.Minute), time.Minute); err != nil || n != 1 {
		t.Errorf("next window: n = %d, %v; want 1", n, err)
	}
}
