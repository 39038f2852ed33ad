package store

import "github.com/dutycheck/dutycheck/internal/duty"

// Store is the stored services the edges use (duty.Store).
var _ duty.Store = (*Store)(nil)
