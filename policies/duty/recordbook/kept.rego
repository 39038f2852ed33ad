# METADATA
# title: 履行党风廉政建设责任制全程记实本
# description: |
#   持本人：检查基准日在册、身为党组成员或处室（单位）主要负责人、或为厅级干部的人员；党组书记
#   仅在同时符合上述条件之一时才是持本人。每位持本人须有本年度、签发日期不晚于检查基准日的全程
#   记实本；检查基准日晚于截止日期仍没有的，原因为缺失（主体：持本人）。截止日期为本年的年度期限
#   （默认 1 月 31 日）；在本年到任的（取其本年内、不晚于检查基准日的最后一次任职日期），为到任后
#   “年内新任职者的宽限天数”（默认 30 天）届满之日；两者取较晚者；截止日当天不检查。
#   对每本本年度的记实本（主体：该记实本）：
#   间隔过长——以本年 1 月 1 日和签发日期中较晚者为起点，将起点、起点至检查基准日之间每条记实的
#   日期以及检查基准日依次排列，相邻两日相隔超过“最长间隔天数”（默认 60 天）的，每本只报一次，
#   说明中给出最大间隔的两个日期；
#   任务无记实（注明任务）——到期日不晚于检查基准日的任务，没有任何日期不晚于检查基准日的记实
#   指向它；
#   未按期检查——检查基准日距签发日期超过“签发多少天后须有检查”（默认 183 天），且检查基准日前
#   “检查须落在最近多少天内”（默认 183 天）之内没有检查记录。
#   问责层级：持本人是党组书记的，为机关党组书记；是处室（单位）主要负责人、而非党组成员、也非
#   厅级干部的，为支部书记及处室（单位）主要负责人；其余为党组成员、党委书记和机关厅级干部。
# custom:
#   id: recordbook.kept
#   severity: high
#   accountable: leaders
#   reasons:
#     - {code: missing, zh: 缺失, en: missing}
#     - {code: gap, zh: 间隔过长, en: gap}
#     - {code: task_without_entry, zh: 任务无记实, en: task without entry}
#     - {code: not_inspected, zh: 未按期检查, en: not inspected}
#   units:
#     warn_days: {zh: 天, en: days}
#     new_appointee_days: {zh: 天, en: days}
#     max_gap_days: {zh: 天, en: days}
#     inspection_after_days: {zh: 天, en: days}
#     inspection_window_days: {zh: 天, en: days}
#   seed: 会同机关党组向机关党组领导班子成员、其他厅级领导、处室及单位负责人发送《履行党风廉政建设责任制全程记实本》，明确任务清单，定期监督检查，确保“照单履职、全程留痕”。
#   interpretation: |
#     - Every record book of year Y in the input (issued_on <= as_of) is checked for gap,
#       task_without_entry and not_inspected, whether or not its holder is on the roster or is a
#       holder by role or rank: a book that was issued is kept to the end of its year, and a holder
#       who left mid-year leaves a book that can still be checked against its tasks.
#     - A holder with several books of year Y has no `missing`; each book is checked on its own.
#     - A task counts as done by any entry dated on or before as_of that names it, even one dated
#       before issued_on or before Y-01-01; entries outside [start, as_of] only drop out of the gap count.
#     - Each violation sets `accountable` from the holder: party_group_secretary when the holder has
#       that role; else department_heads for a department head who is neither a Party Group member
#       nor of bureau rank; else leaders (also for a book whose holder is none of these).
#     - Evidence: the holder (people) for book violations; none ([]) for missing, whose message
#       gives the deadline day (the appointment that moved it is not listed).
#     - Warnings (not_inspected): DOMAIN.md names one 183-day parameter for both bounds ("the same
#       param"); this policy has two, so fails_on is the later of issued_on + inspection_after_days + 1
#       and the latest inspection on or before as_of + inspection_window_days + 1, each bound with the
#       parameter the violation uses for it: fails_on is then exactly the violation's first failing
#       day, and with the defaults (183 and 183) it is DOMAIN.md's day.
#     - Warnings and their messages: each warning is the violation the rule would report with as_of
#       = fails_on on the records of as_of, so its message gives fails_on as the day of the check.
#   en:
#     title: Whole-process duty record book
#     description: |
#       Holders are roster people with role party_group_member or department_head, or of rank bureau
#       (a Party Group secretary only when one of these too). Each holder needs a record book of year Y
#       (the year of as_of) issued on or before as_of: reason missing (subject: the holder) once as_of is
#       after the deadline, Y-<deadline> (01-31) or new_appointee_days (30) after the holder's latest
#       appointment effective in Y, whichever is later. Each book of year Y (subject: the book) is checked
#       for: gap, when among max(Y-01-01, issued_on), each entry date in that range up to as_of, and
#       as_of, two neighbours are more than max_gap_days (60) apart (one violation per book, naming the
#       largest gap); task_without_entry (details.task) for each task due on or before as_of that no
#       entry dated on or before as_of names by task_id; not_inspected when as_of is more than
#       inspection_after_days (183) after issued_on and no inspection is dated within
#       [as_of - inspection_window_days (183), as_of]. Accountable: party_group_secretary for a holder
#       with that role, else department_heads for a department head who is not a leader, else leaders.
#     params:
#       warn_days: days of warning before a check fails
#       deadline: yearly deadline (MM-DD)
#       new_appointee_days: grace for those taking office in the year
#       max_gap_days: longest gap between entries
#       inspection_after_days: inspection due, days after issue
#       inspection_window_days: inspection within the last
#       severity: severity
#   params:
#     warn_days: {type: integer, zh: 预警提前天数, minimum: 0, maximum: 366, description: "days before a check fails that it is reported as a warning; 0 switches warnings off"}
#     deadline: {type: string, zh: 年度期限（月-日）, format: month-day, description: "yearly deadline for the book as MM-DD"}
#     new_appointee_days: {type: integer, zh: 年内新任职者的宽限天数, minimum: 0, maximum: 3650, description: days after taking office in Y that a new holder has}
#     max_gap_days: {type: integer, zh: 最长间隔天数, minimum: 1, maximum: 3650, description: largest allowed number of days between neighbouring entries}
#     inspection_after_days: {type: integer, zh: 签发多少天后须有检查, minimum: 0, maximum: 3650, description: book age in days after which an inspection is due}
#     inspection_window_days: {type: integer, zh: 检查须落在最近多少天内, minimum: 0, maximum: 3650, description: how many days back from as_of an inspection counts}
#     severity: {type: severity, zh: 严重程度}
package duty.recordbook.kept

