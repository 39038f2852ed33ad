package store_test

import (
	"context"
	"testing"

	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// BenchmarkDepartmentReport reads one department's report and one organ's out of a stored
// scan of two organs, as the API does.
func BenchmarkDepartmentReport(b *testing.B) {
	st := storetest.Open(b)
	ctx := context.Background()
	putTree(b, st)
	organs, resolved := sample("S-1")
	saveScan(b, st, "S-1", "", "2025-12-31", "2026-01-01T00:00:01.000000Z", organs, nil, resolved)
	for _, dept := range []string{"B-OFF", "A-OFF"} {
		b.Run(dept, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.DepartmentReport(ctx, dept); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Get(ctx, "departments", "B-OFF"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
