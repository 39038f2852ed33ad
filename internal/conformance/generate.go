package conformance

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// GenOptions steers Generate.
type GenOptions struct {
	// AsOf is the scan date around which boundary dates are placed; "" means 2025-06-30.
	AsOf string
	// Organs is the number of organs, 1 to 3; 0 picks one at random.
	Organs int
}

// DefaultAsOf is the as_of date Generate places its boundaries around when none is given.
const DefaultAsOf = "2025-06-30"

// Generate makes a random but valid dataset (collection name → documents, as DOMAIN.md describes
// them) from seed: 1 to 3 organs, each a small organisation of 10 to 40 people, with the dates of
// every duty placed on and around its boundaries relative to opts.AsOf (the fixed deadlines of its
// year, 30 days after taking office, the day ranges of each duty, records dated after as_of).
// The same seed and options always give the same dataset.
func Generate(seed int64, opts GenOptions) map[string][]map[string]any {
	asOf := opts.AsOf
	if asOf == "" {
		asOf = DefaultAsOf
	}
	g := &gen{
		r:    rand.New(rand.NewPCG(uint64(seed), 0x6475747963686563)),
		asOf: mustDay(asOf),
		ds:   map[string][]doc{},
		took: map[string]day{},
	}
	g.y = g.asOf.year()
	n := opts.Organs
	if n <= 0 || n > 3 {
		n = 1 + g.r.IntN(3)
	}
	for k := 1; k <= n; k++ {
		o := &gOrgan{p: fmt.Sprintf("O%d", k)}
		g.organs = append(g.organs, o)
		g.departments(o)
		g.people(o)
	}
	g.crossOrgan()
	for _, o := range g.organs {
		g.appointments(o)
		g.talks(o)
		g.recordBooks(o)
		g.suggestions(o)
		g.meetings(o)
		g.lists(o)
		g.integrityFiles(o)
	}
	g.crossAppointment()
	g.letters()
	for _, c := range Collections {
		if g.ds[c] == nil {
			g.ds[c] = []doc{}
		}
	}
	return g.ds
}

// WriteDir writes ds as a dataset folder: one <collection>.json file, a JSON array, per
// collection of ds.
func WriteDir(dir string, ds map[string][]map[string]any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	for name, docs := range ds {
		if docs == nil {
			docs = []doc{}
		}
		b, err := json.MarshalIndent(docs, "", "  ")
		if err != nil {
			return fmt.Errorf("write dataset: encode %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write dataset: %w", err)
		}
	}
	return nil
}

type gen struct {
	r      *rand.Rand
	asOf   day
	y      int
	ds     map[string][]doc
	organs []*gOrgan
	n      int            // counter for ids of records other than departments and people
	took   map[string]day // person → latest appointment effective in Y and <= as_of
}

// gOrgan is one organisation under construction.
type gOrgan struct {
	p                                   string // id prefix, e.g. "O1"
	root, pc, dc                        string
	scs, offices, divs, units, branches []string
	admin                               []string // departments that have heads
	all                                 []string // every department of the organ
	people                              []doc
	branchMember                        map[string]string // branch → its designated discipline member
	depts                               map[string]doc
}

func (g *gen) add(coll string, d doc) doc {
	g.ds[coll] = append(g.ds[coll], d)
	return d
}

func (g *gen) nextID(prefix string) string {
	g.n++
	return fmt.Sprintf("%s-%04d", prefix, g.n)
}

// chance reports true with probability p.
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// between is a random day in [a, b].
func (g *gen) between(a, b day) day {
	if b <= a {
		return a
	}
	return a + day(g.r.IntN(int(b-a)+1))
}

func (g *gen) jan1() day  { return dayOf(g.y, time.January, 1) }
func (g *gen) mar31() day { return dayOf(g.y, time.March, 31) }
func (g *gen) jan31() day { return dayOf(g.y, time.January, 31) }

// --- organisation ---

