package store

import "context"

// RecoverForTest runs one recovery round as KeepAlive does.
func RecoverForTest(ctx context.Context, s *Store) error { return s.recoverDead(ctx) }
