package sheet_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/bench"
	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// BenchmarkImport50k imports a workbook of 50,000 talks of the sample organ (people named by
// name where the name is unique, else by id; dates as date cells) into the embedded store, and
// reports the time, the peak Go heap and the peak resident set of the process (which holds the
// embedded store too). Run it once:
//
//	go test -run '^$' -bench Import50k -benchtime 1x ./internal/sheet
func BenchmarkImport50k(b *testing.B) {
	const rows = 50_000
	ctx := context.Background()
	st := storetest.Open(b)
	raw, err := duty.ReadDir("../../fixtures/sample")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutMany(ctx, admin, raw); err != nil {
		b.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range raw["people"] {
		count[r.Value.(map[string]any)["name"].(string)]++
	}
	var people []string
	for _, r := range raw["people"] {
		p := r.Value.(map[string]any)
		if count[p["name"].(string)] == 1 {
			people = append(people, p["name"].(string))
		} else {
			people = append(people, p["id"].(string))
		}
	}
	data := bigWorkbook(b, rows, people)
	b.Logf("workbook: %d rows, %.1f MiB", rows, float64(len(data))/(1<<20))
	for i := 0; i < b.N; i++ {
		runtime.GC()
		bench.ResetPeakRSS()
		var peakHeap uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the Go heap's peak, sampled
			defer wg.Done()
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		var readAt time.Duration
		res, err := sheet.Import(ctx, sheet.Input{Name: "talks.xlsx", Data: data}, admin, st, sheet.Limits{}, func(p sheet.Progress) {
			if p.Phase == sheet.PhaseWriting && readAt == 0 {
				readAt = time.Since(start)
			}
		})
		took := time.Since(start)
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if res.Written != rows {
			b.Fatalf("%d written, want %d", res.Written, rows)
		}
		fmt.Printf("import of %d rows (%.1f MiB xlsx): %.1f s (reading and checking %.1f s, validating and writing %.1f s), peak Go heap %.0f MiB, peak RSS of the process (with the embedded store) %.0f MiB\n",
			rows, float64(len(data))/(1<<20), took.Seconds(), readAt.Seconds(), (took - readAt).Seconds(), float64(peakHeap)/(1<<20), bench.PeakRSSMB())
	}
}

// bigWorkbook is a talks template with n rows, streamed.
func bigWorkbook(tb testing.TB, n int, people []string) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetName("Sheet1", "廉政谈话")
	sw, err := f.NewStreamWriter("廉政谈话")
	if err != nil {
		tb.Fatal(err)
	}
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	_ = sw.SetRow("A1", []any{"谈话编号", "谈话类型", "谈话对象", "谈话人", "谈话日期", "已记录"})
	kinds := []string{"一般性廉政谈话", "提醒谈话", "任前廉政谈话"}
	day0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		err := sw.SetRow(cell, []any{fmt.Sprintf("BT-%06d", i), kinds[i%3], people[i%len(people)], people[(i*7+1)%len(people)],
			excelize.Cell{StyleID: dateStyle, Value: day0.AddDate(0, 0, i%700)}, "是"})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkMark50k marks one cell of a refused workbook of 50,000 talks (the marked copy turns
// every formula cell into text, which reads every cell):
//
//	go test -run '^$' -bench Mark50k -benchtime 1x ./internal/sheet
func BenchmarkMark50k(b *testing.B) {
	people := make([]string, 300)
	for i := range people {
		people[i] = fmt.Sprintf("P%03d", i)
	}
	data := bigWorkbook(b, 50_000, people)
	probs := []sheet.Problem{{Sheet: "廉政谈话", Row: 3, Column: "E", ZH: "应为日期", EN: "expected a date"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sheet.Mark(data, probs); err != nil {
			b.Fatal(err)
		}
	}
}
