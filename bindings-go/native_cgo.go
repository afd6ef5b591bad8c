//go:build cgo

package leaksense

// The header and the prebuilt static libraries live inside the module, so a module download
// alone builds (as wasmtime-go does). They are not in git: scripts/dist.sh copies them in
// (bindings-go/run-tests.sh calls it) and puts them in the module zip it serves.
// -l:libleaksense_ffi.a names the static library: a plain -lleaksense_ffi would pick a .so
// found on the path, and the binary would then fail to load it at run time. The system
// libraries after it are what `rustc --print native-static-libs` lists for the library; gcc
// adds libgcc_s (unwinding) by itself, other C compilers (zig cc) do not.
// Go cannot tell which libc the C compiler targets, so musl (Alpine, or a fully static binary)
// is chosen with the build tag, as other cgo modules with prebuilt archives do: `go build -tags
// musl`. The musl libraries carry their own unwinder (scripts/dist.sh adds Rust's libunwind), so
// they need musl's libc alone: no libgcc_s, which a static link does not have.

/*
#cgo CFLAGS: -I${SRCDIR}/include
#cgo linux,amd64,!musl LDFLAGS: -L${SRCDIR}/lib/linux_amd64 -l:libleaksense_ffi.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#cgo linux,arm64,!musl LDFLAGS: -L${SRCDIR}/lib/linux_arm64 -l:libleaksense_ffi.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#cgo linux,amd64,musl LDFLAGS: -L${SRCDIR}/lib/linux_amd64_musl -l:libleaksense_ffi.a -lc
#cgo linux,arm64,musl LDFLAGS: -L${SRCDIR}/lib/linux_arm64_musl -l:libleaksense_ffi.a -lc
// The request and scrape paths keep their arguments on the Go stack: C never retains them nor
// calls Go.
#cgo noescape leaksense_request_record
#cgo nocallback leaksense_request_record
#cgo noescape leaksense_monitor_request_rss
#cgo nocallback leaksense_monitor_request_rss
#cgo noescape leaksense_monitor_route_id
#cgo nocallback leaksense_monitor_route_id
#cgo noescape leaksense_monitor_memory
#cgo nocallback leaksense_monitor_memory
#cgo noescape leaksense_monitor_gauge_values
#cgo nocallback leaksense_monitor_gauge_values
#include "leaksense.h"
*/
import "C"

import (
	"math"
	"unsafe"
)

// Only pointer-free Go memory (string bytes, float arrays, C structs) is passed to C, and only
// for the duration of the call: the C side never keeps it, as the cgo pointer rules require.

type nativeMonitor = *C.leaksense_monitor_t

type nativeMemory = C.leaksense_memory_t

type gaugeValues = C.leaksense_gauges_t

type nativeOutcome = C.leaksense_request_outcome_t

const cgoEnabled = true

func takeError(e *C.leaksense_error_t) error {
	if e == nil {
		return nil
	}
	err := &Error{
		Code:    Code(C.leaksense_error_code(e)),
		Message: C.GoString(C.leaksense_error_message(e)),
	}
	C.leaksense_error_free(e)
	return err
}

func takeString(s *C.char) string {
	out := C.GoString(s)
	C.leaksense_string_free(s)
	return out
}

func cstr(s string) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

func cfloats(xs []float64) (*C.double, C.size_t) {
	return (*C.double)(unsafe.Pointer(unsafe.SliceData(xs))), C.size_t(len(xs))
}

func nativeCodeName(c Code) string { return C.GoString(C.leaksense_error_code_name(C.uint32_t(c))) }

func nativeNew(runtime, config string) (nativeMonitor, error) {
	rp, rn := cstr(runtime)
	p, n := cstr(config)
	var h nativeMonitor
	if err := takeError(C.leaksense_monitor_new(rp, rn, p, n, &h)); err != nil {
		return nil, err
	}
	return h, nil
}

func nativeFree(h nativeMonitor) { C.leaksense_monitor_free(h) }

