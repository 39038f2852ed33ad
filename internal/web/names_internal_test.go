package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// organNames reads the organ's version on every call: a write is seen at once, and a store
// that cannot answer is an error, never the names kept from before.
func TestOrganNamesFailClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenConfig(t, storetest.NewConfig(t))
	storetest.Load(t, st, "../../fixtures/sample")
	h := New(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Store: st}).(*handler)
	organs, _, err := st.LoadOrgans(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := organs[0].Docs["people"][0]
	organ := organs[0].ID
	names, err := h.organNames(ctx, organ, false)
	if err != nil || names[p.ID()] != p.Str("name") {
		t.Fatalf("names of %s: %q, %v; want %q", p.ID(), names[p.ID()], err, p.Str("name"))
	}
	if _, err := h.organNames(ctx, organ, false); err != nil || len(h.names.entries) != 1 {
		t.Fatalf("second read: %v, %d kept", err, len(h.names.entries))
	}
	if kept, err := h.organNames(ctx, organ, true); err != nil || kept[p.ID()] != p.Str("name") {
		t.Fatalf("a page naming few people gets the kept names: %q, %v", kept[p.ID()], err)
	}

	changed := duty.Doc{}
	for k, v := range p {
		changed[k] = v
	}
	changed["name"] = "新名字"
	if _, err := st.PutMany(ctx, duty.System("test"), map[string][]duty.RawDoc{"people": {{Value: map[string]any(changed)}}}); err != nil {
		t.Fatal(err)
	}
	if names, err := h.organNames(ctx, organ, true); err != nil || names != nil {
		t.Errorf("after the write, a page naming few people got %d names kept from before (err %v)", len(names), err)
	}
	if names, err := h.organNames(ctx, organ, false); err != nil || names[p.ID()] != "新名字" {
		t.Errorf("after the write: %q, %v; want the new name", names[p.ID()], err)
	}

	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, few := range []bool{true, false} {
		if names, err := h.organNames(ctx, organ, few); err == nil {
			t.Errorf("a closed store gave %d names and no error", len(names))
		}
	}
	n := h.newNamer(ctx, nil)
	if n.lookupPerson(p.ID()) != p.ID() || n.err == nil || errors.Is(n.err, duty.ErrNotFound) {
		t.Errorf("a failed lookup: err %v, want the store's error kept", n.err)
	}
}
