package conformance

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Ref names one document: its collection and id.
type Ref struct {
	Collection, ID string
}

// Key identifies one violation the way a report does: the policy and reason, the department it is
// reported under, the subject at fault and the details that tell apart several failing checks on
// one subject. Details keys are those of INTERFACES.md: letters {"level": int, "issuer": id},
// lists {"level": string}, suggestions {"item"}, major matters {"matter"}, record book tasks
// {"task"}; otherwise the map is empty.
type Key struct {
	Policy, Reason, Department string
	Subject                    Ref
	Details                    map[string]any
}

// String renders k on one line, for sorting and for messages.
func (k Key) String() string {
	d, _ := json.Marshal(k.Details) // map keys are sorted by encoding/json
	return fmt.Sprintf("%s %s %s %s/%s %s", k.Department, k.Policy, k.Reason, k.Subject.Collection, k.Subject.ID, d)
}

// SortKeys sorts keys as DOMAIN.md sorts findings: by department, policy, subject id, then
// details (their JSON with sorted keys, {} for none); the subject's collection and the reason only
// break the ties the text leaves (one subject with two checks of equal details, such as a record
// book's gap and not_inspected). A report's violations come in this order.
func SortKeys(keys []Key) {
	sort.SliceStable(keys, func(i, j int) bool { return compareKeys(keys[i], keys[j]) < 0 })
}

func compareKeys(a, b Key) int {
	if r := cmp.Or(strings.Compare(a.Department, b.Department), strings.Compare(a.Policy, b.Policy),
		strings.Compare(a.Subject.ID, b.Subject.ID)); r != 0 {
		return r // details are written out only for findings of one subject
	}
	return cmp.Or(strings.Compare(detailsJSON(a.Details), detailsJSON(b.Details)),
		strings.Compare(a.Subject.Collection, b.Subject.Collection), strings.Compare(a.Reason, b.Reason))
}

func detailsJSON(d map[string]any) string {
	if len(d) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(d) // map keys are sorted by encoding/json
	return string(b)
}

// The parameters of the duties, at DOMAIN.md's defaults.
const (
	preAppointmentMaxDaysBefore = 90  // duty 1
	daysAfterTakingOffice       = 30  // duties 2 and 3
	bookMaxGapDays              = 60  // duty 3
	bookInspectionDays          = 183 // duty 3
	jointMaxGapDays             = 92  // duty 6
	fileStaleDays               = 365 // duty 8
	matterReportDays            = 30  // duty 9
)

// The month and day of the fixed deadlines of year Y.
var (
	letterDeadline  = monthDay{time.March, 31}   // duty 2
	bookDeadline    = monthDay{time.January, 31} // duty 3
	meetingDeadline = monthDay{time.March, 31}   // duty 5
	listDeadline    = monthDay{time.March, 31}   // duty 7
)

type monthDay struct {
	month time.Month
	day   int
}

func (md monthDay) in(y int) day { return dayOf(y, md.month, md.day) }

// The policy ids of DOMAIN.md.
const (
	PolicyTalk       = "talk.pre_appointment"
	PolicyLetter     = "letter.three_levels"
	PolicyBook       = "recordbook.kept"
	PolicySuggestion = "suggestion.closeout"
	PolicyAnnual     = "meeting.annual_conduct"
	PolicyJoint      = "meeting.joint"
	PolicyList       = "list.six_levels"
	PolicyFile       = "archive.integrity_file"
	PolicyMatter     = "archive.major_matters"
	PolicyBranch     = "branch.discipline_member"
	collDepartments  = "departments"
	collPeople       = "people"
	collAppointments = "appointments"
	collTalks        = "talks"
	collLetters      = "letters"
	collBooks        = "record_books"
	collSuggestions  = "suggestions"
	collMeetings     = "meetings"
	collLists        = "responsibility_lists"
	collFiles        = "integrity_files"
	roleSecretary    = "party_group_secretary"
	roleMember       = "party_group_member"
	roleHead         = "department_head"
	rankBureau       = "bureau"
	rankDivision     = "division"
	kindOrgan        = "organ"
	kindDiscipline   = "discipline_committee"
	kindSpecial      = "special_committee"
	kindBranch       = "branch"
)

// Collections lists the ten collections of DOMAIN.md, in the order their references allow.
var Collections = []string{collDepartments, collPeople, collAppointments, collTalks, collLetters,
	collBooks, collSuggestions, collMeetings, collLists, collFiles}

