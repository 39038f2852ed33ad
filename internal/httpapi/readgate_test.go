package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// The gate lets n readers in; the next waits until one leaves, or fails with its context's
// error when that ends first.
func TestReadGate(t *testing.T) {
	g := newReadGate(2)
	ctx := context.Background()
	for range 2 {
		if err := g.enter(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.enter(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("a full gate let a reader in (err %v)", err)
	}
	entered := make(chan error)
	go func() { entered <- g.enter(ctx) }()
	g.leave()
	if err := <-entered; err != nil {
		t.Fatalf("the waiting reader: %v", err)
	}
}

// Reads beyond Config.MaxReads queue instead of failing: with one turn, five pages asked at
// once are served one after the other, all with 200, never two at a time.
func TestReadsQueue(t *testing.T) {
	var inside, most atomic.Int32
	release := make(chan struct{})
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		inside.Add(-1)
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(New(Config{MaxReads: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Pages: pages}))
	defer srv.Close()
	const n = 5
	var wg sync.WaitGroup
	status := make(chan int, n)
	for range n {
		wg.Go(func() {
			resp, err := http.Get(srv.URL + "/page")
			if err != nil {
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		})
	}
	for range n {
		release <- struct{}{} // taken by the one request inside
	}
	wg.Wait()
	close(status)
	for s := range status {
		if s != http.StatusOK {
			t.Errorf("a queued read answered %d", s)
		}
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d reads were handled at once, want 1", m)
	}
}
