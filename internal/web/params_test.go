package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestParamChoices: the parameter form offers the ranks of the METADATA enum as choices with
// their Chinese labels and the labels of the parameters from METADATA; the words the page shows
// are not values, and a form that picks none, or types a label, is refused naming the parameter.
func TestParamChoices(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t)
	page := e.get("editor", "/policies/talk.pre_appointment")
	for _, want := range []string{
		`<input type="checkbox" name="p.ranks" value="bureau" checked> 厅级`,
		`<input type="checkbox" name="p.ranks" value="division" checked> 处级`,
		`<input type="checkbox" name="p.ranks" value="section"> 科级`,
		`<input type="checkbox" name="p.ranks" value="staff"> 科级以下`,
		`适用职级`, `任职前最早可谈话天数`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("policy page lacks %s", want)
		}
	}
	if en := e.get("editor", "/policies/talk.pre_appointment?lang=en"); !strings.Contains(en.body, `value="bureau" checked> bureau`) {
		t.Errorf("the English page does not label the choices in English")
	}
	if list := e.get("editor", "/policies"); !strings.Contains(list.body, `<span class="choice">厅级</span>`) {
		t.Errorf("the policy list does not show the ranks by their labels")
	}

	path := "/policies/talk.pre_appointment/params"
	form := func(ranks ...string) url.Values {
		return url.Values{"action": {"validate"}, "shown.ranks": {"1"}, "p.ranks": ranks, "p.max_days_before": {"90"}, "p.severity": {"high"}}
	}
	for _, tc := range []struct {
		note   string
		form   url.Values
		status int
		want   string
	}{
		{"one rank picked", form("bureau"), http.StatusOK, "alert success"},
		{"none picked", form(), http.StatusUnprocessableEntity, "at least 1 element"},
		{"labels typed", form("厅级, 处级"), http.StatusUnprocessableEntity, "must be one of"},
		{"a leap-day deadline", url.Values{"action": {"validate"}, "p.deadline": {"02-29"}}, http.StatusUnprocessableEntity, "not 02-29"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			p := path
			if tc.form.Has("p.deadline") {
				p = "/policies/meeting.annual_conduct/params"
			}
			r := e.post("editor", p, tc.form)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Errorf("%d, want %d with %q", r.status, tc.status, tc.want)
			}
		})
	}
}
