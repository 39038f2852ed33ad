package duty

// ValueBuilder builds a record in a representation of the caller's choosing while the store
// decodes it, so that a scan turns stored bytes straight into the policy engine's values
// without an intermediate Doc. The decoder calls it bottom-up: the values of an array or an
// object first, then Array or Object with them.
//
// The byte slices and the slices of keys and values are only valid during the call (the
// decoder reuses them); a builder copies what it keeps. Numbers arrive as Int when they are
// integral, as Float otherwise.
type ValueBuilder[T any] interface {
	String(b []byte) T
	Bool(v bool) T
	Int(v int64) T
	Float(v float64) T
	Null() T
	Array(elems []T) T
	Object(keys [][]byte, vals []T) T
}
