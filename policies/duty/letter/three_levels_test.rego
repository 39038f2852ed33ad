package duty.letter.three_levels_test

import data.duty.letter.three_levels

# The organ: S is the Party Group secretary; M a Party Group member of bureau rank who
# supervises D1; H heads D1; C is a division-rank cadre in D1. Required pairs:
# [1, S, M], [2, M, H], [3, H, C].
_people := [
	{"id": "S", "name": "书记甲", "department_id": "ORG", "rank": "bureau", "roles": ["party_group_secretary"], "active": true},
	{"id": "M", "name": "成员乙", "department_id": "ORG", "rank": "bureau", "roles": ["party_group_member"], "supervises": ["D1"], "active": true},
	{"id": "H", "name": "处长丙", "department_id": "D1", "rank": "division", "roles": ["department_head"], "active": true},
	{"id": "C", "name": "干部丁", "department_id": "D1", "rank": "division", "roles": [], "active": true},
]

_base := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": [
		{"id": "ORG", "name": "机关", "kind": "organ"},
		{"id": "D1", "name": "一处", "kind": "division", "parent_id": "ORG"},
		{"id": "D2", "name": "二处", "kind": "division", "parent_id": "ORG"},
	],
	"people": _people,
	"appointments": [],
	"letters": [],
}

_letter(id, level, issuer, signer, signed_on) := {
	"id": id, "year": 2025, "level": level, "issuer_id": issuer, "signer_id": signer,
	"signed_on": signed_on, "signed_by_issuer": true, "signed_by_signer": true,
}

_all_signed := [
	_letter("L1", 1, "S", "M", "2025-03-01"),
	_letter("L2", 2, "M", "H", "2025-03-01"),
	_letter("L3", 3, "H", "C", "2025-03-01"),
]

_with(fields) := object.union(_base, fields)

_at(as_of, letters) := _with({"as_of": as_of, "letters": letters})

_people_with(id, fields) := _replace(_people, id, fields)

# _replace returns people with the fields of person id changed.
_replace(people, id, fields) := [q |
	some p in people
	q := _changed(p, id, fields)
]

_changed(p, id, fields) := object.union(p, fields) if p.id == id

_changed(p, id, _) := p if p.id != id

_v(inp) := {[v.details.level, v.details.issuer, v.subject.id, v.reason] | some v in three_levels.violation with input as inp}

_all_missing := {[1, "S", "M", "missing"], [2, "M", "H", "missing"], [3, "H", "C", "missing"]}

# --- pairs and reasons ---

test_all_pairs_signed_in_time if {
	_v(_with({"letters": _all_signed})) == set()
}

test_missing_at_each_level if {
	_v(_base) == _all_missing
}

test_violation_shape if {
	vs := {v | some v in three_levels.violation with input as _base}
	some v in vs
	v.details.level == 2
	v == {
		"reason": "missing",
		"subject": {"collection": "people", "id": "H"},
		"details": {"level": 2, "issuer": "M"},
		"message": v.message,
		"evidence": [{"collection": "people", "id": "M"}],
		"accountable": "leaders",
	}
}

test_accountable_by_level if {
	got := {[v.details.level, v.accountable] | some v in three_levels.violation with input as _base}
	got == {[1, "party_group_secretary"], [2, "leaders"], [3, "department_heads"]}
}

test_details_level_is_a_number if {
	vs := three_levels.violation with input as _base
	count(vs) == 3
	every v in vs {
		is_number(v.details.level)
		object.keys(v.details) == {"level", "issuer"}
	}
}

# --- the deadline ---

test_deadline_day_itself_not_checked if {
	_v(_at("2025-03-31", [])) == set()
}

test_day_after_deadline_checked if {
	_v(_at("2025-04-01", [])) == _all_missing
}

test_signed_on_deadline_holds if {
	_v(_with({"letters": [
		_letter("L1", 1, "S", "M", "2025-03-31"),
		_letter("L2", 2, "M", "H", "2025-03-31"),
		_letter("L3", 3, "H", "C", "2025-03-31"),
	]})) == set()
}

test_late_by_one_day if {
	letters := [
		_letter("L1", 1, "S", "M", "2025-04-01"),
		_letter("L2", 2, "M", "H", "2025-03-31"),
		_letter("L3", 3, "H", "C", "2025-03-31"),
	]
	_v(_with({"letters": letters})) == {[1, "S", "M", "late"]}
}

