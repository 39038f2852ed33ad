package gen

import (
	"cmp"
	"slices"
	"strconv"
)

// ---- appointments and talks (duty 1) -------------------------------------------------------

type appointment struct {
	p              *person
	d              *dept
	position, rank string
	effective      int
}

// priorPosition is the post a cadre held before the current one: a division head for a
// bureau-rank cadre, a deputy for a division head, a section post for other division ranks.
func (b *builder) priorPosition(p *person) (d *dept, position, rank string) {
	switch {
	case p.rank == "bureau":
		d := pick(b, b.divisions)
		head, _ := headTitles(d.name)
		return d, head, "division"
	case p.head:
		_, deputy := headTitles(p.dept.name)
		return p.dept, deputy, "division"
	default:
		return p.dept, sectionTitles[0], "section"
	}
}

// appointmentsAndTalks writes each cadre's current appointment (about one in eleven effective
// in Y, the seed's "11人次任前廉政谈话"), some earlier ones, a few section-rank ones, and the
// talks: a pre-appointment talk 0–60 days before each bureau or division appointment, general
// talks with about four in ten cadres, reminders and petition-verification talks.
func (b *builder) appointmentsAndTalks() {
	var apps []appointment
	earliest, latest := civil(b.y-8, 1, 1), civil(b.y-1, 12, 31)
	for _, p := range b.people {
		if !p.active || p.leftOn != 0 {
			continue
		}
		switch p.rank {
		case "bureau", "division":
			eff := b.between(earliest, latest)
			if !p.secretary && b.chance(0.09) {
				eff = b.between(b.yearStart+9, b.lastNewAppointment)
				p.tookOffice = eff
			}
			if b.chance(0.2) {
				d, position, rank := b.priorPosition(p)
				apps = append(apps, appointment{p, d, position, rank, eff - b.between(730, 1825)})
			}
			apps = append(apps, appointment{p, p.dept, p.title, p.rank, eff})
		default:
			if b.chance(0.05) {
				apps = append(apps, appointment{p, p.dept, p.title, p.rank, b.between(civil(b.y-6, 1, 1), latest)})
			}
		}
	}
	slices.SortStableFunc(apps, func(x, y appointment) int { return cmp.Compare(x.effective, y.effective) })

	var talks []talk
	for i, a := range apps {
		b.emitAppointment(b.id("A", i+1, 3), a.p, a.d, a.position, a.rank, a.effective)
		if a.rank != "bureau" && a.rank != "division" {
			continue
		}
		t := talk{kind: "pre_appointment", p: a.p, by: b.talkConductor(a.p), held: a.effective - b.between(0, 60)}
		switch {
		case b.chance(0.04):
			t.held = a.effective - 90 // the earliest day allowed
		case b.chance(0.04):
			t.held = a.effective // the latest day allowed
		}
		key := "talk" // appointments of the scan year are counted apart, so one can be forced
		if a.effective >= b.yearStart {
			key = "talk.year"
		}
		switch b.decide(key, "missing:none", "missing:unrecorded", "missing:early", "missing:after", "missing:wrong_kind") {
		case "missing:none":
			continue
		case "missing:unrecorded":
			t.recorded = "false"
		case "missing:early":
			t.held = a.effective - b.between(91, 130)
		case "missing:after":
			t.held = a.effective + b.between(1, 20)
		case "missing:wrong_kind":
			t.kind = "general"
		default:
			if b.chance(0.1) {
				t.recorded = "true"
			}
		}
		talks = append(talks, t)
	}

	// General talks with about four in ten cadres, held by their supervising leader.
	for _, p := range b.people {
		if !b.onRoster(p) || p.secretary || (p.rank != "bureau" && p.rank != "division") || !b.chance(0.4) {
			continue
		}
		by := b.supervisorOf[p.dept]
		if by == nil || by == p {
			by = b.talkConductor(p)
		}
		talks = append(talks, talk{kind: "general", p: p, by: by, held: b.between(b.yearStart+40, b.asOf-20)})
	}
	// A reminder or two, and a few petition-verification talks, held by the discipline committee.
	var juniors []*person
	for _, p := range b.people {
		if b.onRoster(p) && !p.head && p.rank != "bureau" {
			juniors = append(juniors, p)
		}
	}
	for range b.between(1, 2) {
		talks = append(talks, talk{kind: "reminder", p: pick(b, juniors), by: b.dcHead, held: b.between(b.yearStart+30, b.asOf-15)})
	}
	for range b.between(2, 4) {
		talks = append(talks, talk{kind: "petition_verification", p: pick(b, juniors), by: b.dcHead, held: b.between(b.yearStart-200, b.asOf-15)})
	}

	slices.SortStableFunc(talks, func(x, y talk) int { return cmp.Compare(x.held, y.held) })
	for i, t := range talks {
		b.emitTalk(b.id("T", i+1, 3), t)
	}
}

