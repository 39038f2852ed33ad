// Package clock is the time source of dutycheck's timed work (scheduled scans, webhook retries):
// the real clock in the service and a fake one that tests move by hand, so that no test waits on
// the wall clock.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and sleeps.
type Clock interface {
	Now() time.Time
	// Sleep returns after d, or with ctx's error when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the machine's clock.
type Real struct{}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d or for ctx to end.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fake is a clock that moves only when told (Set, Advance); sleepers wake when it passes their
// deadline. Tests wait for a goroutine to be asleep with WaitSleepers.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []*sleeper
	changed chan struct{} // closed and replaced whenever a sleeper comes or goes
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
	d     time.Duration
}

// NewFake returns a fake clock showing t.
func NewFake(t time.Time) *Fake { return &Fake{now: t, changed: make(chan struct{})} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *Fake) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Sleep waits until the fake time has moved d past now, or ctx ends.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	f.mu.Lock()
	s := &sleeper{until: f.now.Add(d), wake: make(chan struct{}), d: d}
	f.sleeps = append(f.sleeps, s)
	f.signal()
	f.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		f.remove(s)
		f.mu.Unlock()
		return ctx.Err()
	}
}

func (f *Fake) remove(s *sleeper) {
	for i, x := range f.sleeps {
		if x == s {
			f.sleeps = append(f.sleeps[:i], f.sleeps[i+1:]...)
			f.signal()
			return
		}
	}
}

// Set moves the clock to t (forward or back) and wakes the sleepers whose time has come.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	kept := f.sleeps[:0]
	for _, s := range f.sleeps {
		if !s.until.After(t) {
			close(s.wake)
		} else {
			kept = append(kept, s)
		}
	}
	if len(kept) != len(f.sleeps) {
		f.sleeps = kept
		f.signal()
	}
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Sleeping returns the durations the current sleepers asked for, in the order they fell asleep.
func (f *Fake) Sleeping() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Duration, len(f.sleeps))
	for i, s := range f.sleeps {
		out[i] = s.d
	}
	return out
}

// WaitSleepers blocks until at least n goroutines sleep on the clock, or ctx ends.
func (f *Fake) WaitSleepers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, ch := len(f.sleeps), f.changed
		f.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
