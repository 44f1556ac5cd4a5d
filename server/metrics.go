package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what GET /metrics reports, in a registry of the server's own
// (not the process's default), so that tests can run several servers.
type metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec // by endpoint and status
	queueDepth       prometheus.Gauge
	slotsActive      prometheus.Gauge
	slots            prometheus.Gauge
	promptTokens     prometheus.Counter
	generatedTokens  prometheus.Counter
	timeToFirstToken prometheus.Histogram
	interTokenTime   prometheus.Histogram
	requestDuration  *prometheus.HistogramVec // by endpoint
}

// latencyBuckets cover a decode step of a small model on one core (about a
// millisecond) to a long prompt queued behind others (a minute).
var latencyBuckets = prometheus.ExponentialBucketsRange(0.001, 60, 20)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goformer_requests_total", Help: "HTTP requests answered, by endpoint and status code.",
		}, []string{"endpoint", "status"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "goformer_queue_depth", Help: "Generation requests waiting for a slot.",
		}),
		slotsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "goformer_slots_active", Help: "Slots running a request.",
		}),
		slots: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "goformer_slots", Help: "Slots of the batch (--slots).",
		}),
		promptTokens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goformer_prompt_tokens_total", Help: "Prompt tokens of the requests that got a slot.",
		}),
		generatedTokens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goformer_generated_tokens_total", Help: "Tokens generated.",
		}),
		timeToFirstToken: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "goformer_time_to_first_token_seconds", Help: "From a request's arrival to its first generated token, queueing and prefill included.",
			Buckets: latencyBuckets,
		}),
		interTokenTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "goformer_inter_token_latency_seconds", Help: "Between two generated tokens of a request.",
			Buckets: latencyBuckets,
		}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "goformer_request_duration_seconds", Help: "From a request's arrival to its last byte, by endpoint.",
			Buckets: latencyBuckets,
		}, []string{"endpoint"}),
	}
	m.reg.MustRegister(m.requests, m.queueDepth, m.slotsActive, m.slots, m.promptTokens, m.generatedTokens,
		m.timeToFirstToken, m.interTokenTime, m.requestDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in Prometheus's text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
