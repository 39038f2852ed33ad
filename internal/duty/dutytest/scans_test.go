package dutytest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/duty/dutytest"
)

// runner is a scan service that knows two scans and records the scans it is asked to start.
type runner struct{ started []duty.ScanRequest }

var scans = map[string]duty.Scan{
	"S-IN":  {ID: "S-IN", Department: inside},
	"S-OUT": {ID: "S-OUT", Department: outside},
	"S-ALL": {ID: "S-ALL"},
}

func (r *runner) Start(_ context.Context, req duty.ScanRequest, _ bool) (*duty.Scan, error) {
	r.started = append(r.started, req)
	return &duty.Scan{ID: "new", Department: req.Department}, nil
}

func (r *runner) Get(_ context.Context, id string) (*duty.Scan, error) {
	if sc, ok := scans[id]; ok {
		return &sc, nil
	}
	return nil, duty.ErrNotFound
}

func (r *runner) Latest(_ context.Context, department string) (*duty.Report, error) {
	return &duty.Report{ScanID: "latest of " + department}, nil
}

func (r *runner) Slot() (func(), error) { return func() {}, nil }

// TestScopedScans: a department user starts, reads and lists only the scans of its subtree,
// and reads only its subtree's reports; an admin everything.
func TestScopedScans(t *testing.T) {
	ctx := context.Background()
	st := dutytest.NewStore(dutytest.Config{})
	raw, err := duty.ReadDir("../../../fixtures/sample")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"S-ALL", "S-OUT", "S-IN"} {
		st.AddScan(scans[id])
	}
	dept := duty.Principal{User: "office", Role: duty.RoleDepartment, Department: scope}
	admin := duty.System("admin")
	r := &runner{}
	s := duty.ScopedScans(r, st)
	notFound := func(err error) bool { return errors.Is(err, duty.ErrNotFound) }

	if _, err := s.Start(ctx, dept, duty.ScanRequest{}, true); err != nil {
		t.Errorf("start of its own scope: %v", err)
	}
	if _, err := s.Start(ctx, dept, duty.ScanRequest{Department: outside}, true); !notFound(err) {
		t.Errorf("start outside: %v, want not found", err)
	}
	if _, err := s.Start(ctx, admin, duty.ScanRequest{Department: outside}, true); err != nil {
		t.Errorf("admin start: %v", err)
	}
	if diff := cmp.Diff([]duty.ScanRequest{{Department: scope}, {Department: outside}}, r.started); diff != "" {
		t.Errorf("started (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		note string
		p    duty.Principal
		id   string
		ok   bool
	}{
		{"inside", dept, "S-IN", true},
		{"outside", dept, "S-OUT", false},
		{"whole store", dept, "S-ALL", false},
		{"admin outside", admin, "S-OUT", true},
	} {
		if _, err := s.Get(ctx, tc.p, tc.id); (err == nil) != tc.ok || err != nil && !notFound(err) {
			t.Errorf("%s: get %s: %v", tc.note, tc.id, err)
		}
	}
	ids := func(p duty.Principal) []string {
		list, err := s.List(ctx, p, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, sc := range list {
			out = append(out, sc.ID)
		}
		return out
	}
	if got := ids(dept); len(got) != 1 || got[0] != "S-IN" {
		t.Errorf("department user lists %v, want [S-IN]", got)
	}
	if got := ids(admin); len(got) != 3 {
		t.Errorf("admin lists %v, want the three", got)
	}
	if _, err := s.Latest(ctx, dept, inside); err != nil {
		t.Errorf("report inside: %v", err)
	}
	if _, err := s.Latest(ctx, dept, outside); !notFound(err) {
		t.Errorf("report outside: %v, want not found", err)
	}
}
