package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// rss is this process's resident set in bytes (Linux; 0 elsewhere). The service runs in the
// test process, so this is the service's.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// attackPolicy is policy z.attack: violation runs body for each person; with test, its test
// evaluates the rule over one person.
func attackPolicy(body string, test bool) (string, *string) {
	mod := "# METADATA\n# title: 攻击\n# description: An attacker's policy.\n# custom:\n#   id: z.attack\n#   severity: low\n#   reasons: [x]\n" +
		"package duty.z.attack\n\nviolation contains v if {\n\tsome p in input.people\n\t" + body + "\n}\n"
	if !test {
		return mod, nil
	}
	t := "package duty.z.attack_test\n\nimport data.duty.z.attack\n\ntest_runs if {\n\tcount(attack.violation) >= 0 with input as {\"people\": [{\"id\": \"P1\", \"name\": \"n\"}]}\n}\n"
	return mod, &t
}

const attackViolation = `v := {"reason": "x", "subject": {"collection": "people", "id": p.id}, "details": {}, "message": {"zh": "", "en": ""}, "evidence": []}`

// TestPolicySandboxThroughAPI replays the policy attacks of issue 13 against a running service,
// as a policy editor: each is refused with 422 and a clear message, the service lives on with
// its memory bounded, and a preview shows the editor counts, not records.
func TestPolicySandboxThroughAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg := serveConfig{Addr: "127.0.0.1:0", LoadDir: filepath.Join("..", "..", "fixtures", "sample"),
		Store: testStoreConfig(t, t.TempDir()), AdminToken: testAdminToken,
		Sandbox: policy.Limits{Memory: 256 << 20, Timeout: time.Minute}}
	go func() { done <- serve(ctx, cfg, newLogger(io.Discard, slog.LevelError), ready) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	defer func() { cancel(); <-done }()
	admin := client{tb: t, base: base}
	admin.json("PUT", "/api/v1/users/editor", map[string]any{"role": duty.RolePolicyEditor}, http.StatusOK, nil)
	var tok struct{ Token string }
	admin.json("POST", "/api/v1/users/editor/tokens", map[string]any{"name": "test"}, http.StatusCreated, &tok)
	editor := client{tb: t, base: base, token: tok.Token}

	before := rss()
	for _, tc := range []struct {
		note, path, body string
		test             bool
		want             string
	}{
		{note: "numbers.range(1, 60000000) in a test", path: "/api/v1/policies/validate", test: true,
			body: "count(numbers.range(1, 60000000)) > 0\n\t" + attackViolation,
			want: "policy evaluation exceeded its memory budget (256 MiB) while running the tests"},
		{note: "a module without a test", path: "/api/v1/policies/revisions", body: "count(numbers.range(1, 60000000)) > 0\n\t" + attackViolation,
			want: "policy z.attack has no test"},
		{note: "http.send to a local port", path: "/api/v1/policies/revisions", test: true,
			body: `http.send({"method": "GET", "url": "` + base + `/healthz"}).status_code == 200` + "\n\t" + attackViolation,
			want: "builtin http.send is not allowed in a dutycheck policy"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			mod, test := attackPolicy(tc.body, tc.test)
			files := map[string]*string{"duty/z/attack.rego": &mod}
			if test != nil {
				files["duty/z/attack_test.rego"] = test
			}
			data, _ := json.Marshal(map[string]any{"files": files, "base": "r1"})
			editor.tb = t
			status, out := editor.do("POST", tc.path, data)
			if status != http.StatusUnprocessableEntity || !strings.Contains(string(out), tc.want) {
				t.Errorf("POST %s: %d %s, want 422 with %q", tc.path, status, out, tc.want)
			}
			if status, _ := admin.do("GET", "/healthz", nil); status != http.StatusOK {
				t.Fatalf("the service is down after the attack: /healthz %d", status)
			}
		})
	}
	after := rss()
	t.Logf("service RSS %d MiB before the attacks, %d MiB after", before>>20, after>>20)
	if before > 0 && after-before > 150<<20 {
		t.Errorf("the service grew by %d MiB during the attacks", (after-before)>>20)
	}

	// A preview of a draft that copies every person into its violations: counts only.
	leak := `v := {"reason": p.name, "department": p.name, "subject": {"collection": "people", "id": p.id}, "details": {"people": input.people}, "message": {"zh": p.name, "en": ""}, "evidence": []}`
	mod, test := attackPolicy(leak, true)
	var imp struct {
		Detailed bool              `json:"detailed"`
		Added    []json.RawMessage `json:"added"`
		Counts   struct {
			Added struct{ Total int } `json:"added"`
		} `json:"counts"`
		Draft string `json:"draft_hash"`
	}
	body := map[string]any{"draft": map[string]any{"files": map[string]*string{"duty/z/attack.rego": &mod, "duty/z/attack_test.rego": test}}, "as_of": "2025-12-31"}
	data, _ := json.Marshal(body)
	status, out := editor.do("POST", "/api/v1/policies/preview", data)
	if status != http.StatusOK {
		t.Fatalf("preview: %d %s", status, out)
	}
	if err := json.Unmarshal(out, &imp); err != nil {
		t.Fatal(err)
	}
	if imp.Detailed || len(imp.Added) != 0 || imp.Counts.Added.Total == 0 {
		t.Errorf("policy editor's preview: detailed %v, %d violations, %d counted; want counts only", imp.Detailed, len(imp.Added), imp.Counts.Added.Total)
	}
	for _, p := range samplePeople(t)[:5] {
		if name, _ := p["name"].(string); name != "" && strings.Contains(string(out), name) {
			t.Errorf("the preview names person %q", name)
		}
	}
	var trail struct {
		Entries []duty.AuditEntry `json:"entries"`
	}
	admin.json("GET", "/api/v1/audit?actor=editor", nil, http.StatusOK, &trail)
	found := false
	for _, e := range trail.Entries {
		if e.Action == "policy.preview" && len(e.After) == 1 && e.After[0] == imp.Draft {
			found = true
		}
	}
	if !found {
		t.Errorf("no policy.preview of draft %s by editor in the audit trail: %+v", imp.Draft, trail.Entries)
	}
}

// TestPolicyTestRefusesUntestedAndDenied: `dutycheck policy test` applies the service's gate.
func TestPolicyTestRefusesUntestedAndDenied(t *testing.T) {
	for _, tc := range []struct {
		note, body string
		test       bool
		want       string
	}{
		{note: "no test", body: attackViolation, want: "policy z.attack has no test"},
		{note: "http.send", body: `http.send({"method": "GET", "url": "http://127.0.0.1:1"}).status_code == 200` + "\n\t" + attackViolation, test: true,
			want: "duty/z/attack.rego:12:2: builtin http.send is not allowed in a dutycheck policy"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range policy.Builtin().Files {
				writeFile(t, filepath.Join(dir, name), text)
			}
			mod, test := attackPolicy(tc.body, tc.test)
			writeFile(t, filepath.Join(dir, "duty", "z", "attack.rego"), mod)
			if test != nil {
				writeFile(t, filepath.Join(dir, "duty", "z", "attack_test.rego"), *test)
			}
			var stdout, stderr strings.Builder
			code := run(context.Background(), []string{"policy", "test", dir}, &stdout, &stderr)
			if code != exitBadInput || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d naming %q", code, stderr.String(), exitBadInput, tc.want)
			}
		})
	}
}

func writeFile(tb testing.TB, path, text string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}