// talkConductor is who holds a cadre's integrity talk: the Party Group secretary for
// bureau-rank cadres (and the discipline committee's secretary), the discipline committee's
// secretary for the others, and for the Party Group secretary someone outside the organ (the
// provincial committee), so nobody in the dataset.
func (b *builder) talkConductor(p *person) *person {
	switch {
	case p.secretary:
		return nil
	case p.rank == "bureau" || p == b.dcHead:
		return b.secretary
	default:
		return b.dcHead
	}
}

// ---- letters (duty 2) ------------------------------------------------------------------------

// letters writes a letter of year Y for every pair DOMAIN.md duty 2 requires, from the roster
// at Y-12-31, signed by both by the deadline: Y-03-31, or for a pair with someone who
// took office in Y, within 30 days of it.
func (b *builder) letters() {
	k := 0
	owed := func(level int, issuer, signer *person) {
		v := b.decide("letter."+strconv.Itoa(level), "missing", "late", "unsigned:signer", "unsigned:issuer", "unsigned:undated")
		if v == "missing" {
			return
		}
		deadline := b.yearDeadline
		newest := max(issuer.tookOffice, signer.tookOffice)
		if newest != 0 {
			deadline = max(deadline, newest+30)
		}
		signed := b.between(b.yearStart+9, b.yearStart+78)
		if newest != 0 {
			signed = max(signed, newest+b.between(1, 25))
		}
		if b.chance(0.03) {
			signed = deadline // the last day allowed
		}
		byIssuer, bySigner := true, true
		switch v {
		case "late":
			signed = deadline + b.between(1, min(40, b.asOf-deadline))
		case "unsigned:issuer":
			byIssuer = false
		case "unsigned:signer":
			bySigner = false
		}
		if v == "unsigned:undated" {
			signed = 0
		}
		k++
		b.emitLetter(b.id("L", k, 3), letter{b.y, level, issuer, signer, byIssuer, bySigner, signed})
	}

	letterPairs(b.people, b.onRoster, owed)
}

// letterPairs calls owed for every pair of people duty 2 asks a letter of, level by level: the
// Party Group secretary with each member and bureau-rank cadre (level 1), each leader with the
// head of each department they supervise (level 2), each head with each division-rank cadre of
// their department (level 3). Only people for whom counts is true take part: the roster at
// as_of in the default mode; everyone in boundary mode, whose letters test the roster rule too.
func letterPairs(people []*person, counts func(*person) bool, owed func(level int, issuer, signer *person)) {
	for _, s := range people {
		if !s.secretary || !counts(s) {
			continue
		}
		for _, p := range people {
			if p != s && (p.member || p.rank == "bureau") && counts(p) {
				owed(1, s, p)
			}
		}
	}
	for _, s := range people {
		if !counts(s) {
			continue
		}
		for _, d := range s.supervises {
			for _, h := range d.people {
				if h.head && h != s && counts(h) {
					owed(2, s, h)
				}
			}
		}
	}
	for _, h := range people {
		if !h.head || !counts(h) {
			continue
		}
		for _, q := range h.dept.people {
			if q != h && q.rank == "division" && counts(q) {
				owed(3, h, q)
			}
		}
	}
}

// ---- record books (duty 3) -------------------------------------------------------------------