func nativeStart(h nativeMonitor) error { return takeError(C.leaksense_monitor_start(h)) }

func nativeStop(h nativeMonitor) error { return takeError(C.leaksense_monitor_stop(h)) }

func nativeClose(h nativeMonitor) error { return takeError(C.leaksense_monitor_close(h)) }

func nativeIsRunning(h nativeMonitor) (bool, error) {
	var running C.bool
	err := takeError(C.leaksense_monitor_is_running(h, &running))
	return bool(running), err
}

// nativeJSON runs one of the functions that hand out a string.
func nativeJSON(call func(**C.char) *C.leaksense_error_t) (string, error) {
	var s *C.char
	if err := takeError(call(&s)); err != nil {
		return "", err
	}
	return takeString(s), nil
}

func nativeSample(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_sample(h, out) })
}

func nativeSampleAt(h nativeMonitor, tsMs int64) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t {
		return C.leaksense_monitor_sample_at(h, C.int64_t(tsMs), out)
	})
}

func nativeAnalysis(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_analysis(h, out) })
}

func nativeConfig(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_config(h, out) })
}

func nativeGauges(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_gauges(h, out) })
}

func nativeReplay(h nativeMonitor, steps string) error {
	p, n := cstr(steps)
	return takeError(C.leaksense_monitor_replay(h, p, n))
}

func nativePollEvents(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_poll_events(h, out) })
}

func nativeReportJSON(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_report_json(h, out) })
}

func nativeReportText(h nativeMonitor) (string, error) {
	return nativeJSON(func(out **C.char) *C.leaksense_error_t { return C.leaksense_monitor_report_text(h, out) })
}

func nativeObserveBaseline(h nativeMonitor, tsMs int64, bytes float64) error {
	return takeError(C.leaksense_monitor_observe_baseline(h, C.int64_t(tsMs), C.double(bytes)))
}

func nativeObserveCount(h nativeMonitor, series string, tsMs int64, value float64) error {
	p, n := cstr(series)
	return takeError(C.leaksense_monitor_observe_count(h, p, n, C.int64_t(tsMs), C.double(value)))
}

func nativeReportForJSON(h nativeMonitor, series string) (string, error) {
	p, n := cstr(series)
	return nativeJSON(func(out **C.char) *C.leaksense_error_t {
		return C.leaksense_monitor_report_for_json(h, p, n, out)
	})
}

func nativeReportForText(h nativeMonitor, series string) (string, error) {
	p, n := cstr(series)
	return nativeJSON(func(out **C.char) *C.leaksense_error_t {
		return C.leaksense_monitor_report_for_text(h, p, n, out)
	})
}

// nativeCountValue is a watched count's latest reading, without JSON (false before the first).
func nativeCountValue(h nativeMonitor, series string) (float64, bool, error) {
	p, n := cstr(series)
	var v C.double
	var present C.bool
	err := takeError(C.leaksense_monitor_count_value(h, p, n, &v, &present))
	return float64(v), bool(present), err
}

func nativeSetRuntimeLimit(h nativeMonitor, limit uint64, has bool) error {
	return takeError(C.leaksense_monitor_set_runtime_limit(h, C.bool(has), C.uint64_t(limit)))
}

func nativeRouteID(h nativeMonitor, route string) (uint32, error) {
	p, n := cstr(route)
	var id C.uint32_t
	err := takeError(C.leaksense_monitor_route_id(h, p, n, &id))
	return uint32(id), err
}

// nativeRecord is the request path's one call into the core. A cgo call costs about 70 ns
// here; a shared counter array bumped with sync/atomic would cost about 6 ns, but the call also
// carries the measures the core aggregates per route, and the core's per-thread shards keep
// concurrent requests on one route from bouncing a cache line (BENCHMARKS.md, "Per-request cost").
func nativeRecord(h nativeMonitor, id uint32, start, end *measures, n int, rssStart float64, out *nativeOutcome) error {
	return takeError(C.leaksense_request_record(h, C.uint32_t(id), (*C.double)(unsafe.Pointer(start)),
		(*C.double)(unsafe.Pointer(end)), C.size_t(n), C.double(rssStart), out))
}

