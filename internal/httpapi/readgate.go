package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// DefaultMaxReads is how many reads (GET and HEAD requests, pages included) the service
// handles at once by default. Each holds a store connection or two while it runs; the MongoDB
// driver has 100, which a burst of slow reads used up at 100 requests a second, the rest then
// failing. Beyond the limit a read waits for its turn, until its deadline (RequestTimeout) or
// until its client leaves, instead of failing; writes, scans and the health checks do not wait.
const DefaultMaxReads = 32

// DefaultMaxWaitingReads is how many reads may wait for a turn by default. Beyond it a read is
// refused at once with 429 and Retry-After (duty.ErrBusy) instead of joining a queue that only
// grows: under a load the service cannot keep up with, every queued read would end at its
// deadline, each holding its connection (a file descriptor) all that time.
const DefaultMaxWaitingReads = 512

// gate is a counting semaphore: of the reads under way, of the large bodies being read.
type gate chan struct{}

// queue is a gate with a bounded number of waiters: of the reads.
type queue struct {
	gate
	waiting    atomic.Int64
	maxWaiting int64
}

// enter takes a turn, waiting for one only while fewer than maxWaiting others wait; a refusal
// is duty.ErrBusy, and an end of ctx while waiting is ctx's error.
func (q *queue) enter(ctx context.Context) error {
	if q.tryEnter() {
		return nil
	}
	if q.waiting.Add(1) > q.maxWaiting {
		q.waiting.Add(-1)
		return fmt.Errorf("%d reads are waiting for a turn, the most the service queues; try again shortly: %w", q.maxWaiting, duty.ErrBusy)
	}
	defer q.waiting.Add(-1)
	return q.gate.enter(ctx)
}

func newGate(n int) gate { return make(gate, n) }

// enter waits for a turn; an error (the context's) when ctx ends first.
func (g gate) enter(ctx context.Context) error {
	if g.tryEnter() { // a free turn is taken even when ctx has ended
		return nil
	}
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryEnter takes a turn if one is free, without waiting.
func (g gate) tryEnter() bool {
	select {
	case g <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g gate) leave() { <-g }

// gateReads is the middleware that makes reads take their turn.
func (s *server) gateReads(c *gin.Context) {
	m, p := c.Request.Method, c.Request.URL.Path
	if m != "GET" && m != "HEAD" || p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") {
		c.Next()
		return
	}
	defer s.cfg.Reads.Begin()() // counted while it waits too: a scan gives way to it
	if err := s.reads.enter(c.Request.Context()); err != nil {
		s.fail(c, fmt.Errorf("waiting for a turn to read: %w", err))
		c.Abort()
		return
	}
	defer s.reads.leave()
	c.Next()
}

// DefaultMaxLargeBodies is how many requests with a large body (over LargeBody bytes, or of a
// length not given) the service reads at once by default. A body is read whole (a batch, an
// uploaded workbook, evidence: up to Config.MaxBodyBytes, 32 MiB) and then decoded, so each
// costs a multiple of its size in memory: four at once stay within a few hundred MiB.
const DefaultMaxLargeBodies = 4

// LargeBody is the size above which a request body takes a turn of the large-body gate; forms,
// sign-ins and small batches never wait for one.
const LargeBody = 1 << 20

// gateBodies is the middleware that bounds the large bodies read at once: a request with one
// beyond Config.MaxLargeBodies is refused at once with 429 and Retry-After (duty.ErrBusy),
// before any of its body is read, rather than held open with its body unread.
func (s *server) gateBodies(c *gin.Context) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength >= 0 && r.ContentLength <= LargeBody {
		c.Next()
		return
	}
	if !s.bodies.tryEnter() {
		s.fail(c, fmt.Errorf("%d large request bodies are being read, the most at once; try again shortly: %w", cap(s.bodies), duty.ErrBusy))
		c.Abort()
		return
	}
	defer s.bodies.leave()
	c.Next()
}
