package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// ledgerRoutes are the waivers and the rectification ledger (issue 16). Reading and requesting
// need the right to read reports (department users within their subtree); approving and
// rejecting a waiver an inspector's or admin's role (checked by the ledger, which also refuses
// the requester: 403); working a case the right to write records.
func (s *server) ledgerRoutes(g *gin.RouterGroup) {
	if s.Ledger == nil {
		return
	}
	g.POST("/waivers", require(duty.ReadReports), s.requestWaiver)
	g.GET("/waivers", require(duty.ReadReports), s.listWaivers)
	g.GET("/waivers/:id", require(duty.ReadReports), s.getWaiver)
	g.POST("/waivers/:id/:decision", require(duty.ReadReports), s.decideWaiver)
	g.DELETE("/waivers/:id", require(duty.ReadReports), s.revokeWaiver)
	g.GET("/cases", require(duty.ReadReports), s.listCases)
	g.GET("/cases/:id", require(duty.ReadReports), s.getCase)
	g.POST("/cases/:id/:action", require(duty.WriteRecords), s.actOnCase)
	g.GET("/evidence/:id", require(duty.ReadReports), s.downloadEvidence)
	g.GET("/standing", require(duty.ReadReports), s.standing)
}

// standing is GET /standing?organ=ID: the departments of an organ (of the user's subtree for a
// department user) ranked by the compliance score, from the latest report covering them.
func (s *server) standing(c *gin.Context) {
	p := principal(c)
	organ := c.Query("organ")
	if organ == "" {
		s.fail(c, errBadRequest("organ is required: the id of an organ (a root department)"))
		return
	}
	scope := organ
	if p.Scope() != "" {
		scope = p.Scope()
	}
	var asOf any
	rep, err := s.scans.Latest(c.Request.Context(), p, scope)
	switch {
	case errors.Is(err, duty.ErrNotFound):
		rep = nil
	case err != nil:
		s.fail(c, err)
		return
	default:
		asOf = rep.AsOf
	}
	rows, err := s.Ledger.Standings(c.Request.Context(), p, organ, duty.FindingsOf(rep))
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"organ": organ, "as_of": asOf, "weights": s.Ledger.Params().Weights,
		"formula": gin.H{"zh": s.Ledger.Formula("zh"), "en": s.Ledger.Formula("en")}, "departments": rows})
}

// failLedger answers the ledger's own error kinds (403, 413), then as fail.
func (s *server) failLedger(c *gin.Context, err error) {
	switch {
	case errors.Is(err, duty.ErrForbidden):
		s.fail(c, &apiError{http.StatusForbidden, "forbidden", err.Error()})
	case errors.Is(err, duty.ErrTooLarge):
		s.fail(c, &apiError{http.StatusRequestEntityTooLarge, "too_large", err.Error()})
	default:
		s.fail(c, err)
	}
}

func (s *server) requestWaiver(c *gin.Context) {
	var req duty.WaiverRequest
	if err := decodeJSON(c, &req, `{"policy": ID, "subject": {"collection": …, "id": …}, "details": {…}?, "reason": "…", "until": "YYYY-MM-DD"}`); err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.Ledger.RequestWaiver(c.Request.Context(), principal(c), req)
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.Header("Location", "/api/v1/waivers/"+w.ID)
	c.JSON(http.StatusCreated, w)
}

func (s *server) listWaivers(c *gin.Context) {
	ws, err := s.Ledger.Waivers(c.Request.Context(), principal(c), duty.WaiverFilter{
		Status: c.Query("status"), Policy: c.Query("policy"), Department: c.Query("department")})
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"waivers": ws})
}