// Boxed once: a large dataset holds millions of entries.
var (
	entryContentValues = boxAll(entryContents)
	taskEntryValues    = func() []any {
		vals := make([]any, len(taskTitles))
		for i, t := range taskTitles {
			vals[i] = "落实任务：" + t
		}
		return vals
	}()
)

func boxAll(ss []string) []any {
	vals := make([]any, len(ss))
	for i, s := range ss {
		vals[i] = s
	}
	return vals
}

// recordBooks issues a duty record book to every holder (Party Group members, department
// heads, bureau-rank cadres) in January, or within 20 days of taking office in Y, with four
// to six tasks, an entry every 20–40 days and an entry for each task before it falls due, and
// inspections in June and early December.
func (b *builder) recordBooks() {
	k := 0
	for _, p := range b.people {
		if !b.onRoster(p) || !(p.member || p.head || p.rank == "bureau") {
			continue
		}
		issued := b.between(b.yearStart+2, b.yearStart+25)
		if p.tookOffice != 0 {
			issued = p.tookOffice + b.between(3, 20)
		}
		variants := []string{"missing", "task_without_entry"}
		if issued <= b.asOf-110 {
			variants = append(variants, "gap")
		}
		if b.asOf-issued > 183 {
			variants = append(variants, "not_inspected")
		}
		v := b.decide("book", variants...)
		if v == "missing" {
			continue
		}
		k++
		id := b.id("RB", k, 3)

		n := b.between(4, 6)
		lo, hi := issued+20, b.asOf-11
		if hi-lo < 90 {
			n = 2
		}
		titles := b.rng.Perm(len(taskTitles))[:n]
		dues := make([]int, n)
		for i := range dues {
			dues[i] = b.between(lo, hi)
		}
		slices.Sort(dues)

		var entries []bookEntry
		for d := issued + b.between(3, 20); d <= b.asOf; d += b.between(20, 40) {
			entries = append(entries, bookEntry{d, "", pick(b, entryContentValues)})
		}
		skip := -1
		if v == "task_without_entry" {
			skip = b.rng.IntN(n)
		}
		tasks := make([]bookTask, n)
		for i := range n {
			tid := id + "-T" + strconv.Itoa(i+1)
			tasks[i] = bookTask{tid, taskTitles[titles[i]], dues[i]}
			if i != skip {
				entries = append(entries, bookEntry{max(issued+1, dues[i]-b.between(0, 14)), tid, taskEntryValues[titles[i]]})
			}
		}
		if v == "gap" {
			// Nothing written for 65–85 days; task entries of that stretch come late.
			length := b.between(65, 85)
			g := b.between(issued+5, b.asOf-length-5)
			kept := entries[:0]
			for _, e := range entries {
				if e.date > g && e.date < g+length {
					if e.task == "" {
						continue
					}
					e.date = g + length
				}
				kept = append(kept, e)
			}
			entries = kept
		}
		slices.SortStableFunc(entries, func(x, y bookEntry) int { return cmp.Compare(x.date, y.date) })

		inspector := b.dcHead
		switch {
		case p == b.dcHead:
			inspector = b.secretary
		case p.rank == "division" && p != b.dc.divisions[0].head && b.chance(0.5):
			inspector = b.dc.divisions[0].head
		}
		dropJune := v == "not_inspected" && b.chance(0.5)
		var inspections []inspection
		for _, d := range []int{civil(b.y, 6, 15) + b.rng.IntN(14), civil(b.y, 12, 1) + b.rng.IntN(12)} {
			if d <= issued || (v == "not_inspected" && (d >= b.asOf-183 || dropJune)) {
				continue
			}
			in := inspection{date: d, by: inspector}
			if b.chance(0.7) {
				in.findings = pick(b, inspectionFindings)
			}
			inspections = append(inspections, in)
		}
		b.emitBook(id, b.y, p, issued, tasks, entries, inspections)
	}
}

// ---- suggestions (duty 4) --------------------------------------------------------------------

