package duty.recordbook.kept_test

import data.duty.recordbook.kept

# S is the Party Group secretary of bureau rank, M a Party Group member, H heads D1 (division
# rank) and C is a division-rank cadre. Holders: S (bureau), M and H; C holds no book.
_people := [
	{"id": "S", "name": "书记甲", "department_id": "ORG", "rank": "bureau", "roles": ["party_group_secretary"], "active": true},
	{"id": "M", "name": "成员乙", "department_id": "ORG", "rank": "bureau", "roles": ["party_group_member"], "active": true},
	{"id": "H", "name": "处长丙", "department_id": "D1", "rank": "division", "roles": ["department_head"], "active": true},
	{"id": "C", "name": "干部丁", "department_id": "D1", "rank": "division", "roles": [], "active": true},
]

# A book that passes every check as of 2025-06-30: 2025-01-10, 03-01, 04-30 (exactly 60 days
# after 03-01), 06-20, 06-30; task T1 named by the 03-01 entry; 171 days old, so no inspection due.
_book(id, holder) := {
	"id": id, "year": 2025, "holder_id": holder, "issued_on": "2025-01-10",
	"tasks": [{"id": "T1", "title": "学习制度", "due_on": "2025-03-31"}],
	"entries": [
		{"date": "2025-03-01", "task_id": "T1", "content": "学习"},
		{"date": "2025-04-30", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"},
	],
	"inspections": [],
}

_books := [_book("BS", "S"), _book("BM", "M"), _book("BH", "H")]

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [
		{"id": "ORG", "name": "机关", "kind": "organ"},
		{"id": "D1", "name": "一处", "kind": "division", "parent_id": "ORG"},
	],
	"people": _people,
	"appointments": [],
	"record_books": _books,
}

_with(fields) := object.union(_base, fields)

# _only(book) is the base input with H's book replaced by book.
_only(book) := _with({"record_books": [_book("BS", "S"), _book("BM", "M"), book]})

_bh(fields) := object.union(_book("BH", "H"), fields)

_replace(people, id, fields) := [q |
	some p in people
	q := _changed(p, id, fields)
]

_changed(p, id, fields) := object.union(p, fields) if p.id == id

_changed(p, id, _) := p if p.id != id

_v(inp) := {[v.subject.id, v.reason] | some v in kept.violation with input as inp}

_all(inp) := {v | some v in kept.violation with input as inp}

test_good_books_pass if {
	_v(_base) == set()
}

# --- missing ---

test_missing_for_each_holder if {
	_v(_with({"record_books": []})) == {["S", "missing"], ["M", "missing"], ["H", "missing"]}
}

test_missing_shape_and_accountable if {
	got := {[v.subject, v.accountable, v.details] | some v in _all(_with({"record_books": []}))}
	got == {
		[{"collection": "people", "id": "S"}, "party_group_secretary", {}],
		[{"collection": "people", "id": "M"}, "leaders", {}],
		[{"collection": "people", "id": "H"}, "department_heads", {}],
	}
}

test_missing_not_checked_on_deadline_day if {
	_v(_with({"as_of": "2025-01-31", "record_books": []})) == set()
}

test_missing_checked_day_after_deadline if {
	_v(_with({"as_of": "2025-02-01", "record_books": []})) == {["S", "missing"], ["M", "missing"], ["H", "missing"]}
}

test_missing_message if {
	some v in _all(_with({"as_of": "2025-02-01", "record_books": [_book("BS", "S"), _book("BM", "M")]}))
	v.subject.id == "H"
	contains(v.message.zh, "处长丙")
	contains(v.message.zh, "2025-01-31")
	contains(v.message.en, "2025")
	contains(v.message.en, "2025-01-31")
}

test_book_of_previous_year_is_missing if {
	_v(_only(_bh({"year": 2024}))) == {["H", "missing"]}
}

test_book_issued_after_as_of_is_missing if {
	_v(_only(_bh({"issued_on": "2025-07-01"}))) == {["H", "missing"]}
}

test_party_group_secretary_alone_is_not_a_holder if {
	people := _replace(_people, "S", {"rank": "division"})
	_v(_with({"people": people, "record_books": [_book("BM", "M"), _book("BH", "H")]})) == set()
}

test_bureau_rank_without_role_is_a_holder if {
	people := _replace(_people, "C", {"rank": "bureau"})
	_v(_with({"people": people})) == {["C", "missing"]}
	some v in _all(_with({"people": people}))
	v.accountable == "leaders"
}

