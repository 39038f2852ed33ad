# METADATA
# title: 年度党风廉政建设专题工作会议
# description: |
#   检查基准日晚于本年的年度期限（默认 3 月 31 日，截止日当天不检查）后，每个机关须在本年
#   1 月 1 日至年度期限之间召开过一次年度党风廉政建设专题工作会议。机关内任一部门（机关本身、
#   机关党委、办公厅等）名义召开的该类会议均计入。主体：该机关。原因：缺失。
# custom:
#   id: meeting.annual_conduct
#   severity: medium
#   accountable: party_group
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#   units:
#     warn_days: {zh: 天, en: days}
#   seed: 以责任清单为总纲，首次召开年度党风廉政建设专题工作会议，首次分3个层面签订76对廉政责任书，制定廉政谈话工作制度，确保责任体系点面结合。
#   interpretation: |
#     The meeting belongs to the organ whatever department of the organ's tree holds it
#     (department_id is the organ, its party committee, its office, ...): the engine's input is
#     one organ, and the seed names the meeting for the whole organ. A meeting held after the
#     deadline does not count; it is listed as evidence.
#   en:
#     title: Annual meeting on Party conduct
#     description: |
#       Once as_of is past Y-<deadline> (default 03-31; the deadline day itself is not checked),
#       each organ needs a meeting of kind annual_conduct held in [Y-01-01, Y-<deadline>] by any
#       department of the organ. Subject: the organ. Reason: missing.
#     params:
#       warn_days: days of warning before a check fails
#       deadline: yearly deadline (MM-DD)
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     deadline: {type: string, zh: 年度期限（月-日）, format: month-day, description: last month-day (MM-DD) of year Y for the meeting}
#     severity: {type: severity, zh: 严重程度}
package duty.meeting.annual_conduct

import data.lib.dates
import data.lib.org

_params := data.params.meeting.annual_conduct

_deadline_day := dates.in_year(org.year, _params.deadline)

# _year_meetings holds the annual_conduct meetings held in year Y (dated Y-MM-DD, as
# lib.org's appointments of the year).
_year_meetings := [m |
	some m in input.meetings
	m.kind == "annual_conduct"
	startswith(m.held_on, org.year_prefix)
]

# _meetings maps a department id to its annual_conduct meetings held in year Y.
_meetings := {did: ms |
	some did in {m.department_id | some m in _year_meetings}
	ms := [m |
		some m in _year_meetings
		m.department_id == did
	]
}

violation contains v if {
	org.as_of_day > _deadline_day
	some oid, organ in org.organs
	held := _held(oid)
	not _in_time(held)
	v := _violation(oid, organ, held, org.as_of)
}

# Warnings: before the deadline, an organ with no annual_conduct meeting held yet (on or before
# as_of) fails the day after the deadline, within year Y.
warning contains w if {
	f := _deadline_day + 1
	org.in_year_window(f, _params.warn_days)
	some oid, organ in org.organs
	held := _held(oid)
	not _in_time(held)
	w := org.warning(_violation(oid, organ, held, dates.date(f)), f)
}

# _held returns the annual_conduct meetings of year Y held in any department of organ oid.
_held(oid) := [m |
	some did in org.organ_departments[oid]
	some m in object.get(_meetings, did, [])
]

# _violation returns the missing violation of organ oid, with its meetings held in year Y, as
# checked on date on.
_violation(oid, organ, held, on) := {
	"reason": "missing",
	"subject": org.ref("departments", oid),
	"details": {},
	"message": {
		"zh": sprintf("%s（%s）未在 %s 至 %s 期间召开年度党风廉政建设专题工作会议（检查日 %s）%s", [organ.name, oid, start, deadline, on, _late_zh(held)]),
		"en": sprintf("%s (%s) held no annual meeting on Party conduct between %s and %s (checked as of %s)%s", [organ.name, oid, start, deadline, on, _late_en(held)]),
	},
	"evidence": [org.ref("meetings", id) | some id in {m.id | some m in held}],
} if {
	deadline := dates.date(_deadline_day)
	start := dates.date(org.year_start_day)
}

_in_time(held) if {
	some m in held
	dates.day(m.held_on) <= _deadline_day
}

_late_zh(held) := sprintf("，该类会议迟至 %s 才召开", [min({m.held_on | some m in held})]) if count(held) > 0

else := ""

_late_en(held) := sprintf("; the first such meeting was held late, on %s", [min({m.held_on | some m in held})]) if count(held) > 0

else := ""
