package gen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Boundary mode (Options.Boundaries) builds, from the same organisation pieces and record
// emitters as the default mode, small organisations (10 to 40 people, of random shape) whose
// dates sit on and around every boundary of every duty relative to Options.AsOf: the fixed
// deadlines of its year (01-01, 01-31, 03-31), 30 days after taking office, each duty's day
// counts (90 days before an appointment, 60 days between book entries, 183 days since an
// inspection, 92 days between joint meetings, 365 days since a file was updated, 30 days to
// report a matter), rosters at their edge, and records dated after as_of. It also draws the
// near misses a reading of DOMAIN.md must tell apart (a talk with someone else, a letter of
// last year, at another level or with its parties swapped, a list at another level, a joint
// meeting not held by the discipline committee) and references across organs. Nothing is
// decided to comply or not: the conformance check (internal/conformance) works out what the
// dates mean with its own reading of DOMAIN.md and compares it with the policies.

// BoundaryAsOf is the as_of date boundary mode places its boundaries around when
// Options.AsOf is empty.
const BoundaryAsOf = "2025-06-30"

// The day counts of the duties at DOMAIN.md's defaults, that boundary mode places dates
// around.
const (
	preAppointmentDays = 90  // duty 1: a talk at most 90 days before the appointment
	takingOfficeDays   = 30  // duties 2 and 3: 30 days after taking office
	bookGapDays        = 60  // duty 3: at most 60 days without an entry
	inspectionDays     = 183 // duty 3: inspected within 183 days
	jointGapDays       = 92  // duty 6: at most 92 days between joint meetings
	fileStaleDays      = 365 // duty 8: a file updated within 365 days
	matterReportDays   = 30  // duty 9: a matter reported within 30 days
)

// boundarySet holds the organs of a boundary dataset while they are built: all of them draw
// from one random stream, because references across organs (crossOrgan, crossAppointment, and
// the letters they call for) are drawn after every organ exists.
type boundarySet struct {
	rng    *rand.Rand
	organs []*builder
}

// generateBoundaries builds the dataset of boundary mode.
func generateBoundaries(opts Options) Dataset {
	asOfDate := opts.AsOf
	if asOfDate == "" {
		asOfDate = BoundaryAsOf
	}
	t, err := time.Parse(time.DateOnly, asOfDate)
	if err != nil {
		panic(fmt.Sprintf("gen: Options.AsOf %q is not a YYYY-MM-DD date", opts.AsOf))
	}
	asOf := civil(t.Year(), int(t.Month()), t.Day())
	s := &boundarySet{rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x6475747963686563))}
	n := opts.Organs
	if n <= 0 {
		n = 1 + s.rng.IntN(3)
	}
	for k := 1; k <= n; k++ {
		b := newBuilder(opts, k, s.rng, t.Year(), asOf)
		s.organs = append(s.organs, b)
		b.smallStructure()
		b.smallStaff()
	}
	s.crossOrgan()
	for _, b := range s.organs {
		b.boundaryAppointments()
		b.otherTalks()
		b.boundaryBooks()
		b.boundarySuggestions()
		b.boundaryMeetings()
		b.boundaryLists()
		b.boundaryFiles()
	}
	s.crossAppointment()
	for _, b := range s.organs {
		letterPairs(b.people, everyone, b.boundaryLetters)
	}
	organs := make([]organRecords, len(s.organs))
	for i, b := range s.organs {
		b.emitDepartments()
		b.emitPeople()
		organs[i] = b.out
	}
	return join(organs)
}

// next returns the organ-prefixed id of the next record of code.
func (b *builder) next(code string) string {
	b.counts[code]++
	return b.id(code, b.counts[code], 3)
}

// oneOf returns one of xs at random.
func oneOf[T any](b *builder, xs ...T) T { return pick(b, xs) }

// ---- organisation ---------------------------------------------------------------------------

