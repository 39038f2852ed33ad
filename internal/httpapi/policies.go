package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
)

func (s *server) policyRoutes(g *gin.RouterGroup) {
	read, write := require(duty.ReadPolicies), require(duty.WritePolicies)
	g.GET("/policies", read, s.listPolicies)
	g.POST("/policies/validate", write, s.validatePolicies)
	g.POST("/policies/preview", write, s.previewPolicies)
	g.GET("/policies/diff", read, s.diffRevisions)
	g.GET("/policies/revisions", read, s.listRevisions)
	g.POST("/policies/revisions", write, s.applyDraft)
	g.GET("/policies/revisions/:rev", read, s.getRevision)
	g.POST("/policies/revisions/:rev/activate", write, s.activateRevision)
	g.GET("/policies/builtin", read, s.getBuiltin)
	g.POST("/policies/builtin/adopt", write, s.adoptBuiltin)
	g.GET("/policies/:id", read, s.getPolicy)
	g.PUT("/policies/:id", write, s.putPolicy)
	g.DELETE("/policies/:id", write, s.deletePolicy)
	g.GET("/policies/:id/params", read, s.getParams)
	g.PUT("/policies/:id/params", write, s.putParams)
}

// actor names who makes a change; access control (when configured) replaces it.
func actor(c *gin.Context) string {
	if a, ok := c.Get(actorKey); ok {
		if s, ok := a.(string); ok && s != "" {
			return s
		}
	}
	return "anonymous"
}

const actorKey = "dutycheck.actor"

// CLIUserAgent starts the User-Agent of the dutycheck command line, so that the revisions it
// makes are recorded with source "cli".
const CLIUserAgent = "dutycheck-cli"

// etag is a revision id as an entity tag: the value a client sends back in If-Match.
func etag(rev string) string { return `"` + rev + `"` }

// change is who makes a change from where, on revision base, and why. The base comes from the
// body's "base" field or from the If-Match header (the ETag of the revision read); a change
// that names none is refused with 428, and one whose two bases differ with 400.
func (s *server) change(c *gin.Context, bodyBase, message string) (duty.PolicyChange, error) {
	base := bodyBase
	if h := strings.TrimSpace(c.GetHeader("If-Match")); h != "" {
		if h == "*" || strings.Contains(h, ",") {
			return duty.PolicyChange{}, errBadRequest(`If-Match must name one revision, e.g. "r3"`)
		}
		h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
		if base != "" && base != h {
			return duty.PolicyChange{}, errBadRequest(fmt.Sprintf("the body's base %q and If-Match %q name different revisions", base, h))
		}
		base = h
	}
	if base == "" {
		base = c.Query("base")
	}
	if base == "" {
		return duty.PolicyChange{}, &apiError{http.StatusPreconditionRequired, "base_required",
			`a policy change must name the revision it was made on: "base": "<revision>" in the body, ?base=<revision> or If-Match: "<revision>" (the revision and ETag of GET /api/v1/policies)`}
	}
	src := duty.SourceAPI
	if strings.HasPrefix(c.GetHeader("User-Agent"), CLIUserAgent) {
		src = duty.SourceCLI
	}
	return duty.PolicyChange{Base: base, Author: actor(c), Source: src, Message: message}, nil
}

// failChange answers a refused policy change: a stale base with 409, the base and the revision
// in force; everything else through the one table.
func (s *server) failChange(c *gin.Context, err error) {
	var se *duty.StaleError
	if errors.As(err, &se) {
		c.Header("ETag", etag(se.Current))
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": gin.H{"code": "stale_base", "message": se.Error(),
			"base": se.Base, "current": se.Current}})
		return
	}
	if errors.Is(err, duty.ErrBaseRequired) {
		err = &apiError{http.StatusPreconditionRequired, "base_required", err.Error()}
	}
	s.fail(c, err)
}

// changed answers a revision made by a change.
func (s *server) changed(c *gin.Context, status int, rev *duty.PolicyRevision) {
	rev.Files = nil
	c.Header("ETag", etag(rev.ID))
	c.JSON(status, gin.H{"revision": rev})
}