func (s *server) getWaiver(c *gin.Context) {
	w, err := s.Ledger.Waiver(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

type decisionBody struct {
	Note string `json:"note"`
}

func (s *server) decideWaiver(c *gin.Context) {
	d := duty.WaiverDecision(c.Param("decision"))
	if d != duty.WaiverApprove && d != duty.WaiverReject {
		s.fail(c, errNotFound("no such endpoint: "+c.Request.URL.Path))
		return
	}
	var body decisionBody
	if err := decodeOptionalJSON(c, &body, `{"note": "…"?}`); err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.Ledger.DecideWaiver(c.Request.Context(), principal(c), c.Param("id"), d, body.Note)
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

func (s *server) revokeWaiver(c *gin.Context) {
	w, err := s.Ledger.RevokeWaiver(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

func (s *server) listCases(c *gin.Context) {
	f := duty.CaseFilter{State: c.Query("state"), Severity: c.Query("severity"), Policy: c.Query("policy"), Department: c.Query("department")}
	if o := c.Query("overdue"); o != "" {
		b, err := strconv.ParseBool(o)
		if err != nil {
			s.fail(c, errBadRequest("overdue must be true or false"))
			return
		}
		f.Overdue = &b
	}
	cases, err := s.Ledger.Cases(c.Request.Context(), principal(c), f)
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"cases": cases})
}

func (s *server) getCase(c *gin.Context) {
	cs, err := s.Ledger.Case(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.failLedger(c, err)
		return
	}
	files, err := s.Ledger.EvidenceFiles(c.Request.Context(), principal(c), cs.ID)
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"case": cs, "files": files, "actions": duty.CaseActions(cs.State)})
}

// actOnCase is POST /cases/{id}/{start|submit|note} with a JSON transition, and POST
// /cases/{id}/files with a file: a multipart form field "file", or the raw body named by ?name=.
func (s *server) actOnCase(c *gin.Context) {
	if c.Param("action") == "files" {
		s.uploadEvidence(c)
		return
	}
	var t duty.CaseTransition
	if err := decodeOptionalJSON(c, &t, `{"owner": "…"?, "note": "…"?, "evidence": [{"collection": …, "id": …}]?, "files": [ID]?}`); err != nil {
		s.fail(c, err)
		return
	}
	t.Action = c.Param("action")
	cs, err := s.Ledger.Act(c.Request.Context(), principal(c), c.Param("id"), t)
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.JSON(http.StatusOK, cs)
}

func (s *server) uploadEvidence(c *gin.Context) {
	limit := s.Ledger.MaxFileBytes()
	var name string
	var r io.Reader = c.Request.Body
	if fh, err := c.FormFile("file"); err == nil {
		f, err := fh.Open()
		if err != nil {
			s.fail(c, errBadRequest("could not read the uploaded file: "+err.Error()))
			return
		}
		defer f.Close()
		name, r = fh.Filename, f
	} else {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, err)
			return
		}
		name = c.Query("name")
	}
	content, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, err)
			return
		}
		s.fail(c, errBadRequest("could not read the uploaded file: "+err.Error()))
		return
	}
	f, err := s.Ledger.UploadEvidence(c.Request.Context(), principal(c), c.Param("id"), name, content)
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.Header("Location", "/api/v1/evidence/"+f.ID)
	c.JSON(http.StatusCreated, f)
}

func (s *server) downloadEvidence(c *gin.Context) {
	f, err := s.Ledger.EvidenceFile(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.failLedger(c, err)
		return
	}
	c.Header("Content-Type", "application/octet-stream") // a download, never shown in the page's origin
	c.Header("Content-Disposition", sheet.Disposition(f.Name))
	c.Header("X-Content-SHA256", f.SHA256)
	c.Status(http.StatusOK)
	if err := s.Store.EvidenceContent(c.Request.Context(), f.ID, c.Writer); err != nil {
		s.cfg.Log.Warn("send evidence file", "file", f.ID, "err", err)
	}
}

// decodeOptionalJSON is decodeJSON for bodies that may be empty.
func decodeOptionalJSON(c *gin.Context, into any, shape string) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	err := decodeJSON(c, into, shape)
	var ae *apiError
	if errors.As(err, &ae) && ae.code == "bad_request" && strings.HasPrefix(ae.msg, "empty body") {
		return nil
	}
	return err
}
