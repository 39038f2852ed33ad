package duty.archive.integrity_file_test

import data.duty.archive.integrity_file

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [{"id": "ORG", "name": "省人大机关", "kind": "organ"}],
	"people": [{"id": "P1", "name": "张三", "department_id": "ORG", "rank": "division", "roles": [], "active": true}],
	"appointments": [],
	"integrity_files": [],
}

_file(id, updated_on) := {"id": id, "person_id": "P1", "updated_on": updated_on, "major_matters": []}

_with_files(files) := object.union(_base, {"integrity_files": files})

_with_person(over) := object.union(_base, {"people": [object.union(_base.people[0], over)]})

_reasons(inp) := {[v.subject.id, v.reason] | some v in integrity_file.violation with input as inp}

test_missing_without_file if {
	_reasons(_base) == {["P1", "missing"]}
}

test_bureau_rank_needs_file if {
	_reasons(_with_person({"rank": "bureau"})) == {["P1", "missing"]}
}

test_section_rank_needs_no_file if {
	_reasons(_with_person({"rank": "section"})) == set()
}

test_off_roster_needs_no_file if {
	_reasons(_with_person({"active": false})) == set()
	_reasons(_with_person({"left_on": "2025-06-30"})) == set()
}

test_left_after_as_of_still_needs_file if {
	_reasons(_with_person({"left_on": "2025-07-01"})) == {["P1", "missing"]}
}

test_other_persons_file_does_not_count if {
	_reasons(_with_files([object.union(_file("F1", "2025-06-01"), {"person_id": "P2"})])) == {["P1", "missing"]}
}

test_recent_file_passes if {
	_reasons(_with_files([_file("F1", "2025-06-01")])) == set()
}

test_file_365_days_old_passes if {
	# 2024-06-30 to 2025-06-30 is 365 days.
	_reasons(_with_files([_file("F1", "2024-06-30")])) == set()
}

test_file_366_days_old_is_stale if {
	_reasons(_with_files([_file("F1", "2024-06-29")])) == {["P1", "stale"]}
}

test_newest_of_several_files_decides if {
	_reasons(_with_files([_file("F1", "2023-01-01"), _file("F2", "2025-01-01")])) == set()
	_reasons(_with_files([_file("F1", "2023-01-01"), _file("F2", "2024-01-01")])) == {["P1", "stale"]}
}

test_update_after_as_of_counts_as_current if {
	_reasons(_with_files([_file("F1", "2025-08-01")])) == set()
}

test_ranks_and_age_are_parameters if {
	r := _reasons(_with_person({"rank": "section"})) with data.params.archive.integrity_file.ranks as ["section"]
	r == {["P1", "missing"]}

	# 2025-05-01 to 2025-06-30 is 60 days.
	r2 := _reasons(_with_files([_file("F1", "2025-05-01")])) with data.params.archive.integrity_file.max_age_days as 59
	r2 == {["P1", "stale"]}
	r3 := _reasons(_with_files([_file("F1", "2025-05-01")])) with data.params.archive.integrity_file.max_age_days as 60
	r3 == set()
}

test_stale_violation_shape if {
	some v in integrity_file.violation with input as _with_files([_file("F2", "2024-01-01"), _file("F1", "2023-01-01")])
	v.subject == {"collection": "people", "id": "P1"}
	v.details == {}
	v.evidence == [{"collection": "integrity_files", "id": "F1"}, {"collection": "integrity_files", "id": "F2"}]
	contains(v.message.zh, "张三")
	contains(v.message.zh, "2024-01-01")
	contains(v.message.en, "2025-06-30")
	contains(v.message.en, "546 days")
}

test_missing_violation_shape if {
	inp := object.union(_base, {"appointments": [{"id": "A1", "person_id": "P1", "department_id": "ORG", "position": "处长", "rank": "division", "effective_on": "2024-01-01"}]})
	some v in integrity_file.violation with input as inp
	v.reason == "missing"
	v.evidence == [{"collection": "appointments", "id": "A1"}]
	contains(v.message.zh, "张三")
	contains(v.message.en, "2025-06-30")
	contains(v.message.zh, "（P1，处级）")
	contains(v.message.en, "(P1, division level)")
}

# Warnings: a file not stale on as_of (2025-06-30) becomes stale 366 days after its newest
# updated_on; warn_days 14, so the window is 2025-07-01..2025-07-14.

_warnings(inp) := {[w.subject.id, w.reason, w.fails_on] | some w in integrity_file.warning with input as inp}

test_warning_first_day_of_window if {
	# 2024-06-30 + 366 = 2025-07-01.
	_warnings(_with_files([_file("F1", "2024-06-30")])) == {["P1", "stale", "2025-07-01"]}
	_reasons(_with_files([_file("F1", "2024-06-30")])) == set()
}

test_warning_last_day_of_window if {
	# 2024-07-13 + 366 = 2025-07-14.
	_warnings(_with_files([_file("F1", "2024-07-13")])) == {["P1", "stale", "2025-07-14"]}
}

test_no_warning_after_window if {
	_warnings(_with_files([_file("F1", "2024-07-14")])) == set()
}

test_stale_file_is_a_violation_not_a_warning if {
	_warnings(_with_files([_file("F1", "2024-06-29")])) == set()
	_reasons(_with_files([_file("F1", "2024-06-29")])) == {["P1", "stale"]}
}

test_warning_uses_newest_file if {
	_warnings(_with_files([_file("F1", "2024-01-01"), _file("F2", "2024-07-05")])) == {["P1", "stale", "2025-07-06"]}
}

test_no_warning_for_missing_file if {
	_warnings(_base) == set()
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_with_files([_file("F1", "2024-06-30")])) with data.params.archive.integrity_file.warn_days as 0
	r == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _with_files([_file("F1", "2024-07-05")])
	some w in integrity_file.warning with input as inp
	contains(w.message.zh, "至 2025-07-06 已 366 天未更新")
	object.remove(w, ["fails_on"]) in integrity_file.violation with input as object.union(inp, {"as_of": w.fails_on})
}