func (g *gen) dept(o *gOrgan, id, kind, parent, name string) string {
	d := doc{"id": id, "name": name, "kind": kind}
	if parent != "" {
		d["parent_id"] = parent
	}
	g.add(collDepartments, d)
	o.all = append(o.all, id)
	o.depts[id] = d
	return id
}

func (g *gen) departments(o *gOrgan) {
	o.depts = map[string]doc{}
	o.branchMember = map[string]string{}
	p := o.p
	o.root = g.dept(o, p+"-ORG", kindOrgan, "", "Organ "+p)
	o.pc = g.dept(o, p+"-PC", kindPartyCommittee, o.root, "Organ Party Committee")
	o.dc = g.dept(o, p+"-DC", kindDiscipline, pick(g, o.root, o.pc), "Organ Discipline Committee")
	o.admin = append(o.admin, o.pc, o.dc)
	for i := range 1 + g.r.IntN(2) {
		o.scs = append(o.scs, g.dept(o, fmt.Sprintf("%s-SC%d", p, i+1), kindSpecial, o.root, fmt.Sprintf("Special Committee %d", i+1)))
	}
	for i := range 1 + g.r.IntN(2) {
		o.offices = append(o.offices, g.dept(o, fmt.Sprintf("%s-OFF%d", p, i+1), "office", o.root, pick(g, "General Office", "Research Office")))
	}
	parents := append([]string{o.root}, append(slices.Clone(o.offices), o.scs...)...)
	for i := range 1 + g.r.IntN(3) {
		parent := pick(g, parents...)
		if len(o.divs) > 0 && g.chance(0.2) {
			parent = pick(g, o.divs...) // a deeper tree
		}
		o.divs = append(o.divs, g.dept(o, fmt.Sprintf("%s-DIV%d", p, i+1), "division", parent, fmt.Sprintf("Division %d", i+1)))
	}
	for i := range g.r.IntN(2) {
		o.units = append(o.units, g.dept(o, fmt.Sprintf("%s-UNIT%d", p, i+1), "unit", o.root, "Affiliated Unit"))
	}
	o.admin = append(o.admin, o.scs...)
	o.admin = append(o.admin, o.offices...)
	o.admin = append(o.admin, o.divs...)
	o.admin = append(o.admin, o.units...)
	for i := range 1 + g.r.IntN(3) {
		parent := pick(g, append([]string{o.pc}, o.divs...)...)
		o.branches = append(o.branches, g.dept(o, fmt.Sprintf("%s-BR%d", p, i+1), kindBranch, parent, fmt.Sprintf("Party Branch %d", i+1)))
	}
}

// person adds a person; offProb is the chance that they are off the roster (or nearly so) at as_of.
func (g *gen) person(o *gOrgan, dept, rank string, offProb float64, roles ...string) doc {
	id := fmt.Sprintf("%s-P%02d", o.p, len(o.people)+1)
	if roles == nil {
		roles = []string{}
	}
	p := doc{"id": id, "name": "Person " + id, "department_id": dept, "rank": rank, "roles": roles, "active": true}
	if g.chance(offProb) {
		switch g.r.IntN(7) {
		case 0:
			p["active"] = false
		case 1:
			p["left_on"] = g.asOf.String() // off: left_on <= as_of
		case 2:
			p["left_on"] = (g.asOf - 1).String()
		case 3:
			p["left_on"] = (g.asOf + 1).String() // still on the roster
		case 4:
			p["active"] = false
			p["left_on"] = (g.asOf + 30).String()
		case 5:
			p["left_on"] = (g.asOf - 200).String()
		case 6:
			p["left_on"] = (g.asOf + 200).String()
		}
	}
	o.people = append(o.people, p)
	return g.add(collPeople, p)
}