// smallStructure creates a small organ of random shape: the organ, its Party Committee and
// Discipline Committee (under the organ or under the Party Committee), one or two special
// committees and offices, one to three divisions (sometimes one under another), up to one
// affiliated unit and one to three Party branches under the Party Committee or a division.
func (b *builder) smallStructure() {
	b.organ = b.newDept(b.pre, "第"+strconv.Itoa(b.n)+"机关", "organ", nil)
	b.pc = b.newDept(b.pre+"-PC", "机关党委", "party_committee", b.organ)
	b.dc = b.newDept(b.pre+"-DC", "机关纪委", "discipline_committee", oneOf(b, b.organ, b.pc))
	b.admin = append(b.admin, b.pc, b.dc)
	for i := range 1 + b.rng.IntN(2) {
		b.committees = append(b.committees, b.newDept(b.id("SC", i+1, 2), specialCommittees[i].name, "special_committee", b.organ))
	}
	for i := range 1 + b.rng.IntN(2) {
		b.offices = append(b.offices, b.newDept(b.id("OFF", i+1, 2), oneOf(b, "办公厅", "研究室"), "office", b.organ))
	}
	parents := append([]*dept{b.organ}, append(slices.Clone(b.offices), b.committees...)...)
	for i := range 1 + b.rng.IntN(3) {
		parent := pick(b, parents)
		if len(b.divisions) > 0 && b.chance(0.2) {
			parent = pick(b, b.divisions) // a deeper tree
		}
		b.newDept(b.id("DIV", i+1, 2), "第"+strconv.Itoa(i+1)+"处", "division", parent)
	}
	for i := range b.rng.IntN(2) {
		b.units = append(b.units, b.newDept(b.id("UNIT", i+1, 2), "机关服务中心", "unit", b.organ))
	}
	b.admin = append(b.admin, b.committees...)
	b.admin = append(b.admin, b.offices...)
	b.admin = append(b.admin, b.divisions...)
	b.admin = append(b.admin, b.units...)
	for i := range 1 + b.rng.IntN(3) {
		parent := pick(b, append([]*dept{b.pc}, b.divisions...))
		b.branches = append(b.branches, b.newDept(b.id("BR", i+1, 2), "第"+strconv.Itoa(i+1)+"党支部", "branch", parent))
	}
}

// role flags of smallPerson.
const (
	asSecretary = 1 << iota
	asMember
	asHead
	asDiscipline
)

// smallPerson adds a person with the roles given; offProb is the chance that they are off
// the roster, or at its edge, at as_of.
func (b *builder) smallPerson(d *dept, rank string, offProb float64, roles int) *person {
	p := b.newPerson(d, rank, "")
	p.secretary, p.member = roles&asSecretary != 0, roles&asMember != 0
	p.head, p.disciplineMember = roles&asHead != 0, roles&asDiscipline != 0
	if b.chance(offProb) {
		a := b.asOf
		switch b.rng.IntN(7) {
		case 0:
			p.active = false
		case 1:
			p.leftOn = a // off: left_on <= as_of
		case 2:
			p.leftOn = a - 1
		case 3:
			p.leftOn = a + 1 // still on the roster
		case 4:
			p.active, p.leftOn = false, a+30
		case 5:
			p.leftOn = a - 200
		case 6:
			p.leftOn = a + 200
		}
	}
	return p
}

