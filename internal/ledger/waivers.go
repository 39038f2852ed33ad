package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// RequestWaiver stores a waiver request of principal p. It is refused (duty.ErrInvalid) for an
// unknown policy, a missing subject, an empty reason, an end date that is not a date, in the
// past or past the maximum (duty.LedgerParams.MaxWaiverDays from today, in force now), and details that are not an object
// of plain values; a subject outside p's subtree is duty.ErrNotFound, as for any record there.
func (s *Service) RequestWaiver(ctx context.Context, p duty.Principal, req duty.WaiverRequest) (*duty.Waiver, error) {
	known := false
	if e := s.engine(); e != nil {
		for _, m := range e.Policies() {
			known = known || m.ID == req.Policy
		}
	}
	switch {
	case req.Policy == "":
		return nil, invalid("policy: missing: name the policy the waiver is for")
	case !known:
		return nil, invalid("policy %q: unknown: no policy in force has this id", req.Policy)
	case req.Subject == nil || req.Subject.Collection == "" || req.Subject.ID == "":
		return nil, invalid(`subject: missing: expected {"collection": …, "id": …}, the record the violations are about`)
	case duty.Lookup(req.Subject.Collection) == nil:
		return nil, invalid("subject.collection %q: unknown collection", req.Subject.Collection)
	case strings.TrimSpace(req.Reason) == "":
		return nil, invalid("reason: missing: say why the violations are not to be fixed")
	}
	if err := checkText("reason", strings.TrimSpace(req.Reason), MaxTextChars, true); err != nil {
		return nil, err
	}
	if err := duty.CheckDate("until", req.Until); err != nil {
		return nil, err
	}
	today, maxDays := s.cfg.Today(), s.Params().MaxWaiverDays
	latest, err := addDays(today, maxDays)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Until < today:
		return nil, invalid("until %q: in the past: a waiver ends today (%s) or later", req.Until, today)
	case req.Until > latest:
		return nil, invalid("until %q: past the maximum: a waiver ends at most %d days from today, on %s at the latest", req.Until, maxDays, latest)
	}
	details, err := plainDetails(req.Details)
	if err != nil {
		return nil, err
	}
	rec, err := s.st.GetScoped(ctx, p, req.Subject.Collection, req.Subject.ID)
	switch {
	case errors.Is(err, duty.ErrNotFound) && p.Scope() == "":
		return nil, invalid("subject %s %q: no such record", req.Subject.Collection, req.Subject.ID)
	case err != nil:
		return nil, err
	}
	dept, err := s.st.SubjectDepartment(ctx, req.Subject.Collection, rec)
	if err != nil {
		return nil, err
	}
	w := &duty.Waiver{ID: newID("W"), Policy: req.Policy, Subject: *req.Subject, Details: details,
		Department: dept, Reason: strings.TrimSpace(req.Reason),
		Until: req.Until, Status: duty.WaiverRequested, RequestedBy: p.User, RequestedAt: now(), Rev: 1}
	if err := s.st.InsertWaiver(ctx, w); err != nil {
		return nil, err
	}
	if err := s.auditWaiver(ctx, p.User, "waiver.request", nil, w); err != nil {
		return nil, err
	}
	return w, nil
}

// plainDetails checks that details is an object of strings, numbers and booleans and turns its
// JSON numbers into int64 or float64, as violations' details are stored.
func plainDetails(in map[string]any) (map[string]any, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		if k == "" || strings.ContainsAny(k, ".$") {
			return nil, invalid("details key %q: expected a plain name", k)
		}
		switch x := v.(type) {
		case string, bool:
			out[k] = x
		case float64, int64:
			out[k] = x
		case int:
			out[k] = int64(x)
		case int32:
			out[k] = int64(x)
		case json.Number:
			if i, err := x.Int64(); err == nil {
				out[k] = i
			} else if f, err := x.Float64(); err == nil {
				out[k] = f
			} else {
				return nil, invalid("details.%s %q: not a number", k, x)
			}
		default:
			return nil, invalid("details.%s: expected a string, number or boolean, as in the violations' details", k)
		}
	}
	return out, nil
}

// DecideWaiver approves or rejects a requested waiver. Only a user with the role inspector or
// admin decides, and never on their own request (duty.ErrForbidden); a waiver that is not
// requested any more is duty.ErrConflict, naming its status.
func (s *Service) DecideWaiver(ctx context.Context, p duty.Principal, id string, d duty.WaiverDecision, note string) (*duty.Waiver, error) {
	return s.changeWaiver(ctx, p, id, func(w *duty.Waiver) (string, error) {
		if err := checkText("note", strings.TrimSpace(note), MaxTextChars, true); err != nil {
			return "", err
		}
		switch {
		case !p.Can(duty.DecideWaivers):
			return "", fmt.Errorf("waiver %s: %w: only an inspector or an admin may %s a waiver", id, duty.ErrForbidden, d)
		case w.RequestedBy == p.User:
			return "", fmt.Errorf("waiver %s: %w: you requested it; another inspector or admin must %s it", id, duty.ErrForbidden, d)
		case w.Status != duty.WaiverRequested:
			return "", fmt.Errorf("waiver %s is %s: %w: only a requested waiver can be approved or rejected", id, w.Status, duty.ErrConflict)
		}
		w.Status = duty.WaiverApproved
		if d == duty.WaiverReject {
			w.Status = duty.WaiverRejected
		}
		w.DecidedBy, w.DecidedAt, w.Note = p.User, now(), strings.TrimSpace(note)
		return "waiver." + string(d), nil
	})
}

