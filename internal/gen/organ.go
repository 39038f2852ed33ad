package gen

import (
	"math/rand/v2"
	"slices"
	"strconv"
)

// dept is a department of the organisation being built.
type dept struct {
	id, name, kind string
	ref            any // id, boxed once: documents name a department many times
	parent         *dept
	head           *person
	people         []*person
	divisions      []*dept
	// Branches only: the departments whose members belong to the branch, and the id of the
	// discipline member ("" when the branch names none).
	members          []*dept
	disciplineMember string
	large            bool // a large division: two deputies and one more staff member
}

// person is one member of staff.
type person struct {
	id, name, title   string
	ref               any // id, boxed once: documents name a person many times
	rank              string
	dept              *dept
	secretary, member bool // Party Group secretary, Party Group member
	head              bool // department head of dept
	disciplineMember  bool
	supervises        []*dept
	active            bool
	leftOn            int // day number; 0 when absent
	tookOffice        int // day of the latest appointment effective in Y; 0 when none
}

// builder builds one organ. Everything random comes from rng, whose stream depends only on
// the seed and the organ number; deliberate violations are decided by decide.
type builder struct {
	opts   Options
	n      int
	pre    string // id prefix, the organ's id ("ORG-1")
	rng    *rand.Rand
	out    organRecords
	forced map[string][]forcedViolation
	seen   map[string]int

	y                  int
	yearValue          any
	yearStart, asOf    int // Y-01-01 and the scan date (Y-12-31 in the default mode)
	yearDeadline       int // Y-03-31: letters, lists and the annual meeting
	lastNewAppointment int // appointments in Y are effective by Y-11-15 so every deadline falls in Y
	names              map[string]bool
	depts              []*dept
	people             []*person
	organ, pc, dc      *dept
	office, research   *dept
	committees, units  []*dept
	divisions          []*dept
	branches           []*dept
	secretary, dcHead  *person
	supervisorOf       map[*dept]*person

	// Boundary mode only: the offices, the departments that have heads, each branch's
	// designated discipline member, and the number of records of each id code so far.
	offices, admin []*dept
	branchMember   map[*dept]*person
	counts         map[string]int
}

// newBuilder starts organ n of year y, scanned on asOf, drawing from rng.
func newBuilder(opts Options, n int, rng *rand.Rand, y, asOf int) *builder {
	b := &builder{
		opts:   opts,
		n:      n,
		pre:    "ORG-" + strconv.Itoa(n),
		rng:    rng,
		seen:   map[string]int{},
		y:      y,
		names:  map[string]bool{},
		counts: map[string]int{},
	}
	b.yearValue = int64(b.y)
	b.yearStart = civil(b.y, 1, 1)
	b.asOf = asOf
	b.yearDeadline = civil(b.y, 3, 31)
	b.lastNewAppointment = civil(b.y, 11, 15)
	return b
}

func buildOrgan(opts Options, n int) organRecords {
	b := newBuilder(opts, n, rand.New(rand.NewPCG(uint64(opts.Seed), uint64(n))), opts.Year, civil(opts.Year, 12, 31))
	if n == 1 && opts.ViolationRate > 0 {
		b.forced = make(map[string][]forcedViolation, len(firstOrganPlan))
		for k, v := range firstOrganPlan {
			b.forced[k] = slices.Clone(v)
		}
	}

	b.structure()
	b.staff()
	b.leavers()
	b.branchMembers()
	b.appointmentsAndTalks()
	b.letters()
	b.recordBooks()
	b.suggestions()
	b.meetings()
	b.lists()
	b.integrityFiles()
	b.emitDepartments()
	b.emitPeople()
	return b.out
}

// ---- small helpers -------------------------------------------------------------------------

// between returns a random int in [lo, hi]; lo when hi < lo.
func (b *builder) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + b.rng.IntN(hi-lo+1)
}

func (b *builder) chance(p float64) bool { return b.rng.Float64() < p }

func pick[T any](b *builder, xs []T) T { return xs[b.rng.IntN(len(xs))] }