// smallStaff creates the people: the Party Group secretary (sometimes also a member), one to
// three members (supervising none, an empty list, or one to three departments), zero to two
// heads of each department with a head (some also discipline members, some supervising their
// own department), people with no role, each branch's discipline member (named by the branch
// or not), and others up to 10 to 40 people.
func (b *builder) smallStaff() {
	b.branchMember = map[*dept]*person{}
	b.secretary = b.smallPerson(b.organ, "bureau", 0.1, oneOf(b, asSecretary, asSecretary|asMember))
	if b.chance(0.15) {
		b.secretary.supervises = []*dept{pick(b, b.admin)}
	}
	for range 1 + b.rng.IntN(3) {
		rank := "bureau"
		if b.chance(0.1) {
			rank = "division"
		}
		m := b.smallPerson(oneOf(b, b.organ, b.offices[0]), rank, 0.12, asMember)
		switch {
		case b.chance(0.1):
			m.supervises = []*dept{} // written as an empty list
		case b.chance(0.9):
			for range 1 + b.rng.IntN(3) {
				if d := pick(b, b.admin); !slices.Contains(m.supervises, d) {
					m.supervises = append(m.supervises, d)
				}
			}
		}
	}
	for _, d := range b.admin {
		heads := 1
		switch x := b.rng.IntN(100); {
		case x < 12:
			heads = 0
		case x < 22:
			heads = 2
		}
		for range heads {
			rank := "division"
			switch x := b.rng.IntN(100); {
			case x < 15 || (d == b.pc || slices.Contains(b.committees, d)) && x < 50:
				rank = "bureau"
			case x < 25:
				rank = "section"
			}
			roles := asHead
			if b.chance(0.05) {
				roles |= asDiscipline
			}
			h := b.smallPerson(d, rank, 0.15, roles)
			if b.chance(0.1) {
				h.supervises = []*dept{oneOf(b, d, pick(b, b.admin))} // maybe their own department
			}
		}
		for range oneOf(b, 0, 0, 0, 1, 1, 2) {
			b.smallPerson(d, "division", 0.2, 0)
		}
	}
	if b.chance(0.5) {
		b.smallPerson(pick(b, b.committees), "bureau", 0.15, 0) // a bureau-rank cadre with no role
	}
	for _, br := range b.branches {
		d := br
		if br.parent != b.pc && b.chance(0.6) {
			d = br.parent
		}
		b.branchMember[br] = b.smallPerson(d, oneOf(b, "section", "staff", "division"), 0.3, asDiscipline)
	}
	target := 10 + b.rng.IntN(31)
	for len(b.people) < target {
		rank := oneOf(b, "section", "staff", "staff", "section", "division")
		b.smallPerson(pick(b, append(slices.Clone(b.admin), b.branches...)), rank, 0.2, 0)
	}
	for _, br := range b.branches {
		if b.chance(0.85) {
			br.disciplineMember = b.branchMember[br].id
		}
	}
}

// crossOrgan adds, sometimes, references across organs: a leader who supervises a department
// of another organ, and a branch whose discipline member belongs to another organ. DOMAIN.md
// counts pairs and rosters within one organ, so neither makes a pair or a roster member.
func (s *boundarySet) crossOrgan() {
	if len(s.organs) < 2 {
		return
	}
	a, c := s.organs[0], s.organs[1]
	if a.chance(0.4) {
		for _, p := range a.people {
			if p.member {
				p.supervises = append(p.supervises, pick(a, c.admin))
				break
			}
		}
	}
	if a.chance(0.4) {
		pick(a, c.branches).disciplineMember = pick(a, a.people).id
	}
}

// ---- records ---------------------------------------------------------------------------------

// tookOfficeOn records an appointment effective on eff: the latest in Y and by as_of counts
// as taking office (duties 2 and 3).
func (b *builder) tookOfficeOn(p *person, eff int) {
	if eff <= b.asOf && eff >= b.yearStart && eff > p.tookOffice {
		p.tookOffice = eff
	}
}

// boundaryAppointments gives about half the people one or two appointments, most effective on
// a boundary (as_of and the days around it, 29 to 31 and 90 to 91 days before, 30 days before
// 03-31 and 01-31, the year's first day and the day before) and the rest at random, each with
// its pre-appointment talks placed around [effective_on-90, effective_on].
func (b *builder) boundaryAppointments() {
	a, mar31, jan31 := b.asOf, b.yearDeadline, civil(b.y, 1, 31)
	for _, p := range b.people {
		if !b.chance(0.45) {
			continue
		}
		for range oneOf(b, 1, 1, 1, 2) {
			var eff int
			if b.chance(0.75) {
				eff = oneOf(b, a, a-1, a+1, a-29, a-30, a-31, a-90, a-91, mar31-30, mar31-29, jan31-30, jan31-29,
					b.yearStart-1, b.yearStart, a-200, a-365)
			} else {
				eff = b.between(civil(b.y-1, 1, 1), a+10)
			}
			rank := p.rank
			if b.chance(0.3) {
				rank = oneOf(b, "bureau", "division", "section", "staff")
			}
			d := p.dept
			if b.chance(0.2) {
				d = pick(b, b.depts)
			}
			b.emitAppointment(b.next("A"), p, d, d.name+"职务", rank, eff)
			b.tookOfficeOn(p, eff)
			b.preAppointmentTalks(p, eff)
		}
	}
}

