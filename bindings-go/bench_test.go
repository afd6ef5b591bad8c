//go:build cgo

package leaksense

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The per-request and collection comparisons of BENCHMARKS.md ("Per-request and scrape cost"),
// in one run with paired rounds: each round runs every variant once (testing.Benchmark), so a
// ratio compares figures taken seconds apart; the table gives the median of each figure and of
// each ratio over the rounds, and the spread (min-max) of the ratios as the noise.
//
//	LEAKSENSE_BENCH_ROUNDS=7 go test -run TestCostBenchmarks -v ./...
func TestCostBenchmarks(t *testing.T) {
	rounds := 0
	if _, err := fmt.Sscan(os.Getenv("LEAKSENSE_BENCH_ROUNDS"), &rounds); err != nil || rounds < 1 {
		t.Skip("set LEAKSENSE_BENCH_ROUNDS=7 to run the paired benchmarks")
	}
	requests := requestVariants(t)
	collections := collectionVariants(t)
	// A pair's ratio is a/b of the added costs (over base), or with overhead, (a-b)/b: what a
	// adds on top of b, as a share of b's own cost.
	report := func(title string, variants []variant, base string, pairs []pair) {
		times := map[string][]float64{}
		for r := 0; r < rounds; r++ {
			for _, v := range variants {
				res := testing.Benchmark(v.run)
				times[v.name] = append(times[v.name], float64(res.NsPerOp()))
			}
		}
		t.Logf("%s: %d paired rounds, medians (ns per op)", title, rounds)
		for _, v := range variants {
			line := fmt.Sprintf("  %-44s %8.0f", v.name, median(times[v.name]))
			if base != "" && v.name != base {
				added := make([]float64, rounds)
				for i := range added {
					added[i] = times[v.name][i] - times[base][i]
				}
				line += fmt.Sprintf("   added %7.0f [%0.f..%0.f]", median(added), slices.Min(added), slices.Max(added))
			}
			t.Log(line)
		}
		for _, p := range pairs {
			num, den := times[p.a], times[p.b]
			label := p.a + " / " + p.b
			switch {
			case p.overhead:
				num = minus(num, den)
				label = "(" + p.a + " - " + p.b + ") / " + p.b
			case base != "":
				num, den = minus(num, times[base]), minus(den, times[base])
				label = "added: " + label
			}
			ratios := make([]float64, rounds)
			for i := range ratios {
				ratios[i] = num[i] / den[i]
			}
			t.Logf("  %s: %.3f [%.3f..%.3f]", label, median(ratios), slices.Min(ratios), slices.Max(ratios))
		}
	}
	report("per request (ServeMux, trivial handler)", requests, "none", []pair{
		{"leaksense defaults", "hand-rolled runtime/metrics", false},
		{"leaksense all options", "hand-rolled runtime/metrics", false},
		{"otelhttp + leaksense defaults", "otelhttp", true},
	})
	report("one OpenTelemetry collection (ManualReader)", collections, "", []pair{
		{"leaksense (19 metrics)", "contrib runtime (cache off)", false},
		{"leaksense, contrib's metrics", "contrib runtime (cache off)", false},
	})
}

type pair struct {
	a, b     string
	overhead bool
}

type variant struct {
	name string
	run  func(*testing.B)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minus(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

func serveLoop(h http.Handler) func(*testing.B) {
	return func(b *testing.B) {
		req := httptest.NewRequest("GET", "/users/42", nil)
		var w discardWriter
		for i := 0; i < b.N; i++ {
			h.ServeHTTP(w, req)
		}
	}
}

func benchMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("id"))
	})
	return mux
}

// handRolled is the minimal middleware a user could write instead: heap bytes allocated
// (runtime/metrics, a pooled sample) at the start and the end, summed per pattern.
func handRolled(next http.Handler) http.Handler {
	type acc struct{ n, bytes atomic.Int64 }
	var routes sync.Map
	pool := sync.Pool{New: func() any { return &[1]metrics.Sample{{Name: "/gc/heap/allocs:bytes"}} }}
	read := func() int64 {
		s := pool.Get().(*[1]metrics.Sample)
		metrics.Read(s[:])
		v := int64(s[0].Value.Uint64())
		pool.Put(s)
		return v
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := read()
		next.ServeHTTP(w, r)
		a, _ := routes.LoadOrStore(r.Pattern, &acc{})
		a.(*acc).n.Add(1)
		a.(*acc).bytes.Add(read() - start)
	})
}

func requestVariants(t *testing.T) []variant {
	mon := func(opts MonitorOptions) *Monitor { return newMonitor(t, Config{MonitorOptions: opts}) }
	defaults := mon(MonitorOptions{})
	all := mon(MonitorOptions{Measures: &[]string{measureHeap}, RSSPerRequest: Ptr(true)})
	// otelhttp with a recording tracer (sampled spans, no exporter): its usual cost.
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	otel := func(h http.Handler) http.Handler {
		return otelhttp.NewHandler(h, "server", otelhttp.WithTracerProvider(tp))
	}
	onTop := mon(MonitorOptions{})
	return []variant{
		{"none", serveLoop(benchMux())},
		{"leaksense defaults", serveLoop(defaults.Middleware(benchMux()))},
		{"leaksense all options", serveLoop(all.Middleware(benchMux()))},
		{"hand-rolled runtime/metrics", serveLoop(handRolled(benchMux()))},
		{"otelhttp", serveLoop(otel(benchMux()))},
		{"otelhttp + leaksense defaults", serveLoop(otel(onTop.Middleware(benchMux())))},
	}
}

func collectLoop(t *testing.T, register func(metric.MeterProvider) error) func(*testing.B) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if err := register(mp); err != nil {
		t.Fatal(err)
	}
	return func(b *testing.B) {
		var rm metricdata.ResourceMetrics
		for i := 0; i < b.N; i++ {
			if err := reader.Collect(context.Background(), &rm); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The metrics the contrib runtime package (v0.72) exports that the catalog has too (all but
// go.processor.limit).
var contribMetrics = map[string]bool{
	"go.memory.used": true, "go.memory.limit": true, "go.memory.allocated": true,
	"go.memory.allocations": true, "go.memory.gc.goal": true, "go.goroutine.count": true,
	"go.config.gogc": true,
}

func collectionVariants(t *testing.T) []variant {
	m := newMonitor(t, Config{})
	onlyRuntime := newMonitor(t, Config{})
	return []variant{
		{"leaksense (19 metrics)", collectLoop(t, func(mp metric.MeterProvider) error {
			_, err := m.RegisterMetrics(mp)
			return err
		})},
		{"leaksense, contrib's metrics", collectLoop(t, func(mp metric.MeterProvider) error {
			_, err := onlyRuntime.registerMetrics(mp, func(key string) bool { return contribMetrics[key] })
			return err
		})},
		{"contrib runtime (cache off)", collectLoop(t, func(mp metric.MeterProvider) error {
			return otelruntime.Start(otelruntime.WithMeterProvider(mp), otelruntime.WithMinimumReadMemStatsInterval(0))
		})},
	}
}

// The per-request path alone, from all CPUs at once (the core's tracker is sharded):
// go test -run '^$' -bench RequestParallel -benchmem ./...
func BenchmarkRequestParallel(b *testing.B) {
	m, err := NewMonitor(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
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