import data.lib.dates
import data.lib.org

_params := data.params.recordbook.kept

# _books holds the record books of year Y issued on or before as_of.
_books := {b |
	some b in input.record_books
	b.year == org.year
	b.issued_on <= org.as_of
}

# _has_book holds the ids of people who hold a book in _books.
_has_book := {b.holder_id | some b in _books}

# _holders holds the ids of the people who must keep a book when on the roster: leaders and
# department heads.
_holders := org.leader_ids | org.head_ids

# _accountable returns the responsible level for a book held by person pid (leaders for an id
# that is no person of the input).
_accountable(pid) := object.get(_levels, pid, "leaders")

# _levels maps the people who are not answered for as leaders to their level: the Party Group
# secretary, and department heads who are not leaders.
_levels := object.union(
	{pid: "department_heads" | some pid in org.head_ids; not pid in org.leader_ids},
	{pid: "party_group_secretary" | some pid in org.secretary_ids},
)

_name(pid) := object.get(org.people, [pid, "name"], pid)

# _missing maps each roster holder without a book of year Y to their deadline (day number).
_missing := {pid: deadline |
	some pid in _holders
	org.roster[pid]
	not pid in _has_book
	deadline := org.deadline_day(_params.deadline, _params.new_appointee_days, {pid})
}

