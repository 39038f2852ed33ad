package scan

import "github.com/dutycheck/dutycheck/internal/duty"

// Service runs the scans the edges start (duty.ScanRunner).
var _ duty.ScanRunner = (*Service)(nil)
