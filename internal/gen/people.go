package gen

// Role names of DOMAIN.md.
const (
	roleSecretary  = "party_group_secretary"
	roleMember     = "party_group_member"
	roleHead       = "department_head"
	roleDiscipline = "discipline_member"
)

// newPerson adds a member of staff with a name not yet used in the organ.
func (b *builder) newPerson(d *dept, rank, title string) *person {
	var name string
	for {
		name = string(pick(b, surnames)) + string(pick(b, givenChars))
		if b.chance(0.7) {
			name += string(pick(b, givenChars))
		}
		if !b.names[name] {
			break
		}
	}
	b.names[name] = true
	id := b.id("P", len(b.people)+1, 3)
	p := &person{
		id: id, ref: id, name: name, title: title,
		rank: rank, dept: d, active: true,
	}
	b.people = append(b.people, p)
	d.people = append(d.people, p)
	return p
}

func (b *builder) headOf(d *dept, p *person) *person {
	p.head = true
	d.head = p
	return p
}

// headTitles returns the titles of the head and deputies of a division or unit by its name.
func headTitles(name string) (head, deputy string) {
	switch {
	case hasSuffix(name, "处"):
		return name + "处长", name + "副处长"
	case hasSuffix(name, "杂志社"):
		return name + "社长", name + "副社长"
	default:
		return name + "主任", name + "副主任"
	}
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// staff creates the people: 23 bureau-rank cadres (the Party Group secretary, six Party Group
// members and the heads and deputies of the committees and offices), 92 division-rank cadres
// (heads and deputies of divisions and units, and researchers of the special committees), and
// 185 section- and staff-rank people: 300 in all, as the seed's organ (23 厅级, 92 处级).
func (b *builder) staff() {
	b.supervisorOf = map[*dept]*person{}
	supervise := func(p *person, ds ...*dept) {
		p.supervises = append(p.supervises, ds...)
		for _, d := range ds {
			b.supervisorOf[d] = p
		}
	}

	// Bureau rank: the Party Group.
	b.secretary = b.newPerson(b.organ, "bureau", "秘书长")
	b.secretary.secretary = true
	supervise(b.secretary, b.pc, b.dc)
	sc := b.committees
	deputySecretaryGroups := [][]*dept{
		{b.office, b.units[0], b.units[1]},
		{b.research, sc[0], sc[1]},
		{sc[2], sc[3], sc[4], b.units[2]},
		{sc[5], sc[6], sc[7], b.units[3]},
	}
	for _, group := range deputySecretaryGroups {
		p := b.newPerson(b.organ, "bureau", "副秘书长")
		p.member = true
		supervise(p, group...)
	}
	pcHead := b.headOf(b.pc, b.newPerson(b.pc, "bureau", "机关党委书记"))
	pcHead.member = true
	supervise(b.newPerson(b.pc, "bureau", "机关党委专职副书记"), b.pc.divisions...)
	b.dcHead = b.headOf(b.dc, b.newPerson(b.dc, "bureau", "机关纪委书记"))
	supervise(b.dcHead, b.dc.divisions...)
	officeHead := b.headOf(b.office, b.newPerson(b.office, "bureau", "办公厅主任"))
	officeHead.member = true
	supervise(b.newPerson(b.office, "bureau", "办公厅副主任"), b.office.divisions[:5]...)
	supervise(b.newPerson(b.office, "bureau", "办公厅副主任"), b.office.divisions[5:]...)
	b.headOf(b.research, b.newPerson(b.research, "bureau", "研究室主任"))
	supervise(b.newPerson(b.research, "bureau", "研究室副主任"), b.research.divisions...)
	for i, c := range b.committees {
		supervise(b.headOf(c, b.newPerson(c, "bureau", c.name+"专职副主任")), c.divisions...)
		if i < 2 {
			b.newPerson(c, "bureau", c.name+"一级巡视员")
		}
	}

	// Division rank: researchers of six committees, then each division and unit's head and
	// deputies, each followed by its section and staff members.
	for _, c := range b.committees[:6] {
		b.newPerson(c, "division", c.name+"二级调研员")
	}
	junior := func(d *dept, n int) {
		for range n {
			if b.chance(0.6) {
				b.newPerson(d, "section", pick(b, sectionTitles))
			} else {
				b.newPerson(d, "staff", pick(b, staffTitles))
			}
		}
	}
	for _, d := range b.depts {
		switch d.kind {
		case "division", "unit":
			head, deputy := headTitles(d.name)
			b.headOf(d, b.newPerson(d, "division", head))
			b.newPerson(d, "division", deputy)
			extra := 0
			if d.large {
				b.newPerson(d, "division", deputy)
				extra = 1
			}
			if d.kind == "unit" {
				junior(d, 8)
			} else {
				junior(d, 4+extra)
			}
		}
	}
	junior(b.pc, 2)
	junior(b.dc, 3)
}

// leavers takes four section- or staff-rank people off the roster or towards its edge: one
// retired (inactive), one retired last year (inactive, left_on), one transferred out this year
// (active but left_on passed) and one leaving next year (still on the roster at Y-12-31).
func (b *builder) leavers() {
	var pool []*person
	for _, p := range b.people {
		if p.rank == "section" || p.rank == "staff" {
			pool = append(pool, p)
		}
	}
	b.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	retired, retiredLastYear, transferred, leaving := pool[0], pool[1], pool[2], pool[3]
	retired.active = false
	retiredLastYear.active = false
	retiredLastYear.leftOn = civil(b.y-1, 1, 1) + b.rng.IntN(360)
	transferred.leftOn = b.transferDay()
	leaving.leftOn = civil(b.y+1, 1, 15) + b.rng.IntN(60)
}

// transferDay is a day in March to September of Y on which someone is transferred out.
func (b *builder) transferDay() int { return civil(b.y, 3, 1) + b.rng.IntN(200) }

// branchMembers names each branch's discipline member (纪检委员): a section- or division-rank
// member of one of its departments who heads none. A deliberate violation leaves the field
// absent, or names a section-rank member who has since been transferred out and not replaced.
func (b *builder) branchMembers() {
	for _, br := range b.branches {
		v := b.decide("branch", "missing:absent", "missing:off_roster")
		if v == "missing:absent" {
			continue
		}
		var candidates []*person
		for _, d := range br.members {
			for _, p := range d.people {
				if !p.head && !p.disciplineMember && b.onRoster(p) &&
					(p.rank == "section" || (p.rank == "division" && v == "")) {
					candidates = append(candidates, p)
				}
			}
		}
		if len(candidates) == 0 {
			continue // nobody to name: the branch goes without
		}
		p := pick(b, candidates)
		p.disciplineMember = true
		br.disciplineMember = p.id
		if v == "missing:off_roster" {
			p.leftOn = b.transferDay()
		}
	}
}

func (b *builder) emitDepartments() {
	for _, d := range b.depts {
		doc := map[string]any{"id": d.ref, "name": d.name, "kind": d.kind}
		if d.parent != nil {
			doc["parent_id"] = d.parent.ref
		}
		if d.disciplineMember != "" {
			doc["discipline_member_id"] = d.disciplineMember
		}
		b.emit(colDepartments, doc)
	}
}

func (b *builder) emitPeople() {
	for _, p := range b.people {
		roles := make([]any, 0, 2)
		if p.secretary {
			roles = append(roles, roleSecretary)
		}
		if p.member {
			roles = append(roles, roleMember)
		}
		if p.head {
			roles = append(roles, roleHead)
		}
		if p.disciplineMember {
			roles = append(roles, roleDiscipline)
		}
		doc := map[string]any{
			"id": p.ref, "name": p.name, "department_id": p.dept.ref, "rank": p.rank,
			"roles": roles, "active": p.active,
		}
		if p.supervises != nil { // an empty list is written as one (boundary mode draws it)
			ids := make([]any, len(p.supervises))
			for i, d := range p.supervises {
				ids[i] = d.ref
			}
			doc["supervises"] = ids
		}
		if p.leftOn != 0 {
			doc["left_on"] = dateValue(p.leftOn)
		}
		b.emit(colPeople, doc)
	}
}