// suggestions writes five work-suggestion letters of the resident discipline group, two last
// year and three this year, with two to four items each, closed with evidence once done.
func (b *builder) suggestions() {
	issueDays := []int{civil(b.y-1, 5, 10), civil(b.y-1, 10, 12), civil(b.y, 3, 8), civil(b.y, 6, 14), civil(b.y, 9, 9)}
	targets := []*dept{b.organ, b.office, b.pc, b.organ, b.dc}
	for i, base := range issueDays {
		issued := base + b.rng.IntN(15)
		id := b.id("S", i+1, 2)
		n := b.between(2, 4)
		texts := b.rng.Perm(len(suggestionTexts))[:n]
		items := make([]suggestionItem, n)
		for j := range n {
			item := suggestionItem{id: id + "-" + strconv.Itoa(j+1), text: suggestionTexts[texts[j]]}
			due := issued + b.between(60, 180)
			v := b.decide("item", "overdue", "closed_without_evidence:absent", "closed_without_evidence:empty", "closed_without_evidence:undated")
			if v == "overdue" && due >= b.asOf {
				due = b.asOf - b.between(1, 20)
			}
			item.due = due
			closed := b.between(issued+15, min(due, b.asOf-1))
			switch {
			case v == "overdue" || (v == "" && due >= b.asOf && b.chance(0.5)):
				item.status = "open"
			default:
				item.status = "closed"
				if v != "closed_without_evidence:undated" {
					item.closed = closed
				}
				switch v {
				case "closed_without_evidence:absent":
				case "closed_without_evidence:empty":
					item.hasEvidence = true
				default:
					item.evidence, item.hasEvidence = pick(b, suggestionEvidence), true
				}
			}
			items[j] = item
		}
		b.emitSuggestion(id, targets[i], issued, items)
	}
}

// ---- meetings (duties 5 and 6) ---------------------------------------------------------------

type meeting struct {
	kind string
	d    *dept
	held int
}

// meetings writes the annual conduct meeting in the first quarter (last year's too), the
// discipline committee's joint meetings every one to three months, and ordinary meetings whose
// kind is free text: Party Group and Party Committee meetings, the education month, the
// risk-control review and each branch's organisational life meeting.
func (b *builder) meetings() {
	var ms []meeting
	add := func(kind string, d *dept, held int) { ms = append(ms, meeting{kind, d, held}) }

	add("annual_conduct", b.organ, civil(b.y-1, 2, 10)+b.rng.IntN(40))
	switch b.decide("annual", "missing:none", "missing:late") {
	case "":
		held := civil(b.y, 2, 10) + b.rng.IntN(48)
		if b.chance(0.05) {
			held = b.yearDeadline // the last day allowed
		}
		add("annual_conduct", b.organ, held)
	case "missing:late":
		add("annual_conduct", b.organ, civil(b.y, 4, 8)+b.rng.IntN(20))
	}

	add("joint", b.dc, civil(b.y-1, 10, 10)+b.rng.IntN(30))
	add("joint", b.dc, civil(b.y-1, 12, 10)+b.rng.IntN(15))
	gapAfter := 0 // the meeting after which the committee lets more than 92 days pass
	if b.decide("joint", "gap") == "gap" {
		gapAfter = b.between(1, 2)
	}
	for i, d := 1, b.yearStart+b.between(10, 59); d <= b.asOf; i++ {
		add("joint", b.dc, d)
		switch {
		case i == gapAfter:
			d += b.between(95, 130)
		case b.chance(0.1):
			d += 92 // the longest interval allowed
		default:
			d += b.between(30, 88)
		}
	}

	for q := range 4 {
		add(meetingPartyGroup, b.organ, civil(b.y, 1+3*q, 5)+b.rng.IntN(20))
	}
	add(meetingPartyCommittee, b.pc, civil(b.y, 4, 1)+b.rng.IntN(20))
	add(meetingPartyCommittee, b.pc, civil(b.y, 10, 8)+b.rng.IntN(20))
	add(meetingEducationMonth, b.pc, civil(b.y, 9, 1)+b.rng.IntN(10))
	add(meetingLookBack, b.dc, civil(b.y, 7, 1)+b.rng.IntN(20))
	for _, br := range b.branches {
		add(meetingBranchLife, br, civil(b.y, 1, 10)+b.rng.IntN(45))
	}

	slices.SortStableFunc(ms, func(x, y meeting) int { return cmp.Compare(x.held, y.held) })
	for i, m := range ms {
		b.emitMeeting(b.id("M", i+1, 3), m.kind, m.d, m.held)
	}
}

