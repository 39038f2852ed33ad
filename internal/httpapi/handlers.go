package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

func (s *server) putCollection(c *gin.Context) {
	coll := c.Param("collection")
	if duty.Lookup(coll) == nil {
		s.fail(c, errNotFound(fmt.Sprintf("unknown collection %q", coll)))
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		s.fail(c, errBadRequest("empty body: expected a JSON array of documents"))
		return
	}
	docs, p, err := duty.DecodeArrayContext(c.Request.Context(), "body", data)
	if err != nil {
		s.fail(c, err)
		return
	}
	if p != nil {
		s.fail(c, errBadRequest("malformed body: "+strings.TrimPrefix(p.String(), "body: ")))
		return
	}
	n, err := s.Store.PutBatch(c.Request.Context(), principal(c), coll, docs)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"collection": coll, "written": n})
}

func (s *server) getRecord(c *gin.Context) {
	d, err := s.Store.GetScoped(c.Request.Context(), principal(c), c.Param("collection"), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *server) deleteRecord(c *gin.Context) {
	if err := s.Store.Delete(c.Request.Context(), principal(c), c.Param("collection"), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type scanRequest struct {
	Department *string `json:"department"`
	AsOf       *string `json:"as_of"`
	Wait       *bool   `json:"wait"`
}

func (s *server) postScan(c *gin.Context) {
	data, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req scanRequest
	if len(bytes.TrimSpace(data)) > 0 {
		if err := decodeOne(data, &req); err != nil {
			s.fail(c, errBadRequest("malformed scan request: "+err.Error()+` (expected {"department": ID?, "as_of": "YYYY-MM-DD"?, "wait": bool?})`))
			return
		}
	}
	r := duty.ScanRequest{}
	if req.Department != nil {
		r.Department = *req.Department
	}
	if req.AsOf != nil {
		r.AsOf = *req.AsOf
		if err := duty.CheckDate("as_of", r.AsOf); err != nil {
			s.fail(c, err)
			return
		}
	}
	wait := req.Wait == nil || *req.Wait
	sc, err := s.scans.Start(c.Request.Context(), principal(c), r, wait)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !wait {
		c.Header("Location", "/api/v1/scans/"+sc.ID)
		c.JSON(http.StatusAccepted, sc)
		return
	}
	c.Header("Location", "/api/v1/scans/"+sc.ID)
	c.JSON(http.StatusCreated, sc)
}

func (s *server) getScan(c *gin.Context) {
	sc, err := s.scans.Get(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sc)
}

func (s *server) listScans(c *gin.Context) {
	scans, err := s.scans.List(c.Request.Context(), principal(c), 100)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"scans": scans})
}

func (s *server) departmentReport(c *gin.Context) {
	rep, err := s.scans.Latest(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	switch c.DefaultQuery("format", "json") {
	case "csv":
		header := c.DefaultQuery("header", "codes")
		if header != "codes" && header != "zh" {
			s.fail(c, errBadRequest("header must be codes or zh"))
			return
		}
		names, err := sheet.ReportNamer(c.Request.Context(), s.Store.Get, rep)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", sheet.Disposition("report-"+c.Param("id")+".csv"))
		c.Status(http.StatusOK)
		if err := duty.WriteCSV(c.Writer, rep, s.Policies.Catalogue(), duty.CSVOptions{Chinese: header == "zh", Names: names}); err != nil {
			s.cfg.Log.Warn("write csv", "err", err)
		}
	case "json":
		c.JSON(http.StatusOK, rep)
	case "xlsx":
		s.reportXLSX(c, rep, "report-"+c.Param("id")+"-"+rep.AsOf+".xlsx")
	default:
		s.fail(c, errBadRequest("format must be json, csv or xlsx"))
	}
}
