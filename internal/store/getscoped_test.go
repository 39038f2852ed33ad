package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// GetScoped gives a department user the records of its subtree only (an appointment by its
// person's department), the same answer whether or not the record was read before, and an
// error, never a refusal or an answer, when the store cannot be read.
func TestGetScoped(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenConfig(t, storetest.NewConfig(t))
	storetest.Load(t, st, "../../fixtures/sample")
	const scope = "ORG-1-OFF"
	user := duty.Principal{User: "office", Role: duty.RoleDepartment, Department: scope}
	tree, err := st.Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub := tree.Subtree(scope)
	organs, _, err := st.LoadOrgans(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deptOf := map[string]string{}
	for _, p := range organs[0].Docs["people"] {
		deptOf[p.ID()] = p.Str("department_id")
	}
	seen := map[bool]int{}
	for _, coll := range []string{"people", "appointments"} {
		for _, d := range organs[0].Docs[coll] {
			inside := sub[duty.DepartmentOfDoc(coll, d, func(p string) string { return deptOf[p] })]
			for range 2 { // the second read is the same
				got, err := st.GetScoped(ctx, user, coll, d.ID())
				switch {
				case inside && (err != nil || got.ID() != d.ID()):
					t.Fatalf("%s %s inside the subtree: %v", coll, d.ID(), err)
				case !inside && !errors.Is(err, duty.ErrNotFound):
					t.Fatalf("%s %s outside the subtree: %v, want not found", coll, d.ID(), err)
				}
			}
			seen[inside]++
		}
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Fatalf("records inside and outside the subtree: %v; the test needs both", seen)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	p := organs[0].Docs["people"][0]
	if _, err := st.GetScoped(ctx, user, "people", p.ID()); err == nil || errors.Is(err, duty.ErrNotFound) {
		t.Errorf("a closed store: %v, want an error other than not found", err)
	}
}
