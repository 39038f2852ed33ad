package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestParamsRefusedThroughAPI sends through PUT /policies/{id}/params each parameter value that
// used to be accepted with 201 and switch a duty off silently: each is now 422 with the
// problems named. A change that silences a duty passes only when it says switch_off.
func TestParamsRefusedThroughAPI(t *testing.T) {
	base, stop := startServe(t, t.TempDir())
	defer stop()
	c := client{tb: t, base: base}
	tests := []struct {
		note   string
		policy string
		body   string
		want   []string
	}{
		{"a leap-day deadline", "meeting.annual_conduct", `{"base": "r1", "params": {"deadline": "02-29"}}`, []string{"meeting.annual_conduct.deadline", "not 02-29"}},
		{"a leap-day deadline for letters", "letter.three_levels", `{"base": "r1", "params": {"deadline": "02-29"}}`, []string{"letter.three_levels.deadline"}},
		{"a leap-day deadline for record books", "recordbook.kept", `{"base": "r1", "params": {"deadline": "02-29"}}`, []string{"recordbook.kept.deadline"}},
		{"a leap-day deadline for lists", "list.six_levels", `{"base": "r1", "params": {"deadline": "02-29"}}`, []string{"list.six_levels.deadline"}},
		{"a misspelt rank", "talk.pre_appointment", `{"base": "r1", "params": {"ranks": ["burea"]}}`, []string{"talk.pre_appointment.ranks", `got \"burea\"`}},
		{"the labels the page shows", "talk.pre_appointment", `{"base": "r1", "params": {"ranks": ["厅级", "处级"]}}`, []string{"talk.pre_appointment.ranks", `got \"厅级\"`, `got \"处级\"`}},
		{"the labels, integrity files", "archive.integrity_file", `{"base": "r1", "params": {"ranks": ["厅级", "处级"]}}`, []string{"archive.integrity_file.ranks"}},
		{"a silenced duty", "meeting.joint", `{"base": "r1", "params": {"max_gap_days": 366}}`, []string{"duty meeting.joint reports no violation", "switch_off"}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			status, body := c.do("PUT", "/api/v1/policies/"+tc.policy+"/params", []byte(tc.body))
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", status, body)
			}
			var got struct {
				Error struct {
					Problems []struct {
						Message string `json:"message"`
					} `json:"problems"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &got); err != nil || len(got.Error.Problems) == 0 {
				t.Fatalf("no problems in %s (%v)", body, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("response does not say %s: %s", w, body)
				}
			}
		})
	}
	var p struct {
		Schema map[string]any `json:"schema"`
	}
	c.json("GET", "/api/v1/policies/talk.pre_appointment/params", nil, http.StatusOK, &p)
	if b, _ := json.Marshal(p.Schema["ranks"]); !strings.Contains(string(b), `"zh":"厅级"`) {
		t.Errorf("the schema does not show the rank choices with their labels: %s", b)
	}
	c.json("PUT", "/api/v1/policies/meeting.joint/params", map[string]any{"base": "r1", "params": map[string]any{"max_gap_days": 366}, "switch_off": true, "message": "checked by hand"}, http.StatusCreated, nil)
	var m struct {
		Metadata struct {
			SwitchedOff bool `json:"switched_off"`
		} `json:"metadata"`
	}
	c.json("GET", "/api/v1/policies/meeting.joint", nil, http.StatusOK, &m)
	if !m.Metadata.SwitchedOff {
		t.Error("meeting.joint not shown as switched off after switch_off")
	}
}

// TestServeLedgerFlagsMoved refuses the flags that set the ledger's parameters before they were
// data of the policy bundle, saying where they went, before anything starts.
func TestServeLedgerFlagsMoved(t *testing.T) {
	for _, args := range [][]string{{"--rectify-days", "high=10"}, {"-waiver-max-days=30"}, {"--standing-weights=high=1"}} {
		code, _, errOut := runCLI(t, append([]string{"serve", "--data", t.TempDir()}, args...)...)
		if code != 2 || !strings.Contains(errOut, "/api/v1/policies/ledger/params") {
			t.Errorf("serve %v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
