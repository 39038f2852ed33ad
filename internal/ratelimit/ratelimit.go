// Package ratelimit counts failed sign-ins per client address and per account, so that the API
// and the pages can lock out an address that guesses tokens or passwords, and an account whose
// password is being guessed from many addresses. With a Shared count (the store), the replicas of
// one service count together.
package ratelimit

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// Shared is a count of failures that several processes add to, kept in the store: Add counts
// one failure of key in the window starting at start (windows are aligned to the clock, so
// every process names the same one) and returns the window's total.
type Shared interface {
	AddFailure(ctx context.Context, key string, start time.Time, window time.Duration) (int, error)
}

// Failures counts failures per key in fixed windows aligned to the clock (minute 09:00, 09:01,
// ... for a one-minute window); it is safe for concurrent use.
//
// With Shared set, each failure is also added to the shared count and the local count follows
// the shared total. Allow still decides from the local count alone, so that a request costs no
// store read: a process that has seen no failure of a key allows one attempt, whose failure
// brings it the shared total. N processes thus allow at most max + N - 1 failures per window
// together, instead of N × max.
type Failures struct {
	// Now is the clock; nil means time.Now. Tests set it before the first use.
	Now func() time.Time
	// Shared, when set, is the count the processes sharing a store add to. A failure to reach
	// it leaves the local count in force.
	Shared  Shared
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

func (f *Failures) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// current is the start of the window now is in.
func (f *Failures) current() time.Time { return f.now().Truncate(f.window) }

// Allow reports whether key may try again: fewer than max failures in the current window.
func (f *Failures) Allow(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.windows[key]
	return w == nil || !w.start.Equal(f.current()) || w.n < f.max
}

// Fail counts one failure of key.
func (f *Failures) Fail(key string) {
	f.mu.Lock()
	start := f.current()
	if len(f.windows) > 10000 { // forget old windows rather than grow without bound
		for k, w := range f.windows {
			if !w.start.Equal(start) {
				delete(f.windows, k)
			}
		}
	}
	w := f.windows[key]
	if w == nil || !w.start.Equal(start) {
		w = &window{start: start}
		f.windows[key] = w
	}
	w.n++
	shared := f.Shared
	f.mu.Unlock()
	if shared == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := shared.AddFailure(ctx, key, start, f.window)
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if w := f.windows[key]; w != nil && w.start.Equal(start) && n > w.n {
		w.n = n
	}
}

// AccountKey is the key failed sign-ins of a user name are counted under, whatever address they
// come from (a name that no user has counts too, so that the answer tells nothing). No address
// key (Key) has this form.
func AccountKey(name string) string { return "account:" + name }

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