test_late_evidence_and_message if {
	letters := [
		_letter("L1", 1, "S", "M", "2025-04-01"),
		_letter("L2", 2, "M", "H", "2025-03-01"),
		_letter("L3", 3, "H", "C", "2025-03-01"),
	]
	some v in three_levels.violation with input as _with({"letters": letters})
	v.evidence == [{"collection": "letters", "id": "L1"}]
	contains(v.message.zh, "书记甲")
	contains(v.message.zh, "成员乙")
	contains(v.message.zh, "2025-04-01")
	contains(v.message.zh, "2025-03-31")
	contains(v.message.en, "Level 1")
	contains(v.message.en, "2025-04-01")
	contains(v.message.en, "2025-03-31")
}

# --- unsigned ---

_one_pair_letters(l3) := [
	_letter("L1", 1, "S", "M", "2025-03-01"),
	_letter("L2", 2, "M", "H", "2025-03-01"),
	l3,
]

test_unsigned_by_issuer if {
	l3 := object.union(_letter("L3", 3, "H", "C", "2025-03-01"), {"signed_by_issuer": false})
	_v(_with({"letters": _one_pair_letters(l3)})) == {[3, "H", "C", "unsigned"]}
}

test_unsigned_by_signer if {
	l3 := object.union(_letter("L3", 3, "H", "C", "2025-03-01"), {"signed_by_signer": false})
	_v(_with({"letters": _one_pair_letters(l3)})) == {[3, "H", "C", "unsigned"]}
}

test_missing_signed_on_is_unsigned if {
	l3 := json.remove(_letter("L3", 3, "H", "C", "2025-03-01"), ["signed_on"])
	_v(_with({"letters": _one_pair_letters(l3)})) == {[3, "H", "C", "unsigned"]}
}

test_unsigned_evidence_and_message if {
	l3 := object.union(_letter("L3", 3, "H", "C", "2025-03-01"), {"signed_by_signer": false})
	some v in three_levels.violation with input as _with({"letters": _one_pair_letters(l3)})
	v.evidence == [{"collection": "letters", "id": "L3"}]
	v.accountable == "department_heads"
	contains(v.message.zh, "处长丙")
	contains(v.message.zh, "干部丁")
	contains(v.message.en, "L3")
	contains(v.message.en, "2025-03-01")
	contains(v.message.zh, "（签订日期：2025-03-01）")
	contains(v.message.en, "(signed on: 2025-03-01)")
	not contains(v.message.zh, "signed_on")
	not contains(v.message.en, "signed_on")
}

# --- several letters for one pair: holds > late > unsigned ---

test_late_beats_unsigned if {
	unsigned := object.union(_letter("L3a", 3, "H", "C", "2025-03-01"), {"signed_by_issuer": false})
	late := _letter("L3b", 3, "H", "C", "2025-04-10")
	inp := _with({"letters": array.concat(_one_pair_letters(unsigned), [late])})
	_v(inp) == {[3, "H", "C", "late"]}
	some v in three_levels.violation with input as inp
	v.evidence == [{"collection": "letters", "id": "L3b"}]
}

test_holds_beats_late_and_unsigned if {
	unsigned := object.union(_letter("L3a", 3, "H", "C", "2025-03-01"), {"signed_by_issuer": false})
	late := _letter("L3b", 3, "H", "C", "2025-04-10")
	good := _letter("L3c", 3, "H", "C", "2025-03-20")
	_v(_with({"letters": array.concat(_one_pair_letters(unsigned), [late, good])})) == set()
}

# --- which letter matches ---

test_letter_of_other_year_is_missing if {
	l3 := object.union(_letter("L3", 3, "H", "C", "2025-03-01"), {"year": 2024})
	_v(_with({"letters": _one_pair_letters(l3)})) == {[3, "H", "C", "missing"]}
}

test_letter_of_other_level_is_missing if {
	l3 := _letter("L3", 2, "H", "C", "2025-03-01")
	_v(_with({"letters": _one_pair_letters(l3)})) == {[3, "H", "C", "missing"]}
}

