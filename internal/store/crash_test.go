package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
	"github.com/dutycheck/dutycheck/internal/store/storetest"
)

// errKilled stands for the process dying at a hook point: the operation stops there and
// writes nothing more, exactly what kill -9 leaves (cmd/dutycheck's kill tests do the same with
// a real SIGKILL of a child process).
var errKilled = fmt.Errorf("killed: %w", store.ErrSimulatedCrash)

// killAt returns a store config whose hook fails at point once armed.
func killAt(cfg store.Config, point string) (store.Config, *atomic.Bool) {
	armed := &atomic.Bool{}
	cfg.Hook = func(p string) error {
		if p == point && armed.Load() {
			return errKilled
		}
		return nil
	}
	return cfg, armed
}

// checkRecovered checks every invariant a restart must restore: the records of the batch are
// all there as written, the organ tables equal the collections, each record has its audit entry,
// and every organ is settled.
func checkRecovered(tb testing.TB, st *store.Store, want map[string][]map[string]any, action string) {
	tb.Helper()
	ctx := context.Background()
	for coll, docs := range want {
		for _, d := range docs {
			id := d["id"].(string)
			got, err := st.Get(ctx, coll, id)
			switch {
			case action == "records.delete":
				if !errors.Is(err, duty.ErrNotFound) {
					tb.Errorf("%s %s: after recovery Get = %v, %v; want it deleted", coll, id, got, err)
				}
			case err != nil:
				tb.Errorf("%s %s: missing after recovery: %v", coll, id, err)
			default:
				for k, v := range d {
					if fmt.Sprint(got[k]) != fmt.Sprint(v) {
						tb.Errorf("%s %s: after recovery %s = %v, want %v", coll, id, k, got[k], v)
					}
				}
			}
		}
	}
	checkTables(tb, st, "after recovery")
	if err := st.VerifyOrganTables(ctx); err != nil {
		tb.Error(err)
	}
	trail, err := st.AuditTrail(ctx, "", 1000)
	if err != nil {
		tb.Fatal(err)
	}
	audited := map[string]int{}
	for _, e := range trail {
		if e.Action == action {
			for _, id := range e.IDs {
				audited[e.Collection+"/"+id]++
			}
		}
	}
	for coll, docs := range want {
		for _, d := range docs {
			if k := coll + "/" + d["id"].(string); audited[k] < 1 {
				tb.Errorf("%s: no %s audit entry after recovery", k, action)
			}
		}
	}
	for organ, v := range versions(tb, st) {
		if !v.Settled {
			tb.Errorf("organ %s is left unsettled after recovery", organ)
		}
	}
}

