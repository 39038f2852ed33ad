package ratelimit_test

import (
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
