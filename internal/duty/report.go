package duty

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Severities are the severities of a violation, the gravest first; their labels are the
// catalogue's enumeration "severity" (Names).
var Severities = []string{"high", "medium", "low"}

// Ref names one record: its collection and id.
type Ref struct {
	Collection string `json:"collection" bson:"collection"`
	ID         string `json:"id" bson:"id"`
}

// Message is a violation's explanation in Chinese (primary) and English.
type Message struct {
	ZH string `json:"zh" bson:"zh"`
	EN string `json:"en" bson:"en"`
}

// Seen says when a check first failed in a scope: the as-of date and the scan.
type Seen struct {
	AsOf   string `json:"as_of" bson:"as_of"`
	ScanID string `json:"scan_id" bson:"scan_id"`
}

// Violation is one failing check (INTERFACES.md).
type Violation struct {
	Policy      string         `json:"policy" bson:"policy"`
	Severity    string         `json:"severity" bson:"severity"`
	Reason      string         `json:"reason" bson:"reason"`
	Department  string         `json:"department" bson:"department"`
	Accountable string         `json:"accountable" bson:"accountable"`
	Subject     Ref            `json:"subject" bson:"subject"`
	Details     map[string]any `json:"details" bson:"details"`
	Message     Message        `json:"message" bson:"message"`
	Evidence    []Ref          `json:"evidence" bson:"evidence"`
	FirstSeen   *Seen          `json:"first_seen,omitempty" bson:"first_seen,omitempty"`
}

// Key identifies the check a violation is about, independent of messages and evidence: two
// scans that fail the same check give the same key.
func (v *Violation) Key() string {
	details, _ := json.Marshal(v.Details) // map keys are sorted by encoding/json
	return strings.Join([]string{v.Policy, v.Reason, v.Subject.Collection, v.Subject.ID, string(details)}, "\x00")
}

// Warning is a check that passes on the report's as-of date but would fail within its duty's
// warn_days (DOMAIN.md "Warnings before a duty is breached"): the violation it would become and
// the first day it fails.
type Warning struct {
	Violation `bson:",inline"`
	FailsOn   string `json:"fails_on" bson:"fails_on"`
}

// WaiverRef names the approved waiver that set a violation aside, and its end date.
type WaiverRef struct {
	ID    string `json:"id" bson:"id"`
	Until string `json:"until" bson:"until"`
}

// Waived is a violation set aside by an approved waiver (INTERFACES.md).
type Waived struct {
	Violation `bson:",inline"`
	Waiver    WaiverRef `json:"waiver" bson:"waiver"`
}

// StoredKey is Key as stored in the database: its SHA-256 in hex. Key separates its parts with
// NUL, which PostgreSQL's jsonb (under FerretDB) refuses in a string.
func (v *Violation) StoredKey() string {
	h := sha256.Sum256([]byte(v.Key()))
	return hex.EncodeToString(h[:])
}

// Summary counts a report's violations.
type Summary struct {
	Violations   int            `json:"violations" bson:"violations"`
	ByPolicy     map[string]int `json:"by_policy" bson:"by_policy"`
	BySeverity   map[string]int `json:"by_severity" bson:"by_severity"`
	ByDepartment map[string]int `json:"by_department" bson:"by_department"`
	// New, Persisting and Resolved compare with the previous scan of the same scope: checks
	// failing for the first time, failing again, and failing before but passing now.
	New        int `json:"new" bson:"new"`
	Persisting int `json:"persisting" bson:"persisting"`
	Resolved   int `json:"resolved" bson:"resolved"`
	// Warnings and Waived count the report's warnings and the violations waivers set aside.
	Warnings int `json:"warnings" bson:"warnings"`
	Waived   int `json:"waived" bson:"waived"`
}

// TimeFormat is the fixed-width UTC timestamp of scans, so that timestamps sort as strings.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Report is the result of a scan (INTERFACES.md).
type Report struct {
	ScanID         string      `json:"scan_id" bson:"scan_id"`
	AsOf           string      `json:"as_of" bson:"as_of"`
	Department     *string     `json:"department" bson:"department"`
	PolicyRevision string      `json:"policy_revision" bson:"policy_revision"`
	GeneratedAt    string      `json:"generated_at" bson:"generated_at"`
	Summary        Summary     `json:"summary" bson:"summary"`
	Violations     []Violation `json:"violations" bson:"violations"`
	// Warnings lists the checks that would fail within their duty's warn_days, sorted by
	// SortWarnings; Waived the violations approved waivers set aside.
	Warnings []Warning `json:"warnings" bson:"warnings"`
	Waived   []Waived  `json:"waived,omitempty" bson:"waived,omitempty"`
	// Resolved lists the checks that failed in the previous scan of the same scope and pass now.
	Resolved []Violation `json:"resolved,omitempty" bson:"resolved,omitempty"`
}

// SortViolations orders violations by department, policy, subject id, then details
// (INTERFACES.md), so that two reports diff cleanly; checks alike in all four (a book's gap
// and its missing inspection) by subject collection and reason.
func SortViolations(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int { return compareViolations(&a, &b) })
}