// Reasons lists every policy's reasons as DOMAIN.md names them.
var Reasons = map[string][]string{
	PolicyTalk:       {"missing"},
	PolicyLetter:     {"missing", "late", "unsigned"},
	PolicyBook:       {"missing", "gap", "task_without_entry", "not_inspected"},
	PolicySuggestion: {"overdue", "closed_without_evidence"},
	PolicyAnnual:     {"missing"},
	PolicyJoint:      {"gap"},
	PolicyList:       {"missing"},
	PolicyFile:       {"missing", "stale"},
	PolicyMatter:     {"late", "unreported"},
	PolicyBranch:     {"missing"},
}

// Severity lists every policy's severity as DOMAIN.md gives it.
var Severity = map[string]string{
	PolicyTalk:       "high",
	PolicyLetter:     "high",
	PolicyBook:       "high",
	PolicyMatter:     "high",
	PolicySuggestion: "medium",
	PolicyAnnual:     "medium",
	PolicyList:       "medium",
	PolicyFile:       "medium",
	PolicyJoint:      "low",
	PolicyBranch:     "low",
}

// Expected computes, from DOMAIN.md alone, the violations a scan of ds as of asOf must report for
// department (its subtree; "" for the whole dataset). The result is sorted with SortKeys. ds must
// be valid (every reference names an existing record); asOf must be a YYYY-MM-DD date.
func Expected(ds map[string][]map[string]any, asOf string, department string) []Key {
	w, out := evaluate(ds, asOf)
	return w.scope(out, department)
}

// Count is Expected for the whole dataset, with the number of checks made: every appointment,
// letter pair, holder, item, meeting duty, owed list, cadre, matter and branch that could have
// failed, so that a share of violations can be counted against it.
func Count(ds map[string][]map[string]any, asOf string) ([]Key, int) {
	w, out := evaluate(ds, asOf)
	return w.scope(out, ""), w.checks
}

func evaluate(ds map[string][]map[string]any, asOf string) (*world, []Key) {
	w := newWorld(ds, mustDay(asOf))
	return w, w.all()
}

// all lists every failing check of the world's check day, unsorted.
func (w *world) all() []Key {
	var out []Key
	w.talks(&out)
	w.letters(&out)
	w.recordBooks(&out)
	w.suggestions(&out)
	w.annualMeeting(&out)
	w.jointMeetings(&out)
	w.lists(&out)
	w.integrityFiles(&out)
	w.majorMatters(&out)
	w.branches(&out)
	return out
}

// scope keeps the keys of department's subtree ("" for all), once each, sorted with SortKeys.
func (w *world) scope(out []Key, department string) []Key {
	var scoped []Key
	seen := map[string]bool{}
	for _, k := range out {
		if department != "" && !w.under(k.Department, department) {
			continue
		}
		if s := k.String(); !seen[s] {
			seen[s] = true
			scoped = append(scoped, k)
		}
	}
	SortKeys(scoped)
	return scoped
}

type doc = map[string]any

// world indexes a dataset for one as_of date. For warnings the day a check is made (asOf) may lie
// after the day whose roster counts (rosterOn) and whose appointments move the deadlines of duties
// 2 and 3 (recordsOn); for violations the three are the same day.
type world struct {
	ds        map[string][]doc
	asOf      day
	rosterOn  day
	recordsOn day
	y         int
	depts     map[string]doc
	organ     map[string]string // department id → its organ (root) id
	ppl       map[string]doc
	// checks counts the checks made (Count).
	checks int
}

func newWorld(ds map[string][]doc, asOf day) *world {
	w := &world{ds: ds, asOf: asOf, rosterOn: asOf, recordsOn: asOf, y: asOf.year(), depts: map[string]doc{}, organ: map[string]string{}, ppl: map[string]doc{}}
	for _, d := range ds[collDepartments] {
		w.depts[str(d, "id")] = d
	}
	for _, p := range ds[collPeople] {
		w.ppl[str(p, "id")] = p
	}
	for id := range w.depts {
		cur := id
		for range len(w.depts) + 1 { // a cycle cannot hang the oracle
			parent, ok := w.depts[cur]["parent_id"].(string)
			if !ok {
				break
			}
			cur = parent
		}
		w.organ[id] = cur
	}
	return w
}

// under reports whether department dept is top or lies below it.
func (w *world) under(dept, top string) bool {
	cur := dept
	for range len(w.depts) + 1 {
		if cur == top {
			return true
		}
		parent, ok := w.depts[cur]["parent_id"].(string)
		if !ok {
			return false
		}
		cur = parent
	}
	return false
}