// decodeJSON decodes a JSON body strictly (unknown fields refused, numbers kept exact).
func decodeJSON(c *gin.Context, into any, shape string) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errBadRequest("empty body: expected " + shape)
	}
	if err := decodeOne(data, into); err != nil {
		return errBadRequest(fmt.Sprintf("malformed body: %v (expected %s)", err, shape))
	}
	return nil
}

// decodeOne decodes data, UTF-8 text of one JSON value with no unknown field, no key twice in
// an object and nothing after it but space, into into, keeping numbers as json.Number where into has no type for them.
func decodeOne(data []byte, into any) error {
	if !utf8.Valid(data) {
		return errors.New("not UTF-8 text: the decoder would turn its other bytes into U+FFFD")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the JSON value, at offset %d", dec.InputOffset())
	}
	if off, key, ok := duty.DuplicateKey(data); ok {
		return fmt.Errorf("the key %q appears twice in one object, at offset %d", key, off)
	}
	return nil
}

type policyView struct {
	Meta   duty.PolicyMeta `json:"metadata"`
	Params map[string]any  `json:"params"`
}

func (s *server) listPolicies(c *gin.Context) {
	e := s.Policies.Catalogue()
	out := []policyView{}
	for _, m := range e.Policies() {
		out = append(out, policyView{Meta: m, Params: e.Params(m.ID)})
	}
	settings := []policyView{}
	for _, m := range e.Settings() {
		settings = append(settings, policyView{Meta: m, Params: e.Params(m.ID)})
	}
	rev := s.Policies.Revision()
	c.Header("ETag", etag(rev))
	c.JSON(http.StatusOK, gin.H{"revision": rev, "hash": e.Revision(), "dir_mode": s.Policies.DirMode(),
		"builtin_drift": s.Policies.Drift(), "policies": out, "settings": settings})
}

func (s *server) getPolicy(c *gin.Context) {
	e := s.Policies.Catalogue()
	m, ok := e.Policy(c.Param("id"))
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", c.Param("id"), duty.ErrNotFound))
		return
	}
	module, _ := e.File(m.File)
	test, _ := e.File(duty.PolicyTestFile(m.File))
	rev := s.Policies.Revision()
	c.Header("ETag", etag(rev))
	c.JSON(http.StatusOK, gin.H{"metadata": m, "params": e.Params(m.ID), "file": m.File, "module": module,
		"test_file": duty.PolicyTestFile(m.File), "test": test, "revision": rev})
}

type putPolicyBody struct {
	Module  string  `json:"module"`
	Test    *string `json:"test"`
	Message string  `json:"message"`
	Base    string  `json:"base"`
}

// putPolicy creates or replaces one policy's module (and optionally its test).
func (s *server) putPolicy(c *gin.Context) {
	id := c.Param("id")
	var body putPolicyBody
	if err := decodeJSON(c, &body, `{"base": "<revision>", "module": "<rego>", "test": "<rego>"?, "message": "why"?}`); err != nil {
		s.fail(c, err)
		return
	}
	if !validPolicyID(id) {
		s.fail(c, errBadRequest(fmt.Sprintf("policy id %q must be <area>.<name> in lower case letters, digits and _", id)))
		return
	}
	file := moduleFile(id)
	if m, ok := s.Policies.Catalogue().Policy(id); ok {
		file = m.File
	}
	d := duty.PolicyDraft{Files: map[string]*string{file: &body.Module}, Message: body.Message, Base: body.Base}
	if body.Test != nil {
		d.Files[duty.PolicyTestFile(file)] = body.Test
	}
	s.apply(c, d)
}

func validPolicyID(id string) bool {
	parts := strings.Split(id, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return false
			}
		}
	}
	return true
}

func moduleFile(id string) string {
	return path.Join("duty", strings.ReplaceAll(id, ".", "/")) + ".rego"
}

