# METADATA
# title: 党支部纪检委员
# description: |
#   每个党支部都须指定一名在检查基准日仍在册的纪检委员（在职，且没有不晚于检查基准日的离职日期；
#   于检查基准日当天离职的不算在册）。未指定，或所指定的人员不在本机关名册上的，原因均为缺失。
#   主体：该支部。
# custom:
#   id: branch.discipline_member
#   severity: low
#   accountable: party_committee
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#   units:
#     warn_days: {zh: 天, en: days}
#   seed: 选举成立新一届机关纪委，设立专职纪委书记和工作人员，在新一届党支部换届完成后选举产生22名纪检委员
#   interpretation: |
#     The member need not belong to the branch's own department, nor carry the
#     discipline_member role: the seed only asks that each branch has one. An empty
#     discipline_member_id, or one naming a person outside the organ's input, counts as missing.
#   en:
#     title: Branch discipline member
#     description: |
#       Every Party branch names a discipline_member_id who is on the roster at as_of (active, and
#       no left_on on or before as_of). Reason: missing when absent or off the roster. Subject:
#       the branch.
#     params:
#       warn_days: days of warning before a check fails
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     severity: {type: severity, zh: 严重程度}
package duty.branch.discipline_member

import data.lib.dates
import data.lib.org

_params := data.params.branch.discipline_member

violation contains v if {
	some b in input.departments
	b.kind == "branch"
	not _on_roster(object.get(b, "discipline_member_id", ""))
	v := _violation(b, org.as_of)
}

# Warnings: a branch whose discipline member is on the roster on as_of but leaves (left_on) within
# the window fails on left_on, the first day the member is off the roster.
warning contains w if {
	some b in input.departments
	b.kind == "branch"
	p := org.roster[b.discipline_member_id]
	f := dates.day(p.left_on)
	org.in_window(f, _params.warn_days)
	w := org.warning(_violation(b, p.left_on), f)
}

# _violation returns the violation of branch b as checked on date on (YYYY-MM-DD).
_violation(b, on) := {
	"reason": "missing",
	"subject": org.ref("departments", b.id),
	"details": {},
	"message": {
		"zh": sprintf("党支部 %s（%s）截至 %s 没有在册的纪检委员：%s", [b.name, b.id, on, why_zh]),
		"en": sprintf("Party branch %s (%s) has no discipline member on the roster as of %s: %s", [b.name, b.id, on, why_en]),
	},
	"evidence": _evidence(b),
} if {
	[why_zh, why_en] := _why(b, on)
}

_why(b, on) := ["未指定纪检委员", "none is named"] if {
	object.get(b, "discipline_member_id", "") == ""
} else := [
	sprintf("所指定的 %s（%s）已于 %s 离开", [p.name, p.id, p.left_on]),
	sprintf("the named %s (%s) left on %s", [p.name, p.id, p.left_on]),
] if {
	p := object.get(org.people, b.discipline_member_id, null)
	p != null
	p.left_on <= on
} else := [
	sprintf("所指定的 %s（%s）已标记为不在职", [p.name, p.id]),
	sprintf("the named %s (%s) is not active", [p.name, p.id]),
] if {
	p := object.get(org.people, b.discipline_member_id, null)
	p != null
} else := [
	sprintf("所指定的 %s 不是本机关人员", [b.discipline_member_id]),
	sprintf("the named %s is not a person of this organ", [b.discipline_member_id]),
]

_evidence(b) := [org.ref("people", b.discipline_member_id)] if {
	object.get(org.people, b.discipline_member_id, null) != null
} else := []

# _on_roster reads the whole roster object (built once) instead of re-deriving one key.
_on_roster(pid) if object.get(org.roster, pid, null) != null