test_department_head_of_bureau_rank_is_accountable_as_leader if {
	people := _replace(_people, "H", {"rank": "bureau"})
	some v in _all(_with({"people": people, "record_books": [_book("BS", "S"), _book("BM", "M")]}))
	v.subject.id == "H"
	v.accountable == "leaders"
}

test_left_on_as_of_needs_no_book if {
	people := _replace(_people, "H", {"left_on": "2025-06-30"})
	_v(_with({"people": people, "record_books": [_book("BS", "S"), _book("BM", "M")]})) == set()
}

test_left_day_after_as_of_needs_a_book if {
	people := _replace(_people, "H", {"left_on": "2025-07-01"})
	_v(_with({"people": people, "record_books": [_book("BS", "S"), _book("BM", "M")]})) == {["H", "missing"]}
}

test_inactive_needs_no_book if {
	people := _replace(_people, "H", {"active": false})
	_v(_with({"people": people, "record_books": [_book("BS", "S"), _book("BM", "M")]})) == set()
}

# --- a new holder's grace period ---

_appointment(id, effective_on) := {
	"id": id, "person_id": "H", "department_id": "D1",
	"position": "处长", "rank": "division", "effective_on": effective_on,
}

_new_holder(as_of, appointments) := _with({
	"as_of": as_of,
	"appointments": appointments,
	"record_books": [_book("BS", "S"), _book("BM", "M")],
})

test_new_holder_on_grace_deadline_not_checked if {
	# 2025-03-10 + 30 days = 2025-04-09.
	_v(_new_holder("2025-04-09", [_appointment("A1", "2025-03-10")])) == set()
}

test_new_holder_day_after_grace_is_missing if {
	_v(_new_holder("2025-04-10", [_appointment("A1", "2025-03-10")])) == {["H", "missing"]}
	some v in _all(_new_holder("2025-04-10", [_appointment("A1", "2025-03-10")]))
	contains(v.message.en, "2025-04-09")
}

test_new_holder_latest_appointment_counts if {
	appointments := [_appointment("A1", "2025-03-10"), _appointment("A2", "2025-01-05")]
	_v(_new_holder("2025-04-09", appointments)) == set()
}

test_new_holder_early_appointment_keeps_base_deadline if {
	# 2025-01-01 + 30 days = 2025-01-31, no later than the base deadline.
	_v(_new_holder("2025-02-01", [_appointment("A1", "2025-01-01")])) == {["H", "missing"]}
}

test_new_holder_days_is_a_parameter if {
	r := _v(_new_holder("2025-04-10", [_appointment("A1", "2025-03-10")])) with data.params.recordbook.kept.new_appointee_days as 31
	r == set()
}

test_deadline_is_a_parameter if {
	r := _v(_with({"as_of": "2025-02-01", "record_books": []})) with data.params.recordbook.kept.deadline as "02-01"
	r == set()
}

# --- gap ---

test_gap_of_exactly_60_days_passes if {
	# 2025-03-01 to 2025-04-30 is 60 days.
	_v(_only(_book("BH", "H"))) == set()
}

