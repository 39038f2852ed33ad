package gen_test

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/dutycheck/dutycheck/internal/gen"
)

// This file is a plain-Go reading of the ten duties of DOMAIN.md, written from the text and
// independently of the generator. The tests use it to show that a dataset generated without
// violations has none, and that the deliberate ones are where the generator says: every reason
// of every duty. It is a test oracle only; the service's checks are the Rego policies.

// finding is one failing check.
type finding struct {
	Organ   string
	Policy  string
	Reason  string
	Subject string // id of the subject document (or person)
	Detail  string // level and issuer, task, item or matter; level for lists
}

// kind names the policy and reason, and the level for lists, whose reasons DOMAIN.md asks for
// "at each kind of level".
func (f finding) kind() string {
	if f.Policy == "list.six_levels" {
		return f.Policy + "/" + f.Reason + "/" + f.Detail
	}
	return f.Policy + "/" + f.Reason
}

type doc = map[string]any

func str(d doc, f string) string { s, _ := d[f].(string); return s }

func has(d doc, f string) bool { _, ok := d[f]; return ok }

func num(d doc, f string) int {
	switch v := d[f].(type) {
	case int64:
		return int(v)
	case int:
		return v
	case float64:
		return int(v)
	}
	return -1
}

func list(d doc, f string) []any { l, _ := d[f].([]any); return l }

func day(s string) int {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(fmt.Sprintf("bad date %q", s))
	}
	return int(t.Unix() / 86400)
}

func hasRole(p doc, role string) bool { return slices.Contains(list(p, "roles"), any(role)) }

type checker struct {
	ds       gen.Dataset
	asOf     string
	asOfDay  int
	y        int
	depts    map[string]doc
	people   map[string]doc
	organOf  map[string]string // department id → organ id
	took     map[string]int    // person id → day they took office in Y
	findings []finding
	checks   int // duty checks made: the opportunities a violation could take
}

// check evaluates every duty of DOMAIN.md on ds as of asOf.
func check(ds gen.Dataset, asOf string) (findings []finding, checks int) {
	c := &checker{ds: ds, asOf: asOf, asOfDay: day(asOf), depts: map[string]doc{}, people: map[string]doc{},
		organOf: map[string]string{}, took: map[string]int{}}
	c.y = time.Unix(int64(c.asOfDay)*86400, 0).UTC().Year()
	for _, d := range ds["departments"] {
		c.depts[str(d, "id")] = d
	}
	for id := range c.depts {
		root := id
		for has(c.depts[root], "parent_id") {
			root = str(c.depts[root], "parent_id")
		}
		c.organOf[id] = root
	}
	for _, p := range ds["people"] {
		c.people[str(p, "id")] = p
	}
	for _, a := range ds["appointments"] {
		eff := str(a, "effective_on")
		if eff <= asOf && day(eff) >= c.ymd(1, 1) {
			pid := str(a, "person_id")
			c.took[pid] = max(c.took[pid], day(eff))
		}
	}
	c.talks()
	c.letters()
	c.recordBooks()
	c.suggestions()
	c.meetings()
	c.lists()
	c.files()
	c.branches()
	slices.SortFunc(c.findings, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Detail, b.Detail))
	})
	return c.findings, c.checks
}

