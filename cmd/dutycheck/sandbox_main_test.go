package main

import (
	"os"
	"testing"

	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestMain lets this test binary serve as the policy sandbox child of the services the tests
// start (serve runs the sandbox with os.Executable(), the test binary here).
func TestMain(m *testing.M) {
	policy.SandboxMain()
	os.Exit(m.Run())
}
