package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// sheetRoutes serves the spreadsheets: templates, imports (as jobs) and exports.
func (s *server) sheetRoutes(g *gin.RouterGroup) {
	g.GET("/templates/:collection", require(duty.ReadRecords), s.template)
	g.GET("/exports/:collection", require(duty.ReadRecords), s.export)
	g.POST("/imports", require(duty.WriteRecords), s.postImport)
	g.GET("/imports/:id", require(duty.WriteRecords), s.getImport)
	g.DELETE("/imports/:id", require(duty.WriteRecords), s.cancelImport)
	g.GET("/imports/:id/marked", require(duty.WriteRecords), s.markedImport)
}

// writeXLSX answers a workbook built by write into a buffer first, so that an error is a clean
// error answer instead of half a file.
func (s *server) writeXLSX(c *gin.Context, name string, write func(w io.Writer) error) {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", sheet.Disposition(name))
	c.Data(http.StatusOK, sheet.ContentType, buf.Bytes())
}

func (s *server) template(c *gin.Context) {
	coll := c.Param("collection")
	if _, err := sheet.Collections(coll); err != nil {
		s.fail(c, err)
		return
	}
	s.writeXLSX(c, sheet.FileName(coll, "导入模板"), func(w io.Writer) error {
		return sheet.Template(c.Request.Context(), w, s.Store, principal(c), coll)
	})
}

func (s *server) export(c *gin.Context) {
	coll := c.Param("collection")
	if duty.Lookup(coll) == nil {
		s.fail(c, errNotFound(fmt.Sprintf("unknown collection %q", coll)))
		return
	}
	s.writeXLSX(c, sheet.FileName(coll, "导出"), func(w io.Writer) error {
		return sheet.Export(c.Request.Context(), w, s.Store, principal(c), coll)
	})
}

// reportXLSX answers a report as a workbook, names beside the ids.
func (s *server) reportXLSX(c *gin.Context, rep *duty.Report, name string) {
	s.writeXLSX(c, name, func(w io.Writer) error {
		names, err := sheet.ReportNamer(c.Request.Context(), s.Store.Get, rep)
		if err != nil {
			return err
		}
		return sheet.WriteReport(w, rep, s.Policies.Catalogue(), names)
	})
}

// postImport starts an import of the uploaded workbook (multipart field file; collection, when
// given, names the collection of every sheet or of a CSV file). It answers 202 with the job, or
// with wait=true the finished job (200).
func (s *server) postImport(c *gin.Context) {
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, err)
			return
		}
		s.fail(c, errBadRequest("expected a multipart/form-data body with the workbook in the field file"))
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(c, errBadRequest("could not read the uploaded file: "+err.Error()))
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		s.fail(c, errBadRequest("could not read the uploaded file: "+err.Error()))
		return
	}
	wait, _ := strconv.ParseBool(c.PostForm("wait"))
	p := principal(c)
	j, err := s.Imports.Start(p, sheet.Input{Name: fh.Filename, Data: data, Collection: c.PostForm("collection")})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/imports/"+j.ID)
	if !wait {
		c.JSON(http.StatusAccepted, j)
		return
	}
	if j, err = s.Imports.Wait(c.Request.Context(), p, j.ID); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, j)
}

func (s *server) getImport(c *gin.Context) {
	j, err := s.Imports.Get(principal(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, j)
}

func (s *server) cancelImport(c *gin.Context) {
	j, err := s.Imports.Cancel(principal(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, j)
}

func (s *server) markedImport(c *gin.Context) {
	data, j, err := s.Imports.Marked(principal(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", sheet.Disposition("标注-"+j.File))
	c.Data(http.StatusOK, sheet.ContentType, data)
}
