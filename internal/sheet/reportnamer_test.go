package sheet_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// TestReportNamer: the names of a report's departments and subjects are read one by one (each
// once), a record deleted since the scan has no name, and a store that cannot answer is an error.
func TestReportNamer(t *testing.T) {
	store := map[string]duty.Doc{
		"departments/D-1": {"_id": "D-1", "name": "办公室"},
		"people/P-1":      {"_id": "P-1", "name": "张三"},
	}
	reads := map[string]int{}
	get := func(_ context.Context, coll, id string) (duty.Doc, error) {
		reads[coll+"/"+id]++
		if id == "BROKEN" {
			return nil, errors.New("store unavailable")
		}
		d, ok := store[coll+"/"+id]
		if !ok {
			return nil, fmt.Errorf("%s %q: %w", coll, id, duty.ErrNotFound)
		}
		return d, nil
	}
	v := func(dept, coll, id string) duty.Violation {
		return duty.Violation{Department: dept, Subject: duty.Ref{Collection: coll, ID: id}}
	}
	rep := &duty.Report{
		Violations: []duty.Violation{v("D-1", "people", "P-1"), v("D-1", "people", "P-GONE"), v("D-1", "suggestions", "S-1")},
		Warnings:   []duty.Warning{{Violation: v("D-1", "people", "P-1")}},
	}
	names, err := sheet.ReportNamer(context.Background(), get, rep)
	if err != nil {
		t.Fatal(err)
	}
	if got := names("departments", "D-1"); got != "办公室" {
		t.Errorf("department name %q", got)
	}
	if got := names("people", "P-1"); got != "张三" {
		t.Errorf("person name %q", got)
	}
	if got := names("people", "P-GONE"); got != "" {
		t.Errorf("a deleted person is named %q", got)
	}
	if reads["departments/D-1"] != 1 || reads["people/P-1"] != 1 || reads["suggestions/S-1"] != 0 {
		t.Errorf("reads %v: want each department and person once, nothing else", reads)
	}
	rep.Violations = append(rep.Violations, v("D-1", "people", "BROKEN"))
	if _, err := sheet.ReportNamer(context.Background(), get, rep); err == nil {
		t.Error("a store failure gave names")
	}
}