# _warn_last is the day number of the last day of the warning window within year Y, and _warning
# is true when that window is not empty: on Y-12-31, or with warn_days 0, no book warns.
_warn_last := min({org.as_of_day + _params.warn_days, org.year_end_day})

_warning if _warn_last > org.as_of_day

# _missing_violation returns the missing-book violation of p, a holder on the roster, whose book
# is due by day number deadline, as checked on date on.
_missing_violation(p, deadline, on) := {
	"reason": "missing",
	"subject": org.ref("people", p.id),
	"details": {},
	"message": {
		"zh": sprintf("%s 没有 %d 年度的履行党风廉政建设责任制全程记实本（截止日期 %s，检查日 %s）", [p.name, org.year, dates.date(deadline), on]),
		"en": sprintf("%s has no duty record book for %d (deadline %s, as of %s)", [p.name, org.year, dates.date(deadline), on]),
	},
	"evidence": [],
	"accountable": _accountable(p.id),
}

# _points maps each book id of _books to the sorted day numbers of its points up to as_of but
# as_of itself: the start of its period, the later of Y-01-01 and issued_on, and each entry date
# from the start to as_of. Every point is on or before as_of, so a check day on or after as_of
# appended to them keeps them sorted.
_points := {b.id: pts |
	some b in _books
	start := max({org.year_start, b.issued_on})
	in_range := _within({e.date | some e in b.entries}, start, org.as_of)
	pts := sort({dates.day(start)} | {dates.day(d) | some d in in_range})
}

# _within returns the dates of ds from `from` to `to` (YYYY-MM-DD strings compare as dates); it
# compares each date only when the earliest or the latest is out of range, which is rare.
_within(ds, from, to) := ds if {
	min(ds) >= from
	max(ds) <= to
} else := {d |
	some d in ds
	d >= from
	d <= to
}

violation contains v if {
	some pid, deadline in _missing
	org.as_of_day > deadline
	v := _missing_violation(org.roster[pid], deadline, org.as_of)
}

violation contains v if {
	some b in _books
	v := _gap(b, org.as_of_day, _params.max_gap_days)
}

violation contains v if {
	as_of := org.as_of
	some b in _books
	due := [t | some t in b.tasks; t.due_on <= as_of]
	count(due) > 0
	named := _named_tasks(b)
	some t in due
	not t.id in named
	v := _task_violation(b, t, as_of)
}

violation contains v if {
	from := org.as_of_day - _params.inspection_window_days
	some b in _books
	org.as_of_day - dates.day(b.issued_on) > _params.inspection_after_days
	not _inspected_since(b, from)
	v := _inspection_violation(b, org.as_of_day)
}

# Warnings of missing books: the deadline is on or after as_of, and the day after it in the
# window and in year Y.
warning contains w if {
	_warning
	some pid, deadline in _missing
	f := deadline + 1
	org.in_year_window(f, _params.warn_days)
	w := org.warning(_missing_violation(org.roster[pid], deadline, dates.date(f)), f)
}

# Warnings of gaps: a book with no gap on as_of fails on the first day more than max_gap_days
# after its latest point, within the window and year Y.
warning contains w if {
	_warning
	some b in _books
	pts := _points[b.id]
	f := (pts[count(pts) - 1] + _params.max_gap_days) + 1
	org.in_year_window(f, _params.warn_days)
	not _gap(b, org.as_of_day, _params.max_gap_days)
	w := org.warning(_gap(b, f, _params.max_gap_days), f)
}

# Warnings of tasks: a task due after as_of, within the window and year Y, that no entry dated on
# or before as_of names fails on its due_on.
warning contains w if {
	_warning
	as_of := org.as_of
	some b in _books
	soon := [t | some t in b.tasks; t.due_on > as_of; t.due_on <= _warn_end]
	count(soon) > 0
	named := _named_tasks(b)
	some t in soon
	not t.id in named
	w := org.warning(_task_violation(b, t, t.due_on), dates.day(t.due_on))
}

