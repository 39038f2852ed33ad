package web_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// newDuty is the worked example of the README ("Adding a duty"): an 11th duty from the seed,
// talk.recorded ("一般性廉政谈话、任前廉政谈话、提醒谈话、信访核实谈话全程记录在案"), made of exactly
// its Rego file, its test and its parameters (testdata/newduty), and its oracle (recordedOracle
// below). Nothing else of the program knows it.
const newDuty = "testdata/newduty"

// recordedOracle reads the duty from the seed's words, independently of the Rego: every talk of
// the given kinds held on or before asOf that is marked recorded: false.
func recordedOracle(talks []map[string]any, kinds []string, asOf string) []string {
	var ids []string
	for _, t := range talks {
		kind, _ := t["kind"].(string)
		held, _ := t["held_on"].(string)
		if rec, ok := t["recorded"].(bool); ok && !rec && slices.Contains(kinds, kind) && held <= asOf {
			ids = append(ids, t["id"].(string))
		}
	}
	slices.Sort(ids)
	return ids
}

// newDutyDraft is the change adding the duty: its two Rego files, and params/data.json with its
// parameters laid over the built-in ones.
func newDutyDraft(tb testing.TB, base string) map[string]any {
	tb.Helper()
	files := map[string]string{}
	for _, f := range []string{"duty/talk/recorded.rego", "duty/talk/recorded_test.rego"} {
		b, err := os.ReadFile(filepath.Join(newDuty, f))
		if err != nil {
			tb.Fatal(err)
		}
		files[f] = string(b)
	}
	var params, own map[string]map[string]any
	if err := json.Unmarshal([]byte(policy.Builtin().Files["params/data.json"]), &params); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(newDuty, "params.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &own); err != nil {
		tb.Fatal(err)
	}
	for area, duties := range own {
		if params[area] == nil {
			params[area] = map[string]any{}
		}
		maps.Copy(params[area], duties)
	}
	data, err := json.MarshalIndent(params, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	files["params/data.json"] = string(data)
	return map[string]any{"base": base, "files": files, "message": "an 11th duty: every integrity talk on record"}
}

// api calls the JSON API with user's bearer token and decodes the answer into out (when not nil).
func (e *env) api(user, method, path string, body any, want int, out any) string {
	e.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.tb.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.tb.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.tb.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return string(data)
}

// TestDutyPushedThroughAPIIsComplete pushes the 11th duty through the API and finds it complete
// everywhere from its METADATA alone: its title and reason label on the report page and in its
// filter, its parameter form with the labelled choices (in Chinese and English), the labels in
// the CSV downloads of the pages and the API; and its violations are those of its oracle, with
// the ten duties' unchanged.
func TestDutyPushedThroughAPIIsComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var before struct {
		Revision string `json:"revision"`
	}
	e.api("admin", "GET", "/api/v1/policies", nil, http.StatusOK, &before)
	e.api("admin", "POST", "/api/v1/policies/revisions", newDutyDraft(t, before.Revision), http.StatusCreated, nil)
	var prev, sc struct {
		Report duty.Report `json:"report"`
	}
	e.api("admin", "GET", "/api/v1/scans/"+e.whole, nil, http.StatusOK, &prev)
	e.api("admin", "POST", "/api/v1/scans", map[string]any{"as_of": "2025-12-31"}, http.StatusCreated, &sc)

	// The violations: the oracle's for the new duty, the same as before for the ten.
	b, err := os.ReadFile("../../fixtures/sample/talks.json")
	if err != nil {
		t.Fatal(err)
	}
	var talks []map[string]any
	if err := json.Unmarshal(b, &talks); err != nil {
		t.Fatal(err)
	}
	want := recordedOracle(talks, []string{"general", "pre_appointment", "reminder", "petition_verification"}, "2025-12-31")
	if len(want) == 0 {
		t.Fatal("the sample has no unrecorded talk: the test would prove nothing")
	}
	var got, others, othersBefore []string
	for _, v := range sc.Report.Violations {
		if v.Policy == "talk.recorded" {
			got = append(got, v.Subject.ID)
		} else {
			others = append(others, v.Policy+" "+v.Subject.ID+" "+v.Reason+" "+duty.DetailString(v.Details))
		}
	}
	for _, v := range prev.Report.Violations {
		othersBefore = append(othersBefore, v.Policy+" "+v.Subject.ID+" "+v.Reason+" "+duty.DetailString(v.Details))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("talk.recorded found %v, the oracle %v", got, want)
	}
	if !slices.Equal(others, othersBefore) {
		t.Errorf("the ten duties changed: %d violations, %d before", len(others), len(othersBefore))
	}

	// The report page and its filter.
	page := e.get("inspector", "/departments/ORG-1?duty=talk.recorded")
	for _, s := range []string{`<span class="reason">未记录在案</span>`, "廉政谈话全程记录在案", ">未记录在案 ("} {
		if !strings.Contains(page.body, s) {
			t.Errorf("the report page lacks %s", s)
		}
	}
	if en := e.get("inspector", "/departments/ORG-1?duty=talk.recorded&lang=en"); !strings.Contains(en.body, `<span class="reason">not on record</span>`) {
		t.Error("the English report page lacks the reason's English label")
	}

	// The parameter form, with its choices.
	form := e.get("editor", "/policies/talk.recorded")
	for _, s := range []string{"须记录在案的谈话种类", `value="reminder" checked> 提醒谈话`, `value="petition_verification" checked> 信访核实谈话`, "未记录在案 <code>unrecorded</code>"} {
		if !strings.Contains(form.body, s) {
			t.Errorf("the policy page lacks %s", s)
		}
	}
	if en := e.get("editor", "/policies/talk.recorded?lang=en"); !strings.Contains(en.body, "kinds of talk that must be on record") || !strings.Contains(en.body, `value="general" checked> general talk`) {
		t.Error("the English policy page lacks the parameter's English label or choices")
	}

	// A built-in duty's form: its labels and units come from its METADATA in the same way.
	for lang, want := range map[string][]string{
		"":         {"任职前最早可谈话天数", `<span class="unit">天</span>`, "缺失 <code>missing</code>"},
		"?lang=en": {"earliest talk, days before taking office", `<span class="unit">days</span>`, "ranks whose appointments need a talk"},
	} {
		page := e.get("editor", "/policies/talk.pre_appointment"+lang)
		for _, s := range want {
			if !strings.Contains(page.body, s) {
				t.Errorf("/policies/talk.pre_appointment%s lacks %s", lang, s)
			}
		}
	}

	// The CSV downloads of the page and of the API.
	// The page's has the Chinese titles, the API's the column names of docs/report.md.
	for i, dl := range []string{e.get("inspector", "/departments/ORG-1/report.csv?duty=talk.recorded").body,
		e.api("inspector", "GET", "/api/v1/departments/ORG-1/report?format=csv", nil, http.StatusOK, nil)} {
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(dl, duty.BOM))).ReadAll()
		if err != nil || len(rows) == 0 || !slices.Equal(rows[0], [][]string{duty.CSVTitles, duty.CSVHeader}[i]) {
			t.Fatalf("CSV %v (%v)", rows, err)
		}
		n := 0
		for _, r := range rows[1:] {
			if r[1] == "talk.recorded" {
				n++
				// policy_zh, policy_en, reason_zh, reason_en
				if got := r[12:16]; !slices.Equal(got, []string{"廉政谈话全程记录在案", "Every integrity talk on record", "未记录在案", "not on record"}) {
					t.Errorf("CSV labels %v", got)
				}
			}
		}
		if n != len(want) {
			t.Errorf("%d talk.recorded rows in the CSV, want %d", n, len(want))
		}
	}
}