// personOrgan is the organ of the person's department.
func (w *world) personOrgan(id string) string {
	return w.organ[str(w.ppl[id], "department_id")]
}

func (w *world) personDept(id string) string { return str(w.ppl[id], "department_id") }

// onRoster: active is true and there is no left_on <= as_of (the roster's day).
func (w *world) onRoster(p doc) bool { return w.onRosterAt(p, w.rosterOn) }

func (w *world) onRosterAt(p doc, on day) bool {
	if active, _ := p["active"].(bool); !active {
		return false
	}
	if left, ok := w.date(p, "left_on"); ok && left <= on {
		return false
	}
	return true
}

// roster lists the roster people of organ, in id order.
func (w *world) roster(organ string) []doc {
	var out []doc
	for _, p := range w.ds[collPeople] {
		if w.onRoster(p) && w.personOrgan(str(p, "id")) == organ {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return str(out[i], "id") < str(out[j], "id") })
	return out
}

// organs lists the organ departments, in id order.
func (w *world) organs() []string {
	var out []string
	for id, d := range w.depts {
		if str(d, "kind") == kindOrgan {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (w *world) deptsOfKind(kind string) []doc {
	var out []doc
	for _, d := range w.ds[collDepartments] {
		if str(d, "kind") == kind {
			out = append(out, d)
		}
	}
	return out
}

func (w *world) date(d doc, field string) (day, bool) {
	s, ok := d[field].(string)
	if !ok {
		return 0, false
	}
	v, err := parseDay(s)
	if err != nil {
		return 0, false
	}
	return v, true
}

// tookOffice is the effective_on of the person's latest appointment effective in Y and <= as_of.
func (w *world) tookOffice(person string) (day, bool) {
	var best day
	found := false
	for _, a := range w.ds[collAppointments] {
		if str(a, "person_id") != person {
			continue
		}
		eff, ok := w.date(a, "effective_on")
		if !ok || eff > w.recordsOn || eff.year() != w.y {
			continue
		}
		if !found || eff > best {
			best, found = eff, true
		}
	}
	return best, found
}

// deadline is the later of the fixed day of Y and 30 days after any of the people took office in Y.
func (w *world) deadline(fixed monthDay, people ...string) day {
	d := fixed.in(w.y)
	for _, p := range people {
		if took, ok := w.tookOffice(p); ok && took+daysAfterTakingOffice > d {
			d = took + daysAfterTakingOffice
		}
	}
	return d
}

// Duty 1: every bureau or division appointment effective by as_of needs a recorded pre-appointment
// talk with the same person held in [effective_on - 90, effective_on].
func (w *world) talks(out *[]Key) {
	for _, a := range w.ds[collAppointments] {
		if r := str(a, "rank"); r != rankBureau && r != rankDivision {
			continue
		}
		eff, ok := w.date(a, "effective_on")
		if !ok || eff > w.asOf {
			continue
		}
		w.checks++
		found := false
		for _, t := range w.ds[collTalks] {
			if str(t, "kind") != "pre_appointment" || str(t, "person_id") != str(a, "person_id") {
				continue
			}
			held, ok := w.date(t, "held_on")
			if !ok || held > w.asOf || held < eff-preAppointmentMaxDaysBefore || held > eff {
				continue
			}
			if rec, ok := t["recorded"].(bool); ok && !rec {
				continue
			}
			found = true
			break
		}
		if !found {
			*out = append(*out, Key{Policy: PolicyTalk, Reason: "missing", Department: str(a, "department_id"),
				Subject: Ref{collAppointments, str(a, "id")}, Details: map[string]any{}})
		}
	}
}

type letterPair struct {
	level          int
	issuer, signer string
}

// requiredPairs lists the issuer → signer pairs of duty 2 for one organ's roster.
func (w *world) requiredPairs(roster []doc) []letterPair {
	var pairs []letterPair
	seen := map[letterPair]bool{}
	add := func(p letterPair) {
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	for _, sec := range roster {
		if !hasRole(sec, roleSecretary) {
			continue
		}
		for _, p := range roster {
			if str(p, "id") != str(sec, "id") && (hasRole(p, roleMember) || str(p, "rank") == rankBureau) {
				add(letterPair{1, str(sec, "id"), str(p, "id")})
			}
		}
	}
	for _, sup := range roster {
		for _, dept := range strs(sup, "supervises") {
			for _, h := range roster {
				if hasRole(h, roleHead) && str(h, "department_id") == dept && str(h, "id") != str(sup, "id") {
					add(letterPair{2, str(sup, "id"), str(h, "id")})
				}
			}
		}
	}
	for _, h := range roster {
		if !hasRole(h, roleHead) {
			continue
		}
		for _, p := range roster {
			if str(p, "id") != str(h, "id") && str(p, "rank") == rankDivision && str(p, "department_id") == str(h, "department_id") {
				add(letterPair{3, str(h, "id"), str(p, "id")})
			}
		}
	}
	return pairs
}

// Duty 2: the three levels of integrity responsibility letters.
func (w *world) letters(out *[]Key) {
	byPair := map[letterPair][]doc{}
	for _, l := range w.ds[collLetters] {
		if y, ok := integer(l, "year"); !ok || y != w.y {
			continue
		}
		lv, _ := integer(l, "level")
		k := letterPair{lv, str(l, "issuer_id"), str(l, "signer_id")}
		byPair[k] = append(byPair[k], l)
	}
	for _, organ := range w.organs() {
		for _, pair := range w.requiredPairs(w.roster(organ)) {
			deadline := w.deadline(letterDeadline, pair.issuer, pair.signer)
			if w.asOf <= deadline {
				continue
			}
			w.checks++
			reason := "missing"
			if letters := byPair[pair]; len(letters) > 0 {
				reason = "unsigned"
				for _, l := range letters {
					both := isTrue(l, "signed_by_issuer") && isTrue(l, "signed_by_signer")
					signed, ok := w.date(l, "signed_on")
					if !both || !ok {
						continue
					}
					if signed <= deadline {
						reason = ""
						break
					}
					reason = "late"
				}
			}
			if reason != "" {
				*out = append(*out, Key{Policy: PolicyLetter, Reason: reason, Department: w.personDept(pair.signer),
					Subject: Ref{collPeople, pair.signer}, Details: map[string]any{"level": pair.level, "issuer": pair.issuer}})
			}
		}
	}
}

// Duty 3: the whole-process record books.
func (w *world) recordBooks(out *[]Key) {
	var books []doc // of year Y, issued by as_of
	for _, b := range w.ds[collBooks] {
		y, ok := integer(b, "year")
		issued, ok2 := w.date(b, "issued_on")
		if ok && ok2 && y == w.y && issued <= w.asOf {
			books = append(books, b)
		}
	}
	for _, organ := range w.organs() {
		for _, p := range w.roster(organ) {
			if !hasRole(p, roleMember) && !hasRole(p, roleHead) && str(p, "rank") != rankBureau {
				continue
			}
			id := str(p, "id")
			w.checks++
			if w.asOf <= w.deadline(bookDeadline, id) {
				continue
			}
			if !slices.ContainsFunc(books, func(b doc) bool { return str(b, "holder_id") == id }) {
				*out = append(*out, Key{Policy: PolicyBook, Reason: "missing", Department: str(p, "department_id"),
					Subject: Ref{collPeople, id}, Details: map[string]any{}})
			}
		}
	}
	for _, b := range books {
		dept := w.personDept(str(b, "holder_id"))
		subject := Ref{collBooks, str(b, "id")}
		issued, _ := w.date(b, "issued_on")
		start := max(dayOf(w.y, time.January, 1), issued)
		days := []day{start, w.asOf}
		for _, e := range objects(b, "entries") {
			if d, ok := w.date(e, "date"); ok && d >= start && d <= w.asOf {
				days = append(days, d)
			}
		}
		if maxGap(days) > bookMaxGapDays {
			*out = append(*out, Key{Policy: PolicyBook, Reason: "gap", Department: dept, Subject: subject, Details: map[string]any{}})
		}
		for _, t := range objects(b, "tasks") {
			due, ok := w.date(t, "due_on")
			if !ok || due > w.asOf {
				continue
			}
			done := slices.ContainsFunc(objects(b, "entries"), func(e doc) bool {
				d, ok := w.date(e, "date")
				tid, named := e["task_id"].(string)
				return ok && d <= w.asOf && named && tid == str(t, "id")
			})
			if !done {
				*out = append(*out, Key{Policy: PolicyBook, Reason: "task_without_entry", Department: dept, Subject: subject,
					Details: map[string]any{"task": str(t, "id")}})
			}
		}
		if int(w.asOf-issued) > bookInspectionDays {
			inspected := slices.ContainsFunc(objects(b, "inspections"), func(i doc) bool {
				d, ok := w.date(i, "date")
				return ok && d >= w.asOf-bookInspectionDays && d <= w.asOf
			})
			if !inspected {
				*out = append(*out, Key{Policy: PolicyBook, Reason: "not_inspected", Department: dept, Subject: subject, Details: map[string]any{}})
			}
		}
	}
}

// maxGap is the largest distance between two neighbours of days once sorted.
func maxGap(days []day) int {
	s := slices.Clone(days)
	slices.Sort(s)
	gap := 0
	for i := 1; i < len(s); i++ {
		gap = max(gap, int(s[i]-s[i-1]))
	}
	return gap
}

// Duty 4: close-out of work suggestion items.
func (w *world) suggestions(out *[]Key) {
	for _, s := range w.ds[collSuggestions] {
		if issued, ok := w.date(s, "issued_on"); !ok || issued > w.asOf {
			continue
		}
		for _, it := range objects(s, "items") {
			w.checks++
			reason := ""
			switch str(it, "status") {
			case "open":
				if due, ok := w.date(it, "due_on"); ok && w.asOf > due {
					reason = "overdue"
				}
			case "closed":
				_, hasClosed := w.date(it, "closed_on")
				if ev, _ := it["evidence"].(string); !hasClosed || ev == "" {
					reason = "closed_without_evidence"
				}
			}
			if reason != "" {
				*out = append(*out, Key{Policy: PolicySuggestion, Reason: reason, Department: str(s, "department_id"),
					Subject: Ref{collSuggestions, str(s, "id")}, Details: map[string]any{"item": str(it, "id")}})
			}
		}
	}
}

// Duty 5: once Y-03-31 has passed, each organ needs an annual conduct meeting held in [Y-01-01, Y-03-31].
func (w *world) annualMeeting(out *[]Key) {
	end := meetingDeadline.in(w.y)
	if w.asOf <= end {
		return
	}
	for _, organ := range w.organs() {
		w.checks++
		held := slices.ContainsFunc(w.ds[collMeetings], func(m doc) bool {
			d, ok := w.date(m, "held_on")
			return ok && str(m, "kind") == "annual_conduct" && w.organ[str(m, "department_id")] == organ &&
				d >= dayOf(w.y, time.January, 1) && d <= end && d <= w.asOf
		})
		if !held {
			*out = append(*out, Key{Policy: PolicyAnnual, Reason: "missing", Department: organ,
				Subject: Ref{collDepartments, organ}, Details: map[string]any{}})
		}
	}
}

// Duty 6: each discipline committee's joint meetings leave no gap of more than 92 days in [Y-01-01, as_of].
func (w *world) jointMeetings(out *[]Key) {
	start := dayOf(w.y, time.January, 1)
	for _, dc := range w.deptsOfKind(kindDiscipline) {
		id := str(dc, "id")
		w.checks++
		days := []day{start, w.asOf}
		for _, m := range w.ds[collMeetings] {
			d, ok := w.date(m, "held_on")
			if ok && str(m, "kind") == "joint" && str(m, "department_id") == id && d >= start && d <= w.asOf {
				days = append(days, d)
			}
		}
		if maxGap(days) > jointMaxGapDays {
			*out = append(*out, Key{Policy: PolicyJoint, Reason: "gap", Department: id,
				Subject: Ref{collDepartments, id}, Details: map[string]any{}})
		}
	}
}

// Duty 7: the responsibility lists of year Y, once Y-03-31 has passed.
func (w *world) lists(out *[]Key) {
	if w.asOf <= listDeadline.in(w.y) {
		return
	}
	var lists []doc
	for _, l := range w.ds[collLists] {
		if y, ok := integer(l, "year"); ok && y == w.y {
			lists = append(lists, l)
		}
	}
	has := func(organ string, match func(doc) bool) bool {
		return slices.ContainsFunc(lists, func(l doc) bool {
			return w.organ[str(l, "department_id")] == organ && match(l)
		})
	}
	owe := func(held bool, dept string, subject Ref, level string) {
		w.checks++
		if held {
			return
		}
		*out = append(*out, Key{Policy: PolicyList, Reason: "missing", Department: dept, Subject: subject,
			Details: map[string]any{"level": level}})
	}
	for _, organ := range w.organs() {
		for _, level := range []string{"party_group", "party_committee", "discipline_committee"} {
			owe(has(organ, func(l doc) bool { return str(l, "level") == level }), organ, Ref{collDepartments, organ}, level)
		}
		for _, p := range w.roster(organ) {
			id := str(p, "id")
			held := func(level string) bool {
				return has(organ, func(l doc) bool { return str(l, "level") == level && str(l, "holder_id") == id })
			}
			dept, subject := str(p, "department_id"), Ref{collPeople, id}
			if hasRole(p, roleSecretary) {
				owe(held("party_group_secretary"), dept, subject, "party_group_secretary")
			}
			if !hasRole(p, roleSecretary) && (hasRole(p, roleMember) || str(p, "rank") == rankBureau) {
				owe(held("leaders"), dept, subject, "leaders")
			}
			if hasRole(p, roleHead) {
				owe(held("department_heads"), dept, subject, "department_heads")
			}
		}
		for _, sc := range w.deptsOfKind(kindSpecial) {
			id := str(sc, "id")
			if w.organ[id] == organ {
				owe(has(organ, func(l doc) bool { return str(l, "department_id") == id }), id, Ref{collDepartments, id}, "special_committee")
			}
		}
	}
}

// Duty 8: one integrity file per roster person of rank bureau or division, updated within 365 days.
func (w *world) integrityFiles(out *[]Key) {
	for _, organ := range w.organs() {
		for _, p := range w.roster(organ) {
			if r := str(p, "rank"); r != rankBureau && r != rankDivision {
				continue
			}
			w.checks++
			id := str(p, "id")
			var newest day
			found := false
			for _, f := range w.ds[collFiles] {
				if str(f, "person_id") != id {
					continue
				}
				if u, ok := w.date(f, "updated_on"); ok && (!found || u > newest) {
					newest, found = u, true
				}
			}
			reason := ""
			switch {
			case !found:
				reason = "missing"
			case int(w.asOf-newest) > fileStaleDays:
				reason = "stale"
			}
			if reason != "" {
				*out = append(*out, Key{Policy: PolicyFile, Reason: reason, Department: str(p, "department_id"),
					Subject: Ref{collPeople, id}, Details: map[string]any{}})
			}
		}
	}
}

// Duty 9: personal major matters reported within 30 days of the event.
func (w *world) majorMatters(out *[]Key) {
	for _, f := range w.ds[collFiles] {
		for _, m := range objects(f, "major_matters") {
			event, ok := w.date(m, "event_on")
			if !ok || event > w.asOf {
				continue
			}
			w.checks++
			reason := ""
			if reported, ok := w.date(m, "reported_on"); ok {
				if int(reported-event) > matterReportDays {
					reason = "late"
				}
			} else if int(w.asOf-event) > matterReportDays {
				reason = "unreported"
			}
			if reason != "" {
				*out = append(*out, Key{Policy: PolicyMatter, Reason: reason, Department: w.personDept(str(f, "person_id")),
					Subject: Ref{collFiles, str(f, "id")}, Details: map[string]any{"matter": str(m, "id")}})
			}
		}
	}
}

// Duty 10: every branch names a discipline member on its organ's roster.
func (w *world) branches(out *[]Key) {
	for _, b := range w.deptsOfKind(kindBranch) {
		w.checks++
		id := str(b, "id")
		member, ok := b["discipline_member_id"].(string)
		p, exists := w.ppl[member]
		// The member's left_on counts on the day of the check, also for a warning (DOMAIN.md).
		if ok && exists && w.onRosterAt(p, w.asOf) && w.personOrgan(member) == w.organ[id] {
			continue
		}
		*out = append(*out, Key{Policy: PolicyBranch, Reason: "missing", Department: id,
			Subject: Ref{collDepartments, id}, Details: map[string]any{}})
	}
}

// Field readers that accept what Go code and encoding/json both produce.

func str(d doc, k string) string { s, _ := d[k].(string); return s }

func isTrue(d doc, k string) bool { b, _ := d[k].(bool); return b }

func integer(d doc, k string) (int, bool) {
	switch v := d[k].(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), v == float64(int(v))
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

func strs(d doc, k string) []string {
	switch v := d[k].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func objects(d doc, k string) []doc {
	switch v := d[k].(type) {
	case []doc:
		return v
	case []any:
		var out []doc
		for _, x := range v {
			if m, ok := x.(doc); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func hasRole(p doc, role string) bool { return slices.Contains(strs(p, "roles"), role) }