func compareViolations(a, b *Violation) int {
	for _, c := range [][2]string{{a.Department, b.Department}, {a.Policy, b.Policy}, {a.Subject.ID, b.Subject.ID}} {
		if r := strings.Compare(c[0], c[1]); r != 0 {
			return r
		}
	}
	if r := compareDetails(a.Details, b.Details); r != 0 {
		return r
	}
	for _, c := range [][2]string{{a.Subject.Collection, b.Subject.Collection}, {a.Reason, b.Reason}} {
		if r := strings.Compare(c[0], c[1]); r != 0 {
			return r
		}
	}
	return strings.Compare(a.Key(), b.Key())
}

// compareDetails orders details as lists of key-value pairs in key order: pair by pair, the
// key, then the value (numbers by value, before strings, before booleans); a list that is a
// prefix of the other first, so that no details come before any.
func compareDetails(a, b map[string]any) int {
	ka, kb := slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if r := strings.Compare(ka[i], kb[i]); r != 0 {
			return r
		}
		if r := compareDetail(a[ka[i]], b[kb[i]]); r != 0 {
			return r
		}
	}
	return cmp.Compare(len(ka), len(kb))
}

// compareDetail orders two detail values: numbers by value, then strings, then booleans, then
// anything else by its text.
func compareDetail(a, b any) int {
	rank := func(v any) (int, float64, string) {
		switch x := v.(type) {
		case int64:
			return 0, float64(x), ""
		case int:
			return 0, float64(x), ""
		case float64:
			return 0, x, ""
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return 0, f, ""
			}
			return 1, 0, x.String()
		case string:
			return 1, 0, x
		case bool:
			return 2, 0, fmt.Sprint(x)
		}
		return 3, 0, fmt.Sprint(v)
	}
	ra, na, sa := rank(a)
	rb, nb, sb := rank(b)
	if r := cmp.Compare(ra, rb); r != 0 {
		return r
	}
	if r := cmp.Compare(na, nb); r != 0 {
		return r
	}
	return strings.Compare(sa, sb)
}

// SortWarnings orders warnings by fails_on, then as SortViolations (INTERFACES.md).
func SortWarnings(ws []Warning) {
	slices.SortStableFunc(ws, func(a, b Warning) int {
		if r := strings.Compare(a.FailsOn, b.FailsOn); r != 0 {
			return r
		}
		return compareViolations(&a.Violation, &b.Violation)
	})
}

// Summarize counts violations by policy, severity and department.
func Summarize(vs []Violation) Summary {
	s := Summary{Violations: len(vs), New: len(vs), ByPolicy: map[string]int{}, BySeverity: map[string]int{}, ByDepartment: map[string]int{}}
	for _, v := range vs {
		s.ByPolicy[v.Policy]++
		s.BySeverity[v.Severity]++
		s.ByDepartment[v.Department]++
	}
	return s
}

// DetailString renders details as "k=v" pairs in key order, for tables and CSV.
func DetailString(details map[string]any) string {
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, details[k])
	}
	return strings.Join(parts, " ")
}

// Scan statuses.
const (
	ScanRunning = "running"
	ScanDone    = "done"
	ScanFailed  = "failed"
)

// Progress counts the organs a running scan has evaluated.
type Progress struct {
	Done  int `json:"done" bson:"done"`
	Total int `json:"total" bson:"total"`
}

// Scan is one run of the policies over the stored records of a scope.
type Scan struct {
	ID             string   `json:"id" bson:"_id"`
	Status         string   `json:"status" bson:"status"`
	Department     string   `json:"department,omitempty" bson:"scope"`
	AsOf           string   `json:"as_of" bson:"as_of"`
	PolicyRevision string   `json:"policy_revision,omitempty" bson:"policy_revision"`
	Progress       Progress `json:"progress" bson:"progress"`
	Error          string   `json:"error,omitempty" bson:"error,omitempty"`
	StartedAt      string   `json:"started_at" bson:"started_at"`
	FinishedAt     string   `json:"finished_at,omitempty" bson:"finished_at,omitempty"`
	Summary        *Summary `json:"summary,omitempty" bson:"summary,omitempty"`
	Report         *Report  `json:"report,omitempty" bson:"-"`
}

// PolicyRevision is one stored version of the whole policy bundle. The revisions form an
// append-only history: every change, rollback, seeding and adoption is a new revision, and the
// one with the highest Seq is in force.
type PolicyRevision struct {
	ID        string `json:"id" bson:"_id"`
	Seq       int64  `json:"seq" bson:"seq"`
	Hash      string `json:"hash" bson:"hash"`
	Author    string `json:"author" bson:"author"`
	Message   string `json:"message" bson:"message"`
	CreatedAt string `json:"created_at" bson:"created_at"`
	// Parent is the revision the change was made on (its base), "" for the first.
	Parent string `json:"parent,omitempty" bson:"parent,omitempty"`
	// Source says where the change came from: api, cli, page, directory, builtin or migration.
	Source string `json:"source,omitempty" bson:"source,omitempty"`
	// RestoredFrom names the earlier revision a rollback brought back.
	RestoredFrom string `json:"restored_from,omitempty" bson:"restored_from,omitempty"`
	// BuiltinHash is the hash of the binary's built-in bundle this revision seeded or adopted.
	BuiltinHash string `json:"builtin_hash,omitempty" bson:"builtin_hash,omitempty"`
	// Files is the bundle: path → content. Absent from listings.
	Files map[string]string `json:"files,omitempty" bson:"-"`
}
