package ratelimit_test

import (
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/ratelimit"
)

func TestFailures(t *testing.T) {
	f := ratelimit.New(3, 50*time.Millisecond)
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
	time.Sleep(60 * time.Millisecond)
	if !f.Allow("a") {
		t.Error("still locked out after the window")
	}
}
