# METADATA
# title: 三个层面廉政责任书
# description: |
#   检查基准日所在年度（下称本年）须按检查基准日的在册名册，分三个层面签订廉政责任书：
#   层面一：每位在册机关党组书记与其他每位在册党组成员或厅级干部；
#   层面二：每位有分管部门的在册人员与其分管的每个部门的在册处室（单位）主要负责人（本人除外）；
#   层面三：每位在册处室（单位）主要负责人与本部门其他每位在册处级干部。
#   同一层面、同一签发人、同一签订人只算一对。每一对须有一份本年度、该层面、该签发人和签订人的
#   责任书，双方均已签署并注明签署日期，且签署日期不晚于截止日期。
#   截止日期为本年的年度期限（默认 3 月 31 日）；签发人或签订人在本年到任的（取其本年内、不晚于
#   检查基准日的最后一次任职日期），为到任后“年内新任职者的宽限天数”（默认 30 天）届满之日；
#   两者取较晚者。检查基准日晚于截止日期才检查（截止日当天不检查）。
#   原因：缺失（没有本年度、该层面、双方的责任书）；逾期（双方已签署并注明日期，但晚于截止日期）；
#   未签署完整（有责任书，但没有一份经双方签署并注明日期）。有多份责任书时，按成立、逾期、未签署
#   完整的顺序取最有利者。主体：签订人，并注明层面和签发人。
#   问责层级：层面一为机关党组书记，层面二为党组成员、党委书记和机关厅级干部，层面三为支部书记及处室
#   （单位）主要负责人。
#   证据：逾期的为双方已签署的责任书，未签署完整的为该对的全部责任书，缺失的为签发人。
# custom:
#   id: letter.three_levels
#   severity: high
#   accountable: leaders
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#     - {code: late, zh: 逾期, en: late}
#     - {code: unsigned, zh: 未签署完整, en: unsigned}
#   units:
#     warn_days: {zh: 天, en: days}
#     new_appointee_days: {zh: 天, en: days}
#   seed: 首次分3个层面签订76对廉政责任书，制定廉政谈话工作制度，确保责任体系点面结合。
#   interpretation: |
#     - The letter's `year` field decides which year a letter belongs to, not the year of signed_on.
#     - A letter counts only for its own level: the same two people owing letters at two levels need two letters.
#     - Level 1 uses every roster person with role party_group_secretary as an issuer (normally one per organ).
#     - A signed_on later than as_of is taken as written: it is after the deadline (which is before as_of), so `late`.
#     - Each violation sets `accountable` by level (1 party_group_secretary, 2 leaders, 3 department_heads);
#       custom.accountable is only the fallback.
#   en:
#     title: Integrity responsibility letters at three levels
#     description: |
#       For year Y (the year of as_of) the roster at as_of owes letters in pairs at three levels.
#       Level 1: each roster Party Group secretary to every other roster person with role
#       party_group_member or rank bureau. Level 2: each roster person who supervises departments to
#       each roster department head of a supervised department, other than that person. Level 3: each
#       roster department head to every other roster person of rank division in the same department.
#       Pairs are deduplicated. A pair holds when a letter of year Y, that level, issuer and signer is
#       signed by both sides with a signed_on on or before the pair's deadline: Y-<deadline> (03-31), or,
#       when the issuer or the signer took office in Y (latest appointment effective in Y and on or
#       before as_of), new_appointee_days (30) after that day, whichever is later. A pair is checked
#       only once as_of is after its deadline. Reasons: missing (no letter), late (signed by both, after
#       the deadline), unsigned (letters, but none signed by both with a signed_on); with several letters
#       the best outcome wins (holds > late > unsigned). Subject: the signer (people) with details
#       level and issuer. Accountable: level 1 party_group_secretary, level 2 leaders, level 3
#       department_heads. Evidence: the late letters, all the pair's letters when unsigned, the issuer when missing.
#     params:
#       warn_days: days of warning before a check fails
#       deadline: yearly deadline (MM-DD)
#       new_appointee_days: grace for those taking office in the year
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     deadline: {type: string, zh: 年度期限（月-日）, format: month-day, description: "yearly deadline as MM-DD"}
#     new_appointee_days: {type: integer, zh: 年内新任职者的宽限天数, minimum: 0, maximum: 3650, description: days after taking office in Y that a new appointee's pairs have}
#     severity: {type: severity, zh: 严重程度}
package duty.letter.three_levels

import data.lib.dates
import data.lib.org

_params := data.params.letter.three_levels

_accountable := {1: "party_group_secretary", 2: "leaders", 3: "department_heads"}

# _year_letters holds the letters of year Y.
_year_letters := [l |
	some l in input.letters
	l.year == org.year
]

# _letters maps [level, issuer_id, signer_id] to that pair's letters of year Y.
_letters := {k: ls |
	some k in {[l.level, l.issuer_id, l.signer_id] | some l in _year_letters}
	ls := [l |
		some l in _year_letters
		[l.level, l.issuer_id, l.signer_id] == k
	]
}

# _held holds the pairs [level, issuer, signer] with a letter of year Y signed by both sides on
# or before Y-<deadline>: such a pair holds whatever its deadline, which is never earlier, so
# the deadline is worked out only for the other pairs.
_held := {[l.level, l.issuer_id, l.signer_id] |
	some l in _year_letters
	_signed_by_both(l)
	l.signed_on <= _base_deadline
}

# _base_deadline is Y-<deadline> (YYYY-MM-DD), the earliest deadline of any pair.
_base_deadline := concat("", [org.year_prefix, _params.deadline])

# _secretaries holds the ids of roster Party Group secretaries (level-1 issuers).
_secretaries := {pid |
	some pid in org.secretary_ids
	org.roster[pid]
}