func (s *server) deletePolicy(c *gin.Context) {
	m, ok := s.Policies.Catalogue().Policy(c.Param("id"))
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", c.Param("id"), duty.ErrNotFound))
		return
	}
	// Deleting a duty is switching it off, said explicitly: kept in the revision's
	// params/switched_off.json so that the guard lets it through.
	d := duty.PolicyDraft{Files: map[string]*string{m.File: nil}, SwitchOff: map[string]bool{m.ID: true}, Message: c.Query("message")}
	if _, ok := s.Policies.Catalogue().File(duty.PolicyTestFile(m.File)); ok {
		d.Files[duty.PolicyTestFile(m.File)] = nil
	}
	if d.Message == "" {
		d.Message = "deleted policy " + m.ID
	}
	s.apply(c, d) // the base: If-Match or ?base=
}

// getParams and putParams read and change the parameters of a policy or of settings (the
// ledger's: /policies/ledger/params).
func (s *server) getParams(c *gin.Context) {
	e := s.Policies.Catalogue()
	m, ok := e.ParamSet(c.Param("id"))
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", c.Param("id"), duty.ErrNotFound))
		return
	}
	rev := s.Policies.Revision()
	c.Header("ETag", etag(rev))
	c.JSON(http.StatusOK, gin.H{"policy": m.ID, "params": e.Params(m.ID), "schema": m.Params, "revision": rev})
}

type putParamsBody struct {
	Params  map[string]any `json:"params"`
	Message string         `json:"message"`
	Base    string         `json:"base"`
	// SwitchOff says the change switches the duty off: without it, a change after which the
	// duty reports nothing on the reference organ is refused.
	SwitchOff bool `json:"switch_off"`
}

func (s *server) putParams(c *gin.Context) {
	id := c.Param("id")
	m, ok := s.Policies.Catalogue().ParamSet(id)
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", id, duty.ErrNotFound))
		return
	}
	var body putParamsBody
	if err := decodeJSON(c, &body, `{"base": "<revision>", "params": {"<name>": value}, "message": "why"?, "switch_off": bool?}`); err != nil {
		s.fail(c, err)
		return
	}
	if len(body.Params) == 0 {
		s.fail(c, errBadRequest(`"params" must name at least one parameter`))
		return
	}
	d := duty.PolicyDraft{Params: map[string]map[string]any{id: body.Params}, Message: body.Message, Base: body.Base}
	if body.SwitchOff && m.Settings {
		s.fail(c, errBadRequest(`"switch_off" is for a duty; `+id+` are settings`))
		return
	}
	if body.SwitchOff {
		d.SwitchOff = map[string]bool{id: true}
	}
	s.apply(c, d)
}

func (s *server) applyDraft(c *gin.Context) {
	var d duty.PolicyDraft
	if err := decodeJSON(c, &d, `{"base": "<revision>", "files": {"<path>": "<content>" | null}?, "params": {"<policy>": {...}}?, "switch_off": {"<policy>": bool}?, "message": "why"?, "replace": bool?}`); err != nil {
		s.fail(c, err)
		return
	}
	s.apply(c, d)
}

// apply makes a draft a new revision, on the base the request names (the revision, with its
// author and source, goes to the audit trail in live).
func (s *server) apply(c *gin.Context, d duty.PolicyDraft) {
	s.commitChange(c, d.Base, d.Message, func(ctx context.Context, ch duty.PolicyChange) (*duty.PolicyRevision, error) {
		return s.Policies.Apply(ctx, d, ch)
	})
}

// commitChange makes one policy change on revision base (a draft, a rollback, an adoption)
// and answers 201 with the new revision, or the refusal.
func (s *server) commitChange(c *gin.Context, base, message string, do func(context.Context, duty.PolicyChange) (*duty.PolicyRevision, error)) {
	ch, err := s.change(c, base, message)
	if err != nil {
		s.fail(c, err)
		return
	}
	rev, err := do(c.Request.Context(), ch)
	if err != nil {
		s.failChange(c, err)
		return
	}
	s.changed(c, http.StatusCreated, rev)
}

func (s *server) validatePolicies(c *gin.Context) {
	var d duty.PolicyDraft
	if err := decodeJSON(c, &d, `{"files": {...}?, "params": {...}?}`); err != nil {
		s.fail(c, err)
		return
	}
	results, err := s.Policies.Validate(c.Request.Context(), d)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ok": true, "tests": results})
}

