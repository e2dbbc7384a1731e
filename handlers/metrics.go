package handlers

import (
	"errors"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/decom/decom/cloud"
)

// Metrics are the console's Prometheus collectors.
type Metrics struct {
	requests   *prometheus.HistogramVec
	cloudCalls *prometheus.CounterVec
	cloudTime  *prometheus.HistogramVec
}

// NewMetrics registers the collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "decom_http_request_duration_seconds",
			Help:    "Console request latency by method, route template and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "code"}),
		cloudCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "decom_cloud_calls_total",
			Help: "Cloud API calls by service, operation and outcome (ok, not_found, throttled, client_error, server_error, error).",
		}, []string{"service", "operation", "outcome"}),
		cloudTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "decom_cloud_call_duration_seconds",
			Help:    "Cloud API call latency by service and operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"service", "operation"}),
	}
	reg.MustRegister(m.requests, m.cloudCalls, m.cloudTime)
	return m
}

func (m *Metrics) observeRequest(method, route, code string, d time.Duration) {
	m.requests.WithLabelValues(method, route, code).Observe(d.Seconds())
}

// CloudCall records one cloud call. Wire it to the inventory and to the
// cloud client's call hook in cmd/web.
func (m *Metrics) CloudCall(service, operation, outcome string, d time.Duration) {
	m.cloudCalls.WithLabelValues(service, operation, outcome).Inc()
	m.cloudTime.WithLabelValues(service, operation).Observe(d.Seconds())
}

func (s *Server) handleMetrics(c echo.Context) error {
	promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}

// CloudOutcome classifies a cloud call's error for the metrics label.
func CloudOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, cloud.ErrNotFound):
		return "not_found"
	case errors.Is(err, cloud.ErrThrottled):
		return "throttled"
	case errors.Is(err, cloud.ErrTransient):
		return "server_error"
	case errors.Is(err, cloud.ErrConfig), errors.Is(err, cloud.ErrPermission), errors.Is(err, cloud.ErrPermanent), errors.Is(err, cloud.ErrBusy):
		return "client_error"
	}
	return "error"
}