func (g *gen) people(o *gOrgan) {
	secRoles := pick(g, []string{roleSecretary}, []string{roleSecretary, roleMember})
	sec := g.person(o, o.root, rankBureau, 0.1, secRoles...)
	if g.chance(0.15) {
		sec["supervises"] = []string{pick(g, o.admin...)}
	}
	for range 1 + g.r.IntN(3) {
		rank := rankBureau
		if g.chance(0.1) {
			rank = rankDivision
		}
		m := g.person(o, pick(g, o.root, o.offices[0]), rank, 0.12, roleMember)
		switch {
		case g.chance(0.1):
			m["supervises"] = []string{}
		case g.chance(0.9):
			var sup []string
			for range 1 + g.r.IntN(3) {
				if d := pick(g, o.admin...); !slices.Contains(sup, d) {
					sup = append(sup, d)
				}
			}
			m["supervises"] = sup
		}
	}
	for _, d := range o.admin {
		heads := 1
		switch x := g.r.IntN(100); {
		case x < 12:
			heads = 0
		case x < 22:
			heads = 2
		}
		for range heads {
			rank := rankDivision
			switch x := g.r.IntN(100); {
			case x < 15 || (d == o.pc || slices.Contains(o.scs, d)) && x < 50:
				rank = rankBureau
			case x < 25:
				rank = "section"
			}
			roles := []string{roleHead}
			if g.chance(0.05) {
				roles = append(roles, roleDiscipline)
			}
			h := g.person(o, d, rank, 0.15, roles...)
			if g.chance(0.1) {
				h["supervises"] = []string{pick(g, d, pick(g, o.admin...))} // maybe their own department
			}
		}
		for range pick(g, 0, 0, 0, 1, 1, 2) {
			g.person(o, d, rankDivision, 0.2)
		}
	}
	if g.chance(0.5) {
		g.person(o, pick(g, o.scs...), rankBureau, 0.15) // a bureau-rank cadre with no role
	}
	for _, b := range o.branches {
		dept := b
		if parent := str(o.depts[b], "parent_id"); parent != o.pc && g.chance(0.6) {
			dept = parent
		}
		dm := g.person(o, dept, pick(g, "section", "staff", rankDivision), 0.3, roleDiscipline)
		o.branchMember[b] = str(dm, "id")
	}
	target := 10 + g.r.IntN(31)
	for len(o.people) < target {
		rank := pick(g, "section", "staff", "staff", "section", rankDivision)
		g.person(o, pick(g, append(slices.Clone(o.admin), o.branches...)...), rank, 0.2)
	}
	for _, b := range o.branches {
		if g.chance(0.85) {
			o.depts[b]["discipline_member_id"] = o.branchMember[b]
		}
	}
}

// crossOrgan adds, rarely, references across organs: a leader who supervises a department of
// another organ, and a branch whose discipline member belongs to another organ. DOMAIN.md counts
// pairs and rosters within one organ, so neither makes a pair or a roster member.
func (g *gen) crossOrgan() {
	if len(g.organs) < 2 {
		return
	}
	a, b := g.organs[0], g.organs[1]
	if g.chance(0.4) {
		for _, p := range a.people {
			if hasRole(p, roleMember) {
				p["supervises"] = append(strs(p, "supervises"), pick(g, b.admin...))
				break
			}
		}
	}
	if g.chance(0.4) {
		br := pick(g, b.branches...)
		b.depts[br]["discipline_member_id"] = str(pick(g, a.people...), "id")
	}
}

// --- records ---

