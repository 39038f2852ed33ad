package duty.meeting.annual_conduct_test

import data.duty.meeting.annual_conduct

_base := {
	"as_of": "2025-04-01",
	"organ": "ORG",
	"departments": [
		{"id": "ORG", "name": "省人大机关", "kind": "organ"},
		{"id": "PC", "name": "机关党委", "kind": "party_committee", "parent_id": "ORG"},
		{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
		{"id": "BR", "name": "第一党支部", "kind": "branch", "parent_id": "DIV"},
	],
	"people": [],
	"meetings": [],
}

_meeting(id, dept, held_on) := {"id": id, "kind": "annual_conduct", "department_id": dept, "held_on": held_on}

_with(as_of, meetings) := object.union(_base, {"as_of": as_of, "meetings": meetings})

_reasons(inp) := {[v.subject.id, v.reason] | some v in annual_conduct.violation with input as inp}

test_missing_the_day_after_deadline if {
	_reasons(_with("2025-04-01", [])) == {["ORG", "missing"]}
}

test_not_checked_on_deadline_day if {
	_reasons(_with("2025-03-31", [])) == set()
}

test_meeting_on_deadline_day_counts if {
	_reasons(_with("2025-06-30", [_meeting("M1", "ORG", "2025-03-31")])) == set()
}

test_meeting_on_new_years_day_counts if {
	_reasons(_with("2025-06-30", [_meeting("M1", "ORG", "2025-01-01")])) == set()
}

test_meeting_day_after_deadline_is_missing if {
	_reasons(_with("2025-06-30", [_meeting("M1", "ORG", "2025-04-01")])) == {["ORG", "missing"]}
}

test_last_years_meeting_is_missing if {
	_reasons(_with("2025-06-30", [_meeting("M1", "ORG", "2024-03-01")])) == {["ORG", "missing"]}
}

test_meeting_of_any_department_in_organ_counts if {
	_reasons(_with("2025-06-30", [_meeting("M1", "PC", "2025-02-10")])) == set()
	_reasons(_with("2025-06-30", [_meeting("M1", "BR", "2025-02-10")])) == set()
}

test_other_kind_of_meeting_is_missing if {
	m := object.union(_meeting("M1", "ORG", "2025-02-10"), {"kind": "joint"})
	_reasons(_with("2025-06-30", [m])) == {["ORG", "missing"]}
}

test_deadline_is_a_parameter if {
	_reasons(_with("2025-04-15", [_meeting("M1", "ORG", "2025-04-10")])) == {["ORG", "missing"]}
	r := _reasons(_with("2025-04-15", [_meeting("M1", "ORG", "2025-04-10")])) with data.params.meeting.annual_conduct.deadline as "04-30"
	r == set()
	r2 := _reasons(_with("2025-02-01", [])) with data.params.meeting.annual_conduct.deadline as "01-31"
	r2 == {["ORG", "missing"]}
}

test_violation_shape_lists_late_meeting if {
	some v in annual_conduct.violation with input as _with("2025-06-30", [_meeting("M2", "ORG", "2025-05-20")])
	v.subject == {"collection": "departments", "id": "ORG"}
	v.details == {}
	v.evidence == [{"collection": "meetings", "id": "M2"}]
	contains(v.message.zh, "省人大机关")
	contains(v.message.zh, "2025-03-31")
	contains(v.message.zh, "2025-05-20")
	contains(v.message.en, "2025-01-01")
}

test_missing_has_empty_evidence_and_names_dates if {
	some v in annual_conduct.violation with input as _with("2025-04-01", [])
	v.evidence == []
	contains(v.message.en, "2025-03-31")
	contains(v.message.en, "2025-04-01")
}

test_meeting_of_another_organ_does_not_count if {
	depts := array.concat(_base.departments, [
		{"id": "ORG2", "name": "另一机关", "kind": "organ"},
		{"id": "DIV2", "name": "另一办公厅", "kind": "office", "parent_id": "ORG2"},
	])
	inp := object.union(_with("2025-06-30", [_meeting("M1", "DIV2", "2025-02-10")]), {"departments": depts})
	_reasons(inp) == {["ORG", "missing"]}
}

# Warnings: with no meeting held by as_of, the organ fails on the day after the deadline
# (2025-04-01); warn_days 14, so as_of from 2025-03-18 to 2025-03-31 warns.

_warnings(inp) := {[w.subject.id, w.reason, w.fails_on] | some w in annual_conduct.warning with input as inp}

test_warning_first_day_of_window if {
	# fails_on = as_of + 1
	_warnings(_with("2025-03-31", [])) == {["ORG", "missing", "2025-04-01"]}
}

test_warning_last_day_of_window if {
	# fails_on = as_of + 14
	_warnings(_with("2025-03-18", [])) == {["ORG", "missing", "2025-04-01"]}
}

test_no_warning_before_window if {
	_warnings(_with("2025-03-17", [])) == set()
}

test_failing_check_is_a_violation_not_a_warning if {
	_warnings(_with("2025-04-01", [])) == set()
	_reasons(_with("2025-04-01", [])) == {["ORG", "missing"]}
}

test_no_warning_when_meeting_held if {
	_warnings(_with("2025-03-25", [_meeting("M1", "BR", "2025-03-20")])) == set()
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_with("2025-03-31", [])) with data.params.meeting.annual_conduct.warn_days as 0
	r == set()
}

test_warning_fails_on_within_year if {
	# deadline 12-30: fails on 12-31, still year Y.
	r := _warnings(_with("2025-12-30", [])) with data.params.meeting.annual_conduct.deadline as "12-30"
	r == {["ORG", "missing", "2025-12-31"]}
}

test_no_warning_across_year_edge if {
	# deadline 12-31: the check would fail on 2026-01-01, a new year's check.
	r := _warnings(_with("2025-12-31", [])) with data.params.meeting.annual_conduct.deadline as "12-31"
	r == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _with("2025-03-25", [])
	some w in annual_conduct.warning with input as inp
	contains(w.message.zh, "检查日 2025-04-01")
	object.remove(w, ["fails_on"]) in annual_conduct.violation with input as object.union(inp, {"as_of": w.fails_on})
}
