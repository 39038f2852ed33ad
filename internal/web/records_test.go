package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
)

// sample reads a collection of the sample organ.
func sample(tb testing.TB, coll string) []map[string]any {
	tb.Helper()
	raw, err := duty.ReadDir("../../fixtures/sample")
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]any
	for _, r := range raw[coll] {
		out = append(out, r.Value.(map[string]any))
	}
	return out
}

var (
	totalAttr = regexp.MustCompile(`data-total="(\d+)"`)
	rowIDs    = regexp.MustCompile(`<tr class="rec-row" data-id="([^"]+)"`)
)

// listed returns the total a list page reports and the ids of the rows it shows.
func listed(tb testing.TB, r response) (int, []string) {
	tb.Helper()
	if r.status != 200 {
		tb.Fatalf("list: %d %.300s", r.status, r.body)
	}
	m := totalAttr.FindStringSubmatch(r.body)
	if m == nil {
		tb.Fatalf("no total on the list page: %.500s", r.body)
	}
	n, _ := strconv.Atoi(m[1])
	var ids []string
	for _, x := range rowIDs.FindAllStringSubmatch(r.body, -1) {
		ids = append(ids, x[1])
	}
	return n, ids
}

// form posts a form as user with the CSRF token of the session.
func (e *env) form(user, path string, vals map[string]string) response {
	e.tb.Helper()
	f := url.Values{}
	for k, v := range vals {
		f.Set(k, v)
	}
	return e.post(user, path, f)
}

func TestRecordLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := sample(t, "people")

	t.Run("paging", func(t *testing.T) {
		n, first := listed(t, e.get("inspector", "/records/people"))
		if n != len(people) || len(first) != 50 {
			t.Fatalf("people: total %d, %d rows; want %d, 50", n, len(first), len(people))
		}
		_, second := listed(t, e.get("inspector", "/records/people?page=2"))
		if len(second) != 50 || first[49] >= second[0] {
			t.Errorf("page 2 does not follow page 1: %v … %v", first[49], second[:1])
		}
		_, last := listed(t, e.get("inspector", "/records/people?page=99"))
		if want := len(people) % 50; want != 0 && len(last) != want {
			t.Errorf("last page: %d rows, want %d", len(last), want)
		}
	})

	t.Run("search", func(t *testing.T) {
		for _, tc := range []struct {
			note, path string
			want       func(d map[string]any) bool
			coll       string
		}{
			{"a name", "/records/people?q=" + url.QueryEscape("袁睿"), func(d map[string]any) bool { return d["name"] == "袁睿" }, "people"},
			{"an id", "/records/people?q=P-04", func(d map[string]any) bool { return strings.Contains(d["id"].(string), "P-04") }, "people"},
			{"a department", "/records/people?department=ORG-1-DIV-04", func(d map[string]any) bool { return d["department_id"] == "ORG-1-DIV-04" }, "people"},
			{"a rank", "/records/people?kind=bureau", func(d map[string]any) bool { return d["rank"] == "bureau" }, "people"},
			{"year and kind", "/records/talks?year=2025&kind=pre_appointment", func(d map[string]any) bool {
				return strings.HasPrefix(d["held_on"].(string), "2025") && d["kind"] == "pre_appointment"
			}, "talks"},
			{"the person a talk is about, by name", "/records/talks?q=" + url.QueryEscape("袁睿"), func(d map[string]any) bool {
				return d["person_id"] == "ORG-1-P-048" || d["conducted_by"] == "ORG-1-P-048"
			}, "talks"},
			{"a letter's year", "/records/letters?year=2024", func(d map[string]any) bool { return fmt.Sprint(d["year"]) == "2024" }, "letters"},
		} {
			t.Run(tc.note, func(t *testing.T) {
				var want []string
				for _, d := range sample(t, tc.coll) {
					if tc.want(d) {
						want = append(want, d["id"].(string))
					}
				}
				slices.Sort(want)
				n, got := listed(t, e.get("inspector", tc.path))
				if n != len(want) {
					t.Errorf("total %d, want %d", n, len(want))
				}
				if len(want) > 50 {
					want = want[:50]
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("a department user sees its subtree", func(t *testing.T) {
		tree := duty.NewTree(docs(sample(t, "departments")))
		sub := tree.Subtree(scope)
		var want []string
		for _, p := range people {
			if sub[p["department_id"].(string)] {
				want = append(want, p["id"].(string))
			}
		}
		n, got := listed(t, e.get("office", "/records/people"))
		if n != len(want) || len(got) != min(50, len(want)) {
			t.Errorf("office: %d people listed, want %d", n, len(want))
		}
		// Leaders (rank bureau) are listed but offer no edit link to a department user.
		r := e.get("office", "/records/people?q=ORG-1-P-009")
		if strings.Contains(r.body, "/records/people/ORG-1-P-009/edit") {
			t.Error("a department user is offered the form of an organ leader")
		}
		if r := e.get("office", "/records/people?q=ORG-1-P-048"); !strings.Contains(r.body, "/records/people/ORG-1-P-048/edit") {
			t.Error("a department user is not offered the form of a person of its subtree")
		}
	})
}

func docs(list []map[string]any) []duty.Doc {
	out := make([]duty.Doc, len(list))
	for i, d := range list {
		out[i] = duty.Doc(d)
	}
	return out
}

func TestPersonPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.get("inspector", "/people/ORG-1-P-048")
	if r.status != 200 {
		t.Fatalf("person page: %d", r.status)
	}
	for _, tc := range []struct{ section, id string }{
		{"appointments", "ORG-1-A-037"},
		{"talks-subject", "ORG-1-T-033"},
		{"letters-issuer", "ORG-1-L-081"},
		{"letters-signer", "ORG-1-L-041"},
		{"record-books", "ORG-1-RB-025"},
		{"integrity-files", "ORG-1-IF-033"},
		{"lists", "ORG-1-RL-032"},
	} {
		sec := section(r.body, tc.section)
		if !strings.Contains(sec, `data-id="`+tc.id+`"`) {
			t.Errorf("section %s does not show %s", tc.section, tc.id)
		}
	}
	// The record book is shown whole: its tasks, entries and inspections.
	book := section(r.body, "record-books")
	for _, label := range []string{"任务清单", "履责记录", "监督检查"} {
		if !strings.Contains(book, label) {
			t.Errorf("the record book lacks %s", label)
		}
	}
	if !strings.Contains(section(r.body, "integrity-files"), "个人重大事项") {
		t.Error("the integrity file lacks its major matters")
	}

	// The violations are those of the latest report about the person or their records.
	rep := e.apiReport("ORG-1")
	mine := map[duty.Ref]bool{{Collection: "people", ID: "ORG-1-P-048"}: true}
	for _, id := range []string{"ORG-1-A-037", "ORG-1-T-033", "ORG-1-L-041", "ORG-1-RB-025", "ORG-1-IF-033", "ORG-1-RL-032"} {
		mine[refOf(id)] = true
	}
	want := 0
	for _, v := range rep.Violations {
		if mine[v.Subject] || v.Details["issuer"] == "ORG-1-P-048" || slices.ContainsFunc(v.Evidence, func(x duty.Ref) bool { return mine[x] }) {
			want++
		}
	}
	if want == 0 {
		t.Fatal("the sample has no violation about ORG-1-P-048: pick another person")
	}
	if got := strings.Count(r.body, `<tr class="violation"`); got != want {
		t.Errorf("%d violations shown, want %d", got, want)
	}

	t.Run("scope", func(t *testing.T) {
		if r := e.get("office", "/people/ORG-1-P-048"); r.status != 200 {
			t.Errorf("office user, person of its subtree: %d", r.status)
		}
		if r := e.get("office", "/people/ORG-1-P-020"); r.status != 404 {
			t.Errorf("office user, person outside its subtree: %d, want 404", r.status)
		}
	})
}

// refOf is the record an id of the sample names, by its prefix.
func refOf(id string) duty.Ref {
	for prefix, coll := range map[string]string{"-A-": "appointments", "-T-": "talks", "-L-": "letters", "-RB-": "record_books",
		"-IF-": "integrity_files", "-RL-": "responsibility_lists"} {
		if strings.Contains(id, prefix) {
			return duty.Ref{Collection: coll, ID: id}
		}
	}
	return duty.Ref{}
}

// between is the part of body after the first start, up to the next end.
func between(body, start, end string) string {
	_, rest, ok := strings.Cut(body, start)
	if !ok {
		return ""
	}
	s, _, _ := strings.Cut(rest, end)
	return s
}

// section is the part of a person's page of one section.
func section(body, id string) string { return between(body, `id="sec-`+id+`"`, "</section>") }

// fieldBlock is the form's block of a field: its input and the problem beside it.
func fieldBlock(body, name string) string { return between(body, `data-field="`+name+`"`, "</div>") }

func TestRecordForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	t.Run("create a talk, a person given by name", func(t *testing.T) {
		if r := e.get("inspector", "/new/talks?person_id=ORG-1-P-048"); r.status != 200 || !strings.Contains(r.body, `value="ORG-1-P-048"`) {
			t.Fatalf("new talk form: %d, person not filled in", r.status)
		}
		if sec := section(e.get("inspector", "/people/ORG-1-P-048").body, "talks-subject"); strings.Contains(sec, "ORG-1-T-900") {
			t.Fatal("the talk is there before it is made")
		}
		r := e.form("inspector", "/new/talks", map[string]string{"id": "ORG-1-T-900", "kind": "reminder", "person_id": "袁睿",
			"conducted_by": "ORG-1-P-010", "held_on": "2025-10-08", "recorded": "true"})
		if r.status != 303 || r.header.Get("Location") != "/records/talks/ORG-1-T-900?saved=1" {
			t.Fatalf("create: %d to %q %.400s", r.status, r.header.Get("Location"), r.body)
		}
		if page := e.get("inspector", r.header.Get("Location")); !strings.Contains(page.body, `id="saved"`) {
			t.Error("the record page does not say it was saved")
		}
		d, err := e.st.Get(ctx, "talks", "ORG-1-T-900")
		if err != nil {
			t.Fatal(err)
		}
		want := duty.Doc{"id": "ORG-1-T-900", "kind": "reminder", "person_id": "ORG-1-P-048", "conducted_by": "ORG-1-P-010", "held_on": "2025-10-08", "recorded": true}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("stored talk (-want +got):\n%s", diff)
		}
		// The pages read the organ again after the write.
		if sec := section(e.get("inspector", "/people/ORG-1-P-048").body, "talks-subject"); !strings.Contains(sec, `data-id="ORG-1-T-900"`) {
			t.Error("the person's page does not show the new talk")
		}
		if !strings.Contains(fieldBlock(e.get("inspector", "/new/talks").body, "id"), `value="ORG-1-T-901"`) {
			t.Error("the next id suggested ignores the new talk")
		}
		// The id of a stored record is refused for a new one, with nothing changed.
		r = e.form("inspector", "/new/talks", map[string]string{"id": "ORG-1-T-900", "kind": "general", "person_id": "ORG-1-P-049", "held_on": "2025-10-09"})
		if r.status != 422 || !strings.Contains(fieldBlock(r.body, "id"), "该编号已被使用") {
			t.Errorf("a taken id: %d %s", r.status, fieldBlock(r.body, "id"))
		}
	})

	t.Run("problems beside the fields, input kept", func(t *testing.T) {
		r := e.form("inspector", "/new/talks", map[string]string{"id": "ORG-1-T-901", "kind": "general", "person_id": "无此人",
			"held_on": "2025-02-30"})
		if r.status != 422 {
			t.Fatalf("bad talk: %d", r.status)
		}
		if b := fieldBlock(r.body, "held_on"); !strings.Contains(b, "请填写有效日期") || !strings.Contains(b, `value="2025-02-30"`) {
			t.Errorf("held_on block: %s", b)
		}
		if b := fieldBlock(r.body, "kind"); !strings.Contains(b, `<option value="general" selected>`) {
			t.Errorf("the kind chosen is not kept: %s", b)
		}
		// References are checked once the fields are right (as the API does).
		r = e.form("inspector", "/new/talks", map[string]string{"id": "ORG-1-T-901", "kind": "general", "person_id": "无此人",
			"held_on": "2025-02-28"})
		if b := fieldBlock(r.body, "person_id"); r.status != 422 || !strings.Contains(b, "找不到「无此人」") || !strings.Contains(b, `value="无此人"`) {
			t.Errorf("person_id block: %d %s", r.status, b)
		}
		if _, err := e.st.Get(ctx, "talks", "ORG-1-T-901"); err == nil {
			t.Error("a refused form wrote its record")
		}
		r = e.form("inspector", "/new/letters", map[string]string{"id": "ORG-1-L-900", "year": "3000", "level": "2",
			"issuer_id": "ORG-1-P-010", "signer_id": "ORG-1-P-048", "signed_by_issuer": "true"})
		if b := fieldBlock(r.body, "year"); !strings.Contains(b, "须为 1900 至 2199 之间的整数") {
			t.Errorf("year block: %s", b)
		}
		if b := fieldBlock(r.body, "signed_by_signer"); !strings.Contains(b, "此项必填") {
			t.Errorf("signed_by_signer block: %s", b)
		}
	})

	t.Run("nested items: create, edit, remove", func(t *testing.T) {
		r := e.form("inspector", "/new/record_books", map[string]string{"id": "ORG-1-RB-900", "year": "2025", "holder_id": "ORG-1-P-049",
			"issued_on":  "2025-02-01",
			"tasks.0.id": "K1", "tasks.0.title": "学习", "tasks.0.due_on": "2025-03-01",
			"tasks.1.id": "K2", "tasks.1.title": "谈话", "tasks.1.due_on": "2025-04-01",
			"tasks.2.id": "", "tasks.2.title": "", "tasks.2.due_on": "", // the blank row
			"entries.0.date": "2025-02-20", "entries.0.task_id": "K1", "entries.0.content": "组织学习",
			"entries.3.date": "2025-02-31", "entries.3.content": "日期有误",
			"inspections.0.date": "2025-03-05", "inspections.0.inspector_id": "ORG-1-P-010"})
		if r.status != 422 {
			t.Fatalf("a bad entry date: %d", r.status)
		}
		// The problem of entries[1] is beside the row the user numbered 3, whose input is kept.
		row := rowBlock(r.body, "entries", "3")
		if !strings.Contains(row, "请填写有效日期") || !strings.Contains(row, `value="2025-02-31"`) {
			t.Errorf("entries row 3: %s", row)
		}
		if strings.Contains(rowBlock(r.body, "entries", "0"), "field-err") {
			t.Error("the good entry is marked")
		}
		r = e.form("inspector", "/new/record_books", map[string]string{"id": "ORG-1-RB-900", "year": "2025", "holder_id": "ORG-1-P-049",
			"issued_on":  "2025-02-01",
			"tasks.0.id": "K1", "tasks.0.title": "学习", "tasks.0.due_on": "2025-03-01",
			"tasks.1.id": "K2", "tasks.1.title": "谈话", "tasks.1.due_on": "2025-04-01",
			"entries.0.date": "2025-02-20", "entries.0.task_id": "K1", "entries.0.content": "组织学习",
			"inspections.0.date": "2025-03-05", "inspections.0.inspector_id": "ORG-1-P-010"})
		if r.status != 303 {
			t.Fatalf("create the book: %d %.300s", r.status, r.body)
		}
		edit := e.get("inspector", "/records/record_books/ORG-1-RB-900/edit")
		if !strings.Contains(edit.body, `name="tasks.1.title" value="谈话"`) || !strings.Contains(edit.body, `data-row="2"`) {
			t.Fatalf("the edit form lacks the stored rows or the blank row")
		}
		// Remove task K2, add an entry.
		r = e.form("inspector", "/records/record_books/ORG-1-RB-900/edit", map[string]string{"year": "2025", "holder_id": "ORG-1-P-049",
			"issued_on":  "2025-02-01",
			"tasks.0.id": "K1", "tasks.0.title": "学习", "tasks.0.due_on": "2025-03-01",
			"tasks.1.id": "K2", "tasks.1.title": "谈话", "tasks.1.due_on": "2025-04-01", "tasks.1._drop": "1",
			"entries.0.date": "2025-02-20", "entries.0.task_id": "K1", "entries.0.content": "组织学习",
			"entries.1.date": "2025-03-02", "entries.1.content": "开展谈话",
			"inspections.0.date": "2025-03-05", "inspections.0.inspector_id": "ORG-1-P-010"})
		if r.status != 303 {
			t.Fatalf("edit the book: %d %.300s", r.status, r.body)
		}
		d, err := e.st.Get(ctx, "record_books", "ORG-1-RB-900")
		if err != nil {
			t.Fatal(err)
		}
		tasks, entries := d["tasks"].([]any), d["entries"].([]any)
		if len(tasks) != 1 || len(entries) != 2 || entries[1].(map[string]any)["content"] != "开展谈话" {
			t.Errorf("stored book: tasks %v, entries %v", tasks, entries)
		}
	})

	t.Run("delete asks and is refused while named", func(t *testing.T) {
		if r := e.get("inspector", "/records/talks/ORG-1-T-900/delete"); r.status != 200 || !strings.Contains(r.body, `id="confirm-delete"`) {
			t.Fatalf("delete page: %d", r.status)
		}
		r := e.form("inspector", "/records/talks/ORG-1-T-900/delete", nil)
		if r.status != 303 {
			t.Fatalf("delete: %d", r.status)
		}
		if list := e.get("inspector", r.header.Get("Location")); !strings.Contains(list.body, "已删除「ORG-1-T-900」") {
			t.Errorf("the list after the deletion (%s) does not say so: %s", r.header.Get("Location"), between(list.body, "<main", "<nav class=\"rec-tabs\""))
		}
		if _, err := e.st.Get(ctx, "talks", "ORG-1-T-900"); err == nil {
			t.Error("the talk is still stored")
		}
		r = e.get("inspector", "/records/people/ORG-1-P-048/delete")
		if strings.Contains(r.body, `id="confirm-delete"`) || !strings.Contains(r.body, "仍引用该记录") {
			t.Errorf("a named person offers deletion: %.300s", r.body)
		}
		r = e.form("inspector", "/records/people/ORG-1-P-048/delete", nil)
		if r.status != 409 || !strings.Contains(r.body, "该记录仍被其他记录引用，不能删除。") {
			t.Errorf("delete a named person: %d", r.status)
		}
		if _, err := e.st.Get(ctx, "people", "ORG-1-P-048"); err != nil {
			t.Error("the named person was deleted")
		}
	})

	t.Run("a department user's scope", func(t *testing.T) {
		for _, path := range []string{"/records/people/ORG-1-P-020/edit", "/records/people/ORG-1-P-020/delete", "/records/talks/ORG-1-T-001/edit"} {
			if r := e.get("office", path); r.status != 404 {
				t.Errorf("office GET %s: %d, want 404", path, r.status)
			}
		}
		if r := e.form("office", "/records/people/ORG-1-P-020/delete", nil); r.status != 404 {
			t.Errorf("office deletes outside its subtree: %d, want 404", r.status)
		}
		// A talk of a person outside the subtree: refused by the store's rule, in Chinese.
		r := e.form("office", "/new/talks", map[string]string{"id": "ORG-1-T-902", "kind": "general", "person_id": "ORG-1-P-020", "held_on": "2025-10-01"})
		if r.status != 422 || !strings.Contains(r.body, "超出本账号可写入的范围") {
			t.Errorf("office, talk outside: %d", r.status)
		}
		// A talk of a leader of its own subtree: the effect rule.
		r = e.form("office", "/new/talks", map[string]string{"id": "ORG-1-T-903", "kind": "general", "person_id": "ORG-1-P-009", "held_on": "2025-10-01"})
		if r.status != 422 || !strings.Contains(fieldBlock(r.body, "person_id"), "涉及机关领导干部") {
			t.Errorf("office, talk of a leader: %d %s", r.status, fieldBlock(r.body, "person_id"))
		}
		if r := e.get("office", "/records/people/ORG-1-P-009/edit"); r.status != 403 {
			t.Errorf("office, form of a leader: %d, want 403", r.status)
		}
		// Its own: allowed.
		r = e.form("office", "/new/talks", map[string]string{"id": "ORG-1-T-904", "kind": "general", "person_id": "ORG-1-P-049", "held_on": "2025-10-01"})
		if r.status != 303 {
			t.Errorf("office, talk inside: %d %.300s", r.status, r.body)
		}
		// The picker offers only the subtree's people.
		form := e.get("office", "/new/talks")
		if !strings.Contains(form.body, `<option value="ORG-1-P-049">`) || strings.Contains(form.body, `<option value="ORG-1-P-020">`) {
			t.Error("the office user's picker is not its subtree")
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		f := url.Values{"id": {"ORG-1-T-905"}, "kind": {"general"}, "person_id": {"ORG-1-P-049"}, "held_on": {"2025-10-01"}}
		r := e.do("inspector", "POST", "/new/talks", f)
		f.Set(httpapi.CSRFField, "0000")
		r2 := e.do("inspector", "POST", "/new/talks", f)
		r3 := e.do("inspector", "POST", "/records/people/ORG-1-P-049/delete", url.Values{})
		if r.status != 403 || r2.status != 403 || r3.status != 403 {
			t.Errorf("without or with a wrong CSRF token: %d, %d, %d; want 403", r.status, r2.status, r3.status)
		}
		if _, err := e.st.Get(ctx, "talks", "ORG-1-T-905"); err == nil {
			t.Error("a form without its CSRF token wrote")
		}
	})
}

// rowBlock is a nested row of a form.
func rowBlock(body, array, row string) string {
	table := between(body, `<table class="grid items" id="items-`+array+`"`, "</table>")
	return between(table, `data-row="`+row+`"`, "</tr>")
}

func TestRecordPageLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.get("inspector", "/records/talks/ORG-1-T-001")
	for _, want := range []string{"<th scope=\"row\">谈话对象</th>", "<th scope=\"row\">已记录</th>", "任前廉政谈话", "<td>否</td>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("talk page lacks %s", want)
		}
	}
	for _, code := range []string{"person_id", "recorded", "pre_appointment", "false"} {
		if strings.Contains(r.body, ">"+code+"<") {
			t.Errorf("talk page shows the code %s", code)
		}
	}
	r = e.get("inspector", "/records/letters/ORG-1-L-001")
	if !strings.Contains(r.body, "签订人已签字") || !strings.Contains(r.body, "<td>是</td>") {
		t.Error("letter page: fields not labelled or booleans not 是/否")
	}
}

func TestNewFormSuggestsAnID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.get("inspector", "/new/talks")
	if !strings.Contains(fieldBlock(r.body, "id"), `value="ORG-1-T-170"`) {
		t.Errorf("the new talk's id: %s", fieldBlock(r.body, "id"))
	}
}

// TestRecordPagesRender opens the list, the new form, a record's form and its deletion page of
// every collection in both languages: each answers 200 with every text translated.
func TestRecordPagesRender(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	untranslated := regexp.MustCompile(`[>"](rec|form|del|person|nav)\.[a-z.]+[<"]`)
	for _, c := range duty.Collections {
		first := sample(t, c.Name)[0]["id"].(string)
		for _, lang := range []string{"zh", "en"} {
			for _, path := range []string{"/records/" + c.Name, "/new/" + c.Name, "/records/" + c.Name + "/" + first + "/edit",
				"/records/" + c.Name + "/" + first + "/delete", "/records/" + c.Name + "/" + first} {
				r := e.get("admin", path+"?lang="+lang)
				if r.status != 200 {
					t.Errorf("%s (%s): %d", path, lang, r.status)
					continue
				}
				if m := untranslated.FindString(r.body); m != "" {
					t.Errorf("%s (%s) shows the key %s", path, lang, m)
				}
			}
		}
	}
	if r := e.get("admin", "/people/ORG-1-P-001?lang=en"); r.status != 200 || !strings.Contains(r.body, "Talks they conducted") {
		t.Errorf("the English person page: %d", r.status)
	}
}
