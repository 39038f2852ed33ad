# METADATA
# title: 工作建议书销号管理
# description: |
#   工作建议书中的每一项问题实行销号管理：截至检查基准日仍未销号、且已过整改期限（期限早于检查
#   基准日；期限当天不算逾期）的，原因为逾期未销号；已标记销号、却没有销号日期或缺少佐证材料
#   （佐证为空也算缺少）的，原因为销号无佐证。主体：该建议书，并注明所涉问题。
# custom:
#   id: suggestion.closeout
#   severity: medium
#   accountable: party_group
#   reasons:
#     - {code: overdue, zh: 逾期未销号, en: overdue}
#     - {code: closed_without_evidence, zh: 销号无佐证, en: closed without evidence}
#   units:
#     warn_days: {zh: 天, en: days}
#   seed: 对建议书中提出的问题实行销号管理，完成一项、销号一项，让落实主体责任的整改情况全程留痕可追溯。
#   interpretation: |
#     An item is overdue when its status is open and as_of is after due_on (due on as_of is not
#     overdue). The status field decides: an open item carrying a closed_on is still open, and a
#     closed item is judged by its closed_on and evidence whatever the dates (closed_on is not among
#     the dates the engine filters by as_of). Only an absent or empty ("") evidence is missing.
#   en:
#     title: Work suggestion close-out
#     description: |
#       Every item of a work suggestion letter is closed out one by one. An item still open on
#       as_of after its due_on is overdue; an item marked closed without closed_on, or with
#       evidence absent or empty, is closed_without_evidence. Subject: the suggestion, with item.
#     params:
#       warn_days: days of warning before a check fails
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     severity: {type: severity, zh: 严重程度}
package duty.suggestion.closeout

import data.lib.dates
import data.lib.org

_params := data.params.suggestion.closeout

violation contains v if {
	some s in input.suggestions
	some item in s.items
	item.status == "open"
	item.due_on < org.as_of
	v := _overdue(s, item, org.as_of)
}

violation contains v if {
	some s in input.suggestions
	some item in s.items
	item.status == "closed"
	_incomplete(item)
	dept := _department_name(s.department_id)
	[lack_zh, lack_en] := _lack(item)
	[closed_zh, closed_en] := _closed_text(item)
	v := {
		"reason": "closed_without_evidence",
		"subject": org.ref("suggestions", s.id),
		"details": {"item": item.id},
		"message": {
			"zh": sprintf("%s 于 %s 收到的工作建议书 %s 第 %s 项「%s」（销号期限 %s）已标记销号%s，但%s", [dept, s.issued_on, s.id, item.id, item.text, item.due_on, closed_zh, lack_zh]),
			"en": sprintf("Work suggestion %s to %s (issued %s), item %s %q (due %s) is marked closed%s but %s", [s.id, dept, s.issued_on, item.id, item.text, item.due_on, closed_en, lack_en]),
		},
		"evidence": [org.ref("departments", s.department_id)],
	}
}

# Warnings: an open item due on or after as_of fails the day after its due_on.
warning contains w if {
	some s in input.suggestions
	some item in s.items
	item.status == "open"
	item.due_on >= org.as_of
	f := dates.day(item.due_on) + 1
	org.in_window(f, _params.warn_days)
	w := org.warning(_overdue(s, item, dates.date(f)), f)
}

# _overdue returns the overdue violation of open item of suggestion s as checked on date on.
_overdue(s, item, on) := {
	"reason": "overdue",
	"subject": org.ref("suggestions", s.id),
	"details": {"item": item.id},
	"message": {
		"zh": sprintf("%s 于 %s 收到的工作建议书 %s 第 %s 项「%s」销号期限为 %s，截至 %s 仍未销号，已逾期 %d 天", [dept, s.issued_on, s.id, item.id, item.text, item.due_on, on, late]),
		"en": sprintf("Work suggestion %s to %s (issued %s), item %s %q was due on %s and is still open as of %s, %d day(s) overdue", [s.id, dept, s.issued_on, item.id, item.text, item.due_on, on, late]),
	},
	"evidence": [org.ref("departments", s.department_id)],
} if {
	dept := _department_name(s.department_id)
	late := dates.between(item.due_on, on)
}

_department_name(did) := object.get(org.departments, [did, "name"], did)

_incomplete(item) if _no_closed_on(item)

_incomplete(item) if _no_evidence(item)

_no_closed_on(item) if not item.closed_on

_no_evidence(item) if not item.evidence

_no_evidence(item) if item.evidence == ""

_lack(item) := ["未填写销号日期，也未附整改佐证", "has neither a closing date nor evidence"] if {
	_no_closed_on(item)
	_no_evidence(item)
} else := ["未填写销号日期", "has no closing date"] if {
	_no_closed_on(item)
} else := ["未附整改佐证", "has no evidence"]

_closed_text(item) := [sprintf("（销号日期 %s）", [item.closed_on]), sprintf(" on %s", [item.closed_on])] if {
	item.closed_on
} else := ["", ""]
