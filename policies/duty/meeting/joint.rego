# METADATA
# title: 纪委与纪检委员工作联席会议
# description: |
#   每个机关纪委须定期以本纪委名义召开纪委与纪检委员工作联席会议。将本年 1 月 1 日、本年 1 月
#   1 日至检查基准日之间各次会议的日期和检查基准日依次排列，相邻两个日期相隔超过“最长间隔天数”
#   （默认 92 天）即为违规；每个纪委至多报一条，说明中给出最长的间隔。主体：该纪委。原因：间隔
#   过长。
# custom:
#   id: meeting.joint
#   severity: low
#   accountable: discipline_committee
#   reasons:
#     - {code: gap, zh: 间隔过长, en: gap}
#   units:
#     warn_days: {zh: 天, en: days}
#     max_gap_days: {zh: 天, en: days}
#   seed: 通过定期召开与机关纪委、纪检委员的工作联席会议，建立健全沟通协调机制。
#   interpretation: |
#     Only meetings whose department_id is the committee itself count. One violation per
#     committee; its message names the longest gap (the earliest one when several are equally long).
#   en:
#     title: Joint meetings of the discipline committee
#     description: |
#       Each discipline committee holds joint meetings (department_id = the committee). Among
#       Y-01-01, the days of its joint meetings in [Y-01-01, as_of], and as_of, no two neighbours
#       may lie more than max_gap_days (default 92) apart. Subject: the committee. Reason: gap.
#     params:
#       warn_days: days of warning before a check fails
#       max_gap_days: longest gap between meetings
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     max_gap_days: {type: integer, zh: 最长间隔天数, minimum: 1, maximum: 366, description: longest allowed gap between neighbouring days}
#     severity: {type: severity, zh: 严重程度}
package duty.meeting.joint

import data.lib.dates
import data.lib.org

_params := data.params.meeting.joint

# _joint_meetings holds the joint meetings held in [Y-01-01, as_of]: YYYY-MM-DD strings sort as
# dates, so they are compared as strings, and only the meetings kept turn into day numbers.
_joint_meetings := [m |
	some m in input.meetings
	m.kind == "joint"
	m.held_on >= org.year_start
	m.held_on <= org.as_of
]

# _joint maps a department id to its joint meetings held in [Y-01-01, as_of].
_joint := {did: ms |
	some did in {m.department_id | some m in _joint_meetings}
	ms := [m |
		some m in _joint_meetings
		m.department_id == did
	]
}

violation contains v if {
	some c in input.departments
	c.kind == "discipline_committee"
	held := object.get(_joint, c.id, [])
	v := _gap(c, held, org.as_of_day, _params.max_gap_days)
}

# Warnings: a committee with no gap on as_of fails on the first day more than max_gap_days after
# the latest of Y-01-01 and its joint meetings up to as_of, within year Y.
warning contains w if {
	some c in input.departments
	c.kind == "discipline_committee"
	held := object.get(_joint, c.id, [])
	last := max({org.year_start_day} | {dates.day(m.held_on) | some m in held})
	f := (last + _params.max_gap_days) + 1
	org.in_year_window(f, _params.warn_days)
	not _gap(c, held, org.as_of_day, _params.max_gap_days)
	w := org.warning(_gap(c, held, f, _params.max_gap_days), f)
}

# _gap returns the gap violation of committee c, with its joint meetings held from Y-01-01 to
# as_of, as checked on day number on: more than max_gap days without one.
_gap(c, held, on, max_gap) := v if {
	points := sort({org.year_start_day, on} | {dates.day(m.held_on) | some m in held})
	gaps := [[points[i - 1], p] | some i, p in points; i > 0]
	longest := max([g |
		some [a, b] in gaps
		g := b - a
	])
	longest > max_gap
	from := min({a | some [a, b] in gaps; b - a == longest})
	to := from + longest
	v := {
		"reason": "gap",
		"subject": org.ref("departments", c.id),
		"details": {},
		"message": {
			"zh": sprintf("%s（%s）在 %s 至 %s 之间 %d 天未召开联席会议，超过 %d 天（检查日 %s，本年共 %d 次）", [c.name, c.id, dates.date(from), dates.date(to), longest, max_gap, dates.date(on), count(held)]),
			"en": sprintf("%s (%s) held no joint meeting for %d days between %s and %s, more than %d (as of %s; %d this year)", [c.name, c.id, longest, dates.date(from), dates.date(to), max_gap, dates.date(on), count(held)]),
		},
		"evidence": [org.ref("meetings", id) | some id in {m.id | some m in held}],
	}
}
