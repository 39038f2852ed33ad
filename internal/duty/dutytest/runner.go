package dutytest

import (
	"context"
	"fmt"
	"sync"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Runner is a duty.ScanRunner for the edges' tests that run no scan (policy pages and
// changes): previews take its places as they take a scan service's, and the scans added to
// its store (Store.AddScan) are found. It evaluates nothing: Start is duty.ErrUnavailable,
// and a test that scans runs internal/scan on the real store.
type Runner struct {
	st     *Store
	places chan struct{}
}

// NewRunner returns a runner over st with places places for previews (at least one).
func NewRunner(st *Store, places int) *Runner {
	return &Runner{st: st, places: make(chan struct{}, max(places, 1))}
}

var _ duty.ScanRunner = (*Runner)(nil)

// Start refuses: the fake runs no scan.
func (r *Runner) Start(ctx context.Context, req duty.ScanRequest, wait bool) (*duty.Scan, error) {
	return nil, fmt.Errorf("the in-memory runner evaluates no scan (department %q): %w", req.Department, duty.ErrUnavailable)
}

// Get returns a scan added to the store.
func (r *Runner) Get(ctx context.Context, id string) (*duty.Scan, error) {
	unlock, err := r.st.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, sc := range r.st.scans {
		if sc.ID == id {
			return &sc, nil
		}
	}
	return nil, fmt.Errorf("scan %q: %w", id, duty.ErrNotFound)
}

// Latest answers that there is no report: the fake keeps no report.
func (r *Runner) Latest(ctx context.Context, department string) (*duty.Report, error) {
	return nil, fmt.Errorf("no report of department %q: %w", department, duty.ErrNotFound)
}

// Slot takes one of the places, or answers duty.ErrBusy when every place is taken.
func (r *Runner) Slot() (func(), error) {
	select {
	case r.places <- struct{}{}:
		return sync.OnceFunc(func() { <-r.places }), nil
	default:
		return nil, fmt.Errorf("%d scans are running, the most allowed at once: %w", cap(r.places), duty.ErrBusy)
	}
}
