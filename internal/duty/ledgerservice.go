package duty

import "context"

// Ledger is the rectification ledger and the waivers (internal/ledger.Service). Every method
// that takes a principal checks its role and subtree and audits what it changes.
type Ledger interface {
	Cases(ctx context.Context, p Principal, f CaseFilter) ([]Case, error)
	Case(ctx context.Context, p Principal, id string) (*Case, error)
	// Act applies a user's action to a case.
	Act(ctx context.Context, p Principal, id string, t CaseTransition) (*Case, error)
	Waivers(ctx context.Context, p Principal, f WaiverFilter) ([]Waiver, error)
	Waiver(ctx context.Context, p Principal, id string) (*Waiver, error)
	RequestWaiver(ctx context.Context, p Principal, req WaiverRequest) (*Waiver, error)
	DecideWaiver(ctx context.Context, p Principal, id string, d WaiverDecision, note string) (*Waiver, error)
	RevokeWaiver(ctx context.Context, p Principal, id string) (*Waiver, error)
	UploadEvidence(ctx context.Context, p Principal, caseID, name string, content []byte) (*EvidenceFile, error)
	EvidenceFiles(ctx context.Context, p Principal, caseID string) ([]EvidenceFile, error)
	EvidenceFile(ctx context.Context, p Principal, id string) (*EvidenceFile, error)
	// Standings ranks the departments of an organ the principal may see, from the findings
	// of the latest report.
	Standings(ctx context.Context, p Principal, organ string, found map[string]Findings) ([]Standing, error)
	// Params are the ledger's parameters in force; Formula says the standing's formula in a
	// language (zh or en); MaxFileBytes bounds an evidence file.
	Params() LedgerParams
	Formula(lang string) string
	MaxFileBytes() int64
}

// WaiverRequest is the body of POST /api/v1/waivers.
type WaiverRequest struct {
	Policy  string         `json:"policy"`
	Subject *Ref           `json:"subject"`
	Details map[string]any `json:"details"`
	Reason  string         `json:"reason"`
	Until   string         `json:"until"`
}

// WaiverDecision is approve or reject.
type WaiverDecision string

// The decisions on a requested waiver.
const (
	WaiverApprove WaiverDecision = "approve"
	WaiverReject  WaiverDecision = "reject"
)

// WaiverFilter selects waivers; empty fields select all.
type WaiverFilter struct {
	Status, Policy string
	// Department selects the waivers of that department's subtree.
	Department string
}

// CaseTransition is a user's action on a case: the body of POST /api/v1/cases/{id}/{action}.
type CaseTransition struct {
	// Action is start (open → in_progress, naming the owner), submit (in_progress → submitted,
	// with a rectification note and evidence) or note (a note in any state but closed or
	// resolved, no change of state).
	Action   string   `json:"-"`
	Owner    string   `json:"owner"`
	Note     string   `json:"note"`
	Evidence []Ref    `json:"evidence"`
	Files    []string `json:"files"`
}

// CaseFilter selects cases; empty fields select all.
type CaseFilter struct {
	State, Severity, Policy string
	// Department selects the cases of that department's subtree.
	Department string
	// Overdue, when set, selects the overdue cases (true) or the others (false).
	Overdue *bool
}

// Standing is one department's compliance score (考核): 100 minus the weighted open violations
// by severity, overdue cases and warnings of its own records (not its subtree's, so that no
// finding counts twice), at least 0.
type Standing struct {
	Rank       int     `json:"rank"`
	Department string  `json:"department"`
	High       int     `json:"high"`
	Medium     int     `json:"medium"`
	Low        int     `json:"low"`
	Overdue    int     `json:"overdue"`
	Warnings   int     `json:"warnings"`
	Score      float64 `json:"score"`
}

// Findings counts one department's own open violations by severity and its warnings.
type Findings struct{ High, Medium, Low, Warnings int }

// LedgerParams are the ledger's parameters in force.
type LedgerParams struct {
	// Periods is the rectification period of a case by severity, in days: due_on = opened_on +
	// Periods[severity] (rectify_days_high, _medium, _low).
	Periods map[string]int `json:"periods"`
	// MaxWaiverDays bounds a waiver's end date: at most this many days after the day it is
	// requested (waiver_max_days).
	MaxWaiverDays int `json:"waiver_max_days"`
	// Weights are the department standing's weights, by internal/ledger.WeightKeys (weight_high, …).
	Weights map[string]float64 `json:"weights"`
}

// FindingsOf counts a report's violations and warnings by department.
func FindingsOf(rep *Report) map[string]Findings {
	out := map[string]Findings{}
	if rep == nil {
		return out
	}
	for _, v := range rep.Violations {
		f := out[v.Department]
		switch v.Severity {
		case "high":
			f.High++
		case "medium":
			f.Medium++
		default:
			f.Low++
		}
		out[v.Department] = f
	}
	for _, w := range rep.Warnings {
		f := out[w.Department]
		f.Warnings++
		out[w.Department] = f
	}
	return out
}
