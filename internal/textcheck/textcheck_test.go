package textcheck_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/textcheck"
)

// root is the module's root, two folders up from this package.
var root = filepath.Join("..", "..")

// text is one string a person reads, and where it was found.
type text struct{ where, s string }

// TestChineseReadsAsChinese reads every Chinese string people are shown — the Go string
// literals of the program (messages, page texts, CLI output, spreadsheet titles), the page
// templates, the string literals and METADATA of the policy bundle, the label catalogue and the
// Chinese messages of the golden reports — and finds no ASCII , ; : ( ) beside Chinese
// characters and no field name or code inside a Chinese sentence.
func TestChineseReadsAsChinese(t *testing.T) {
	codes := catalogueCodes(t)
	sources := []struct {
		name string
		read func(testing.TB) []text
		// some is true when the source must hold Chinese text: a reader that finds none there
		// has read nothing. The templates take their words from the Go side (web/i18n.go).
		some bool
	}{
		{"go", goStrings, true},
		{"templates", templateTexts, false},
		{"rego", regoStrings, true},
		{"metadata", metadataTexts, true},
		{"labels", labelTexts, true},
		{"golden", goldenMessages, true},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			texts := src.read(t)
			chinese := 0
			for _, x := range texts {
				if !textcheck.HasChinese(x.s) {
					continue
				}
				chinese++
				for _, p := range textcheck.Check(x.s, codes) {
					t.Errorf("%s: %s", x.where, p)
				}
			}
			if src.some && chinese == 0 {
				t.Fatalf("no Chinese text found in the %s source", src.name)
			}
			t.Logf("%d Chinese strings checked", chinese)
		})
	}
}

// TestEnglishMessagesHaveNoCodes: the English messages of the golden reports (the policies'
// English templates filled in with the sample's records) name levels, ranks and fields by their
// labels too, never by a snake_case code.
func TestEnglishMessagesHaveNoCodes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "fixtures", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden reports: %v", err)
	}
	n := 0
	for _, f := range files {
		for _, x := range jsonTexts(t, f, "en") {
			n++
			for _, p := range textcheck.CheckEnglish(x.s) {
				t.Errorf("%s: %s", x.where, p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no English message in the golden reports")
	}
	for _, bad := range []string{"has no 2025 responsibility list at level discipline_committee", "has no signing date (signed_on: 2025-02-09)"} {
		if len(textcheck.CheckEnglish(bad)) == 0 {
			t.Errorf("CheckEnglish(%q) finds nothing", bad)
		}
	}
}

// TestCheckFindsBadText shows that Check fails on what the test above must refuse, and passes
// what it must accept.
func TestCheckFindsBadText(t *testing.T) {
	codes := catalogueCodes(t)
	for _, tc := range []struct {
		note string
		s    string
		want int // problems
	}{
		{"ASCII comma between Chinese", "令牌只用于本次登录,不会保存", 1},
		{"ASCII parentheses around a code", "任职「联络处副处长」(division)", 3},
		{"a pair of parentheses goes together", "影响预览(基准日 %s):新增", 3},
		{"level code in a sentence", "缺少「机关纪委」层级(discipline_committee)责任清单", 3},
		{"field name with a colon", "缺少签订日期(signed_on:2025-02-09),截止", 4},
		{"colon after Chinese, space before the verb", "范围: %s", 1},
		{"enumerated value as a word", "职级 bureau 的干部", 1},
		{"full-width punctuation and labels", "缺少签订日期（签订日期：2025-02-09），截止日期 %s；另见「机关纪委」", 0},
		{"format verbs and ids are not codes", "%s（%s）于 %d 天内 ORG-1-P-001 已 %v", 0},
		{"English text is not checked", "Scope: %s (as of %s), level discipline_committee", 0},
		{"an English text naming a Chinese word is English", "dutycheck checks the duties (履责留痕) of an organ: scan, serve", 0},
		{"times and numbers keep ASCII", "检查于 10:30 完成，共 1,024 项", 0},
	} {
		t.Run(tc.note, func(t *testing.T) {
			got := textcheck.Check(tc.s, codes)
			if len(got) != tc.want {
				t.Errorf("Check(%q): %d problems, want %d:\n%s", tc.s, len(got), tc.want, strings.Join(got, "\n"))
			}
		})
	}
}

// catalogueCodes returns the codes of the label catalogue: every enumerated value and every
// field name, the words that must be shown by their labels.
func catalogueCodes(tb testing.TB) map[string]bool {
	tb.Helper()
	codes := map[string]bool{}
	for _, vals := range duty.Names.Enums {
		for v := range vals {
			codes[v] = true
		}
	}
	var fields func(map[string]duty.FieldLabel)
	fields = func(fs map[string]duty.FieldLabel) {
		for n, f := range fs {
			codes[n] = true
			fields(f.Fields)
		}
	}
	for _, c := range duty.Names.Collections {
		fields(c.Fields)
	}
	if !codes["discipline_committee"] || !codes["signed_on"] {
		tb.Fatalf("the catalogue's codes lack discipline_committee or signed_on: %v", codes)
	}
	return codes
}

// goStrings returns the string literals of the program's Go files (tests excluded).
func goStrings(tb testing.TB) []text {
	tb.Helper()
	var out []text
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil {
				out = append(out, text{fset.Position(lit.Pos()).String(), s})
			}
			return true
		})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// action and tag match a template action and an HTML tag.
var (
	action = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tag    = regexp.MustCompile(`(?s)<[^>]*>`)
	quoted = regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"`)
)

// templateTexts returns the text of the page templates outside actions and tags, and the
// string literals inside actions, one text per line.
func templateTexts(tb testing.TB) []text {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(root, "internal", "web", "templates", "*.html"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no templates: %v", err)
	}
	var out []text
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			where := fmt.Sprintf("%s:%d", file, i+1)
			for _, a := range action.FindAllString(line, -1) {
				for _, m := range quoted.FindAllStringSubmatch(a, -1) {
					out = append(out, text{where, m[1]})
				}
			}
			out = append(out, text{where, tag.ReplaceAllString(action.ReplaceAllString(line, "\x00"), "\x00")})
		}
	}
	return out
}