func (g *gen) appointments(o *gOrgan) {
	mar31, jan31 := g.mar31(), g.jan31()
	for _, p := range o.people {
		if !g.chance(0.45) {
			continue
		}
		for range pick(g, 1, 1, 1, 2) {
			var eff day
			if g.chance(0.75) {
				a := g.asOf
				eff = pick(g, a, a-1, a+1, a-29, a-30, a-31, a-90, a-91, mar31-30, mar31-29, jan31-30, jan31-29,
					g.jan1()-1, g.jan1(), a-200, a-365)
			} else {
				eff = g.between(dayOf(g.y-1, time.January, 1), g.asOf+10)
			}
			rank := str(p, "rank")
			if g.chance(0.3) {
				rank = pick(g, rankBureau, rankDivision, "section", "staff")
			}
			dept := str(p, "department_id")
			if g.chance(0.2) {
				dept = pick(g, o.all...)
			}
			id := str(p, "id")
			g.add(collAppointments, doc{"id": g.nextID(o.p + "-A"), "person_id": id, "department_id": dept,
				"position": "position in " + dept, "rank": rank, "effective_on": eff.String()})
			if eff <= g.asOf && eff.year() == g.y {
				if t, ok := g.took[id]; !ok || eff > t {
					g.took[id] = eff
				}
			}
			g.preAppointmentTalks(o, id, eff)
		}
	}
}

func (g *gen) talk(o *gOrgan, kind, person string, held day, extra doc) {
	t := doc{"id": g.nextID(o.p + "-T"), "kind": kind, "person_id": person, "held_on": held.String()}
	if g.chance(0.6) {
		t["conducted_by"] = str(o.people[0], "id")
	}
	for k, v := range extra {
		t[k] = v
	}
	g.add(collTalks, t)
}

// preAppointmentTalks places the talks of one appointment around [eff-90, eff].
func (g *gen) preAppointmentTalks(o *gOrgan, person string, eff day) {
	const pre = "pre_appointment"
	switch g.r.IntN(12) {
	case 0: // none
	case 1:
		g.talk(o, pre, person, eff-90, nil)
	case 2:
		g.talk(o, pre, person, eff-91, nil)
	case 3:
		g.talk(o, pre, person, eff, nil)
	case 4:
		g.talk(o, pre, person, eff+1, nil)
	case 5:
		g.talk(o, pre, person, eff-day(1+g.r.IntN(89)), nil)
	case 6:
		g.talk(o, pre, person, eff-10, doc{"recorded": false})
	case 7:
		g.talk(o, pre, person, eff-5, doc{"recorded": true})
	case 8:
		g.talk(o, pick(g, "general", "reminder", "petition_verification"), person, eff-5, nil)
	case 9:
		g.talk(o, pre, person, eff-91, nil)
		g.talk(o, pre, person, eff-3, nil)
	case 10:
		g.talk(o, pre, person, eff-20, doc{"recorded": false})
		g.talk(o, pre, person, eff-90, doc{"recorded": true})
	case 11: // the talk was with someone else
		g.talk(o, pre, str(pick(g, o.people...), "id"), eff-5, nil)
	}
}

func (g *gen) talks(o *gOrgan) {
	for range g.r.IntN(4) {
		g.talk(o, pick(g, "general", "reminder", "petition_verification", "pre_appointment"),
			str(pick(g, o.people...), "id"), g.between(g.asOf-400, g.asOf+30), nil)
	}
}

// deadline mirrors duty 2's and 3's deadline, to place dates around it.
func (g *gen) deadline(fixed day, people ...string) day {
	d := fixed
	for _, p := range people {
		if t, ok := g.took[p]; ok && t+daysAfterTakingOffice > d {
			d = t + daysAfterTakingOffice
		}
	}
	return d
}