func nativeRequestRSS(h nativeMonitor) float64 {
	var v C.double
	if takeError(C.leaksense_monitor_request_rss(h, &v)) != nil {
		return math.NaN()
	}
	return float64(v)
}

func nativeMemoryRead(h nativeMonitor, out *nativeMemory) error {
	return takeError(C.leaksense_monitor_memory(h, out))
}

func nativeGaugeValues(h nativeMonitor, out *gaugeValues) error {
	return takeError(C.leaksense_monitor_gauge_values(h, out))
}

func nativeUnmatchedRoute() string { return C.GoString(C.leaksense_unmatched_route()) }

// nativeGaugeKeys are the catalog keys of the gauges, in the order of gaugeValues.
func nativeGaugeKeys() []string {
	keys := make([]string, 0, C.LEAKSENSE_GAUGE_COUNT)
	for i := 0; i < C.LEAKSENSE_GAUGE_COUNT; i++ {
		keys = append(keys, C.GoString(C.leaksense_gauge_key(C.size_t(i))))
	}
	return keys
}

// gaugeValue is gauge i of g, and whether it is present.
func gaugeValue(g *gaugeValues, i int) (float64, bool) {
	return float64(g.values[i]), bool(g.present[i])
}

// memoryValue is one field of a memory reading by catalog key, and whether it is present.
func memoryValue(mem *nativeMemory, key string) (uint64, bool) {
	switch key {
	case "process.memory.usage":
		return uint64(mem.rss_bytes), true
	case "process.memory.virtual":
		return uint64(mem.virtual_bytes), true
	case "process.memory.peak":
		return uint64(mem.peak_rss_bytes), bool(mem.has_peak_rss)
	case "container.memory.usage":
		return uint64(mem.container_usage_bytes), bool(mem.has_container_usage)
	case "container.memory.oom_kills":
		return uint64(mem.container_oom_kill), bool(mem.has_container_oom_kill)
	}
	return 0, false
}

// outcomeOf converts what leaksense_request_end wrote.
func outcomeOf(o *nativeOutcome) RequestOutcome {
	r := RequestOutcome{TsMs: int64(o.ts_ms), HasRSSDelta: bool(o.has_rss_delta), RSSDelta: float64(o.rss_delta)}
	for i := 0; i < int(o.deltas_len) && i < len(o.deltas); i++ {
		r.Deltas = append(r.Deltas, float64(o.deltas[i]))
	}
	return r
}

func nativeFormatAmount(value float64, unit string) (string, error) {
	up, un := cstr(unit)
	var s *C.char
	if err := takeError(C.leaksense_format_amount(C.double(value), up, un, &s)); err != nil {
		return "", err
	}
	return takeString(s), nil
}

func nativeDeriv(ts, vs []float64) (float64, bool, error) {
	tp, tn := cfloats(ts)
	vp, vn := cfloats(vs)
	var v C.double
	var has C.bool
	err := takeError(C.leaksense_series_deriv(tp, tn, vp, vn, &v, &has))
	return float64(v), bool(has), err
}

func nativePredictLinear(ts, vs []float64, evalTime, horizon float64) (float64, bool, error) {
	tp, tn := cfloats(ts)
	vp, vn := cfloats(vs)
	var v C.double
	var has C.bool
	err := takeError(C.leaksense_series_predict_linear(tp, tn, vp, vn, C.double(evalTime), C.double(horizon), &v, &has))
	return float64(v), bool(has), err
}

func nativeInflection(ts, vs []float64, window uint, ratio float64) (float64, error) {
	tp, tn := cfloats(ts)
	vp, vn := cfloats(vs)
	var t C.double
	err := takeError(C.leaksense_series_find_growth_inflection(tp, tn, vp, vn, C.size_t(window), C.double(ratio), &t))
	return float64(t), err
}

