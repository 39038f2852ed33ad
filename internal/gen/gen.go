// Package gen generates realistic duty records for any number of organs, deterministically.
//
// Each organ is modelled on the seed's provincial People's Congress organ (省人大机关): a Party
// Group with its secretary and members, the organ Party Committee and Discipline Committee, the
// general office and the research office, eight special committees, their divisions, affiliated
// units and Party branches, about 300 people, and the records their duties leave in one year:
// appointments and integrity talks, responsibility letters at three levels, duty record books,
// work suggestions, meetings, responsibility lists and integrity files.
//
// The records are compliant with every duty of DOMAIN.md as of the last day of Options.Year,
// except for a share (Options.ViolationRate) of deliberate violations spread over every reason
// of every duty. When the rate is positive, the first organ also carries at least one violation
// of each reason, so that even a one-organ dataset exercises every policy. Output depends only
// on the options: the same options give byte-identical files, and (in this default mode) organ
// N is the same whatever the number of organs generated.
//
// It is used for the sample fixture, for `dutycheck gen`, and for benchmarks at scale.
//
// Options.Boundaries switches to the second way of choosing dates, boundary mode
// (boundary.go), for the conformance check of internal/conformance: small organisations of
// random shape whose dates sit on and around every boundary of every duty relative to
// Options.AsOf, with no duty decided to comply or not. Both modes build organisations from
// the same pieces and write every record through the same emitters (emit.go); ReadDir and
// Dataset.WriteDir move a dataset to and from a folder.
package gen

import (
	"context"
	"runtime"

	"github.com/dutycheck/dutycheck/internal/pool"
)

// Options says what to generate.
type Options struct {
	// Organs is the number of organs (each an independent organisation); less than 1 means 1.
	Organs int
	// Seed selects the random stream; each organ draws from its own stream derived from it.
	Seed int64
	// Year is the scan year Y: the records are those of Y and the years before it, complete
	// as of Y-12-31. Zero means 2025.
	Year int
	// ViolationRate is the share, from 0 to 1, of duty checks deliberately failed. Zero gives a
	// dataset without violations.
	ViolationRate float64

	// Boundaries switches to boundary mode (see boundary.go): small organisations of 10 to 40
	// people whose dates sit on and around every boundary of every duty relative to AsOf,
	// for the conformance check. Organs is then the number of organs, 0 picking 1 to 3 at
	// random; Year (the year of AsOf) and ViolationRate play no part, and all organs draw
	// from one random stream, so organ N depends on the number of organs.
	Boundaries bool
	// AsOf is the scan date of boundary mode, YYYY-MM-DD; "" means BoundaryAsOf. Generate
	// panics on anything else: the options are the caller's, never a user's input.
	AsOf string
}

// Dataset maps a collection name (DOMAIN.md) to its documents. A document is a JSON-like
// object whose values are string, bool, int64, []any and map[string]any; dates are
// "YYYY-MM-DD" strings and optional fields are absent, never null.
type Dataset map[string][]map[string]any

// The collections of DOMAIN.md, in the order a dataset is built.
const (
	colDepartments = iota
	colPeople
	colAppointments
	colTalks
	colLetters
	colRecordBooks
	colSuggestions
	colMeetings
	colLists
	colFiles
	numCollections
)

var collectionNames = [numCollections]string{
	"departments", "people", "appointments", "talks", "letters",
	"record_books", "suggestions", "meetings", "responsibility_lists", "integrity_files",
}

// organRecords holds one organ's documents by collection.
type organRecords [numCollections][]map[string]any

// Generate builds the dataset the options describe. Organs are built in parallel, each from
// its own random stream, and joined in organ order, so the result does not depend on
// scheduling.
func Generate(opts Options) Dataset {
	if opts.Boundaries {
		return generateBoundaries(opts)
	}
	opts = opts.normalized()
	organs := make([]organRecords, opts.Organs)
	numbers := make([]int, opts.Organs)
	for i := range numbers {
		numbers[i] = i
	}
	// Building an organ cannot fail, so the pool's context is never cancelled; each worker
	// writes only the organs it takes.
	ctx := context.Background()
	built := make(chan struct{})
	wait := pool.Run(ctx, min(runtime.GOMAXPROCS(0), opts.Organs), pool.Feed(ctx, numbers), built,
		func() func(context.Context, int) (struct{}, error) {
			return func(_ context.Context, i int) (struct{}, error) {
				organs[i] = buildOrgan(opts, i+1)
				return struct{}{}, nil
			}
		}, func(error) {})
	go func() { wait(); close(built) }()
	for range built {
	}
	return join(organs)
}

// join makes one dataset of the organs' records, organ by organ in each collection.
func join(organs []organRecords) Dataset {
	ds := make(Dataset, numCollections)
	for c, name := range collectionNames {
		n := 0
		for i := range organs {
			n += len(organs[i][c])
		}
		docs := make([]map[string]any, 0, n)
		for i := range organs {
			docs = append(docs, organs[i][c]...)
		}
		ds[name] = docs
	}
	return ds
}

// Count returns the number of documents in all collections.
func (d Dataset) Count() int {
	n := 0
	for _, docs := range d {
		n += len(docs)
	}
	return n
}

func (o Options) normalized() Options {
	if o.Organs < 1 {
		o.Organs = 1
	}
	if o.Year == 0 {
		o.Year = 2025
	}
	o.ViolationRate = min(max(o.ViolationRate, 0), 1)
	return o
}