// letters places letters for every pair the three levels could require, whoever is on the
// roster, so that the roster rule is tested too.
func (g *gen) letters() {
	var all []doc
	byDept := map[string][]doc{}
	for _, o := range g.organs {
		all = append(all, o.people...)
		for _, p := range o.people {
			byDept[str(p, "department_id")] = append(byDept[str(p, "department_id")], p)
		}
	}
	type pair struct {
		level          int
		issuer, signer string
	}
	var pairs []pair
	for _, o := range g.organs {
		for _, s := range o.people {
			if !hasRole(s, roleSecretary) {
				continue
			}
			for _, p := range o.people {
				if str(p, "id") != str(s, "id") && (hasRole(p, roleMember) || str(p, "rank") == rankBureau) {
					pairs = append(pairs, pair{1, str(s, "id"), str(p, "id")})
				}
			}
		}
	}
	for _, s := range all {
		for _, d := range strs(s, "supervises") {
			for _, h := range byDept[d] {
				if hasRole(h, roleHead) && str(h, "id") != str(s, "id") {
					pairs = append(pairs, pair{2, str(s, "id"), str(h, "id")})
				}
			}
		}
	}
	for _, h := range all {
		if !hasRole(h, roleHead) {
			continue
		}
		for _, p := range byDept[str(h, "department_id")] {
			if str(p, "id") != str(h, "id") && str(p, "rank") == rankDivision {
				pairs = append(pairs, pair{3, str(h, "id"), str(p, "id")})
			}
		}
	}
	for _, pr := range pairs {
		dl := g.deadline(g.mar31(), pr.issuer, pr.signer)
		letter := func(signedOn day, byIssuer, bySigner bool) doc {
			l := doc{"id": g.nextID("L"), "year": g.y, "level": pr.level, "issuer_id": pr.issuer, "signer_id": pr.signer,
				"signed_by_issuer": byIssuer, "signed_by_signer": bySigner}
			if signedOn != 0 {
				l["signed_on"] = signedOn.String()
			}
			return g.add(collLetters, l)
		}
		good := func() { letter(dl-day(g.r.IntN(3)*g.r.IntN(40)), true, true) }
		late := func() { letter(dl+1+day(g.r.IntN(2)*g.r.IntN(60)), true, true) }
		unsigned := func() {
			var on day
			if g.chance(0.5) {
				on = dl - 3
			}
			switch g.r.IntN(3) {
			case 0:
				letter(on, false, true)
			case 1:
				letter(on, true, false)
			default:
				letter(on, false, false)
			}
		}
		switch x := g.r.IntN(100); {
		case x < 14: // none
		case x < 34:
			letter(dl, true, true)
		case x < 46:
			good()
		case x < 56:
			letter(dl+1, true, true)
		case x < 60:
			late()
		case x < 70:
			unsigned()
		case x < 75:
			letter(0, true, true) // signed by both, no signed_on
		case x < 79:
			unsigned()
			good()
		case x < 83:
			late()
			good()
		case x < 87:
			late()
			unsigned()
		case x < 91:
			l := letter(dl, true, true)
			l["year"] = g.y - 1
		case x < 94:
			l := letter(dl, true, true)
			l["level"] = pr.level%3 + 1
		case x < 97:
			l := letter(dl, true, true)
			l["issuer_id"], l["signer_id"] = pr.signer, pr.issuer
		default:
			letter(g.asOf+5, true, true) // signed after as_of: late by the text's words
		}
	}
}

// chain is a run of days after start, up to end, with steps around limit (sometimes exactly
// limit, sometimes limit+1), and sometimes a last day exactly limit or limit+1 days before end.
func (g *gen) chain(start, end day, limit int) []day {
	var out []day
	cur := start
	for {
		var step int
		switch x := g.r.IntN(100); {
		case x < 8:
			step = limit + 1
		case x < 22:
			step = limit
		case x < 30:
			step = 1 + g.r.IntN(5)
		default:
			step = limit/2 + g.r.IntN(limit/2)
		}
		cur += day(step)
		if cur > end {
			break
		}
		out = append(out, cur)
	}
	last := start
	if len(out) > 0 {
		last = out[len(out)-1]
	}
	if g.chance(0.35) {
		if d := end - day(limit+g.r.IntN(2)); d > last {
			out = append(out, d)
		}
	}
	return out
}