// RevokeWaiver ends a requested or approved waiver: scans from now on do not apply it (reports
// already stored keep what they waived). The requester or an inspector or admin may revoke it.
func (s *Service) RevokeWaiver(ctx context.Context, p duty.Principal, id string) (*duty.Waiver, error) {
	return s.changeWaiver(ctx, p, id, func(w *duty.Waiver) (string, error) {
		switch {
		case !p.Can(duty.DecideWaivers) && w.RequestedBy != p.User:
			return "", fmt.Errorf("waiver %s: %w: only its requester, an inspector or an admin may revoke it", id, duty.ErrForbidden)
		case w.Status != duty.WaiverRequested && w.Status != duty.WaiverApproved:
			return "", fmt.Errorf("waiver %s is %s: %w: only a requested or approved waiver can be revoked", id, w.Status, duty.ErrConflict)
		}
		w.Status, w.RevokedBy, w.RevokedAt = duty.WaiverRevoked, p.User, now()
		return "waiver.revoke", nil
	})
}

// changeWaiver changes the waiver id the principal may see, under the ledger's lock: change
// refuses (its error) or changes the waiver and names the audit action; the waiver is then
// stored with its next revision and the change audited.
func (s *Service) changeWaiver(ctx context.Context, p duty.Principal, id string, change func(w *duty.Waiver) (action string, err error)) (*duty.Waiver, error) {
	unlock, err := s.st.LockLedger(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w, err := s.Waiver(ctx, p, id)
	if err != nil {
		return nil, err
	}
	before := *w
	action, err := change(w)
	if err != nil {
		return nil, err
	}
	w.Rev++
	if err := s.st.ReplaceWaiver(ctx, w); err != nil {
		return nil, err
	}
	if err := s.auditWaiver(ctx, p.User, action, &before, w); err != nil {
		return nil, err
	}
	return w, nil
}

// Waiver returns one waiver the principal may see (duty.ErrNotFound outside its subtree).
func (s *Service) Waiver(ctx context.Context, p duty.Principal, id string) (*duty.Waiver, error) {
	w, err := s.st.GetWaiver(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mustSee(ctx, p, w.Department, "waiver", id); err != nil {
		return nil, err
	}
	return w, nil
}

// Waivers lists the waivers the principal may see that match f, by id. A department outside
// the principal's subtree is duty.ErrNotFound; an unknown status duty.ErrInvalid.
func (s *Service) Waivers(ctx context.Context, p duty.Principal, f duty.WaiverFilter) ([]duty.Waiver, error) {
	if f.Status != "" && !slices.Contains([]string{duty.WaiverRequested, duty.WaiverApproved, duty.WaiverRejected, duty.WaiverRevoked}, f.Status) {
		return nil, invalid("status %q: expected requested, approved, rejected or revoked", f.Status)
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
	all, err := s.st.Waivers(ctx, f.Status, f.Policy)
	if err != nil {
		return nil, err
	}
	out := []duty.Waiver{}
	for _, w := range all {
		if reach.Department(w.Department) && (sub == nil || sub[w.Department]) {
			out = append(out, w)
		}
	}
	return out, nil
}

func (s *Service) auditWaiver(ctx context.Context, actor, action string, before, after *duty.Waiver) error {
	return s.st.Audit(ctx, duty.AuditEntry{Actor: actor, Action: action, Collection: "waivers", IDs: []string{after.ID},
		Before: []string{waiverHash(before)}, After: []string{waiverHash(after)}})
}

func waiverHash(w *duty.Waiver) string {
	if w == nil {
		return ""
	}
	b, _ := json.Marshal(w)
	return hashHex(b)
}

// ApplyWaivers moves the violations of rep that an approved waiver covers (duty.Waiver.Covers
// at rep's as-of date) from rep.Violations to rep.Waived, each with the waiver's id and end
// date. Of several waivers covering one violation, the one ending last is named (then the
// smallest id). The summary is not recounted (the scan service does it).
func ApplyWaivers(rep *duty.Report, waivers []duty.Waiver) {
	bySubject := map[string][]*duty.Waiver{}
	for i := range waivers {
		w := &waivers[i]
		if w.Status == duty.WaiverApproved && rep.AsOf <= w.Until {
			k := w.Policy + "\x00" + w.Subject.Collection + "\x00" + w.Subject.ID
			bySubject[k] = append(bySubject[k], w)
		}
	}
	if len(bySubject) == 0 {
		return
	}
	kept := make([]duty.Violation, 0, len(rep.Violations))
	for _, v := range rep.Violations {
		var best *duty.Waiver
		for _, w := range bySubject[v.Policy+"\x00"+v.Subject.Collection+"\x00"+v.Subject.ID] {
			if w.Covers(&v, rep.AsOf) && (best == nil || w.Until > best.Until || (w.Until == best.Until && w.ID < best.ID)) {
				best = w
			}
		}
		if best == nil {
			kept = append(kept, v)
			continue
		}
		rep.Waived = append(rep.Waived, duty.Waived{Violation: v, Waiver: duty.WaiverRef{ID: best.ID, Until: best.Until}})
	}
	rep.Violations = kept
}

// BeforeSave is the scan service's step before a report is stored: it applies the approved
// waivers and marks the scan for Sync (so that a process killed before Sync leaves the mark).
func (s *Service) BeforeSave(ctx context.Context, rep *duty.Report) error {
	waivers, err := s.st.Waivers(ctx, duty.WaiverApproved, "")
	if err != nil {
		return fmt.Errorf("read the approved waivers: %w", err)
	}
	ApplyWaivers(rep, waivers)
	return s.st.MarkLedgerPending(ctx, rep.ScanID)
}
