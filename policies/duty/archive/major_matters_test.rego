package duty.archive.major_matters_test

import data.duty.archive.major_matters

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [{"id": "ORG", "name": "省人大机关", "kind": "organ"}],
	"people": [{"id": "P1", "name": "张三", "department_id": "ORG", "rank": "division", "roles": [], "active": true}],
	"integrity_files": [],
}

_matter(over) := object.union({"id": "MM1", "kind": "房产变动", "event_on": "2025-05-01"}, over)

_with(as_of, matters) := object.union(_base, {
	"as_of": as_of,
	"integrity_files": [{"id": "F1", "person_id": "P1", "updated_on": "2025-01-01", "major_matters": matters}],
})

_reasons(inp) := {[v.subject.id, v.details.matter, v.reason] | some v in major_matters.violation with input as inp}

test_no_matters_no_violation if {
	_reasons(_with("2025-06-30", [])) == set()
}

test_reported_30_days_after_is_on_time if {
	# 2025-05-01 to 2025-05-31 is 30 days.
	_reasons(_with("2025-06-30", [_matter({"reported_on": "2025-05-31"})])) == set()
}

test_reported_31_days_after_is_late if {
	_reasons(_with("2025-06-30", [_matter({"reported_on": "2025-06-01"})])) == {["F1", "MM1", "late"]}
}

test_reported_same_day_is_on_time if {
	_reasons(_with("2025-06-30", [_matter({"reported_on": "2025-05-01"})])) == set()
}

test_unreported_30_days_is_not_yet_due if {
	_reasons(_with("2025-05-31", [_matter({})])) == set()
}

test_unreported_31_days_is_unreported if {
	_reasons(_with("2025-06-01", [_matter({})])) == {["F1", "MM1", "unreported"]}
}

test_future_matter_not_checked if {
	# The engine drops these; the policy ignores them too.
	_reasons(_with("2025-06-30", [_matter({"event_on": "2025-07-01"})])) == set()
}

test_reported_after_as_of_is_judged_by_its_date if {
	# reported_on is taken as given: 2025-05-01 to 2025-06-20 is 50 days, late even as of 2025-05-20.
	_reasons(_with("2025-06-10", [_matter({"reported_on": "2025-06-20"})])) == {["F1", "MM1", "late"]}
	_reasons(_with("2025-05-20", [_matter({"reported_on": "2025-06-20"})])) == {["F1", "MM1", "late"]}
	_reasons(_with("2025-05-20", [_matter({"reported_on": "2025-05-25"})])) == set()
}

test_each_matter_is_its_own_violation if {
	matters := [_matter({"reported_on": "2025-06-15"}), _matter({"id": "MM2"}), _matter({"id": "MM3", "reported_on": "2025-05-02"})]
	_reasons(_with("2025-06-30", matters)) == {["F1", "MM1", "late"], ["F1", "MM2", "unreported"]}
}

test_report_within_is_a_parameter if {
	# 2025-05-01 to 2025-06-30 is 60 days.
	r := _reasons(_with("2025-06-30", [_matter({})])) with data.params.archive.major_matters.report_within_days as 60
	r == set()
	r2 := _reasons(_with("2025-06-30", [_matter({"reported_on": "2025-06-30"})])) with data.params.archive.major_matters.report_within_days as 59
	r2 == {["F1", "MM1", "late"]}
}

test_late_violation_shape if {
	some v in major_matters.violation with input as _with("2025-06-30", [_matter({"reported_on": "2025-06-01"})])
	v.subject == {"collection": "integrity_files", "id": "F1"}
	v.details == {"matter": "MM1"}
	v.evidence == [{"collection": "people", "id": "P1"}]
	contains(v.message.zh, "张三")
	contains(v.message.zh, "2025-05-01")
	contains(v.message.zh, "2025-06-01")
	contains(v.message.en, "31 days")
}

test_unreported_violation_shape if {
	some v in major_matters.violation with input as _with("2025-06-30", [_matter({})])
	v.reason == "unreported"
	contains(v.message.zh, "2025-05-31")
	contains(v.message.en, "2025-06-30")
	contains(v.message.en, "60 days")
}

# Warnings: a matter not reported fails 31 days after its event_on; warn_days 14.

_warnings(inp) := {[w.subject.id, w.details.matter, w.reason, w.fails_on] | some w in major_matters.warning with input as inp}

test_warning_first_day_of_window if {
	# 2025-05-31 + 31 = 2025-07-01 = as_of + 1.
	_warnings(_with("2025-06-30", [_matter({"event_on": "2025-05-31"})])) == {["F1", "MM1", "unreported", "2025-07-01"]}
	_reasons(_with("2025-06-30", [_matter({"event_on": "2025-05-31"})])) == set()
}

test_warning_last_day_of_window if {
	# 2025-06-13 + 31 = 2025-07-14 = as_of + 14.
	_warnings(_with("2025-06-30", [_matter({"event_on": "2025-06-13"})])) == {["F1", "MM1", "unreported", "2025-07-14"]}
}

test_no_warning_after_window if {
	_warnings(_with("2025-06-30", [_matter({"event_on": "2025-06-14"})])) == set()
}

test_unreported_matter_is_a_violation_not_a_warning if {
	_warnings(_with("2025-06-30", [_matter({"event_on": "2025-05-30"})])) == set()
	_reasons(_with("2025-06-30", [_matter({"event_on": "2025-05-30"})])) == {["F1", "MM1", "unreported"]}
}

test_no_warning_for_reported_matter if {
	_warnings(_with("2025-06-30", [_matter({"event_on": "2025-06-05", "reported_on": "2025-06-20"})])) == set()
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_with("2025-06-30", [_matter({"event_on": "2025-05-31"})])) with data.params.archive.major_matters.warn_days as 0
	r == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _with("2025-06-30", [_matter({"event_on": "2025-06-05"})])
	some w in major_matters.warning with input as inp
	w.fails_on == "2025-07-06"
	contains(w.message.zh, "截至 2025-07-06（已 31 天）")
	object.remove(w, ["fails_on"]) in major_matters.violation with input as object.union(inp, {"as_of": w.fails_on})
}
