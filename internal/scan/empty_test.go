package scan_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestScanOfAnEmptyStore: a store without a department has nothing a scan could check, so a
// scan of the whole store is refused (duty.ErrConflict, 409) and not recorded, instead of
// answering a clean report, as `dutycheck scan` refuses a folder without departments; once an
// organ is loaded the same scan runs.
func TestScanOfAnEmptyStore(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	e := builtin(t)
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet})
	t.Cleanup(func() { svc.Shutdown(context.Background()) })
	for _, wait := range []bool{true, false} {
		sc, err := svc.Start(ctx, scan.Request{AsOf: "2025-12-31"}, wait)
		if !errors.Is(err, duty.ErrEmptyStore) || !errors.Is(err, duty.ErrConflict) {
			t.Fatalf("scan of an empty store (wait %v): %+v, %v; want the empty store's conflict", wait, sc, err)
		}
	}
	if scans, err := st.ListScans(ctx, 10); err != nil || len(scans) != 0 {
		t.Errorf("scans recorded after the refusals: %v, %v; want none", scans, err)
	}
	raw := map[string][]duty.RawDoc{"departments": {{Value: map[string]any{"id": "ORG-X", "name": "机关", "kind": "organ"}}}}
	if _, err := st.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	sc, err := svc.Start(ctx, scan.Request{AsOf: "2025-12-31"}, true)
	if err != nil || sc.Status != duty.ScanDone || sc.Report.Summary.Violations == 0 {
		t.Fatalf("scan of one organ: %+v, %v; want done with the organ's violations", sc, err)
	}
}
