// Package httpapi is dutycheck's HTTP interface (INTERFACES.md) and its only importer of gin:
// routes, JSON in and out, and the one table that maps error kinds to status codes.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/metrics"
	"github.com/dutycheck/dutycheck/internal/priority"
	"github.com/dutycheck/dutycheck/internal/ratelimit"
	"github.com/dutycheck/dutycheck/internal/sheet"
)

// Config holds the HTTP limits.
type Config struct {
	// MaxBodyBytes bounds a request body; larger bodies answer 413. 0 means 32 MiB.
	MaxBodyBytes int64
	// RequestTimeout bounds the handling of one request (a waited-for scan included); 0 means 10 minutes.
	RequestTimeout time.Duration
	// TrustedProxies lists the addresses or CIDR ranges of reverse proxies whose
	// X-Forwarded-For and X-Real-IP headers name the client. Empty (the default) trusts none:
	// the client is the connection's peer, so a forged header neither escapes nor aims the
	// sign-in rate limit.
	TrustedProxies []string
	// MaxReads bounds the GET and HEAD requests handled at once; the others wait their turn.
	// 0 means DefaultMaxReads.
	MaxReads int
	// MaxWaitingReads bounds the reads waiting for a turn; one more answers 429 with
	// Retry-After. 0 means DefaultMaxWaitingReads.
	MaxWaitingReads int
	// MaxLargeBodies bounds the requests with a body over LargeBody bytes read at once; one
	// more answers 429 with Retry-After. 0 means DefaultMaxLargeBodies.
	MaxLargeBodies int
	// Reads, when set, is told of every read (GET and HEAD, pages included) from the moment it
	// waits for its turn until it ends, so that a scan gives way to them (priority.Reads).
	Reads *priority.Reads
	Log   *slog.Logger
}

// Deps are the services the API exposes.
type Deps struct {
	// Store and Scans are the services of internal/duty (internal/store and internal/scan
	// in the binary, fakes in tests). Scans are reached as the signed-in user may see them
	// (duty.ScopedScans).
	Store    duty.Store
	Scans    duty.ScanRunner
	Policies duty.Policies
	// Ledger, when set, serves the waivers and the rectification ledger (ledger.go).
	Ledger duty.Ledger
	// Pages, when set, serves every path outside /api/ that no route here answers (the web
	// pages); unknown /api/ paths keep their JSON 404.
	Pages http.Handler
	// Limiter counts failed sign-ins per client address; share it with the pages so that the
	// two doors have one count. Nil makes one for the API alone.
	Limiter *ratelimit.Failures
	// Imports runs the spreadsheet imports (imports.go); share it with the pages so that an
	// import started on one is seen on the other. Nil makes one for the API alone.
	Imports *sheet.Jobs
	// Metrics, when set, counts requests (pages included) and is served at /metrics to admins
	// and inspectors.
	Metrics *metrics.Metrics
}

type server struct {
	cfg Config
	Deps
	limiter *ratelimit.Failures
	reads   *queue
	bodies  gate
	scans   duty.Scans // Deps.Scans, scoped
}

// New returns the HTTP handler of the API.
func New(cfg Config, deps Deps) http.Handler {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxLargeBodies <= 0 {
		cfg.MaxLargeBodies = DefaultMaxLargeBodies
	}
	if cfg.MaxReads <= 0 {
		cfg.MaxReads = DefaultMaxReads
	}
	if cfg.MaxWaitingReads <= 0 {
		cfg.MaxWaitingReads = DefaultMaxWaitingReads
	}
	gin.SetMode(gin.ReleaseMode)
	if deps.Limiter == nil {
		deps.Limiter = ratelimit.New(10, time.Minute)
	}
	if deps.Imports == nil && deps.Store != nil {
		deps.Imports = sheet.NewJobs(sheet.JobsConfig{Log: cfg.Log}, deps.Store)
	}
	s := &server{cfg: cfg, Deps: deps, limiter: deps.Limiter, reads: &queue{gate: newGate(cfg.MaxReads), maxWaiting: int64(cfg.MaxWaitingReads)}, bodies: newGate(cfg.MaxLargeBodies)}
	if deps.Scans != nil {
		s.scans = duty.ScopedScans(deps.Scans, deps.Store)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		// Callers check the list first (ParseTrustedProxies); should one slip through, trust none.
		cfg.Log.Error("trusted proxies refused; trusting none", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.HandleMethodNotAllowed = true
	r.Use(s.recovery, s.logRequests, s.limits, s.gateBodies, s.gateReads)
	r.NoRoute(func(c *gin.Context) {
		if s.Pages == nil || c.Request.URL.Path == "/api" || strings.HasPrefix(c.Request.URL.Path, "/api/") {
			s.fail(c, errNotFound("no such endpoint: "+c.Request.URL.Path))
			return
		}
		c.Status(http.StatusOK) // gin presets 404 for NoRoute; the pages set their own status
		s.Pages.ServeHTTP(c.Writer, c.Request)
	})
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody("method_not_allowed", c.Request.Method+" is not allowed here", nil))
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	r.GET("/api/v1/openapi.json", serveOpenAPI) // outside the authenticated group: documentation
	if s.Metrics != nil {
		// Organ-wide counts: for a token that reads every report (an admin's or an inspector's).
		r.GET("/metrics", s.authenticate, func(c *gin.Context) {
			if p := principal(c); p.Scope() != "" || !p.Can(duty.ReadReports) {
				c.AbortWithStatusJSON(http.StatusForbidden, errorBody("forbidden", "the metrics are for admins and inspectors", nil))
				return
			}
			s.Metrics.Handler().ServeHTTP(c.Writer, c.Request)
		})
	}
	v1 := r.Group("/api/v1", s.authenticate)
	v1.PUT("/collections/:collection", require(duty.WriteRecords), s.putCollection)
	v1.GET("/collections/:collection/:id", require(duty.ReadRecords), s.getRecord)
	v1.DELETE("/collections/:collection/:id", require(duty.WriteRecords), s.deleteRecord)
	v1.POST("/scans", require(duty.RunScans), s.postScan)
	v1.GET("/scans", require(duty.ReadReports), s.listScans)
	v1.GET("/scans/:id", require(duty.ReadReports), s.getScan)
	v1.GET("/departments/:id/report", require(duty.ReadReports), s.departmentReport)
	s.policyRoutes(v1)
	s.userRoutes(v1)
	s.webhookRoutes(v1)
	s.ledgerRoutes(v1)
	s.sheetRoutes(v1)
	return r
}

// recovery answers 500 without internals when a handler panics, and logs the panic.
func (s *server) recovery(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Log.Error("panic in handler", "path", c.Request.URL.Path, "panic", p)
			c.AbortWithStatusJSON(http.StatusInternalServerError, errorBody("internal", "internal error", nil))
		}
	}()
	c.Next()
}

