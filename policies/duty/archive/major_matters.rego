# METADATA
# title: 个人重大事项报告
# description: |
#   廉洁从政信息档案中的每一项个人重大事项（发生日期不晚于检查基准日）：已报告、但报告日期晚于
#   发生日期超过“须在事项发生后多少天内报告”（默认 30 天）的，原因为逾期；尚未报告、且检查
#   基准日晚于发生日期超过同一天数的，原因为未报告（第 30 天当天仍在期限内）。主体：该档案，并
#   注明所涉事项。
# custom:
#   id: archive.major_matters
#   severity: high
#   accountable: discipline_committee
#   reasons:
#     - {code: late, zh: 逾期, en: late}
#     - {code: unreported, zh: 未报告, en: unreported}
#   units:
#     warn_days: {zh: 天, en: days}
#     report_within_days: {zh: 天, en: days}
#   seed: 共采集到23名厅级干部、92名处级干部的廉洁从政信息，28人次上报个人重大事项变化情况。
#   interpretation: |
#     "Within 30 days" allows exactly 30: reported 30 days after event_on is on time, 31 is late;
#     unreported is raised once as_of is 31 or more days after event_on. A reported_on is taken as
#     given even when it is after as_of (it is not among the dates the engine filters by), so such a
#     matter is judged late or on time, never unreported.
#     Warnings: only a matter without reported_on warns (unreported, fails_on event_on + 31 by
#     default); a matter reported after as_of is judged by its reported_on, as above, never warned of.
#   en:
#     title: Personal major matters reported in time
#     description: |
#       Each major matter of an integrity file with event_on on or before as_of: reported more than
#       report_within_days (default 30) days after event_on is late; not reported and as_of more
#       than 30 days after event_on is unreported. Subject: the integrity file, with matter.
#     params:
#       warn_days: days of warning before a check fails
#       report_within_days: report within, days after the event
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     report_within_days: {type: integer, zh: 须在事项发生后多少天内报告, minimum: 0, maximum: 3650, description: days after event_on a matter must be reported within}
#     severity: {type: severity, zh: 严重程度}
package duty.archive.major_matters

import data.lib.dates
import data.lib.org

_params := data.params.archive.major_matters

violation contains v if {
	some f in input.integrity_files
	some m in f.major_matters
	m.event_on <= org.as_of
	days := dates.between(m.event_on, m.reported_on)
	days > _params.report_within_days
	name := _name(f.person_id)
	v := {
		"reason": "late",
		"subject": org.ref("integrity_files", f.id),
		"details": {"matter": m.id},
		"message": {
			"zh": sprintf("%s 的个人重大事项 %s（%s）发生于 %s，迟至 %s 才报告，相隔 %d 天，超过 %d 天", [name, m.id, m.kind, m.event_on, m.reported_on, days, _params.report_within_days]),
			"en": sprintf("Personal major matter %s (%s) of %s happened on %s and was reported on %s, %d days later, more than %d", [m.id, m.kind, name, m.event_on, m.reported_on, days, _params.report_within_days]),
		},
		"evidence": [org.ref("people", f.person_id)],
	}
}

violation contains v if {
	some f in input.integrity_files
	some m in f.major_matters
	m.event_on <= org.as_of
	not m.reported_on
	v := _unreported(f, m, org.as_of)
}

# Warnings: a matter not reported fails on the first day more than report_within_days after its
# event_on.
warning contains w if {
	some f in input.integrity_files
	some m in f.major_matters
	m.event_on <= org.as_of
	not m.reported_on
	m.event_on >= _warn_from
	d := (dates.day(m.event_on) + _params.report_within_days) + 1
	org.in_window(d, _params.warn_days)
	w := org.warning(_unreported(f, m, dates.date(d)), d)
}

# _warn_from is the earliest event_on (YYYY-MM-DD) of an unreported matter that is not yet late on
# as_of: older matters are not worked out in days for warnings.
_warn_from := dates.date(org.as_of_day - _params.report_within_days)

# _unreported returns the unreported violation of matter m of integrity file f as checked on date on.
_unreported(f, m, on) := v if {
	days := dates.between(m.event_on, on)
	days > _params.report_within_days
	name := _name(f.person_id)
	due := dates.date(dates.day(m.event_on) + _params.report_within_days)
	v := {
		"reason": "unreported",
		"subject": org.ref("integrity_files", f.id),
		"details": {"matter": m.id},
		"message": {
			"zh": sprintf("%s 的个人重大事项 %s（%s）发生于 %s，应于 %s 前报告，截至 %s（已 %d 天）仍未报告", [name, m.id, m.kind, m.event_on, due, on, days]),
			"en": sprintf("Personal major matter %s (%s) of %s happened on %s, was due for report by %s and is still unreported as of %s, %d days later", [m.id, m.kind, name, m.event_on, due, on, days]),
		},
		"evidence": [org.ref("people", f.person_id)],
	}
}

_name(pid) := object.get(org.people, [pid, "name"], pid)