# _leaders holds the ids of roster Party Group members and bureau-rank cadres (level-1 signers).
_leaders := {pid |
	some pid in org.leader_ids
	org.roster[pid]
}

# _heads_in_department maps a department id to the ids of its roster department heads.
_heads_in_department := {did: ids |
	some did in {h.department_id | some h in _heads}
	ids := {h.id |
		some h in _heads
		h.department_id == did
	}
}

# _heads holds the roster department heads.
_heads := [h |
	some hid in org.head_ids
	h := org.roster[hid]
]

# _pairs holds the required [level, issuer_id, signer_id] triples; a set, so duplicates collapse.
_pairs contains [1, s, p] if {
	some s in _secretaries
	some p in _leaders
	p != s
}

_pairs contains [2, s.id, h] if {
	some s in org.roster
	some did in object.get(s, "supervises", [])
	some h in _heads_in_department[did]
	h != s.id
}

_pairs contains [3, h.id, p.id] if {
	some h in _heads
	some p in org.roster_in_department[h.department_id]
	p.rank == "division"
	p.id != h.id
}

# _open maps each required pair that no letter holds by Y-<deadline> to its deadline (day number).
_open := {pair: deadline |
	some pair in _pairs
	not pair in _held
	[_, issuer, signer] := pair
	deadline := org.deadline_day(_params.deadline, _params.new_appointee_days, {issuer, signer})
}

violation contains v if {
	some pair, deadline in _open
	org.as_of_day > deadline
	v := _violation(pair, deadline)
}

# Warnings: a pair whose deadline is on or after as_of and that no letter holds by it fails the
# day after the deadline, within year Y, for the reason the violation would then have.
warning contains w if {
	some pair, deadline in _open
	f := deadline + 1
	org.in_year_window(f, _params.warn_days)
	w := org.warning(_violation(pair, deadline), f)
}

# _violation returns the violation of pair [level, issuer, signer] with deadline day deadline,
# when its letters do not hold.
_violation(pair, deadline) := v if {
	[level, issuer, signer] := pair
	letters := object.get(_letters, [pair], [])
	reason := _status(letters, deadline)
	reason != "holds"
	v := {
		"reason": reason,
		"subject": org.ref("people", signer),
		"details": {"level": level, "issuer": issuer},
		"message": _message(reason, level, issuer, signer, dates.date(deadline), letters),
		"evidence": _evidence(reason, issuer, letters),
		"accountable": _accountable[level],
	}
}

# _signed_by_both is true for a letter both sides signed and that carries its signing day.
_signed_by_both(l) if {
	l.signed_by_issuer == true
	l.signed_by_signer == true
	is_string(l.signed_on)
}

# _status returns the best outcome among a pair's letters: holds, late, unsigned or missing.
_status(letters, deadline) := "holds" if {
	some l in letters
	_signed_by_both(l)
	dates.day(l.signed_on) <= deadline
} else := "late" if {
	some l in letters
	_signed_by_both(l)
} else := "unsigned" if {
	count(letters) > 0
} else := "missing"

_signed(letters) := [l | some l in letters; _signed_by_both(l)]

_evidence("missing", issuer, _) := [org.ref("people", issuer)]

_evidence("late", _, letters) := [org.ref("letters", l.id) | some l in _signed(letters)]

_evidence("unsigned", _, letters) := [org.ref("letters", l.id) | some l in letters]

_name(pid) := object.get(org.people, [pid, "name"], pid)

_message("missing", level, issuer, signer, deadline, _) := {
	"zh": sprintf("%d 年度第 %d 层面廉政责任书缺失：%s（签发）与 %s（签订）之间未见责任书，截止日期 %s", [org.year, level, _name(issuer), _name(signer), deadline]),
	"en": sprintf("No level %d integrity responsibility letter for %d between issuer %s and signer %s (deadline %s)", [level, org.year, _name(issuer), _name(signer), deadline]),
}

_message("late", level, issuer, signer, deadline, letters) := {
	"zh": sprintf("%d 年度第 %d 层面廉政责任书逾期：%s（签发）与 %s（签订）于 %s 签订，晚于截止日期 %s", [org.year, level, _name(issuer), _name(signer), on, deadline]),
	"en": sprintf("Level %d integrity responsibility letter for %d between issuer %s and signer %s was signed on %s, after the deadline %s", [level, org.year, _name(issuer), _name(signer), on, deadline]),
} if {
	on := min({l.signed_on | some l in _signed(letters)})
}

_message("unsigned", level, issuer, signer, deadline, letters) := {
	"zh": sprintf("%d 年度第 %d 层面廉政责任书未完成签署：%s（签发）与 %s（签订）的责任书 %s 未经双方签署或缺少签订日期（%s：%s），截止日期 %s", [org.year, level, _name(issuer), _name(signer), ids_zh, signed_zh, on_zh, deadline]),
	"en": sprintf("Level %d integrity responsibility letter for %d between issuer %s and signer %s (%s) is not signed by both sides or has no signing date (%s: %s); deadline %s", [level, org.year, _name(issuer), _name(signer), ids, lower(signed_en), on, deadline]),
} if {
	ids := concat(", ", [l.id | some l in letters])
	ids_zh := concat("、", [l.id | some l in letters])
	on := _signed_on_text(letters, ", ")
	on_zh := _signed_on_text(letters, "、")
	[signed_zh, signed_en] := org.field_label("letters", "signed_on")
}

_signed_on_text(letters, sep) := concat(sep, ons) if {
	ons := [l.signed_on | some l in letters; is_string(l.signed_on)]
	count(ons) > 0
} else := "-"
