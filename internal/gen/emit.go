package gen

import "slices"

// The record emitters: every document of the eight record collections is written by one of
// these, whichever way its dates were chosen (the realistic organisation of Generate's default
// mode, or the boundary placement of Options.Boundaries). Dates are day numbers; 0 means the
// field is absent.

// emitAppointment writes an appointment (duty 1's subject).
func (b *builder) emitAppointment(id string, p *person, d *dept, position, rank string, effective int) {
	b.emit(colAppointments, map[string]any{
		"id": id, "person_id": p.ref, "department_id": d.ref,
		"position": position, "rank": rank, "effective_on": dateValue(effective),
	})
}

type talk struct {
	kind     string
	p, by    *person // by is nil when the talk was held by someone outside the organ
	held     int
	recorded string // "", "true" or "false": absent, or written out
}

// emitTalk writes a talk.
func (b *builder) emitTalk(id string, t talk) {
	doc := map[string]any{"id": id, "kind": t.kind, "person_id": t.p.ref, "held_on": dateValue(t.held)}
	if t.by != nil {
		doc["conducted_by"] = t.by.ref
	}
	switch t.recorded {
	case "true":
		doc["recorded"] = true
	case "false":
		doc["recorded"] = false
	}
	b.emit(colTalks, doc)
}

// letter is a responsibility letter (duty 2); signed is 0 when signed_on is absent.
type letter struct {
	year, level        int
	issuer, signer     *person
	byIssuer, bySigner bool
	signed             int
}

// yearOf boxes a year, sharing the box of the scan year.
func (b *builder) yearOf(y int) any {
	if y == b.y {
		return b.yearValue
	}
	return int64(y)
}

// emitLetter writes a letter.
func (b *builder) emitLetter(id string, l letter) {
	doc := map[string]any{
		"id": id, "year": b.yearOf(l.year), "level": int64(l.level),
		"issuer_id": l.issuer.ref, "signer_id": l.signer.ref,
		"signed_by_issuer": l.byIssuer, "signed_by_signer": l.bySigner,
	}
	if l.signed != 0 {
		doc["signed_on"] = dateValue(l.signed)
	}
	b.emit(colLetters, doc)
}

// bookTask, bookEntry and inspection are the parts of a duty record book (duty 3).
type bookTask struct {
	id, title string
	due       int
}

type bookEntry struct {
	date    int
	task    string
	content any
}

type inspection struct {
	date     int
	by       *person
	findings string // "" when absent
}

// emitBook writes a record book with its tasks, entries (in the order given) and inspections.
func (b *builder) emitBook(id string, year int, holder *person, issued int, tasks []bookTask, entries []bookEntry, inspections []inspection) {
	docTasks := make([]any, len(tasks))
	for i, t := range tasks {
		docTasks[i] = map[string]any{"id": t.id, "title": t.title, "due_on": dateValue(t.due)}
	}
	docEntries := make([]any, len(entries))
	for i, e := range entries {
		m := map[string]any{"date": dateValue(e.date), "content": e.content}
		if e.task != "" {
			m["task_id"] = e.task
		}
		docEntries[i] = m
	}
	docInspections := make([]any, len(inspections))
	for i, in := range inspections {
		m := map[string]any{"date": dateValue(in.date), "inspector_id": in.by.ref}
		if in.findings != "" {
			m["findings"] = in.findings
		}
		docInspections[i] = m
	}
	b.emit(colRecordBooks, map[string]any{
		"id": id, "year": b.yearOf(year), "holder_id": holder.ref, "issued_on": dateValue(issued),
		"tasks": docTasks, "entries": docEntries, "inspections": docInspections,
	})
}

// suggestionItem is one item of a work suggestion (duty 4). closed_on is written when closed
// is not 0 and evidence when hasEvidence, whatever the status, so that an open item may carry
// them too.
type suggestionItem struct {
	id, text, status string
	due, closed      int
	evidence         string
	hasEvidence      bool
}

// emitSuggestion writes a work suggestion with its items.
func (b *builder) emitSuggestion(id string, d *dept, issued int, items []suggestionItem) {
	docItems := make([]any, len(items))
	for i, it := range items {
		m := map[string]any{"id": it.id, "text": it.text, "due_on": dateValue(it.due), "status": it.status}
		if it.closed != 0 {
			m["closed_on"] = dateValue(it.closed)
		}
		if it.hasEvidence {
			m["evidence"] = it.evidence
		}
		docItems[i] = m
	}
	b.emit(colSuggestions, map[string]any{
		"id": id, "department_id": d.ref, "issued_on": dateValue(issued), "items": docItems,
	})
}

// emitMeeting writes a meeting (duties 5 and 6).
func (b *builder) emitMeeting(id, kind string, d *dept, held int) {
	b.emit(colMeetings, map[string]any{"id": id, "kind": kind, "department_id": d.ref, "held_on": dateValue(held)})
}

// emitList writes a responsibility list (duty 7) with its level's items; holder may be nil.
func (b *builder) emitList(id string, year int, level string, d *dept, holder *person) {
	doc := map[string]any{
		"id": id, "year": b.yearOf(year), "level": level, "department_id": d.ref,
		"items": slices.Clone(listItemValues[level]),
	}
	if holder != nil {
		doc["holder_id"] = holder.ref
	}
	b.emit(colLists, doc)
}

// matter is a personal major matter of an integrity file (duty 9); reported is 0 when not
// reported.
type matter struct {
	id, kind        string
	event, reported int
}

// emitFile writes an integrity file (duty 8) with its major matters.
func (b *builder) emitFile(id string, p *person, updated int, matters []matter) {
	docMatters := make([]any, len(matters))
	for i, m := range matters {
		doc := map[string]any{"id": m.id, "kind": m.kind, "event_on": dateValue(m.event)}
		if m.reported != 0 {
			doc["reported_on"] = dateValue(m.reported)
		}
		docMatters[i] = doc
	}
	b.emit(colFiles, map[string]any{
		"id": id, "person_id": p.ref, "updated_on": dateValue(updated), "major_matters": docMatters,
	})
}