test_letter_with_sides_swapped_is_missing if {
	l3 := _letter("L3", 3, "C", "H", "2025-03-01")
	_v(_with({"letters": _one_pair_letters(l3)})) == {[3, "H", "C", "missing"]}
}

# --- new appointees ---

_appointment(id, pid, effective_on) := {
	"id": id, "person_id": pid, "department_id": "D1",
	"position": "职务", "rank": "division", "effective_on": effective_on,
}

test_new_signer_grace_not_yet_over if {
	# C took office 2025-04-15: the pair's deadline is 2025-05-15; as_of on that day is not checked.
	inp := _with({
		"as_of": "2025-05-15",
		"appointments": [_appointment("A1", "C", "2025-04-15")],
		"letters": [_letter("L1", 1, "S", "M", "2025-03-01"), _letter("L2", 2, "M", "H", "2025-03-01")],
	})
	_v(inp) == set()
}

test_new_signer_grace_over if {
	inp := _with({
		"as_of": "2025-05-16",
		"appointments": [_appointment("A1", "C", "2025-04-15")],
		"letters": [_letter("L1", 1, "S", "M", "2025-03-01"), _letter("L2", 2, "M", "H", "2025-03-01")],
	})
	_v(inp) == {[3, "H", "C", "missing"]}
}

test_new_signer_signed_on_grace_deadline_holds if {
	inp := _with({
		"appointments": [_appointment("A1", "C", "2025-04-15")],
		"letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-05-15")),
	})
	_v(inp) == set()
}

test_new_signer_signed_day_after_grace_is_late if {
	inp := _with({
		"appointments": [_appointment("A1", "C", "2025-04-15")],
		"letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-05-16")),
	})
	_v(inp) == {[3, "H", "C", "late"]}
	some v in three_levels.violation with input as inp
	contains(v.message.en, "2025-05-15")
}

test_new_issuer_extends_the_pair_deadline if {
	# H took office 2025-04-15: both of H's pairs ([2, M, H] and [3, H, C]) get 2025-05-15.
	inp := _with({
		"appointments": [_appointment("A1", "H", "2025-04-15")],
		"letters": [
			_letter("L1", 1, "S", "M", "2025-03-01"),
			_letter("L2", 2, "M", "H", "2025-05-15"),
			_letter("L3", 3, "H", "C", "2025-05-16"),
		],
	})
	_v(inp) == {[3, "H", "C", "late"]}
}

test_latest_appointment_in_year_counts if {
	inp := _with({
		"appointments": [_appointment("A1", "C", "2025-04-15"), _appointment("A2", "C", "2025-02-01")],
		"letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-05-15")),
	})
	_v(inp) == set()
}

test_early_appointment_keeps_base_deadline if {
	# 2025-02-01 + 30 days is before 03-31, so 03-31 stays the deadline.
	inp := _with({
		"appointments": [_appointment("A1", "C", "2025-02-01")],
		"letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-04-01")),
	})
	_v(inp) == {[3, "H", "C", "late"]}
}

test_appointment_of_previous_year_gives_no_grace if {
	inp := _with({
		"appointments": [_appointment("A1", "C", "2024-12-20")],
		"letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-04-01")),
	})
	_v(inp) == {[3, "H", "C", "late"]}
}

# --- the roster ---

test_left_on_as_of_is_off_roster if {
	inp := _with({"people": _people_with("C", {"left_on": "2025-06-30"}), "letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-06-01"))})
	_v(inp) == set()
}

test_left_day_after_as_of_is_on_roster if {
	inp := _with({"people": _people_with("C", {"left_on": "2025-07-01"}), "letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-06-01"))})
	_v(inp) == {[3, "H", "C", "late"]}
}

test_inactive_person_owes_nothing if {
	inp := _with({"people": _people_with("C", {"active": false}), "letters": _one_pair_letters(_letter("L3", 3, "H", "C", "2025-06-01"))})
	_v(inp) == set()
}

test_inactive_issuer_issues_nothing if {
	# Without H on the roster, neither [2, M, H] nor [3, H, C] is required.
	inp := _with({"people": _people_with("H", {"active": false}), "letters": [_letter("L1", 1, "S", "M", "2025-03-01")]})
	_v(inp) == set()
}

# --- level 1 ---