func (s *server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	s.cfg.Log.Info("request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration", d)
	route := c.FullPath()
	if route == "" && s.Pages != nil && !strings.HasPrefix(c.Request.URL.Path, "/api/") {
		route = "pages"
	}
	s.Metrics.Request(route, c.Request.Method, c.Writer.Status(), d)
}

func (s *server) limits(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(context.WithValue(ctx, clientIPKey{}, c.ClientIP()))
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}

func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	if err := s.Store.Ping(ctx); err != nil {
		checks["store"] = "unreachable"
		ok = false
	} else {
		checks["store"] = "ok"
	}
	if e := s.Policies.Catalogue(); e == nil {
		checks["policies"] = "not loaded"
		ok = false
	} else {
		pol := gin.H{"revision": s.Policies.Revision(), "hash": e.Revision(), "count": len(e.Policies())}
		if r := s.Policies.Refused(); r != nil {
			pol["refused_change"] = r
		}
		if d := s.Policies.Drift(); d != nil {
			pol["builtin_drift"] = d // still ready: the stored revision serves
		}
		checks["policies"] = pol
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": ok, "checks": checks})
}

// apiError is an error with its own status and code, for request problems found here.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errBadRequest(msg string) error { return &apiError{http.StatusBadRequest, "bad_request", msg} }
func errNotFound(msg string) error   { return &apiError{http.StatusNotFound, "not_found", msg} }

// StatusClientClosed is the status of a request whose client went away before the answer
// (nginx's 499): nobody reads it, but the log and the metrics tell it from a failure of ours.
const StatusClientClosed = 499

// StatusOf is the one table from error kinds to HTTP status codes and error codes, for the API
// and the pages: invalid 422, not_found 404, conflict 409, unavailable 503, busy 429,
// bad_request 400, too_large 413; a request whose deadline passed 504 (timeout), one whose
// client went away 499 (cancelled); anything else 500 (internal).
func StatusOf(err error) (int, string) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.code
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, duty.ErrInvalid):
		return http.StatusUnprocessableEntity, "invalid"
	case errors.Is(err, duty.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, duty.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, duty.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, duty.ErrBusy):
		return http.StatusTooManyRequests, "busy"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout"
	case errors.Is(err, context.Canceled):
		return StatusClientClosed, "cancelled"
	}
	return http.StatusInternalServerError, "internal"
}

func errorBody(code, msg string, problems any) gin.H {
	e := gin.H{"code": code, "message": msg}
	if problems != nil {
		e["problems"] = problems
	}
	return gin.H{"error": e}
}

// retryAfter is the Retry-After of a busy answer, in seconds.
const retryAfter = "30"

// maxProblems bounds the problems listed in one answer.
const maxProblems = 1000

// fail answers with the error's status. Messages of user errors are shown; internal and
// store errors are logged and replaced by a generic message.
func (s *server) fail(c *gin.Context, err error) {
	status, code := StatusOf(err)
	if status == http.StatusServiceUnavailable {
		s.Metrics.StoreError()
	}
	if status == http.StatusTooManyRequests {
		c.Header("Retry-After", retryAfter)
	}
	var msg string // err.Error() only when shown: a refused batch's is its every problem
	var problems any
	var ve *duty.ValidationError
	var be *duty.BundleError
	switch {
	case errors.As(err, &ve):
		msg = "the batch was refused; nothing was written"
		problems = ve.Problems
		if n := len(ve.Problems); n > maxProblems {
			// A 30 MiB batch can hold a million problems; the first ones show what is wrong.
			msg += fmt.Sprintf(" (the first %d of %d problems are listed)", maxProblems, n)
			problems = ve.Problems[:maxProblems]
		}
	case errors.As(err, &be):
		msg = "the policy bundle was refused"
		problems = be.Problems
	case status == http.StatusRequestEntityTooLarge:
		msg = "the request body is larger than the limit"
	case status >= 500:
		s.cfg.Log.Error("request failed", "path", c.Request.URL.Path, "err", err)
		msg = http.StatusText(status)
		if code == "unavailable" {
			msg = "the store is unavailable; try again later"
		}
	default:
		msg = err.Error()
	}
	c.AbortWithStatusJSON(status, errorBody(code, msg, problems))
}

// readBody reads the whole body, mapping an oversize body to 413.
func readBody(c *gin.Context) ([]byte, error) {
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errBadRequest("could not read the request body: " + err.Error())
	}
	return data, nil
}
