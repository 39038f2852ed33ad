package store

import "strings"

// LookedUpByID reports whether the store reads single documents of collection by _id: every
// collection but the organ tables (organ_g<N>.<organ>, and format 1's organ.<organ>), which
// are read whole. The embedded store indexes these collections' _id for its lookups
// (embeddb.DB.IndexIDs).
func LookedUpByID(collection string) bool {
	return tableGen(collection) < 0 && !strings.HasPrefix(collection, legacyTablePrefix)
}
