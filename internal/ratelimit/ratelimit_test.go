package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/ratelimit"
)

func TestFailures(t *testing.T) {
	now := time.Date(2025, 6, 30, 9, 0, 0, 0, time.UTC)
	f := ratelimit.New(3, time.Minute)
	f.Now = func() time.Time { return now }
	for i := range 3 {
		if !f.Allow("a") {
			t.Fatalf("locked out after %d failures, want 3", i)
		}
		f.Fail("a")
	}
	if f.Allow("a") {
		t.Error("allowed after 3 failures")
	}
	if !f.Allow("b") {
		t.Error("another address is locked out too")
	}
	now = now.Add(time.Minute + time.Second)
	if !f.Allow("a") {
		t.Error("still locked out after the window")
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
		{"not an address", "not an address"},
	}
	for _, tc := range tests {
		if got := ratelimit.Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// fakeShared is the store's count, in memory, for several Failures at once.
type fakeShared struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *fakeShared) AddFailure(_ context.Context, key string, start time.Time, _ time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key + start.String()
	s.n[k]++
	return s.n[k], nil
}

// TestSharedFailures: three processes sharing a count allow at most max + 2 failures of one
// address in a window together (not 3 × max), whichever process each attempt reaches.
func TestSharedFailures(t *testing.T) {
	now := time.Date(2025, 6, 30, 9, 0, 10, 0, time.UTC)
	shared := &fakeShared{n: map[string]int{}}
	var procs []*ratelimit.Failures
	for range 3 {
		f := ratelimit.New(10, time.Minute)
		f.Now = func() time.Time { return now }
		f.Shared = shared
		procs = append(procs, f)
	}
	allowed := 0
	for i := range 60 {
		f := procs[i%3]
		if f.Allow("a") {
			allowed++
			f.Fail("a")
		}
	}
	if allowed > 12 || allowed < 10 {
		t.Errorf("%d attempts allowed across 3 processes, want 10 to 12", allowed)
	}
	// Every process has locked the address out now, and frees it in the next window.
	for i, f := range procs {
		if f.Allow("a") {
			t.Errorf("process %d still allows the address", i)
		}
	}
	now = now.Add(time.Minute)
	if !procs[0].Allow("a") {
		t.Error("still locked out in the next window")
	}
}
