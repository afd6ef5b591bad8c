package leaksense

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The per-request runtime measure Go can read, by its name in the "measures" option:
// /gc/heap/allocs:bytes, 0.3-0.8 µs, so opt-in. There is no per-request goroutine measure: at
// the end of ServeHTTP the goroutines a request started and that exit on ctx.Done() are still
// alive (the server cancels the context after the handler returns), so a healthy route read
// +1; the goroutine count is a watched count instead, explained by routes in its own report.
const measureHeap = "heap_allocated"

// maxMeasures is the core's cap on runtime measures (LEAKSENSE_MAX_MEASURES).
const maxMeasures = 4

type measureKind uint8

const kindHeapAllocated measureKind = 0

var measureKinds = map[string]measureKind{measureHeap: kindHeapAllocated}

// measures are the readings of one end of a request, in the order of the "measures" option.
type measures [maxMeasures]float64

// allocSamples recycles the one-sample buffers of the heap_allocated read: a buffer on the stack
// would escape through metrics.Read and cost an allocation per request.
var allocSamples = sync.Pool{New: func() any { return &[1]metrics.Sample{{Name: mAllocBytes}} }}

// read fills out with the measures of kinds.
func read(kinds []measureKind, out *measures) {
	for i, k := range kinds {
		switch k {
		case kindHeapAllocated:
			s := allocSamples.Get().(*[1]metrics.Sample)
			metrics.Read(s[:])
			out[i] = float64(s[0].Value.Uint64())
			allocSamples.Put(s)
		}
	}
}

// measureKindsOf checks the monitor's "measures" option against what Go can read.
func measureKindsOf(names []string) ([]measureKind, error) {
	kinds := make([]measureKind, 0, len(names))
	for _, n := range names {
		k, ok := measureKinds[n]
		if !ok {
			return nil, invalid(fmt.Sprintf("measures: Go reads %q (goroutines are a watched count, not a measure), got %q", measureHeap, n))
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// routeIDs resolves route names to the core's route ids once: after the first request on a
// route, a request costs one map read here and no string crosses into the core. Reads are
// lock-free (a copy-on-write map behind an atomic pointer: a read allocates nothing, where a
// sync.Map would box the key); a new route copies the map, which happens at most max times.
// Past max (the monitor's max_routes, the core's cap) routes are not cached: the core then
// counts them under _other, and this map stays bounded.
type routeIDs struct {
	m   atomic.Pointer[map[string]uint32]
	mu  sync.Mutex
	max int
}

func (c *routeIDs) id(h nativeMonitor, route string) (uint32, error) {
	if p := c.m.Load(); p != nil {
		if id, ok := (*p)[route]; ok {
			return id, nil
		}
	}
	id, err := nativeRouteID(h, route)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old == nil || len(*old) < c.max {
		next := make(map[string]uint32, 1+lenOf(old))
		if old != nil {
			for k, v := range *old {
				next[k] = v
			}
		}
		next[route] = id
		c.m.Store(&next)
	}
	return id, nil
}

func lenOf(m *map[string]uint32) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// start reads what a request needs at its start: the runtime measures and, with the
// rss_per_request option, the core's RSS reading (NaN otherwise, with no call into the core).
func (m *Monitor) start(out *measures) float64 {
	read(m.kinds, out)
	if !m.readsRSS {
		return math.NaN()
	}
	rss := nativeRequestRSS(m.h)
	runtime.KeepAlive(m)
	return rss
}

// record reads the end measures and records the request on route in one call into the core.
func (m *Monitor) record(route string, start *measures, rssStart float64, out *nativeOutcome) error {
	id, err := m.routes.id(m.h, route)
	if err != nil {
		return err
	}
	var end measures
	read(m.kinds, &end)
	err = nativeRecord(m.h, id, start, &end, len(m.kinds), rssStart, out)
	runtime.KeepAlive(m)
	return err
}

// Request is one request in flight, from BeginRequest to End. It holds no Go pointers into C
// and needs no freeing; End it once.
type Request struct {
	m        *Monitor
	route    string
	start    measures
	rssStart float64
	ended    atomic.Bool
}

// BeginRequest starts tracking a request on route (a template such as "GET /users/{id}",
// never the raw path): it reads the start measures. The middleware does the same without
// allocating; use this for other servers.
func (m *Monitor) BeginRequest(route string) (*Request, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	r := &Request{m: m, route: route}
	r.rssStart = m.start(&r.start)
	return r, nil
}

// End records the request in the core and returns its deltas (in the order of the measures
// option) and, with rss_per_request, its RSS change. Ending twice is a CodeInvalidOption error.
func (r *Request) End() (RequestOutcome, error) {
	if !r.ended.CompareAndSwap(false, true) {
		return RequestOutcome{}, invalid("the request was already ended")
	}
	var out nativeOutcome
	if err := r.m.record(r.route, &r.start, r.rssStart, &out); err != nil {
		return RequestOutcome{}, err
	}
	return outcomeOf(&out), nil
}
