package lib.org_test

import data.lib.dates
import data.lib.org

# An organ with a party committee and a division under it, and a branch under the division.
_departments := [
	{"id": "ORG", "name": "机关", "kind": "organ"},
	{"id": "PC", "name": "机关党委", "kind": "party_committee", "parent_id": "ORG"},
	{"id": "DIV", "name": "处室", "kind": "division", "parent_id": "ORG"},
	{"id": "BR", "name": "支部", "kind": "branch", "parent_id": "DIV"},
]

_person(id, extra) := object.union(
	{"id": id, "name": id, "department_id": "DIV", "rank": "section", "roles": [], "active": true},
	extra,
)

_people := [
	_person("SEC", {"roles": ["party_group_secretary"], "rank": "bureau", "department_id": "ORG"}),
	_person("MEM", {"roles": ["party_group_member"], "rank": "division", "department_id": "ORG"}),
	_person("HEAD", {"roles": ["department_head"], "rank": "division"}),
	_person("BUR", {"rank": "bureau", "department_id": "PC"}),
	_person("OFF", {"active": false}),
	_person("LEFT", {"left_on": "2025-06-30"}),
	_person("LEAVES", {"left_on": "2025-07-01"}),
]

_input := {
	"as_of": "2025-06-30",
	"organ": "ORG",
	"departments": _departments,
	"people": _people,
	"appointments": [
		{"id": "A1", "person_id": "HEAD", "department_id": "DIV", "position": "处长", "rank": "division", "effective_on": "2025-02-01"},
		{"id": "A2", "person_id": "HEAD", "department_id": "DIV", "position": "处长", "rank": "division", "effective_on": "2025-05-10"},
		{"id": "A3", "person_id": "MEM", "department_id": "ORG", "position": "成员", "rank": "division", "effective_on": "2024-12-31"},
	],
}

test_dates_of_the_year if {
	org.as_of == "2025-06-30" with input as _input
	org.year == 2025 with input as _input
	org.year_prefix == "2025-" with input as _input
	org.year_start == "2025-01-01" with input as _input
	org.year_start_day == dates.day("2025-01-01") with input as _input
	org.as_of_day == dates.day("2025-06-30") with input as _input
}

# On the roster: active, with no left_on on or before as_of; leaving on as_of is off it.
test_roster if {
	object.keys(org.roster) == {"SEC", "MEM", "HEAD", "BUR", "LEAVES"} with input as _input
}

test_roles_and_leaders if {
	org.secretary_ids == {"SEC"} with input as _input
	org.head_ids == {"HEAD"} with input as _input
	org.leader_ids == {"SEC", "MEM", "BUR"} with input as _input
}

test_roster_in_department if {
	ids := {d: {p.id | some p in ps} | some d, ps in org.roster_in_department} with input as _input
	ids == {"ORG": {"SEC", "MEM"}, "DIV": {"HEAD", "LEAVES"}, "PC": {"BUR"}}
}

test_indexes if {
	object.keys(org.departments) == {"ORG", "PC", "DIV", "BR"} with input as _input
	object.keys(org.people) == {"SEC", "MEM", "HEAD", "BUR", "OFF", "LEFT", "LEAVES"} with input as _input
	object.keys(org.organs) == {"ORG"} with input as _input
	org.organ_departments == {"ORG": {"ORG", "PC", "DIV", "BR"}} with input as _input
}

# took_office_day is the latest appointment effective in Y (an appointment of Y-1 does not count).
test_took_office_day if {
	org.took_office_day == {"HEAD": dates.day("2025-05-10")} with input as _input
}

# deadline_day is the later of Y-<base> and new_days after taking office in Y.
test_deadline_day if {
	org.deadline_day("03-31", 30, {"MEM"}) == dates.day("2025-03-31") with input as _input
	org.deadline_day("03-31", 30, {"MEM", "HEAD"}) == dates.day("2025-06-09") with input as _input
	org.deadline_day("12-31", 30, {"HEAD"}) == dates.day("2025-12-31") with input as _input
	org.deadline_day("01-31", 0, {"HEAD"}) == dates.day("2025-05-10") with input as _input
}

test_ref if {
	org.ref("people", "P1") == {"collection": "people", "id": "P1"}
}

_labels := {
	"enums": {"rank": {"bureau": {"zh": "厅级", "en": "bureau level"}}, "letter_level": {"1": {"zh": "第一层面", "en": "level 1"}}},
	"collections": {"suggestions": {"zh": "工作建议书", "en": "Suggestion letters", "fields": {
		"issued_on": {"zh": "发出日期", "en": "Issued on"},
		"items": {"zh": "建议事项", "en": "Items", "fields": {"closed_on": {"zh": "销号日期", "en": "Closed on"}}},
	}}},
}

test_label_names_a_code_in_both_languages if {
	org.label("rank", "bureau") == ["厅级", "bureau level"] with data.labels as _labels
}

test_label_of_a_number_uses_its_text if {
	org.label("letter_level", 1) == ["第一层面", "level 1"] with data.labels as _labels
}

test_label_without_a_catalogue_entry_is_the_code if {
	org.label("rank", "staff") == ["staff", "staff"] with data.labels as _labels
	org.label("no_such_enum", 2) == ["2", "2"] with data.labels as _labels
}

test_label_reads_the_bundle_catalogue if {
	[zh, en] := org.label("list_level", "discipline_committee")
	zh == "机关纪委"
	en == "organ Discipline Committee"
}

test_field_label_names_a_field if {
	org.field_label("suggestions", "issued_on") == ["发出日期", "Issued on"] with data.labels as _labels
}

test_field_label_names_a_nested_field if {
	org.field_label("suggestions", "items.closed_on") == ["销号日期", "Closed on"] with data.labels as _labels
}

test_field_label_without_an_entry_is_the_name if {
	org.field_label("suggestions", "items.nothing") == ["items.nothing", "items.nothing"] with data.labels as _labels
	org.field_label("talks", "held_on") == ["held_on", "held_on"] with data.labels as _labels
}
