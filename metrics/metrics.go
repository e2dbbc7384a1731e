// Package metrics holds decom's Prometheus collectors: console request
// latency and every cloud call by service, operation and outcome.
package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decom/decom/cloud"
)

// Metrics are the console's Prometheus collectors.
type Metrics struct {
	requests   *prometheus.HistogramVec
	cloudCalls *prometheus.CounterVec
	cloudTime  *prometheus.HistogramVec
}

// New registers the collectors with reg.
func New(reg prometheus.Registerer) *Metrics {
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

// ObserveRequest records one console request.
func (m *Metrics) ObserveRequest(method, route, code string, d time.Duration) {
	m.requests.WithLabelValues(method, route, code).Observe(d.Seconds())
}

// ObserveCloudCall records one cloud call; it is the cloud client's
// observer (cloud.Options.Observe), so every request from any package counts.
func (m *Metrics) ObserveCloudCall(svc cloud.Service, operation string, err error, d time.Duration) {
	m.cloudCalls.WithLabelValues(string(svc), operation, CloudOutcome(err)).Inc()
	m.cloudTime.WithLabelValues(string(svc), operation).Observe(d.Seconds())
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
	case errors.Is(err, cloud.ErrConfig),
		errors.Is(err, cloud.ErrPermission),
		errors.Is(err, cloud.ErrPermanent),
		errors.Is(err, cloud.ErrBusy):
		return "client_error"
	}
	return "error"
}
