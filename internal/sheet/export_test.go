package sheet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

var testNames = map[string]string{"departments/O1-DIV": "联络处", "departments/O1": "省人大机关", "people/P2": "王芳", "people/P1": "汤军"}

func namer(coll, id string) string { return testNames[coll+"/"+id] }

// dateCell reports whether a cell holds a number shown as a date (yyyy-mm-dd), and its text.
func dateCell(tb testing.TB, f *excelize.File, sheetName, cell string) (bool, string) {
	tb.Helper()
	typ, err := f.GetCellType(sheetName, cell)
	if err != nil {
		tb.Fatal(err)
	}
	id, _ := f.GetCellStyle(sheetName, cell)
	st, _ := f.GetStyle(id)
	shown, _ := f.GetCellValue(sheetName, cell)
	isDate := typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString && st != nil &&
		st.CustomNumFmt != nil && *st.CustomNumFmt == "yyyy-mm-dd"
	return isDate, shown
}

// TestExportCollection: a collection's export has the Chinese titles, the names beside the
// ids, labels for codes, dates as date cells, formulas neutralised, nested sheets keyed by the
// parent; and it imports back into the same records.
func TestExportCollection(t *testing.T) {
	books := []duty.Doc{{"id": "B1", "year": int64(2025), "holder_id": "P2", "issued_on": "2025-01-10",
		"tasks":       []any{map[string]any{"id": "K1", "title": "=1+1", "due_on": "2025-06-30"}, map[string]any{"id": "K2", "title": "＝HYPERLINK(\"x\")", "due_on": "2025-06-30"}},
		"entries":     []any{},
		"inspections": []any{map[string]any{"date": "2025-05-05", "inspector_id": "P1"}}}}
	var buf bytes.Buffer
	if err := sheet.WriteCollection(&buf, duty.Lookup("record_books"), books, namer); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{"全程记实本", "全程记实本-任务清单", "全程记实本-履责记录", "全程记实本-监督检查"}; !cmp.Equal(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
	rows, _ := f.GetRows("全程记实本")
	if want := [][]string{{"记实本编号", "年度", "持本人", "持本人（名称）", "发放日期"}, {"B1", "2025", "P2", "王芳", "2025-01-10"}}; !cmp.Equal(rows, want) {
		t.Errorf("book rows (-want +got):\n%s", cmp.Diff(want, rows))
	}
	if ok, shown := dateCell(t, f, "全程记实本", "E2"); !ok {
		t.Errorf("issued_on is not a date cell (shown %q)", shown)
	}
	tasks, _ := f.GetRows("全程记实本-任务清单")
	if want := []string{"B1", "K1", "'=1+1", "2025-06-30"}; len(tasks) < 3 || !cmp.Equal(tasks[1], want) {
		t.Errorf("task rows %v, want %v", tasks, want)
	}
	if want := []string{"B1", "K2", "'＝HYPERLINK(\"x\")", "2025-06-30"}; len(tasks) < 3 || !cmp.Equal(tasks[2], want) {
		t.Errorf("a full-width formula: task rows %v, want %v", tasks, want)
	}
	if ok, _ := dateCell(t, f, "全程记实本-任务清单", "D2"); !ok {
		t.Errorf("due_on is not a date cell")
	}
	insp, _ := f.GetRows("全程记实本-监督检查")
	if want := []string{"B1", "2025-05-05", "P1", "汤军"}; len(insp) < 2 || !cmp.Equal(insp[1], want) {
		t.Errorf("inspection rows %v, want %v", insp, want)
	}

	// The export imports back into the same book (the apostrophe before a formula included).
	st := openStore(t)
	if _, err := sheet.Import(context.Background(), sheet.Input{Data: buf.Bytes()}, admin, st, sheet.Limits{}, nil); err != nil {
		t.Fatalf("the book export does not import back: %v", err)
	}
	if got, err := st.Get(context.Background(), "record_books", "B1"); err != nil || !cmp.Equal(books[0], got) {
		t.Errorf("book read back (-want +got):\n%s %v", cmp.Diff(books[0], got), err)
	}

	// People: enumerated values and booleans by their labels; the export reads back.
	people := []duty.Doc{{"id": "P9", "name": "赵敏", "department_id": "O1-DIV", "rank": "section", "roles": []any{"discipline_member"},
		"supervises": []any{"O1"}, "active": true, "left_on": "2026-01-02"}}
	buf.Reset()
	if err := sheet.WriteCollection(&buf, duty.Lookup("people"), people, namer); err != nil {
		t.Fatal(err)
	}
	g, _ := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	defer g.Close()
	prow, _ := g.GetRows("人员")
	if want := []string{"P9", "赵敏", "O1-DIV", "联络处", "科级", "纪检委员", "O1", "省人大机关", "是", "2026-01-02"}; len(prow) < 2 || !cmp.Equal(prow[1], want) {
		t.Errorf("people row %v, want %v", prow, want)
	}
	if _, err := sheet.Import(context.Background(), sheet.Input{Data: buf.Bytes()}, admin, st, sheet.Limits{}, nil); err != nil {
		t.Fatalf("the export does not import back: %v", err)
	}
	got, err := st.Get(context.Background(), "people", "P9")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(people[0], got); d != "" {
		t.Errorf("people read back (-want +got):\n%s", d)
	}
}

type labels struct{}

func (labels) PolicyTitle(p, lang string) string {
	return map[string]string{"zh": "任前廉政谈话", "en": "Pre-appointment talk"}[lang]
}
func (labels) ReasonLabel(p, r, lang string) string {
	return map[string]string{"zh": "未谈话", "en": "missing"}[lang]
}

// TestExportReport: a report's workbook has its violations, its warnings and its waived
// violations, Chinese titles, department and subject names beside their ids, and dates as date
// cells.
func TestExportReport(t *testing.T) {
	v := duty.Violation{Policy: "talk.pre_appointment", Severity: "high", Reason: "missing", Department: "O1-DIV", Accountable: "leaders",
		Subject: duty.Ref{Collection: "people", ID: "P2"}, Message: duty.Message{ZH: "=未谈话", EN: "no talk"},
		Evidence: []duty.Ref{{Collection: "appointments", ID: "A1"}}, FirstSeen: &duty.Seen{AsOf: "2025-03-01"}}
	rep := &duty.Report{AsOf: "2025-06-30", Violations: []duty.Violation{v}, Warnings: []duty.Warning{{Violation: v, FailsOn: "2025-07-03"}},
		Waived: []duty.Waived{{Violation: v, Waiver: duty.WaiverRef{ID: "W20251201-abc", Until: "2025-12-31"}}}}
	var buf bytes.Buffer
	if err := sheet.WriteReport(&buf, rep, labels{}, namer); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !cmp.Equal(got, []string{"问题", "预警", "豁免"}) {
		t.Errorf("sheets %v", got)
	}
	rows, _ := f.GetRows("问题")
	want := [][]string{
		{"序号", "部门编号", "部门", "规则", "严重程度", "原因", "责任层级", "对象类型", "对象编号", "对象名称", "详情", "问题描述", "Description", "证据", "首次发现"},
		{"1", "O1-DIV", "联络处", "任前廉政谈话", "高", "未谈话", "党组成员、党委书记和机关厅级干部", "人员", "P2", "王芳", "", "'=未谈话", "no talk", "任职 A1", "2025-03-01"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
	if ok, _ := dateCell(t, f, "问题", "O2"); !ok {
		t.Errorf("first seen is not a date cell")
	}
	wrows, _ := f.GetRows("预警")
	if len(wrows) != 2 || wrows[0][15] != "到期日" || wrows[1][15] != "2025-07-03" {
		t.Errorf("warnings %v", wrows)
	}
	if ok, _ := dateCell(t, f, "预警", "P2"); !ok {
		t.Errorf("fails_on is not a date cell")
	}
	xrows, _ := f.GetRows("豁免")
	if len(xrows) != 2 || xrows[0][15] != "豁免编号" || xrows[0][16] != "豁免有效期至" || xrows[1][15] != "W20251201-abc" || xrows[1][16] != "2025-12-31" {
		t.Errorf("waived %v", xrows)
	}
	if ok, _ := dateCell(t, f, "豁免", "Q2"); !ok {
		t.Errorf("the waiver's end date is not a date cell")
	}
}

// gate is a store whose name lookups and writes wait for the test: an import stopped there
// shows its progress and can be cancelled.
type gate struct {
	sheet.Store
	mu      sync.Mutex
	reached chan string
	release chan struct{}
	wrote   int
}

func (g *gate) wait(ctx context.Context, where string) error {
	g.reached <- where
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) EachRecord(ctx context.Context, actor duty.Principal, coll string, organWide bool, fn func(duty.Doc) error) error {
	if coll == "people" {
		if err := g.wait(ctx, "names"); err != nil {
			return err
		}
	}
	return g.Store.EachRecord(ctx, actor, coll, organWide, fn)
}

func (g *gate) PutMany(ctx context.Context, actor duty.Principal, b map[string][]duty.RawDoc) (int, error) {
	if err := g.wait(ctx, "write"); err != nil {
		return 0, err
	}
	n, err := g.Store.PutMany(ctx, actor, b)
	g.mu.Lock()
	g.wrote += n
	g.mu.Unlock()
	return n, err
}

// talksWorkbook is a template of talks with n rows naming their person by name.
func talksWorkbook(tb testing.TB, n int) []byte {
	tb.Helper()
	f := template(tb, "talks")
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{"T" + strconv.Itoa(i+1), "提醒谈话", "王芳", nil, day("2025-03-01")}
	}
	fill(tb, f, "廉政谈话", rows...)
	return bytesOf(tb, f)
}

// TestJobProgressAndCancel: a running import shows its phase and the rows read; one cancelled
// before its write ends as cancelled with nothing written; one let through is done.
func TestJobProgressAndCancel(t *testing.T) {
	st := openStore(t)
	g := &gate{Store: st, reached: make(chan string), release: make(chan struct{})}
	jobs := sheet.NewJobs(sheet.JobsConfig{MaxRunning: 1}, g)
	data := talksWorkbook(t, 1200)

	j, err := jobs.Start(admin, sheet.Input{Name: "talks.xlsx", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if where := <-g.reached; where != "names" {
		t.Fatalf("stopped at %s, want names", where)
	}
	got, err := jobs.Get(admin, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != sheet.Running || got.Phase != sheet.PhaseReading || got.Rows < 1024 || got.Total != 1200 {
		t.Errorf("while resolving names: %+v, want running, reading, ≥1024 of 1200 rows", got)
	}
	if _, err := jobs.Start(admin, sheet.Input{Name: "b.xlsx", Data: data}); !errors.Is(err, duty.ErrBusy) {
		t.Errorf("a second import beyond MaxRunning: %v, want busy", err)
	}
	if _, err := jobs.Get(duty.Principal{User: "other", Role: duty.RoleInspector}, j.ID); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("another user sees the import: %v", err)
	}
	got, err = jobs.Cancel(admin, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != sheet.Cancelled || g.wrote != 0 {
		t.Errorf("cancelled: %+v, %d written; want cancelled and nothing", got, g.wrote)
	}
	if _, err := st.Get(context.Background(), "talks", "T1"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("a talk of the cancelled import is stored: %v", err)
	}

	// Let the next one through: reading, then writing, then done.
	j, err = jobs.Start(admin, sheet.Input{Name: "talks.xlsx", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	<-g.reached
	g.release <- struct{}{}
	if where := <-g.reached; where != "write" {
		t.Fatalf("stopped at %s, want write", where)
	}
	if got, _ := jobs.Get(admin, j.ID); got.Phase != sheet.PhaseWriting || got.Rows != 1200 {
		t.Errorf("before the write: %+v", got)
	}
	g.release <- struct{}{}
	got, err = jobs.Wait(context.Background(), admin, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != sheet.Done || got.Written != 1200 || got.Rows != 1200 {
		t.Errorf("done: %+v", got)
	}
}

// TestMarkedBound: the marked copies kept are bounded in bytes, the newest kept; an older
// refused import keeps its problems but loses its copy.
func TestMarkedBound(t *testing.T) {
	jobs := sheet.NewJobs(sheet.JobsConfig{KeepMarked: 1}, nil)
	f := template(t, "talks")
	fill(t, f, "廉政谈话", []any{"T1", "闲谈", "P2", nil, day("2025-03-01")})
	data := bytesOf(t, f)
	var ids []string
	for range 2 {
		j, err := jobs.Start(admin, sheet.Input{Name: "t.xlsx", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if j, err = jobs.Wait(context.Background(), admin, j.ID); err != nil || j.Status != sheet.Refused {
			t.Fatalf("%+v %v", j, err)
		}
		ids = append(ids, j.ID)
	}
	// KeepMarked of one byte keeps none; with room for one, the newest.
	for _, id := range ids {
		if j, _ := jobs.Get(admin, id); j.Marked || len(j.Problems) != 1 {
			t.Errorf("job %s: marked %v, %d problems; want no copy, its problem", id, j.Marked, len(j.Problems))
		}
	}
	jobs = sheet.NewJobs(sheet.JobsConfig{KeepMarked: 3 * len(data)}, nil)
	ids = ids[:0]
	for range 4 {
		j, _ := jobs.Start(admin, sheet.Input{Name: "t.xlsx", Data: data})
		j, _ = jobs.Wait(context.Background(), admin, j.ID)
		ids = append(ids, j.ID)
	}
	if j, _ := jobs.Get(admin, ids[len(ids)-1]); !j.Marked {
		t.Errorf("the newest refused import has no marked copy")
	}
	if j, _ := jobs.Get(admin, ids[0]); j.Marked {
		t.Errorf("the oldest of four keeps its marked copy beyond the bound")
	}
}

// TestImportWhoseWriteFailsHalfWay: the store answers an error half-way through an import's
// write (after its journal, some records written), and settles the write from its journal at
// once. An import of new records is undone: the job fails, nothing stored. An import that
// replaces stored records is completed: every record is stored, and the job says done with
// them all, not "failed, nothing was written", which would have the file imported again.
func TestImportWhoseWriteFailsHalfWay(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	var armed atomic.Bool
	cfg.Hook = func(point string) error {
		if point == "put.mid-batch" && armed.CompareAndSwap(true, false) {
			return fmt.Errorf("insert talks: connection reset: %w", duty.ErrUnavailable)
		}
		return nil
	}
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	var docs map[string][]map[string]any
	if err := json.Unmarshal([]byte(organ), &docs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutMany(ctx, admin, duty.RawDocs(docs)); err != nil {
		t.Fatal(err)
	}
	jobs := sheet.NewJobs(sheet.JobsConfig{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	run := func(fault bool) sheet.Job {
		t.Helper()
		armed.Store(fault)
		j, err := jobs.Start(admin, sheet.Input{Name: "talks.xlsx", Data: talksWorkbook(t, 30)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := jobs.Wait(ctx, admin, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if armed.Load() {
			t.Fatal("the store error was never injected")
		}
		return got
	}
	stored := func() (n int) {
		for i := 1; i <= 30; i++ {
			if _, err := st.Get(ctx, "talks", "T"+strconv.Itoa(i)); err == nil {
				n++
			}
		}
		return n
	}

	// New records: undone.
	if got := run(true); got.Status != sheet.Failed || got.Written != 0 {
		t.Errorf("import of new records cut short: job %s written %d (%q); want failed, nothing written", got.Status, got.Written, got.Error)
	}
	if n := stored(); n != 0 {
		t.Errorf("%d of 30 talks stored after the undone import, want none", n)
	}
	// The same file again, whole; then once more, cut short: completed.
	if got := run(false); got.Status != sheet.Done {
		t.Fatalf("import: %+v", got)
	}
	if got := run(true); got.Status != sheet.Done || got.Written != 30 {
		t.Errorf("import replacing records cut short: job %s written %d (%q); want done with 30 written: the store completed the write", got.Status, got.Written, got.Error)
	}
	if n := stored(); n != 30 {
		t.Errorf("%d of 30 talks stored after the completed import, want 30", n)
	}
}
