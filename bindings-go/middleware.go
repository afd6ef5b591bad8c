package leaksense

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// RouteFunc names the route of a request: a template, never the raw path (unbounded
// cardinality would make every path its own "route").
type RouteFunc func(*http.Request) string

// UnmatchedRoute is the route of requests no pattern matched and no RouteFunc named: the core's
// name (leaksense_unmatched_route), the one Python and Node use too.
var UnmatchedRoute = nativeUnmatchedRoute()

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

// Middleware counts each request on its route in the core and records the deltas of the
// monitor's measures over it (by default the goroutine count; with the options, the heap bytes
// allocated, /gc/heap/allocs:bytes, which includes concurrent requests' allocations, and the
// process RSS), and sets them on the request's span (trace.SpanFromContext, so it composes with
// otelhttp placed outside it). The route is r.Pattern from Go's ServeMux, read when the request
// ends (the mux sets it on the request it is given); when next is a *http.ServeMux that did not
// match, its pattern is looked up. A known route costs one map read and one call into the core
// at the end of the request, and allocates nothing.
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
	if mw.m.closed.Load() {
		mw.next.ServeHTTP(w, r)
		return
	}
	var start measures
	rssStart := mw.m.start(&start)
	// Deferred so that a panicking handler still ends its request.
	defer mw.end(r, &start, rssStart)
	mw.next.ServeHTTP(w, r)
}

func (mw *middleware) end(r *http.Request, start *measures, rssStart float64) {
	m := mw.m
	var out nativeOutcome
	// A closed monitor (or bad input) never breaks the service: the request goes uncounted.
	if m.record(mw.routeOf(r), start, rssStart, &out) != nil {
		return
	}
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	o := outcomeOf(&out)
	attrs := make([]attribute.KeyValue, 0, len(o.Deltas)+1)
	for i, k := range m.kinds {
		if i < len(o.Deltas) {
			attrs = append(attrs, attribute.Int64(m.spanKeys[k], int64(o.Deltas[i])))
		}
	}
	if o.HasRSSDelta {
		attrs = append(attrs, attribute.Int64(m.spans.RSSDeltaBytes, int64(o.RSSDelta)))
	}
	span.SetAttributes(attrs...)
}
