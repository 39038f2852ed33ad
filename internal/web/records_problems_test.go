package web

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestProblemText: the validator's and the effect rule's own problems, as they are made today,
// each read in Chinese from its kind (none falls through to the generic text).
func TestProblemText(t *testing.T) {
	t.Parallel()
	normalize := func(coll string, d map[string]any) []duty.Problem {
		_, ps := duty.Lookup(coll).Normalize(d)
		return ps
	}
	talk := func(change map[string]any) map[string]any {
		d := map[string]any{"id": "T-1", "kind": "general", "person_id": "P-1", "held_on": "2025-01-02"}
		for k, v := range change {
			if v == nil {
				delete(d, k)
			} else {
				d[k] = v
			}
		}
		return d
	}
	letter := map[string]any{"id": "L-1", "year": int64(3000), "level": "two", "issuer_id": "P-1", "signer_id": "P-2",
		"signed_by_issuer": "yes", "signed_by_signer": true}
	book := map[string]any{"id": "B-1", "year": int64(2025), "holder_id": "P-1", "issued_on": "2025-01-01",
		"tasks":   []any{map[string]any{"id": "K", "title": "", "due_on": "2025-02-01"}, map[string]any{"id": "K", "title": "", "due_on": "2025-02-01"}},
		"entries": []any{}, "inspections": []any{}}
	_, leader := duty.LeaderRecord("talks", duty.Doc{"person_id": "P-1"}, func(string) bool { return true })
	_, organ := duty.OrganLevel("meetings", duty.Doc{"kind": "annual_conduct"}, func(string) string { return "" })
	_, list := duty.OrganLevel("responsibility_lists", duty.Doc{"level": "leaders"}, func(string) string { return "" })
	for _, tc := range []struct {
		note  string
		probs []duty.Problem
		want  string
	}{
		{"required", normalize("talks", talk(map[string]any{"held_on": nil})), "此项必填。"},
		{"empty", normalize("talks", talk(map[string]any{"person_id": " "})), "此项必填。"},
		{"bad date", normalize("talks", talk(map[string]any{"held_on": "2025-02-30"})), "请填写有效日期（年-月-日）。"},
		{"date out of range", normalize("talks", talk(map[string]any{"held_on": "2250-01-01"})), "日期须在 1900-01-01 至 2199-12-31 之间。"},
		{"enum", normalize("talks", talk(map[string]any{"kind": "chat"})), "请从所列选项中选择。"},
		{"bad id", normalize("talks", talk(map[string]any{"id": "a/b"})), "编号须为"},
		{"year out of range", normalize("letters", letter)[:1], "须为 1900 至 2199 之间的整数。"},
		{"level not a number", normalize("letters", letter)[1:2], "须为 1 至 3 之间的整数。"},
		{"bool", normalize("letters", letter)[2:3], "请选择「是」或「否」。"},
		{"duplicate item id", normalize("record_books", book), "编号与同一记录的另一项重复。"},
		{"organ with a parent", duty.CheckDepartment(duty.Doc{"id": "O", "kind": "organ", "parent_id": "X"}), "机关是最上级"},
		{"no parent", duty.CheckDepartment(duty.Doc{"id": "D", "kind": "division"}), "每个部门都要选择上级部门"},
		{"own parent", duty.CheckDepartment(duty.Doc{"id": "D", "kind": "division", "parent_id": "D"}), "不能是本部门"},
		{"leader", []duty.Problem{{Kind: duty.KindLeader, Message: leader}}, "涉及机关领导干部"},
		{"organ level", []duty.Problem{{Kind: duty.KindOrganLevel, Message: organ}}, "机关层面的职责记录"},
		{"organ-level list", []duty.Problem{{Kind: duty.KindOrganLevel, Message: list}}, "机关层面的职责记录"},
		{"taken", []duty.Problem{{Kind: duty.KindIDTaken, Message: msgIDTaken}}, "该编号已被使用"},
		{"too long", normalize("talks", talk(map[string]any{"kind": strings.Repeat("k", duty.MaxStringChars+1)})), "内容过长"},
		{"too many", normalize("record_books", map[string]any{"id": "B-1", "year": int64(2025), "holder_id": "P-1", "issued_on": "2025-01-01",
			"tasks": make([]any, duty.MaxItems+1), "entries": []any{}, "inspections": []any{}}), "条目过多"},
		{"reference", []duty.Problem{duty.MissingRef("person_id", "无此人", "people")}, "找不到「无此人」"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if len(tc.probs) == 0 {
				t.Fatal("no problem made")
			}
			got := problemText(langZH, tc.probs[0])
			if !strings.Contains(got, tc.want) {
				t.Errorf("%q read %q, want %q", tc.probs[0].Message, got, tc.want)
			}
		})
	}
	if got := problemText(langZH, duty.Problem{Message: "something new"}); got != "填写有误（something new）。" {
		t.Errorf("an unknown problem: %q", got)
	}
}

// TestProblemKindsOnPage: a problem of each kind, beside the field it names on a record's
// form, reads in Chinese from the one table of duty (no English message shows).
func TestProblemKindsOnPage(t *testing.T) {
	t.Parallel()
	h := &handler{pages: parsePages(assetHashes())}
	v := &organRecs{tree: &orgTree{Tree: duty.NewTree(nil), kids: map[string][]string{}}}
	for _, k := range duty.ProblemKinds() {
		t.Run(string(k), func(t *testing.T) {
			w := httptest.NewRecorder()
			rq := &request{w: w, r: httptest.NewRequest(http.MethodPost, "/new/talks", nil), lang: langZH}
			p := duty.Problem{Field: "held_on", Kind: k, Message: "an English message", Args: []string{"甲", "乙"}}
			if err := h.showForm(rq, http.StatusUnprocessableEntity, duty.Lookup("talks"), v, nil, true, []duty.Problem{p}, nil); err != nil {
				t.Fatal(err)
			}
			want := html.EscapeString(p.Chinese())
			if p.Chinese() == "" || strings.Contains(want, "%!") || !strings.Contains(w.Body.String(), `id="err-held_on">`+want+"</span>") {
				t.Errorf("the form lacks %q beside the date:\n%.3000s", want, w.Body.String())
			}
			if strings.Contains(w.Body.String(), p.Message) {
				t.Errorf("the Chinese page shows the English message")
			}
		})
	}
}
