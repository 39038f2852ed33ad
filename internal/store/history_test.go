package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestLatestAndPreviousByAsOf: the latest report of a scope is the latest as-of date's, the
// last finished of that date; the report a scan compares with is the latest of its scopes on or
// before its date. Scans that are not done never count.
func TestLatestAndPreviousByAsOf(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	// In the order they finish.
	scans := []struct {
		id, scope, asOf string
		done            bool
	}{
		{"S-1", "", "2025-12-31", true},
		{"S-2", "", "2025-06-30", true}, // run after December, as of June
		{"S-3", "D", "2025-09-30", true},
		{"S-4", "", "2025-12-31", true}, // December again
		{"S-5", "", "2026-03-31", false},
		{"S-6", "D", "2025-12-31", true},
	}
	for i, s := range scans {
		sc := &duty.Scan{ID: s.id, Status: duty.ScanRunning, Department: s.scope, AsOf: s.asOf,
			StartedAt: "2026-01-01T00:00:0" + string(rune('0'+i)) + ".000000Z"}
		if err := st.CreateScan(ctx, sc); err != nil {
			t.Fatal(err)
		}
		if !s.done {
			continue
		}
		sc.FinishedAt = "2026-01-01T00:01:0" + string(rune('0'+i)) + ".000000Z"
		sc.Report = &duty.Report{ScanID: s.id, AsOf: s.asOf, PolicyRevision: "r1", Summary: duty.Summarize(nil)}
		if err := st.FinishIndexedScan(ctx, sc, []store.OrganResult{}, ""); err != nil {
			t.Fatal(err)
		}
	}
	latest := []struct {
		note   string
		scopes []string
		want   string
	}{
		{note: "the whole store: December's last run, not June's later run", scopes: []string{""}, want: "S-4"},
		{note: "a department: its own December run after the store's", scopes: []string{"", "D"}, want: "S-6"},
		{note: "a department never scanned alone", scopes: []string{"", "E"}, want: "S-4"},
	}
	for _, tc := range latest {
		t.Run(tc.note, func(t *testing.T) {
			sc, err := st.LatestScan(ctx, tc.scopes)
			if err != nil || sc.ID != tc.want {
				t.Errorf("LatestScan(%q) = %v, %v; want %s", tc.scopes, sc, err, tc.want)
			}
		})
	}
	previous := []struct {
		note   string
		scopes []string
		asOf   string
		want   string // "" for none
	}{
		{note: "before every report", scopes: []string{""}, asOf: "2025-06-29"},
		{note: "June compares with June, not with December", scopes: []string{""}, asOf: "2025-06-30", want: "S-2"},
		{note: "between June and December", scopes: []string{""}, asOf: "2025-11-30", want: "S-2"},
		{note: "the department between: its own September report", scopes: []string{"", "D"}, asOf: "2025-11-30", want: "S-3"},
		{note: "December again: the last December run", scopes: []string{""}, asOf: "2025-12-31", want: "S-4"},
		{note: "after December: a running scan does not count", scopes: []string{""}, asOf: "2026-12-31", want: "S-4"},
		{note: "the department as of December: its own, run last", scopes: []string{"", "D"}, asOf: "2025-12-31", want: "S-6"},
	}
	for _, tc := range previous {
		t.Run(tc.note, func(t *testing.T) {
			m, err := st.PreviousScanMeta(ctx, tc.scopes, tc.asOf)
			switch {
			case tc.want == "":
				if !errors.Is(err, duty.ErrNotFound) {
					t.Errorf("PreviousScanMeta(%q, %s) = %+v, %v; want ErrNotFound", tc.scopes, tc.asOf, m, err)
				}
			case err != nil || m.ID != tc.want:
				t.Errorf("PreviousScanMeta(%q, %s) = %+v, %v; want %s", tc.scopes, tc.asOf, m, err, tc.want)
			}
		})
	}
}