// TestCrashedWritesAreCompletedAtOpen kills a batch, a department move and a deletion at each of
// their points, opens the store again (as the next start does) and checks that the write is
// complete, with its audit entry and the organ tables equal to the collections, whatever the
// point. Before the journal, the batch was left half-written with no audit entry and the tables
// behind the collections until a rebuild ten minutes later.
func TestCrashedWritesAreCompletedAtOpen(t *testing.T) {
	batch := map[string][]map[string]any{
		"departments": {
			{"id": "DIV-9", "name": "九处", "kind": "division", "parent_id": "ORG-1"},
		},
		"people": {
			{"id": "P-9", "name": "王五", "department_id": "DIV-9", "rank": "division", "roles": []any{}, "active": true},
			{"id": "P-10", "name": "赵六", "department_id": "DIV-2", "rank": "staff", "roles": []any{}, "active": true},
		},
		"talks": {
			{"id": "T-9", "kind": "general", "person_id": "P-9", "held_on": "2025-02-02"},
			{"id": "T-10", "kind": "reminder", "person_id": "P-10", "held_on": "2025-02-03"},
			{"id": "T-1", "kind": "reminder", "person_id": "P-2", "held_on": "2025-01-02"}, // moves to ORG-2
		},
	}
	move := map[string][]map[string]any{
		"departments": {{"id": "DIV-2", "name": "二处", "kind": "division", "parent_id": "ORG-1"}},
	}
	inBatch := map[string]string{"people/P-9": "ORG-1", "people/P-10": "ORG-2", "talks/T-1": "ORG-2", "talks/T-10": "ORG-2"}
	moved := map[string]string{"people/P-2": "ORG-1", "talks/T-2": "ORG-1", "departments/DIV-2": "ORG-1"}
	for _, tc := range []struct {
		note, point string
		write       map[string][]map[string]any
		organs      map[string]string // collection/id → organ after the write
		del         bool
	}{
		{note: "batch, killed after its journal", point: "put.after-journal", write: batch, organs: inBatch},
		{note: "batch, killed after its first write", point: "put.mid-batch", write: batch, organs: inBatch},
		{note: "batch, killed before its audit entry", point: "put.before-audit", write: batch, organs: inBatch},
		{note: "department move, killed after its journal", point: "put.after-journal", write: move, organs: moved},
		{note: "department move, killed after its first write", point: "put.mid-batch", write: move, organs: moved},
		{note: "department move, killed in the rebuild", point: "rebuild.mid", write: move, organs: moved},
		{note: "department move, killed before its audit entry", point: "put.before-audit", write: move, organs: moved},
		{note: "deletion, killed after its journal", point: "delete.after-journal", del: true},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ctx := context.Background()
			cfg, armed := killAt(storetest.NewConfig(t), tc.point)
			st := storetest.OpenConfig(t, cfg)
			t.Cleanup(func() { _ = st.Drop(context.Background()) })
			seed(t, st)
			checkTables(t, st, "before the crash")
			armed.Store(true)
			want, action := tc.write, "records.put"
			var err error
			if tc.del {
				want, action = map[string][]map[string]any{"talks": {{"id": "T-2"}}}, "records.delete"
				err = st.Delete(ctx, admin, "talks", "T-2")
			} else {
				raws := map[string][]duty.RawDoc{}
				for c, docs := range tc.write {
					raws[c] = raw(t, docs...)
				}
				_, err = st.PutMany(ctx, admin, raws)
			}
			if !errors.Is(err, errKilled) {
				t.Fatalf("the write was not killed at %s: %v", tc.point, err)
			}

			// The next start.
			cfg.Hook = nil
			st2 := storetest.OpenConfig(t, cfg)
			rec := st2.Recovered()
			if len(rec.Completed) != 1 || !rec.Rebuilt {
				t.Errorf("recovery = %+v, want one completed operation and the tables rebuilt", rec)
			}
			checkRecovered(t, st2, want, action)
			for key, want := range tc.organs {
				coll, id, _ := strings.Cut(key, "/")
				if _, organ, err := st2.GetWithOrgan(ctx, coll, id); err != nil || organ != want {
					t.Errorf("%s after recovery: organ %q, %v; want %s", key, organ, err, want)
				}
			}
			// A third start has nothing left to do.
			st3 := storetest.OpenConfig(t, cfg)
			if rec := st3.Recovered(); len(rec.Completed) != 0 || rec.Rebuilt {
				t.Errorf("a second restart recovered again: %+v", rec)
			}
		})
	}
}

// TestCrashedWriteBeforeItsJournalChangesNothing: a batch killed while its journal was being
// written (chunks, no head) has not written a record; the next start drops its chunks and
// changes nothing.
func TestCrashedWriteBeforeItsJournalChangesNothing(t *testing.T) {
	ctx := context.Background()
	cfg, armed := killAt(storetest.NewConfig(t), "put.journal-chunks")
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	seed(t, st)
	before := fromCollections(t, st)
	armed.Store(true)
	_, err := st.PutBatch(ctx, admin, "talks", raw(t, map[string]any{"id": "T-7", "kind": "general", "person_id": "P-1", "held_on": "2025-03-01"}))
	if !errors.Is(err, errKilled) {
		t.Fatalf("the batch was not killed: %v", err)
	}
	cfg.Hook = nil
	st2 := storetest.OpenConfig(t, cfg)
	if _, err := st2.Get(ctx, "talks", "T-7"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("T-7 after a batch killed before its journal was complete: %v, want not found", err)
	}
	if diff := cmp.Diff(before, fromCollections(t, st2)); diff != "" {
		t.Errorf("records changed (-before +after):\n%s", diff)
	}
	if rec := st2.Recovered(); len(rec.Completed) != 0 {
		t.Errorf("recovery completed %v, want nothing", rec.Completed)
	}
	checkTables(t, st2, "after recovery")
}