func (g *gen) recordBooks(o *gOrgan) {
	for _, p := range o.people {
		holder := hasRole(p, roleMember) || hasRole(p, roleHead) || str(p, "rank") == rankBureau
		if !holder && !g.chance(0.2) {
			continue
		}
		switch x := g.r.IntN(100); {
		case x < 14: // none
		case x < 19:
			g.book(o, p, g.y-1, dayOf(g.y-1, time.January, 10))
		default:
			for range pick(g, 1, 1, 1, 1, 1, 1, 1, 1, 2) {
				a := g.asOf
				issued := pick(g, g.jan1()+day(g.r.IntN(20)), dayOf(g.y-1, time.December, 15)+day(g.r.IntN(17)),
					a, a+1, a-183, a-184, a-60, a-61, g.between(g.jan1(), a), g.jan31(), g.jan31()+1)
				g.book(o, p, g.y, issued)
			}
		}
	}
}

func (g *gen) book(o *gOrgan, holder doc, year int, issued day) {
	start := max(dayOf(year, time.January, 1), issued)
	end := g.asOf
	if year < g.y {
		end = dayOf(year, time.December, 31)
	}
	var tasks []doc
	for i := range g.r.IntN(4) {
		a := g.asOf
		due := pick(g, a, a-1, a+1, g.between(start, a+60), g.between(start, a))
		tasks = append(tasks, doc{"id": fmt.Sprintf("K%d", i+1), "title": fmt.Sprintf("task %d", i+1), "due_on": due.String()})
	}
	var entries []doc
	entry := func(d day, task string) {
		e := doc{"date": d.String(), "content": "duty performed"}
		if task != "" {
			e["task_id"] = task
		}
		entries = append(entries, e)
	}
	for _, d := range g.chain(start, end, bookMaxGapDays) {
		entry(d, "")
	}
	for _, t := range tasks {
		switch g.r.IntN(6) {
		case 0, 1: // named by an entry on a day already in the book
			if len(entries) > 0 {
				pick(g, entries...)["task_id"] = str(t, "id")
			}
		case 2:
			entry(g.asOf, str(t, "id"))
		case 3:
			entry(g.asOf+1+day(g.r.IntN(10)), str(t, "id")) // after as_of: does not count
		case 4:
			entry(start-day(1+g.r.IntN(20)), str(t, "id")) // before the book's range, still <= as_of
		}
	}
	if g.chance(0.2) {
		entry(g.asOf+day(1+g.r.IntN(30)), "")
	}
	if g.chance(0.25) {
		entry(start-day(1+g.r.IntN(90)), "") // before the book's range: not part of the gap check
	}
	if g.chance(0.1) {
		entry(g.between(start, g.asOf), "unknown-task")
	}
	g.r.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	var inspections []doc
	for range pick(g, 0, 1, 1, 1, 2) {
		a := g.asOf
		d := pick(g, a-183, a-184, a, a+1, g.between(issued, a), a-100)
		ins := doc{"date": d.String(), "inspector_id": str(pick(g, o.people...), "id")}
		if g.chance(0.5) {
			ins["findings"] = "no findings"
		}
		inspections = append(inspections, ins)
	}
	if tasks == nil {
		tasks = []doc{}
	}
	if entries == nil {
		entries = []doc{}
	}
	if inspections == nil {
		inspections = []doc{}
	}
	g.add(collBooks, doc{"id": g.nextID(o.p + "-B"), "year": year, "holder_id": str(holder, "id"), "issued_on": issued.String(),
		"tasks": tasks, "entries": entries, "inspections": inspections})
}