func nativeAnalyze(ts, vs []float64, options string) (string, error) {
	tp, tn := cfloats(ts)
	vp, vn := cfloats(vs)
	op, on := cstr(options)
	return nativeJSON(func(out **C.char) *C.leaksense_error_t {
		return C.leaksense_series_analyze(tp, tn, vp, vn, op, on, out)
	})
}

var instrumentKinds = map[C.leaksense_instrument_kind_t]InstrumentKind{
	C.LEAKSENSE_OBSERVABLE_COUNTER:         ObservableCounter,
	C.LEAKSENSE_OBSERVABLE_UP_DOWN_COUNTER: ObservableUpDownCounter,
	C.LEAKSENSE_OBSERVABLE_GAUGE:           ObservableGauge,
	C.LEAKSENSE_HISTOGRAM:                  Histogram,
}

func nativeCatalog(runtime, naming string) ([]CatalogMetric, error) {
	rp, rn := cstr(runtime)
	np, nn := cstr(naming)
	var cat *C.leaksense_catalog_t
	if err := takeError(C.leaksense_catalog_new(rp, rn, np, nn, &cat)); err != nil {
		return nil, err
	}
	defer C.leaksense_catalog_free(cat)
	var n C.size_t
	if err := takeError(C.leaksense_catalog_len(cat, &n)); err != nil {
		return nil, err
	}
	out := make([]CatalogMetric, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		var m C.leaksense_metric_t
		if err := takeError(C.leaksense_catalog_get(cat, i, &m)); err != nil {
			return nil, err
		}
		out = append(out, CatalogMetric{
			Key:         C.GoString(m.key),
			Name:        C.GoString(m.name),
			Unit:        C.GoString(m.unit),
			Description: C.GoString(m.description),
			Attributes:  splitAttributes(C.GoString(m.attributes)),
			Kind:        instrumentKinds[m.kind],
			Deep:        bool(m.deep),
		})
	}
	return out, nil
}

func nativeSpanAttributes() (SpanAttributeNames, error) {
	var s C.leaksense_span_attributes_t
	if err := takeError(C.leaksense_span_attributes_get(&s)); err != nil {
		return SpanAttributeNames{}, err
	}
	return SpanAttributeNames{
		AllocatedBytes: C.GoString(s.allocated_bytes),
		RSSDeltaBytes:  C.GoString(s.rss_delta_bytes),
	}, nil
}

func nativeWatchesBaseline(h nativeMonitor) (bool, error) {
	var w C.leaksense_watched_t
	err := takeError(C.leaksense_monitor_watched(h, &w))
	return w == C.LEAKSENSE_WATCHED_RUNTIME_BASELINE, err
}

func nativeProfileReplace(h nativeMonitor, tsMs int64, fd *profileFeed, rate uint64) error {
	text := (*C.char)(unsafe.Pointer(unsafe.SliceData(fd.text)))
	// profileFrame and profileSample have the layout of their C structs (checked in
	// profile_cgo_test.go).
	frames := (*C.leaksense_profile_frame_t)(unsafe.Pointer(unsafe.SliceData(fd.frames)))
	stacks := (*C.uint32_t)(unsafe.Pointer(unsafe.SliceData(fd.stackFrames)))
	samples := (*C.leaksense_profile_sample_t)(unsafe.Pointer(unsafe.SliceData(fd.samples)))
	return takeError(C.leaksense_monitor_profile_replace(h, C.int64_t(tsMs),
		text, C.size_t(len(fd.text)), frames, C.size_t(len(fd.frames)),
		stacks, C.size_t(len(fd.stackFrames)), samples, C.size_t(len(fd.samples)), C.uint64_t(rate)))
}

func nativeWritePprof(h nativeMonitor, path string, kind uint32) error {
	p, n := cstr(path)
	return takeError(C.leaksense_monitor_write_pprof(h, p, n, C.uint32_t(kind)))
}

// Sizes of the C structs, for the layout test.
const (
	cProfileFrameSize  = C.sizeof_leaksense_profile_frame_t
	cProfileSampleSize = C.sizeof_leaksense_profile_sample_t
)
