package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// startServeLoaded runs serve on a fresh embedded store with the sample organ imported.
func startServeLoaded(tb testing.TB) (string, func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg := serveConfig{Addr: "127.0.0.1:0", LoadDir: filepath.Join("..", "..", "fixtures", "sample"),
		Store: testStoreConfig(tb, tb.TempDir()), AdminToken: testAdminToken}
	go func() { done <- serve(ctx, cfg, newLogger(io.Discard, slog.LevelError), ready) }()
	select {
	case addr := <-ready:
		return "http://" + addr, func() { cancel(); <-done }
	case err := <-done:
		cancel()
		tb.Fatalf("serve: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		tb.Fatal("serve did not start")
	}
	return "", nil
}

func samplePeople(tb testing.TB) []map[string]any {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "sample", "people.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var people []map[string]any
	if err := json.Unmarshal(data, &people); err != nil {
		tb.Fatal(err)
	}
	return people
}

func personIn(tb testing.TB, people []map[string]any, dept string) string {
	tb.Helper()
	for _, p := range people {
		if p["department_id"] == dept {
			return p["id"].(string)
		}
	}
	tb.Fatalf("no person in %s", dept)
	return ""
}

// TestAccessControl checks the role table across the API: each role is allowed exactly what the
// table says, a department user cannot reach another subtree by id, scan scope, report URL or
// CSV, and every change lands in the audit trail with its actor.
func TestAccessControl(t *testing.T) {
	base, stop := startServeLoaded(t)
	defer stop()
	admin := client{tb: t, base: base}
	people := samplePeople(t)
	const scope = "ORG-1-OFF" // the office and its divisions
	inside, outside := personIn(t, people, "ORG-1-DIV-04"), personIn(t, people, "ORG-1-DIV-01")

	tokens := map[string]string{}
	for _, u := range []struct{ name, role, dept string }{
		{"editor", duty.RolePolicyEditor, ""}, {"inspector", duty.RoleInspector, ""}, {"office", duty.RoleDepartment, scope},
	} {
		admin.json("PUT", "/api/v1/users/"+u.name, map[string]any{"role": u.role, "department": u.dept}, http.StatusOK, nil)
		var tok struct{ Token, ID string }
		admin.json("POST", "/api/v1/users/"+u.name+"/tokens", map[string]any{"name": "test"}, http.StatusCreated, &tok)
		tokens[u.name] = tok.Token
	}
	var whole duty.Scan
	admin.json("POST", "/api/v1/scans", map[string]any{"as_of": "2025-12-31"}, http.StatusCreated, &whole)

	talk := func(id, person string) string {
		return `[{"id":"` + id + `","kind":"general","person_id":"` + person + `","held_on":"2025-05-01"}]`
	}
	type call struct{ method, path, body string }
	calls := map[string]call{
		"read inside":        {"GET", "/api/v1/collections/people/" + inside, ""},
		"read outside":       {"GET", "/api/v1/collections/people/" + outside, ""},
		"write inside":       {"PUT", "/api/v1/collections/talks", talk("T-IN", inside)},
		"write outside":      {"PUT", "/api/v1/collections/talks", talk("T-OUT", outside)},
		"delete outside":     {"DELETE", "/api/v1/collections/people/" + outside, ""},
		"scan own subtree":   {"POST", "/api/v1/scans", `{"as_of":"2025-12-31"}`},
		"scan other subtree": {"POST", "/api/v1/scans", `{"as_of":"2025-12-31","department":"ORG-1-DIV-01"}`},
		"scan whole store":   {"POST", "/api/v1/scans", `{"as_of":"2025-12-31","department":"ORG-1"}`},
		"whole-store scan":   {"GET", "/api/v1/scans/" + whole.ID, ""},
		"report inside":      {"GET", "/api/v1/departments/ORG-1-DIV-04/report", ""},
		"report outside":     {"GET", "/api/v1/departments/ORG-1-DIV-01/report", ""},
		"csv outside":        {"GET", "/api/v1/departments/ORG-1-DIV-01/report?format=csv", ""},
		"list policies":      {"GET", "/api/v1/policies", ""},
		"change params":      {"PUT", "/api/v1/policies/meeting.joint/params", `{"params":{"max_gap_days":91},"message":"access test","base":"r1"}`},
		"preview":            {"POST", "/api/v1/policies/preview", `{"draft":{"params":{"meeting.joint":{"max_gap_days":30}}},"as_of":"2025-12-31"}`},
		"list users":         {"GET", "/api/v1/users", ""},
		"create token":       {"POST", "/api/v1/users/inspector/tokens", `{"name":"x"}`},
		"read audit":         {"GET", "/api/v1/audit", ""},
	}
	want := map[string]map[string]int{
		"inspector": {"read inside": 200, "read outside": 200, "write inside": 200, "write outside": 200, "delete outside": 409,
			"scan own subtree": 201, "scan other subtree": 201, "scan whole store": 201, "whole-store scan": 200, "report inside": 200,
			"report outside": 200, "csv outside": 200, "list policies": 200, "change params": 403, "preview": 403,
			"list users": 403, "create token": 403, "read audit": 403},
		"editor": {"read inside": 403, "read outside": 403, "write inside": 403, "write outside": 403, "delete outside": 403,
			"scan own subtree": 403, "scan other subtree": 403, "scan whole store": 403, "whole-store scan": 403, "report inside": 403,
			"report outside": 403, "csv outside": 403, "list policies": 200, "change params": 201, "preview": 200,
			"list users": 403, "create token": 403, "read audit": 403},
		"office": {"read inside": 200, "read outside": 404, "write inside": 200, "write outside": 422, "delete outside": 404,
			"scan own subtree": 201, "scan other subtree": 404, "scan whole store": 404, "whole-store scan": 404, "report inside": 200,
			"report outside": 404, "csv outside": 404, "list policies": 200, "change params": 403, "preview": 403,
			"list users": 403, "create token": 403, "read audit": 403},
	}
	names := []string{"inspector", "editor", "office"}
	for _, user := range names {
		c := client{tb: t, base: base, token: tokens[user]}
		for name, cl := range calls {
			t.Run(user+"/"+name, func(t *testing.T) {
				c.tb = t
				status, body := c.do(cl.method, cl.path, []byte(cl.body))
				if status != want[user][name] {
					t.Errorf("%s %s: status %d, want %d; body %.300s", cl.method, cl.path, status, want[user][name], body)
				}
			})
		}
	}

	// The department user's own scan is limited to its subtree, and so are the scans it can list.
	office := client{tb: t, base: base, token: tokens["office"]}
	var own duty.Scan
	office.json("POST", "/api/v1/scans", map[string]any{"as_of": "2025-12-31"}, http.StatusCreated, &own)
	if own.Department != scope {
		t.Errorf("department user's scan scope = %q, want %q", own.Department, scope)
	}
	var listed struct{ Scans []duty.Scan }
	office.json("GET", "/api/v1/scans", nil, http.StatusOK, &listed)
	for _, sc := range listed.Scans {
		if !strings.HasPrefix(sc.Department, scope) && !strings.HasPrefix(sc.Department, "ORG-1-DIV-0") {
			t.Errorf("department user lists scan %s of %q", sc.ID, sc.Department)
		}
	}

	// The CLI against the service: the same table.
	for _, tc := range []struct {
		user string
		args []string
		want int
	}{
		{"office", []string{"policy", "revisions"}, exitOK},
		{"office", []string{"policy", "activate", "r1"}, exitBadInput},
		{"inspector", []string{"policy", "activate", "r1"}, exitBadInput},
		{"editor", []string{"policy", "activate", "r1"}, exitOK},
	} {
		var out, errOut strings.Builder
		args := append(slices.Clone(tc.args[:2]), append([]string{"--server", base, "--token", tokens[tc.user]}, tc.args[2:]...)...)
		if code := run(context.Background(), args, &out, &errOut); code != tc.want {
			t.Errorf("%s: dutycheck %v: exit %d, want %d; stderr %s", tc.user, tc.args, code, tc.want, errOut.String())
		} else if tc.want != exitOK && !strings.Contains(errOut.String(), "may not") {
			t.Errorf("%s: dutycheck %v: stderr %q does not say why", tc.user, tc.args, errOut.String())
		}
	}

	// Authentication failures.
	for _, tc := range []struct {
		name, token string
		want        int
	}{{"no token", "none", 401}, {"unknown token", "dct_000000000000_00000000000000000000000000000000", 401}, {"garbage", "x", 401}} {
		status, _ := client{tb: t, base: base, token: tc.token}.do("GET", "/api/v1/policies", nil)
		if status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.want)
		}
	}
	var revokeID string
	var tokList struct{ Tokens []duty.Token }
	admin.json("GET", "/api/v1/tokens?user=inspector", nil, http.StatusOK, &tokList)
	for _, tk := range tokList.Tokens {
		if tk.Name == "test" {
			revokeID = tk.ID
		}
	}
	admin.json("DELETE", "/api/v1/tokens/"+revokeID, nil, http.StatusNoContent, nil)
	if status, _ := (client{tb: t, base: base, token: tokens["inspector"]}).do("GET", "/api/v1/policies", nil); status != 401 {
		t.Errorf("revoked token: status %d, want 401", status)
	}
	// Every change made above is in the audit trail with its actor.
	var trail struct{ Entries []duty.AuditEntry }
	admin.json("GET", "/api/v1/audit?limit=1000", nil, http.StatusOK, &trail)
	seen := map[string][]string{}
	for _, e := range trail.Entries {
		seen[e.Actor] = append(seen[e.Actor], e.Action+" "+e.Collection+" "+strings.Join(e.IDs, ","))
	}
	for actor, wantEntry := range map[string]string{
		"inspector": "records.put talks T-OUT",
		"office":    "records.put talks T-IN",
		"editor":    "policy.change policy_revisions ",
		"admin":     "token.revoke tokens " + revokeID,
	} {
		if !slices.ContainsFunc(seen[actor], func(s string) bool { return strings.HasPrefix(s, wantEntry) }) {
			t.Errorf("audit trail of %s = %v, want an entry %q", actor, seen[actor], wantEntry)
		}
	}
	for _, e := range trail.Entries {
		if len(e.IDs) != len(e.Before) || len(e.IDs) != len(e.After) {
			t.Errorf("audit entry %+v: ids, before and after differ in length", e)
		}
	}

	// Last, as it locks this address out for a minute.
	limited := false
	for range 15 {
		if status, _ := (client{tb: t, base: base, token: "dct_bad_bad"}).do("GET", "/api/v1/policies", nil); status == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("15 failed token sign-ins in a row were never rate limited")
	}

}
