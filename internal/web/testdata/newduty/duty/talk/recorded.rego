# METADATA
# title: 廉政谈话全程记录在案
# description: |
#   一般性廉政谈话、任前廉政谈话、提醒谈话、信访核实谈话都须全程记录在案：适用种类（默认四种
#   全部）的每一次谈话，凡谈话日期不晚于检查基准日而标明未记录在案的，原因为未记录在案。主体：
#   该谈话。
# custom:
#   id: talk.recorded
#   severity: medium
#   accountable: discipline_committee
#   reasons:
#     - {code: unrecorded, zh: 未记录在案, en: not on record}
#   seed: 对新提任的干部开展任前廉政谈话,一般性廉政谈话、任前廉政谈话、提醒谈话、信访核实谈话全程记录在案。
#   en:
#     title: Every integrity talk on record
#     description: |
#       Every talk of a kind in kinds (default all four) held on or before as_of must be on
#       record: a talk marked recorded: false is unrecorded. Subject: the talk.
#     params:
#       kinds: kinds of talk that must be on record
#       severity: severity
#   params:
#     kinds:
#       type: array
#       zh: 须记录在案的谈话种类
#       minItems: 1
#       uniqueItems: true
#       items:
#         type: string
#         enum:
#           - {value: general, zh: 一般性廉政谈话, en: general talk}
#           - {value: pre_appointment, zh: 任前廉政谈话, en: pre-appointment talk}
#           - {value: reminder, zh: 提醒谈话, en: reminder talk}
#           - {value: petition_verification, zh: 信访核实谈话, en: petition verification talk}
#     severity: {type: severity, zh: 严重程度}
package duty.talk.recorded

import data.lib.org

_params := data.params.talk.recorded

violation contains v if {
	some t in input.talks
	t.kind in _params.kinds
	t.recorded == false
	name := object.get(org.people, [t.person_id, "name"], t.person_id)
	v := {
		"reason": "unrecorded",
		"subject": org.ref("talks", t.id),
		"details": {},
		"message": {
			"zh": sprintf("%s 于 %s 的谈话（%s）未记录在案", [name, t.held_on, t.kind]),
			"en": sprintf("The %s talk with %s on %s is not on record", [t.kind, name, t.held_on]),
		},
		"evidence": [org.ref("people", t.person_id)],
	}
}
