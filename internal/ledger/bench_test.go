package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/ledger"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// BenchmarkLedgerSync measures bringing the cases up to date with scans of 20 generated organs
// on the embedded store (go test ./internal/ledger -run '^$' -bench LedgerSync -benchtime 1x):
// the first scan's cases opened, a re-scan that moves nothing, a department scan of one organ,
// and a scan as of the next year; and the standing read from the due counts.
func BenchmarkLedgerSync(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	ds := gen.Generate(gen.Options{Organs: 20, Seed: 1, Year: 2025, ViolationRate: 0.02})
	if _, err := st.PutMany(ctx, duty.System("bench"), duty.RawDocs(ds)); err != nil {
		b.Fatal(err)
	}
	e, err := policy.Compile(ctx, policy.Builtin())
	if err != nil {
		b.Fatal(err)
	}
	engine := func() *policy.Engine { return e }
	l := ledger.New(ledger.Config{Today: func() string { return "2026-03-01" }, Log: quiet}, ledger.Deps{Store: st, Engine: engine})
	scans := scan.NewService(scan.ServiceConfig{Store: st, Engine: engine, Log: quiet, BeforeSave: l.BeforeSave})
	for range b.N {
		timed := func(what string, req scan.Request) {
			sc, err := scans.Start(ctx, req, true)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := l.Sync(ctx, sc); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: %d violations, sync %v", what, len(sc.Report.Violations), time.Since(start))
		}
		timed("first scan", scan.Request{AsOf: "2025-12-31"})
		timed("re-scan", scan.Request{AsOf: "2025-12-31"})
		tree, err := st.Tree(ctx)
		if err != nil {
			b.Fatal(err)
		}
		organ := tree.Organs()[0]
		timed("department scan of one organ", scan.Request{AsOf: "2025-12-31", Department: organ})
		timed("next year", scan.Request{AsOf: "2026-02-28"})
		start := time.Now()
		rows, err := l.Standings(ctx, duty.System("bench"), organ, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("standing of %s: %d departments in %v", organ, len(rows), time.Since(start))
	}
}
