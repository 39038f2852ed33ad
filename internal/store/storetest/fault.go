package storetest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
)

// FaultDialer opens the store's connections (store.Config.Dialer) and breaks them on demand, as
// a database server that goes away does: the command in flight fails with a network error. It
// stands for the faults a test cannot otherwise cause at a chosen point, such as a cursor that
// dies between two batches.
type FaultDialer struct {
	mu    sync.Mutex
	parts [][]byte // a command whose message holds every part breaks its connection
	skip  int      // matching commands let through before the one broken
	seen  int      // commands written
	down  bool
	fired int
}

// errBroken is what a broken connection answers.
var errBroken = errors.New("storetest: connection broken by the fault dialer")

// BreakOn arms the dialer: the next command whose wire message contains every part (a command
// name such as "getMore", a collection name) is not sent, and its connection is closed.
func (d *FaultDialer) BreakOn(parts ...string) {
	d.BreakAfter(0, parts...)
}

// BreakAfter arms the dialer as BreakOn does, but lets skip matching commands through first.
func (d *FaultDialer) BreakAfter(skip int, parts ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.skip = skip
	d.parts = nil
	for _, p := range parts {
		d.parts = append(d.parts, []byte(p))
	}
}

// SetDown makes every command fail (true), as an unreachable server does, or lets them through
// again (false).
func (d *FaultDialer) SetDown(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = down
}

// Fired reports how many commands the dialer has broken.
func (d *FaultDialer) Fired() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fired
}

// Seen reports how many commands were written through the dialer's connections.
func (d *FaultDialer) Seen() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen
}

// DialContext opens a connection as net.Dialer does, wrapped.
func (d *FaultDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	down := d.down
	d.mu.Unlock()
	if down {
		return nil, errBroken
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, d: d}, nil
}

type faultConn struct {
	net.Conn
	d *FaultDialer
}

func (c *faultConn) Write(b []byte) (int, error) {
	c.d.mu.Lock()
	c.d.seen++
	hit := c.d.down
	if !hit && len(c.d.parts) > 0 {
		hit = true
		for _, p := range c.d.parts {
			hit = hit && bytes.Contains(b, p)
		}
		if hit && c.d.skip > 0 {
			c.d.skip--
			hit = false
		} else if hit {
			c.d.parts = nil
		}
	}
	if hit {
		c.d.fired++
	}
	c.d.mu.Unlock()
	if hit {
		_ = c.Conn.Close()
		return 0, errBroken
	}
	return c.Conn.Write(b)
}
