//go:build !linux

package policy

// limitAddressSpace has no hard limit to set outside Linux: the child relies on the memory
// watchdog (watchMemory) and Go's soft memory limit, and on the parent's deadline.
func limitAddressSpace(int64) error { return nil }
