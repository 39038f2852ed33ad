package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestOrganRecords reads the collections asked for of one organ, from its table: exactly the
// organ's records of those collections; the organ's version changes with a write; Referrers
// lists the records naming one.
func TestOrganRecords(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	ds := gen.Generate(gen.Options{Organs: 2, Seed: 3, Year: 2025})
	if _, err := st.PutMany(ctx, admin, duty.RawDocs(ds)); err != nil {
		t.Fatal(err)
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	organ := tree.Organs()[1]
	got, err := st.OrganRecords(ctx, organ, "people", "talks")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for _, coll := range []string{"people", "talks"} {
		for _, d := range ds[coll] {
			person := d["department_id"]
			if coll == "talks" {
				for _, p := range ds["people"] {
					if p["id"] == d["person_id"] {
						person = p["department_id"]
					}
				}
			}
			if tree.Organ(person.(string)) == organ {
				want[coll] = append(want[coll], d["id"].(string))
			}
		}
	}
	ids := map[string][]string{}
	for coll, docs := range got {
		for _, d := range docs {
			ids[coll] = append(ids[coll], d.ID())
		}
		slices.Sort(ids[coll])
	}
	for _, l := range want {
		slices.Sort(l)
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("records of %s (-want +got):\n%s", organ, diff)
	}

	before, err := st.OrganVersionOf(ctx, organ)
	if err != nil || !before.Settled {
		t.Fatalf("version: %+v %v", before, err)
	}
	talk := got["talks"][0]
	if _, err := st.PutBatch(ctx, admin, "talks", []duty.RawDoc{{Value: map[string]any(talk)}}); err != nil {
		t.Fatal(err)
	}
	after, err := st.OrganVersionOf(ctx, organ)
	if err != nil || after.Version == before.Version || !after.Settled {
		t.Errorf("version after a write: %+v, before %+v (%v)", after, before, err)
	}

	refs, err := st.Referrers(ctx, "people", talk.Str("person_id"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(refs, store.Referrer{Ref: duty.Ref{Collection: "talks", ID: talk.ID()}, Field: "person_id"}) {
		t.Errorf("referrers of %s lack talk %s: %v", talk.Str("person_id"), talk.ID(), refs)
	}
	if _, err := st.OrganRecords(ctx, organ, "no_such"); err == nil {
		t.Error("an unknown collection was read")
	}
}
