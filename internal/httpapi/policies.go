package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/live"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
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

// decodeJSON decodes a JSON body strictly (unknown fields refused, numbers kept exact).
func decodeJSON(c *gin.Context, into any, shape string) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errBadRequest("empty body: expected " + shape)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return errBadRequest(fmt.Sprintf("malformed body: %v (expected %s)", err, shape))
	}
	return nil
}

type policyView struct {
	Meta   policy.Meta    `json:"metadata"`
	Params map[string]any `json:"params"`
}

func (s *server) listPolicies(c *gin.Context) {
	e := s.Policies.Engine()
	out := []policyView{}
	for _, m := range e.Policies() {
		out = append(out, policyView{Meta: m, Params: e.Params(m.ID)})
	}
	c.JSON(http.StatusOK, gin.H{"revision": s.Policies.Revision(), "hash": e.Revision(), "dir_mode": s.Policies.DirMode(), "policies": out})
}

func testFile(module string) string { return strings.TrimSuffix(module, ".rego") + "_test.rego" }

func (s *server) getPolicy(c *gin.Context) {
	e := s.Policies.Engine()
	m, ok := e.Policy(c.Param("id"))
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", c.Param("id"), duty.ErrNotFound))
		return
	}
	files := e.Bundle().Files
	c.JSON(http.StatusOK, gin.H{"metadata": m, "params": e.Params(m.ID), "file": m.File, "module": files[m.File],
		"test_file": testFile(m.File), "test": files[testFile(m.File)], "revision": s.Policies.Revision()})
}

type putPolicyBody struct {
	Module  string  `json:"module"`
	Test    *string `json:"test"`
	Message string  `json:"message"`
}

// putPolicy creates or replaces one policy's module (and optionally its test).
func (s *server) putPolicy(c *gin.Context) {
	id := c.Param("id")
	var body putPolicyBody
	if err := decodeJSON(c, &body, `{"module": "<rego>", "test": "<rego>"?, "message": "why"?}`); err != nil {
		s.fail(c, err)
		return
	}
	if !validPolicyID(id) {
		s.fail(c, errBadRequest(fmt.Sprintf("policy id %q must be <area>.<name> in lower case letters, digits and _", id)))
		return
	}
	file := moduleFile(id)
	if m, ok := s.Policies.Engine().Policy(id); ok {
		file = m.File
	}
	d := live.Draft{Files: map[string]*string{file: &body.Module}, Message: body.Message}
	if body.Test != nil {
		d.Files[testFile(file)] = body.Test
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
	m, ok := s.Policies.Engine().Policy(c.Param("id"))
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", c.Param("id"), duty.ErrNotFound))
		return
	}
	d := live.Draft{Files: map[string]*string{m.File: nil}, Message: c.Query("message")}
	if _, ok := s.Policies.Engine().Bundle().Files[testFile(m.File)]; ok {
		d.Files[testFile(m.File)] = nil
	}
	if d.Message == "" {
		d.Message = "deleted policy " + m.ID
	}
	s.apply(c, d)
}

func (s *server) getParams(c *gin.Context) {
	e := s.Policies.Engine()
	m, ok := e.Policy(c.Param("id"))
	if !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", c.Param("id"), duty.ErrNotFound))
		return
	}
	c.JSON(http.StatusOK, gin.H{"policy": m.ID, "params": e.Params(m.ID), "schema": m.Params, "revision": s.Policies.Revision()})
}

type putParamsBody struct {
	Params  map[string]any `json:"params"`
	Message string         `json:"message"`
}

func (s *server) putParams(c *gin.Context) {
	id := c.Param("id")
	if _, ok := s.Policies.Engine().Policy(id); !ok {
		s.fail(c, fmt.Errorf("policy %q: %w", id, duty.ErrNotFound))
		return
	}
	var body putParamsBody
	if err := decodeJSON(c, &body, `{"params": {"<name>": value}, "message": "why"?}`); err != nil {
		s.fail(c, err)
		return
	}
	if len(body.Params) == 0 {
		s.fail(c, errBadRequest(`"params" must name at least one parameter`))
		return
	}
	s.apply(c, live.Draft{Params: map[string]map[string]any{id: body.Params}, Message: body.Message})
}

func (s *server) applyDraft(c *gin.Context) {
	var d live.Draft
	if err := decodeJSON(c, &d, `{"files": {"<path>": "<content>" | null}?, "params": {"<policy>": {...}}?, "message": "why"?, "replace": bool?}`); err != nil {
		s.fail(c, err)
		return
	}
	s.apply(c, d)
}

func (s *server) apply(c *gin.Context, d live.Draft) {
	rev, err := s.Policies.Apply(c.Request.Context(), d, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "policy.change", "policy_revisions", rev.ID, rev.Hash)
	rev.Files = nil
	c.JSON(http.StatusCreated, gin.H{"revision": rev})
}

func (s *server) validatePolicies(c *gin.Context) {
	var d live.Draft
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
	Draft      live.Draft `json:"draft"`
	Department string     `json:"department"`
	AsOf       string     `json:"as_of"`
}

func (s *server) previewPolicies(c *gin.Context) {
	var body previewBody
	if err := decodeJSON(c, &body, `{"draft": {"files": {...}?, "params": {...}?}, "department": ID?, "as_of": DATE?}`); err != nil {
		s.fail(c, err)
		return
	}
	if body.AsOf != "" && !duty.ValidDate(body.AsOf) {
		s.fail(c, errBadRequest(fmt.Sprintf("as_of %q is not a date YYYY-MM-DD", body.AsOf)))
		return
	}
	// Preview checks the principal's scope, audits the preview and answers counts alone to
	// whoever may not read records (a policy editor).
	imp, err := s.Policies.Preview(c.Request.Context(), body.Draft, scan.Request{Department: body.Department, AsOf: body.AsOf}, principal(c))
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

func (s *server) activateRevision(c *gin.Context) {
	rev, err := s.Policies.Rollback(c.Request.Context(), c.Param("rev"), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, "policy.activate", "policy_revisions", rev.ID, rev.Hash)
	rev.Files = nil
	c.JSON(http.StatusOK, gin.H{"revision": rev})
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
		diffs = []live.FileDiff{}
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "files": diffs})
}

// audit appends a policy change to the audit trail.
func (s *server) audit(c *gin.Context, action, collection, id, hash string) {
	prev := s.Policies.Previous()
	err := s.Store.Audit(c.Request.Context(), duty.AuditEntry{Actor: actor(c), Action: action, Collection: collection,
		IDs: []string{id}, Before: []string{prev}, After: []string{hash}})
	if err != nil {
		s.cfg.Log.Error("audit trail", "err", err)
	}
}