func (g *gen) suggestions(o *gOrgan) {
	for range 1 + g.r.IntN(4) {
		a := g.asOf
		issued := pick(g, a-day(g.r.IntN(200)), a, a+1, dayOf(g.y-1, time.November, 20))
		var items []doc
		for i := range 1 + g.r.IntN(3) {
			it := doc{"id": fmt.Sprintf("I%d", i+1), "text": "rectify", "status": "open"}
			due := pick(g, a, a-1, a+1, g.between(issued, a+60))
			it["due_on"] = due.String()
			closedOn := g.between(issued, a).String()
			switch g.r.IntN(10) {
			case 0, 1, 2: // open
			case 3, 4:
				it["status"], it["closed_on"], it["evidence"] = "closed", closedOn, "meeting minutes"
			case 5:
				it["status"], it["evidence"] = "closed", "photos"
			case 6:
				it["status"], it["closed_on"], it["evidence"] = "closed", closedOn, ""
			case 7:
				it["status"], it["closed_on"] = "closed", closedOn
			case 8:
				it["status"] = "closed"
			case 9:
				it["closed_on"], it["evidence"] = closedOn, "open but with a date" // still open
			}
			items = append(items, it)
		}
		g.add(collSuggestions, doc{"id": g.nextID(o.p + "-S"), "department_id": pick(g, o.all...),
			"issued_on": issued.String(), "items": items})
	}
}

func (g *gen) meeting(o *gOrgan, kind, dept string, held day) {
	g.add(collMeetings, doc{"id": g.nextID(o.p + "-M"), "kind": kind, "department_id": dept, "held_on": held.String()})
}

func (g *gen) meetings(o *gOrgan) {
	for range pick(g, 0, 1, 1, 1, 2) {
		held := pick(g, g.mar31(), g.jan1(), g.mar31()+1, g.jan1()-1, g.between(g.jan1(), g.mar31()), g.between(g.jan1(), g.asOf))
		g.meeting(o, "annual_conduct", pick(g, o.root, o.root, o.pc, pick(g, o.all...)), held)
	}
	if g.chance(0.3) {
		g.meeting(o, pick(g, "democratic_life", "joint"), o.root, g.between(g.jan1(), g.mar31()))
	}
	if !g.chance(0.1) {
		for _, d := range g.chain(g.jan1(), g.asOf, jointMaxGapDays) {
			g.meeting(o, "joint", o.dc, d)
		}
	}
	if g.chance(0.3) {
		g.meeting(o, "joint", o.dc, g.asOf+day(1+g.r.IntN(20))) // after as_of: ignored
	}
	if g.chance(0.3) {
		g.meeting(o, "joint", o.dc, g.jan1()-day(1+g.r.IntN(20))) // last year
	}
	if g.chance(0.3) {
		g.meeting(o, "joint", pick(g, o.pc, o.root), g.between(g.jan1(), g.asOf)) // not the committee
	}
	if g.chance(0.2) {
		g.meeting(o, "training", o.dc, g.between(g.jan1(), g.asOf))
	}
}

func (g *gen) list(o *gOrgan, level, dept, holder string) doc {
	l := doc{"id": g.nextID(o.p + "-RL"), "year": g.y, "level": level, "department_id": dept,
		"items": []string{"duty one", "duty two"}}
	if holder != "" {
		l["holder_id"] = holder
	}
	return g.add(collLists, l)
}

// listOutcome adds the list, none, or a near miss.
func (g *gen) listOutcome(o *gOrgan, level, dept, holder string, otherLevel string) {
	switch x := g.r.IntN(100); {
	case x < 15: // none
	case x < 23:
		g.list(o, level, dept, holder)["year"] = g.y - 1
	case x < 30:
		g.list(o, otherLevel, dept, holder)
	default:
		g.list(o, level, dept, holder)
	}
}

func (g *gen) lists(o *gOrgan) {
	natural := map[string]string{"party_group": o.root, "party_committee": o.pc, "discipline_committee": o.dc}
	for _, level := range []string{"party_group", "party_committee", "discipline_committee"} {
		dept := natural[level]
		if g.chance(0.2) {
			dept = pick(g, o.all...)
		}
		g.listOutcome(o, level, dept, "", pick(g, "party_group", "party_committee", "discipline_committee", "leaders"))
	}
	for _, p := range o.people {
		id, dept := str(p, "id"), str(p, "department_id")
		if g.chance(0.5) {
			dept = o.root // a person's list need not name their own department
		}
		if hasRole(p, roleSecretary) {
			g.listOutcome(o, "party_group_secretary", dept, id, "leaders")
		}
		if hasRole(p, roleMember) || str(p, "rank") == rankBureau {
			g.listOutcome(o, "leaders", dept, id, "department_heads")
		}
		if hasRole(p, roleHead) {
			g.listOutcome(o, "department_heads", dept, id, "leaders")
		}
	}
	for _, sc := range o.scs {
		g.listOutcome(o, pick(g, "special_committee", "special_committee", "leaders"), sc, "", "special_committee")
	}
}