// TestScansOfADeadProcessFailAtOpen: a scan left running by a process that died is failed at
// the next start, with a reason, at once: no waiting for it to look old.
func TestScansOfADeadProcessFailAtOpen(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	sc := &duty.Scan{ID: "S-dead", Status: duty.ScanRunning, AsOf: "2025-12-31", StartedAt: "2025-12-31T00:00:00Z"}
	if err := st.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	mine := &duty.Scan{ID: "S-mine", Status: duty.ScanRunning, AsOf: "2025-12-31", StartedAt: "2025-12-31T00:00:00Z"}
	st2 := storetest.OpenConfig(t, cfg)
	if err := st2.CreateScan(ctx, mine); err != nil {
		t.Fatal(err)
	}
	got, err := st2.GetScan(ctx, "S-dead")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != duty.ScanFailed || got.Error == "" {
		t.Errorf("the dead process's scan after a restart: status %q, error %q; want failed with a reason", got.Status, got.Error)
	}
	if rec := st2.Recovered(); !slices.Equal(rec.FailedScans, []string{"S-dead"}) {
		t.Errorf("Recovered().FailedScans = %v, want [S-dead]", rec.FailedScans)
	}
	if got, _ := st2.GetScan(ctx, "S-mine"); got.Status != duty.ScanRunning {
		t.Errorf("the live process's own scan: %q, want running", got.Status)
	}
}

