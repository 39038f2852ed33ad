package bench

import (
	"fmt"
	"maps"
	"slices"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
)

// Organs validates a generated dataset and splits it into organs.
func Organs(ds gen.Dataset) ([]*duty.Organ, error) {
	d, err := duty.NewDataset(duty.RawDocs(ds))
	if err != nil {
		return nil, fmt.Errorf("generated dataset: %w", err)
	}
	organs, _ := duty.Split(d)
	return organs, nil
}

// Merge makes one organ of every organ of a generated dataset: the roots of the second and
// later organs become offices under the first, and their Party Group secretaries ordinary
// members, so that the organisation is as many times bigger with one secretary, as a real
// bigger organ would be. It is for measuring how the cost of an organ grows with its size; its
// violations are not those of the separate organs.
func Merge(ds gen.Dataset) gen.Dataset {
	out := make(gen.Dataset, len(ds))
	for c, docs := range ds {
		out[c] = docs
	}
	var root string
	depts := make([]map[string]any, len(ds["departments"]))
	for i, d := range ds["departments"] {
		if _, has := d["parent_id"]; has || d["kind"] != "organ" {
			depts[i] = d
			continue
		}
		if root == "" {
			root = d["id"].(string)
			depts[i] = d
			continue
		}
		cp := maps.Clone(d)
		cp["kind"], cp["parent_id"] = "office", root
		depts[i] = cp
	}
	out["departments"] = depts
	people := make([]map[string]any, len(ds["people"]))
	secretary := false
	for i, p := range ds["people"] {
		people[i] = p
		roles, _ := p["roles"].([]any)
		if !slices.Contains(roles, any("party_group_secretary")) {
			continue
		}
		if !secretary {
			secretary = true
			continue
		}
		cp := maps.Clone(p)
		kept := []any{}
		for _, r := range roles {
			if r != "party_group_secretary" {
				kept = append(kept, r)
			}
		}
		if !slices.Contains(kept, any("party_group_member")) {
			kept = append(kept, "party_group_member")
		}
		cp["roles"] = kept
		people[i] = cp
	}
	out["people"] = people
	return out
}
