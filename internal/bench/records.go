package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store"
)

// organRecords is one organ's records held the way a scan receives them from the store: for
// each collection, in the order of duty.Collections, the BSON documents of its records one
// after the other (each starts with its length). Bytes hold no pointers: however many records
// are held, the garbage collector does not scan them.
type organRecords struct {
	id    string
	colls [][]byte
}

// encodeOrgans encodes organs' records (store.EncodeRecord) and returns them with the number of
// bytes they take.
func encodeOrgans(organs []*duty.Organ) ([]organRecords, int, error) {
	out := make([]organRecords, len(organs))
	size := 0
	for i, o := range organs {
		r := organRecords{id: o.ID, colls: make([][]byte, len(duty.Collections))}
		for j, c := range duty.Collections {
			var buf []byte
			for _, d := range o.Docs[c.Name] {
				b, err := store.EncodeRecord(d)
				if err != nil {
					return nil, 0, fmt.Errorf("organ %s, %s %s: %w", o.ID, c.Name, d.ID(), err)
				}
				buf = append(buf, b...)
			}
			r.colls[j] = buf
			size += len(buf)
		}
		out[i] = r
	}
	return out, size, nil
}

// input decodes the organ's records into its policy input as of date, as a scan's reader does:
// terms is reset, then every record is decoded by dec (which builds with terms) and added.
func (o *organRecords) input(dec *store.Decoder[*policy.Term], terms *policy.Terms, date string) (*policy.OrganInput, error) {
	terms.Reset()
	in := policy.NewOrganInput(o.id, date)
	for j, c := range duty.Collections {
		buf := o.colls[j]
		for len(buf) > 0 {
			if len(buf) < 4 {
				return nil, fmt.Errorf("organ %s, %s: truncated record", o.id, c.Name)
			}
			n := int(binary.LittleEndian.Uint32(buf))
			if n < 5 || n > len(buf) {
				return nil, fmt.Errorf("organ %s, %s: truncated record", o.id, c.Name)
			}
			rec, err := dec.Decode(buf[:n])
			if err != nil {
				return nil, fmt.Errorf("organ %s, %s: %w", o.id, c.Name, err)
			}
			in.Add(c, rec)
			buf = buf[n:]
		}
	}
	return in, nil
}

// evaluateRecords evaluates organs as a scan of the store does, without the store: GOMAXPROCS
// workers (scan.EvaluateEach) take one organ at a time, decode its records into its input with
// a policy.Terms of their own and evaluate it. It returns every violation, sorted, and stops at
// the first error or when ctx ends.
func evaluateRecords(ctx context.Context, eng *policy.Engine, organs []organRecords, date string) ([]duty.Violation, error) {
	return scan.EvaluateEach(ctx, runtime.GOMAXPROCS(0), len(organs), func() func(context.Context, int) ([]duty.Violation, error) {
		terms := policy.NewTerms()
		dec := store.NewDecoder(terms)
		return func(ctx context.Context, i int) ([]duty.Violation, error) {
			in, err := organs[i].input(dec, terms, date)
			if err != nil {
				return nil, err
			}
			if !in.IsOrgan() { // as a scan: records left without their root make no organ
				return nil, nil
			}
			return eng.EvaluateInput(ctx, in)
		}
	}, nil)
}
