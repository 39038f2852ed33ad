package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/policy"
)

// TestScanNamesAnAddedDuty: the README's eleventh duty (internal/web/testdata/newduty), added to
// a copy of the built-in bundle, is named by its METADATA in the CLI's table and CSV, in Chinese
// and in English, with nothing else of the program knowing it.
func TestScanNamesAnAddedDuty(t *testing.T) {
	src := filepath.Join("..", "..", "internal", "web", "testdata", "newduty")
	files := map[string]string{}
	for p, text := range policy.Builtin().Files {
		files[p] = text
	}
	for _, f := range []string{"duty/talk/recorded.rego", "duty/talk/recorded_test.rego"} {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	var params, own map[string]map[string]any
	b, err := os.ReadFile(filepath.Join(src, "params.json"))
	if err != nil {
		t.Fatal(err)
	}
	if json.Unmarshal([]byte(files["params/data.json"]), &params) != nil || json.Unmarshal(b, &own) != nil {
		t.Fatal("params do not parse")
	}
	params["talk"]["recorded"] = own["talk"]["recorded"]
	data, _ := json.Marshal(params)
	files["params/data.json"] = string(data)
	dir := t.TempDir()
	writeFiles(t, dir, files)

	sample := filepath.Join("..", "..", "fixtures", "sample")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "table"}, "     未记录在案  廉政谈话 "},
		{[]string{"--format", "table", "--lang", "en"}, "     not on record  talks/"},
		{[]string{"--format", "csv"}, ",廉政谈话全程记录在案,Every integrity talk on record,未记录在案,not on record,violation,,,"}, // kind, then fails_on, waiver_id and waiver_until empty
	} {
		code, out, errOut := runCLI(t, append([]string{"scan", "--input", sample, "--as-of", "2025-12-31", "--policies", dir}, tc.args...)...)
		if code != 1 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		if !strings.Contains(out, "（talk.recorded）[中]") && !strings.Contains(out, "(talk.recorded) [medium]") && tc.args[1] == "table" {
			t.Errorf("%v: no talk.recorded group in the table", tc.args)
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("%v: output lacks %q", tc.args, tc.want)
		}
	}
}
