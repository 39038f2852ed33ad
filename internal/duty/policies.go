package duty

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The policies service: what the edges read of the bundle in force (PolicyCatalogue) and how
// they check, preview and change it (Policies), with the requests, answers and refusals of
// both. internal/live implements Policies and internal/policy's Engine PolicyCatalogue; the
// edges hold these interfaces, never the concrete types.

// Policies keeps the policies in force and changes them through the gate (compile, tests, no
// duty silently switched off): every change names the revision it was made on (PolicyChange.Base)
// and is refused with a *StaleError when another came first, or with ErrBaseRequired when it
// names none.
type Policies interface {
	// Catalogue is the compiled bundle in force, nil when no policies are loaded.
	Catalogue() PolicyCatalogue
	// Revision is the id of the stored revision in force.
	Revision() string
	// Refused is the last change of the policy folder refused since the last good one (directory
	// mode), or nil.
	Refused() *PolicyRefusal
	// DirMode reports whether the policies follow a folder; changes through the service are
	// then ErrConflict.
	DirMode() bool
	// Drift says that the binary's built-in bundle differs from the store's, or is nil.
	Drift() *PolicyDrift
	// BuiltinChanges lists what adopting the built-in bundle would change.
	BuiltinChanges() []FileDiff
	// AdoptBuiltin makes the built-in bundle (with the parameter changes in force) a revision.
	AdoptBuiltin(ctx context.Context, c PolicyChange) (*PolicyRevision, error)
	// Validate runs the gate over a draft and stores nothing; a refusal is a *BundleError.
	Validate(ctx context.Context, d PolicyDraft) ([]TestResult, error)
	// Apply gates a draft and stores it as the next revision, in force at once.
	Apply(ctx context.Context, d PolicyDraft, c PolicyChange) (*PolicyRevision, error)
	// Rollback brings revision id back into force as a new revision.
	Rollback(ctx context.Context, id string, c PolicyChange) (*PolicyRevision, error)
	// Preview says what a draft would add to and remove from the violations of a scope, for
	// principal p (counts alone when p may not read records); it is audited.
	Preview(ctx context.Context, d PolicyDraft, req ScanRequest, p Principal) (*PolicyImpact, error)
	// Diff compares the files of two stored revisions.
	Diff(ctx context.Context, from, to string) ([]FileDiff, error)
}

// PolicyCatalogue is what the edges read of the compiled bundle in force: the duties' and the
// settings' METADATA, the parameter values in force, the titles and reason labels of reports,
// and the bundle's files.
type PolicyCatalogue interface {
	Labels
	// Policy returns the METADATA of duty policy id.
	Policy(id string) (PolicyMeta, bool)
	// ParamSet returns the METADATA of the duty or the settings id (what declares the
	// parameters data.params.<id>).
	ParamSet(id string) (PolicyMeta, bool)
	// Policies returns the METADATA of every duty policy, sorted by id.
	Policies() []PolicyMeta
	// Settings returns the METADATA of every settings module, sorted by id.
	Settings() []PolicyMeta
	// Params returns the parameter values in force of a duty or settings, or nil.
	Params(id string) map[string]any
	// Revision is the content hash of the bundle.
	Revision() string
	// File returns the content of a bundle file, and whether the bundle has it.
	File(path string) (string, bool)
}

// PolicyMeta is what a duty policy's (or a settings module's) METADATA says about it.
type PolicyMeta struct {
	ID            string   `json:"id"`
	Package       string   `json:"package"`
	File          string   `json:"file"`
	Title         string   `json:"title"`
	TitleEN       string   `json:"title_en"`
	Description   string   `json:"description"`
	DescriptionEN string   `json:"description_en"`
	Severity      string   `json:"severity"`
	Accountable   string   `json:"accountable"`
	Reasons       []string `json:"reasons"`
	// ReasonLabels names each reason in Chinese and English (custom.reasons: [{code, zh, en}]).
	ReasonLabels map[string]Label `json:"reason_labels,omitempty"`
	Seed         string           `json:"seed,omitempty"`
	Params       map[string]any   `json:"params,omitempty"`
	// ParamLabels holds each parameter's label (custom.params.<name>.zh and
	// custom.en.params.<name>) and unit (custom.units.<name>: {zh, en}).
	ParamLabels map[string]ParamLabel `json:"param_labels,omitempty"`
	Custom      map[string]any        `json:"custom,omitempty"`
	// SwitchedOff is true when the bundle switches the duty off (params/switched_off.json): it
	// is not evaluated, and the change that did so said so explicitly.
	SwitchedOff bool `json:"switched_off,omitempty"`
	// Settings is true for a settings module (package settings.<id>): parameters only, no duty.
	Settings bool `json:"settings,omitempty"`
}

// ParamLabel is how the pages name a parameter: its label and, for a number, its unit.
type ParamLabel struct {
	Label Label `json:"label"`
	Unit  Label `json:"unit,omitzero"`
}

