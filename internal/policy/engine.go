package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// dutyRoot is the package prefix of duty policies: package duty.<area>.<name> is policy
// <area>.<name>.
const dutyRoot = "duty"

// settingsRoot is the package prefix of settings: package settings.<name> holds, in its
// METADATA, the schema, labels and units of parameters data.params.<name> that are no duty's
// but the service's (the rectification ledger's periods, waiver maximum and standing weights).
// A settings module is not evaluated; its parameters are changed like a duty's.
const settingsRoot = "settings"

// Engine is a compiled bundle, prepared once and evaluated many times; it is safe for
// concurrent use.
type Engine struct {
	bundle   *Bundle
	revision string
	data     map[string]any
	metas    []duty.PolicyMeta
	settings []duty.PolicyMeta // the settings modules, sorted by id
	vars     []string          // the query variable of each policy, in metas order
	wvars    []string          // the query variable of each policy's warnings, "" for none, in metas order
	query    rego.PreparedEvalQuery
	box      *pool // set by Sandbox.Bind: evaluate in sandbox children
}

// Compile parses and compiles the bundle's modules (test modules included, so that a test that
// does not compile is refused too) and prepares the query over every duty policy. Errors come
// back as a *duty.BundleError naming file, line and column.
func Compile(ctx context.Context, b *Bundle) (*Engine, error) {
	if e, _, ok := passed.get(b, ""); ok {
		return e, nil
	}
	e, _, err := compile(ctx, b)
	return e, err
}

// newCompiler returns the compiler of user policies: Rego v1 and the sandbox's capabilities.
func newCompiler() *ast.Compiler {
	return ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1).WithCapabilities(Capabilities())
}

func compile(ctx context.Context, b *Bundle) (*Engine, *ast.Compiler, error) {
	modules, data, probs := parse(b)
	if len(probs) > 0 {
		return nil, nil, &duty.BundleError{Problems: probs}
	}
	overrides, err := b.Overrides()
	if err != nil {
		return nil, nil, err
	}
	applyOverrides(data, overrides)
	compiler := newCompiler()
	if compiler.Compile(modules); compiler.Failed() {
		return nil, nil, &duty.BundleError{Problems: astProblems(compiler.Errors)}
	}
	e := &Engine{bundle: b, revision: b.Revision(), data: data}
	var exprs []string
	for file, m := range modules {
		if IsTest(file) {
			continue
		}
		meta, ok, err := policyMeta(file, m)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			e.metas = append(e.metas, meta)
			continue
		}
		if meta, ok, err = settingsMeta(file, m); err != nil {
			return nil, nil, err
		} else if ok {
			e.settings = append(e.settings, meta)
		}
	}
	if len(e.metas) == 0 {
		return nil, nil, &duty.BundleError{Problems: []duty.BundleProblem{{File: ".", Kind: duty.BundleMetadata, Message: "no duty policy: expected a package duty.<area>.<name> with a `violation` rule"}}}
	}
	slices.SortFunc(e.metas, func(a, b duty.PolicyMeta) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(e.settings, func(a, b duty.PolicyMeta) int { return strings.Compare(a.ID, b.ID) })
	if probs := e.checkParams(modules, overrides); len(probs) > 0 {
		return nil, nil, &duty.BundleError{Problems: probs}
	}
	off, err := b.SwitchedOff()
	if err != nil {
		return nil, nil, err
	}
	for i := range e.metas {
		e.metas[i].SwitchedOff = slices.Contains(off, e.metas[i].ID)
	}
	for i, m := range e.metas {
		e.vars = append(e.vars, fmt.Sprintf("p%d", i))
		exprs = append(exprs, fmt.Sprintf("%s = data.%s.violation", e.vars[i], m.Package))
		w := ""
		if hasWarning(modules[m.File]) {
			w = fmt.Sprintf("w%d", i)
			exprs = append(exprs, fmt.Sprintf("%s = data.%s.warning", w, m.Package))
		}
		e.wvars = append(e.wvars, w)
	}
	store := dataStore(data)
	q, err := rego.New(
		rego.Query(strings.Join(exprs, "; ")),
		rego.Compiler(compiler),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, nil, &duty.BundleError{Problems: errProblems(err)}
	}
	e.query = q
	return e, compiler, nil
}

