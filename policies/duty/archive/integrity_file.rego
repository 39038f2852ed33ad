# METADATA
# title: 廉洁从政信息一人一档
# description: |
#   每位在册的适用职级干部（默认厅级、处级）都须有一份本人的廉洁从政信息档案。没有档案的，原因为
#   缺失；最近一次更新（各份档案中最晚的更新日期）早于检查基准日超过“档案最长未更新天数”（默认
#   365 天）的，原因为未及时更新。主体：该人员。
# custom:
#   id: archive.integrity_file
#   severity: medium
#   accountable: discipline_committee
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#     - {code: stale, zh: 未及时更新, en: stale}
#   units:
#     warn_days: {zh: 天, en: days}
#     max_age_days: {zh: 天, en: days}
#   seed: 派驻纪检监察组结合实际设计《省人大机关领导干部廉洁从政信息表》，采取一人一档、纸质与电子同步管理、动态更新的模式，共采集到23名厅级干部、92名处级干部的廉洁从政信息
#   interpretation: |
#     When a person has several files, the newest updated_on decides. An updated_on after as_of
#     counts as up to date (the file existed and has been kept since). Evidence: the person's files
#     for stale; for missing, the person's appointments (which show the rank).
#   en:
#     title: One integrity file per cadre
#     description: |
#       Every roster person whose rank is in ranks (default bureau, division) needs an integrity
#       file: missing when there is none; stale when its newest updated_on is more than
#       max_age_days (default 365) before as_of. Subject: the person.
#     params:
#       warn_days: days of warning before a check fails
#       ranks: ranks that need an integrity file
#       max_age_days: longest time since the last update
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     ranks:
#       type: array
#       zh: 适用职级
#       description: ranks that need an integrity file
#       minItems: 1
#       uniqueItems: true
#       items:
#         type: string
#         enum:
#           - {value: bureau, zh: 厅级, en: bureau}
#           - {value: division, zh: 处级, en: division}
#           - {value: section, zh: 科级, en: section}
#           - {value: staff, zh: 科级以下, en: staff}
#     max_age_days: {type: integer, zh: 档案最长未更新天数, minimum: 1, maximum: 3650, description: longest allowed age of the newest update}
#     severity: {type: severity, zh: 严重程度}
package duty.archive.integrity_file

import data.lib.dates
import data.lib.org

_params := data.params.archive.integrity_file

# _files maps a person id to their integrity files; people without one are absent.
_files := {pid: fs |
	some pid in {f.person_id | some f in input.integrity_files}
	fs := [f |
		some f in input.integrity_files
		f.person_id == pid
	]
}

# _appointments maps a person id to the ids of their appointments; people without one are absent.
_appointments := {pid: ids |
	some pid in {a.person_id | some a in input.appointments}
	ids := {a.id |
		some a in input.appointments
		a.person_id == pid
	}
}

# _subjects maps the id of each roster person of a rank in params.ranks to the person.
_subjects := {pid: p |
	some pid, p in org.roster
	p.rank in _params.ranks
}

# _stale_before is the date (YYYY-MM-DD) before which a last update is more than max_age_days
# before as_of: dates compare as strings, so the age is worked out only for stale files.
_stale_before := dates.date(org.as_of_day - _params.max_age_days)

# _newest maps the id of each subject with a file to the newest updated_on of their files.
_newest := {pid: max({f.updated_on | some f in files}) |
	some pid, _ in _subjects
	files := _files[pid]
}

violation contains v if {
	some pid, p in _subjects
	not _files[pid]
	[rank_zh, rank_en] := org.label("rank", p.rank)
	v := {
		"reason": "missing",
		"subject": org.ref("people", pid),
		"details": {},
		"message": {
			"zh": sprintf("%s（%s，%s）截至 %s 没有廉洁从政信息档案", [p.name, pid, rank_zh, org.as_of]),
			"en": sprintf("%s (%s, %s) has no integrity file as of %s", [p.name, pid, rank_en, org.as_of]),
		},
		"evidence": [org.ref("appointments", id) | some id in object.get(_appointments, pid, set())],
	}
}

violation contains v if {
	some pid, newest in _newest
	newest < _stale_before
	v := _stale(pid, _subjects[pid], _files[pid], newest, org.as_of, _params.max_age_days)
}

# _warn_until is the latest newest update (YYYY-MM-DD) whose file turns stale within the warning
# window: files updated later are not worked out in days.
_warn_until := dates.date(((org.as_of_day + _params.warn_days) - _params.max_age_days) - 1)

# Warnings: a file not stale on as_of becomes stale on the first day more than max_age_days after
# its newest updated_on.
warning contains w if {
	some pid, newest in _newest
	newest >= _stale_before
	newest <= _warn_until
	f := (dates.day(newest) + _params.max_age_days) + 1
	org.in_window(f, _params.warn_days)
	w := org.warning(_stale(pid, _subjects[pid], _files[pid], newest, dates.date(f), _params.max_age_days), f)
}

# _stale returns the stale violation of person pid (p), whose files are files and newest update
# newest, as checked on date on: more than max_age days old.
_stale(pid, p, files, newest, on, max_age) := v if {
	age := dates.between(newest, on)
	age > max_age
	[rank_zh, rank_en] := org.label("rank", p.rank)
	v := {
		"reason": "stale",
		"subject": org.ref("people", pid),
		"details": {},
		"message": {
			"zh": sprintf("%s（%s，%s）的廉洁从政信息档案最近一次更新在 %s，至 %s 已 %d 天未更新，超过 %d 天", [p.name, pid, rank_zh, newest, on, age, max_age]),
			"en": sprintf("The integrity file of %s (%s, %s) was last updated on %s, %d days before %s, more than %d", [p.name, pid, rank_en, newest, age, on, max_age]),
		},
		"evidence": [org.ref("integrity_files", id) | some id in {f.id | some f in files}],
	}
}
