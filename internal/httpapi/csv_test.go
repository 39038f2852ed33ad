package httpapi_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/web"
)

// TestDownloadsNeutraliseFormulas: an organ and a person named as spreadsheet formulas reach
// the API's and the pages' CSV only as text, after a byte order mark, in the columns of names
// beside the ids too; the API's header row is the column names of docs/report.md (or with
// header=zh the Chinese titles), the page's the Chinese titles.
func TestDownloadsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	e := newStoreAuthEnv(t)
	ctx := context.Background()
	raw := map[string][]duty.RawDoc{
		"departments": {{Value: map[string]any{"id": "ORG-X", "name": `=HYPERLINK("http://evil.example","x")`, "kind": "organ"}}},
		"people": {{Value: map[string]any{"id": "P-1", "name": "@SUM(1+1)", "department_id": "ORG-X", "rank": "bureau",
			"roles": []any{"party_group_secretary"}, "active": true}}},
	}
	if _, err := e.st.PutMany(ctx, duty.System("test"), raw); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := live.New(ctx, live.Config{Store: e.st, Builtin: policy.Builtin(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	scans := scan.NewService(scan.ServiceConfig{Store: e.st, Engine: mgr.Engine, Log: quiet})
	t.Cleanup(func() { scans.Shutdown(context.Background()) })
	if _, err := scans.Start(ctx, scan.Request{AsOf: "2025-06-30"}, true); err != nil {
		t.Fatal(err)
	}
	limiter := ratelimit.New(10, time.Minute)
	pages := web.New(web.Config{Log: quiet}, web.Deps{Store: e.st, Scans: scans, Policies: mgr, Limiter: limiter})
	e.srv.Close()
	e.srv = httptest.NewServer(validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: e.st, Scans: scans, Policies: mgr, Pages: pages, Limiter: limiter})))
	t.Cleanup(e.srv.Close)
	sess := e.session("admin")

	for _, tc := range []struct {
		note   string
		get    func() answer
		header []string
	}{
		{"API", func() answer { return e.bearer("admin", "GET", "/api/v1/departments/ORG-X/report?format=csv", "") }, duty.CSVHeader},
		{"API with the Chinese header", func() answer {
			return e.bearer("admin", "GET", "/api/v1/departments/ORG-X/report?format=csv&header=zh", "")
		}, duty.CSVTitles},
		{"page", func() answer { return e.send("GET", "/departments/ORG-X/report.csv", nil, nil, sess) }, duty.CSVTitles},
	} {
		t.Run(tc.note, func(t *testing.T) {
			r := tc.get()
			if r.status != http.StatusOK {
				t.Fatalf("%d %.300s", r.status, r.body)
			}
			if d, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition")); err != nil || d != "attachment" || !strings.HasSuffix(params["filename"], ".csv") {
				t.Errorf("Content-Disposition %q: %v, %q, %v; want an attachment named *.csv", r.header.Get("Content-Disposition"), d, params, err)
			}
			rest, ok := strings.CutPrefix(r.body, duty.BOM)
			if !ok {
				t.Fatalf("CSV does not start with a byte order mark: %.40q", r.body)
			}
			if strings.HasPrefix(rest, duty.BOM) {
				t.Errorf("two byte order marks")
			}
			rows, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rows[0], tc.header) {
				t.Errorf("header row %q, want %q", rows[0], tc.header)
			}
			n := len(duty.CSVHeader)
			for _, row := range rows[1:] {
				if row[n-2] != `'=HYPERLINK("http://evil.example","x")` {
					t.Errorf("department_name %q, want the organ's name neutralised", row[n-2])
				}
				if row[5] == "people" && row[n-1] != "'@SUM(1+1)" {
					t.Errorf("subject_name %q, want the person's name neutralised", row[n-1])
				}
			}
			neutralised := 0
			for _, row := range rows[1:] {
				for _, cell := range row {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						t.Errorf("cell %q starts a formula", cell)
					}
					if strings.HasPrefix(cell, "'=HYPERLINK") || strings.HasPrefix(cell, "'@SUM") {
						neutralised++
					}
				}
			}
			if neutralised == 0 {
				t.Errorf("no neutralised formula in %d rows", len(rows)-1)
			}
		})
	}
}
