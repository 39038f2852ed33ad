package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
)

// auditChunk is the most cases one audit entry of a scan's new cases names.
const auditChunk = 1000

// ScanActor names the scans in a case's history and in the audit trail.
const ScanActor = "system:scan"

// CaseID is the id of the case of a failing check in an organ: deterministic, so that bringing
// the cases up to date with a scan twice (after a crash) opens nothing twice.
func CaseID(organ, key string) string {
	h := sha256.Sum256([]byte(organ + "\x00" + key))
	return "C" + hex.EncodeToString(h[:12])
}

// AfterScan is the scan service's step after a scan is stored as done (one of
// scan.ServiceConfig.AfterScan): it brings the cases up to date with it (and with any scan a
// crash left pending before it), to the end even when the scan's request has gone. An error is
// logged; the scan stays done, and the next sync or Recover at start catches up.
func (s *Service) AfterScan(ctx context.Context, sc *duty.Scan, _ *duty.Report) {
	if err := s.syncPending(context.WithoutCancel(ctx), sc); err != nil {
		s.cfg.Log.Error("ledger: bring the cases up to date after a scan", "scan", sc.ID, "err", err)
	}
}

// Sync brings the cases up to date with a done scan (and any left pending before it), as
// AfterScan does for the scans of the service; the command line and tests use it.
func (s *Service) Sync(ctx context.Context, sc *duty.Scan) error {
	if err := s.st.MarkLedgerPending(ctx, sc.ID); err != nil {
		return err
	}
	return s.syncPending(ctx, sc)
}

// Recover brings the cases up to date with every done scan a process stopped before it could
// (the marks BeforeSave leaves); the marks of scans that did not finish are dropped. Run it at
// start, before serving.
func (s *Service) Recover(ctx context.Context) error { return s.syncPending(ctx, nil) }

