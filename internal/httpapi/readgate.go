package httpapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

// DefaultMaxReads is how many reads (GET and HEAD requests, pages included) the service
// handles at once by default. Each holds a store connection or two while it runs; the MongoDB
// driver has 100, which a burst of slow reads used up at 100 requests a second, the rest then
// failing. Beyond the limit a read waits for its turn, until its deadline (RequestTimeout) or
// until its client leaves, instead of failing; writes, scans and the health checks do not wait.
const DefaultMaxReads = 32

// readGate is a counting semaphore of the reads under way.
type readGate chan struct{}

func newReadGate(n int) readGate { return make(readGate, n) }

// enter waits for a turn; an error (the context's) when ctx ends first.
func (g readGate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	default:
	}
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g readGate) leave() { <-g }

// gateReads is the middleware that makes reads take their turn.
func (s *server) gateReads(c *gin.Context) {
	m, p := c.Request.Method, c.Request.URL.Path
	if m != "GET" && m != "HEAD" || p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") {
		c.Next()
		return
	}
	if err := s.reads.enter(c.Request.Context()); err != nil {
		s.fail(c, fmt.Errorf("waiting for a turn to read: %w", err))
		c.Abort()
		return
	}
	defer s.reads.leave()
	c.Next()
}
