# METADATA
# title: 机关、名册与任职 / Organ, roster and appointments
# description: |
#   Indexes over one organ's records, built once per evaluation and shared by every duty:
#   the roster at as_of, people and departments by id, and the day each person took office
#   in the scan year. The engine evaluates one organ at a time, so every count here is
#   within one organ (DOMAIN.md: "Every roster, pair and meeting count is within one organ").
package lib.org

# Indexing rule for every policy: an index is a complete rule built once, such as `idx := {k: g |
# some k in {x.f | some x in c}; g := [x | some x in c; x.f == k]}` with c filtered first (so every
# key hits OPA's comprehension index), and `idx[k]` is then O(1). Never a partial rule
# `idx[k] := ... if`: OPA re-runs its body for each key looked up, which is quadratic.

import data.lib.dates

# as_of is the scan date (YYYY-MM-DD); as_of_day its day number.
as_of := input.as_of

as_of_day := dates.day(input.as_of)

# year is the calendar year Y of as_of.
year := dates.year(input.as_of)

# year_prefix is "Y-", the start of every YYYY-MM-DD date in year Y.
year_prefix := substring(input.as_of, 0, 5)

# year_start is Y-01-01 (YYYY-MM-DD) and year_start_day its day number.
year_start := concat("", [year_prefix, "01-01"])

year_start_day := dates.day(year_start)

# departments maps department id to department.
departments := {d.id: d | some d in input.departments}

# people maps person id to person, on the roster or not.
people := {p.id: p | some p in input.people}

# roster maps person id to person for everyone on the roster at as_of: active, and no
# left_on on or before as_of (a person who left on as_of is off the roster).
roster := {p.id: p |
	some p in input.people
	p.active == true
	not _left(p)
}

_left(p) if p.left_on <= input.as_of

# organs maps id to department for the organ roots in the input.
organs := {d.id: d |
	some d in input.departments
	d.kind == "organ"
}

# secretary_ids, head_ids and leader_ids hold the ids of the people, on the roster or not, with
# role party_group_secretary, with role department_head, and who are leaders (Party Group
# members and bureau-rank cadres). In a loop
# over people, test `p.id in org.leader_ids` rather than call a function per person: a set
# lookup costs a fraction of a call.
secretary_ids := {pr[1] |
	some pr in _person_roles
	pr[0] == "party_group_secretary"
}

head_ids := {pr[1] |
	some pr in _person_roles
	pr[0] == "department_head"
}

leader_ids := {pr[1] |
	some pr in _person_roles
	pr[0] == "party_group_member"
} | {p.id |
	some p in input.people
	p.rank == "bureau"
}

# _person_roles holds [role, person id] for every role of every person: most people hold none,
# so the role sets above look at a few pairs rather than at everyone.
_person_roles := [[r, p.id] |
	some p in input.people
	some r in p.roles
]

# roster_in_department maps a department id to the roster people whose department it is.
roster_in_department := {did: ps |
	some did in {p.department_id | some p in roster}
	ps := [p |
		some p in roster
		p.department_id == did
	]
}

# _year_appointments holds the appointments effective in year Y (the engine has already dropped
# appointments effective after as_of).
_year_appointments := [a |
	some a in input.appointments
	startswith(a.effective_on, year_prefix)
]

# _year_appointment_days maps a person id to the day numbers of their appointments effective in
# year Y; people without one are absent.
_year_appointment_days := {pid: ds |
	some pid in {a.person_id | some a in _year_appointments}
	ds := {dates.day(a.effective_on) |
		some a in _year_appointments
		a.person_id == pid
	}
}

# took_office_day maps a person id to the day of their latest appointment effective in Y and on
# or before as_of; people without one are absent.
took_office_day := {pid: max(ds) | some pid, ds in _year_appointment_days}

# deadline_day returns the later of Y-<base_md> and, for each person in pids who took office in Y,
# new_days after that day (DOMAIN.md duties 2 and 3).
deadline_day(base_md, new_days, pids) := max(days) if {
	grace := {g |
		some pid in pids
		g := took_office_day[pid] + new_days
	}
	days := grace | {dates.in_year(year, base_md)}
}

# ref returns the {collection, id} reference the reports use for subjects and evidence.
ref(collection, id) := {"collection": collection, "id": id}

# _child_ids maps a department id that is some department's parent to its direct children's ids.
_child_ids := {pid: ids |
	some pid in {d.parent_id | some d in input.departments}
	ids := {d.id |
		some d in input.departments
		d.parent_id == pid
	}
}

# _children maps every department id to its direct children's ids (graph.reachable stops at a
# node that is not a key, so leaves map to the empty set).
_children := {d.id: object.get(_child_ids, d.id, set()) | some d in input.departments}

# organ_departments maps an organ id to the ids of every department in its tree, the organ
# itself included, so a duty can credit the organ with a record of any of its departments.
organ_departments := {oid: ids |
	some oid, _ in organs
	ids := {oid} | graph.reachable(_children, {oid})
}

# year_end_day is the day number of Y-12-31: an annual duty (letters, record books, meetings,
# lists) warns only of checks that fail within year Y, since on Y+1-01-01 a new year's checks begin.
year_end_day := dates.in_year(year, "12-31")

# in_window is true when day number f lies in the warning window of a duty whose warn_days is
# n: as_of + 1 <= f <= as_of + n (DOMAIN.md "Warnings before a duty is breached"). n = 0 makes
# the window empty, which switches the duty's warnings off.
in_window(f, n) if {
	f > as_of_day
	f <= as_of_day + n
}

# in_year_window is in_window for an annual duty: f must also lie within year Y.
in_year_window(f, n) if {
	in_window(f, n)
	f <= year_end_day
}

# warning returns violation v as a warning that the check fails on day number f: v with
# fails_on, the violation the check would become.
warning(v, f) := object.union(v, {"fails_on": dates.date(f)})

# label returns [zh, en], the Chinese and English labels of value v of enumeration kind ("rank",
# "list_level", "department_kind", …) in the bundle's label catalogue (labels/data.json, read as
# data.labels), so that a message names a rank, level or kind in words, never by its code. A
# value the catalogue does not label is shown as it is.
label(kind, v) := [l.zh, l.en] if {
	l := data.labels.enums[kind][sprintf("%v", [v])]
} else := [s, s] if {
	s := sprintf("%v", [v])
}

# field_label returns [zh, en], the labels of field of collection in the catalogue; a nested
# field is named with a dot ("items.closed_on"). A field the catalogue does not label is shown as
# its name.
field_label(collection, field) := [l.zh, l.en] if {
	[top, sub] := split(field, ".")
	l := data.labels.collections[collection].fields[top].fields[sub]
} else := [l.zh, l.en] if {
	l := data.labels.collections[collection].fields[field]
} else := [field, field]
