package duty

import (
	"encoding/json"
	"errors"
	"slices"
)

// ErrForbidden is an action the principal's role allows in general but not on this object
// (approving one's own waiver request); the HTTP layer answers 403.
var ErrForbidden = errors.New("forbidden")

// Waiver statuses. A waiver applies only while approved, to scans whose as-of date is on or
// before its end date (Until).
const (
	WaiverRequested = "requested"
	WaiverApproved  = "approved"
	WaiverRejected  = "rejected"
	WaiverRevoked   = "revoked"
)

// Waiver sets the violations of one policy for one subject (and, when Details is given, only
// those whose details have these values) aside until a date, once approved by another user with
// the role inspector or admin.
type Waiver struct {
	ID         string         `json:"id" bson:"_id"`
	Policy     string         `json:"policy" bson:"policy"`
	Subject    Ref            `json:"subject" bson:"subject"`
	Details    map[string]any `json:"details,omitempty" bson:"details,omitempty"`
	Department string         `json:"department" bson:"department"`
	Reason     string         `json:"reason" bson:"reason"`
	Until      string         `json:"until" bson:"until"`
	Status     string         `json:"status" bson:"status"`
	// RequestedBy and RequestedAt say who asked and when; DecidedBy, DecidedAt and Note who
	// approved or rejected it; RevokedBy and RevokedAt who revoked it.
	RequestedBy string `json:"requested_by" bson:"requested_by"`
	RequestedAt string `json:"requested_at" bson:"requested_at"`
	DecidedBy   string `json:"decided_by,omitempty" bson:"decided_by,omitempty"`
	DecidedAt   string `json:"decided_at,omitempty" bson:"decided_at,omitempty"`
	Note        string `json:"note,omitempty" bson:"note,omitempty"`
	RevokedBy   string `json:"revoked_by,omitempty" bson:"revoked_by,omitempty"`
	RevokedAt   string `json:"revoked_at,omitempty" bson:"revoked_at,omitempty"`
	// Rev counts the changes; a change is stored only over the revision it was made on.
	Rev int64 `json:"rev" bson:"rev"`
}

// Covers reports whether the waiver, approved, sets v aside in a report as of asOf: same
// policy and subject, every given details key with the same value, and asOf on or before Until.
func (w *Waiver) Covers(v *Violation, asOf string) bool {
	if w.Status != WaiverApproved || asOf > w.Until || v.Policy != w.Policy || v.Subject != w.Subject {
		return false
	}
	for k, want := range w.Details {
		got, ok := v.Details[k]
		if !ok || !SameValue(got, want) {
			return false
		}
	}
	return true
}

// SameValue compares two JSON-like values by their JSON text, so that 2, int64(2), 2.0 and
// json.Number("2") are one value.
func SameValue(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var na, nb any
	if json.Unmarshal(ja, &na) != nil || json.Unmarshal(jb, &nb) != nil {
		return false
	}
	ja, _ = json.Marshal(na)
	jb, _ = json.Marshal(nb)
	return string(ja) == string(jb)
}

// Ledger case states (issue 16): a case opens when a scan first finds a check failing; a
// department works it (in progress, then submitted with a rectification note and evidence); a
// later scan closes it when the check passes (销号 by re-check) or sends it back to in progress
// when it still fails. A check that passes before anything was submitted is resolved by data.
// A case whose violation an approved waiver sets aside is waived until the waiver ends.
const (
	CaseOpen           = "open"
	CaseInProgress     = "in_progress"
	CaseSubmitted      = "submitted"
	CaseClosed         = "closed"
	CaseResolvedByData = "resolved_by_data"
	CaseWaived         = "waived"
)

// CaseStates lists the states in their order of work.
var CaseStates = []string{CaseOpen, CaseInProgress, CaseSubmitted, CaseClosed, CaseResolvedByData, CaseWaived}

