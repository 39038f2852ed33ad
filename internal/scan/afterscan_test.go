package scan_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/notify"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// TestAfterScanHanging: the after-scan hooks run once the scan is stored, with its report; a
// webhook endpoint that never answers does not hold the scan up (the scan returns done while
// the request hangs), and the notifier's shutdown with an ended context cancels it.
func TestAfterScanHanging(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	generated(t, st, 1)
	e := builtin(t)
	entered := make(chan struct{}, 10)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices a closed connection only once the body is read
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	defer hang.Close()
	depts, err := st.Departments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &duty.Webhook{Name: "hang", Kind: duty.WebhookGeneric, URL: hang.URL, Secret: "x", Departments: []string{duty.NewTree(depts).Organs()[0]}}
	if err := st.CreateWebhook(ctx, "test", w); err != nil {
		t.Fatal(err)
	}
	n := notify.New(notify.Config{Store: st, Log: quiet})
	var stored []string
	check := func(ctx context.Context, sc *duty.Scan, rep *duty.Report) {
		got, err := st.GetScan(ctx, sc.ID)
		if err == nil && got.Status == duty.ScanDone && rep.ScanID == sc.ID {
			stored = append(stored, sc.ID)
		}
	}
	svc := scan.NewService(scan.ServiceConfig{Store: st, Engine: func() *policy.Engine { return e }, Log: quiet,
		AfterScan: []func(context.Context, *duty.Scan, *duty.Report){check, n.AfterScan}})
	sc, err := svc.Start(ctx, scan.Request{AsOf: "2025-12-31"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Status != duty.ScanDone || len(stored) != 1 || stored[0] != sc.ID {
		t.Fatalf("scan %s %s; hooks saw it stored: %v", sc.ID, sc.Status, stored)
	}
	if sc.Report.Summary.BySeverity["high"] == 0 {
		t.Fatal("the generated organ has no high-severity violation to notify")
	}
	<-entered // the endpoint holds the request while the scan has returned
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	n.Shutdown(cctx)
	ds, err := st.Deliveries(ctx, w.ID, 10)
	if err != nil || len(ds) != 1 || ds[0].Status != duty.DeliveryAbandoned {
		t.Errorf("deliveries %+v, %v; want one abandoned", ds, err)
	}
}