// boundaryTalk writes a talk, held by the organ's first person or by someone outside it.
func (b *builder) boundaryTalk(kind string, p *person, held int, recorded string) {
	t := talk{kind: kind, p: p, held: held, recorded: recorded}
	if b.chance(0.6) {
		t.by = b.people[0]
	}
	b.emitTalk(b.next("T"), t)
}

// preAppointmentTalks places the talks of one appointment around [eff-90, eff]: none, on
// either end, a day outside either end, inside, unrecorded or recorded, of another kind, two
// of them, or with someone else.
func (b *builder) preAppointmentTalks(p *person, eff int) {
	const pre = "pre_appointment"
	switch b.rng.IntN(12) {
	case 0: // none
	case 1:
		b.boundaryTalk(pre, p, eff-preAppointmentDays, "")
	case 2:
		b.boundaryTalk(pre, p, eff-preAppointmentDays-1, "")
	case 3:
		b.boundaryTalk(pre, p, eff, "")
	case 4:
		b.boundaryTalk(pre, p, eff+1, "")
	case 5:
		b.boundaryTalk(pre, p, eff-1-b.rng.IntN(preAppointmentDays-1), "")
	case 6:
		b.boundaryTalk(pre, p, eff-10, "false")
	case 7:
		b.boundaryTalk(pre, p, eff-5, "true")
	case 8:
		b.boundaryTalk(oneOf(b, "general", "reminder", "petition_verification"), p, eff-5, "")
	case 9:
		b.boundaryTalk(pre, p, eff-preAppointmentDays-1, "")
		b.boundaryTalk(pre, p, eff-3, "")
	case 10:
		b.boundaryTalk(pre, p, eff-20, "false")
		b.boundaryTalk(pre, p, eff-preAppointmentDays, "true")
	case 11: // the talk was with someone else
		b.boundaryTalk(pre, pick(b, b.people), eff-5, "")
	}
}

// otherTalks adds up to three talks of any kind with anyone, on any day of the last year and
// a bit.
func (b *builder) otherTalks() {
	for range b.rng.IntN(4) {
		b.boundaryTalk(oneOf(b, "general", "reminder", "petition_verification", "pre_appointment"),
			pick(b, b.people), b.between(b.asOf-400, b.asOf+30), "")
	}
}

// letterDeadline is duty 2's and 3's deadline for people: fixed, or 30 days after the latest of
// them took office when that is later.
func letterDeadline(fixed int, people ...*person) int {
	d := fixed
	for _, p := range people {
		if p.tookOffice != 0 && p.tookOffice+takingOfficeDays > d {
			d = p.tookOffice + takingOfficeDays
		}
	}
	return d
}

// everyone counts every person, on the roster or not.
func everyone(*person) bool { return true }

// boundaryLetters places the letters of one pair that duty 2 could require (letterPairs, with
// everyone, so that the roster rule is tested too): on the deadline, a day after it, well
// before or after it, unsigned, undated, of last year, at another level, with the parties
// swapped, or after as_of. A letter is written in its issuer's organ.
func (b *builder) boundaryLetters(level int, issuer, signer *person) {
	dl := letterDeadline(b.yearDeadline, issuer, signer)
	signed := func(l letter) { b.emitLetter(b.next("L"), l) }
	both := func(on int) letter { return letter{b.y, level, issuer, signer, true, true, on} }
	good := func() { signed(both(dl - b.rng.IntN(3)*b.rng.IntN(40))) }
	late := func() { signed(both(dl + 1 + b.rng.IntN(2)*b.rng.IntN(60))) }
	unsigned := func() {
		l := both(0)
		if b.chance(0.5) {
			l.signed = dl - 3
		}
		switch b.rng.IntN(3) {
		case 0:
			l.byIssuer = false
		case 1:
			l.bySigner = false
		default:
			l.byIssuer, l.bySigner = false, false
		}
		signed(l)
	}
	switch x := b.rng.IntN(100); {
	case x < 14: // none
	case x < 34:
		signed(both(dl))
	case x < 46:
		good()
	case x < 56:
		signed(both(dl + 1))
	case x < 60:
		late()
	case x < 70:
		unsigned()
	case x < 75:
		signed(both(0)) // signed by both, no signed_on
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
		l := both(dl)
		l.year = b.y - 1
		signed(l)
	case x < 94:
		l := both(dl)
		l.level = level%3 + 1
		signed(l)
	case x < 97:
		l := both(dl)
		l.issuer, l.signer = signer, issuer
		signed(l)
	default:
		signed(both(b.asOf + 5)) // signed after as_of: late by the text's words
	}
}