// CaseEvent is one transition (or note) in a case's history: who, when, why.
type CaseEvent struct {
	At     string `json:"at" bson:"at"`
	Actor  string `json:"actor" bson:"actor"`
	Action string `json:"action" bson:"action"`
	From   string `json:"from" bson:"from"`
	To     string `json:"to" bson:"to"`
	Note   string `json:"note,omitempty" bson:"note,omitempty"`
	// ScanID and AsOf name the scan that made the transition, for transitions by scans.
	ScanID string `json:"scan_id,omitempty" bson:"scan_id,omitempty"`
	AsOf   string `json:"as_of,omitempty" bson:"as_of,omitempty"`
}

// Case is one failing check in the rectification ledger (整改台账), keyed by its organ and the
// violation's Key.
type Case struct {
	ID    string `json:"id" bson:"_id"`
	Organ string `json:"organ" bson:"organ"`
	// Key is the failing check's Violation.StoredKey.
	Key         string    `json:"-" bson:"key"`
	Department  string    `json:"department" bson:"department"`
	Accountable string    `json:"accountable" bson:"accountable"`
	Severity    string    `json:"severity" bson:"severity"`
	Policy      string    `json:"policy" bson:"policy"`
	Violation   Violation `json:"violation" bson:"violation"`
	State       string    `json:"state" bson:"state"`
	OpenedOn    string    `json:"opened_on" bson:"opened_on"`
	DueOn       string    `json:"due_on" bson:"due_on"`
	// Overdue is worked out when the case is read: past DueOn and not closed.
	Overdue bool   `json:"overdue" bson:"-"`
	Owner   string `json:"owner,omitempty" bson:"owner,omitempty"`
	// Rectification is the submitted note; Evidence the records and EvidenceFiles the uploaded
	// files it points to; SubmittedAt when it was submitted.
	Rectification string   `json:"rectification,omitempty" bson:"rectification,omitempty"`
	Evidence      []Ref    `json:"evidence,omitempty" bson:"evidence,omitempty"`
	EvidenceFiles []string `json:"evidence_files,omitempty" bson:"evidence_files,omitempty"`
	SubmittedAt   string   `json:"submitted_at,omitempty" bson:"submitted_at,omitempty"`
	// Waiver names the waiver that set the case aside, while it is waived.
	Waiver *WaiverRef `json:"waiver,omitempty" bson:"waiver,omitempty"`
	// ClosedBy is the scan that closed the case (销号 by re-check) or found it resolved by data.
	ClosedBy *Seen `json:"closed_by,omitempty" bson:"closed_by,omitempty"`
	// ScanAsOf is the as-of date of the last scan that changed the case: a scan as of an earlier
	// date does not move it.
	ScanAsOf string      `json:"scan_as_of" bson:"scan_as_of"`
	History  []CaseEvent `json:"history" bson:"history"`
	Rev      int64       `json:"rev" bson:"rev"`
}

// Done reports whether the case needs no more work: closed or resolved by data.
func (c *Case) Done() bool { return c.State == CaseClosed || c.State == CaseResolvedByData }

// EvidenceFile is an uploaded file of evidence, stored once and never overwritten.
type EvidenceFile struct {
	ID          string `json:"id" bson:"_id"`
	Case        string `json:"case" bson:"case"`
	Name        string `json:"name" bson:"name"`
	ContentType string `json:"content_type" bson:"content_type"`
	Size        int64  `json:"size" bson:"size"`
	SHA256      string `json:"sha256" bson:"sha256"`
	UploadedBy  string `json:"uploaded_by" bson:"uploaded_by"`
	UploadedAt  string `json:"uploaded_at" bson:"uploaded_at"`
}

// caseActions are the user actions on a case and the states each is allowed from.
var caseActions = map[string][]string{
	"start":  {CaseOpen},
	"submit": {CaseInProgress},
	"note":   {CaseOpen, CaseInProgress, CaseSubmitted, CaseWaived},
}

// CaseAllowedFrom lists the states a user action on a case is allowed from; nil for an action
// that does not exist.
func CaseAllowedFrom(action string) []string { return slices.Clone(caseActions[action]) }

// CaseActions lists the user actions on a case in the given state.
func CaseActions(state string) []string {
	out := []string{} // a list also when empty: the API answers it
	for _, a := range []string{"start", "submit", "note"} {
		if slices.Contains(caseActions[a], state) {
			out = append(out, a)
		}
	}
	return out
}
