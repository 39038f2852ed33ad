// Package ratelimit counts failed sign-ins per client address, so that the API and the pages
// can lock out an address that guesses tokens.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// Failures counts failures per key in fixed windows; it is safe for concurrent use.
type Failures struct {
	// Now is the clock; nil means time.Now. Tests set it before the first use.
	Now     func() time.Time
	mu      sync.Mutex
	max     int
	window  time.Duration
	windows map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// New allows max failures per key within each window.
func New(max int, per time.Duration) *Failures {
	return &Failures{max: max, window: per, windows: map[string]*window{}}
}

func (f *Failures) since(t time.Time) time.Duration {
	if f.Now == nil {
		return time.Since(t)
	}
	return f.Now().Sub(t)
}

func (f *Failures) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// Allow reports whether key may try again: fewer than max failures in its current window.
func (f *Failures) Allow(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.windows[key]
	return w == nil || f.since(w.start) > f.window || w.n < f.max
}

// Fail counts one failure of key.
func (f *Failures) Fail(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.windows) > 10000 { // forget old windows rather than grow without bound
		for k, w := range f.windows {
			if f.since(w.start) > f.window {
				delete(f.windows, k)
			}
		}
	}
	w := f.windows[key]
	if w == nil || f.since(w.start) > f.window {
		w = &window{start: f.now()}
		f.windows[key] = w
	}
	w.n++
}

// Key is the key failures of a client address are counted under: the address itself for IPv4,
// its /64 network for IPv6 (one host usually holds a whole /64, and would otherwise have 2^64
// fresh keys to try from). Anything that is not an address is its own key.
func Key(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