# Warnings of inspections: a book fails on the later of the first day more than
# inspection_after_days after issued_on and the first day its latest inspection (on or before
# as_of) falls out of the last inspection_window_days, within the window and year Y. Before that
# day the check passes, so a check failing on as_of has that day on or before as_of: no warning.
warning contains w if {
	_warning
	some b in _books
	first := (dates.day(b.issued_on) + _params.inspection_after_days) + 1
	lapse := {x |
		count(b.inspections) > 0
		l := max({i.date | some i in b.inspections})
		x := (dates.day(l) + _params.inspection_window_days) + 1
	}
	f := max({first} | lapse)
	org.in_year_window(f, _params.warn_days)
	w := org.warning(_inspection_violation(b, f), f)
}

# _gap returns the gap violation of book b as checked on day number on (on or after as_of): its
# points and on, two neighbours more than max_gap days apart; the message names the largest gap.
_gap(b, on, max_gap) := v if {
	pts := array.concat(_points[b.id], [on])
	gaps := [g | some i, d in array.slice(pts, 1, count(pts)); g := d - pts[i]]
	largest := max(gaps)
	largest > max_gap
	i := [j | some j, g in gaps; g == largest][0]
	from := dates.date(pts[i])
	to := dates.date(pts[i + 1])
	v := {
		"reason": "gap",
		"subject": org.ref("record_books", b.id),
		"details": {},
		"message": {
			"zh": sprintf("%s 的 %d 年度记实本 %s 在 %s 至 %s 之间 %d 天没有记录，超过 %d 天", [_name(b.holder_id), b.year, b.id, from, to, largest, max_gap]),
			"en": sprintf("Record book %s of %s for %d has no entry for %d days between %s and %s (more than %d)", [b.id, _name(b.holder_id), b.year, largest, from, to, max_gap]),
		},
		"evidence": [org.ref("people", b.holder_id)],
		"accountable": _accountable(b.holder_id),
	}
}

# _named_tasks returns the task ids that book b's entries dated on or before as_of name.
_named_tasks(b) := {e.task_id |
	some e in b.entries
	e.date <= end
} if {
	end := org.as_of
}

# _warn_end is the last date (YYYY-MM-DD) of the warning window within year Y.
_warn_end := dates.date(_warn_last)

# _task_violation returns the task_without_entry violation of task t of book b as checked on date on.
_task_violation(b, t, on) := {
	"reason": "task_without_entry",
	"subject": org.ref("record_books", b.id),
	"details": {"task": t.id},
	"message": {
		"zh": sprintf("%s 的 %d 年度记实本 %s 中任务「%s」（%s）于 %s 到期，截至 %s 没有对应记录", [_name(b.holder_id), b.year, b.id, t.title, t.id, t.due_on, on]),
		"en": sprintf("Record book %s of %s for %d: task %q (%s) was due on %s and has no entry as of %s", [b.id, _name(b.holder_id), b.year, t.title, t.id, t.due_on, on]),
	},
	"evidence": [org.ref("people", b.holder_id)],
	"accountable": _accountable(b.holder_id),
}

# _inspection_violation returns the not_inspected violation of book b as checked on day number on.
_inspection_violation(b, on) := {
	"reason": "not_inspected",
	"subject": org.ref("record_books", b.id),
	"details": {},
	"message": {
		"zh": sprintf("%s 的 %d 年度记实本 %s 于 %s 发放，%s 至 %s 期间没有监督检查记录", [_name(b.holder_id), b.year, b.id, b.issued_on, dates.date(from), dates.date(on)]),
		"en": sprintf("Record book %s of %s for %d, issued on %s, has no inspection between %s and %s", [b.id, _name(b.holder_id), b.year, b.issued_on, dates.date(from), dates.date(on)]),
	},
	"evidence": [org.ref("people", b.holder_id)],
	"accountable": _accountable(b.holder_id),
} if {
	from := on - _params.inspection_window_days
}

_inspected_since(b, from) if {
	some i in b.inspections
	d := dates.day(i.date)
	d >= from
	d <= org.as_of_day
}