test_level1_bureau_rank_without_member_role_signs if {
	people := array.concat(_people, [{"id": "B", "name": "厅级戊", "department_id": "D2", "rank": "bureau", "roles": [], "active": true}])
	_v(_with({"people": people, "letters": _all_signed})) == {[1, "S", "B", "missing"]}
}

test_level1_secretary_does_not_sign_with_self if {
	# S has rank bureau (a leader) but is the issuer: no [1, S, S].
	every t in _v(_base) {
		t != [1, "S", "S", "missing"]
	}
}

test_level1_member_and_bureau_is_one_pair if {
	# M is both a Party Group member and of bureau rank: one pair, one violation.
	count([v |
		some v in three_levels.violation with input as _base
		v.details.level == 1
	]) == 1
}

test_level1_division_rank_cadre_does_not_sign if {
	# H and C (division rank, no member role) have no level-1 pair.
	signers := {t[2] | some t in _v(_base); t[0] == 1}
	signers == {"M"}
}

# --- level 2 ---

test_level2_excludes_the_supervisor_self if {
	# H also supervises D1, the department H heads: no [2, H, H].
	inp := _with({"people": _people_with("H", {"supervises": ["D1"]}), "letters": _all_signed})
	_v(inp) == set()
}

test_level2_duplicate_supervised_department_is_one_pair if {
	inp := _with({"people": _people_with("M", {"supervises": ["D1", "D1"]}), "letters": [_letter("L1", 1, "S", "M", "2025-03-01"), _letter("L3", 3, "H", "C", "2025-03-01")]})
	_v(inp) == {[2, "M", "H", "missing"]}
}

test_level2_empty_supervises_owes_nothing if {
	inp := _with({"people": _people_with("M", {"supervises": []}), "letters": [_letter("L1", 1, "S", "M", "2025-03-01"), _letter("L3", 3, "H", "C", "2025-03-01")]})
	_v(inp) == set()
}

test_level2_only_heads_of_supervised_departments if {
	people := array.concat(_people, [{"id": "H2", "name": "处长己", "department_id": "D2", "rank": "division", "roles": ["department_head"], "active": true}])
	_v(_with({"people": people, "letters": _all_signed})) == set()
	people2 := _replace(people, "M", {"supervises": ["D1", "D2"]})
	_v(_with({"people": people2, "letters": _all_signed})) == {[2, "M", "H2", "missing"]}
}

test_level2_head_off_roster_not_required if {
	inp := _with({"people": _people_with("H", {"left_on": "2025-01-01"}), "letters": [_letter("L1", 1, "S", "M", "2025-03-01")]})
	_v(inp) == set()
}

# --- level 3 ---

test_level3_only_division_rank if {
	people := array.concat(_people, [{"id": "K", "name": "科员庚", "department_id": "D1", "rank": "section", "roles": [], "active": true}])
	_v(_with({"people": people, "letters": _all_signed})) == set()
}

test_level3_other_department_not_required if {
	people := array.concat(_people, [{"id": "C2", "name": "干部辛", "department_id": "D2", "rank": "division", "roles": [], "active": true}])
	_v(_with({"people": people, "letters": _all_signed})) == set()
}

test_level3_two_heads_sign_each_other if {
	# A second division-rank head H3 of D1: H → H3 and H3 → H, H3 → C.
	people := array.concat(_people, [{"id": "H3", "name": "副处长壬", "department_id": "D1", "rank": "division", "roles": ["department_head"], "active": true}])
	got := _v(_with({"people": people, "letters": _all_signed}))
	got == {[3, "H", "H3", "missing"], [3, "H3", "H", "missing"], [3, "H3", "C", "missing"], [2, "M", "H3", "missing"]}
}

# --- parameters ---

test_deadline_is_a_parameter if {
	r := _v(_base) with data.params.letter.three_levels.deadline as "06-30"
	r == set()
	r2 := _v(_at("2025-07-01", [])) with data.params.letter.three_levels.deadline as "06-30"
	r2 == _all_missing
}

test_new_appointee_days_is_a_parameter if {
	inp := _with({
		"as_of": "2025-05-16",
		"appointments": [_appointment("A1", "C", "2025-04-15")],
		"letters": [_letter("L1", 1, "S", "M", "2025-03-01"), _letter("L2", 2, "M", "H", "2025-03-01")],
	})
	r := _v(inp) with data.params.letter.three_levels.new_appointee_days as 31
	r == set()
}

