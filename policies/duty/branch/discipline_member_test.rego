package duty.branch.discipline_member_test

import data.duty.branch.discipline_member

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [
		{"id": "ORG", "name": "省人大机关", "kind": "organ"},
		{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
		{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P1"},
	],
	"people": [{"id": "P1", "name": "李四", "department_id": "DIV", "rank": "section", "roles": ["discipline_member"], "active": true}],
}

_with_branch(over) := object.union(_base, {"departments": array.concat(array.slice(_base.departments, 0, 2), [object.union(_base.departments[2], over)])})

_with_person(over) := object.union(_base, {"people": [object.union(_base.people[0], over)]})

_reasons(inp) := {[v.subject.id, v.reason] | some v in discipline_member.violation with input as inp}

test_roster_member_passes if {
	_reasons(_base) == set()
}

test_absent_member_is_missing if {
	inp := object.union(_base, {"departments": array.concat(array.slice(_base.departments, 0, 2), [object.remove(_base.departments[2], ["discipline_member_id"])])})
	_reasons(inp) == {["BR", "missing"]}
	some v in discipline_member.violation with input as inp
	v.evidence == []
	contains(v.message.en, "none is named")
}

test_empty_member_id_is_missing if {
	_reasons(_with_branch({"discipline_member_id": ""})) == {["BR", "missing"]}
}

test_inactive_member_is_missing if {
	_reasons(_with_person({"active": false})) == {["BR", "missing"]}
	some v in discipline_member.violation with input as _with_person({"active": false})
	contains(v.message.en, "not active")
}

test_member_who_left_on_as_of_is_missing if {
	inp := _with_person({"left_on": "2025-06-30"})
	_reasons(inp) == {["BR", "missing"]}
	some v in discipline_member.violation with input as inp
	v.evidence == [{"collection": "people", "id": "P1"}]
	contains(v.message.zh, "李四")
	contains(v.message.zh, "2025-06-30")
}

test_member_who_leaves_after_as_of_passes if {
	_reasons(_with_person({"left_on": "2025-07-01"})) == set()
}

test_member_outside_the_organ_is_missing if {
	_reasons(_with_branch({"discipline_member_id": "P9"})) == {["BR", "missing"]}
}

test_only_branches_are_checked if {
	# ORG and DIV name no discipline member and are not reported; only the branch is.
	inp := object.union(_base, {"people": []})
	_reasons(inp) == {["BR", "missing"]}
}

test_violation_shape if {
	some v in discipline_member.violation with input as _with_person({"active": false})
	v.subject == {"collection": "departments", "id": "BR"}
	v.details == {}
	contains(v.message.zh, "办公厅党支部")
	contains(v.message.en, "2025-06-30")
}

# Warnings: the member on the roster on as_of (2025-06-30) leaves on left_on; the branch fails on
# left_on. warn_days 14: the window is 2025-07-01..2025-07-14.

_warnings(inp) := {[w.subject.id, w.reason, w.fails_on] | some w in discipline_member.warning with input as inp}

test_warning_first_day_of_window if {
	_warnings(_with_person({"left_on": "2025-07-01"})) == {["BR", "missing", "2025-07-01"]}
}

test_warning_last_day_of_window if {
	_warnings(_with_person({"left_on": "2025-07-14"})) == {["BR", "missing", "2025-07-14"]}
}

test_no_warning_after_window if {
	_warnings(_with_person({"left_on": "2025-07-15"})) == set()
}

test_no_warning_without_left_on if {
	_warnings(_base) == set()
}

test_left_on_as_of_is_a_violation_not_a_warning if {
	inp := _with_person({"left_on": "2025-06-30"})
	_warnings(inp) == set()
	_reasons(inp) == {["BR", "missing"]}
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_with_person({"left_on": "2025-07-01"})) with data.params.branch.discipline_member.warn_days as 0
	r == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _with_person({"left_on": "2025-07-09"})
	some w in discipline_member.warning with input as inp
	contains(w.message.zh, "已于 2025-07-09 离开")
	object.remove(w, ["fails_on"]) in discipline_member.violation with input as object.union(inp, {"as_of": w.fails_on})
}
