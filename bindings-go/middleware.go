package leaksense

import (
	"net/http"
	"runtime"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// RouteFunc names the route of a request: a template, never the raw path (unbounded
// cardinality would make every path its own "route").
type RouteFunc func(*http.Request) string

// UnmatchedRoute is the route of requests no pattern matched and no RouteFunc named.
const UnmatchedRoute = "_unmatched"

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*middleware)

// WithRouteFunc names routes with f instead of the ServeMux pattern.
func WithRouteFunc(f RouteFunc) MiddlewareOption {
	return func(mw *middleware) { mw.route = f }
}

type middleware struct {
	m     *Monitor
	next  http.Handler
	mux   *http.ServeMux
	route RouteFunc
}

// Middleware measures each request's heap-allocation delta (/gc/heap/allocs:bytes, which
// includes concurrent requests' allocations) and goroutine delta, records them on the route in
// the core, and sets them on the request's span (trace.SpanFromContext, so it composes with
// otelhttp placed outside it). The route is r.Pattern from Go's ServeMux: when next is a
// *http.ServeMux, its pattern is looked up before dispatch; inside a mux, r.Pattern is set.
func (m *Monitor) Middleware(next http.Handler, opts ...MiddlewareOption) http.Handler {
	mw := &middleware{m: m, next: next}
	mw.mux, _ = next.(*http.ServeMux)
	for _, o := range opts {
		o(mw)
	}
	return mw
}

func (mw *middleware) routeOf(r *http.Request) string {
	if mw.route != nil {
		if route := mw.route(r); route != "" {
			return route
		}
	}
	if r.Pattern != "" {
		return r.Pattern
	}
	if mw.mux != nil {
		if _, pattern := mw.mux.Handler(r); pattern != "" {
			return pattern
		}
	}
	return UnmatchedRoute
}

func (mw *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := mw.m
	var start [2]float64
	hotSample(&start)
	var req nativeRequest
	err := nativeBegin(m.h, mw.routeOf(r), &start, m.measures, &req)
	runtime.KeepAlive(m)
	if err != nil {
		// A closed monitor (or bad input) never breaks the service: serve untracked.
		mw.next.ServeHTTP(w, r)
		return
	}
	// Deferred so that a panicking handler still ends its request.
	defer mw.end(r, &req)
	mw.next.ServeHTTP(w, r)
}

func (mw *middleware) end(r *http.Request, req *nativeRequest) {
	m := mw.m
	var end [2]float64
	hotSample(&end)
	var out nativeOutcome
	err := nativeEnd(m.h, req, &end, m.measures, &out)
	runtime.KeepAlive(m)
	if err != nil {
		return
	}
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	o := outcomeOf(&out)
	attrs := make([]attribute.KeyValue, 0, 3)
	if len(o.Deltas) == 2 {
		attrs = append(attrs,
			attribute.Int64(m.spans.AllocatedBytes, int64(o.Deltas[0])),
			attribute.Int64(m.spans.GoroutineDelta, int64(o.Deltas[1])))
	}
	if o.HasRSSDelta {
		attrs = append(attrs, attribute.Int64(m.spans.RSSDeltaBytes, int64(o.RSSDelta)))
	}
	span.SetAttributes(attrs...)
}