// TestPinnedTablesSurviveARebuild: a scan that pinned the organ tables reads them whole while a
// department move rebuilds them, and the old generation is dropped when it lets go. Before
// generations, the rebuild dropped every table under the scan.
func TestPinnedTablesSurviveARebuild(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	want := fromTables(t, st)
	tables, err := st.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, "departments", map[string]any{"id": "DIV-2", "name": "二处", "kind": "division", "parent_id": "ORG-1"})
	checkTables(t, st, "after the move")
	got := map[string]map[string][]string{}
	for organ := range want {
		err := store.ReadOrganIn(ctx, tables, organ, plain{}, func(c *duty.Collection, rec any) {
			if got[organ] == nil {
				got[organ] = map[string][]string{}
			}
			got[organ][c.Name] = append(got[organ][c.Name], fmt.Sprint(rec))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for organ, byColl := range want {
		for c, docs := range byColl {
			if len(got[organ][c]) != len(docs) {
				t.Errorf("pinned %s %s: %d records, want %d (the generation before the move)", organ, c, len(got[organ][c]), len(docs))
			}
		}
	}
	if err := tables.Check(ctx); err != nil {
		t.Errorf("Check on an exclusive store: %v", err)
	}
	tables.Release()
	again, err := st.PinTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Release()
	n := 0
	if err := store.ReadOrganIn(ctx, tables, "ORG-2", plain{}, func(*duty.Collection, any) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the released old generation still has %d records of ORG-2: not dropped", n)
	}
}

func TestVerifyOrganTables(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	if err := st.VerifyOrganTables(ctx); err != nil {
		t.Errorf("after clean writes: %v", err)
	}
	// A table that lost a write no longer verifies, and the error names the organ's table.
	if err := store.SetInOrganTableForTest(ctx, st, "ORG-2", "talks/T-2", "held_on", "2025-01-04"); err != nil {
		t.Fatal(err)
	}
	if err := st.VerifyOrganTables(ctx); err == nil || !strings.Contains(err.Error(), "ORG-2") {
		t.Errorf("after a changed table: %v, want an error naming ORG-2", err)
	}
}

// TestCrashedBigBatchIsJournaledInChunks: a batch of about 12 MB (the API takes up to 32 MiB)
// is journaled in chunks below the 16 MiB document limit, and completed after a crash.
func TestCrashedBigBatchIsJournaledInChunks(t *testing.T) {
	ctx := context.Background()
	cfg, armed := killAt(storetest.NewConfig(t), "put.mid-batch")
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	seed(t, st)
	content := strings.Repeat("履责留痕", 100) // 1,200 bytes
	var books []map[string]any
	for i := range 40 {
		var entries []any
		for d := range 250 {
			entries = append(entries, map[string]any{"date": fmt.Sprintf("2025-%02d-%02d", 1+d%12, 1+d%28), "content": content})
		}
		books = append(books, map[string]any{"id": fmt.Sprintf("RB-%02d", i), "year": 2025, "holder_id": "P-1",
			"issued_on": "2025-01-01", "tasks": []any{}, "entries": entries, "inspections": []any{}})
	}
	armed.Store(true)
	if _, err := st.PutMany(ctx, admin, map[string][]duty.RawDoc{
		"record_books": raw(t, books...),
		// A record replaced: the journal holds the records, to complete the batch.
		"talks": raw(t, map[string]any{"id": "T-1", "kind": "reminder", "person_id": "P-2", "held_on": "2025-04-01"}),
	}); !errors.Is(err, errKilled) {
		t.Fatalf("the batch was not killed: %v", err)
	}
	cfg.Hook = nil
	st2 := storetest.OpenConfig(t, cfg)
	want := map[string][]map[string]any{"record_books": {}, "talks": {{"id": "T-1", "person_id": "P-2"}}}
	for _, b := range books {
		want["record_books"] = append(want["record_books"], map[string]any{"id": b["id"], "holder_id": "P-1"})
	}
	checkRecovered(t, st2, want, "records.put")
	got, err := st2.Get(ctx, "record_books", "RB-39")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got["entries"].([]any)); n != 250 {
		t.Errorf("RB-39 has %d entries after recovery, want 250", n)
	}
	trail, err := st2.AuditTrail(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	for _, e := range trail {
		if e.Collection == "record_books" {
			chunks++
		}
	}
	if chunks < 3 {
		t.Errorf("the 12 MB of record books were journaled (and audited) in %d chunks, want 3 or more of at most 4 MiB", chunks)
	}
}

// TestSharedStoreRecoversOnlyDeadProcesses: on a shared MongoDB (not Exclusive), a process
// leaves alone the operations and scans of a process whose lease is alive, and completes them
// once that process is gone.
func TestSharedStoreRecoversOnlyDeadProcesses(t *testing.T) {
	ctx := context.Background()
	shared := storetest.NewConfig(t)
	shared.Exclusive = false
	cfgA, armed := killAt(shared, "put.mid-batch")
	a, err := store.Open(ctx, cfgA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Drop(context.Background()) })
	seed(t, a)
	if err := a.CreateScan(ctx, &duty.Scan{ID: "S-a", Status: duty.ScanRunning, AsOf: "2025-12-31"}); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	batch := map[string][]map[string]any{"talks": {
		{"id": "T-5", "kind": "general", "person_id": "P-1", "held_on": "2025-05-01"},
		{"id": "T-6", "kind": "general", "person_id": "P-2", "held_on": "2025-05-02"},
	}}
	if _, err := a.PutBatch(ctx, admin, "talks", raw(t, batch["talks"]...)); !errors.Is(err, errKilled) {
		t.Fatalf("the batch was not stopped: %v", err)
	}

	// A is alive (its lease holds): B completes nothing of it.
	b := storetest.OpenConfig(t, shared)
	if rec := b.Recovered(); len(rec.Completed)+len(rec.FailedScans) != 0 {
		t.Errorf("a process recovered the work of a live one: %+v", rec)
	}
	if sc, _ := b.GetScan(ctx, "S-a"); sc.Status != duty.ScanRunning {
		t.Errorf("the live process's scan: %q, want running", sc.Status)
	}

	// B, alive, writes one of the records after A did: A's undoing (its batch is of new records
	// and had no audit entry yet) must not undo B's write.
	later := map[string]any{"id": "T-6", "kind": "reminder", "person_id": "P-2", "held_on": "2025-05-03"}
	put(t, b, "talks", later)

	// A is gone: the next process to open completes its batch and, as a process that runs
	// scans, takes its scan over (the scan service runs it again; a second death fails it).
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	scanning := shared
	scanning.AdoptScans = true
	c := storetest.OpenConfig(t, scanning)
	rec := c.Recovered()
	if len(rec.Completed) != 1 || !slices.Equal(rec.AdoptedScans, []string{"S-a"}) || len(rec.FailedScans) != 0 {
		t.Errorf("after the process is gone: recovery %+v, want its batch completed and its scan taken over", rec)
	}
	if _, err := c.Get(ctx, "talks", "T-5"); !errors.Is(err, duty.ErrNotFound) {
		t.Errorf("T-5 of the undone batch: %v, want not found", err)
	}
	checkRecovered(t, c, map[string][]map[string]any{"talks": {later}}, "records.put")

	// The same with a batch that replaces a record (so journals the records, to complete
	// them): a record written since by a live process is left as it is.
	cfgD, armedD := killAt(shared, "put.mid-batch")
	d, err := store.Open(ctx, cfgD)
	if err != nil {
		t.Fatal(err)
	}
	armedD.Store(true)
	replace := []map[string]any{
		{"id": "T-1", "kind": "reminder", "person_id": "P-1", "held_on": "2025-01-02"},
		{"id": "T-2", "kind": "reminder", "person_id": "P-2", "held_on": "2025-01-03"},
	}
	if _, err := d.PutBatch(ctx, admin, "talks", raw(t, replace...)); !errors.Is(err, errKilled) {
		t.Fatalf("the batch was not stopped: %v", err)
	}
	later2 := map[string]any{"id": "T-2", "kind": "petition_verification", "person_id": "P-2", "held_on": "2025-01-04"}
	put(t, c, "talks", later2)
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e := storetest.OpenConfig(t, shared)
	if rec := e.Recovered(); len(rec.Completed) != 1 || strings.Contains(rec.Completed[0], "undone") {
		t.Errorf("recovery %+v, want the batch completed", rec)
	}
	checkRecovered(t, e, map[string][]map[string]any{"talks": {replace[0], later2}}, "records.put")
}

// TestFailedOrCancelledWriteIsCompletedAtOnce: a batch whose request is cancelled half-way, or
// whose write fails half-way while the process lives on, is not left half-visible until the
// next start: a cancelled one runs to its end, a failed one is completed from its journal at
// once (and still reported as an error).
func TestFailedOrCancelledWriteIsCompletedAtOnce(t *testing.T) {
	batch := map[string][]map[string]any{"talks": {
		{"id": "T-5", "kind": "general", "person_id": "P-1", "held_on": "2025-05-01"},
		{"id": "T-6", "kind": "general", "person_id": "P-2", "held_on": "2025-05-02"},
	}}
	for _, tc := range []struct {
		note    string
		fail    bool
		wantErr bool
	}{
		{note: "cancelled", fail: false, wantErr: false},
		// A batch of new records failing half-way is undone (completed, it would be a batch
		// the client was told failed).
		{note: "failed", fail: true, wantErr: true},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := storetest.NewConfig(t)
			armed := &atomic.Bool{}
			cfg.Hook = func(p string) error {
				if p != "put.mid-batch" || !armed.CompareAndSwap(true, false) {
					return nil
				}
				cancel()
				if tc.fail {
					return errors.New("the store went away")
				}
				return nil
			}
			st := storetest.OpenConfig(t, cfg)
			t.Cleanup(func() { _ = st.Drop(context.Background()) })
			seed(t, st)
			armed.Store(true)
			_, err := st.PutBatch(ctx, admin, "talks", raw(t, batch["talks"]...))
			if (err != nil) != tc.wantErr {
				t.Errorf("PutBatch = %v, want an error: %v", err, tc.wantErr)
			}
			if tc.fail {
				for _, d := range batch["talks"] {
					if _, err := st.Get(context.Background(), "talks", d["id"].(string)); !errors.Is(err, duty.ErrNotFound) {
						t.Errorf("%s of the failed batch: %v, want it undone", d["id"], err)
					}
				}
				checkTables(t, st, "after the undo")
			} else {
				checkRecovered(t, st, batch, "records.put")
			}
			// Nothing is left for the next start.
			cfg.Hook = nil
			if rec := storetest.OpenConfig(t, cfg).Recovered(); len(rec.Completed) != 0 {
				t.Errorf("the next start completed %v, want nothing left", rec.Completed)
			}
		})
	}
}

