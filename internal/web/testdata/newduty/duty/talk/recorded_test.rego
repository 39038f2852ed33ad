package duty.talk.recorded_test

import data.duty.talk.recorded

_input(talks) := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [{"id": "ORG", "name": "机关", "kind": "organ"}],
	"people": [{"id": "P1", "name": "张三", "department_id": "ORG", "rank": "division", "roles": [], "active": true}],
	"talks": talks,
}

_talk(kind, extra) := object.union({"id": "T1", "kind": kind, "person_id": "P1", "held_on": "2025-03-01"}, extra)

_params := {"kinds": ["general", "pre_appointment", "reminder", "petition_verification"], "severity": "medium"}

_reasons(talks) := {[v.subject.id, v.reason] |
	some v in recorded.violation with input as _input(talks) with data.params.talk.recorded as _params
}

test_unrecorded_talk if {
	_reasons([_talk("reminder", {"recorded": false})]) == {["T1", "unrecorded"]}
}

test_recorded_or_unmarked_talk_holds if {
	_reasons([_talk("general", {"recorded": true}), object.union(_talk("general", {}), {"id": "T2"})]) == set()
}

test_kind_not_in_kinds_is_not_checked if {
	_reasons([_talk("other", {"recorded": false})]) == set()
}