// chain is a run of days after start, up to end, with steps around limit (sometimes exactly
// limit, sometimes limit+1), and sometimes a last day exactly limit or limit+1 days before end.
func (b *builder) chain(start, end, limit int) []int {
	var out []int
	cur := start
	for {
		var step int
		switch x := b.rng.IntN(100); {
		case x < 8:
			step = limit + 1
		case x < 22:
			step = limit
		case x < 30:
			step = 1 + b.rng.IntN(5)
		default:
			step = limit/2 + b.rng.IntN(limit/2)
		}
		cur += step
		if cur > end {
			break
		}
		out = append(out, cur)
	}
	last := start
	if len(out) > 0 {
		last = out[len(out)-1]
	}
	if b.chance(0.35) {
		if d := end - (limit + b.rng.IntN(2)); d > last {
			out = append(out, d)
		}
	}
	return out
}

// boundaryBooks gives the holders (and a few others) no book, last year's, or one or two of
// this year issued around 01-31, as_of and 183 days before it.
func (b *builder) boundaryBooks() {
	for _, p := range b.people {
		holder := p.member || p.head || p.rank == "bureau"
		if !holder && !b.chance(0.2) {
			continue
		}
		switch x := b.rng.IntN(100); {
		case x < 14: // none
		case x < 19:
			b.boundaryBook(p, b.y-1, civil(b.y-1, 1, 10))
		default:
			jan31 := civil(b.y, 1, 31)
			for range oneOf(b, 1, 1, 1, 1, 1, 1, 1, 1, 2) {
				a := b.asOf
				issued := oneOf(b, b.yearStart+b.rng.IntN(20), civil(b.y-1, 12, 15)+b.rng.IntN(17),
					a, a+1, a-inspectionDays, a-inspectionDays-1, a-bookGapDays, a-bookGapDays-1,
					b.between(b.yearStart, a), jan31, jan31+1)
				b.boundaryBook(p, b.y, issued)
			}
		}
	}
}

// boundaryBook writes one book: tasks due around as_of, entries 60 or 61 days apart at times,
// task entries on as_of, after it or before the book's range, stray entries, an entry naming
// no task, and inspections around as_of-183 and as_of.
func (b *builder) boundaryBook(holder *person, year, issued int) {
	id := b.next("RB")
	start := max(civil(year, 1, 1), issued)
	end := b.asOf
	if year < b.y {
		end = civil(year, 12, 31)
	}
	a := b.asOf
	var tasks []bookTask
	for i := range b.rng.IntN(4) {
		due := oneOf(b, a, a-1, a+1, b.between(start, a+60), b.between(start, a))
		tasks = append(tasks, bookTask{id + "-T" + strconv.Itoa(i+1), taskTitles[i], due})
	}
	var entries []bookEntry
	entry := func(d int, task string) {
		entries = append(entries, bookEntry{d, task, pick(b, entryContentValues)})
	}
	for _, d := range b.chain(start, end, bookGapDays) {
		entry(d, "")
	}
	for _, t := range tasks {
		switch b.rng.IntN(6) {
		case 0, 1: // named by an entry on a day already in the book
			if len(entries) > 0 {
				entries[b.rng.IntN(len(entries))].task = t.id
			}
		case 2:
			entry(a, t.id)
		case 3:
			entry(a+1+b.rng.IntN(10), t.id) // after as_of: does not count
		case 4:
			entry(start-1-b.rng.IntN(20), t.id) // before the book's range, still <= as_of
		}
	}
	if b.chance(0.2) {
		entry(a+1+b.rng.IntN(30), "")
	}
	if b.chance(0.25) {
		entry(start-1-b.rng.IntN(90), "") // before the book's range: not part of the gap check
	}
	if b.chance(0.1) {
		entry(b.between(start, a), id+"-unknown") // names no task of the book
	}
	b.rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	var inspections []inspection
	for range oneOf(b, 0, 1, 1, 1, 2) {
		d := oneOf(b, a-inspectionDays, a-inspectionDays-1, a, a+1, b.between(issued, a), a-100)
		in := inspection{date: d, by: pick(b, b.people)}
		if b.chance(0.5) {
			in.findings = pick(b, inspectionFindings)
		}
		inspections = append(inspections, in)
	}
	b.emitBook(id, year, holder, issued, tasks, entries, inspections)
}

