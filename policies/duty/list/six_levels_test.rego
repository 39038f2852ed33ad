package duty.list.six_levels_test

import data.duty.list.six_levels

_people := [
	{"id": "SEC", "name": "书记", "department_id": "ORG", "rank": "bureau", "roles": ["party_group_secretary"], "active": true},
	{"id": "MEM", "name": "党组成员", "department_id": "ORG", "rank": "division", "roles": ["party_group_member"], "active": true},
	{"id": "BUR", "name": "厅级干部", "department_id": "ORG", "rank": "bureau", "roles": [], "active": true},
	{"id": "HEAD", "name": "处长", "department_id": "DIV", "rank": "division", "roles": ["department_head"], "active": true},
	{"id": "STAFF", "name": "科员", "department_id": "DIV", "rank": "staff", "roles": [], "active": true},
]

_departments := [
	{"id": "ORG", "name": "省人大机关", "kind": "organ"},
	{"id": "PC", "name": "机关党委", "kind": "party_committee", "parent_id": "ORG"},
	{"id": "DC", "name": "机关纪委", "kind": "discipline_committee", "parent_id": "ORG"},
	{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
	{"id": "SC", "name": "法制委", "kind": "special_committee", "parent_id": "ORG"},
]

_list(id, level, dept, holder) := {"id": id, "year": 2025, "level": level, "department_id": dept, "holder_id": holder, "items": ["x"]}

_org_list(id, level, dept) := {"id": id, "year": 2025, "level": level, "department_id": dept, "items": ["x"]}

_complete := [
	_org_list("L1", "party_group", "ORG"),
	_org_list("L2", "party_committee", "PC"),
	_org_list("L3", "discipline_committee", "DC"),
	_list("L4", "party_group_secretary", "ORG", "SEC"),
	_list("L5", "leaders", "ORG", "MEM"),
	_list("L6", "leaders", "ORG", "BUR"),
	_list("L7", "department_heads", "DIV", "HEAD"),
	_org_list("L8", "special_committee", "SC"),
]

_input(as_of, lists) := {
	"as_of": as_of,
	"organ": "ORG",
	"departments": _departments,
	"people": _people,
	"responsibility_lists": lists,
}

_without(id) := [l | some l in _complete; l.id != id]

_reasons(inp) := {[v.subject.id, v.details.level, v.reason] | some v in six_levels.violation with input as inp}

test_complete_set_passes if {
	_reasons(_input("2025-04-01", _complete)) == set()
}

test_not_checked_on_deadline_day if {
	_reasons(_input("2025-03-31", [])) == set()
}

test_everything_missing_the_day_after_deadline if {
	_reasons(_input("2025-04-01", [])) == {
		["ORG", "party_group", "missing"],
		["ORG", "party_committee", "missing"],
		["ORG", "discipline_committee", "missing"],
		["SEC", "party_group_secretary", "missing"],
		["MEM", "leaders", "missing"],
		["BUR", "leaders", "missing"],
		["HEAD", "department_heads", "missing"],
		["SC", "special_committee", "missing"],
	}
}

test_each_organ_level if {
	_reasons(_input("2025-04-01", _without("L1"))) == {["ORG", "party_group", "missing"]}
	_reasons(_input("2025-04-01", _without("L2"))) == {["ORG", "party_committee", "missing"]}
	_reasons(_input("2025-04-01", _without("L3"))) == {["ORG", "discipline_committee", "missing"]}
}

test_organ_level_list_of_any_department_counts if {
	lists := array.concat(_without("L2"), [_org_list("L9", "party_committee", "ORG")])
	_reasons(_input("2025-04-01", lists)) == set()
}

test_organ_level_list_of_last_year_is_missing if {
	old := object.union(_org_list("L9", "party_group", "ORG"), {"year": 2024})
	lists := array.concat(_without("L1"), [old])
	_reasons(_input("2025-04-01", lists)) == {["ORG", "party_group", "missing"]}
	some v in six_levels.violation with input as _input("2025-04-01", lists)
	v.evidence == [{"collection": "responsibility_lists", "id": "L9"}]
}

test_each_personal_level if {
	_reasons(_input("2025-04-01", _without("L4"))) == {["SEC", "party_group_secretary", "missing"]}
	_reasons(_input("2025-04-01", _without("L5"))) == {["MEM", "leaders", "missing"]}
	_reasons(_input("2025-04-01", _without("L6"))) == {["BUR", "leaders", "missing"]}
	_reasons(_input("2025-04-01", _without("L7"))) == {["HEAD", "department_heads", "missing"]}
}

test_secretary_owes_no_leaders_list if {
	# SEC is of rank bureau but holds only the secretary's list.
	not ["SEC", "leaders", "missing"] in _reasons(_input("2025-04-01", []))
}

test_list_held_by_someone_else_does_not_count if {
	lists := array.concat(_without("L7"), [_list("L9", "department_heads", "DIV", "STAFF")])
	_reasons(_input("2025-04-01", lists)) == {["HEAD", "department_heads", "missing"]}
}

test_wrong_level_does_not_count if {
	lists := array.concat(_without("L7"), [_list("L9", "leaders", "DIV", "HEAD")])
	_reasons(_input("2025-04-01", lists)) == {["HEAD", "department_heads", "missing"]}
}

test_person_can_owe_two_lists if {
	people := array.concat(_people, [{"id": "BH", "name": "厅级处长", "department_id": "DIV", "rank": "bureau", "roles": ["department_head"], "active": true}])
	inp := object.union(_input("2025-04-01", _complete), {"people": people})
	_reasons(inp) == {["BH", "leaders", "missing"], ["BH", "department_heads", "missing"]}
	lists := array.concat(_complete, [_list("L9", "leaders", "DIV", "BH")])
	_reasons(object.union(inp, {"responsibility_lists": lists})) == {["BH", "department_heads", "missing"]}
}

test_off_roster_people_owe_nothing if {
	people := [object.union(p, {"active": false}) | some p in _people]
	inp := object.union(_input("2025-04-01", _complete), {"people": people, "responsibility_lists": []})
	_reasons(inp) == {
		["ORG", "party_group", "missing"],
		["ORG", "party_committee", "missing"],
		["ORG", "discipline_committee", "missing"],
		["SC", "special_committee", "missing"],
	}
}

test_special_committee_list_of_any_level_counts if {
	lists := array.concat(_without("L8"), [_org_list("L9", "department_heads", "SC")])
	_reasons(_input("2025-04-01", lists)) == set()
}

test_special_committee_list_of_last_year_is_missing if {
	lists := array.concat(_without("L8"), [object.union(_org_list("L9", "special_committee", "SC"), {"year": 2024})])
	_reasons(_input("2025-04-01", lists)) == {["SC", "special_committee", "missing"]}
}

test_accountable_is_the_level if {
	acc := {[v.subject.id, v.details.level, v.accountable] | some v in six_levels.violation with input as _input("2025-04-01", [])}
	["ORG", "party_group", "party_group"] in acc
	["ORG", "discipline_committee", "discipline_committee"] in acc
	["ORG", "party_committee", "party_committee"] in acc
	["SEC", "party_group_secretary", "party_group_secretary"] in acc
	["BUR", "leaders", "leaders"] in acc
	["HEAD", "department_heads", "department_heads"] in acc
	["SC", "special_committee", "department_heads"] in acc
}

test_deadline_is_a_parameter if {
	r := _reasons(_input("2025-04-15", _without("L1"))) with data.params.list.six_levels.deadline as "04-30"
	r == set()
	r2 := _reasons(_input("2025-02-01", _without("L1"))) with data.params.list.six_levels.deadline as "01-31"
	r2 == {["ORG", "party_group", "missing"]}
}

test_violation_shape if {
	some v in six_levels.violation with input as _input("2025-04-01", _without("L7"))
	v.subject == {"collection": "people", "id": "HEAD"}
	v.details == {"level": "department_heads"}
	v.evidence == []
	contains(v.message.zh, "处长")
	contains(v.message.zh, "2025-03-31")
	contains(v.message.en, "2025-04-01")
}

test_message_names_the_level_by_its_label if {
	some v in six_levels.violation with input as _input("2025-04-01", _without("L7"))
	contains(v.message.zh, "「支部书记及处室（单位）主要负责人」层级责任清单")
	contains(v.message.en, "at the level of branch secretaries and heads of divisions or units")
	not contains(v.message.zh, "department_heads")
	not contains(v.message.en, "department_heads")
}

# Warnings: before the deadline (2025-03-31), each list missing on as_of fails on 2025-04-01;
# warn_days 14, so as_of from 2025-03-18 to 2025-03-31 warns.

_warnings(inp) := {[w.subject.id, w.details.level, w.reason, w.fails_on] | some w in six_levels.warning with input as inp}

test_warning_first_day_of_window if {
	_warnings(_input("2025-03-31", _without("L5"))) == {["MEM", "leaders", "missing", "2025-04-01"]}
}

test_warning_last_day_of_window if {
	_warnings(_input("2025-03-18", _without("L8"))) == {["SC", "special_committee", "missing", "2025-04-01"]}
}

test_no_warning_before_window if {
	_warnings(_input("2025-03-17", _without("L1"))) == set()
}

test_warnings_are_the_missing_lists if {
	r := _warnings(_input("2025-03-25", []))
	count(r) == 8
	{[x[2], x[3]] | some x in r} == {["missing", "2025-04-01"]}
	{[x[0], x[1]] | some x in r} == {[x[0], x[1]] | some x in _reasons(_input("2025-04-01", []))}
}

test_failing_check_is_a_violation_not_a_warning if {
	_warnings(_input("2025-04-01", _without("L1"))) == set()
	_reasons(_input("2025-04-01", _without("L1"))) == {["ORG", "party_group", "missing"]}
}

test_no_warning_when_complete if {
	_warnings(_input("2025-03-25", _complete)) == set()
}

test_no_warning_when_warn_days_zero if {
	r := _warnings(_input("2025-03-31", _without("L5"))) with data.params.list.six_levels.warn_days as 0
	r == set()
}

test_warning_fails_on_within_year if {
	r := _warnings(_input("2025-12-20", _without("L5"))) with data.params.list.six_levels.deadline as "12-30"
	r == {["MEM", "leaders", "missing", "2025-12-31"]}
}

test_no_warning_across_year_edge if {
	r := _warnings(_input("2025-12-20", _without("L5"))) with data.params.list.six_levels.deadline as "12-31"
	r == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _input("2025-03-25", _without("L7"))
	some w in six_levels.warning with input as inp
	contains(w.message.zh, "检查日 2025-04-01")
	object.remove(w, ["fails_on"]) in six_levels.violation with input as object.union(inp, {"as_of": w.fails_on})
}
