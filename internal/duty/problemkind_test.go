package duty_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// noKind compares problems by where and what they say, leaving out their kind (tested by
// TestProblemKinds).
var noKind = cmpopts.IgnoreFields(duty.Problem{}, "Kind", "Args")

// declaredKinds are the ProblemKind constants of problemkind.go, read from the source so that
// a kind added without a Chinese text fails TestEveryKindHasChinese.
func declaredKinds(tb testing.TB) []duty.ProblemKind {
	tb.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "problemkind.go", nil, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var kinds []duty.ProblemKind
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "ProblemKind" {
				continue
			}
			for _, v := range vs.Values {
				s, err := strconv.Unquote(v.(*ast.BasicLit).Value)
				if err != nil {
					tb.Fatal(err)
				}
				kinds = append(kinds, duty.ProblemKind(s))
			}
		}
	}
	if len(kinds) < 20 {
		tb.Fatalf("read %d kinds from problemkind.go", len(kinds))
	}
	return kinds
}

func TestEveryKindHasChinese(t *testing.T) {
	for _, k := range declaredKinds(t) {
		if !duty.HasChinese(k) {
			t.Errorf("kind %q has no Chinese text", k)
		}
	}
}

// badValues are values of the wrong kind, length or range for a field of kind k.
func badValues(f duty.Field) []any {
	long := strings.Repeat("长", duty.MaxTextChars+1)
	many := make([]any, duty.MaxItems+1)
	vals := []any{true, map[string]any{}, long, "", " ", "zz", "a/b", "2025-02-30", "2300-01-01", "1.5", "a\x00b"}
	switch f.Kind {
	case duty.Int, duty.Bool:
		vals = append(vals, int64(1<<40), int64(-7), "x")
	case duty.Strings:
		vals = append(vals, []any{int64(1), "", " ", long, "zz", "\x7f"}, many)
	case duty.Objects:
		vals = append(vals, []any{int64(1)}, []any{map[string]any{"id": "K"}, map[string]any{"id": "K"}}, many)
	}
	return vals
}

// problemsOfBadRecords are the problems the validator makes of records each with one bad
// field, of every collection and field (nested ones too), and of batches and folders with
// the faults only a whole batch or folder can have.
func problemsOfBadRecords(t *testing.T) []duty.Problem {
	var all []duty.Problem
	var walk func(c *duty.Collection, fields []duty.Field, wrap func(v map[string]any) map[string]any)
	walk = func(c *duty.Collection, fields []duty.Field, wrap func(v map[string]any) map[string]any) {
		for _, f := range fields {
			for _, v := range badValues(f) {
				_, ps := duty.NormalizeRaw(c, wrap(map[string]any{f.Name: v, "zzz": 1}))
				all = append(all, ps...)
			}
			if f.Kind == duty.Objects {
				walk(c, f.Fields, func(v map[string]any) map[string]any { return wrap(map[string]any{f.Name: []any{v}}) })
			}
		}
	}
	for i := range duty.Collections {
		c := duty.Collections[i]
		walk(c, c.Fields, func(v map[string]any) map[string]any { return v })
		_, ps := duty.NormalizeRaw(c, "not an object")
		all = append(all, ps...)
	}
	// No field of the schema is an integer without a range; one that were would say so.
	free := &duty.Collection{Name: "free", Fields: []duty.Field{{Name: "n", Kind: duty.Int}}}
	_, ps := free.Normalize(map[string]any{"n": "x"})
	all = append(all, ps...)
	for _, d := range []duty.Doc{{"id": "O", "kind": "organ", "parent_id": "X"}, {"id": "D", "kind": "division"}, {"id": "D", "kind": "division", "parent_id": "D"}} {
		all = append(all, duty.CheckDepartment(d)...)
	}
	batch := map[string][]duty.RawDoc{"departments": {
		{Index: 0, Value: map[string]any{"id": "A", "name": "甲", "kind": "division", "parent_id": "B"}},
		{Index: 1, Value: map[string]any{"id": "B", "name": "乙", "kind": "division", "parent_id": "A"}},
		{Index: 2, Value: map[string]any{"id": "A", "name": "甲", "kind": "division", "parent_id": "B"}},
		{Index: 3, Value: map[string]any{"id": "C", "name": "丙", "kind": "division", "parent_id": "GONE"}},
	}}
	var ve *duty.ValidationError
	if _, err := duty.Validate(context.Background(), batch, nil); !errors.As(err, &ve) {
		t.Fatalf("a bad batch: %v", err)
	}
	all = append(all, ve.Problems...)
	if _, p := duty.DecodeArray("talks.json", []byte(`[{"id": }]`)); p != nil {
		all = append(all, *p)
	}
	dir := t.TempDir()
	for _, name := range []string{"Talks.json", "staff.json", "departments.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("[]"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := duty.ReadDir(dir); !errors.As(err, &ve) {
		t.Fatalf("a bad folder: %v", err)
	}
	return append(all, ve.Problems...)
}

// TestProblemKinds: every problem the validator makes has a kind with a Chinese text, and
// every kind but the store's own rules (tested where the store makes them) is made.
func TestProblemKinds(t *testing.T) {
	seen := map[duty.ProblemKind]bool{}
	for _, p := range problemsOfBadRecords(t) {
		zh := p.Chinese()
		if p.Kind == "" || zh == "" || strings.Contains(zh, "%!") {
			t.Errorf("%s: kind %q, Chinese %q", p, p.Kind, zh)
		}
		seen[p.Kind] = true
	}
	storeKinds := []duty.ProblemKind{duty.KindIDTaken, duty.KindScope, duty.KindOrganLevel, duty.KindLeader, duty.KindUnchecked}
	var missing []duty.ProblemKind
	for _, k := range declaredKinds(t) {
		if !seen[k] && !slices.Contains(storeKinds, k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("kinds the validator never made here: %v", missing)
	}
}

func TestProblemChinese(t *testing.T) {
	for _, tc := range []struct {
		note string
		p    duty.Problem
		want string
	}{
		{"with arguments", duty.Problem{Kind: duty.KindIntRange, Args: []string{"1", "3"}}, "须为 1 至 3 之间的整数。"},
		{"a reference", duty.MissingRef("person_id", "无此人", "people"), "找不到「无此人」：既不是已存储的记录，也不在本次提交中，请从列表中选择。"},
		{"no kind", duty.Problem{Message: "something"}, ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.p.Chinese()); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