func (s *Service) syncPending(ctx context.Context, just *duty.Scan) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	ids, err := s.st.LedgerPending(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		sc := just
		if sc == nil || sc.ID != id {
			sc, err = s.st.GetScan(ctx, id)
			switch {
			case errors.Is(err, duty.ErrNotFound):
				if err := s.st.ClearLedgerPending(ctx, id); err != nil {
					return err
				}
				continue
			case err != nil:
				return err
			}
		}
		switch sc.Status {
		case duty.ScanRunning:
			continue // still running here: its own AfterScan brings the cases up to date
		case duty.ScanDone:
			if err := s.sync(ctx, sc); err != nil {
				return fmt.Errorf("bring the ledger up to date with scan %s: %w", id, err)
			}
		}
		if err := s.st.ClearLedgerPending(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// sync brings the cases of sc's scope up to date with its report, organ by organ (syncOrgan).
func (s *Service) sync(ctx context.Context, sc *duty.Scan) error {
	rep := sc.Report
	if rep == nil {
		return fmt.Errorf("scan %s has no report", sc.ID)
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return err
	}
	organs := tree.Organs()
	if sc.Department != "" {
		if tree.Department(sc.Department) == nil {
			return nil // the department was deleted since: its cases stay as they are
		}
		organs = []string{tree.Organ(sc.Department)}
	}
	failing := map[string]map[string]*duty.Violation{}
	for i := range rep.Violations {
		v := &rep.Violations[i]
		o := tree.Organ(v.Department)
		if failing[o] == nil {
			failing[o] = map[string]*duty.Violation{}
		}
		failing[o][CaseID(o, v.Key())] = v
	}
	waived := map[string]map[string]*duty.Waived{}
	for i := range rep.Waived {
		w := &rep.Waived[i]
		o := tree.Organ(w.Department)
		if waived[o] == nil {
			waived[o] = map[string]*duty.Waived{}
		}
		waived[o][CaseID(o, w.Key())] = w
	}
	p := s.Params()
	for _, organ := range organs {
		if err := s.syncOrgan(ctx, sc, tree, organ, p, failing[organ], waived[organ]); err != nil {
			return err
		}
	}
	return nil
}

// syncOrgan brings the cases of organ in sc's scope up to date with sc's report (failing: the
// organ's violations, waived: those an approved waiver set aside, by case id), under the
// store's write lease, reading the cases' states from the store: a failing check without a case
// opens one; a check that an approved waiver sets aside sets its case aside; a case whose check
// passes is closed when a rectification was submitted (销号 by re-check), else resolved by data;
// a submitted case whose check still fails goes back to in progress; a waived, closed or
// resolved case whose check fails again reopens. A scan as of an earlier date than the last one
// the cases of its scope (or an enclosing one) followed leaves them alone. Every change is
// audited, with an id made of the scan and the case, before the case is written: run again for
// the same scan, it changes nothing that it had changed and does the rest. Last, it stores the
// organ's due counts (the standing's overdue cases).
func (s *Service) syncOrgan(ctx context.Context, sc *duty.Scan, tree *duty.Tree, organ string, p duty.LedgerParams,
	failing map[string]*duty.Violation, waived map[string]*duty.Waived) error {
	unlock, err := s.st.LockLedger(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	scope, mark := map[string]bool(nil), organ
	var scopes []string // the scan's scope in this organ and the enclosing ones
	if sc.Department != "" {
		scope, mark = tree.Subtree(sc.Department), sc.Department
		scopes = tree.Covering(sc.Department)
	} else {
		scopes = []string{"", organ}
	}
	latest, err := s.st.LedgerAsOf(ctx, scopes)
	if err != nil {
		return err
	}
	if sc.AsOf < latest {
		s.cfg.Log.Info("ledger: a scan as of an earlier date than the ledger's leaves the cases as they are",
			"scan", sc.ID, "organ", organ, "as_of", sc.AsOf, "ledger_as_of", latest)
		return nil
	}
	list, err := s.st.CaseMarks(ctx, organ)
	if err != nil {
		return err
	}
	marks := make(map[string]store.CaseMark, len(list))
	for _, m := range list {
		marks[m.ID] = m
	}
	at := now()
	var fresh []duty.Case
	add := func(id string, v *duty.Violation, w *duty.WaiverRef) {
		if _, known := marks[id]; known {
			return
		}
		due, _ := addDays(sc.AsOf, period(p, v.Severity))
		c := duty.Case{ID: id, Organ: organ, Key: v.StoredKey(), Department: v.Department,
			Accountable: v.Accountable, Severity: v.Severity, Policy: v.Policy, Violation: *v, State: duty.CaseOpen,
			OpenedOn: sc.AsOf, DueOn: due, ScanAsOf: sc.AsOf, Rev: 1}
		c.History = []duty.CaseEvent{{At: at, Actor: ScanActor, Action: "open", To: duty.CaseOpen, ScanID: sc.ID, AsOf: sc.AsOf}}
		if w != nil {
			c.State, c.Waiver = duty.CaseWaived, w
			c.History = append(c.History, duty.CaseEvent{At: at, Actor: ScanActor, Action: "waive", From: duty.CaseOpen,
				To: duty.CaseWaived, Note: "豁免" + w.ID + "有效至" + w.Until, ScanID: sc.ID, AsOf: sc.AsOf})
		}
		fresh = append(fresh, c)
	}
	for id, v := range failing {
		add(id, v, nil)
	}
	for id, w := range waived {
		add(id, &w.Violation, &w.Waiver)
	}
	// Every new case is audited before any is stored, in entries of up to auditChunk cases
	// named by the scan and the chunk's first case: run again after a crash while storing,
	// the cases left to store were all audited already and the entries are not written twice.
	slices.SortFunc(fresh, func(a, b duty.Case) int { return strings.Compare(a.ID, b.ID) })
	for start := 0; start < len(fresh); start += auditChunk {
		part := fresh[start:min(start+auditChunk, len(fresh))]
		e := duty.AuditEntry{ID: "ledger/" + sc.ID + "/open/" + part[0].ID, Actor: ScanActor, Action: "case.open", Collection: "cases"}
		for i := range part {
			e.IDs, e.Before, e.After = append(e.IDs, part[i].ID), append(e.Before, ""), append(e.After, caseHash(&part[i]))
		}
		if err := s.st.AuditOnce(ctx, e); err != nil {
			return err
		}
	}
	if err := s.hook("sync.opened-audited"); err != nil {
		return err
	}
	if _, err := s.st.InsertCases(ctx, fresh); err != nil {
		return err
	}
	for i := range fresh {
		marks[fresh[i].ID] = markOf(&fresh[i])
	}
	// The stored cases this scan moves, by their states: a failing check moves a submitted,
	// waived, closed or resolved case; a waived one a case not yet waived; a passing one a case
	// still being worked or waived. Only those are read in full.
	var moving []string
	for id, m := range marks {
		if scope != nil && !scope[m.Department] || sc.AsOf < m.ScanAsOf {
			continue
		}
		_, fails := failing[id]
		_, isWaived := waived[id]
		switch {
		case isWaived:
			if m.State != duty.CaseWaived {
				moving = append(moving, id)
			}
		case fails:
			if m.State != duty.CaseOpen && m.State != duty.CaseInProgress {
				moving = append(moving, id)
			}
		case m.State != duty.CaseClosed && m.State != duty.CaseResolvedByData:
			moving = append(moving, id)
		}
	}
	slices.Sort(moving)
	for _, id := range moving {
		c, err := s.st.GetCase(ctx, id)
		if err != nil {
			return err
		}
		if err := s.recheck(ctx, c, sc, p, failing[id], waived[id]); err != nil {
			return err
		}
		marks[id] = markOf(c)
	}
	if len(fresh)+len(moving) > 0 { // else the counts stored hold (or Standings makes them)
		list = slices.AppendSeq(list[:0], maps.Values(marks))
		if err := s.st.SetLedgerDue(ctx, organ, dueCountsOf(list)); err != nil {
			return err
		}
	}
	return s.st.SetLedgerAsOf(ctx, mark, sc.AsOf)
}

func markOf(c *duty.Case) store.CaseMark {
	return store.CaseMark{ID: c.ID, State: c.State, Department: c.Department, ScanAsOf: c.ScanAsOf, DueOn: c.DueOn}
}

// recheck moves one stored case as scan sc found its check: failing (v), waived (w) or passing
// (both nil).
func (s *Service) recheck(ctx context.Context, c *duty.Case, sc *duty.Scan, p duty.LedgerParams, v *duty.Violation, w *duty.Waived) error {
	if sc.AsOf < c.ScanAsOf {
		return nil
	}
	before := *c
	ev := duty.CaseEvent{At: now(), Actor: ScanActor, From: c.State, ScanID: sc.ID, AsOf: sc.AsOf}
	reopen := func(note string) {
		due, _ := addDays(sc.AsOf, period(p, c.Severity))
		ev.Action, ev.To, ev.Note = "reopen", duty.CaseOpen, note
		c.DueOn, c.Waiver, c.ClosedBy = due, nil, nil
		c.Rectification, c.Evidence, c.EvidenceFiles, c.SubmittedAt = "", nil, nil, ""
	}
	switch {
	case w != nil && c.State != duty.CaseWaived:
		ev.Action, ev.To, ev.Note = "waive", duty.CaseWaived, "豁免"+w.Waiver.ID+"有效至"+w.Waiver.Until
		c.Waiver = &w.Waiver
	case w != nil:
		return nil
	case v != nil:
		switch c.State {
		case duty.CaseSubmitted:
			if sc.StartedAt <= c.SubmittedAt {
				return nil // the scan started before the submission: not a re-check of it
			}
			ev.Action, ev.To, ev.Note = "recheck_failed", duty.CaseInProgress, "复查仍未通过，退回整改。"
		case duty.CaseWaived:
			reopen("豁免已结束，问题仍存在，重新整改。")
		case duty.CaseClosed, duty.CaseResolvedByData:
			reopen("问题再次出现，重新整改。")
		default:
			return nil
		}
		c.Violation = *v
	default:
		switch c.State {
		case duty.CaseSubmitted:
			ev.Action, ev.To, ev.Note = "close", duty.CaseClosed, "复查通过，销号。"
		case duty.CaseOpen, duty.CaseInProgress, duty.CaseWaived:
			ev.Action, ev.To, ev.Note = "resolve", duty.CaseResolvedByData, "复查未再发现该问题（未提交整改），按数据已解决。"
			c.Waiver = nil
		default:
			return nil
		}
		c.ClosedBy = &duty.Seen{AsOf: sc.AsOf, ScanID: sc.ID}
	}
	c.State, c.ScanAsOf, c.Rev = ev.To, sc.AsOf, c.Rev+1
	c.History = append(c.History, ev)
	if err := s.auditCase(ctx, sc.ID+"/"+c.ID+"/"+ev.Action, ScanActor, "case."+ev.Action, &before, c); err != nil {
		return err
	}
	if err := s.st.ReplaceCase(ctx, c); err != nil {
		return err
	}
	return s.hook("sync.case-written")
}

func (s *Service) auditCase(ctx context.Context, id, actor, action string, before, after *duty.Case) error {
	e := duty.AuditEntry{Actor: actor, Action: action, Collection: "cases", IDs: []string{after.ID},
		Before: []string{caseHash(before)}, After: []string{caseHash(after)}}
	if id == "" {
		return s.st.Audit(ctx, e)
	}
	e.ID = "ledger/" + id
	return s.st.AuditOnce(ctx, e)
}

func caseHash(c *duty.Case) string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal(struct {
		State, Owner, Rectification, DueOn string
		Rev                                int64
	}{c.State, c.Owner, c.Rectification, c.DueOn, c.Rev})
	return hashHex(b)
}

// Act applies a user's transition to a case of its subtree. A transition not allowed from the
// case's state is duty.ErrConflict naming both states; missing owner, note or evidence
// duty.ErrInvalid.
func (s *Service) Act(ctx context.Context, p duty.Principal, id string, t duty.CaseTransition) (*duty.Case, error) {
	unlock, err := s.st.LockLedger(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c, err := s.Case(ctx, p, id)
	if err != nil {
		return nil, err
	}
	from := duty.CaseAllowedFrom(t.Action)
	if from == nil {
		return nil, fmt.Errorf("action %q: %w: no such action (start, submit or note)", t.Action, duty.ErrNotFound)
	}
	if !slices.Contains(from, c.State) {
		return nil, fmt.Errorf("case %s is %s: %w: %s is allowed only from %s", id, c.State, duty.ErrConflict, t.Action, strings.Join(from, ", "))
	}
	note := strings.TrimSpace(t.Note)
	if err := checkText("note", note, MaxTextChars, true); err != nil {
		return nil, err
	}
	if err := checkText("owner", strings.TrimSpace(t.Owner), MaxOwnerChars, false); err != nil {
		return nil, err
	}
	if len(t.Evidence) > MaxEvidence || len(t.Files) > MaxEvidence {
		return nil, invalid("evidence: %d records and %d files: at most %d of each in one submission", len(t.Evidence), len(t.Files), MaxEvidence)
	}
	if len(c.History) >= MaxHistory {
		return nil, invalid("case %s has %d events, the most a case keeps: nothing more can be added to it", id, len(c.History))
	}
	before := *c
	ev := duty.CaseEvent{At: now(), Actor: p.User, Action: t.Action, From: c.State, To: c.State, Note: note}
	switch t.Action {
	case "start":
		owner := strings.TrimSpace(t.Owner)
		if owner == "" {
			return nil, invalid("owner: missing: name who rectifies the case")
		}
		c.Owner, ev.To = owner, duty.CaseInProgress
		if note == "" {
			ev.Note = "责任人：" + owner
		}
	case "submit":
		if note == "" {
			return nil, invalid("note: missing: describe the rectification")
		}
		if len(t.Evidence)+len(t.Files) == 0 {
			return nil, invalid("evidence: missing: link at least one record (evidence) or uploaded file (files)")
		}
		for i, r := range t.Evidence {
			if _, err := s.st.GetScoped(ctx, p, r.Collection, r.ID); err != nil {
				return nil, invalid("evidence[%d] %s %q: no such record in your departments", i, r.Collection, r.ID)
			}
		}
		for i, f := range t.Files {
			fi, err := s.st.GetEvidenceFile(ctx, f)
			if err != nil || fi.Case != c.ID {
				return nil, invalid("files[%d] %q: no such file uploaded to this case", i, f)
			}
		}
		c.Rectification, c.Evidence, c.EvidenceFiles, c.SubmittedAt = note, t.Evidence, t.Files, now()
		ev.To = duty.CaseSubmitted
	case "note":
		if note == "" {
			return nil, invalid("note: missing")
		}
	}
	c.State, c.Rev = ev.To, c.Rev+1
	c.History = append(c.History, ev)
	if err := s.st.ReplaceCase(ctx, c); err != nil {
		return nil, err
	}
	if err := s.auditCase(ctx, "", p.User, "case."+t.Action, &before, c); err != nil {
		return nil, err
	}
	s.flag(c)
	return c, nil
}

// Case returns one case the principal may see (duty.ErrNotFound outside its subtree).
func (s *Service) Case(ctx context.Context, p duty.Principal, id string) (*duty.Case, error) {
	c, err := s.st.GetCase(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mustSee(ctx, p, c.Department, "case", id); err != nil {
		return nil, err
	}
	s.flag(c)
	return c, nil
}

// flag works out the overdue flag: past due_on, neither done nor waived.
func (s *Service) flag(c *duty.Case) {
	c.Overdue = !c.Done() && c.State != duty.CaseWaived && c.DueOn < s.cfg.Today()
}

// Cases lists the cases the principal may see that match f, by department, policy and
// subject. A department outside the principal's subtree is duty.ErrNotFound; an unknown state
// duty.ErrInvalid.
func (s *Service) Cases(ctx context.Context, p duty.Principal, f duty.CaseFilter) ([]duty.Case, error) {
	if f.State != "" && !slices.Contains(duty.CaseStates, f.State) {
		return nil, invalid("state %q: expected one of %s", f.State, strings.Join(duty.CaseStates, ", "))
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	reach := duty.ReachOf(p, tree) // once: a department user's subtree, not once a record
	var sub map[string]bool
	if f.Department != "" {
		if tree.Department(f.Department) == nil || !reach.Department(f.Department) {
			return nil, fmt.Errorf("department %q: %w", f.Department, duty.ErrNotFound)
		}
		sub = tree.Subtree(f.Department)
	}
	// Only the tables of the organ the filter or the principal's scope lies in are read.
	organ := ""
	switch {
	case f.Department != "":
		organ = tree.Organ(f.Department)
	case p.Scope() != "":
		organ = tree.Organ(p.Scope())
	}
	all, err := s.st.Cases(ctx, organ)
	if err != nil {
		return nil, err
	}
	out := []duty.Case{}
	for i := range all {
		c := &all[i]
		s.flag(c)
		switch {
		case !reach.Department(c.Department), sub != nil && !sub[c.Department],
			f.State != "" && c.State != f.State, f.Severity != "" && c.Severity != f.Severity,
			f.Policy != "" && c.Policy != f.Policy, f.Overdue != nil && c.Overdue != *f.Overdue:
			continue
		}
		out = append(out, *c)
	}
	slices.SortStableFunc(out, func(a, b duty.Case) int {
		for _, x := range [][2]string{{a.Department, b.Department}, {a.Policy, b.Policy}, {a.Violation.Subject.ID, b.Violation.Subject.ID}, {a.ID, b.ID}} {
			if r := strings.Compare(x[0], x[1]); r != 0 {
				return r
			}
		}
		return 0
	})
	return out, nil
}
