package scan_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestScanWhenTheStoreFails breaks, one at a time, each command a full scan sends to the store
// (its connection closed, as a server that goes away does). Whatever the command, the scan is
// either an error (failed, never done) or done with exactly the report of the records; and the
// next scan, with the server back, is done with that report; no scan is left running. A sample
// of the commands is broken (about eight); FAULT_STRIDE=1 breaks every one in turn.
func TestScanWhenTheStoreFails(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	faults := &storetest.FaultDialer{}
	cfg.Dialer = faults
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	generated(t, st, 2)
	e := builtin(t)
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet, Readers: 1})
	const asOf = "2025-12-31"
	want := truth(t, st, e, asOf)
	full := func() (*duty.Scan, error) { return svc.Start(ctx, scan.Request{AsOf: asOf, Full: true}, true) }

	before := faults.Seen()
	if _, err := full(); err != nil {
		t.Fatal(err)
	}
	commands := faults.Seen() - before
	stride := max(1, commands/8)
	if s, err := strconv.Atoi(os.Getenv("FAULT_STRIDE")); err == nil && s > 0 {
		stride = s
	}
	for k := 0; k < commands; k += stride {
		faults.BreakAfter(k, "$db")
		sc, err := full()
		fired := faults.Fired()
		faults.BreakOn() // disarm
		if err == nil {
			stored, gerr := svc.Get(ctx, sc.ID)
			if gerr != nil {
				t.Fatalf("command %d broken: get scan %s: %v", k, sc.ID, gerr)
			}
			if stored.Status == duty.ScanDone {
				if diff := cmp.Diff(want, canonical(stored.Report.Violations, false)); diff != "" {
					t.Errorf("command %d broken (fired %d): the scan is done with %d violations, want %d (-want +got):\n%s", k, fired, len(stored.Report.Violations), len(want), diff)
				}
			}
		}
		sc, err = full()
		if err != nil {
			t.Fatalf("after command %d broken, the next scan: %v", k, err)
		}
		stored, err := svc.Get(ctx, sc.ID)
		if err != nil || stored.Status != duty.ScanDone {
			t.Fatalf("after command %d broken, the next scan: %+v, %v", k, stored, err)
		}
		if diff := cmp.Diff(want, canonical(stored.Report.Violations, false)); diff != "" {
			t.Errorf("after command %d broken, the next scan has %d violations, want %d", k, len(stored.Report.Violations), len(want))
		}
	}
	scans, err := st.ListScans(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scans {
		if sc.Status == duty.ScanRunning {
			t.Errorf("scan %s is left running", sc.ID)
		}
	}
	t.Logf("%d commands a scan, every %d-th broken", commands, stride)
}