test_gap_of_61_days if {
	# 2025-02-28 to 2025-04-30 is 61 days.
	entries := [
		{"date": "2025-02-28", "task_id": "T1", "content": "学习"},
		{"date": "2025-04-30", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"},
	]
	inp := _only(_bh({"entries": entries}))
	_v(inp) == {["BH", "gap"]}
	some v in _all(inp)
	v.subject == {"collection": "record_books", "id": "BH"}
	v.details == {}
	v.accountable == "department_heads"
	v.evidence == [{"collection": "people", "id": "H"}]
	contains(v.message.zh, "2025-02-28")
	contains(v.message.zh, "2025-04-30")
	contains(v.message.en, "61 days")
}

test_one_gap_violation_per_book_naming_the_largest if {
	# Gaps: 2025-01-10 → 2025-03-15 (64), 2025-03-15 → 2025-06-30 (107).
	entries := [{"date": "2025-03-15", "task_id": "T1", "content": "学习"}]
	inp := _only(_bh({"entries": entries}))
	_v(inp) == {["BH", "gap"]}
	count([v | some v in _all(inp); v.reason == "gap"]) == 1
	some v in _all(inp)
	contains(v.message.en, "between 2025-03-15 and 2025-06-30")
	contains(v.message.en, "107 days")
}

test_gap_to_as_of_counts if {
	# Last entry 2025-04-30; as_of 2025-06-30 is 61 days later.
	entries := [
		{"date": "2025-03-01", "task_id": "T1", "content": "学习"},
		{"date": "2025-04-30", "content": "会议"},
	]
	_v(_only(_bh({"entries": entries}))) == {["BH", "gap"]}
}

test_gap_from_year_start_for_book_issued_before_year if {
	# Issued 2024-12-01: the count starts on 2025-01-01; first entry 2025-03-03 is 61 days later.
	entries := [
		{"date": "2025-03-03", "task_id": "T1", "content": "学习"},
		{"date": "2025-04-30", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"},
	]
	inspections := [{"date": "2025-06-01", "inspector_id": "S"}]
	_v(_only(_bh({"issued_on": "2024-12-01", "entries": entries, "inspections": inspections}))) == {["BH", "gap"]}

	# 2025-01-01 to 2025-03-02 is 60 days.
	entries2 := array.concat([{"date": "2025-03-02", "content": "学习"}], entries)
	_v(_only(_bh({"issued_on": "2024-12-01", "entries": entries2, "inspections": inspections}))) == set()
}

test_book_issued_mid_year_counts_from_issue_day if {
	# Issued 2025-05-01 with no entries: 2025-05-01 to 2025-06-30 is 60 days, to 2025-07-01 is 61.
	b := _bh({"issued_on": "2025-05-01", "tasks": [], "entries": []})
	_v(_only(b)) == set()
	_v(object.union(_only(b), {"as_of": "2025-07-01"})) == {["BH", "gap"]}
}

test_entries_outside_range_ignored if {
	# An entry before issued_on and one after as_of would each open a long gap if counted.
	entries := [
		{"date": "2025-01-01", "content": "发放前"},
		{"date": "2025-09-30", "content": "以后"},
	]
	b := _bh({"issued_on": "2025-05-01", "tasks": [], "entries": entries})
	_v(_only(b)) == set()
}

test_book_issued_on_as_of_has_no_gap if {
	b := _bh({"issued_on": "2025-06-30", "tasks": [], "entries": []})
	_v(_only(b)) == set()
}

test_max_gap_days_is_a_parameter if {
	# Every base book has a 60-day gap (2025-03-01 to 2025-04-30).
	r := _v(_base) with data.params.recordbook.kept.max_gap_days as 59
	r == {["BS", "gap"], ["BM", "gap"], ["BH", "gap"]}
}

# --- task_without_entry ---

_tasks := [
	{"id": "T1", "title": "学习制度", "due_on": "2025-03-31"},
	{"id": "T2", "title": "专题会议", "due_on": "2025-06-30"},
	{"id": "T3", "title": "年度总结", "due_on": "2025-07-01"},
]

test_task_due_on_as_of_needs_entry if {
	inp := _only(_bh({"tasks": _tasks}))
	_v(inp) == {["BH", "task_without_entry"]}
	some v in _all(inp)
	v.details == {"task": "T2"}
	v.accountable == "department_heads"
	contains(v.message.zh, "专题会议")
	contains(v.message.en, "2025-06-30")
}

test_task_with_entry_on_as_of_passes if {
	entries := array.concat(_book("BH", "H").entries, [{"date": "2025-06-30", "task_id": "T2", "content": "开会"}])
	_v(_only(_bh({"tasks": _tasks, "entries": entries}))) == set()
}

test_entry_after_as_of_does_not_count if {
	# The engine drops such entries; the policy does not count them either.
	entries := array.concat(_book("BH", "H").entries, [{"date": "2025-07-01", "task_id": "T2", "content": "开会"}])
	got := {v.details | some v in _all(_only(_bh({"tasks": _tasks, "entries": entries})))}
	got == {{"task": "T2"}}
}

test_task_due_after_as_of_needs_no_entry if {
	tasks := [_tasks[0], _tasks[2]]
	_v(_only(_bh({"tasks": tasks}))) == set()
}

test_each_unnamed_task_is_one_violation if {
	entries := [
		{"date": "2025-03-01", "content": "学习"},
		{"date": "2025-04-30", "task_id": "T9", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"},
	]
	got := {v.details.task | some v in _all(_only(_bh({"tasks": _tasks, "entries": entries})))}
	got == {"T1", "T2"}
}

test_entry_before_issue_names_task if {
	entries := array.concat(_book("BH", "H").entries, [{"date": "2025-01-05", "task_id": "T2", "content": "提前"}])
	_v(_only(_bh({"tasks": _tasks, "entries": entries}))) == set()
}

# --- not_inspected ---

# Issued 2024-12-15 for year 2025; as_of 2025-08-31 is 259 days later. The window starts
# 2025-03-01 (183 days before as_of). Entries every six weeks or so keep the gap check quiet.
_old_book(inspections) := _bh({
	"issued_on": "2024-12-15",
	"entries": [
		{"date": "2025-02-01", "task_id": "T1", "content": "学习"},
		{"date": "2025-03-15", "content": "会议"},
		{"date": "2025-05-01", "content": "谈话"},
		{"date": "2025-06-15", "content": "调研"},
		{"date": "2025-08-01", "content": "总结"},
	],
	"inspections": inspections,
})

_on_aug31(book) := object.union(_with({"record_books": [_book("BS", "S"), _book("BM", "M"), book]}), {"as_of": "2025-08-31"})

_inspection(date) := {"date": date, "inspector_id": "S"}

test_not_inspected_without_inspections if {
	# The S and M books have violations of their own on 2025-08-31; look at BH only.
	got := {v.reason | some v in _all(_on_aug31(_old_book([]))); v.subject.id == "BH"}
	got == {"not_inspected"}
}

test_inspection_on_window_start_counts if {
	got := {v.reason | some v in _all(_on_aug31(_old_book([_inspection("2025-03-01")]))); v.subject.id == "BH"}
	got == set()
}

test_inspection_day_before_window_does_not_count if {
	inp := _on_aug31(_old_book([_inspection("2025-02-28")]))
	got := {v.reason | some v in _all(inp); v.subject.id == "BH"}
	got == {"not_inspected"}
	some v in _all(inp)
	v.subject.id == "BH"
	v.details == {}
	contains(v.message.en, "2025-03-01")
	contains(v.message.zh, "2024-12-15")
}

test_inspection_after_as_of_does_not_count if {
	got := {v.reason | some v in _all(_on_aug31(_old_book([_inspection("2025-09-01")]))); v.subject.id == "BH"}
	got == {"not_inspected"}
}

test_book_183_days_old_needs_no_inspection if {
	# 2025-01-01 to 2025-07-03 is 183 days.
	b := _bh({"issued_on": "2025-01-01", "entries": [
		{"date": "2025-03-01", "task_id": "T1", "content": "学习"},
		{"date": "2025-04-30", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"},
	]})
	inp := object.union(_only(b), {"as_of": "2025-07-03"})
	{v.reason | some v in _all(inp); v.subject.id == "BH"} == set()
}

test_book_184_days_old_needs_inspection if {
	b := _bh({"issued_on": "2025-01-01", "entries": [
		{"date": "2025-03-01", "task_id": "T1", "content": "学习"},
		{"date": "2025-04-30", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"},
	]})
	inp := object.union(_only(b), {"as_of": "2025-07-04"})
	{v.reason | some v in _all(inp); v.subject.id == "BH"} == {"not_inspected"}
}

test_inspection_params if {
	inp := _on_aug31(_old_book([_inspection("2025-02-28")]))
	r1 := {v.reason | some v in _all(inp); v.subject.id == "BH"} with data.params.recordbook.kept.inspection_window_days as 184
	r1 == set()
	r2 := {v.reason | some v in _all(inp); v.subject.id == "BH"} with data.params.recordbook.kept.inspection_after_days as 259
	r2 == set()
}

# --- books of people off the roster ---

test_book_of_holder_off_roster_is_still_checked if {
	people := _replace(_people, "H", {"left_on": "2025-05-01"})
	inp := _with({"people": people, "record_books": [_book("BS", "S"), _book("BM", "M"), _bh({"tasks": _tasks})]})
	_v(inp) == {["BH", "task_without_entry"]}
}

test_book_of_non_holder_is_checked_and_accountable_to_leaders if {
	b := object.union(_book("BC", "C"), {"entries": []})
	inp := _with({"record_books": array.concat(_books, [b])})
	_v(inp) == {["BC", "gap"], ["BC", "task_without_entry"]}
	every v in _all(inp) {
		v.accountable == "leaders"
	}
}

test_secretary_book_accountable_to_secretary if {
	inp := _with({"record_books": [object.union(_book("BS", "S"), {"entries": []}), _book("BM", "M"), _book("BH", "H")]})
	got := {[v.reason, v.accountable] | some v in _all(inp)}
	got == {["gap", "party_group_secretary"], ["task_without_entry", "party_group_secretary"]}
}

# --- warnings; warn_days 14 ---

# _wr returns [subject id, fails_on] of the warnings of reason r (with details.task for tasks).
_wr(inp, r) := {[w.subject.id, object.get(w.details, "task", ""), w.fails_on] |
	some w in kept.warning with input as inp
	w.reason == r
}

# _vr returns the subject ids (with details.task) of the violations of reason r.
_vr(inp, r) := {[v.subject.id, object.get(v.details, "task", "")] |
	some v in kept.violation with input as inp
	v.reason == r
}

# _becomes is true when every warning of inp is the violation of its fails_on.
_becomes(inp) if {
	ws := {w | some w in kept.warning with input as inp}
	count(ws) > 0
	every w in ws {
		_is_violation_on(w, inp)
	}
}

# _is_violation_on is true when warning w, without its fails_on, is a violation of inp as of that day.
_is_violation_on(w, inp) if {
	object.remove(w, ["fails_on"]) in kept.violation with input as object.union(inp, {"as_of": w.fails_on})
}

_no_books(as_of) := _with({"as_of": as_of, "record_books": [_book("BS", "S"), _book("BM", "M")]})

test_warning_missing_first_day_of_window if {
	_wr(_no_books("2025-01-31"), "missing") == {["H", "", "2025-02-01"]}
	_vr(_no_books("2025-01-31"), "missing") == set()
}

test_warning_missing_last_day_of_window if {
	_wr(_no_books("2025-01-18"), "missing") == {["H", "", "2025-02-01"]}
}

test_no_warning_missing_before_window if {
	_wr(_no_books("2025-01-17"), "missing") == set()
}

test_missing_book_is_a_violation_not_a_warning if {
	_wr(_no_books("2025-02-01"), "missing") == set()
	_vr(_no_books("2025-02-01"), "missing") == {["H", ""]}
}

_appointed(on) := _with({"as_of": "2025-12-20", "record_books": [_book("BS", "S"), _book("BM", "M")], "appointments": [{"id": "A1", "person_id": "H", "department_id": "D1", "position": "处长", "rank": "division", "effective_on": on}]})

test_warning_missing_year_edge if {
	# Took office 2025-11-30: due 2025-12-30, fails 2025-12-31; took office 2025-12-01: fails 2026-01-01.
	_wr(_appointed("2025-11-30"), "missing") == {["H", "", "2025-12-31"]}
	_wr(_appointed("2025-12-01"), "missing") == set()
}

# H's book with entries up to 2025-04-30: it fails for a gap on 2025-04-30 + 61 = 2025-06-30.
_gap_book(as_of) := _with({"as_of": as_of, "record_books": [_book("BS", "S"), _book("BM", "M"), _bh({"entries": array.slice(_book("BH", "H").entries, 0, 2)})]})

test_warning_gap_first_day_of_window if {
	_wr(_gap_book("2025-06-29"), "gap") == {["BH", "", "2025-06-30"]}
	_vr(_gap_book("2025-06-29"), "gap") == set()
}

test_warning_gap_last_day_of_window if {
	# The other books' 2025-06-20 entries are after as_of: they warn of the same day.
	_wr(_gap_book("2025-06-16"), "gap") == {["BS", "", "2025-06-30"], ["BM", "", "2025-06-30"], ["BH", "", "2025-06-30"]}
}

test_no_warning_gap_before_window if {
	{x | some x in _wr(_gap_book("2025-06-15"), "gap"); x[0] == "BH"} == set()
}

test_gap_is_a_violation_not_a_warning if {
	_wr(_gap_book("2025-06-30"), "gap") == set()
	_vr(_gap_book("2025-06-30"), "gap") == {["BH", ""]}
}

test_warning_gap_year_edge if {
	late := [
		{"date": "2025-03-01", "task_id": "T1", "content": "学习"}, {"date": "2025-04-30", "content": "会议"},
		{"date": "2025-06-20", "content": "谈话"}, {"date": "2025-08-15", "content": "会议"},
		{"date": "2025-10-01", "content": "谈话"},
	]

	# Last entry 2025-10-31: fails on 2025-12-31; last entry 2025-11-01: fails on 2026-01-01.
	in_y := _only(_bh({"entries": array.concat(late, [{"date": "2025-10-31", "content": "会议"}])}))
	_wr(object.union(in_y, {"as_of": "2025-12-20"}), "gap") == {["BH", "", "2025-12-31"]}
	next_y := _only(_bh({"entries": array.concat(late, [{"date": "2025-11-01", "content": "会议"}])}))
	_wr(object.union(next_y, {"as_of": "2025-12-20"}), "gap") == set()
}

_task_book(due) := _only(_bh({"tasks": [{"id": "T1", "title": "学习制度", "due_on": "2025-03-31"}, {"id": "T2", "title": "专题会议", "due_on": due}]}))

test_warning_task_first_day_of_window if {
	_wr(_task_book("2025-07-01"), "task_without_entry") == {["BH", "T2", "2025-07-01"]}
}

test_warning_task_last_day_of_window if {
	_wr(_task_book("2025-07-14"), "task_without_entry") == {["BH", "T2", "2025-07-14"]}
}

test_no_warning_task_after_window if {
	_wr(_task_book("2025-07-15"), "task_without_entry") == set()
}

test_task_due_on_as_of_is_a_violation_not_a_warning if {
	_wr(_task_book("2025-06-30"), "task_without_entry") == set()
	_vr(_task_book("2025-06-30"), "task_without_entry") == {["BH", "T2"]}
}

test_no_warning_task_named_by_entry if {
	named := _bh({
		"tasks": [{"id": "T2", "title": "专题会议", "due_on": "2025-07-05"}],
		"entries": [{"date": "2025-06-20", "task_id": "T2", "content": "会议"}, {"date": "2025-05-01", "content": "x"}],
	})
	_wr(_only(named), "task_without_entry") == set()
}

test_warning_task_year_edge if {
	_wr(object.union(_task_book("2025-12-31"), {"as_of": "2025-12-25"}), "task_without_entry") == {["BH", "T2", "2025-12-31"]}
	_wr(object.union(_task_book("2026-01-02"), {"as_of": "2025-12-25"}), "task_without_entry") == set()
}

# Books issued 2025-01-10 need an inspection from 2025-01-10 + 184 = 2025-07-13.
_insp(as_of, fields) := object.union(_only(_bh(fields)), {"as_of": as_of})

test_warning_not_inspected_first_day_of_window if {
	_wr(_insp("2025-07-12", {}), "not_inspected") == {["BS", "", "2025-07-13"], ["BM", "", "2025-07-13"], ["BH", "", "2025-07-13"]}
}

test_warning_not_inspected_last_day_of_window if {
	_wr(_insp("2025-06-29", {}), "not_inspected") == {["BS", "", "2025-07-13"], ["BM", "", "2025-07-13"], ["BH", "", "2025-07-13"]}
}

test_no_warning_not_inspected_before_window if {
	_wr(_insp("2025-06-28", {}), "not_inspected") == set()
}

test_not_inspected_is_a_violation_not_a_warning if {
	_wr(_insp("2025-07-13", {}), "not_inspected") == set()
	_vr(_insp("2025-07-13", {}), "not_inspected") == {["BS", ""], ["BM", ""], ["BH", ""]}
}

test_warning_not_inspected_after_latest_inspection if {
	# Inspected 2025-03-01: it lapses on 2025-03-01 + 184 = 2025-09-01, later than 2025-07-13.
	inp := _insp("2025-08-20", {"inspections": [{"date": "2025-02-01", "inspector_id": "S"}, {"date": "2025-03-01", "inspector_id": "S"}]})
	{x | some x in _wr(inp, "not_inspected"); x[0] == "BH"} == {["BH", "", "2025-09-01"]}
}

test_warning_not_inspected_year_edge if {
	# Issued 2025-06-30: fails on 2025-12-31; issued 2025-07-01: on 2026-01-01.
	{x | some x in _wr(_insp("2025-12-25", {"issued_on": "2025-06-30"}), "not_inspected"); x[0] == "BH"} == {["BH", "", "2025-12-31"]}
	{x | some x in _wr(_insp("2025-12-25", {"issued_on": "2025-07-01"}), "not_inspected"); x[0] == "BH"} == set()
}

test_no_warning_when_warn_days_zero if {
	r := {w | some w in kept.warning with input as _insp("2025-07-12", {})} with data.params.recordbook.kept.warn_days as 0
	r == set()
}

test_warnings_are_the_violations_of_fails_on if {
	_becomes(_no_books("2025-01-25"))
	_becomes(_gap_book("2025-06-20"))
	_becomes(_task_book("2025-07-05"))
	_becomes(_insp("2025-07-01", {}))
}