// boundarySuggestions writes one to four work suggestions issued around as_of or last
// November, with items due on, before or after as_of, open, closed with and without a date
// or evidence, and open with a closing date and evidence.
func (b *builder) boundarySuggestions() {
	for range 1 + b.rng.IntN(4) {
		a := b.asOf
		id := b.next("S")
		issued := oneOf(b, a-b.rng.IntN(200), a, a+1, civil(b.y-1, 11, 20))
		var items []suggestionItem
		for i := range 1 + b.rng.IntN(3) {
			it := suggestionItem{id: id + "-" + strconv.Itoa(i+1), text: pick(b, suggestionTexts), status: "open"}
			it.due = oneOf(b, a, a-1, a+1, b.between(issued, a+60))
			closed := b.between(issued, a)
			evidence := pick(b, suggestionEvidence)
			switch b.rng.IntN(10) {
			case 0, 1, 2: // open
			case 3, 4:
				it.status, it.closed, it.evidence, it.hasEvidence = "closed", closed, evidence, true
			case 5:
				it.status, it.evidence, it.hasEvidence = "closed", evidence, true
			case 6:
				it.status, it.closed, it.hasEvidence = "closed", closed, true // evidence ""
			case 7:
				it.status, it.closed = "closed", closed
			case 8:
				it.status = "closed"
			case 9:
				it.closed, it.evidence, it.hasEvidence = closed, evidence, true // still open
			}
			items = append(items, it)
		}
		b.emitSuggestion(id, pick(b, b.depts), issued, items)
	}
}

// boundaryMeetings writes annual conduct meetings around 03-31 and 01-01 (at the organ or
// elsewhere), a joint meeting at the organ, the discipline committee's joint meetings 92 or
// 93 days apart at times, joint meetings after as_of, last year and of other departments, and
// other meetings of the committee.
func (b *builder) boundaryMeetings() {
	meet := func(kind string, d *dept, held int) { b.emitMeeting(b.next("M"), kind, d, held) }
	jan1, mar31 := b.yearStart, b.yearDeadline
	for range oneOf(b, 0, 1, 1, 1, 2) {
		held := oneOf(b, mar31, jan1, mar31+1, jan1-1, b.between(jan1, mar31), b.between(jan1, b.asOf))
		meet("annual_conduct", oneOf(b, b.organ, b.organ, b.pc, pick(b, b.depts)), held)
	}
	if b.chance(0.3) {
		meet(oneOf(b, meetingPartyGroup, "joint"), b.organ, b.between(jan1, mar31))
	}
	if !b.chance(0.1) {
		for _, d := range b.chain(jan1, b.asOf, jointGapDays) {
			meet("joint", b.dc, d)
		}
	}
	if b.chance(0.3) {
		meet("joint", b.dc, b.asOf+1+b.rng.IntN(20)) // after as_of: ignored
	}
	if b.chance(0.3) {
		meet("joint", b.dc, jan1-1-b.rng.IntN(20)) // last year
	}
	if b.chance(0.3) {
		meet("joint", oneOf(b, b.pc, b.organ), b.between(jan1, b.asOf)) // not the committee
	}
	if b.chance(0.2) {
		meet(meetingLookBack, b.dc, b.between(jan1, b.asOf))
	}
}

