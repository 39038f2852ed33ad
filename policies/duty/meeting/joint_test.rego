package duty.meeting.joint_test

import data.duty.meeting.joint

_base := {
	"as_of": "2025-04-03",
	"organ": "ORG",
	"departments": [
		{"id": "ORG", "name": "省人大机关", "kind": "organ"},
		{"id": "DC", "name": "机关纪委", "kind": "discipline_committee", "parent_id": "ORG"},
		{"id": "PC", "name": "机关党委", "kind": "party_committee", "parent_id": "ORG"},
	],
	"people": [],
	"meetings": [],
}

_m(id, held_on) := {"id": id, "kind": "joint", "department_id": "DC", "held_on": held_on}

_with(as_of, meetings) := object.union(_base, {"as_of": as_of, "meetings": meetings})

_reasons(inp) := {[v.subject.id, v.reason] | some v in joint.violation with input as inp}

test_no_meeting_92_days_into_year_passes if {
	# 2025-01-01 to 2025-04-03 is exactly 92 days.
	_reasons(_with("2025-04-03", [])) == set()
}

test_no_meeting_93_days_into_year_is_gap if {
	_reasons(_with("2025-04-04", [])) == {["DC", "gap"]}
}

test_new_years_day_has_no_gap if {
	_reasons(_with("2025-01-01", [])) == set()
}

test_meeting_breaks_the_gap if {
	_reasons(_with("2025-06-30", [_m("M1", "2025-03-31")])) == set()
}

test_gap_between_meetings_exactly_92_passes if {
	# 2025-02-01 to 2025-05-04 is 92 days; 2025-05-04 to 2025-06-30 is 57.
	_reasons(_with("2025-06-30", [_m("M1", "2025-02-01"), _m("M2", "2025-05-04")])) == set()
}

test_gap_between_meetings_93_is_gap if {
	_reasons(_with("2025-06-30", [_m("M1", "2025-02-01"), _m("M2", "2025-05-05")])) == {["DC", "gap"]}
}

test_gap_from_last_meeting_to_as_of if {
	# 2025-03-01 to 2025-06-01 is 92 days, to 2025-06-02 is 93.
	_reasons(_with("2025-06-01", [_m("M1", "2025-03-01")])) == set()
	_reasons(_with("2025-06-02", [_m("M1", "2025-03-01")])) == {["DC", "gap"]}
}

test_last_years_meeting_does_not_count if {
	_reasons(_with("2025-04-04", [_m("M1", "2024-12-31")])) == {["DC", "gap"]}
}

test_meeting_of_other_department_does_not_count if {
	m := object.union(_m("M1", "2025-03-01"), {"department_id": "PC"})
	_reasons(_with("2025-04-04", [m])) == {["DC", "gap"]}
}

test_other_kind_does_not_count if {
	m := object.union(_m("M1", "2025-03-01"), {"kind": "annual_conduct"})
	_reasons(_with("2025-04-04", [m])) == {["DC", "gap"]}
}

test_one_violation_for_many_gaps if {
	vs := [v | some v in joint.violation with input as _with("2025-12-31", [_m("M1", "2025-06-01")])]
	count(vs) == 1

	# 2025-01-01 to 2025-06-01 is 151 days; 2025-06-01 to 2025-12-31 is 213.
	contains(vs[0].message.en, "213 days between 2025-06-01 and 2025-12-31")
}

test_max_gap_is_a_parameter if {
	r := _reasons(_with("2025-03-03", [])) with data.params.meeting.joint.max_gap_days as 60
	r == {["DC", "gap"]}
	r2 := _reasons(_with("2025-03-02", [])) with data.params.meeting.joint.max_gap_days as 60
	r2 == set()
}

test_violation_shape if {
	some v in joint.violation with input as _with("2025-06-30", [_m("M2", "2025-01-20"), _m("M1", "2025-01-10")])
	v.subject == {"collection": "departments", "id": "DC"}
	v.details == {}
	v.evidence == [{"collection": "meetings", "id": "M1"}, {"collection": "meetings", "id": "M2"}]
	contains(v.message.zh, "机关纪委")
	contains(v.message.zh, "2025-01-20")
	contains(v.message.zh, "2025-06-30")
	contains(v.message.zh, "161 天")
}

# Warnings: a committee with no gap on as_of fails on the latest of 2025-01-01 and its meetings
# plus 93 days; warn_days 14.

_warnings(inp) := {[w.subject.id, w.reason, w.fails_on] | some w in joint.warning with input as inp}

test_warning_first_day_of_window if {
	# No meeting: fails on 2025-01-01 + 93 = 2025-04-04 = as_of + 1.
	_warnings(_with("2025-04-03", [])) == {["DC", "gap", "2025-04-04"]}
}

test_warning_last_day_of_window if {
	# fails_on 2025-04-04 = as_of + 14.
	_warnings(_with("2025-03-21", [])) == {["DC", "gap", "2025-04-04"]}
}

test_no_warning_before_window if {
	_warnings(_with("2025-03-20", [])) == set()
}

test_failing_check_is_a_violation_not_a_warning if {
	_warnings(_with("2025-04-04", [])) == set()
	_reasons(_with("2025-04-04", [])) == {["DC", "gap"]}
}

test_warning_counts_from_latest_meeting if {
	# 2025-05-01 + 93 = 2025-08-02.
	_warnings(_with("2025-07-25", [_m("J1", "2025-02-01"), _m("J2", "2025-05-01")])) == {["DC", "gap", "2025-08-02"]}
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_with("2025-04-03", [])) with data.params.meeting.joint.warn_days as 0
	r == set()
}

# _spaced are meetings no more than 91 days apart from 2025-01-01 to 2025-08-30.
_spaced := [_m("J1", "2025-03-01"), _m("J2", "2025-05-31"), _m("J3", "2025-08-30")]

test_warning_fails_on_within_year if {
	# 2025-09-29 + 93 = 2025-12-31.
	_warnings(_with("2025-12-30", array.concat(_spaced, [_m("J4", "2025-09-29")]))) == {["DC", "gap", "2025-12-31"]}
}

test_no_warning_across_year_edge if {
	# 2025-09-30 + 93 = 2026-01-01: a new year's check.
	_warnings(_with("2025-12-30", array.concat(_spaced, [_m("J4", "2025-09-30")]))) == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _with("2025-07-25", [_m("J1", "2025-02-01"), _m("J2", "2025-05-01")])
	some w in joint.warning with input as inp
	contains(w.message.zh, "2025-05-01 至 2025-08-02 之间 93 天")
	object.remove(w, ["fails_on"]) in joint.violation with input as object.union(inp, {"as_of": w.fails_on})
}