func (g *gen) integrityFiles(o *gOrgan) {
	for _, p := range o.people {
		if r := str(p, "rank"); r != rankBureau && r != rankDivision && !g.chance(0.2) {
			continue
		}
		n := pick(g, 0, 1, 1, 1, 1, 1, 2)
		for range n {
			a := g.asOf
			updated := pick(g, a-365, a-366, a-day(g.r.IntN(365)), a-400-day(g.r.IntN(200)), a, a-365, a-366)
			if g.chance(0.03) {
				updated = a + 1 // updated after as_of: files are not among the records DOMAIN.md ignores by date
			}
			var matters []doc
			for i := range pick(g, 0, 0, 1, 2, 3) {
				event := pick(g, a-30, a-31, a, a+1, g.between(a-400, a))
				m := doc{"id": fmt.Sprintf("MM%d", i+1), "kind": pick(g, "marriage", "travel abroad", "house purchase"),
					"event_on": event.String()}
				switch g.r.IntN(6) {
				case 0, 1: // not reported
				case 2:
					m["reported_on"] = (event + matterReportDays).String()
				case 3:
					m["reported_on"] = (event + matterReportDays + 1).String()
				case 4:
					m["reported_on"] = (event + day(g.r.IntN(matterReportDays))).String()
				case 5:
					m["reported_on"] = (event + matterReportDays + 2 + day(g.r.IntN(40))).String()
				}
				matters = append(matters, m)
			}
			if matters == nil {
				matters = []doc{}
			}
			g.add(collFiles, doc{"id": g.nextID(o.p + "-F"), "person_id": str(p, "id"), "updated_on": updated.String(),
				"major_matters": matters})
		}
	}
}

// ReadDir reads a dataset folder as WriteDir writes it: every <collection>.json file of
// Collections that exists, a JSON array of objects. Numbers decode as float64, as the oracle
// expects of JSON input.
func ReadDir(dir string) (map[string][]map[string]any, error) {
	ds := map[string][]map[string]any{}
	for _, c := range Collections {
		b, err := os.ReadFile(filepath.Join(dir, c+".json"))
		if os.IsNotExist(err) {
			ds[c] = []doc{}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read dataset: %w", err)
		}
		var docs []doc
		if err := json.Unmarshal(b, &docs); err != nil {
			return nil, fmt.Errorf("read dataset: %s: %w", c, err)
		}
		ds[c] = docs
	}
	return ds, nil
}

// crossAppointment adds, sometimes, an appointment of a person of the first organ to a
// department of the second (a transfer or secondment not yet shown in department_id). Its
// violation's department is the appointment's department_id (DOMAIN.md), so a scan of the
// second organ must report it.
func (g *gen) crossAppointment() {
	if len(g.organs) < 2 || !g.chance(0.4) {
		return
	}
	a, b := g.organs[0], g.organs[1]
	p := pick(g, a.people...)
	eff := g.asOf - day(g.r.IntN(100))
	dept := pick(g, b.admin...)
	g.add(collAppointments, doc{"id": g.nextID(a.p + "-A"), "person_id": str(p, "id"), "department_id": dept,
		"position": "seconded to " + dept, "rank": pick(g, rankBureau, rankDivision), "effective_on": eff.String()})
	if eff.year() == g.y {
		if t, ok := g.took[str(p, "id")]; !ok || eff > t {
			g.took[str(p, "id")] = eff
		}
	}
	g.preAppointmentTalks(a, str(p, "id"), eff)
}
