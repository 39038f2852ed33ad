package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// apiPut writes records through the API as user.
func (e *env) apiPut(user, coll string, docs []duty.Doc) {
	e.tb.Helper()
	body, _ := json.Marshal(docs)
	req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/collections/"+coll, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.tb.Fatalf("PUT %s: %s", coll, resp.Status)
	}
}

// subjectOf returns a person who is the subject of a violation of department's report whose
// department in answers true.
func subjectOf(tb testing.TB, e *env, department string, in func(dept string) bool) duty.Doc {
	tb.Helper()
	ctx := context.Background()
	rep, err := e.scans.Latest(ctx, department)
	if err != nil {
		tb.Fatal(err)
	}
	for _, v := range rep.Violations {
		if v.Subject.Collection == "people" && in(v.Department) {
			p, err := e.st.Get(ctx, "people", v.Subject.ID)
			if err != nil {
				tb.Fatal(err)
			}
			return p
		}
	}
	tb.Fatalf("no violation of %s about a person", department)
	return nil
}

// The report pages name people from a map of their organ's names kept by the organ's version
// (names.go): a name changed through the API is on the next page, at once; a department
// user's page shows the same names whether or not an admin's page filled the map first.
func TestReportNamesFollowWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tree, err := e.st.Tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sub := tree.Subtree(scope)

	// The office user's page, before and after an admin's page filled the names of the whole
	// organ, names the same people: no more, no fewer.
	csrf := regexp.MustCompile(`value="[0-9a-f]{32,}"`)
	office := func() string {
		r := e.get("office", "/departments/"+scope)
		if r.status != 200 {
			t.Fatalf("office page: %d", r.status)
		}
		return csrf.ReplaceAllString(r.body, "")
	}
	first := office()
	p := subjectOf(t, e, "ORG-1", func(d string) bool { return sub[d] })
	old := p.Str("name")
	if r := e.get("admin", "/departments/ORG-1"); r.status != 200 || !strings.Contains(html.UnescapeString(r.body), old) {
		t.Fatalf("the organ's page (%d) does not name %s %q", r.status, p.ID(), old)
	}
	if second := office(); second != first {
		t.Errorf("the office user's page changed after an admin's page filled the organ's names")
	}

	renamed := duty.Doc{}
	for k, v := range p {
		renamed[k] = v
	}
	renamed["name"] = "改名后的人"
	e.apiPut("admin", "people", []duty.Doc{renamed})
	if body := html.UnescapeString(e.get("admin", "/departments/ORG-1").body); !strings.Contains(body, "改名后的人") {
		t.Errorf("the page after the write does not show the new name of %s", p.ID())
	}
	if body := html.UnescapeString(office()); !strings.Contains(body, "改名后的人") {
		t.Errorf("the office user's page after the write does not show the new name of %s", p.ID())
	}
}
