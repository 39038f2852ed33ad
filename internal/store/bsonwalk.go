package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// EncodeRecord returns a record's fields as a BSON document, the bytes the store keeps of it
// (without its _id and organ stamp). It lets a caller hold records in memory compactly, the
// way a scan receives them, and decode them with a Decoder as ReadOrgan does.
func EncodeRecord(doc map[string]any) ([]byte, error) {
	b, err := bson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return b, nil
}

// Decoder decodes records, BSON documents such as EncodeRecord returns, straight into a
// caller's representation with the walker ReadOrgan uses, reusing its buffers from record to
// record. A Decoder is used by one goroutine at a time.
type Decoder[T any] struct{ w walker[T] }

// NewDecoder returns a Decoder building values with b.
func NewDecoder[T any](b duty.ValueBuilder[T]) *Decoder[T] {
	return &Decoder[T]{w: walker[T]{b: b}}
}

// Decode decodes one record. Fields whose names start with "_" are passed to the builder like
// any other (policy.Terms leaves them out).
func (d *Decoder[T]) Decode(data []byte) (T, error) { return d.w.document(data, false) }

// walker decodes BSON documents straight into a caller's representation (duty.ValueBuilder),
// without the driver's intermediate values: a scan turns the stored bytes of a record into
// the policy engine's value in one pass. Its stacks are reused from document to document.
type walker[T any] struct {
	b    duty.ValueBuilder[T]
	keys [][]byte
	vals []T
}

var errBSON = errors.New("malformed BSON")

// document decodes the BSON document (or array, when array is true) data.
func (w *walker[T]) document(data []byte, array bool) (T, error) {
	var zero T
	if len(data) < 5 || int(binary.LittleEndian.Uint32(data)) != len(data) || data[len(data)-1] != 0 {
		return zero, errBSON
	}
	keyBase, valBase := len(w.keys), len(w.vals)
	defer func() { w.keys, w.vals = w.keys[:keyBase], w.vals[:valBase] }()
	p := 4
	end := len(data) - 1
	for p < end {
		typ := data[p]
		p++
		k := p
		for p < end && data[p] != 0 {
			p++
		}
		if p >= end {
			return zero, errBSON
		}
		key := data[k:p]
		p++
		v, n, err := w.value(typ, data[p:end])
		if err != nil {
			return zero, fmt.Errorf("field %s: %w", key, err)
		}
		p += n
		if !array {
			w.keys = append(w.keys, key)
		}
		w.vals = append(w.vals, v)
	}
	if array {
		return w.b.Array(w.vals[valBase:]), nil
	}
	return w.b.Object(w.keys[keyBase:], w.vals[valBase:]), nil
}

// value decodes one element's value of BSON type typ at the start of data and returns it with
// the number of bytes it took.
func (w *walker[T]) value(typ byte, data []byte) (T, int, error) {
	var zero T
	need := func(n int) bool { return n >= 0 && len(data) >= n }
	switch typ {
	case 0x01: // double
		if !need(8) {
			return zero, 0, errBSON
		}
		return duty.BuildFloat(w.b, math.Float64frombits(binary.LittleEndian.Uint64(data))), 8, nil
	case 0x02: // string
		if !need(4) {
			return zero, 0, errBSON
		}
		n := int(int32(binary.LittleEndian.Uint32(data)))
		if n < 1 || !need(4+n) || data[4+n-1] != 0 {
			return zero, 0, errBSON
		}
		return w.b.String(data[4 : 4+n-1]), 4 + n, nil
	case 0x03, 0x04: // document, array
		if !need(4) {
			return zero, 0, errBSON
		}
		n := int(int32(binary.LittleEndian.Uint32(data)))
		if n < 5 || !need(n) {
			return zero, 0, errBSON
		}
		v, err := w.document(data[:n], typ == 0x04)
		return v, n, err
	case 0x08: // boolean
		if !need(1) {
			return zero, 0, errBSON
		}
		return w.b.Bool(data[0] != 0), 1, nil
	case 0x0A: // null
		return w.b.Null(), 0, nil
	case 0x10: // int32
		if !need(4) {
			return zero, 0, errBSON
		}
		return w.b.Int(int64(int32(binary.LittleEndian.Uint32(data)))), 4, nil
	case 0x12: // int64
		if !need(8) {
			return zero, 0, errBSON
		}
		return w.b.Int(int64(binary.LittleEndian.Uint64(data))), 8, nil
	}
	return zero, 0, fmt.Errorf("unexpected BSON type 0x%02x", typ)
}