// checkParams refuses a bundle whose parameters could silently switch a duty off: a schema
// that cannot check (unknown type or keyword, bad pattern, enum without labels), an override
// outside its schema, or a value in force (a default of params/data.json or an override)
// missing or outside its schema — so a default not among its enum is refused too.
func (e *Engine) checkParams(modules map[string]*ast.Module, overrides map[string]map[string]any) []duty.BundleProblem {
	var probs []duty.BundleProblem
	owners := append(slices.Clone(e.metas), e.settings...)
	for _, m := range owners {
		probs = append(probs, CheckSchema(m)...)
	}
	for _, st := range e.settings {
		for _, m := range e.metas {
			if area, _, _ := strings.Cut(m.ID, "."); area == st.ID {
				probs = append(probs, duty.BundleProblem{File: st.File, Kind: duty.BundleMetadata, Message: fmt.Sprintf("settings %s share data.params.%s with the duties of area %s (such as %s): rename the settings package", st.ID, st.ID, area, m.ID)})
				break
			}
		}
	}
	if len(probs) > 0 {
		return probs // values are checked only against schemas that hold
	}
	for _, id := range sortedKeys(overrides) {
		m, ok := e.ParamSet(id)
		if !ok {
			probs = append(probs, duty.BundleProblem{File: OverridesFile, Kind: duty.BundleData, Message: fmt.Sprintf("overrides parameters of %q, which is neither a policy nor settings of the bundle", id)})
			continue
		}
		for _, p := range ValidateParams(m, overrides[id]) {
			p.File = OverridesFile
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return probs
	}
	for _, m := range owners {
		values := e.Params(m.ID)
		at := "data.params." + m.ID
		if _, ok := m.Params[WarnDaysParam]; !ok && !m.Settings && hasWarning(modules[m.File]) {
			probs = append(probs, duty.BundleProblem{File: m.File, Kind: duty.BundleMetadata, Message: fmt.Sprintf("policy %s has a `warning` rule but no %s parameter in its METADATA params: its warnings' window would be unknown", m.ID, WarnDaysParam)})
		}
		for _, name := range sortedKeys(m.Params) {
			if _, ok := values[name]; !ok {
				probs = append(probs, duty.BundleProblem{File: m.File, Kind: duty.BundleParam, Message: fmt.Sprintf("parameter %s.%s: has no value: set its default in %s.%s (params/data.json)", m.ID, name, at, name)})
			}
		}
		for _, p := range ValidateParams(m, values) {
			p.Message += " (the value in force, " + at + ")"
			probs = append(probs, p)
		}
	}
	return probs
}

func parse(b *Bundle) (map[string]*ast.Module, map[string]any, []duty.BundleProblem) {
	data, probs := b.data()
	modules := map[string]*ast.Module{}
	names := make([]string, 0, len(b.Files))
	for n := range b.Files {
		if strings.HasSuffix(n, ".rego") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		m, err := ast.ParseModuleWithOpts(n, b.Files[n], ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			probs = append(probs, errProblems(err)...)
			continue
		}
		modules[n] = m
	}
	probs = append(probs, deniedCalls(modules)...)
	return modules, data, probs
}

func astProblems(errs ast.Errors) []duty.BundleProblem {
	out := make([]duty.BundleProblem, 0, len(errs))
	for _, e := range errs {
		p := duty.BundleProblem{Kind: astKind(e.Code), Message: e.Code + ": " + e.Message}
		if e.Location != nil {
			p.File, p.Row, p.Col = e.Location.File, e.Location.Row, e.Location.Col
		}
		out = append(out, p)
	}
	return out
}

// astKind is the kind of a problem of OPA error code code; "" for a code that is not a
// compiler's (rego_…).
func astKind(code string) duty.BundleProblemKind {
	switch code {
	case ast.ParseErr:
		return duty.BundleParse
	case ast.TypeErr:
		return duty.BundleType
	case ast.UnsafeVarErr:
		return duty.BundleUnsafe
	case ast.RecursionErr:
		return duty.BundleRecursion
	}
	if strings.HasPrefix(code, "rego_") {
		return duty.BundleCompile
	}
	return ""
}

func errProblems(err error) []duty.BundleProblem {
	var errs ast.Errors
	if errors.As(err, &errs) {
		return astProblems(errs)
	}
	var e *ast.Error
	if errors.As(err, &e) {
		return astProblems(ast.Errors{e})
	}
	return []duty.BundleProblem{{Message: err.Error()}} // of no known kind: the pages show the message as it is
}

// policyMeta reads the package METADATA of a duty module; ok is false for modules that are not
// duty policies (libraries, or packages without a violation rule).
func policyMeta(file string, m *ast.Module) (duty.PolicyMeta, bool, error) {
	pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
	if !strings.HasPrefix(pkg, dutyRoot+".") {
		return duty.PolicyMeta{}, false, nil
	}
	hasViolation := slices.ContainsFunc(m.Rules, func(r *ast.Rule) bool {
		return r.Head.Ref().String() == "violation"
	})
	if !hasViolation {
		return duty.PolicyMeta{}, false, nil
	}
	id := strings.TrimPrefix(pkg, dutyRoot+".")
	meta := duty.PolicyMeta{ID: id, Package: pkg, File: file}
	var ann *ast.Annotations
	for _, a := range m.Annotations {
		if a.Scope == "package" {
			ann = a
		}
	}
	fail := func(msg string) (duty.PolicyMeta, bool, error) {
		row := m.Package.Location.Row
		return duty.PolicyMeta{}, false, &duty.BundleError{Problems: []duty.BundleProblem{{File: file, Row: row, Col: 1, Kind: duty.BundleMetadata, Message: msg}}}
	}
	if ann == nil {
		return fail("duty policy " + id + " has no package # METADATA block (title, description, custom.id, custom.severity)")
	}
	meta.Title, meta.Description, meta.Custom = ann.Title, strings.TrimSpace(ann.Description), ann.Custom
	c := ann.Custom
	if got, _ := c["id"].(string); got != id {
		return fail(fmt.Sprintf("METADATA custom.id is %q but the package %s makes the policy id %q", got, pkg, id))
	}
	meta.Severity, _ = c["severity"].(string)
	meta.Accountable, _ = c["accountable"].(string)
	meta.Seed, _ = c["seed"].(string)
	en, _ := c["en"].(map[string]any)
	meta.TitleEN, _ = en["title"].(string)
	d, _ := en["description"].(string)
	meta.DescriptionEN = strings.TrimSpace(d)
	meta.Params, _ = c["params"].(map[string]any)
	if !slices.Contains(duty.Severities, meta.Severity) {
		return fail(fmt.Sprintf("METADATA custom.severity of %s must be high, medium or low, got %q", id, meta.Severity))
	}
	if msg := readLabels(&meta, c["reasons"], en["params"], c["units"]); msg != "" {
		return fail(fmt.Sprintf("METADATA of %s: %s", id, msg))
	}
	return meta, true, nil
}

// settingsMeta reads the METADATA of a settings module (package settings.<id>): title, custom.id
// (the id), custom.params (the schema, as a duty's), custom.units and custom.en {title,
// description, params}. ok is false for a module of another package.
func settingsMeta(file string, m *ast.Module) (duty.PolicyMeta, bool, error) {
	pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
	id, isSettings := strings.CutPrefix(pkg, settingsRoot+".")
	if !isSettings || IsTest(file) {
		return duty.PolicyMeta{}, false, nil
	}
	fail := func(msg string) (duty.PolicyMeta, bool, error) {
		return duty.PolicyMeta{}, false, &duty.BundleError{Problems: []duty.BundleProblem{{File: file, Row: m.Package.Location.Row, Col: 1, Kind: duty.BundleMetadata, Message: msg}}}
	}
	if strings.Contains(id, ".") {
		return fail(fmt.Sprintf("settings package %s: expected %s.<name>, one name", pkg, settingsRoot))
	}
	var ann *ast.Annotations
	for _, a := range m.Annotations {
		if a.Scope == "package" {
			ann = a
		}
	}
	if ann == nil {
		return fail("settings " + id + " have no package # METADATA block (title, custom.id, custom.params)")
	}
	c := ann.Custom
	if got, _ := c["id"].(string); got != id {
		return fail(fmt.Sprintf("METADATA custom.id is %q but the package %s makes the settings id %q", got, pkg, id))
	}
	meta := duty.PolicyMeta{ID: id, Package: pkg, File: file, Title: ann.Title, Description: strings.TrimSpace(ann.Description), Custom: c, Settings: true}
	en, _ := c["en"].(map[string]any)
	meta.TitleEN, _ = en["title"].(string)
	d, _ := en["description"].(string)
	meta.DescriptionEN = strings.TrimSpace(d)
	meta.Params, _ = c["params"].(map[string]any)
	if len(meta.Params) == 0 {
		return fail("METADATA of settings " + id + ": custom.params declares no parameter")
	}
	if msg := readLabels(&meta, nil, en["params"], c["units"]); msg != "" {
		return fail(fmt.Sprintf("METADATA of settings %s: %s", id, msg))
	}
	return meta, true, nil
}

// readLabels reads the reasons with their labels (each a code, or {code, zh, en}), the
// parameters' English labels (custom.en.params: {name: label}) and units (custom.units: {name:
// {zh, en}}) into meta. A label for a parameter the schema does not declare, or a reason without
// a code, is refused: it would label nothing.
func readLabels(meta *duty.PolicyMeta, reasons, enParams, units any) string {
	rs, _ := reasons.([]any)
	if reasons != nil && rs == nil {
		return "custom.reasons must be a list of reason codes or {code, zh, en}"
	}
	for i, r := range rs {
		switch r := r.(type) {
		case string:
			meta.Reasons = append(meta.Reasons, r)
		case map[string]any:
			code, _ := r["code"].(string)
			if code == "" {
				return fmt.Sprintf("custom.reasons[%d] has no code", i)
			}
			l := duty.Label{}
			l.ZH, _ = r["zh"].(string)
			l.EN, _ = r["en"].(string)
			if l.ZH == "" || l.EN == "" {
				return fmt.Sprintf("custom.reasons[%d] (%s) needs its zh and en labels", i, code)
			}
			meta.Reasons = append(meta.Reasons, code)
			if meta.ReasonLabels == nil {
				meta.ReasonLabels = map[string]duty.Label{}
			}
			meta.ReasonLabels[code] = l
		default:
			return fmt.Sprintf("custom.reasons[%d] must be a code or {code, zh, en}, got %s", i, jsonText(r))
		}
	}
	meta.ParamLabels = map[string]duty.ParamLabel{}
	for name, s := range meta.Params {
		schema, _ := s.(map[string]any)
		zh, _ := schema["zh"].(string)
		meta.ParamLabels[name] = duty.ParamLabel{Label: duty.Label{ZH: zh}}
	}
	ep, _ := enParams.(map[string]any)
	for _, name := range sortedKeys(ep) {
		pl, ok := meta.ParamLabels[name]
		if !ok {
			return fmt.Sprintf("custom.en.params.%s labels a parameter custom.params does not declare", name)
		}
		if pl.Label.EN, ok = ep[name].(string); !ok {
			return fmt.Sprintf("custom.en.params.%s must be the parameter's English label, got %s", name, jsonText(ep[name]))
		}
		meta.ParamLabels[name] = pl
	}
	us, _ := units.(map[string]any)
	for _, name := range sortedKeys(us) {
		u, _ := us[name].(map[string]any)
		zh, _ := u["zh"].(string)
		en, _ := u["en"].(string)
		if zh == "" || en == "" {
			return fmt.Sprintf("custom.units.%s must be {zh, en}, got %s", name, jsonText(us[name]))
		}
		pl, ok := meta.ParamLabels[name]
		if !ok {
			return fmt.Sprintf("custom.units.%s is the unit of a parameter custom.params does not declare", name)
		}
		pl.Unit = duty.Label{ZH: zh, EN: en}
		meta.ParamLabels[name] = pl
	}
	return ""
}

// PolicyTitle is the title of policy id in lang, or id for a policy the bundle does not hold
// (or a nil engine: no policies loaded).
func (e *Engine) PolicyTitle(id, lang string) string {
	if e == nil {
		return id
	}
	m, ok := e.Policy(id)
	if !ok {
		return id
	}
	return duty.Label{ZH: m.Title, EN: m.TitleEN}.In(lang)
}

// ReasonLabel is the label in lang of a reason of policy id, from that policy's METADATA; for a
// policy that does not label it (or policy ""), the first policy that does; else the code.
func (e *Engine) ReasonLabel(id, reason, lang string) string {
	if e == nil {
		return reason
	}
	if m, ok := e.Policy(id); ok {
		if l, ok := m.ReasonLabels[reason]; ok {
			return l.In(lang)
		}
	}
	for _, m := range e.metas {
		if l, ok := m.ReasonLabels[reason]; ok {
			return l.In(lang)
		}
	}
	return reason
}

// Policy returns the METADATA of policy id.
func (e *Engine) Policy(id string) (duty.PolicyMeta, bool) {
	i := slices.IndexFunc(e.metas, func(m duty.PolicyMeta) bool { return m.ID == id })
	if i < 0 {
		return duty.PolicyMeta{}, false
	}
	return e.metas[i], true
}

// Settings returns the METADATA of every settings module, sorted by id.
func (e *Engine) Settings() []duty.PolicyMeta { return slices.Clone(e.settings) }

// ParamSet returns the METADATA of the policy or the settings id: what declares the parameters
// data.params.<id> (and their overrides, changed through the same API and pages).
func (e *Engine) ParamSet(id string) (duty.PolicyMeta, bool) {
	if m, ok := e.Policy(id); ok {
		return m, true
	}
	i := slices.IndexFunc(e.settings, func(m duty.PolicyMeta) bool { return m.ID == id })
	if i < 0 {
		return duty.PolicyMeta{}, false
	}
	return e.settings[i], true
}

// Revision returns the content hash of the compiled bundle.
func (e *Engine) Revision() string { return e.revision }

// Bundle returns the compiled bundle. Callers must not change it.
func (e *Engine) Bundle() *Bundle { return e.bundle }

// File returns the content of a file of the compiled bundle, and whether the bundle has it.
func (e *Engine) File(path string) (string, bool) {
	src, ok := e.bundle.Files[path]
	return src, ok
}

// An engine is the catalogue the edges read (duty.Policies.Catalogue).
var _ duty.PolicyCatalogue = (*Engine)(nil)

// Policies returns the METADATA of every duty policy, sorted by id.
func (e *Engine) Policies() []duty.PolicyMeta { return slices.Clone(e.metas) }

// Params returns the parameter object of policy id (data.params.<area>.<name>), or nil.
func (e *Engine) Params(id string) map[string]any {
	var cur any = e.data["params"]
	for _, seg := range strings.Split(id, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	m, _ := cur.(map[string]any)
	return m
}

// severity is the policy's severity parameter when set, else its METADATA severity.
func (e *Engine) severity(m duty.PolicyMeta) string {
	if s, ok := e.Params(m.ID)["severity"].(string); ok && s != "" {
		return s
	}
	return m.Severity
}

// Evaluate runs every duty policy over one organ's records as they stood on asOf (records dated
// later are left out first, as duty.Organ.AsOf does) and returns the violations, sorted.
func (e *Engine) Evaluate(ctx context.Context, o *duty.Organ, asOf string) ([]duty.Violation, error) {
	f, err := e.EvaluateAll(ctx, o, asOf)
	return f.Violations, err
}

// EvaluateInput runs every duty policy over one organ's input and returns the violations,
// sorted (EvaluateInputAll for its warnings too).
func (e *Engine) EvaluateInput(ctx context.Context, in *OrganInput) ([]duty.Violation, error) {
	f, err := e.EvaluateInputAll(ctx, in)
	return f.Violations, err
}

// Findings is what the duty policies found in one organ: its violations, sorted by
// duty.SortViolations, and its warnings, sorted by duty.SortWarnings.
type Findings struct {
	Violations []duty.Violation
	Warnings   []duty.Warning
}

// EvaluateAll is Evaluate with the warnings.
func (e *Engine) EvaluateAll(ctx context.Context, o *duty.Organ, asOf string) (Findings, error) {
	in, err := InputOf(o, asOf)
	if err != nil {
		return Findings{}, err
	}
	return e.EvaluateInputAll(ctx, in)
}

// EvaluateInputAll runs every duty policy over one organ's input and returns its violations and
// warnings, sorted. The input is not changed and may be evaluated again. An engine bound to a
// sandbox (Sandbox.Bind) evaluates in a child process under the sandbox's limits; any other
// engine evaluates here, within DefaultTimeout per organ (OPA checks the deadline between steps
// and inside numbers.range). A malformed violation or warning, or a warning whose fails_on lies
// outside its duty's window (as_of + 1 to as_of + warn_days), is an error: a check the engine
// cannot read is never dropped.
func (e *Engine) EvaluateInputAll(ctx context.Context, in *OrganInput) (Findings, error) {
	var sets [][]any
	var err error
	if e.box != nil {
		sets, err = e.box.eval(ctx, in.ID, in.Value())
	} else {
		sets, err = e.evalBounded(ctx, in)
	}
	if err != nil {
		var be *BudgetError
		if errors.As(err, &be) {
			return Findings{}, err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			// OPA's cancel error does not wrap the context's: keep errors.Is(err, context.Canceled) true.
			return Findings{}, fmt.Errorf("evaluate organ %q: %w: %w", in.ID, ctxErr, err)
		}
		return Findings{}, fmt.Errorf("evaluate organ %q: %w", in.ID, err)
	}
	if len(sets) != 2*len(e.metas) {
		return Findings{}, fmt.Errorf("evaluate organ %q: the policy query gave %d sets, want %d", in.ID, len(sets), 2*len(e.metas))
	}
	var out Findings
	for i, m := range e.metas {
		if m.SwitchedOff {
			continue
		}
		sev := e.severity(m)
		complete := func(v *duty.Violation) {
			v.Policy, v.Severity = m.ID, sev
			if v.Accountable == "" {
				v.Accountable = m.Accountable
			}
			if v.Department == "" {
				v.Department = in.departmentOf(v.Subject)
			}
		}
		for _, raw := range sets[i] {
			v, err := toViolation(raw)
			if err != nil {
				return Findings{}, fmt.Errorf("policy %s: %w", m.ID, err)
			}
			complete(&v)
			out.Violations = append(out.Violations, v)
		}
		if len(sets[len(e.metas)+i]) == 0 {
			continue
		}
		from, to, err := e.warnWindow(m, in.AsOf)
		if err != nil {
			return Findings{}, err
		}
		for _, raw := range sets[len(e.metas)+i] {
			w, err := toWarning(raw, from, to)
			if err != nil {
				return Findings{}, fmt.Errorf("policy %s: %w", m.ID, err)
			}
			complete(&w.Violation)
			out.Warnings = append(out.Warnings, w)
		}
	}
	if err := checkWarnings(out); err != nil {
		return Findings{}, fmt.Errorf("evaluate organ %q: %w", in.ID, err)
	}
	duty.SortViolations(out.Violations)
	duty.SortWarnings(out.Warnings)
	return out, nil
}

// evalBounded evaluates in this process within DefaultTimeout.
func (e *Engine) evalBounded(ctx context.Context, in *OrganInput) ([][]any, error) {
	bounded, cancel := context.WithTimeoutCause(ctx, DefaultTimeout, errOrganTimeout)
	defer cancel()
	sets, err := e.evalLocal(bounded, in.Value())
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(bounded), errOrganTimeout) {
		return nil, &BudgetError{Resource: "time", Limit: DefaultTimeout.String(), During: "evaluating organ " + in.ID}
	}
	if len(sets) != 2*len(e.metas) && err == nil {
		return nil, fmt.Errorf("the policy query gave %d sets, want %d", len(sets), 2*len(e.metas))
	}
	return sets, err
}

var errOrganTimeout = errors.New("organ evaluation timed out")

// toViolation converts one violation object a policy returned. A malformed one is the
// policy's fault (duty.ErrInvalid: a draft's validation or preview answers 422), and the error
// names what is missing, never the values: a preview's caller may not read the records a
// policy copied into its findings.
func toViolation(raw any) (duty.Violation, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return duty.Violation{}, fmt.Errorf("a violation must be an object, got %s: %w", jsonKind(raw), duty.ErrInvalid)
	}
	var v duty.Violation
	v.Reason, _ = m["reason"].(string)
	v.Department, _ = m["department"].(string)
	v.Accountable, _ = m["accountable"].(string)
	v.Subject = toRef(m["subject"])
	var missing []string
	for _, f := range []struct{ name, val string }{{"reason", v.Reason}, {"subject.collection", v.Subject.Collection}, {"subject.id", v.Subject.ID}} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return v, fmt.Errorf("a violation needs reason and subject {collection, id}, strings; missing or not a string: %s: %w", strings.Join(missing, ", "), duty.ErrInvalid)
	}
	v.Details = map[string]any{}
	if d, ok := m["details"].(map[string]any); ok {
		for k, x := range d {
			v.Details[k] = plain(x)
		}
	}
	if msg, ok := m["message"].(map[string]any); ok {
		v.Message.ZH, _ = msg["zh"].(string)
		v.Message.EN, _ = msg["en"].(string)
	}
	v.Evidence = []duty.Ref{}
	if ev, ok := m["evidence"].([]any); ok {
		for _, r := range ev {
			if ref := toRef(r); ref.ID != "" {
				v.Evidence = append(v.Evidence, ref)
			}
		}
	}
	return v, nil
}

// jsonKind names the JSON type of a value a policy returned (not the value itself).
func jsonKind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}

func toRef(x any) duty.Ref {
	m, _ := x.(map[string]any)
	c, _ := m["collection"].(string)
	id, _ := m["id"].(string)
	return duty.Ref{Collection: c, ID: id}
}

// plain turns OPA's json.Number into int64 or float64 so details compare and print cleanly.
func plain(x any) any {
	switch v := x.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = plain(e)
		}
		return out
	}
	return x
}

// dataStore builds an in-memory store of the bundle's data.
func dataStore(data map[string]any) storage.Store {
	return inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false))
}
