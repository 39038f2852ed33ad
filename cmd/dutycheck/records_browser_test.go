package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// TestBrowserRecords keeps records through the pages in headless Chromium, against serve on the
// embedded store with the sample organ: find a person by name and open their page (一人一档),
// record the pre-appointment talk they lack through the form (first with a date out of range,
// refused beside the field with the input kept), a missing level-3 letter, and a record-book
// entry for a task without one (editing an entry and adding a row with the form's script);
// the next scan no longer reports the three.
func TestBrowserRecords(t *testing.T) {
	var before duty.Scan
	admin, b := signedIn(t, "2025-12-31", &before)
	// The checks the forms will satisfy: ORG-1-A-047's talk (韩勇超), a missing level-3 letter,
	// a record book's task without an entry.
	var letter, task *duty.Violation
	for i, v := range before.Report.Violations {
		switch {
		case letter == nil && v.Policy == "letter.three_levels" && v.Reason == "missing" && fmt.Sprint(v.Details["level"]) == "3":
			letter = &before.Report.Violations[i]
		case task == nil && v.Policy == "recordbook.kept" && v.Reason == "task_without_entry":
			task = &before.Report.Violations[i]
		}
	}
	if letter == nil || task == nil {
		t.Fatal("the sample lacks a missing level-3 letter or a task without an entry as of 2025-12-31")
	}
	shots := screenshotDir(t)

	// Find the person by name and open their page.
	b.open("/records/people")
	b.do("type the name", chromedp.SendKeys(chromedp.ID("s-q"), "韩勇超"))
	b.submit("search", "#search-submit")
	if ids := eval[[]string](b, `Array.from(document.querySelectorAll("tr.rec-row")).map(r => r.dataset.id)`); strings.Join(ids, ",") != "ORG-1-P-065" {
		t.Fatalf("search by name found %v", ids)
	}
	b.screenshot(shots, "records.png")
	b.submit("open the person", `tr.rec-row a[href="/people/ORG-1-P-065"]`)
	if got := eval[string](b, `document.getElementById("person-name").textContent`); got != "韩勇超" {
		t.Fatalf("person page of %q", got)
	}
	talkViolations := `document.querySelectorAll('#person-violations tr[data-policy="talk.pre_appointment"]').length`
	if n := eval[int](b, talkViolations); n != 1 {
		t.Fatalf("the person's page shows %d missing pre-appointment talks, want 1", n)
	}
	b.screenshot(shots, "person.png")

	// The talk, from the person's page: a date out of range first.
	b.submit("new talk", `#sec-talks-subject a.btn`)
	if got := eval[string](b, `document.getElementById("f-person_id").value`); got != "ORG-1-P-065" {
		t.Fatalf("the new talk's person is %q", got)
	}
	talkID := eval[string](b, `document.getElementById("f-id").value`)
	b.do("fill the talk",
		chromedp.SetValue(chromedp.ID("f-kind"), "pre_appointment"),
		chromedp.SendKeys(chromedp.ID("f-conducted_by"), "汤军"),
		chromedp.SetValue(chromedp.ID("f-held_on"), "2250-03-01"),
		chromedp.SetValue(chromedp.ID("f-recorded"), "true"))
	b.submit("save the talk", "#save-record")
	if msg := eval[string](b, `document.getElementById("err-held_on").textContent`); !strings.Contains(msg, "日期须在") {
		t.Errorf("the bad date's problem: %q", msg)
	}
	if kept := eval[string](b, `[document.getElementById("f-kind").value, document.getElementById("f-conducted_by").value, document.getElementById("f-held_on").value].join("|")`); kept != "pre_appointment|ORG-1-P-001|2250-03-01" && kept != "pre_appointment|汤军|2250-03-01" {
		t.Errorf("the input kept: %q", kept)
	}
	b.screenshot(shots, "talk-form-error.png")
	b.do("correct the date", chromedp.SetValue(chromedp.ID("f-held_on"), "2020-03-01"))
	b.submit("save the talk", "#save-record")
	if loc := b.location(); loc != "/records/talks/"+talkID+"?saved=1" {
		t.Fatalf("after saving the talk: at %s", loc)
	}

	// The letter.
	b.open("/new/letters")
	issuer := fmt.Sprint(letter.Details["issuer"])
	b.do("fill the letter",
		chromedp.SetValue(chromedp.ID("f-year"), "2025"),
		chromedp.SetValue(chromedp.ID("f-level"), "3"),
		chromedp.SetValue(chromedp.ID("f-issuer_id"), issuer),
		chromedp.SendKeys(chromedp.ID("f-signer_id"), letter.Subject.ID),
		chromedp.SetValue(chromedp.ID("f-signed_on"), "2025-03-10"),
		chromedp.SetValue(chromedp.ID("f-signed_by_issuer"), "true"),
		chromedp.SetValue(chromedp.ID("f-signed_by_signer"), "true"))
	var signer map[string]any
	admin.json("GET", "/api/v1/collections/people/"+letter.Subject.ID, nil, http.StatusOK, &signer)
	if got := eval[string](b, `document.querySelector("#f-signer_id + .pick-name").textContent`); !strings.HasPrefix(got, fmt.Sprint(signer["name"])+"（") {
		t.Errorf("the signer picker names %q, want %v", got, signer["name"])
	}
	b.screenshot(shots, "letter-form.png")
	b.submit("save the letter", "#save-record")
	if loc := b.location(); !strings.HasPrefix(loc, "/records/letters/") {
		t.Fatalf("after saving the letter: at %s", loc)
	}

	// The record book: change an entry's text and add an entry for the task.
	// The entry is dated on the book's issue day, a day the gap check counts already: only the
	// task's check changes.
	book, taskID := task.Subject.ID, fmt.Sprint(task.Details["task"])
	var old map[string]any
	admin.json("GET", "/api/v1/collections/record_books/"+book, nil, http.StatusOK, &old)
	entryDay := fmt.Sprint(old["issued_on"])
	b.open("/records/record_books/" + book + "/edit")
	b.do("edit the first entry", chromedp.SetValue(`input[name="entries.0.content"]`, "已修改的履责记录"))
	b.do("add a row", chromedp.Click(`button.add-row[data-add="entries"]`, chromedp.NodeVisible))
	last := `#items-entries tbody tr:last-child `
	b.do("fill the new entry",
		chromedp.SetValue(last+`input[name$=".date"]`, entryDay),
		chromedp.SetValue(last+`input[name$=".task_id"]`, taskID),
		chromedp.SetValue(last+`input[name$=".content"]`, "补记任务完成情况"))
	b.screenshot(shots, "recordbook-form.png")
	b.submit("save the book", "#save-record")
	var stored map[string]any
	admin.json("GET", "/api/v1/collections/record_books/"+book, nil, http.StatusOK, &stored)
	entries, _ := stored["entries"].([]any)
	named := false
	for _, e := range entries {
		m, _ := e.(map[string]any)
		named = named || (m["task_id"] == taskID && m["content"] == "补记任务完成情况")
	}
	if len(entries) == 0 || entries[0].(map[string]any)["content"] != "已修改的履责记录" || !named {
		t.Fatalf("stored entries: %v", entries)
	}

	// The next scan no longer reports the three; the person's page says so.
	var after duty.Scan
	admin.json("POST", "/api/v1/scans", map[string]any{"as_of": "2025-12-31"}, http.StatusCreated, &after)
	keys := map[string]bool{}
	for _, v := range after.Report.Violations {
		keys[v.Key()] = true
	}
	for _, v := range []*duty.Violation{letter, task} {
		if keys[v.Key()] {
			t.Errorf("still reported: %s", v.Key())
		}
	}
	if got, want := len(after.Report.Violations), len(before.Report.Violations)-3; got != want {
		t.Errorf("the scan after the forms reports %d violations, want %d", got, want)
	}
	b.open("/people/ORG-1-P-065")
	if n := eval[int](b, talkViolations); n != 0 {
		t.Errorf("after the talk the person's page shows %d missing talks", n)
	}
}
