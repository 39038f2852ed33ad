package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/clock"
	"github.com/dutycheck/dutycheck/internal/priority"
)

// The gate lets n readers in; the next waits until one leaves, or fails with its context's
// error when that ends first.
func TestReadGate(t *testing.T) {
	t.Parallel()
	g := newGate(2)
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
	t.Parallel()
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

// Large bodies beyond Config.MaxLargeBodies are refused at once with 429 and Retry-After,
// before they are read; small bodies and reads pass; once the large one ends, the next is
// read. The test holds the first request inside with a channel, never a clock.
func TestLargeBodiesBounded(t *testing.T) {
	t.Parallel()
	inside, release := make(chan int64), make(chan struct{})
	var larges atomic.Int32
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n > LargeBody && larges.Add(1) == 1 { // the first one stays inside until released
			inside <- n
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(New(Config{MaxLargeBodies: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Pages: pages}))
	defer srv.Close()
	large := func() []byte { return make([]byte, 2*LargeBody) }
	post := func(body io.Reader, length int64) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/sheets", body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := make(chan int)
	go func() { first <- post(bytes.NewReader(large()), 2*LargeBody).StatusCode }()
	if n := <-inside; n != 2*LargeBody {
		t.Fatalf("the first large body read %d bytes", n)
	}

	// The one turn is taken: a second large body, or one of a length not given, is refused.
	for _, tc := range []struct {
		note   string
		length int64
	}{{"declared large", 2 * LargeBody}, {"length not given", -1}} {
		resp := post(io.MultiReader(bytes.NewReader(large())), tc.length)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s while another is read: %d, Retry-After %q; want 429 with Retry-After", tc.note, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	// A small body and a read are not held up.
	if resp := post(bytes.NewReader([]byte("a=1")), 3); resp.StatusCode != http.StatusOK {
		t.Errorf("a small body: %d", resp.StatusCode)
	}
	if resp, err := http.Get(srv.URL + "/page"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("a read: %v %v", resp, err)
	}

	close(release)
	if status := <-first; status != http.StatusOK {
		t.Errorf("the first large body: %d", status)
	}
	// The turn is free again.
	if resp := post(bytes.NewReader(large()), 2*LargeBody); resp.StatusCode != http.StatusOK || larges.Load() != 2 {
		t.Errorf("a large body after the first: %d (%d large bodies read in all, want 2)", resp.StatusCode, larges.Load())
	}
}

// Beyond Config.MaxWaitingReads a read is refused at once with 429 and Retry-After instead of
// queueing: with one turn and one place in the queue, of two reads arriving while a third is
// inside, one waits and the other is refused; the waiting one is served once the third leaves.
// The request inside is held by a channel, never a clock.
func TestWaitingReadsBounded(t *testing.T) {
	t.Parallel()
	inside, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			inside <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(New(Config{MaxReads: 1, MaxWaitingReads: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Pages: pages}))
	defer srv.Close()
	type answer struct {
		status int
		retry  string
	}
	answers := make(chan answer, 3)
	get := func() {
		resp, err := http.Get(srv.URL + "/page")
		if err != nil {
			answers <- answer{}
			return
		}
		resp.Body.Close()
		answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After")}
	}
	go get()
	<-inside
	go get()
	go get()
	// Nothing can answer before the release but a refusal.
	if a := <-answers; a.status != http.StatusTooManyRequests || a.retry == "" {
		t.Fatalf("a read beyond the queue answered %d (Retry-After %q), want 429 with Retry-After", a.status, a.retry)
	}
	close(release)
	for range 2 {
		if a := <-answers; a.status != http.StatusOK {
			t.Errorf("a queued read answered %d, want 200", a.status)
		}
	}
}

// A scan gives way to the reads (Config.Reads): its pacer waits while a read is handled and
// while another waits for its turn at the gate, and once they ended, for the quiet spell. The
// test holds the reads with channels and moves a fake clock.
func TestReadsComeBeforeScans(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	reads := priority.New(time.Second, clk)
	inside, release := make(chan struct{}), make(chan struct{})
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(New(Config{MaxReads: 1, Reads: reads, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Pages: pages}))
	defer srv.Close()
	var wg sync.WaitGroup
	get := func() {
		wg.Go(func() {
			resp, err := http.Get(srv.URL + "/page")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	get()
	<-inside
	paced := make(chan bool, 1)
	go func() { paced <- reads.Wait(ctx, nil) }()
	get()                     // waits at the gate behind the first
	for reads.Running() < 2 { // until the server has it
		if ctx.Err() != nil {
			t.Fatal("the second read never reached the gate")
		}
		runtime.Gosched()
	}
	release <- struct{}{}
	<-inside // the second, counted all along: the pacer never started the quiet spell
	if s := clk.Sleeping(); len(s) != 0 {
		t.Errorf("the pacer slept out a spell while a read waited at the gate: %v", s)
	}
	select {
	case <-paced:
		t.Fatal("the scan went on while reads ran")
	default:
	}
	release <- struct{}{}
	wg.Wait()
	if err := clk.WaitSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if ok := <-paced; !ok {
		t.Fatal("the pacer after the quiet spell: false")
	}
}
