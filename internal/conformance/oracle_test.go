package conformance_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/conformance"
)

type doc = map[string]any

// base is a tiny organ: ORG with its party committee PC, discipline committee DC (under PC), a
// special committee SC, a division DIV and its branch BR. P1 is the Party Group secretary, P2 a
// Party Group member who supervises DIV, P3 the head of DIV, P4 a division-rank cadre of DIV,
// P5 the branch's discipline member. The duties it owes, by hand:
// letters (1,P1→P2), (2,P2→P3), (3,P3→P4); record books of P1, P2, P3; lists party_group,
// party_committee, discipline_committee (ORG), party_group_secretary (P1), leaders (P2),
// department_heads (P3), special_committee (SC); integrity files of P1..P4.
func base() map[string][]doc {
	return map[string][]doc{
		"departments": {
			{"id": "ORG", "name": "organ", "kind": "organ"},
			{"id": "PC", "name": "pc", "kind": "party_committee", "parent_id": "ORG"},
			{"id": "DC", "name": "dc", "kind": "discipline_committee", "parent_id": "PC"},
			{"id": "SC", "name": "sc", "kind": "special_committee", "parent_id": "ORG"},
			{"id": "DIV", "name": "div", "kind": "division", "parent_id": "ORG"},
			{"id": "BR", "name": "br", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P5"},
		},
		"people": {
			{"id": "P1", "name": "p1", "department_id": "ORG", "rank": "bureau", "roles": []any{"party_group_secretary"}, "active": true},
			{"id": "P2", "name": "p2", "department_id": "ORG", "rank": "bureau", "roles": []any{"party_group_member"}, "active": true, "supervises": []any{"DIV"}},
			{"id": "P3", "name": "p3", "department_id": "DIV", "rank": "division", "roles": []any{"department_head"}, "active": true},
			{"id": "P4", "name": "p4", "department_id": "DIV", "rank": "division", "roles": []any{}, "active": true},
			{"id": "P5", "name": "p5", "department_id": "DIV", "rank": "staff", "roles": []any{"discipline_member"}, "active": true},
		},
	}
}

// with returns base() with docs appended to their collections and edit applied.
func with(add map[string][]doc, edit func(ds map[string][]doc)) map[string][]doc {
	ds := base()
	for c, docs := range add {
		ds[c] = append(ds[c], docs...)
	}
	if edit != nil {
		edit(ds)
	}
	return ds
}

func find(ds map[string][]doc, coll, id string) doc {
	for _, d := range ds[coll] {
		if d["id"] == id {
			return d
		}
	}
	panic("no " + coll + "/" + id)
}

func key(policy, reason, dept, coll, id string, details doc) conformance.Key {
	if details == nil {
		details = doc{}
	}
	return conformance.Key{Policy: policy, Reason: reason, Department: dept,
		Subject: conformance.Ref{Collection: coll, ID: id}, Details: details}
}

// only keeps the keys of one policy.
func only(policy string, keys []conformance.Key) []conformance.Key {
	out := []conformance.Key{}
	for _, k := range keys {
		if k.Policy == policy {
			out = append(out, k)
		}
	}
	return out
}

func goodLetters() []doc {
	return []doc{
		{"id": "L1", "year": 2025, "level": 1, "issuer_id": "P1", "signer_id": "P2", "signed_on": "2025-03-31", "signed_by_issuer": true, "signed_by_signer": true},
		{"id": "L2", "year": 2025, "level": 2, "issuer_id": "P2", "signer_id": "P3", "signed_on": "2025-03-01", "signed_by_issuer": true, "signed_by_signer": true},
		{"id": "L3", "year": 2025, "level": 3, "issuer_id": "P3", "signer_id": "P4", "signed_on": "2025-01-10", "signed_by_issuer": true, "signed_by_signer": true},
	}
}

func book(id, holder, issued string, entries []doc, tasks []doc, inspections []doc) doc {
	if entries == nil {
		entries = []doc{}
	}
	if tasks == nil {
		tasks = []doc{}
	}
	if inspections == nil {
		inspections = []doc{}
	}
	return doc{"id": id, "year": 2025, "holder_id": holder, "issued_on": issued, "entries": entries, "tasks": tasks, "inspections": inspections}
}

// fullBook has an entry every 30 days of 2025 and a recent inspection: no violation up to 2025-12-31.
func fullBook(id, holder string) doc {
	var entries []doc
	for _, d := range []string{"2025-01-20", "2025-02-19", "2025-03-21", "2025-04-20", "2025-05-20", "2025-06-19", "2025-07-19", "2025-08-18", "2025-09-17", "2025-10-17", "2025-11-16", "2025-12-16"} {
		entries = append(entries, doc{"date": d, "content": "x"})
	}
	return book(id, holder, "2025-01-02", entries, nil, []doc{{"date": "2025-06-01", "inspector_id": "P5"}, {"date": "2025-12-01", "inspector_id": "P5"}})
}

func list(id, level, dept, holder string) doc {
	l := doc{"id": id, "year": 2025, "level": level, "department_id": dept, "items": []any{"x"}}
	if holder != "" {
		l["holder_id"] = holder
	}
	return l
}

func TestExpectedHandMade(t *testing.T) {
	const (
		talk   = conformance.PolicyTalk
		letter = conformance.PolicyLetter
		bookP  = conformance.PolicyBook
		sugg   = conformance.PolicySuggestion
		annual = conformance.PolicyAnnual
		joint  = conformance.PolicyJoint
		lists  = conformance.PolicyList
		file   = conformance.PolicyFile
		matter = conformance.PolicyMatter
		branch = conformance.PolicyBranch
	)
	appt := func(id, person, rank, eff string) doc {
		return doc{"id": id, "person_id": person, "department_id": "DIV", "position": "p", "rank": rank, "effective_on": eff}
	}
	preTalk := func(id, person, held string) doc {
		return doc{"id": id, "kind": "pre_appointment", "person_id": person, "held_on": held}
	}
	tests := []struct {
		note   string
		ds     map[string][]doc
		asOf   string
		dept   string
		policy string
		want   []conformance.Key
	}{
		// 1. talk.pre_appointment: May 1 minus 90 days is Jan 31.
		{note: "talk 90 days before", asOf: "2025-06-30", policy: talk,
			ds: with(map[string][]doc{"appointments": {appt("A1", "P3", "division", "2025-05-01")}, "talks": {preTalk("T1", "P3", "2025-01-31")}}, nil)},
		{note: "talk 91 days before", asOf: "2025-06-30", policy: talk,
			ds:   with(map[string][]doc{"appointments": {appt("A1", "P3", "division", "2025-05-01")}, "talks": {preTalk("T1", "P3", "2025-01-30")}}, nil),
			want: []conformance.Key{key(talk, "missing", "DIV", "appointments", "A1", nil)}},
		{note: "talk on the day", asOf: "2025-06-30", policy: talk,
			ds: with(map[string][]doc{"appointments": {appt("A1", "P3", "bureau", "2025-05-01")}, "talks": {preTalk("T1", "P3", "2025-05-01")}}, nil)},
		{note: "talk the day after", asOf: "2025-06-30", policy: talk,
			ds:   with(map[string][]doc{"appointments": {appt("A1", "P3", "bureau", "2025-05-01")}, "talks": {preTalk("T1", "P3", "2025-05-02")}}, nil),
			want: []conformance.Key{key(talk, "missing", "DIV", "appointments", "A1", nil)}},
		{note: "talk not recorded", asOf: "2025-06-30", policy: talk,
			ds: with(map[string][]doc{"appointments": {appt("A1", "P3", "bureau", "2025-05-01")}, "talks": {preTalk("T1", "P3", "2025-04-01")}},
				func(ds map[string][]doc) { ds["talks"][0]["recorded"] = false }),
			want: []conformance.Key{key(talk, "missing", "DIV", "appointments", "A1", nil)}},
		{note: "talk of another kind or person", asOf: "2025-06-30", policy: talk,
			ds: with(map[string][]doc{"appointments": {appt("A1", "P3", "bureau", "2025-05-01")},
				"talks": {{"id": "T1", "kind": "reminder", "person_id": "P3", "held_on": "2025-04-01"}, preTalk("T2", "P4", "2025-04-01")}}, nil),
			want: []conformance.Key{key(talk, "missing", "DIV", "appointments", "A1", nil)}},
		{note: "section rank and future appointments need no talk", asOf: "2025-06-30", policy: talk,
			ds: with(map[string][]doc{"appointments": {appt("A1", "P3", "section", "2025-05-01"), appt("A2", "P3", "bureau", "2025-07-01")}}, nil)},
		{note: "appointment on as_of", asOf: "2025-06-30", policy: talk,
			ds:   with(map[string][]doc{"appointments": {appt("A2", "P3", "bureau", "2025-06-30")}}, nil),
			want: []conformance.Key{key(talk, "missing", "DIV", "appointments", "A2", nil)}},

		// 2. letter.three_levels.
		{note: "letters none, not yet due", asOf: "2025-03-31", policy: letter, ds: base()},
		{note: "letters none, due", asOf: "2025-04-01", policy: letter, ds: base(),
			want: []conformance.Key{
				key(letter, "missing", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"}),
				key(letter, "missing", "DIV", "people", "P4", doc{"level": 3, "issuer": "P3"}),
				key(letter, "missing", "ORG", "people", "P2", doc{"level": 1, "issuer": "P1"}),
			}},
		{note: "letters all good", asOf: "2025-12-31", policy: letter, ds: with(map[string][]doc{"letters": goodLetters()}, nil)},
		{note: "letter the day after the deadline", asOf: "2025-06-30", policy: letter,
			ds:   with(map[string][]doc{"letters": goodLetters()}, func(ds map[string][]doc) { find(ds, "letters", "L1")["signed_on"] = "2025-04-01" }),
			want: []conformance.Key{key(letter, "late", "ORG", "people", "P2", doc{"level": 1, "issuer": "P1"})}},
		{note: "issuer took office in March: deadline 30 days later", asOf: "2025-06-30", policy: letter,
			ds: with(map[string][]doc{"letters": goodLetters(), "appointments": {appt("A1", "P2", "section", "2025-03-15")}}, func(ds map[string][]doc) {
				find(ds, "letters", "L1")["signed_on"] = "2025-04-14" // P2 signs: deadline 04-14
				find(ds, "letters", "L2")["signed_on"] = "2025-04-15" // P2 issues: late
			}),
			want: []conformance.Key{key(letter, "late", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"})}},
		{note: "not checked on the personal deadline, checked the day after", asOf: "2025-04-14", policy: letter,
			ds: with(map[string][]doc{"letters": goodLetters()[2:], "appointments": {appt("A1", "P2", "section", "2025-03-15")}}, nil)},
		{note: "checked the day after the personal deadline", asOf: "2025-04-15", policy: letter,
			ds: with(map[string][]doc{"letters": goodLetters()[2:], "appointments": {appt("A1", "P2", "section", "2025-03-15")}}, nil),
			want: []conformance.Key{
				key(letter, "missing", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"}),
				key(letter, "missing", "ORG", "people", "P2", doc{"level": 1, "issuer": "P1"}),
			}},
		{note: "appointments after as_of or last year do not move the deadline", asOf: "2025-04-15", policy: letter,
			ds:   with(map[string][]doc{"letters": goodLetters()[1:], "appointments": {appt("A1", "P2", "section", "2025-04-16"), appt("A2", "P2", "section", "2024-12-31")}}, nil),
			want: []conformance.Key{key(letter, "missing", "ORG", "people", "P2", doc{"level": 1, "issuer": "P1"})}},
		{note: "unsigned, no signed_on, late beats unsigned, good beats both", asOf: "2025-06-30", policy: letter,
			ds: with(map[string][]doc{"letters": {
				{"id": "L1", "year": 2025, "level": 1, "issuer_id": "P1", "signer_id": "P2", "signed_on": "2025-03-01", "signed_by_issuer": true, "signed_by_signer": false},
				{"id": "L2", "year": 2025, "level": 2, "issuer_id": "P2", "signer_id": "P3", "signed_by_issuer": true, "signed_by_signer": true},
				{"id": "L2b", "year": 2025, "level": 2, "issuer_id": "P2", "signer_id": "P3", "signed_on": "2025-05-01", "signed_by_issuer": true, "signed_by_signer": true},
				{"id": "L3", "year": 2025, "level": 3, "issuer_id": "P3", "signer_id": "P4", "signed_by_issuer": false, "signed_by_signer": false},
				{"id": "L3b", "year": 2025, "level": 3, "issuer_id": "P3", "signer_id": "P4", "signed_on": "2025-05-01", "signed_by_issuer": true, "signed_by_signer": true},
				{"id": "L3c", "year": 2025, "level": 3, "issuer_id": "P3", "signer_id": "P4", "signed_on": "2025-02-01", "signed_by_issuer": true, "signed_by_signer": true},
			}}, nil),
			want: []conformance.Key{
				key(letter, "late", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"}),
				key(letter, "unsigned", "ORG", "people", "P2", doc{"level": 1, "issuer": "P1"}),
			}},
		{note: "wrong year, level or direction is missing", asOf: "2025-06-30", policy: letter,
			ds: with(map[string][]doc{"letters": goodLetters()}, func(ds map[string][]doc) {
				find(ds, "letters", "L1")["year"] = 2024
				find(ds, "letters", "L2")["level"] = 3
				find(ds, "letters", "L3")["issuer_id"], find(ds, "letters", "L3")["signer_id"] = "P4", "P3"
			}),
			want: []conformance.Key{
				key(letter, "missing", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"}),
				key(letter, "missing", "DIV", "people", "P4", doc{"level": 3, "issuer": "P3"}),
				key(letter, "missing", "ORG", "people", "P2", doc{"level": 1, "issuer": "P1"}),
			}},
		{note: "pairs only among the roster", asOf: "2025-06-30", policy: letter,
			ds: with(nil, func(ds map[string][]doc) {
				find(ds, "people", "P1")["left_on"] = "2025-06-30"
				find(ds, "people", "P4")["active"] = false
				find(ds, "people", "P3")["left_on"] = "2025-07-01" // still on the roster
			}),
			want: []conformance.Key{key(letter, "missing", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"})}},

		// 3. recordbook.kept.
		{note: "books not yet due on 01-31", asOf: "2025-01-31", policy: bookP, ds: base()},
		{note: "books due on 02-01", asOf: "2025-02-01", policy: bookP, ds: base(),
			want: []conformance.Key{
				key(bookP, "missing", "DIV", "people", "P3", nil),
				key(bookP, "missing", "ORG", "people", "P1", nil),
				key(bookP, "missing", "ORG", "people", "P2", nil),
			}},
		{note: "books: issued after as_of or last year's do not count", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"), fullBook("B3", "P3")}}, func(ds map[string][]doc) {
				find(ds, "record_books", "B1")["issued_on"] = "2025-07-01"
				find(ds, "record_books", "B2")["year"] = 2024
			}),
			want: []conformance.Key{
				key(bookP, "missing", "ORG", "people", "P1", nil),
				key(bookP, "missing", "ORG", "people", "P2", nil),
			}},
		{note: "book holder took office: 30 days", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2")}, "appointments": {appt("A1", "P3", "section", "2025-05-31")}}, nil)},
		{note: "book holder took office 31 days ago", asOf: "2025-06-30", policy: bookP,
			ds:   with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2")}, "appointments": {appt("A1", "P3", "section", "2025-05-30")}}, nil),
			want: []conformance.Key{key(bookP, "missing", "DIV", "people", "P3", nil)}},
		{note: "gaps of 59, 60, 60, 1 days", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"),
				book("B3", "P3", "2025-01-01", []doc{{"date": "2025-04-30", "content": "x"}, {"date": "2025-03-01", "content": "x"}, {"date": "2025-06-29", "content": "x"}}, nil, nil)}}, nil)},
		{note: "a gap of 61 days from Jan 1", asOf: "2025-04-01", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"),
				book("B3", "P3", "2024-12-01", []doc{{"date": "2024-12-20", "content": "x"}, {"date": "2025-03-03", "content": "x"}}, nil, nil)}}, nil),
			want: []conformance.Key{key(bookP, "gap", "DIV", "record_books", "B3", nil)}},
		{note: "a gap of 61 days to as_of; entries after as_of ignored", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"),
				book("B3", "P3", "2025-04-01", []doc{{"date": "2025-04-30", "content": "x"}, {"date": "2025-07-01", "content": "x"}}, nil, nil)}}, nil),
			want: []conformance.Key{key(bookP, "gap", "DIV", "record_books", "B3", nil)}},
		{note: "a book issued on as_of has no gap", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"), book("B3", "P3", "2025-06-30", nil, nil, nil)}}, nil)},
		{note: "tasks due on, before and after as_of", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"),
				book("B3", "P3", "2025-06-01", []doc{{"date": "2025-07-01", "content": "x", "task_id": "K1"}, {"date": "2025-05-01", "content": "x", "task_id": "K3"}},
					[]doc{{"id": "K1", "title": "", "due_on": "2025-06-30"}, {"id": "K2", "title": "", "due_on": "2025-07-01"}, {"id": "K3", "title": "", "due_on": "2025-06-29"}}, nil)}}, nil),
			want: []conformance.Key{key(bookP, "task_without_entry", "DIV", "record_books", "B3", doc{"task": "K1"})}},
		{note: "issued 183 days ago: not yet inspected is fine", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"), book("B3", "P3", "2024-12-29", []doc{{"date": "2025-02-01", "content": "x"}, {"date": "2025-03-15", "content": "x"}, {"date": "2025-05-01", "content": "x"}, {"date": "2025-06-20", "content": "x"}}, nil, nil)}}, nil)},
		{note: "issued 184 days ago, inspected 184 days ago", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"), book("B3", "P3", "2024-12-28",
				[]doc{{"date": "2025-02-01", "content": "x"}, {"date": "2025-03-15", "content": "x"}, {"date": "2025-05-01", "content": "x"}, {"date": "2025-06-20", "content": "x"}}, nil,
				[]doc{{"date": "2024-12-28", "inspector_id": "P5"}, {"date": "2025-07-01", "inspector_id": "P5"}})}}, nil),
			want: []conformance.Key{key(bookP, "not_inspected", "DIV", "record_books", "B3", nil)}},
		{note: "issued 184 days ago, inspected 183 days ago", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"), book("B3", "P3", "2024-12-28",
				[]doc{{"date": "2025-02-01", "content": "x"}, {"date": "2025-03-15", "content": "x"}, {"date": "2025-05-01", "content": "x"}, {"date": "2025-06-20", "content": "x"}}, nil,
				[]doc{{"date": "2024-12-29", "inspector_id": "P5"}})}}, nil)},
		{note: "books of people off the roster are still checked", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {fullBook("B1", "P1"), fullBook("B2", "P2"), book("B5", "P5", "2024-12-01", nil, nil, nil)}},
				func(ds map[string][]doc) {
					find(ds, "people", "P3")["active"] = false
					find(ds, "people", "P5")["active"] = false
				}),
			want: []conformance.Key{
				key(bookP, "gap", "DIV", "record_books", "B5", nil),
				key(bookP, "not_inspected", "DIV", "record_books", "B5", nil),
			}},

		// 4. suggestion.closeout.
		{note: "suggestion items", asOf: "2025-06-30", policy: sugg,
			ds: with(map[string][]doc{"suggestions": {
				{"id": "S1", "department_id": "DIV", "issued_on": "2025-01-01", "items": []any{
					doc{"id": "I1", "text": "", "due_on": "2025-06-30", "status": "open"},
					doc{"id": "I2", "text": "", "due_on": "2025-06-29", "status": "open"},
					doc{"id": "I3", "text": "", "due_on": "2025-01-01", "status": "closed", "closed_on": "2025-02-01", "evidence": "minutes"},
					doc{"id": "I4", "text": "", "due_on": "2025-01-01", "status": "closed", "closed_on": "2025-02-01", "evidence": ""},
					doc{"id": "I5", "text": "", "due_on": "2025-01-01", "status": "closed", "evidence": "minutes"},
					doc{"id": "I6", "text": "", "due_on": "2025-01-01", "status": "closed", "closed_on": "2025-02-01"},
				}},
				{"id": "S2", "department_id": "DIV", "issued_on": "2025-07-01", "items": []any{doc{"id": "I1", "text": "", "due_on": "2025-01-01", "status": "open"}}},
			}}, nil),
			want: []conformance.Key{
				key(sugg, "overdue", "DIV", "suggestions", "S1", doc{"item": "I2"}),
				key(sugg, "closed_without_evidence", "DIV", "suggestions", "S1", doc{"item": "I4"}),
				key(sugg, "closed_without_evidence", "DIV", "suggestions", "S1", doc{"item": "I5"}),
				key(sugg, "closed_without_evidence", "DIV", "suggestions", "S1", doc{"item": "I6"}),
			}},

		// 5. meeting.annual_conduct.
		{note: "annual meeting not yet due", asOf: "2025-03-31", policy: annual, ds: base()},
		{note: "annual meeting missing", asOf: "2025-04-01", policy: annual,
			ds: with(map[string][]doc{"meetings": {
				{"id": "M1", "kind": "annual_conduct", "department_id": "ORG", "held_on": "2025-04-01"},
				{"id": "M2", "kind": "annual_conduct", "department_id": "ORG", "held_on": "2024-12-31"},
				{"id": "M3", "kind": "joint", "department_id": "ORG", "held_on": "2025-02-01"},
			}}, nil),
			want: []conformance.Key{key(annual, "missing", "ORG", "departments", "ORG", nil)}},
		{note: "annual meeting of a department of the organ on 03-31", asOf: "2025-04-01", policy: annual,
			ds: with(map[string][]doc{"meetings": {{"id": "M1", "kind": "annual_conduct", "department_id": "BR", "held_on": "2025-03-31"}}}, nil)},

		// 6. meeting.joint: Jan 1 + 92 days is Apr 3.
		{note: "joint: 92 days without a meeting", asOf: "2025-04-03", policy: joint, ds: base()},
		{note: "joint: 93 days without a meeting", asOf: "2025-04-04", policy: joint, ds: base(),
			want: []conformance.Key{key(joint, "gap", "DC", "departments", "DC", nil)}},
		{note: "joint: 88 then 92 days", asOf: "2025-06-30", policy: joint,
			ds: with(map[string][]doc{"meetings": {{"id": "M1", "kind": "joint", "department_id": "DC", "held_on": "2025-03-30"}}}, nil)},
		{note: "joint: 87 then 93 days; other departments and kinds do not count", asOf: "2025-06-30", policy: joint,
			ds: with(map[string][]doc{"meetings": {
				{"id": "M1", "kind": "joint", "department_id": "DC", "held_on": "2025-03-29"},
				{"id": "M2", "kind": "joint", "department_id": "PC", "held_on": "2025-05-01"},
				{"id": "M3", "kind": "training", "department_id": "DC", "held_on": "2025-05-01"},
				{"id": "M4", "kind": "joint", "department_id": "DC", "held_on": "2025-07-01"},
			}}, nil),
			want: []conformance.Key{key(joint, "gap", "DC", "departments", "DC", nil)}},

		// 7. list.six_levels.
		{note: "lists not yet due", asOf: "2025-03-31", policy: lists, ds: base()},
		{note: "lists all missing", asOf: "2025-04-01", policy: lists, ds: base(),
			want: []conformance.Key{
				key(lists, "missing", "DIV", "people", "P3", doc{"level": "department_heads"}),
				key(lists, "missing", "ORG", "departments", "ORG", doc{"level": "discipline_committee"}),
				key(lists, "missing", "ORG", "departments", "ORG", doc{"level": "party_committee"}),
				key(lists, "missing", "ORG", "departments", "ORG", doc{"level": "party_group"}),
				key(lists, "missing", "ORG", "people", "P1", doc{"level": "party_group_secretary"}),
				key(lists, "missing", "ORG", "people", "P2", doc{"level": "leaders"}),
				key(lists, "missing", "SC", "departments", "SC", doc{"level": "special_committee"}),
			}},
		{note: "lists all there; one person owes two", asOf: "2025-06-30", policy: lists,
			ds: with(map[string][]doc{"responsibility_lists": {
				list("R1", "party_group", "ORG", ""), list("R2", "party_committee", "PC", ""), list("R3", "discipline_committee", "ORG", ""),
				list("R4", "party_group_secretary", "ORG", "P1"), list("R5", "leaders", "ORG", "P2"), list("R6", "department_heads", "DIV", "P3"),
				list("R7", "leaders", "SC", "P2"),
			}}, func(ds map[string][]doc) { find(ds, "people", "P3")["rank"] = "bureau" }),
			want: []conformance.Key{key(lists, "missing", "DIV", "people", "P3", doc{"level": "leaders"})}},
		{note: "lists of last year or without holder do not count", asOf: "2025-06-30", policy: lists,
			ds: with(map[string][]doc{"responsibility_lists": {
				list("R1", "party_group", "ORG", ""), list("R2", "party_committee", "PC", ""), list("R3", "discipline_committee", "ORG", ""),
				list("R4", "party_group_secretary", "ORG", ""), list("R5", "leaders", "ORG", "P2"), list("R6", "department_heads", "DIV", "P3"),
				list("R7", "special_committee", "SC", ""),
			}}, func(ds map[string][]doc) { find(ds, "responsibility_lists", "R5")["year"] = 2024 }),
			want: []conformance.Key{
				key(lists, "missing", "ORG", "people", "P1", doc{"level": "party_group_secretary"}),
				key(lists, "missing", "ORG", "people", "P2", doc{"level": "leaders"}),
			}},

		// 8. archive.integrity_file.
		{note: "integrity files", asOf: "2025-06-30", policy: file,
			ds: with(map[string][]doc{"integrity_files": {
				{"id": "F1", "person_id": "P1", "updated_on": "2024-06-30", "major_matters": []any{}},
				{"id": "F2", "person_id": "P2", "updated_on": "2024-06-29", "major_matters": []any{}},
				{"id": "F4a", "person_id": "P4", "updated_on": "2023-01-01", "major_matters": []any{}},
				{"id": "F4b", "person_id": "P4", "updated_on": "2025-01-01", "major_matters": []any{}},
			}}, nil),
			want: []conformance.Key{
				key(file, "missing", "DIV", "people", "P3", nil),
				key(file, "stale", "ORG", "people", "P2", nil),
			}},

		// 9. archive.major_matters.
		{note: "major matters", asOf: "2025-06-30", policy: matter,
			ds: with(map[string][]doc{"integrity_files": {
				{"id": "F3", "person_id": "P3", "updated_on": "2025-06-01", "major_matters": []any{
					doc{"id": "M1", "kind": "x", "event_on": "2025-05-31"},
					doc{"id": "M2", "kind": "x", "event_on": "2025-05-30"},
					doc{"id": "M3", "kind": "x", "event_on": "2025-01-01", "reported_on": "2025-01-31"},
					doc{"id": "M4", "kind": "x", "event_on": "2025-01-01", "reported_on": "2025-02-01"},
					doc{"id": "M5", "kind": "x", "event_on": "2025-07-01", "reported_on": "2025-09-01"},
				}},
			}}, func(ds map[string][]doc) { find(ds, "people", "P3")["active"] = false }),
			want: []conformance.Key{
				key(matter, "late", "DIV", "integrity_files", "F3", doc{"matter": "M4"}),
				key(matter, "unreported", "DIV", "integrity_files", "F3", doc{"matter": "M2"}),
			}},

		// Dates DOMAIN.md does not filter by as_of ("records dated after as_of are ignored" names
		// effective_on, held_on, issued_on, an entry's or inspection's date and event_on) are taken
		// as written (README "Readings of DOMAIN.md").
		{note: "a letter signed by both after as_of is late, not missing", asOf: "2025-04-10", policy: letter,
			ds: with(map[string][]doc{"letters": append(goodLetters()[:2],
				doc{"id": "L3", "year": 2025, "level": 3, "issuer_id": "P3", "signer_id": "P4", "signed_on": "2025-05-01", "signed_by_issuer": true, "signed_by_signer": true})}, nil),
			want: []conformance.Key{key(letter, "late", "DIV", "people", "P4", doc{"level": 3, "issuer": "P3"})}},
		{note: "an integrity file updated after as_of is up to date", asOf: "2025-06-30", policy: file,
			ds: with(map[string][]doc{"integrity_files": {
				{"id": "F1", "person_id": "P1", "updated_on": "2025-07-15", "major_matters": []any{}},
				{"id": "F2", "person_id": "P2", "updated_on": "2025-01-01", "major_matters": []any{}},
				{"id": "F3", "person_id": "P3", "updated_on": "2025-01-01", "major_matters": []any{}},
				{"id": "F4", "person_id": "P4", "updated_on": "2025-01-01", "major_matters": []any{}},
			}}, nil)},
		{note: "a matter reported after as_of is judged by reported_on, never unreported", asOf: "2025-06-30", policy: matter,
			ds: with(map[string][]doc{"integrity_files": {
				{"id": "F3", "person_id": "P3", "updated_on": "2025-06-01", "major_matters": []any{
					doc{"id": "M1", "kind": "x", "event_on": "2025-05-10", "reported_on": "2025-07-01"},
					doc{"id": "M2", "kind": "x", "event_on": "2025-05-20", "reported_on": "2025-06-19"},
					doc{"id": "M3", "kind": "x", "event_on": "2025-05-01", "reported_on": "2025-07-20"},
				}},
			}}, nil),
			want: []conformance.Key{
				key(matter, "late", "DIV", "integrity_files", "F3", doc{"matter": "M1"}),
				key(matter, "late", "DIV", "integrity_files", "F3", doc{"matter": "M3"}),
			}},
		{note: "status decides: closed with a closed_on after as_of passes, open with a closed_on is overdue", asOf: "2025-06-30", policy: sugg,
			ds: with(map[string][]doc{"suggestions": {
				{"id": "S1", "department_id": "DIV", "issued_on": "2025-01-01", "items": []any{
					doc{"id": "I1", "text": "", "due_on": "2025-03-01", "status": "closed", "closed_on": "2025-07-05", "evidence": "minutes"},
					doc{"id": "I2", "text": "", "due_on": "2025-03-01", "status": "open", "closed_on": "2025-02-01", "evidence": "minutes"},
				}},
			}}, nil),
			want: []conformance.Key{key(sugg, "overdue", "DIV", "suggestions", "S1", doc{"item": "I2"})}},
		{note: "a task is done by an entry dated before the book was issued", asOf: "2025-06-30", policy: bookP,
			ds: with(map[string][]doc{"record_books": {
				book("B1", "P1", "2025-03-01", []doc{{"date": "2025-02-20", "task_id": "K1", "content": "x"}, {"date": "2025-04-25", "content": "x"}, {"date": "2025-06-20", "content": "x"}},
					[]doc{{"id": "K1", "title": "t", "due_on": "2025-04-01"}, {"id": "K2", "title": "t", "due_on": "2025-04-01"}}, nil),
				fullBook("B2", "P2"), fullBook("B3", "P3"),
			}}, nil),
			want: []conformance.Key{key(bookP, "task_without_entry", "ORG", "record_books", "B1", doc{"task": "K2"})}},

		// 02-29 is a day like any other: 2024-05-29 minus 90 days is 2024-02-29, and 2024-02-01 to
		// 2024-03-03 is 31 days.
		{note: "leap year: a talk on 02-29 is 90 days before", asOf: "2024-06-30", policy: talk,
			ds: with(map[string][]doc{
				"appointments": {appt("A1", "P3", "division", "2024-05-29"), appt("A2", "P4", "division", "2024-05-29")},
				"talks":        {preTalk("T1", "P3", "2024-02-29"), preTalk("T2", "P4", "2024-02-28")},
			}, nil),
			want: []conformance.Key{key(talk, "missing", "DIV", "appointments", "A2", nil)}},
		{note: "leap year: unreported 31 days after 02-01 is 03-03", asOf: "2024-03-03", policy: matter,
			ds: with(map[string][]doc{"integrity_files": {
				{"id": "F3", "person_id": "P3", "updated_on": "2024-01-01", "major_matters": []any{
					doc{"id": "M1", "kind": "x", "event_on": "2024-02-01"},
					doc{"id": "M2", "kind": "x", "event_on": "2024-02-02"},
				}},
			}}, nil),
			want: []conformance.Key{key(matter, "unreported", "DIV", "integrity_files", "F3", doc{"matter": "M1"})}},

		// 10. branch.discipline_member.
		{note: "branch member on the roster", asOf: "2025-06-30", policy: branch, ds: base()},
		{note: "branch member left on as_of", asOf: "2025-06-30", policy: branch,
			ds:   with(nil, func(ds map[string][]doc) { find(ds, "people", "P5")["left_on"] = "2025-06-30" }),
			want: []conformance.Key{key(branch, "missing", "BR", "departments", "BR", nil)}},
		{note: "branch member leaves the day after", asOf: "2025-06-30", policy: branch,
			ds: with(nil, func(ds map[string][]doc) { find(ds, "people", "P5")["left_on"] = "2025-07-01" })},
		{note: "branch without member", asOf: "2025-06-30", policy: branch,
			ds:   with(nil, func(ds map[string][]doc) { delete(find(ds, "departments", "BR"), "discipline_member_id") }),
			want: []conformance.Key{key(branch, "missing", "BR", "departments", "BR", nil)}},
		{note: "branch member inactive", asOf: "2025-06-30", policy: branch,
			ds:   with(nil, func(ds map[string][]doc) { find(ds, "people", "P5")["active"] = false }),
			want: []conformance.Key{key(branch, "missing", "BR", "departments", "BR", nil)}},

		// Scope: a department's subtree.
		{note: "scope DIV", asOf: "2025-04-01", dept: "DIV", policy: letter, ds: base(),
			want: []conformance.Key{
				key(letter, "missing", "DIV", "people", "P3", doc{"level": 2, "issuer": "P2"}),
				key(letter, "missing", "DIV", "people", "P4", doc{"level": 3, "issuer": "P3"}),
			}},
		{note: "scope PC holds DC", asOf: "2025-04-04", dept: "PC", policy: joint, ds: base(),
			want: []conformance.Key{key(joint, "gap", "DC", "departments", "DC", nil)}},
		{note: "scope SC", asOf: "2025-04-04", dept: "SC", policy: joint, ds: base()},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			got := only(tc.policy, conformance.Expected(tc.ds, tc.asOf, tc.dept))
			want := tc.want
			if want == nil {
				want = []conformance.Key{}
			}
			conformance.SortKeys(want)
			if diff := cmp.Diff(lines(want), lines(got)); diff != "" {
				t.Errorf("Expected(%s, %q) mismatch (-want +got):\n%s", tc.asOf, tc.dept, diff)
			}
			// The engine must agree with the hand-computed keys too.
			keys, err := scanKeys(t, tc.ds, tc.asOf, tc.dept)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			if diff := cmp.Diff(lines(normalize(t, want)), lines(only(tc.policy, keys))); diff != "" {
				t.Errorf("engine scan(%s, %q) differs from the hand-computed keys (-want +got):\n%s", tc.asOf, tc.dept, diff)
			}
		})
	}
}

func lines(keys []conformance.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}
