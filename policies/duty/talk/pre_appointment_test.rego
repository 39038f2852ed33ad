package duty.talk.pre_appointment_test

import data.duty.talk.pre_appointment

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [{"id": "ORG", "name": "机关", "kind": "organ"}],
	"people": [{"id": "P1", "name": "张三", "department_id": "ORG", "rank": "division", "roles": [], "active": true}],
	"appointments": [{"id": "A1", "person_id": "P1", "department_id": "ORG", "position": "处长", "rank": "division", "effective_on": "2025-04-01"}],
	"talks": [],
}

_with_talks(talks) := object.union(_base, {"talks": talks})

_talk(held_on) := {"id": "T1", "kind": "pre_appointment", "person_id": "P1", "held_on": held_on}

_reasons(inp) := {[v.subject.id, v.reason] | some v in pre_appointment.violation with input as inp}

test_missing_when_no_talk if {
	_reasons(_base) == {["A1", "missing"]}
}

test_talk_on_effective_day_counts if {
	_reasons(_with_talks([_talk("2025-04-01")])) == set()
}

test_talk_90_days_before_counts if {
	# 2025-01-01 is exactly 90 days before 2025-04-01.
	_reasons(_with_talks([_talk("2025-01-01")])) == set()
}

test_talk_91_days_before_is_missing if {
	_reasons(_with_talks([_talk("2024-12-31")])) == {["A1", "missing"]}
}

test_talk_after_effective_day_is_missing if {
	_reasons(_with_talks([_talk("2025-04-02")])) == {["A1", "missing"]}
}

test_unrecorded_talk_is_missing if {
	_reasons(_with_talks([object.union(_talk("2025-03-01"), {"recorded": false})])) == {["A1", "missing"]}
}

test_explicitly_recorded_talk_counts if {
	_reasons(_with_talks([object.union(_talk("2025-03-01"), {"recorded": true})])) == set()
}

test_other_kind_of_talk_is_missing if {
	_reasons(_with_talks([object.union(_talk("2025-03-01"), {"kind": "general"})])) == {["A1", "missing"]}
}

test_other_persons_talk_is_missing if {
	_reasons(_with_talks([object.union(_talk("2025-03-01"), {"person_id": "P2"})])) == {["A1", "missing"]}
}

test_section_rank_needs_no_talk if {
	inp := object.union(_base, {"appointments": [object.union(_base.appointments[0], {"rank": "section"})]})
	_reasons(inp) == set()
}

test_future_appointment_not_checked if {
	inp := object.union(_base, {"appointments": [object.union(_base.appointments[0], {"effective_on": "2025-07-01"})]})
	_reasons(inp) == set()
}

test_appointment_on_as_of_is_checked if {
	inp := object.union(_base, {"appointments": [object.union(_base.appointments[0], {"effective_on": "2025-06-30"})]})
	_reasons(inp) == {["A1", "missing"]}
}

test_max_days_before_is_a_parameter if {
	r := _reasons(_with_talks([_talk("2025-01-01")])) with data.params.talk.pre_appointment.max_days_before as 60
	r == {["A1", "missing"]}
}

test_message_names_person_and_dates if {
	some v in pre_appointment.violation with input as _base
	contains(v.message.zh, "张三")
	contains(v.message.zh, "2025-04-01")
	contains(v.message.en, "2025-01-01")
	contains(v.message.zh, "任职「处长」（处级）")
	contains(v.message.en, "(division level)")
}

# Warnings: appointments recorded ahead of time (input.upcoming_appointments) fail on their
# effective_on; as_of is 2025-06-30 and warn_days 14, so the window is 2025-07-01..2025-07-14.

_upcoming(eff) := object.union(_base, {
	"appointments": [],
	"upcoming_appointments": [object.union(_base.appointments[0], {"id": "A2", "effective_on": eff})],
})

_warnings(inp) := {[w.subject.id, w.reason, w.fails_on] | some w in pre_appointment.warning with input as inp}

test_warning_first_day_of_window if {
	_warnings(_upcoming("2025-07-01")) == {["A2", "missing", "2025-07-01"]}
}

test_warning_last_day_of_window if {
	_warnings(_upcoming("2025-07-14")) == {["A2", "missing", "2025-07-14"]}
}

test_no_warning_after_window if {
	_warnings(_upcoming("2025-07-15")) == set()
}

test_no_warning_with_talk_held_by_as_of if {
	_warnings(object.union(_upcoming("2025-07-10"), {"talks": [_talk("2025-06-30")]})) == set()
}

test_warning_when_talk_too_early if {
	# 2025-04-10 is 91 days before 2025-07-10.
	_warnings(object.union(_upcoming("2025-07-10"), {"talks": [_talk("2025-04-10")]})) == {["A2", "missing", "2025-07-10"]}
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_upcoming("2025-07-01")) with data.params.talk.pre_appointment.warn_days as 0
	r == set()
}

test_warn_days_is_a_parameter if {
	r := _warnings(_upcoming("2025-07-15")) with data.params.talk.pre_appointment.warn_days as 15
	r == {["A2", "missing", "2025-07-15"]}
}

test_check_failing_on_as_of_is_a_violation_not_a_warning if {
	inp := object.union(_base, {"appointments": [object.union(_base.appointments[0], {"effective_on": "2025-06-30"})], "upcoming_appointments": []})
	_warnings(inp) == set()
	_reasons(inp) == {["A1", "missing"]}
}

test_warning_is_the_violation_of_fails_on if {
	some w in pre_appointment.warning with input as _upcoming("2025-07-05")
	later := object.union(_base, {"as_of": w.fails_on, "appointments": [object.union(_base.appointments[0], {"id": "A2", "effective_on": "2025-07-05"})]})
	object.remove(w, ["fails_on"]) in pre_appointment.violation with input as later
}
