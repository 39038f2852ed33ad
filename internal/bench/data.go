package bench

import (
	"fmt"
	"maps"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
)

// Raw turns a generated dataset into raw documents for validation (duty.NewDataset) or a
// store batch (store.PutMany).
func Raw(ds gen.Dataset) map[string][]duty.RawDoc {
	raw := make(map[string][]duty.RawDoc, len(ds))
	for c, docs := range ds {
		list := make([]duty.RawDoc, len(docs))
		for i, d := range docs {
			list[i] = duty.RawDoc{Index: i, Value: d}
		}
		raw[c] = list
	}
	return raw
}

// Organs validates a generated dataset and splits it into organs.
func Organs(ds gen.Dataset) ([]*duty.Organ, error) {
	d, err := duty.NewDataset(Raw(ds))
	if err != nil {
		return nil, fmt.Errorf("generated dataset: %w", err)
	}
	organs, _ := duty.Split(d)
	return organs, nil
}

// Merge makes one organ of every organ of a generated dataset: the roots of the second and
// later organs become offices under the first. The result is a single organisation as many
// times bigger, for measuring how the cost of an organ grows with its size; its violations
// are not those of the separate organs (one secretary owes letters to every bureau cadre).
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
	return out
}