func (c *checker) ymd(m, d int) int {
	return int(time.Date(c.y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (c *checker) fail(deptID, policy, reason, subject, detail string) {
	c.findings = append(c.findings, finding{c.organOf[deptID], policy, reason, subject, detail})
}

func (c *checker) onRoster(p doc) bool {
	return p["active"] == true && !(has(p, "left_on") && str(p, "left_on") <= c.asOf)
}

// roster returns the roster people in dataset order.
func (c *checker) roster() []doc {
	var r []doc
	for _, p := range c.ds["people"] {
		if c.onRoster(p) {
			r = append(r, p)
		}
	}
	return r
}

func (c *checker) personDept(pid string) string { return str(c.people[pid], "department_id") }

// deadline is the later of base and 30 days after any of pids took office in Y.
func (c *checker) deadline(base int, pids ...string) int {
	d := base
	for _, pid := range pids {
		if t, ok := c.took[pid]; ok {
			d = max(d, t+30)
		}
	}
	return d
}

// maxGap returns the largest distance between neighbours of the sorted days.
func maxGap(days []int) int {
	slices.Sort(days)
	g := 0
	for i := 1; i < len(days); i++ {
		g = max(g, days[i]-days[i-1])
	}
	return g
}

// 1. talk.pre_appointment
func (c *checker) talks() {
	talks := map[string][]int{}
	for _, t := range c.ds["talks"] {
		if str(t, "kind") == "pre_appointment" && t["recorded"] != false && str(t, "held_on") <= c.asOf {
			talks[str(t, "person_id")] = append(talks[str(t, "person_id")], day(str(t, "held_on")))
		}
	}
	for _, a := range c.ds["appointments"] {
		rank := str(a, "rank")
		if (rank != "bureau" && rank != "division") || str(a, "effective_on") > c.asOf {
			continue
		}
		c.checks++
		eff := day(str(a, "effective_on"))
		if !slices.ContainsFunc(talks[str(a, "person_id")], func(d int) bool { return d >= eff-90 && d <= eff }) {
			c.fail(str(a, "department_id"), "talk.pre_appointment", "missing", str(a, "id"), "")
		}
	}
}

// 2. letter.three_levels
func (c *checker) letters() {
	type pairKey struct {
		level          int
		issuer, signer string
	}
	letters := map[pairKey][]doc{}
	for _, l := range c.ds["letters"] {
		if num(l, "year") == c.y {
			k := pairKey{num(l, "level"), str(l, "issuer_id"), str(l, "signer_id")}
			letters[k] = append(letters[k], l)
		}
	}
	pair := func(level int, issuer, signer doc) {
		iid, sid := str(issuer, "id"), str(signer, "id")
		dl := c.deadline(c.ymd(3, 31), iid, sid)
		if c.asOfDay <= dl {
			return
		}
		c.checks++
		reason := "missing"
		for _, l := range letters[pairKey{level, iid, sid}] {
			signed := l["signed_by_issuer"] == true && l["signed_by_signer"] == true && has(l, "signed_on")
			switch {
			case signed && day(str(l, "signed_on")) <= dl:
				return
			case signed:
				reason = "late"
			case reason == "missing":
				reason = "unsigned"
			}
		}
		c.fail(str(signer, "department_id"), "letter.three_levels", reason, sid, fmt.Sprintf("level %d issuer %s", level, iid))
	}
	roster := c.roster()
	for _, sec := range roster {
		if !hasRole(sec, "party_group_secretary") {
			continue
		}
		organ := c.organOf[str(sec, "department_id")]
		for _, p := range roster {
			if str(p, "id") != str(sec, "id") && c.organOf[str(p, "department_id")] == organ &&
				(hasRole(p, "party_group_member") || str(p, "rank") == "bureau") {
				pair(1, sec, p)
			}
		}
	}
	inDept := map[any][]doc{}
	for _, p := range roster {
		inDept[p["department_id"]] = append(inDept[p["department_id"]], p)
	}
	for _, s := range roster {
		for _, d := range list(s, "supervises") {
			for _, h := range inDept[d] {
				if str(h, "id") != str(s, "id") && hasRole(h, "department_head") {
					pair(2, s, h)
				}
			}
		}
	}
	for _, h := range roster {
		if !hasRole(h, "department_head") {
			continue
		}
		for _, q := range inDept[h["department_id"]] {
			if str(q, "id") != str(h, "id") && str(q, "rank") == "division" {
				pair(3, h, q)
			}
		}
	}
}

// 3. recordbook.kept
func (c *checker) recordBooks() {
	books := map[string][]doc{}
	for _, b := range c.ds["record_books"] {
		if num(b, "year") != c.y || str(b, "issued_on") > c.asOf {
			continue
		}
		books[str(b, "holder_id")] = append(books[str(b, "holder_id")], b)
		holderDept := c.personDept(str(b, "holder_id"))
		issued := day(str(b, "issued_on"))
		start := max(c.ymd(1, 1), issued)
		days := []int{start, c.asOfDay}
		named := map[any]bool{}
		for _, e := range list(b, "entries") {
			e := e.(doc)
			if str(e, "date") > c.asOf {
				continue
			}
			if d := day(str(e, "date")); d >= start {
				days = append(days, d)
			}
			if has(e, "task_id") {
				named[e["task_id"]] = true
			}
		}
		if maxGap(days) > 60 {
			c.fail(holderDept, "recordbook.kept", "gap", str(b, "id"), "")
		}
		for _, t := range list(b, "tasks") {
			t := t.(doc)
			if str(t, "due_on") <= c.asOf && !named[t["id"]] {
				c.fail(holderDept, "recordbook.kept", "task_without_entry", str(b, "id"), str(t, "id"))
			}
		}
		if c.asOfDay-issued > 183 && !slices.ContainsFunc(list(b, "inspections"), func(i any) bool {
			d := str(i.(doc), "date")
			return d <= c.asOf && day(d) >= c.asOfDay-183
		}) {
			c.fail(holderDept, "recordbook.kept", "not_inspected", str(b, "id"), "")
		}
	}
	for _, p := range c.roster() {
		if !hasRole(p, "party_group_member") && !hasRole(p, "department_head") && str(p, "rank") != "bureau" {
			continue
		}
		c.checks++
		if len(books[str(p, "id")]) == 0 && c.asOfDay > c.deadline(c.ymd(1, 31), str(p, "id")) {
			c.fail(str(p, "department_id"), "recordbook.kept", "missing", str(p, "id"), "")
		}
	}
}

// 4. suggestion.closeout
func (c *checker) suggestions() {
	for _, s := range c.ds["suggestions"] {
		if str(s, "issued_on") > c.asOf {
			continue
		}
		for _, it := range list(s, "items") {
			it := it.(doc)
			c.checks++
			switch {
			case str(it, "status") == "open" && c.asOf > str(it, "due_on"):
				c.fail(str(s, "department_id"), "suggestion.closeout", "overdue", str(s, "id"), str(it, "id"))
			case str(it, "status") == "closed" && (!has(it, "closed_on") || str(it, "evidence") == ""):
				c.fail(str(s, "department_id"), "suggestion.closeout", "closed_without_evidence", str(s, "id"), str(it, "id"))
			}
		}
	}
}

// 5. meeting.annual_conduct and 6. meeting.joint
func (c *checker) meetings() {
	yStart, q1End := c.ymd(1, 1), c.ymd(3, 31)
	held := map[string]bool{}
	joint := map[string][]int{}
	for _, m := range c.ds["meetings"] {
		h := str(m, "held_on")
		if h > c.asOf {
			continue
		}
		d := day(h)
		switch str(m, "kind") {
		case "annual_conduct":
			if d >= yStart && d <= q1End {
				held[c.organOf[str(m, "department_id")]] = true
			}
		case "joint":
			if d >= yStart {
				joint[str(m, "department_id")] = append(joint[str(m, "department_id")], d)
			}
		}
	}
	for _, d := range c.ds["departments"] {
		id := str(d, "id")
		switch str(d, "kind") {
		case "organ":
			if c.asOfDay > q1End {
				c.checks++
				if !held[id] {
					c.fail(id, "meeting.annual_conduct", "missing", id, "")
				}
			}
		case "discipline_committee":
			c.checks++
			if maxGap(append([]int{yStart, c.asOfDay}, joint[id]...)) > 92 {
				c.fail(id, "meeting.joint", "gap", id, "")
			}
		}
	}
}

// 7. list.six_levels
func (c *checker) lists() {
	if c.asOfDay <= c.ymd(3, 31) {
		return
	}
	organLevels := map[string]bool{}    // organ + "/" + level
	personLevels := map[string]bool{}   // holder + "/" + level
	committeeLists := map[string]bool{} // department id
	for _, l := range c.ds["responsibility_lists"] {
		if num(l, "year") != c.y {
			continue
		}
		organLevels[c.organOf[str(l, "department_id")]+"/"+str(l, "level")] = true
		if has(l, "holder_id") {
			personLevels[str(l, "holder_id")+"/"+str(l, "level")] = true
		}
		committeeLists[str(l, "department_id")] = true
	}
	owe := func(dept, subject, level string, ok bool) {
		c.checks++
		if !ok {
			c.fail(dept, "list.six_levels", "missing", subject, level)
		}
	}
	for _, d := range c.ds["departments"] {
		id := str(d, "id")
		switch str(d, "kind") {
		case "organ":
			for _, level := range []string{"party_group", "party_committee", "discipline_committee"} {
				owe(id, id, level, organLevels[id+"/"+level])
			}
		case "special_committee":
			owe(id, id, "special_committee", committeeLists[id])
		}
	}
	for _, p := range c.roster() {
		id, dept := str(p, "id"), str(p, "department_id")
		if hasRole(p, "party_group_secretary") {
			owe(dept, id, "party_group_secretary", personLevels[id+"/party_group_secretary"])
		} else if hasRole(p, "party_group_member") || str(p, "rank") == "bureau" {
			owe(dept, id, "leaders", personLevels[id+"/leaders"])
		}
		if hasRole(p, "department_head") {
			owe(dept, id, "department_heads", personLevels[id+"/department_heads"])
		}
	}
}

// 8. archive.integrity_file and 9. archive.major_matters
func (c *checker) files() {
	newest := map[string]string{}
	for _, f := range c.ds["integrity_files"] {
		pid := str(f, "person_id")
		newest[pid] = max(newest[pid], str(f, "updated_on"))
		for _, m := range list(f, "major_matters") {
			m := m.(doc)
			if str(m, "event_on") > c.asOf {
				continue
			}
			c.checks++
			event := day(str(m, "event_on"))
			switch {
			case has(m, "reported_on") && day(str(m, "reported_on"))-event > 30:
				c.fail(c.personDept(pid), "archive.major_matters", "late", str(f, "id"), str(m, "id"))
			case !has(m, "reported_on") && c.asOfDay-event > 30:
				c.fail(c.personDept(pid), "archive.major_matters", "unreported", str(f, "id"), str(m, "id"))
			}
		}
	}
	for _, p := range c.roster() {
		if r := str(p, "rank"); r != "bureau" && r != "division" {
			continue
		}
		c.checks++
		id := str(p, "id")
		switch u, ok := newest[id]; {
		case !ok:
			c.fail(str(p, "department_id"), "archive.integrity_file", "missing", id, "")
		case c.asOfDay-day(u) > 365:
			c.fail(str(p, "department_id"), "archive.integrity_file", "stale", id, "")
		}
	}
}

// 10. branch.discipline_member
func (c *checker) branches() {
	for _, d := range c.ds["departments"] {
		if str(d, "kind") != "branch" {
			continue
		}
		c.checks++
		p, ok := c.people[str(d, "discipline_member_id")]
		if !ok || !c.onRoster(p) {
			c.fail(str(d, "id"), "branch.discipline_member", "missing", str(d, "id"), "")
		}
	}
}
