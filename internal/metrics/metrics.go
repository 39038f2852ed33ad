// Package metrics keeps the service's Prometheus metrics: scans and their durations, organs
// evaluated, the violations and warnings of the latest scan of everything by policy and
// severity, HTTP requests by route and status with latency histograms, and store errors. It is
// the only importer of the Prometheus client; the edges call its methods with plain values.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Metrics is one process's set of metrics, on a registry of its own (never the global one, so
// that tests and several services in one process do not share counts).
type Metrics struct {
	reg         *prometheus.Registry
	scans       *prometheus.CounterVec
	scanSeconds *prometheus.HistogramVec
	organs      prometheus.Counter
	violations  *prometheus.GaugeVec
	warnings    *prometheus.GaugeVec
	requests    *prometheus.CounterVec
	reqSeconds  *prometheus.HistogramVec
	storeErrors prometheus.Counter
	takeovers   *prometheus.CounterVec
}

// New returns the metrics of a service, with the Go runtime's and the process's own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dutycheck_scans_total", Help: "Scans finished, by status (done or failed) and scope (all or department).",
		}, []string{"status", "scope"}),
		scanSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dutycheck_scan_duration_seconds", Help: "Duration of finished scans.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"status"}),
		organs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dutycheck_organs_evaluated_total", Help: "Organs evaluated by finished scans.",
		}),
		violations: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dutycheck_violations", Help: "Violations in the latest finished scan of everything, by policy and severity.",
		}, []string{"policy", "severity"}),
		warnings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dutycheck_warnings", Help: "Warnings in the latest finished scan of everything, by policy and severity.",
		}, []string{"policy", "severity"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dutycheck_http_requests_total", Help: "HTTP requests, by route (the router's pattern), method and status.",
		}, []string{"route", "method", "status"}),
		reqSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dutycheck_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dutycheck_store_errors_total", Help: "Requests that failed because the store was unavailable.",
		}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dutycheck_lease_takeovers_total", Help: "Leases in the store taken over from a process that stopped renewing them, by lease (write, scan_chunk).",
		}, []string{"lease"}),
	}
	m.reg.MustRegister(m.scans, m.scanSeconds, m.organs, m.violations, m.warnings, m.requests, m.reqSeconds, m.storeErrors, m.takeovers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Scan records a finished scan (done or failed) that took d. The violation and warning gauges
// follow the latest done scan of everything (no department).
func (m *Metrics) Scan(sc *duty.Scan, d time.Duration) {
	if m == nil || sc == nil {
		return
	}
	scope := "all"
	if sc.Department != "" {
		scope = "department"
	}
	m.scans.WithLabelValues(sc.Status, scope).Inc()
	m.scanSeconds.WithLabelValues(sc.Status).Observe(d.Seconds())
	if sc.Status != duty.ScanDone {
		return
	}
	m.organs.Add(float64(sc.Progress.Total))
	if sc.Department != "" || sc.Report == nil {
		return
	}
	m.violations.Reset()
	for _, v := range sc.Report.Violations {
		m.violations.WithLabelValues(v.Policy, v.Severity).Inc()
	}
	m.warnings.Reset()
	for _, w := range sc.Report.Warnings {
		m.warnings.WithLabelValues(w.Policy, w.Severity).Inc()
	}
}

// Request records one HTTP request: route is the router's pattern ("" for no route, recorded
// as "unmatched" so that scanned paths cannot grow the label set).
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.reqSeconds.WithLabelValues(route, method).Observe(d.Seconds())
}

// StoreError records a request that failed because the store was unavailable.
func (m *Metrics) StoreError() {
	if m != nil {
		m.storeErrors.Inc()
	}
}

// LeaseTakeover records a lease in the store taken over from a process that stopped renewing it.
func (m *Metrics) LeaseTakeover(lease string) {
	if m != nil {
		m.takeovers.WithLabelValues(lease).Inc()
	}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
