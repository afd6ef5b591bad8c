//go:build cgo

package leaksense

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// go test -run '^$' -bench . -benchmem   (compare each pair in the same run; ratios in
// BENCHMARKS.md, "Go binding").

func benchHandler(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, req)
		w.Body.Reset()
	}
}

func benchMux(wrapRoute func(http.Handler) http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", wrapRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("id"))
	})))
	return mux
}

func benchMonitor(b *testing.B, cfg Config) *Monitor {
	m, err := NewMonitor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// The same trivial route through a ServeMux: without leaksense, with the middleware inside the
// mux (r.Pattern is set), and with the middleware wrapping the mux (one extra pattern lookup).
func BenchmarkMiddleware(b *testing.B) {
	identity := func(h http.Handler) http.Handler { return h }
	b.Run("none", func(b *testing.B) { benchHandler(b, benchMux(identity)) })
	b.Run("per_route", func(b *testing.B) {
		m := benchMonitor(b, Config{})
		benchHandler(b, benchMux(func(h http.Handler) http.Handler { return m.Middleware(h) }))
	})
	b.Run("around_mux", func(b *testing.B) {
		m := benchMonitor(b, Config{})
		benchHandler(b, m.Middleware(benchMux(identity)))
	})
	// Without the core's per-request RSS reads (two statm preads; rss_per_request: false).
	b.Run("per_route_no_rss", func(b *testing.B) {
		noRSS := false
		m := benchMonitor(b, Config{MonitorOptions: MonitorOptions{RSSPerRequest: &noRSS}})
		benchHandler(b, benchMux(func(h http.Handler) http.Handler { return m.Middleware(h) }))
	})
}

// The per-request hot path alone, from all CPUs at once (the core's tracker is sharded).
func BenchmarkRequestParallel(b *testing.B) {
	m := benchMonitor(b, Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		mw := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
			WithRouteFunc(func(*http.Request) string { return "GET /x" })).(*middleware)
		req := httptest.NewRequest("GET", "/x", nil)
		for pb.Next() {
			mw.ServeHTTP(nil, req)
		}
	})
}

// One read of every runtime metric the package collects, against runtime.ReadMemStats (which
// stops the world), and the two-metric read of the request hot path.
func BenchmarkRuntimeRead(b *testing.B) {
	b.Run("runtime_metrics_all", func(b *testing.B) {
		r := newRuntimeReading(allRuntimeMetrics)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			r.read()
		}
	})
	b.Run("runtime_metrics_hot", func(b *testing.B) {
		var out [2]float64
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			hotSample(&out)
		}
	})
	b.Run("ReadMemStats", func(b *testing.B) {
		var ms runtime.MemStats
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			runtime.ReadMemStats(&ms)
		}
	})
}

// One OpenTelemetry collection through the SDK's ManualReader: leaksense's runtime metrics
// (which add the live heap, free and released memory, GC cycles, and the detector's baseline,
// growth rate and limit from the core) against the contrib runtime instrumentation, with its
// read cache disabled so that each collection reads the runtime as ours does.
func BenchmarkCollect(b *testing.B) {
	run := func(b *testing.B, register func(metric.MeterProvider) error) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		if err := register(mp); err != nil {
			b.Fatal(err)
		}
		var rm metricdata.ResourceMetrics
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := reader.Collect(context.Background(), &rm); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(countMetrics(rm)), "metrics")
	}
	b.Run("leaksense", func(b *testing.B) {
		m := benchMonitor(b, Config{})
		run(b, func(mp metric.MeterProvider) error { _, err := m.RegisterMetrics(mp); return err })
	})
	b.Run("contrib_runtime", func(b *testing.B) {
		run(b, func(mp metric.MeterProvider) error {
			return otelruntime.Start(otelruntime.WithMeterProvider(mp), otelruntime.WithMinimumReadMemStatsInterval(0))
		})
	})
}

func countMetrics(rm metricdata.ResourceMetrics) int {
	n := 0
	for _, sm := range rm.ScopeMetrics {
		n += len(sm.Metrics)
	}
	return n
}