// Choice is one allowed value of a parameter (or of its array items), with its labels.
type Choice struct {
	Value any    `json:"value"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

// Choices returns the allowed values of a parameter schema: its enum, or its items' enum for an
// array, or the three severities. It is nil when any value of the type is allowed.
func Choices(schema map[string]any) []Choice {
	if t, _ := schema["type"].(string); t == "severity" {
		return slices.Clone(severityChoices)
	}
	if t, _ := schema["type"].(string); t == "array" {
		if items, ok := schema["items"].(map[string]any); ok {
			return Choices(items)
		}
		return nil
	}
	raw, ok := schema["enum"].([]any)
	if !ok {
		return nil
	}
	out := make([]Choice, 0, len(raw))
	for _, e := range raw {
		if m, ok := e.(map[string]any); ok {
			c := Choice{Value: m["value"]}
			c.ZH, _ = m["zh"].(string)
			c.EN, _ = m["en"].(string)
			out = append(out, c)
			continue
		}
		out = append(out, Choice{Value: e})
	}
	return out
}

// severityChoices are the severities with their labels from the catalogue.
var severityChoices = func() []Choice {
	out := make([]Choice, len(Severities))
	for i, s := range Severities {
		l, _ := Names.Enum("severity", s)
		out[i] = Choice{Value: s, ZH: l.ZH, EN: l.EN}
	}
	return out
}()

// PolicyTestFile is the path of the test module that must sit beside a duty module:
// duty/<area>/<name>_test.rego for duty/<area>/<name>.rego.
func PolicyTestFile(module string) string {
	return strings.TrimSuffix(module, ".rego") + "_test.rego"
}

// Sources of a revision (PolicyRevision.Source).
const (
	SourceAPI       = "api"
	SourceCLI       = "cli"
	SourcePage      = "page"
	SourceDirectory = "directory"
	SourceBuiltin   = "builtin"
	SourceMigration = "migration"
)

// PolicyChange says on which revision a change was made, by whom, from where and why.
type PolicyChange struct {
	// Base is the revision the change was made on (the one its author saw). It is required: a
	// change on any other revision than the one in force is refused with a StaleError.
	Base    string
	Author  string
	Source  string // SourceAPI, SourceCLI or SourcePage
	Message string
}

// PolicyDraft is a proposed change to the bundle in force.
type PolicyDraft struct {
	// Files maps a bundle path to its new content; null deletes the file.
	Files map[string]*string `json:"files,omitempty"`
	// Params maps a policy id to parameter values to change.
	Params map[string]map[string]any `json:"params,omitempty"`
	// Message says why (kept with the revision).
	Message string `json:"message,omitempty"`
	// Replace starts from an empty bundle instead of the one in force (a whole folder pushed).
	Replace bool `json:"replace,omitempty"`
	// Base is the revision the draft was made on (carried into PolicyChange.Base by the API).
	Base string `json:"base,omitempty"`
	// SwitchOff switches duties off (true) or back on (false), in params/switched_off.json. A
	// change after which a duty reports nothing is refused unless it switches the duty off here.
	SwitchOff map[string]bool `json:"switch_off,omitempty"`
}

// ErrBaseRequired refuses a change that does not say which revision it was made on. It matches
// ErrInvalid.
var ErrBaseRequired = fmt.Errorf("a policy change must name the revision it was made on (base): %w", ErrInvalid)

// StaleError refuses a change made on a revision that is no longer in force: another change
// (in this process or another one sharing the store) came first. Nothing was stored. It matches
// ErrConflict.
type StaleError struct {
	Base    string // the revision the change was made on
	Current string // the revision in force now
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the policies changed since revision %s: %s is in force now; nothing was saved — "+
		"read %s and make the change again on it", e.Base, e.Current, e.Current)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *StaleError) Is(target error) bool { return target == ErrConflict }

// PolicyRefusal is a change that did not pass the gate in directory mode.
type PolicyRefusal struct {
	At       string          `json:"at"`
	Problems []BundleProblem `json:"problems"`
}

// PolicyDrift says that the binary's built-in bundle differs from the one the store was seeded
// with or last adopted. The service keeps serving the stored revision: the built-in bundle never
// replaces user edits by itself; an admin adopts it (Policies.AdoptBuiltin).
type PolicyDrift struct {
	Builtin    string `json:"builtin"`               // hash of this binary's built-in bundle
	Recorded   string `json:"recorded"`              // hash recorded at seeding or adoption ("" when never)
	RecordedIn string `json:"recorded_in,omitempty"` // the revision that recorded it
	InForce    string `json:"in_force"`              // the revision in force
	Message    string `json:"message"`
}

// FileDiff is how one bundle file differs between two revisions.
type FileDiff struct {
	Path   string `json:"path"`
	Status string `json:"status"` // added, removed or changed
	// Unified is the change as a unified diff (3 lines of context).
	Unified string `json:"unified"`
}

// PolicyImpact is what a draft would change in a scope's violations, relative to the revision
// in force.
type PolicyImpact struct {
	AsOf       string `json:"as_of"`
	Department string `json:"department,omitempty"`
	Active     string `json:"active_revision"`
	Draft      string `json:"draft_hash"`
	// Detailed tells whether Added and Removed list the violations: only for a caller who may
	// read records, and only inside its scope. Others get Counts alone.
	Detailed  bool         `json:"detailed"`
	Added     []Violation  `json:"added"`
	Removed   []Violation  `json:"removed"`
	Unchanged int          `json:"unchanged"`
	Counts    ImpactCounts `json:"counts"`
}

// ImpactCounts counts the violations a draft adds and removes.
type ImpactCounts struct {
	Added   Tally `json:"added"`
	Removed Tally `json:"removed"`
}

// Tally counts violations by policy, by policy and reason ("<policy>/<reason>") and by
// department. A draft writes its violations' reason and department itself, so that it could
// smuggle record contents through them: a reason its policy's METADATA does not list, and a
// department the store does not hold, are counted under "(other)".
type Tally struct {
	Total        int            `json:"total"`
	ByPolicy     map[string]int `json:"by_policy"`
	ByReason     map[string]int `json:"by_reason"`
	ByDepartment map[string]int `json:"by_department"`
}

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Row      int           `json:"row"`
	Pass     bool          `json:"pass"`
	Skip     bool          `json:"skip,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

func (r TestResult) String() string {
	status := "PASS"
	switch {
	case r.Skip:
		status = "SKIP"
	case !r.Pass:
		status = "FAIL"
	}
	s := fmt.Sprintf("%s %s.%s (%s:%d)", status, r.Package, r.Name, r.File, r.Row)
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// BundleProblem is one compile, data, parameter or test error of a policy bundle, located in
// one of its files.
type BundleProblem struct {
	File string `json:"file"`
	Row  int    `json:"row"`
	Col  int    `json:"col"`
	// Kind is what sort of problem it is, for clients that word it themselves (the policy page
	// words it from here); Message is the English. "" is a problem of no known kind.
	Kind    BundleProblemKind `json:"kind,omitempty"`
	Message string            `json:"message"`
}

// BundleProblemKind says what sort of thing is wrong in a BundleProblem. internal/policy,
// internal/guard and internal/live set it where they make the problem, so that the pages word a
// problem from its kind, never by reading its English message.
type BundleProblemKind string

// The kinds of problem of a policy bundle.
const (
	BundleParse     BundleProblemKind = "parse"        // a module that does not parse (rego_parse_error)
	BundleType      BundleProblemKind = "type"         // a type error or an unknown function (rego_type_error)
	BundleUnsafe    BundleProblemKind = "unsafe_var"   // a variable used before it has a value (rego_unsafe_var_error)
	BundleRecursion BundleProblemKind = "recursion"    // a rule that refers to itself (rego_recursion_error)
	BundleCompile   BundleProblemKind = "compile"      // any other compile error (rego_…)
	BundleBuiltin   BundleProblemKind = "builtin"      // a built-in function policies may not use
	BundleJSON      BundleProblemKind = "json"         // a data.json that is not valid JSON
	BundleData      BundleProblemKind = "data"         // a data file, the overrides or the switched-off list of the wrong shape
	BundleMetadata  BundleProblemKind = "metadata"     // a policy's METADATA missing or wrong, or no duty policy at all
	BundleSchema    BundleProblemKind = "param_schema" // a parameter schema (METADATA custom.params) that cannot check
	BundleParam     BundleProblemKind = "param"        // a parameter value outside its schema, unknown, or missing
	BundleUntested  BundleProblemKind = "untested"     // a duty policy without a test that reaches it
	BundleTest      BundleProblemKind = "test_failed"  // a Rego test that failed
	BundleSilenced  BundleProblemKind = "silenced"     // a duty the change would silently switch off (internal/guard)
	BundlePath      BundleProblemKind = "path"         // a draft's path that is not a bundle file, or nothing to delete
	BundleFolder    BundleProblemKind = "folder"       // the policy folder cannot be read (directory mode)
)

// BundleProblemKinds returns every kind of bundle problem, sorted.
func BundleProblemKinds() []BundleProblemKind {
	ks := []BundleProblemKind{BundleParse, BundleType, BundleUnsafe, BundleRecursion, BundleCompile, BundleBuiltin,
		BundleJSON, BundleData, BundleMetadata, BundleSchema, BundleParam, BundleUntested, BundleTest, BundleSilenced,
		BundlePath, BundleFolder}
	slices.Sort(ks)
	return ks
}

func (p BundleProblem) String() string {
	if p.Row > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Row, p.Col, p.Message)
	}
	return p.File + ": " + p.Message
}

// BundleError lists every problem that stops a bundle from compiling or passing its tests. It
// matches ErrInvalid.
type BundleError struct {
	Problems []BundleProblem
}

func (e *BundleError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "policy bundle refused (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		sb.WriteString("s")
	}
	sb.WriteString("):")
	for _, p := range e.Problems {
		sb.WriteString("\n  " + p.String())
	}
	return sb.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *BundleError) Is(target error) bool { return target == ErrInvalid }
