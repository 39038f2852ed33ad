package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// sheetRoutes registers the spreadsheet pages: templates, exports, the upload of a filled
// workbook and the page of its import.
func (h *handler) sheetRoutes() {
	if h.Imports == nil && h.Store != nil {
		h.Imports = sheet.NewJobs(sheet.JobsConfig{Log: h.cfg.Log}, h.Store)
	}
	h.route("GET /sheets", duty.ReadRecords, h.sheetsPage)
	h.route("GET /sheets/templates/{file}", duty.ReadRecords, h.sheetTemplate)
	h.route("GET /sheets/exports/{file}", duty.ReadRecords, h.sheetExport)
	h.route("POST /sheets/imports", duty.WriteRecords, h.sheetUpload)
	h.route("GET /sheets/imports/{id}", duty.WriteRecords, h.importPage)
	h.route("POST /sheets/imports/{id}/cancel", duty.WriteRecords, h.importCancel)
	h.route("GET /sheets/imports/{id}/marked.xlsx", duty.WriteRecords, h.importMarked)
	h.route("GET /departments/{id}/report.xlsx", duty.ReadReports, h.departmentDownload("xlsx"))
	h.route("GET /scans/{id}/report.xlsx", duty.ReadReports, h.scanDownload("xlsx"))
}

type sheetCollection struct {
	Name, Label string
}

type sheetsPage struct {
	Collections []sheetCollection
	Error       string
	MaxMiB      int64
}

func (h *handler) sheetCollections(lang string) []sheetCollection {
	out := make([]sheetCollection, 0, len(duty.Collections))
	for _, c := range duty.Collections {
		out = append(out, sheetCollection{c.Name, duty.Names.Collection(c.Name).In(lang)})
	}
	return out
}

func (h *handler) sheetsPage(rq *request) error {
	return h.showSheets(rq, http.StatusOK, "")
}

func (h *handler) showSheets(rq *request, status int, problem string) error {
	return h.render(rq, status, "sheets", text(rq.lang, "sheets.title"),
		sheetsPage{Collections: h.sheetCollections(rq.lang), Error: problem, MaxMiB: uploadLimit >> 20})
}

// uploadLimit is the request limit of the service (httpapi.Config.MaxBodyBytes by default),
// which bounds an uploaded workbook.
const uploadLimit = 32 << 20

// xlsxName is the collection of a download path segment "talks.xlsx".
func xlsxName(rq *request) (string, error) {
	name, ok := strings.CutSuffix(rq.r.PathValue("file"), ".xlsx")
	if !ok {
		return "", errNotFound
	}
	if _, err := sheet.Collections(name); err != nil {
		return "", err
	}
	return name, nil
}

// sendXLSX writes a workbook made into a buffer first, so that an error is an error page.
func sendXLSX(rq *request, name string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", sheet.ContentType)
	rq.w.Header().Set("Content-Disposition", sheet.Disposition(name))
	rq.w.WriteHeader(http.StatusOK)
	_, err := rq.w.Write(buf.Bytes())
	return err
}

func (h *handler) sheetTemplate(rq *request) error {
	coll, err := xlsxName(rq)
	if err != nil {
		return err
	}
	return sendXLSX(rq, sheet.FileName(coll, "导入模板"), func(w io.Writer) error {
		return sheet.Template(rq.ctx, w, h.Store, rq.p, coll)
	})
}

func (h *handler) sheetExport(rq *request) error {
	coll, err := xlsxName(rq)
	if err != nil || coll == "all" {
		return errors.Join(err, errNotFound)
	}
	return sendXLSX(rq, sheet.FileName(coll, "导出"), func(w io.Writer) error {
		return sheet.Export(rq.ctx, w, h.Store, rq.p, coll)
	})
}

// sheetUpload starts the import of an uploaded workbook and shows its page.
func (h *handler) sheetUpload(rq *request) error {
	file, fh, err := rq.r.FormFile("file")
	if err != nil {
		return h.showSheets(rq, http.StatusUnprocessableEntity, text(rq.lang, "sheets.nofile"))
	}
	data, err := io.ReadAll(file)
	file.Close()
	if err != nil {
		return fmt.Errorf("read the upload: %w", err)
	}
	j, err := h.Imports.Start(rq.p, sheet.Input{Name: fh.Filename, Data: data, Collection: rq.r.PostForm.Get("collection")})
	if err != nil {
		return err
	}
	h.cfg.Log.Info("import started from the pages", "import", j.ID, "user", rq.p.User, "file", fh.Filename)
	return rq.redirect("/sheets/imports/" + url.PathEscape(j.ID))
}

type problemView struct {
	sheet.Problem
	Reason string
}

type importPage struct {
	Job      sheet.Job
	Running  bool
	Coll     string
	Problems []problemView
	More     int
	// Later says that the failed import's records will all be written (sheet.CompletedLater).
	Later bool
}

func (h *handler) importPage(rq *request) error {
	j, err := h.Imports.Get(rq.p, rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	v := importPage{Job: j, Running: j.Status == sheet.Running, More: j.ProblemsTotal - len(j.Problems),
		Later: j.Status == sheet.Failed && j.Error == sheet.CompletedLater}
	if j.Collection != "" {
		v.Coll = duty.Names.Collection(j.Collection).In(rq.lang)
	}
	for _, p := range j.Problems {
		reason := p.ZH
		if rq.lang == langEN {
			reason = p.EN
		}
		v.Problems = append(v.Problems, problemView{p, reason})
	}
	return h.render(rq, http.StatusOK, "import", text(rq.lang, "import.title"), v)
}

func (h *handler) importCancel(rq *request) error {
	j, err := h.Imports.Cancel(rq.p, rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	return rq.redirect("/sheets/imports/" + url.PathEscape(j.ID))
}

func (h *handler) importMarked(rq *request) error {
	data, j, err := h.Imports.Marked(rq.p, rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	return sendXLSX(rq, "标注-"+j.File, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// reportXLSX writes a report as a workbook, names beside the ids.
func (h *handler) reportXLSX(rq *request, rep *duty.Report, name string) error {
	return sendXLSX(rq, name+".xlsx", func(w io.Writer) error {
		names, err := sheet.ReportNamer(rq.ctx, h.Store.Get, rep)
		if err != nil {
			return err
		}
		return sheet.WriteReport(w, rep, h.Policies.Catalogue(), names)
	})
}