// TestAuditHashOfStoredRecordIsItsWrittenHash: the hash of a record as read back from the store
// is the hash its write recorded (the audit entry's after = the next write's before). Recovery
// on a shared MongoDB relies on it to tell a record still as the dead process left it from one
// written since.
func TestAuditHashOfStoredRecordIsItsWrittenHash(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	book := map[string]any{"id": "RB-1", "year": 2025, "holder_id": "P-1", "issued_on": "2025-01-01",
		"tasks":       []any{map[string]any{"id": "K-1", "title": "任务", "due_on": "2025-03-01"}},
		"entries":     []any{map[string]any{"date": "2025-02-01", "task_id": "K-1", "content": "记实"}},
		"inspections": []any{map[string]any{"date": "2025-06-01", "inspector_id": "P-2", "findings": "无"}}}
	put(t, st, "record_books", book)
	talk := map[string]any{"id": "T-1", "kind": "general", "person_id": "P-1", "held_on": "2025-01-02", "recorded": true}
	put(t, st, "talks", talk)
	book["year"] = 2026
	talk["recorded"] = false
	put(t, st, "record_books", book)
	put(t, st, "talks", talk)
	trail, err := st.AuditTrail(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: for each record, the latest entry's before is the previous entry's after.
	seen := map[string]string{} // record → before of the newer write
	for _, e := range trail {
		for i, id := range e.IDs {
			k := e.Collection + "/" + id
			if k != "record_books/RB-1" && k != "talks/T-1" {
				continue
			}
			if before, ok := seen[k]; ok && before != e.After[i] {
				t.Errorf("%s: written with hash %s, read back as %s", k, e.After[i], before)
			}
			seen[k] = e.Before[i]
		}
	}
	if len(seen) != 2 {
		t.Errorf("audit entries for %v, want both records", seen)
	}
}

// TestCrashedBatchOfNewRecordsIsUndone: a batch of new records only (an import into an empty
// store) journals their ids, not the records: killed before its audit entries it is undone —
// none of its records is left — and killed once its audit entries are begun it is completed.
func TestCrashedBatchOfNewRecordsIsUndone(t *testing.T) {
	batch := map[string][]map[string]any{
		"departments": {{"id": "DIV-9", "name": "九处", "kind": "division", "parent_id": "ORG-1"}},
		"people":      {{"id": "P-9", "name": "王五", "department_id": "DIV-9", "rank": "division", "roles": []any{}, "active": true}},
		"talks":       {{"id": "T-9", "kind": "general", "person_id": "P-9", "held_on": "2025-02-02"}},
	}
	for _, tc := range []struct {
		point   string
		present bool
	}{
		{point: "put.after-journal"},
		{point: "put.mid-batch"},
		{point: "put.before-audit"},
		{point: "put.after-first-audit", present: true},
	} {
		t.Run(tc.point, func(t *testing.T) {
			ctx := context.Background()
			cfg, armed := killAt(storetest.NewConfig(t), tc.point)
			st := storetest.OpenConfig(t, cfg)
			t.Cleanup(func() { _ = st.Drop(context.Background()) })
			seed(t, st)
			before := fromCollections(t, st)
			armed.Store(true)
			raws := map[string][]duty.RawDoc{}
			for c, docs := range batch {
				raws[c] = raw(t, docs...)
			}
			if _, err := st.PutMany(ctx, admin, raws); !errors.Is(err, errKilled) {
				t.Fatalf("the batch was not killed at %s: %v", tc.point, err)
			}
			cfg.Hook = nil
			st2 := storetest.OpenConfig(t, cfg)
			rec := st2.Recovered()
			if len(rec.Completed) != 1 || strings.Contains(rec.Completed[0], "undone") == tc.present {
				t.Errorf("recovery = %+v, want the batch completed: %v", rec, tc.present)
			}
			if tc.present {
				checkRecovered(t, st2, batch, "records.put")
				return
			}
			if diff := cmp.Diff(before, fromCollections(t, st2)); diff != "" {
				t.Errorf("the undone batch left records (-before +after):\n%s", diff)
			}
			for c, docs := range batch {
				if _, err := st2.Get(ctx, c, docs[0]["id"].(string)); !errors.Is(err, duty.ErrNotFound) {
					t.Errorf("%s %s after the batch was undone: %v", c, docs[0]["id"], err)
				}
			}
			checkTables(t, st2, "after the undo")
			if err := st2.VerifyOrganTables(ctx); err != nil {
				t.Error(err)
			}
			if deps, err := st2.Departments(ctx); err != nil || len(deps) != 4 {
				t.Errorf("departments after the undo: %d, %v; want the 4 of the seed", len(deps), err)
			}
		})
	}
}

// TestRecoveryThatCannotReadEverythingFails: the recovery at Open reads the scans left running
// and the journal with cursors; a cursor that dies between two batches (the server went away)
// must fail the Open, not let it serve with part of the dead process's scans still running or
// part of its journal left undone. The next Open, with the server back, recovers everything.
func TestRecoveryThatCannotReadEverythingFails(t *testing.T) {
	const n = 150              // more than a first batch (101), so that the cursor asks for more
	var hookArmed *atomic.Bool // arms the kill after the journal of the subtest's store
	for _, tc := range []struct {
		note, coll string
		leave      func(t *testing.T, st *store.Store)
		check      func(t *testing.T, st *store.Store) (left int)
	}{
		{
			note: "running scans", coll: "scans",
			leave: func(t *testing.T, st *store.Store) {
				for i := range n {
					sc := &duty.Scan{ID: fmt.Sprintf("S-dead-%03d", i), Status: duty.ScanRunning, AsOf: "2025-12-31", StartedAt: "2025-12-31T00:00:00Z"}
					if err := st.CreateScan(context.Background(), sc); err != nil {
						t.Fatal(err)
					}
				}
			},
			check: func(t *testing.T, st *store.Store) (left int) {
				for i := range n {
					sc, err := st.GetScan(context.Background(), fmt.Sprintf("S-dead-%03d", i))
					if err != nil || sc.Status == duty.ScanRunning {
						left++
					}
				}
				return left
			},
		},
		{
			note: "journal", coll: "journal",
			leave: func(t *testing.T, st *store.Store) {
				seed(t, st)
				hookArmed.Store(true)
				for i := range n {
					_, err := st.PutMany(context.Background(), admin, map[string][]duty.RawDoc{"departments": raw(t,
						map[string]any{"id": fmt.Sprintf("DIV-J%03d", i), "name": "处", "kind": "division", "parent_id": "ORG-1"})})
					if !errors.Is(err, errKilled) {
						t.Fatalf("batch %d was not killed after its journal: %v", i, err)
					}
				}
			},
			// Batches of new records cut short before their audit are undone: each entry is
			// recovered (Recovered().Completed), and none is left in the journal.
			check: func(t *testing.T, st *store.Store) (left int) {
				return n - len(st.Recovered().Completed)
			},
		},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ctx := context.Background()
			cfg, armed := killAt(storetest.NewConfig(t), "put.after-journal")
			hookArmed = armed
			st := storetest.OpenConfig(t, cfg)
			t.Cleanup(func() { _ = st.Drop(context.Background()) })
			tc.leave(t, st)
			cfg.Hook = nil

			faults := &storetest.FaultDialer{}
			faults.BreakOn("getMore", tc.coll)
			broken := cfg
			broken.Dialer = faults
			st2, err := store.Open(ctx, broken)
			if err == nil {
				left := tc.check(t, st2)
				_ = st2.Close(ctx)
				t.Errorf("Open succeeded although its recovery could not read the %s whole; %d of the dead process's %d are left undone", tc.note, left, n)
			}
			if faults.Fired() == 0 {
				t.Fatalf("the fault was never injected: the recovery read the %s in one batch", tc.note)
			}
			st3 := storetest.OpenConfig(t, cfg)
			if left := tc.check(t, st3); left != 0 {
				t.Errorf("after a start with the server back, %d of %d %s are left undone", left, n, tc.note)
			}
		})
	}
}

// TestLostStoreDatabaseIsRefused: a store whose own database is gone (the embedded store's main
// file deleted or replaced) while its shard databases still hold its organs' tables is refused
// at Open, naming the problem, instead of being opened as a new, empty store that every page and
// scan would then show as holding nothing.
func TestLostStoreDatabaseIsRefused(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.NewConfig(t)
	st := storetest.OpenConfig(t, cfg)
	t.Cleanup(func() { _ = st.Drop(context.Background()) })
	seed(t, st)
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rawClient(t).Database(cfg.Database).Drop(ctx); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, cfg)
	if err == nil {
		_ = st2.Close(ctx)
		t.Fatal("Open of a store whose database was lost succeeded, as an empty store")
	}
	if !strings.Contains(err.Error(), "was lost") {
		t.Errorf("Open: %v; want it to say the store's database was lost", err)
	}
}