// regoStrings returns the string literals of the bundle's policies (tests excluded), outside
// comments.
func regoStrings(tb testing.TB) []text {
	tb.Helper()
	var out []text
	err := filepath.WalkDir(filepath.Join(root, "policies"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, "_test.rego") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, m := range quoted.FindAllStringSubmatch(line, -1) {
				s, err := strconv.Unquote(`"` + m[1] + `"`)
				if err != nil {
					s = m[1]
				}
				out = append(out, text{fmt.Sprintf("%s:%d", path, i+1), s})
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// metadataTexts returns every string of the METADATA of the built-in bundle's modules, as the
// service reads them: titles, descriptions, reasons, parameters and their choices and units.
func metadataTexts(tb testing.TB) []text {
	tb.Helper()
	e, err := policy.Compile(context.Background(), policy.Builtin())
	if err != nil {
		tb.Fatal(err)
	}
	var out []text
	for _, m := range e.Policies() {
		where := m.File + " METADATA"
		out = append(out, text{where + " title", m.Title}, text{where + " description", m.Description}, text{where + " seed", m.Seed})
		walk(m.Custom, where+" custom", func(where, s string) { out = append(out, text{where, s}) })
	}
	return out
}

// labelTexts returns every string of the label catalogue (labels/data.json).
func labelTexts(tb testing.TB) []text {
	tb.Helper()
	return jsonTexts(tb, filepath.Join(root, "policies", "labels", "data.json"), "")
}

// goldenMessages returns the Chinese messages of the golden reports: the policies' message
// templates filled in with the sample's records.
func goldenMessages(tb testing.TB) []text {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(root, "fixtures", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden reports: %v", err)
	}
	var out []text
	for _, f := range files {
		out = append(out, jsonTexts(tb, f, "zh")...)
	}
	return out
}

// jsonTexts returns the strings of a JSON file, only those under a key named only when only
// is not empty.
func jsonTexts(tb testing.TB, file, only string) []text {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	var out []text
	walk(v, file, func(where, s string) {
		if only == "" || strings.HasSuffix(where, "."+only) {
			out = append(out, text{where, s})
		}
	})
	return out
}

// walk calls f with every string inside v and its path.
func walk(v any, where string, f func(where, s string)) {
	switch x := v.(type) {
	case string:
		f(where, x)
	case map[string]any:
		for k, e := range x {
			walk(e, where+"."+k, f)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", where, i), f)
		}
	}
}