// id returns the organ-prefixed id "<organ>-<code>-<k>" with k zero-padded to width digits.
func (b *builder) id(code string, k, width int) string {
	var buf [48]byte
	s := append(buf[:0], b.pre...)
	s = append(s, '-')
	s = append(s, code...)
	s = append(s, '-')
	digits := 1
	for v := k; v >= 10; v /= 10 {
		digits++
	}
	for ; digits < width; digits++ {
		s = append(s, '0')
	}
	s = strconv.AppendInt(s, int64(k), 10)
	return string(s)
}

func (b *builder) emit(c int, doc map[string]any) { b.out[c] = append(b.out[c], doc) }

func (b *builder) onRoster(p *person) bool {
	return p.active && (p.leftOn == 0 || p.leftOn > b.asOf)
}

// ---- organisation ---------------------------------------------------------------------------

func (b *builder) newDept(id, name, kind string, parent *dept) *dept {
	d := &dept{id: id, ref: id, name: name, kind: kind, parent: parent}
	b.depts = append(b.depts, d)
	if kind == "division" {
		parent.divisions = append(parent.divisions, d)
		b.divisions = append(b.divisions, d)
	}
	return d
}

// structure creates the departments: the organ, its committees and offices, the eight special
// committees, their divisions, the affiliated units and the Party branches.
func (b *builder) structure() {
	organName, short := "第"+strconv.Itoa(b.n)+"机关", ""
	if b.n <= len(provinces) {
		organName = provinces[b.n-1].full + "人大常委会机关"
		short = provinces[b.n-1].short
	}
	b.organ = b.newDept(b.pre, organName, "organ", nil)
	b.pc = b.newDept(b.pre+"-PC", "机关党委", "party_committee", b.organ)
	b.dc = b.newDept(b.pre+"-DC", "机关纪委", "discipline_committee", b.organ)
	b.office = b.newDept(b.pre+"-OFF", "办公厅", "office", b.organ)
	b.research = b.newDept(b.pre+"-RES", "研究室", "office", b.organ)
	for i, sc := range specialCommittees {
		b.committees = append(b.committees, b.newDept(b.id("SC", i+1, 2), sc.name, "special_committee", b.organ))
	}

	k := 0
	addDivisions := func(parent *dept, specs []divisionSpec) {
		for _, s := range specs {
			k++
			d := b.newDept(b.id("DIV", k, 2), s.name, "division", parent)
			d.large = s.large
		}
	}
	addDivisions(b.pc, partyCommitteeDivisions)
	addDivisions(b.dc, disciplineCommitteeDivisions)
	addDivisions(b.office, officeDivisions)
	addDivisions(b.research, researchDivisions)
	for i, sc := range specialCommittees {
		addDivisions(b.committees[i], sc.divisions)
	}

	magazine := "《" + short + "人大》杂志社"
	if short == "" {
		magazine = "人大杂志社"
	}
	for i, name := range []string{"机关服务中心", "信息中心", magazine, "人大培训中心"} {
		b.units = append(b.units, b.newDept(b.id("UNIT", i+1, 2), name, "unit", b.organ))
	}

	// Party branches (党支部) sit under the Party Committee; each holds the members of a few
	// departments. The office's divisions form five branches, two divisions each.
	branch := func(name string, members ...*dept) {
		d := b.newDept(b.id("BR", len(b.branches)+1, 2), name, "branch", b.pc)
		d.members = members
		b.branches = append(b.branches, d)
	}
	branch("机关党委（纪委）党支部", append([]*dept{b.pc, b.dc}, append(slices.Clone(b.pc.divisions), b.dc.divisions...)...)...)
	ordinals := []string{"第一", "第二", "第三", "第四", "第五"}
	for i, ord := range ordinals {
		members := slices.Clone(b.office.divisions[2*i : 2*i+2])
		if i == 0 {
			members = append([]*dept{b.office}, members...)
		}
		branch("办公厅"+ord+"党支部", members...)
	}
	branch("研究室党支部", append([]*dept{b.research}, b.research.divisions...)...)
	for _, sc := range b.committees {
		branch(sc.name+"党支部", append([]*dept{sc}, sc.divisions...)...)
	}
	for _, u := range b.units {
		branch(u.name+"党支部", u)
	}
}
