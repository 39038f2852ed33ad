package duty_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// checkAccepted re-checks an accepted dataset independently of the validator: every required
// field present with the right Go type, every date real, every enum value allowed, every
// reference resolving, ids unique. An accepted invalid document fails the fuzz target.
func checkAccepted(t *testing.T, ds *duty.Dataset) {
	t.Helper()
	ids := map[string]map[string]bool{}
	for _, c := range duty.Collections {
		ids[c.Name] = map[string]bool{}
		for _, d := range ds.Docs[c.Name] {
			if ids[c.Name][d.ID()] {
				t.Fatalf("%s: duplicate id %q accepted", c.Name, d.ID())
			}
			ids[c.Name][d.ID()] = true
		}
	}
	var check func(coll string, fields []duty.Field, obj map[string]any)
	check = func(coll string, fields []duty.Field, obj map[string]any) {
		for k := range obj {
			if !slices.ContainsFunc(fields, func(f duty.Field) bool { return f.Name == k }) {
				t.Fatalf("%s: unknown field %q accepted", coll, k)
			}
		}
		for _, f := range fields {
			v, ok := obj[f.Name]
			if !ok {
				if !f.Optional {
					t.Fatalf("%s: required field %s missing in %v", coll, f.Name, obj)
				}
				continue
			}
			switch f.Kind {
			case duty.String, duty.Date, duty.Text:
				s, ok := v.(string)
				if !ok || (f.Kind == duty.Date && !duty.ValidDate(s)) || (f.Kind == duty.String && strings.TrimSpace(s) == "") ||
					(len(f.Enum) > 0 && !slices.Contains(f.Enum, s)) || (f.Ref != "" && !ids[f.Ref][s]) {
					t.Fatalf("%s.%s: invalid value %#v accepted", coll, f.Name, v)
				}
			case duty.Bool:
				if _, ok := v.(bool); !ok {
					t.Fatalf("%s.%s: non-bool %#v accepted", coll, f.Name, v)
				}
			case duty.Int:
				n, ok := v.(int64)
				if !ok || (f.Max > 0 && (n < f.Min || n > f.Max)) {
					t.Fatalf("%s.%s: invalid int %#v accepted", coll, f.Name, v)
				}
			case duty.Strings:
				arr, ok := v.([]any)
				if !ok {
					t.Fatalf("%s.%s: non-array accepted", coll, f.Name)
				}
				for _, e := range arr {
					s, ok := e.(string)
					if !ok || (len(f.Enum) > 0 && !slices.Contains(f.Enum, s)) || (f.Ref != "" && !ids[f.Ref][s]) {
						t.Fatalf("%s.%s: invalid element %#v accepted", coll, f.Name, e)
					}
				}
			case duty.Objects:
				arr, ok := v.([]any)
				if !ok {
					t.Fatalf("%s.%s: non-array accepted", coll, f.Name)
				}
				for _, e := range arr {
					m, ok := e.(map[string]any)
					if !ok {
						t.Fatalf("%s.%s: non-object element accepted", coll, f.Name)
					}
					check(coll+"."+f.Name, f.Fields, m)
				}
			}
		}
	}
	for _, c := range duty.Collections {
		for _, d := range ds.Docs[c.Name] {
			check(c.Name, c.Fields, d)
		}
	}
	tree := duty.NewTree(ds.Docs["departments"])
	for _, d := range ds.Docs["departments"] {
		if tree.Organ(d.ID()) == "" {
			t.Fatalf("department %q accepted outside any organ tree", d.ID())
		}
	}
}

var fuzzSeeds = []string{
	`[{"id":"O","name":"机关","kind":"organ"},{"id":"D","name":"处","kind":"division","parent_id":"O"}]`,
	`[{"id":"A","name":"a","kind":"division","parent_id":"B"},{"id":"B","name":"b","kind":"division","parent_id":"A"}]`,
	`[{"id":"O","name":"x","kind":"organ","parent_id":"O"}]`,
	`[{"id":1}]`, `{"id":"x"}`, `[`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`[{"id":"O","name":"机关","kind":"organ","discipline_member_id":"P"}]`, `[null, 1, "s", true]`, ``,
}

// FuzzDepartmentsFile feeds arbitrary bytes as departments.json through the dataset loader: it
// must never panic, and what it accepts must be valid.
func FuzzDepartmentsFile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "departments.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		ds, err := duty.LoadDir(dir)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		checkAccepted(t, ds)
	})
}

// FuzzBatch decodes arbitrary bytes as an API batch (the decoder the HTTP handler uses) and
// validates them as each collection, with the departments of a small organ available.
func FuzzBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte(`[{"id":"T","kind":"pre_appointment","person_id":"P","held_on":"2025-02-29"}]`), uint8(3))
	f.Add([]byte(`[{"id":"B","year":2025,"holder_id":"P","issued_on":"2025-01-01","tasks":[{"id":"t","title":"","due_on":"2025-02-01"}],"entries":[],"inspections":[{"date":"2025-03-01","inspector_id":"P"}]}]`), uint8(5))
	f.Add([]byte(`[{"id":"L","year":2025.5,"level":4,"issuer_id":"P","signer_id":"P","signed_by_issuer":true,"signed_by_signer":"yes"}]`), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		c := duty.Collections[int(which)%len(duty.Collections)]
		docs, p := duty.DecodeArray("body", data)
		if p != nil {
			if p.Message == "" {
				t.Fatal("a decode problem without a message")
			}
			return
		}
		base := []duty.RawDoc{
			{Value: map[string]any{"id": "O", "name": "机关", "kind": "organ"}},
			{Value: map[string]any{"id": "D", "name": "处", "kind": "division", "parent_id": "O"}},
		}
		raw := map[string][]duty.RawDoc{
			"departments": base,
			"people":      {{Value: map[string]any{"id": "P", "name": "张", "department_id": "D", "rank": "division", "roles": []any{}, "active": true}}},
		}
		if c.Name == "departments" || c.Name == "people" {
			raw[c.Name] = append(raw[c.Name], docs...)
		} else {
			raw[c.Name] = docs
		}
		ds, err := duty.NewDataset(raw)
		if err != nil {
			return
		}
		checkAccepted(t, ds)
	})
}