// listOutcome writes the list owed at level, none, last year's, or one at another level.
func (b *builder) listOutcome(level string, d *dept, holder *person, otherLevel string) {
	switch x := b.rng.IntN(100); {
	case x < 15: // none
	case x < 23:
		b.emitList(b.next("RL"), b.y-1, level, d, holder)
	case x < 30:
		b.emitList(b.next("RL"), b.y, otherLevel, d, holder)
	default:
		b.emitList(b.next("RL"), b.y, level, d, holder)
	}
}

// boundaryLists writes the lists of every level, for the natural department or another, and
// each person's by role (for their department or the organ).
func (b *builder) boundaryLists() {
	natural := map[string]*dept{"party_group": b.organ, "party_committee": b.pc, "discipline_committee": b.dc}
	for _, level := range []string{"party_group", "party_committee", "discipline_committee"} {
		d := natural[level]
		if b.chance(0.2) {
			d = pick(b, b.depts)
		}
		b.listOutcome(level, d, nil, oneOf(b, "party_group", "party_committee", "discipline_committee", "leaders"))
	}
	for _, p := range b.people {
		d := p.dept
		if b.chance(0.5) {
			d = b.organ // a person's list need not name their own department
		}
		if p.secretary {
			b.listOutcome("party_group_secretary", d, p, "leaders")
		}
		if p.member || p.rank == "bureau" {
			b.listOutcome("leaders", d, p, "department_heads")
		}
		if p.head {
			b.listOutcome("department_heads", d, p, "leaders")
		}
	}
	for _, sc := range b.committees {
		b.listOutcome(oneOf(b, "special_committee", "special_committee", "leaders"), sc, nil, "special_committee")
	}
}

// boundaryFiles gives the cadres (and a few others) none, one or two files, updated 365 or
// 366 days before as_of, on it, after it or long before, with major matters around as_of-30
// reported on the 30th day, the 31st, earlier, later or never.
func (b *builder) boundaryFiles() {
	for _, p := range b.people {
		if p.rank != "bureau" && p.rank != "division" && !b.chance(0.2) {
			continue
		}
		for range oneOf(b, 0, 1, 1, 1, 1, 1, 2) {
			a := b.asOf
			id := b.next("IF")
			updated := oneOf(b, a-fileStaleDays, a-fileStaleDays-1, a-b.rng.IntN(fileStaleDays), a-400-b.rng.IntN(200),
				a, a-fileStaleDays, a-fileStaleDays-1)
			if b.chance(0.03) {
				updated = a + 1 // updated after as_of: files are not among the records DOMAIN.md ignores by date
			}
			var matters []matter
			for i := range oneOf(b, 0, 0, 1, 2, 3) {
				m := matter{id: id + "-M" + strconv.Itoa(i+1), kind: pick(b, majorMatterKinds)}
				m.event = oneOf(b, a-matterReportDays, a-matterReportDays-1, a, a+1, b.between(a-400, a))
				switch b.rng.IntN(6) {
				case 0, 1: // not reported
				case 2:
					m.reported = m.event + matterReportDays
				case 3:
					m.reported = m.event + matterReportDays + 1
				case 4:
					m.reported = m.event + b.rng.IntN(matterReportDays)
				case 5:
					m.reported = m.event + matterReportDays + 2 + b.rng.IntN(40)
				}
				matters = append(matters, m)
			}
			b.emitFile(id, p, updated, matters)
		}
	}
}

// crossAppointment adds, sometimes, an appointment of a person of the first organ to a
// department of the second (a transfer or secondment not yet shown in department_id). Its
// violation's department is the appointment's department_id (DOMAIN.md), so a scan of the
// second organ must report it.
func (s *boundarySet) crossAppointment() {
	if len(s.organs) < 2 {
		return
	}
	a, c := s.organs[0], s.organs[1]
	if !a.chance(0.4) {
		return
	}
	p := pick(a, a.people)
	eff := a.asOf - a.rng.IntN(100)
	d := pick(a, c.admin)
	a.emitAppointment(a.next("A"), p, d, "借调"+d.name, oneOf(a, "bureau", "division"), eff)
	a.tookOfficeOn(p, eff)
	a.preAppointmentTalks(p, eff)
}
