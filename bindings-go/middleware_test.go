//go:build cgo

package leaksense

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A real net/http server on 127.0.0.1 (httptest stops it when the test ends).
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		t.Errorf("%s: status %d", url, resp.StatusCode)
	}
}

func report(t *testing.T, m *Monitor) LeakReport {
	t.Helper()
	rep, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func routeCounts(rep LeakReport) map[string]uint64 {
	counts := map[string]uint64{}
	for _, r := range rep.Routes {
		counts[r.Route] = r.Requests
	}
	return counts
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "user %s", r.PathValue("id"))
	})
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}

// 100 goroutines at once through a real server: every request is counted on its pattern,
// never on its raw path, and unmatched paths share one route.
func TestMiddlewareUnderConcurrency(t *testing.T) {
	m := newMonitor(t, Config{})
	srv := serve(t, m.Middleware(testMux()))
	const workers, perWorker = 100, 20
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c := srv.Client()
			for i := 0; i < perWorker; i++ {
				get(t, c, fmt.Sprintf("%s/users/%d", srv.URL, g*perWorker+i))
				get(t, c, srv.URL+"/ok")
				if i == 0 {
					get(t, c, fmt.Sprintf("%s/nope/%d", srv.URL, g))
				}
			}
		}(g)
	}
	wg.Wait()
	rep := report(t, m)
	counts := routeCounts(rep)
	for _, r := range rep.Routes {
		if len(r.Measures) != 0 {
			t.Errorf("route %s measures: %+v (none by default)", r.Route, r.Measures)
		}
	}
	want := map[string]uint64{
		"GET /users/{id}": workers * perWorker,
		"GET /ok":         workers * perWorker,
		"_unmatched":      workers, // the core's UnmatchedRoute, the same in every language
	}
	for route, n := range want {
		if counts[route] != n {
			t.Errorf("route %q: %d requests, want %d (all: %v)", route, counts[route], n, counts)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("unexpected routes: %v", counts)
	}
}

// Inside otelhttp, the deltas land on the request's span; a route function overrides the
// pattern; a panicking handler still ends its request.
func TestMiddlewareSetsSpanAttributesUnderOtelhttp(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{
		Measures: &[]string{measureHeap}, RSSPerRequest: Ptr(true)}})
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	var sink [][]byte
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leak", func(w http.ResponseWriter, r *http.Request) {
		sink = append(sink, make([]byte, 1<<20))
		started := make(chan struct{})
		go func() { close(started); <-block }() // a goroutine that outlives the request
		<-started
		_, _ = io.WriteString(w, "leaked")
	})
	h := otelhttp.NewHandler(m.Middleware(mux), "server", otelhttp.WithTracerProvider(tp))
	srv := serve(t, h)
	get(t, srv.Client(), srv.URL+"/leak")
	_ = sink

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	attrs := map[attribute.Key]attribute.Value{}
	for _, kv := range spans[0].Attributes() {
		attrs[kv.Key] = kv.Value
	}
	alloc, ok := attrs[attribute.Key(m.spans.AllocatedBytes)]
	if !ok || alloc.AsInt64() < 1<<20 {
		t.Errorf("%s = %v (present %v), want at least 1 MiB", m.spans.AllocatedBytes, alloc.AsInt64(), ok)
	}
	for k := range attrs {
		if strings.Contains(string(k), "goroutine") {
			t.Errorf("span attribute %s: a request's goroutine delta means nothing at its end", k)
		}
	}
	if _, ok := attrs[attribute.Key(m.spans.RSSDeltaBytes)]; !ok {
		t.Errorf("%s missing with rss_per_request", m.spans.RSSDeltaBytes)
	}
	rep, err := m.Report()
	if err != nil || len(rep.Routes) != 1 || rep.Routes[0].Route != "GET /leak" {
		t.Errorf("routes: %+v %v", rep.Routes, err)
	}
}

func TestRouteFuncAndPanics(t *testing.T) {
	m := newMonitor(t, Config{})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("panic") != "" {
			panic(http.ErrAbortHandler) // net/http recovers this one silently
		}
	}), WithRouteFunc(func(r *http.Request) string { return "rpc " + r.Header.Get("X-Method") }))
	srv := serve(t, h)
	req, _ := http.NewRequest("GET", srv.URL+"/anything/123", nil)
	req.Header.Set("X-Method", "Get")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	_, err = srv.Client().Get(srv.URL + "/x?panic=1")
	if err == nil {
		t.Error("the aborted request should fail on the client")
	}
	counts := routeCounts(report(t, m))
	// The client may retry the aborted GET on a fresh connection: each try reached the handler.
	if counts["rpc Get"] != 1 || counts["rpc "] < 1 || len(counts) != 2 {
		t.Errorf("routes: %v", counts)
	}
}

// After Close the middleware keeps serving, untracked.
func TestMiddlewareAfterClose(t *testing.T) {
	m := newMonitor(t, Config{})
	srv := serve(t, m.Middleware(testMux()))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	get(t, srv.Client(), srv.URL+"/ok")
}

// A known route through the middleware allocates nothing beyond what the handler does, at the
// defaults and with every option on (outside a recording span, whose attributes the
// OpenTelemetry SDK stores).
func TestMiddlewareAllocatesNothingForAKnownRoute(t *testing.T) {
	for _, opts := range []MonitorOptions{
		{},
		{Measures: &[]string{measureHeap}, RSSPerRequest: Ptr(true)},
	} {
		m := newMonitor(t, Config{MonitorOptions: opts})
		mux := http.NewServeMux()
		mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
		req := httptest.NewRequest("GET", "/users/42", nil)
		var w discardWriter
		bare := testing.AllocsPerRun(1000, func() { mux.ServeHTTP(w, req) })
		h := m.Middleware(mux)
		h.ServeHTTP(w, req) // resolves the route id once
		tracked := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) })
		if tracked != bare {
			t.Errorf("options %+v: %v allocations per request with the middleware, %v without", opts, tracked, bare)
		}
		if got := routeCounts(report(t, m))["GET /users/{id}"]; got < 1001 {
			t.Errorf("options %+v: %d requests counted", opts, got)
		}
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return nil }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// The route-id cache stops at max_routes: past it routes are counted under _other and the
// cache does not grow.
func TestRouteCacheIsCapped(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{MaxRoutes: Ptr[uint64](3)}})
	for i := 0; i < 10; i++ {
		r, err := m.BeginRequest(fmt.Sprintf("GET /r%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.End(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(*m.routes.m.Load()); n != 3 {
		t.Errorf("%d routes cached, want the cap 3", n)
	}
	counts := routeCounts(report(t, m))
	if counts["_other"] != 7 || len(counts) != 4 {
		t.Errorf("routes: %v", counts)
	}
	r, _ := m.BeginRequest("GET /r0")
	if _, err := r.End(); err != nil {
		t.Fatal(err)
	}
	_, err := r.End()
	wantCode(t, err, CodeInvalidOption)
}
