package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/gen"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestLivePolicyChangesThroughAPIAndCLI changes a parameter and a rule of the running service,
// sees the next scan change with no restart, sees a broken change refused, and rolls back.
func TestLivePolicyChangesThroughAPIAndCLI(t *testing.T) {
	base, stop := startServe(t, t.TempDir())
	defer stop()
	c := client{tb: t, base: base}
	const asOf = "2025-06-30"
	ds := gen.Generate(gen.Options{Boundaries: true, Seed: 5, AsOf: asOf, Organs: 1})
	loadThroughAPI(c, ds)

	count := func(policyID string) int {
		t.Helper()
		var sc duty.Scan
		c.json("POST", "/api/v1/scans", map[string]any{"as_of": asOf}, http.StatusCreated, &sc)
		return sc.Report.Summary.ByPolicy[policyID]
	}
	before := count("talk.pre_appointment")

	// A parameter, through the API.
	c.json("PUT", "/api/v1/policies/talk.pre_appointment/params", map[string]any{"params": map[string]any{"max_days_before": 5}, "message": "test", "base": "r1"}, http.StatusCreated, nil)
	stricter := count("talk.pre_appointment")
	if stricter <= before {
		t.Errorf("max_days_before 90 → 5: %d violations, was %d; want more", stricter, before)
	}
	// A bad parameter and a broken module are refused with the problem named; scans unchanged.
	status, body := c.do("PUT", "/api/v1/policies/talk.pre_appointment/params", []byte(`{"params":{"max_days_before":"soon"},"base":"r2"}`))
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "must be an integer") {
		t.Errorf("bad parameter: %d %s", status, body)
	}
	status, body = c.do("PUT", "/api/v1/policies/talk.pre_appointment", []byte(`{"module":"package duty.talk.pre_appointment\n\nviolation contains v if {","base":"r2"}`))
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"row":`) {
		t.Errorf("broken module: %d %s", status, body)
	}
	if got := count("talk.pre_appointment"); got != stricter {
		t.Errorf("after refused changes: %d violations, want %d", got, stricter)
	}

	// The CLI lists the revisions and rolls back to the first.
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"policy", "revisions", "--server", base, "--token", testAdminToken}, &out, &errOut); code != 0 {
		t.Fatalf("policy revisions: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "* r2") || !strings.Contains(out.String(), "r1") {
		t.Errorf("policy revisions printed:\n%s", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"policy", "activate", "--server", base, "--token", testAdminToken, "r1"}, &out, &errOut); code != 0 {
		t.Fatalf("policy activate: exit %d: %s", code, errOut.String())
	}
	if got := count("talk.pre_appointment"); got != before {
		t.Errorf("after rollback: %d violations, want %d as before", got, before)
	}
	if !strings.Contains(out.String(), "revision r1 is in force again as revision r3") {
		t.Errorf("policy activate printed %q", out.String())
	}
	// Made on a revision that is no longer in force, a rollback is refused with exit status 3.
	out.Reset()
	errOut.Reset()
	code := run(context.Background(), []string{"policy", "activate", "--server", base, "--token", testAdminToken, "--base", "r2", "r1"}, &out, &errOut)
	if code != exitStale || !strings.Contains(errOut.String(), "refused, nothing was changed") || !strings.Contains(errOut.String(), "r3 is in force now") {
		t.Errorf("activate on a stale base: exit %d, stderr %s", code, errOut.String())
	}

	// policy push of a folder whose talk rule has a shorter window: active at once.
	dir := t.TempDir()
	for p, content := range policy.Builtin().Files {
		if p == "params/data.json" {
			content = strings.Replace(content, `"max_days_before": 90`, `"max_days_before": 5`, 1)
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		_ = os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errOut.Reset()
	code = run(context.Background(), []string{"policy", "push", "--server", base, "--token", testAdminToken, "-m", "shorter window", dir}, &out, &errOut)
	// The bundle's own boundary tests expect 90 days in params/data.json: the push is refused.
	if code != exitBadInput || !strings.Contains(errOut.String(), "pre_appointment_test.rego") {
		t.Errorf("push of a bundle whose tests fail: exit %d, stderr %s", code, errOut.String())
	}
	// A push of a folder that passes, on a stale --base: refused with exit status 3; on the
	// revision in force (read by the CLI): in force, recorded as made from the command line.
	for p, content := range policy.Builtin().Files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "duty/meeting/joint.rego"), []byte(policy.Builtin().Files["duty/meeting/joint.rego"]+"\n# pushed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	code = run(context.Background(), []string{"policy", "push", "--server", base, "--token", testAdminToken, "--base", "r2", dir}, &out, &errOut)
	if code != exitStale || !strings.Contains(errOut.String(), "since revision r2") {
		t.Errorf("push on a stale base: exit %d, stderr %s", code, errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"policy", "push", "--server", base, "--token", testAdminToken, dir}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "revision r4") {
		t.Fatalf("push: exit %d, stdout %s, stderr %s", code, out.String(), errOut.String())
	}
	var revs struct {
		Revisions []duty.PolicyRevision
	}
	c.json("GET", "/api/v1/policies/revisions", nil, http.StatusOK, &revs)
	var got []string
	for _, r := range revs.Revisions {
		got = append(got, r.ID+" "+r.Author+" "+r.Source+" "+r.Parent+" "+r.RestoredFrom)
	}
	want := []string{"r4 admin cli r3 ", "r3 admin cli r2 r1", "r2 admin api r1 ", "r1 system:builtin builtin  "}
	if !slices.Equal(got, want) {
		t.Errorf("revisions:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
