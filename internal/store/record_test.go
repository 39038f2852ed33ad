package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// A generated organ's records, encoded with EncodeRecord and decoded into OPA terms, are the
// terms duty.Build gives through policy.Terms for the same records, and those ReadOrgan gives once the records
// are stored.
func TestEncodeRecordRoundTrip(t *testing.T) {
	ds := gen.Generate(gen.Options{Organs: 1, Seed: 7, Year: 2025, ViolationRate: 0.05})
	raw := map[string][]duty.RawDoc{}
	for c, docs := range ds {
		for i, d := range docs {
			raw[c] = append(raw[c], duty.RawDoc{Index: i, Value: d})
		}
	}
	valid, err := duty.NewDataset(raw)
	if err != nil {
		t.Fatal(err)
	}
	organs, _ := duty.Split(valid)
	if len(organs) != 1 {
		t.Fatalf("%d organs, want 1", len(organs))
	}
	organ := organs[0]

	// collection → the terms decoded from EncodeRecord's bytes.
	decoded := map[string][]*policy.Term{}
	dec := store.NewDecoder(policy.NewTerms())
	n := 0
	for _, c := range duty.Collections {
		for _, d := range organ.Docs[c.Name] {
			b, err := store.EncodeRecord(d)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, d.ID(), err)
			}
			got, err := dec.Decode(b)
			if err != nil {
				t.Fatalf("%s %s: decode: %v", c.Name, d.ID(), err)
			}
			if want, err := duty.Build(policy.NewTerms(), d); err != nil || !got.Equal(want) {
				t.Errorf("%s %s: decoded %v, want duty.Build's %v (%v)", c.Name, d.ID(), got, want, err)
			}
			one, err := store.NewDecoder(policy.NewTerms()).Decode(b)
			if err != nil || !one.Equal(got) {
				t.Errorf("%s %s: a fresh Decoder gave %v, %v; want %v", c.Name, d.ID(), one, err, got)
			}
			decoded[c.Name] = append(decoded[c.Name], got)
			n++
		}
	}
	if n < 500 {
		t.Fatalf("only %d records generated", n)
	}
	if _, err := store.NewDecoder(policy.NewTerms()).Decode([]byte{5, 0, 0, 0}); err == nil {
		t.Error("a truncated document decoded without error")
	}

	st := storetest.Open(t)
	ctx := context.Background()
	if _, err := st.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	read := 0
	err = store.ReadOrgan(ctx, st, organ.ID, policy.NewTerms(), func(c *duty.Collection, rec *policy.Term) {
		read++
		// Each record read is one of the encoded ones, each matched once.
		i := slices.IndexFunc(decoded[c.Name], rec.Equal)
		if i < 0 {
			t.Errorf("ReadOrgan gave %s %v, not among the encoded records (or twice)", c.Name, rec)
			return
		}
		decoded[c.Name] = slices.Delete(decoded[c.Name], i, i+1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if read != n {
		t.Errorf("ReadOrgan gave %d records, want %d", read, n)
	}
}

// TestSubjectDepartmentFailsClosed: the department of a talk comes from its person; when the
// person cannot be read (the server is unreachable) that is an error, not "no department",
// which a waiver would have kept for good. A person not stored gives "".
func TestSubjectDepartmentFailsClosed(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	faults := &storetest.FaultDialer{}
	cfg.Dialer = faults
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() {
		faults.SetDown(false)
		_ = st.Drop(context.Background())
	})
	seed(t, st)
	talk := duty.Doc{"id": "T-1", "kind": "general", "person_id": "P-1", "held_on": "2025-01-02"}
	if got, err := st.SubjectDepartment(ctx, "talks", talk); got != "DIV-1" || err != nil {
		t.Fatalf("SubjectDepartment = %q, %v; want DIV-1", got, err)
	}
	gone := duty.Doc{"id": "T-9", "kind": "general", "person_id": "P-9", "held_on": "2025-01-02"}
	if got, err := st.SubjectDepartment(ctx, "talks", gone); got != "" || err != nil {
		t.Errorf("SubjectDepartment of a talk naming no stored person = %q, %v; want \"\"", got, err)
	}
	faults.SetDown(true)
	down, cancel := context.WithTimeout(ctx, 2*time.Second) // fails sooner than server selection's 10 s
	defer cancel()
	if got, err := st.SubjectDepartment(down, "talks", talk); err == nil {
		t.Errorf("SubjectDepartment with the store unreachable = %q, nil; want an error", got)
	}
}