// ---- responsibility lists (duty 7) -----------------------------------------------------------

// lists writes the year's responsibility lists: one at each organ-wide level, one held by the
// secretary and by each leader (department: the organ), one held by each department head
// (department: their own) and one for each special committee. A committee whose list is
// deliberately missing has drawn up none: its head's list is missing too.
func (b *builder) lists() {
	missingCommittee := map[*dept]bool{}
	for _, c := range b.committees {
		if b.decide("list.special_committee", "missing") != "" {
			missingCommittee[c] = true
		}
	}
	k := 0
	list := func(level string, d *dept, holder *person) {
		k++
		b.emitList(b.id("RL", k, 3), b.y, level, d, holder)
	}
	owed := func(level string, d *dept, holder *person) {
		if b.decide("list."+level, "missing") == "" {
			list(level, d, holder)
		}
	}

	owed("party_group", b.organ, nil)
	owed("party_group_secretary", b.organ, b.secretary)
	for _, p := range b.people {
		if b.onRoster(p) && !p.secretary && (p.member || p.rank == "bureau") {
			owed("leaders", b.organ, p)
		}
	}
	owed("party_committee", b.pc, nil)
	owed("discipline_committee", b.dc, nil)
	for _, p := range b.people {
		if p.head && b.onRoster(p) && !missingCommittee[p.dept] {
			owed("department_heads", p.dept, p)
		}
	}
	for _, c := range b.committees {
		if !missingCommittee[c] {
			list("special_committee", c, nil)
		}
	}
}

// listItemValues holds each level's items as JSON array values, boxed once; each list gets
// its own copy of the slice.
var listItemValues = func() map[string][]any {
	m := make(map[string][]any, len(listItems))
	for level, items := range listItems {
		m[level] = boxAll(items)
	}
	return m
}()

// ---- integrity files (duties 8 and 9) --------------------------------------------------------

// integrityFiles writes one file per bureau- and division-rank cadre, updated this year, about
// one in five with a personal major matter reported within 30 days.
func (b *builder) integrityFiles() {
	k := 0
	for _, p := range b.people {
		if !b.onRoster(p) || (p.rank != "bureau" && p.rank != "division") {
			continue
		}
		v := b.decide("file", "missing", "stale")
		if v == "missing" {
			continue
		}
		k++
		id := b.id("IF", k, 3)
		updated := b.between(b.yearStart+20, b.asOf-10)
		upper := b.asOf // no matter is reported after the file was last updated
		if v == "stale" {
			updated = civil(b.y-1, 2, 1) + b.rng.IntN(290)
			upper = updated
		}
		var matters []matter
		if b.chance(0.22) {
			n := 1
			if b.chance(0.15) {
				n = 2
			}
			from := civil(b.y-2, 7, 1)
			for j := range n {
				m := matter{id: id + "-M" + strconv.Itoa(j+1), kind: pick(b, majorMatterKinds)}
				event, reported := 0, 0
				switch b.decide("matter", "late", "unreported") {
				case "late":
					event = b.between(from, upper-100)
					reported = event + b.between(31, 90)
				case "unreported":
					event = b.between(from, upper-40)
				default:
					if upper == b.asOf && b.chance(0.1) {
						event = b.asOf - b.rng.IntN(25) // not due yet
					} else {
						event = b.between(from, upper-35)
						reported = event + b.between(1, 29)
						if b.chance(0.05) {
							reported = event + 30 // the last day allowed
						}
					}
				}
				m.event, m.reported = event, reported
				if reported != 0 {
					updated = max(updated, reported)
				}
				matters = append(matters, m)
			}
		}
		b.emitFile(id, p, updated, matters)
	}
}
