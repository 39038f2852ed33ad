# METADATA
# title: 任前廉政谈话
# description: |
#   每一项适用职级（默认厅级、处级）的任职（任职日期不晚于检查基准日），都须有同一人的任前廉政
#   谈话：谈话日期在任职日前“任职前最早可谈话天数”（默认 90 天）至任职当天之间，且未标明未记录
#   在案。主体：该任职记录。原因：缺失。
# custom:
#   id: talk.pre_appointment
#   severity: high
#   accountable: party_group
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#   units:
#     warn_days: {zh: 天, en: days}
#     max_days_before: {zh: 天, en: days}
#   seed: 对新提任的干部开展任前廉政谈话，一般性廉政谈话、任前廉政谈话、提醒谈话、信访核实谈话全程记录在案。
#   en:
#     title: Pre-appointment integrity talk
#     description: |
#       Every appointment at bureau or division rank (effective on or before as_of) needs a
#       pre_appointment talk with the same person held within [effective_on - max_days_before,
#       effective_on] and not marked recorded: false. Subject: the appointment. Reason: missing.
#     params:
#       warn_days: days of warning before a check fails
#       ranks: ranks whose appointments need a talk
#       max_days_before: earliest talk, days before taking office
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     ranks:
#       type: array
#       zh: 适用职级
#       description: ranks whose appointments need a talk
#       minItems: 1
#       uniqueItems: true
#       items:
#         type: string
#         enum:
#           - {value: bureau, zh: 厅级, en: bureau}
#           - {value: division, zh: 处级, en: division}
#           - {value: section, zh: 科级, en: section}
#           - {value: staff, zh: 科级以下, en: staff}
#     max_days_before: {type: integer, zh: 任职前最早可谈话天数, minimum: 0, maximum: 3650, description: earliest day of the talk before effective_on}
#     severity: {type: severity, zh: 严重程度}
package duty.talk.pre_appointment

import data.lib.dates
import data.lib.org

_params := data.params.talk.pre_appointment

# _talks holds the recorded pre-appointment talks.
_talks := [t |
	some t in input.talks
	t.kind == "pre_appointment"
	object.get(t, "recorded", true) != false
]

# _talk_days maps a person id to the day numbers of their recorded pre-appointment talks; people
# without one are absent.
_talk_days := {pid: days |
	some pid in {t.person_id | some t in _talks}
	days := {dates.day(t.held_on) |
		some t in _talks
		t.person_id == pid
	}
}

violation contains v if {
	some a in input.appointments
	a.rank in _params.ranks
	a.effective_on <= org.as_of
	v := _violation(a)
}

# Warnings: an appointment recorded ahead of time (input.upcoming_appointments, effective after
# as_of) fails on its effective_on unless a qualifying talk is held by then; only talks held on
# or before as_of count, the engine having left out later ones.
warning contains w if {
	some a in input.upcoming_appointments
	a.rank in _params.ranks
	eff := dates.day(a.effective_on)
	org.in_window(eff, _params.warn_days)
	w := org.warning(_violation(a), eff)
}

# _violation returns the violation of appointment a when no qualifying talk is recorded for it.
_violation(a) := v if {
	eff := dates.day(a.effective_on)
	earliest := eff - _params.max_days_before
	not _talk_within(a.person_id, earliest, eff)
	name := object.get(org.people, [a.person_id, "name"], a.person_id)
	[rank_zh, rank_en] := org.label("rank", a.rank)
	v := {
		"reason": "missing",
		"subject": org.ref("appointments", a.id),
		"details": {},
		"message": {
			"zh": sprintf("%s 于 %s 任职「%s」（%s），未见 %s 至 %s 期间的任前廉政谈话记录", [name, a.effective_on, a.position, rank_zh, dates.date(earliest), a.effective_on]),
			"en": sprintf("%s took office as %q (%s) on %s with no recorded pre-appointment talk between %s and %s", [name, a.position, rank_en, a.effective_on, dates.date(earliest), a.effective_on]),
		},
		"evidence": [org.ref("people", a.person_id)],
	}
}

_talk_within(pid, from, to) if {
	some d in _talk_days[pid]
	d >= from
	d <= to
}
