# METADATA
# title: 两个责任清单（六个层级及专工委）
# description: |
#   检查基准日晚于本年的年度期限（默认 3 月 31 日，截止日当天不检查）后，本年须有：机关党组、
#   机关党委、机关纪委三个层级的责任清单各一份（记在机关内任一部门名下均可；主体：机关）；每位
#   在册党组书记持有机关党组书记层级的清单；其余在册党组成员或厅级干部持有党组成员、党委书记和机关
#   厅级干部层级的清单；每位在册处室（单位）主要负责人持有本层级的清单（主体：本人；一人可能欠两份）；
#   每个专工委名下有一份任意层级的清单（主体：该专工委，层级记为专工委）。原因：缺失，并注明
#   层级。问责层级为该清单的层级，专工委的清单为支部书记及处室（单位）主要负责人。
# custom:
#   id: list.six_levels
#   severity: medium
#   accountable: party_group
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#   units:
#     warn_days: {zh: 天, en: days}
#   seed: 以责任清单为纵向责任体系，压实“机关党组”“机关党组书记”“机关党组成员、党委书记和机关厅级干部”“机关党委”“机关纪委”，以及“机关党支部书记及处室（单位）主要负责人”六个层级责任内容。推动八个专工委明确党风廉政建设职责，构建横向责任体系
#   interpretation: |
#     An organ-level list (party_group, party_committee, discipline_committee) counts whatever
#     department of the organ's tree it names. A person's list counts by holder_id alone, whatever
#     its department_id. A Party Group secretary owes only the party_group_secretary list, not a
#     leaders list; a secretary or leader who is also a department head owes the department_heads
#     list too. A special committee's list may be of any level. The accountable level of each
#     violation is the list's own level; for a special committee it is department_heads (the
#     committee's head). Evidence: the subject's lists of the same level from other years.
#   en:
#     title: Responsibility lists at six levels and for special committees
#     description: |
#       Once as_of is past Y-<deadline> (default 03-31), year Y needs in each organ a list at each
#       of the levels party_group, party_committee and discipline_committee (subject: the organ);
#       a party_group_secretary list held by each roster secretary; a leaders list held by every
#       other roster Party Group member or bureau-rank cadre; a department_heads list held by each
#       roster department head (subject: the person); and a list of any level for each special
#       committee (subject: the committee, level special_committee). Reason: missing, with level.
#     params:
#       warn_days: days of warning before a check fails
#       deadline: yearly deadline (MM-DD)
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     deadline: {type: string, zh: 年度期限（月-日）, format: month-day, description: last month-day (MM-DD) of year Y for the lists}
#     severity: {type: severity, zh: 严重程度}
package duty.list.six_levels

import data.lib.dates
import data.lib.org

_params := data.params.list.six_levels

_deadline_day := dates.in_year(org.year, _params.deadline)

_checked if org.as_of_day > _deadline_day

# _warn_day is the day after the deadline when it lies in the warning window and in year Y: the
# lists missing on as_of then fail on it.
_warn_day := f if {
	f := _deadline_day + 1
	org.in_year_window(f, _params.warn_days)
}

# _looked is true when the missing lists are needed: for violations or for warnings.
_looked if _checked

_looked if _warn_day

violation contains v if {
	_checked
	some m in _missing
	v := _violation(m, org.as_of, org.year, dates.date(_deadline_day))
}

warning contains w if {
	some m in _missing
	w := org.warning(_violation(m, dates.date(_warn_day), org.year, dates.date(_deadline_day)), _warn_day)
}

_organ_levels := ["party_group", "party_committee", "discipline_committee"]

# _by_department maps a department id to the lists naming it, of any year.
_by_department := {did: ls |
	some did in {l.department_id | some l in input.responsibility_lists}
	ls := [l |
		some l in input.responsibility_lists
		l.department_id == did
	]
}

# _by_holder maps a person id to the lists they hold, of any year.
_by_holder := {pid: ls |
	some pid in {l.holder_id | some l in input.responsibility_lists}
	ls := [l |
		some l in input.responsibility_lists
		l.holder_id == pid
	]
}

# _missing holds each list missing on as_of, as [subject, who (zh), who (en), level, accountable,
# evidence lists]: the violations once the deadline has passed, the warnings before it.

# Organ-level lists: subject the organ.
_missing contains m if {
	_looked
	some oid, organ in org.organs
	lists := [l |
		some did in org.organ_departments[oid]
		some l in object.get(_by_department, did, [])
	]
	some level in _organ_levels
	not _has(lists, level)
	m := [org.ref("departments", oid), sprintf("%s（%s）", [organ.name, oid]), sprintf("%s (%s)", [organ.name, oid]), level, level, _of_level(lists, level)]
}

# Personal lists: subject the person.
_missing contains m if {
	_looked
	some level, pids in _owers
	some pid in pids
	not [pid, level] in _held_by_holder
	p := org.roster[pid]
	lists := object.get(_by_holder, pid, [])
	m := [org.ref("people", pid), sprintf("%s（%s）", [p.name, pid]), sprintf("%s (%s)", [p.name, pid]), level, level, _of_level(lists, level)]
}

# Special committees: a list of any level naming the committee.
_missing contains m if {
	_looked
	some c in input.departments
	c.kind == "special_committee"
	lists := object.get(_by_department, c.id, [])
	not _has_any(lists)
	m := [org.ref("departments", c.id), sprintf("%s（%s）", [c.name, c.id]), sprintf("%s (%s)", [c.name, c.id]), "special_committee", "department_heads", lists]
}

# _owers maps each person level to the ids of the roster people who owe a list of it: Party
# Group secretaries; leaders who are not secretaries; department heads.
_owers := {
	"party_group_secretary": {pid | some pid in org.secretary_ids; org.roster[pid]},
	"leaders": {pid | some pid in org.leader_ids; not pid in org.secretary_ids; org.roster[pid]},
	"department_heads": {pid | some pid in org.head_ids; org.roster[pid]},
}

# _held_by_holder holds [holder_id, level] for each list of year Y.
_held_by_holder := {[l.holder_id, l.level] |
	some l in input.responsibility_lists
	l.year == org.year
}

_of_level(lists, level) := [l |
	some l in lists
	l.level == level
]

_has(lists, level) if {
	some l in lists
	l.year == org.year
	l.level == level
}

_has_any(lists) if {
	some l in lists
	l.year == org.year
}

# _violation builds a missing-list violation of year, due by date due, as checked on date on;
# evidence is the given lists (the subject's lists of the same level, or any level for a special
# committee) of other years than Y.
_violation([subject, who_zh, who_en, level, accountable, lists], on, year, due) := v if {
	[level_zh, level_en] := org.label("list_level", level)
	v := {
		"reason": "missing",
		"subject": subject,
		"details": {"level": level},
		"accountable": accountable,
		"message": {
			"zh": sprintf("%s缺少 %d 年「%s」层级责任清单，应于 %s 前制定（检查日 %s）", [who_zh, year, level_zh, due, on]),
			"en": sprintf("%s has no %d responsibility list at the level of %s, due by %s (as of %s)", [who_en, year, level_en, due, on]),
		},
		"evidence": [org.ref("responsibility_lists", id) | some id in {l.id |
			some l in lists
			l.year != year
		}],
	}
}