test_missing_message_names_people_level_and_deadline if {
	some v in three_levels.violation with input as _base
	v.details.level == 3
	contains(v.message.zh, "处长丙")
	contains(v.message.zh, "干部丁")
	contains(v.message.zh, "第 3 层面")
	contains(v.message.zh, "2025-03-31")
	contains(v.message.en, "level 3")
	contains(v.message.en, "2025-03-31")
}

# --- warnings: a pair not held by its deadline fails the day after it; warn_days 14 ---

_w(inp) := {[w.details.level, w.details.issuer, w.subject.id, w.reason, w.fails_on] | some w in three_levels.warning with input as inp}

_signed_but(id) := [l | some l in _all_signed; l.id != id]

test_warning_first_day_of_window if {
	_w(_at("2025-03-31", _signed_but("L2"))) == {[2, "M", "H", "missing", "2025-04-01"]}
	_v(_at("2025-03-31", _signed_but("L2"))) == set()
}

test_warning_last_day_of_window if {
	_w(_at("2025-03-18", _signed_but("L2"))) == {[2, "M", "H", "missing", "2025-04-01"]}
}

test_no_warning_before_window if {
	_w(_at("2025-03-17", _signed_but("L2"))) == set()
}

test_failing_pair_is_a_violation_not_a_warning if {
	_w(_at("2025-04-01", _signed_but("L2"))) == set()
	_v(_at("2025-04-01", _signed_but("L2"))) == {[2, "M", "H", "missing"]}
}

test_warning_has_the_reason_the_violation_would_have if {
	unsigned := object.union(_letter("L2", 2, "M", "H", "2025-03-01"), {"signed_by_signer": false})
	late := _letter("L3", 3, "H", "C", "2025-04-05")
	_w(_at("2025-03-25", [_all_signed[0], unsigned, late])) == {
		[2, "M", "H", "unsigned", "2025-04-01"],
		[3, "H", "C", "late", "2025-04-01"],
	}
}

test_warning_of_new_appointee_deadline if {
	# C took office on 2025-06-10: the pair [3, H, C] is due by 2025-07-10 and fails on 2025-07-11.
	inp := _with({"letters": _signed_but("L3"), "appointments": [{"id": "A1", "person_id": "C", "department_id": "D1", "position": "副处长", "rank": "division", "effective_on": "2025-06-10"}]})
	_w(inp) == {[3, "H", "C", "missing", "2025-07-11"]}
}

test_appointment_after_as_of_moves_no_deadline if {
	# An appointment recorded ahead of time does not move the deadline of a warning (DOMAIN.md).
	inp := _with({"as_of": "2025-03-25", "letters": _signed_but("L3"), "upcoming_appointments": [{"id": "A1", "person_id": "C", "department_id": "D1", "position": "副处长", "rank": "division", "effective_on": "2025-03-30"}]})
	_w(inp) == {[3, "H", "C", "missing", "2025-04-01"]}
}

test_no_warning_when_warn_days_zero if {
	r := _w(_at("2025-03-31", _signed_but("L2"))) with data.params.letter.three_levels.warn_days as 0
	r == set()
}

_appointed(as_of, on) := _with({"as_of": as_of, "letters": _signed_but("L3"), "appointments": [{"id": "A1", "person_id": "C", "department_id": "D1", "position": "副处长", "rank": "division", "effective_on": on}]})

test_warning_fails_on_within_year if {
	# Took office 2025-11-30: due 2025-12-30, fails on 2025-12-31.
	_w(_appointed("2025-12-20", "2025-11-30")) == {[3, "H", "C", "missing", "2025-12-31"]}
}

test_no_warning_across_year_edge if {
	# Took office 2025-12-01: due 2025-12-31, would fail on 2026-01-01, a new year's check.
	_w(_appointed("2025-12-20", "2025-12-01")) == set()
}

test_warning_is_the_violation_of_fails_on if {
	inp := _at("2025-03-25", _signed_but("L1"))
	some w in three_levels.warning with input as inp
	object.remove(w, ["fails_on"]) in three_levels.violation with input as object.union(inp, {"as_of": w.fails_on})
}
