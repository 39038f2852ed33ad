package scan

import "github.com/dutycheck/dutycheck/internal/duty"

// Service runs the scans the edges start (duty.Scans).
var _ duty.Scans = (*Service)(nil)