type previewBody struct {
	Draft      duty.PolicyDraft `json:"draft"`
	Department string           `json:"department"`
	AsOf       string           `json:"as_of"`
}

func (s *server) previewPolicies(c *gin.Context) {
	var body previewBody
	if err := decodeJSON(c, &body, `{"draft": {"files": {...}?, "params": {...}?}, "department": ID?, "as_of": DATE?}`); err != nil {
		s.fail(c, err)
		return
	}
	if body.AsOf != "" {
		if err := duty.CheckDate("as_of", body.AsOf); err != nil {
			s.fail(c, err)
			return
		}
	}
	// A preview loads and evaluates its whole scope twice, like a scan: it takes a scan slot
	// (--max-scans; one more is 429), so that concurrent previews cannot exhaust the memory.
	release, err := s.scans.Slot()
	if err != nil {
		s.fail(c, err)
		return
	}
	defer release()
	// Preview checks the principal's scope, audits the preview and answers counts alone to
	// whoever may not read records (a policy editor).
	imp, err := s.Policies.Preview(c.Request.Context(), body.Draft, duty.ScanRequest{Department: body.Department, AsOf: body.AsOf}, principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, imp)
}

func (s *server) listRevisions(c *gin.Context) {
	revs, err := s.Store.Revisions(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if revs == nil {
		revs = []duty.PolicyRevision{}
	}
	c.Header("ETag", etag(s.Policies.Revision()))
	c.JSON(http.StatusOK, gin.H{"active": s.Policies.Revision(), "revisions": revs})
}

func (s *server) getRevision(c *gin.Context) {
	rev, err := s.Store.Revision(c.Request.Context(), c.Param("rev"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rev)
}

// changeBody is the optional body of a rollback or an adoption.
type changeBody struct {
	Base    string `json:"base"`
	Message string `json:"message"`
}

// optionalBody decodes a changeBody when the request has one.
func optionalBody(c *gin.Context) (changeBody, error) {
	var body changeBody
	if c.Request.ContentLength == 0 {
		return body, nil
	}
	data, err := readBody(c)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return body, err
	}
	if err := decodeOne(data, &body); err != nil {
		return body, errBadRequest(fmt.Sprintf(`malformed body: %v (expected {"base": "<revision>", "message": "why"?})`, err))
	}
	return body, nil
}

// activateRevision brings an earlier revision back into force as a new revision (a rollback).
func (s *server) activateRevision(c *gin.Context) {
	body, err := optionalBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	id := c.Param("rev")
	s.commitChange(c, body.Base, body.Message, func(ctx context.Context, ch duty.PolicyChange) (*duty.PolicyRevision, error) {
		return s.Policies.Rollback(ctx, id, ch)
	})
}

// getBuiltin says whether this binary's built-in bundle differs from the store's, and what
// adopting it would change.
func (s *server) getBuiltin(c *gin.Context) {
	changes := []gin.H{}
	if s.Policies.Drift() != nil {
		for _, f := range s.Policies.BuiltinChanges() {
			changes = append(changes, gin.H{"path": f.Path, "status": f.Status})
		}
	}
	c.Header("ETag", etag(s.Policies.Revision()))
	c.JSON(http.StatusOK, gin.H{"revision": s.Policies.Revision(), "drift": s.Policies.Drift(), "changes": changes})
}

// adoptBuiltin makes this binary's built-in bundle a new revision (parameter changes kept).
func (s *server) adoptBuiltin(c *gin.Context) {
	body, err := optionalBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.commitChange(c, body.Base, body.Message, s.Policies.AdoptBuiltin)
}

func (s *server) diffRevisions(c *gin.Context) {
	from, to := c.Query("from"), c.Query("to")
	if from == "" || to == "" {
		s.fail(c, errBadRequest("give both ?from=<revision>&to=<revision>"))
		return
	}
	diffs, err := s.Policies.Diff(c.Request.Context(), from, to)
	if err != nil {
		s.fail(c, err)
		return
	}
	if diffs == nil {
		diffs = []duty.FileDiff{}
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "files": diffs})
}
