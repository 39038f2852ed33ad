package conformance_test

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/scan"
)

// mutatedAsOfs are the scan dates of TestConformanceMutated: the year's edges, the days around
// 02-29 in leap years, the fixed deadlines and mid-year.
var mutatedAsOfs = []string{"2024-01-01", "2023-12-31", "2024-02-28", "2024-02-29", "2024-03-01", "2028-02-29",
	"2025-01-20", "2025-03-18", "2025-03-31", "2025-06-30", "2025-12-25", "2025-12-31", "2026-01-01"}

// TestConformanceMutated compares the engine's violations, warnings and their order with the
// oracle's on boundary datasets that random edits have taken where the generator never goes:
// flags flipped (active, recorded, signed_by_*), a left_on, roles and ranks redrawn, people and
// appointments moved to any department (of another organ too), supervised departments redrawn,
// letters, lists and books moved to another year, dates moved to the days around the boundaries
// or anywhere in three years, optional fields removed, evidence emptied, a branch's discipline
// member redrawn or removed. Each dataset is scanned whole and for three subtrees.
func TestConformanceMutated(t *testing.T) {
	n := 4 * *seeds
	if testing.Short() {
		n = 3
	}
	for i := range n {
		r := rand.New(rand.NewSource(int64(i)))
		asOf := mutatedAsOfs[i%len(mutatedAsOfs)]
		a, _ := time.Parse(time.DateOnly, asOf)
		seed := int64(70000 + i)
		ds := gen.Generate(gen.Options{Boundaries: true, Organs: 1 + i%3, Seed: seed, AsOf: asOf})
		mutate(r, ds, a)
		dir, onDisk := written(t, ds)
		for _, dept := range []string{"", subtree(ds, seed), subtree(ds, seed+1), subtree(ds, seed+2)} {
			name := fmt.Sprintf("as_of=%s/seed=%d/mutation=%d/department=%s", asOf, seed, i, dept)
			rep, err := scan.ScanDir(context.Background(), dir, scan.Options{AsOf: asOf, Department: dept, Engine: testEngine(t)})
			if err != nil {
				t.Errorf("%s: scan: %v", name, err)
				continue
			}
			checkOrder(t, rep)
			want := normalize(t, conformance.Expected(onDisk, asOf, dept))
			got := normalize(t, fromReport(rep))
			bad := false
			if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
				bad = true
				t.Errorf("%s: violations differ from DOMAIN.md's reading (-want +got):\n%s", name, diff)
			}
			ww := conformance.ExpectedWarnings(onDisk, asOf, dept, conformance.WarnDays)
			for j := range ww {
				ww[j].Key = normalize(t, []conformance.Key{ww[j].Key})[0]
			}
			if diff := cmp.Diff(warningLines(ww), warningLines(fromWarnings(t, rep))); diff != "" {
				bad = true
				t.Errorf("%s: warnings differ from DOMAIN.md's reading (-want +got):\n%s", name, diff)
			}
			if bad && *dump != "" {
				if err := onDisk.WriteDir(filepath.Join(*dump, fmt.Sprintf("%s_mutation%d", asOf, i))); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// mutate edits ds in place with r, keeping it valid: every reference still names a record.
func mutate(r *rand.Rand, ds gen.Dataset, a time.Time) {
	date := func() string {
		var off int
		switch r.Intn(4) {
		case 0:
			off = r.Intn(31) - 15
		case 1:
			off = r.Intn(801) - 400
		case 2:
			off = []int{0, 1, -1, 14, 15, 30, 31, -30, -31, -60, -61, -92, -93, -183, -184, -365, -366, 90, -90, -91}[r.Intn(20)]
		default:
			y := a.Year() + r.Intn(3) - 1
			return time.Date(y, time.Month(1+r.Intn(12)), 1+r.Intn(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		}
		return a.AddDate(0, 0, off).Format(time.DateOnly)
	}
	pick := func(c string) map[string]any {
		if len(ds[c]) == 0 {
			return nil
		}
		return ds[c][r.Intn(len(ds[c]))]
	}
	var deptIDs, personIDs []string
	for _, d := range ds["departments"] {
		deptIDs = append(deptIDs, d["id"].(string))
	}
	for _, p := range ds["people"] {
		personIDs = append(personIDs, p["id"].(string))
	}
	roles := []string{"party_group_secretary", "party_group_member", "department_head", "discipline_member"}
	ranks := []string{"bureau", "division", "section", "staff"}
	n := 5 + r.Intn(25)
	for range n {
		switch r.Intn(22) {
		case 0:
			if p := pick("people"); p != nil {
				p["active"] = r.Intn(2) == 0
			}
		case 1:
			if p := pick("people"); p != nil {
				if r.Intn(3) == 0 {
					delete(p, "left_on")
				} else {
					p["left_on"] = date()
				}
			}
		case 2:
			if p := pick("people"); p != nil {
				var rs []any
				for _, x := range roles {
					if r.Intn(3) == 0 {
						rs = append(rs, x)
					}
				}
				if rs == nil {
					rs = []any{}
				}
				p["roles"] = rs
			}
		case 3:
			if p := pick("people"); p != nil {
				p["rank"] = ranks[r.Intn(4)]
			}
		case 4:
			if p := pick("people"); p != nil {
				var s []any
				for range r.Intn(3) {
					s = append(s, deptIDs[r.Intn(len(deptIDs))])
				}
				if s == nil {
					delete(p, "supervises")
				} else {
					p["supervises"] = s
				}
			}
		case 5:
			if x := pick("appointments"); x != nil {
				x["effective_on"] = date()
				x["rank"] = ranks[r.Intn(4)]
			}
		case 6:
			if x := pick("talks"); x != nil {
				x["held_on"] = date()
				switch r.Intn(3) {
				case 0:
					x["recorded"] = false
				case 1:
					x["recorded"] = true
				default:
					delete(x, "recorded")
				}
			}
		case 7:
			if x := pick("letters"); x != nil {
				x["signed_by_issuer"] = r.Intn(3) > 0
				x["signed_by_signer"] = r.Intn(3) > 0
				if r.Intn(3) == 0 {
					delete(x, "signed_on")
				} else {
					x["signed_on"] = date()
				}
				x["year"] = int64(a.Year() - r.Intn(2))
			}
		case 8:
			if x := pick("record_books"); x != nil {
				x["issued_on"] = date()
				x["year"] = int64(a.Year() + r.Intn(3) - 1)
				if r.Intn(3) == 0 {
					x["holder_id"] = personIDs[r.Intn(len(personIDs))]
				}
			}
		case 9:
			if x := pick("record_books"); x != nil {
				if es, ok := x["entries"].([]any); ok {
					for _, e := range es {
						if r.Intn(3) == 0 {
							e.(map[string]any)["date"] = date()
						}
					}
				}
				if is, ok := x["inspections"].([]any); ok {
					for _, e := range is {
						if r.Intn(2) == 0 {
							e.(map[string]any)["date"] = date()
						}
					}
				}
				if ts, ok := x["tasks"].([]any); ok {
					for _, e := range ts {
						if r.Intn(2) == 0 {
							e.(map[string]any)["due_on"] = date()
						}
					}
				}
			}
		case 10:
			if x := pick("suggestions"); x != nil {
				x["issued_on"] = date()
				if its, ok := x["items"].([]any); ok {
					for _, e := range its {
						it := e.(map[string]any)
						if r.Intn(2) == 0 {
							it["status"] = []string{"open", "closed"}[r.Intn(2)]
						}
						if r.Intn(3) == 0 {
							delete(it, "closed_on")
						}
						if r.Intn(3) == 0 {
							it["evidence"] = ""
						}
						if r.Intn(3) == 0 {
							it["due_on"] = date()
						}
					}
				}
			}
		case 11:
			if x := pick("meetings"); x != nil {
				x["held_on"] = date()
				if r.Intn(3) == 0 {
					x["kind"] = []string{"annual_conduct", "joint", "other"}[r.Intn(3)]
				}
				if r.Intn(3) == 0 {
					x["department_id"] = deptIDs[r.Intn(len(deptIDs))]
				}
			}
		case 12:
			if x := pick("responsibility_lists"); x != nil {
				x["year"] = int64(a.Year() - r.Intn(2))
				if r.Intn(3) == 0 {
					x["department_id"] = deptIDs[r.Intn(len(deptIDs))]
				}
				if r.Intn(3) == 0 {
					delete(x, "holder_id")
				} else if r.Intn(2) == 0 {
					x["holder_id"] = personIDs[r.Intn(len(personIDs))]
				}
			}
		case 13:
			if x := pick("integrity_files"); x != nil {
				x["updated_on"] = date()
				if ms, ok := x["major_matters"].([]any); ok {
					for _, e := range ms {
						m := e.(map[string]any)
						if r.Intn(2) == 0 {
							m["event_on"] = date()
						}
						if r.Intn(3) == 0 {
							delete(m, "reported_on")
						} else if r.Intn(2) == 0 {
							m["reported_on"] = date()
						}
					}
				}
			}
		case 14:
			for _, d := range ds["departments"] {
				if d["kind"] == "branch" && r.Intn(2) == 0 {
					if r.Intn(2) == 0 {
						delete(d, "discipline_member_id")
					} else {
						d["discipline_member_id"] = personIDs[r.Intn(len(personIDs))]
					}
				}
			}
		case 15:
			if p := pick("people"); p != nil {
				p["department_id"] = deptIDs[r.Intn(len(deptIDs))]
			}
		case 16:
			if x := pick("appointments"); x != nil {
				x["department_id"] = deptIDs[r.Intn(len(deptIDs))]
			}
		case 17:
			if x := pick("letters"); x != nil {
				x["level"] = int64(1 + r.Intn(3))
			}
		case 18:
			if x := pick("talks"); x != nil {
				x["kind"] = []string{"general", "pre_appointment", "reminder", "petition_verification"}[r.Intn(4)]
			}
		case 19:
			if x := pick("responsibility_lists"); x != nil {
				x["level"] = []string{"party_group", "party_group_secretary", "leaders", "party_committee", "discipline_committee", "department_heads", "special_committee"}[r.Intn(7)]
			}
		case 20:
			if x := pick("record_books"); x != nil {
				if es, ok := x["entries"].([]any); ok && len(es) > 0 && r.Intn(2) == 0 {
					x["entries"] = es[:r.Intn(len(es))]
				}
				if es, ok := x["inspections"].([]any); ok && len(es) > 0 && r.Intn(2) == 0 {
					x["inspections"] = es[:r.Intn(len(es))]
				}
			}
		case 21:
			if x := pick("talks"); x != nil {
				x["person_id"] = personIDs[r.Intn(len(personIDs))]
			}
		}
	}
}
