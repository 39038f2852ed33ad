package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// A person's page (一人一档): the person, their appointments, talks (as subject and as the one
// who conducted them), letters (as issuer and as signer), record books with their tasks,
// entries and inspections, integrity files with the major matters, the responsibility lists
// they hold, and the violations and warnings of the latest report about them or these records
// (or a letter they are to issue).
// It reads the person's organ's table once (duty.Records.OrganRecords) and the latest report, as the
// record page does.

type personSection struct {
	ID, Title string
	Table     *recordTable
	Cards     []recordCard // records shown whole (record books, integrity files)
	NewURL    string       // a new record of this kind about the person
}

type recordCard struct {
	Ref     duty.Ref
	Fields  []fieldView
	CanEdit bool
}

type personPage struct {
	ID, Name, DeptName, Dept string
	Fields                   []fieldView
	CanEdit                  bool
	Sections                 []personSection
	Violations               []namedViolation
	Warnings                 []dueRow
	Scanned                  bool
	AsOf                     string
}

// personRecords are the sections of the page: collection, the field naming the person, and
// whether records are shown whole.
var personRecords = []struct {
	id, coll, field, title string
	cards                  bool
}{
	{"appointments", "appointments", "person_id", "person.appointments", false},
	{"talks-subject", "talks", "person_id", "person.talks.subject", false},
	{"talks-conductor", "talks", "conducted_by", "person.talks.conductor", false},
	{"letters-issuer", "letters", "issuer_id", "person.letters.issuer", false},
	{"letters-signer", "letters", "signer_id", "person.letters.signer", false},
	{"record-books", "record_books", "holder_id", "person.books", true},
	{"integrity-files", "integrity_files", "person_id", "person.files", true},
	{"lists", "responsibility_lists", "holder_id", "person.lists", false},
}

// personPageOf shows one person's file.
func (h *handler) personPageOf(rq *request) error {
	id := rq.r.PathValue("id")
	person, err := h.Store.GetScoped(rq.ctx, rq.p, "people", id)
	if err != nil {
		return err
	}
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return err
	}
	organ := tree.Organ(person.Str("department_id"))
	var colls []string
	for _, s := range personRecords {
		if !slices.Contains(colls, s.coll) {
			colls = append(colls, s.coll)
		}
	}
	v, err := h.readOrgan(rq, tree, organ, colls...)
	if err != nil {
		return err
	}
	n := v.namer(rq.ctx, h)
	page := personPage{ID: id, Name: person.Str("name"), Dept: person.Str("department_id"), CanEdit: v.mayWrite(rq, "people", person)}
	page.DeptName = n.dept(page.Dept)
	for _, f := range duty.Lookup("people").Fields {
		if x, ok := person[f.Name]; ok {
			page.Fields = append(page.Fields, fieldOf("people", f, x, n, rq.lang))
		}
	}
	mine := map[duty.Ref]bool{{Collection: "people", ID: id}: true}
	for _, s := range personRecords {
		sec := personSection{ID: s.id, Title: text(rq.lang, s.title)}
		var docs []duty.Doc
		for _, d := range v.records(s.coll) {
			if d.Str(s.field) == id {
				docs = append(docs, d)
				if s.field != "conducted_by" && s.field != "issuer_id" {
					mine[duty.Ref{Collection: s.coll, ID: d.ID()}] = true
				}
			}
		}
		if rq.p.Can(duty.WriteRecords) && s.field != "conducted_by" {
			sec.NewURL = "/new/" + s.coll + "?" + url.Values{s.field: {id}, "organ": {organ}}.Encode()
		}
		if s.cards {
			c := duty.Lookup(s.coll)
			for _, d := range docs {
				card := recordCard{Ref: duty.Ref{Collection: s.coll, ID: d.ID()}, CanEdit: v.mayWrite(rq, s.coll, d)}
				for _, f := range c.Fields {
					if x, ok := d[f.Name]; ok {
						card.Fields = append(card.Fields, fieldOf(s.coll, f, x, n, rq.lang))
					}
				}
				sec.Cards = append(sec.Cards, card)
			}
		} else {
			sec.Table = h.tableOf(rq, v, n, s.coll, s.id, docs)
		}
		page.Sections = append(page.Sections, sec)
	}
	if rq.p.Can(duty.ReadReports) {
		rep, err := h.latestFor(rq, tree, page.Dept)
		if err != nil {
			return err
		}
		if rep != nil {
			page.Scanned, page.AsOf = true, rep.AsOf
			page.Violations, page.Warnings = namedIn(rq.lang, rep, n, func(r duty.Ref) bool { return mine[r] },
				func(v *duty.Violation) bool {
					// A letter pair names its issuer in the details: the issuer's duty too.
					return v.Details["issuer"] == id || slices.ContainsFunc(v.Evidence, func(e duty.Ref) bool { return mine[e] })
				})
		}
	}
	return h.render(rq, http.StatusOK, "person", page.Name, page)
}

// latestFor is the latest report covering department dept: the user's subtree, else dept's
// organ; nil when none was made.
func (h *handler) latestFor(rq *request, tree *orgTree, dept string) (*duty.Report, error) {
	root := rq.p.Scope()
	if root == "" {
		root = tree.Organ(dept)
	}
	if root == "" {
		return nil, nil
	}
	rep, err := h.scans.Latest(rq.ctx, rq.p, root)
	if errors.Is(err, duty.ErrNotFound) {
		return nil, nil
	}
	return rep, err
}

// namedIn returns the violations of a report whose subject is one of the records (as subject)
// or that name one of them as evidence, and the warnings likewise, by fails_on.
func namedIn(lang string, rep *duty.Report, n *namer, subject func(duty.Ref) bool, evidenced func(*duty.Violation) bool) ([]namedViolation, []dueRow) {
	var vs []namedViolation
	var ws []dueRow
	for _, v := range rep.Violations {
		role := ""
		if subject(v.Subject) {
			role = "record.as.subject"
		} else if evidenced(&v) {
			role = "record.as.evidence"
		}
		if role == "" {
			continue
		}
		r := row{V: v, Dept: n.dept(v.Department), Subject: n.ref(lang, v.Subject), New: isNew(rep, &v)}
		for _, e := range v.Evidence {
			r.Evidence = append(r.Evidence, evidence{Ref: e, Label: n.ref(lang, e)})
		}
		vs = append(vs, namedViolation{Row: r, Role: text(lang, role)})
	}
	for _, w := range rep.Warnings { // sorted by fails_on
		if subject(w.Subject) || evidenced(&w.Violation) {
			ws = append(ws, warningRow(lang, rep.AsOf, &w, n))
		}
	}
	return vs, ws
}
