package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestAccessByEffect is issue 13, item 2, across the API with a department token: inside its
// own subtree, a department user may not write records that satisfy or create organ-level
// duties (422 naming the document, the field and why, nothing written), while its own people,
// department-level list and meetings still go through. Admins are unaffected.
func TestAccessByEffect(t *testing.T) {
	base, stop := startServeLoaded(t)
	defer stop()
	admin := client{tb: t, base: base}
	admin.json("PUT", "/api/v1/users/office", map[string]any{"role": duty.RoleDepartment, "department": "ORG-1-OFF"}, http.StatusOK, nil)
	var tok struct{ Token string }
	admin.json("POST", "/api/v1/users/office/tokens", map[string]any{"name": "test"}, http.StatusCreated, &tok)
	office := client{tb: t, base: base, token: tok.Token}

	for _, tc := range []struct {
		note, coll, body string
		want             int
		wantIn           []string // in the refusal's body
		ids              []string // not stored after a refusal, stored after success
	}{
		{
			note: "issue example: annual_conduct meeting", coll: "meetings", want: 422,
			body:   `[{"id":"E-M-1","kind":"annual_conduct","department_id":"ORG-1-OFF","held_on":"2025-02-01"}]`,
			wantIn: []string{"E-M-1", "kind", "annual_conduct"}, ids: []string{"E-M-1"},
		},
		{
			note: "issue example: organ-level lists", coll: "responsibility_lists", want: 422,
			body: `[{"id":"E-RL-1","year":2025,"level":"party_group","department_id":"ORG-1-OFF","items":["x"]},
				{"id":"E-RL-2","year":2025,"level":"party_committee","department_id":"ORG-1-OFF","items":["x"]},
				{"id":"E-RL-3","year":2025,"level":"discipline_committee","department_id":"ORG-1-OFF","items":["x"]}]`,
			wantIn: []string{"E-RL-1", "E-RL-3", "level", "party_group"}, ids: []string{"E-RL-1", "E-RL-2", "E-RL-3"},
		},
		{
			note: "issue example: party_group_secretary role", coll: "people", want: 422,
			body:   `[{"id":"E-P-1","name":"王五","department_id":"ORG-1-DIV-04","rank":"division","roles":["party_group_secretary"],"active":true}]`,
			wantIn: []string{"E-P-1", "roles", "party_group_secretary"}, ids: []string{"E-P-1"},
		},
		{
			note: "allowed: own person without Party Group roles", coll: "people", want: 200,
			body: `[{"id":"E-P-2","name":"赵六","department_id":"ORG-1-DIV-04","rank":"division","roles":["department_head"],"active":true}]`,
			ids:  []string{"E-P-2"},
		},
		{
			note: "allowed: own department-heads list", coll: "responsibility_lists", want: 200,
			body: `[{"id":"E-RL-4","year":2025,"level":"department_heads","department_id":"ORG-1-DIV-04","holder_id":"ORG-1-P-048","items":["x"]}]`,
			ids:  []string{"E-RL-4"},
		},
		{
			note: "allowed: own meeting", coll: "meetings", want: 200,
			body: `[{"id":"E-M-2","kind":"处务会","department_id":"ORG-1-DIV-04","held_on":"2025-02-01"}]`,
			ids:  []string{"E-M-2"},
		},
	} {
		t.Run(tc.note, func(t *testing.T) {
			office.tb, admin.tb = t, t
			status, body := office.do("PUT", "/api/v1/collections/"+tc.coll, []byte(tc.body))
			if status != tc.want {
				t.Fatalf("status %d, want %d; body %.500s", status, tc.want, body)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(string(body), s) {
					t.Errorf("refusal does not name %q: %.500s", s, body)
				}
			}
			for _, id := range tc.ids {
				got, _ := admin.do("GET", "/api/v1/collections/"+tc.coll+"/"+id, nil)
				if want := map[bool]int{true: 200, false: 404}[tc.want == 200]; got != want {
					t.Errorf("GET %s %s after the write: status %d, want %d", tc.coll, id, got, want)
				}
			}
		})
	}
	// The same records from an admin go through.
	admin.tb = t
	admin.json("PUT", "/api/v1/collections/meetings",
		[]map[string]any{{"id": "E-M-1", "kind": "annual_conduct", "department_id": "ORG-1-OFF", "held_on": "2025-02-01"}}, http.StatusOK, nil)
	// ... and the department user can then neither change nor delete it.
	if status, body := office.do("DELETE", "/api/v1/collections/meetings/E-M-1", nil); status != 422 {
		t.Errorf("department user deletes an annual_conduct meeting: status %d, want 422; %.300s", status, body)
	}
}
