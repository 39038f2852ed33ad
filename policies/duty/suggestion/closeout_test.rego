package duty.suggestion.closeout_test

import data.duty.suggestion.closeout

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [
		{"id": "ORG", "name": "机关", "kind": "organ"},
		{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
	],
	"people": [],
	"suggestions": [],
}

_item(over) := object.union({"id": "I1", "text": "完善公车管理", "due_on": "2025-06-29", "status": "open"}, over)

_closed(over) := _item(object.union({"status": "closed", "closed_on": "2025-06-01", "evidence": "制度汇编"}, over))

_with_items(items) := object.union(_base, {"suggestions": [{"id": "S1", "department_id": "DIV", "issued_on": "2025-01-10", "items": items}]})

_reasons(inp) := {[v.subject.id, v.details.item, v.reason] | some v in closeout.violation with input as inp}

test_no_suggestions_no_violation if {
	_reasons(_base) == set()
}

test_open_item_due_day_before_as_of_is_overdue if {
	_reasons(_with_items([_item({})])) == {["S1", "I1", "overdue"]}
}

test_open_item_due_on_as_of_is_not_overdue if {
	_reasons(_with_items([_item({"due_on": "2025-06-30"})])) == set()
}

test_open_item_due_after_as_of_is_not_overdue if {
	_reasons(_with_items([_item({"due_on": "2025-07-15"})])) == set()
}

test_closed_item_with_evidence_passes if {
	_reasons(_with_items([_closed({})])) == set()
}

test_closed_item_closed_on_as_of_passes if {
	_reasons(_with_items([_closed({"closed_on": "2025-06-30"})])) == set()
}

test_closed_without_closed_on if {
	item := object.remove(_closed({}), ["closed_on"])
	_reasons(_with_items([item])) == {["S1", "I1", "closed_without_evidence"]}
}

test_closed_without_evidence_field if {
	item := object.remove(_closed({}), ["evidence"])
	_reasons(_with_items([item])) == {["S1", "I1", "closed_without_evidence"]}
}

test_closed_with_empty_string_evidence if {
	_reasons(_with_items([_closed({"evidence": ""})])) == {["S1", "I1", "closed_without_evidence"]}
}

test_closed_with_nonempty_evidence_passes if {
	_reasons(_with_items([_closed({"evidence": "照片"})])) == set()
}

test_closed_without_both_is_one_violation if {
	item := object.remove(_closed({}), ["closed_on", "evidence"])
	vs := [v | some v in closeout.violation with input as _with_items([item])]
	count(vs) == 1
	contains(vs[0].message.en, "neither")
}

test_status_decides_not_closed_on if {
	# An open item with a closed_on is still open; a closed item is judged by its fields only.
	_reasons(_with_items([_item({"closed_on": "2025-06-01", "evidence": "x"})])) == {["S1", "I1", "overdue"]}
	_reasons(_with_items([_closed({"closed_on": "2025-07-05", "evidence": ""})])) == {["S1", "I1", "closed_without_evidence"]}
}

test_each_item_is_its_own_violation if {
	items := [_item({}), _closed({"id": "I2", "evidence": ""}), _closed({"id": "I3"})]
	_reasons(_with_items(items)) == {["S1", "I1", "overdue"], ["S1", "I2", "closed_without_evidence"]}
}

test_violation_shape if {
	some v in closeout.violation with input as _with_items([_item({})])
	v.subject == {"collection": "suggestions", "id": "S1"}
	v.details == {"item": "I1"}
	v.evidence == [{"collection": "departments", "id": "DIV"}]
	contains(v.message.zh, "办公厅")
	contains(v.message.zh, "2025-06-29")
	contains(v.message.zh, "逾期 1 天")
	contains(v.message.en, "2025-06-30")
	contains(v.message.en, "I1")
}

# Warnings: an open item due on or after as_of (2025-06-30) fails the day after its due_on;
# warn_days 14: the window is 2025-07-01..2025-07-14.

_warnings(inp) := {[w.subject.id, w.details.item, w.reason, w.fails_on] | some w in closeout.warning with input as inp}

test_warning_item_due_on_as_of_fails_next_day if {
	_warnings(_with_items([_item({"due_on": "2025-06-30"})])) == {["S1", "I1", "overdue", "2025-07-01"]}
	_reasons(_with_items([_item({"due_on": "2025-06-30"})])) == set()
}

test_warning_last_day_of_window if {
	_warnings(_with_items([_item({"due_on": "2025-07-13"})])) == {["S1", "I1", "overdue", "2025-07-14"]}
}

test_no_warning_after_window if {
	_warnings(_with_items([_item({"due_on": "2025-07-14"})])) == set()
}

test_overdue_item_is_a_violation_not_a_warning if {
	_warnings(_with_items([_item({})])) == set()
}

test_no_warning_for_closed_item if {
	_warnings(_with_items([_closed({"due_on": "2025-07-05"})])) == set()
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_with_items([_item({"due_on": "2025-06-30"})])) with data.params.suggestion.closeout.warn_days as 0
	r == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _with_items([_item({"due_on": "2025-07-05"})])
	some w in closeout.warning with input as inp
	w.fails_on == "2025-07-06"
	contains(w.message.zh, "已逾期 1 天")
	object.remove(w, ["fails_on"]) in closeout.violation with input as object.union(inp, {"as_of": w.fails_on})
}
