//go:build cgo

package leaksense

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// go test -run '^$' -bench . -benchmem   (compare each pair in the same run; ratios in
// notes/ffigo.md).

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
		m := benchMonitor(b, Config{RSSPerRequest: &noRSS})
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
