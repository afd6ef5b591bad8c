package leaksense

import (
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Config holds the monitor's options: the same JSON keys as in every leaksense language (see
// the core's MonitorConfig). Zero values take the core's defaults.
type Config struct {
	// Naming is "semconv" (default) or "legacy" metric names.
	Naming string `json:"naming,omitempty"`
	// IntervalMs is the sampling period of the core's thread and of the Go runtime watcher
	// (default 15000).
	IntervalMs uint64 `json:"interval_ms,omitempty"`
	// RSSPerRequest also reads process RSS at each request's start and end (default true on
	// Linux).
	RSSPerRequest *bool `json:"rss_per_request,omitempty"`
	// MaxRoutes caps route cardinality; further routes are counted under "_other".
	MaxRoutes int `json:"max_routes,omitempty"`
	// SlotMs is the width of a request-count slot.
	SlotMs int64 `json:"slot_ms,omitempty"`
	// MemoryLimit fixes the memory limit in bytes instead of the detected one.
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
	// Detector holds detector options by their core names (for_secs, bucket_secs,
	// warmup_secs, min_growth_secs, ...); unknown keys are CodeInvalidOption.
	Detector map[string]any `json:"detector,omitempty"`
	// Attribution holds attribution options by their core names (top_k, block_ms, ...).
	Attribution map[string]any `json:"attribution,omitempty"`
	// Profile holds the live-heap profile's options by their core names (enabled,
	// max_stacks, snapshot_every_ms, pprof_dir, ...). On by default: the watcher then reads
	// runtime.MemProfile on every pass.
	Profile map[string]any `json:"profile,omitempty"`
	// OnAlert, if set, receives every alert state change, and an EventSuspects event when a
	// firing alert's suspect routes are sure, from the runtime watcher goroutine.
	// It must not call Stop or Close (they wait for that goroutine); hand off to another
	// goroutine for that.
	OnAlert func(AlertEvent) `json:"-"`
}

// coreConfig is what the core receives: Config plus the keys this package owns.
type coreConfig struct {
	Runtime  string   `json:"runtime"`
	Measures []string `json:"measures"`
	Config
}

// Monitor watches this process for memory leaks and attributes them to routes. It is safe for
// concurrent use. Close it when done; a cleanup frees the native memory once it is unreachable.
type Monitor struct {
	h        nativeMonitor
	interval time.Duration
	onAlert  func(AlertEvent)
	spans    SpanAttributeNames
	naming   string
	closed   atomic.Bool

	mu      sync.Mutex // guards the watcher's start and stop
	stop    chan struct{}
	done    chan struct{}
	watchSt watchState
	watchMu sync.Mutex // serialises watch passes (ticker and tests)
	reading *runtimeReading
	profOn  bool
	profMu  sync.Mutex // guards prof
	prof    *heapProfiler
}

type watchState struct {
	cycles   uint64
	limit    uint64
	hasLimit bool
	limitSet bool
	lastTs   int64
}

// NewMonitor creates a monitor. Bad options give an *Error with CodeInvalidOption.
func NewMonitor(cfg Config) (*Monitor, error) {
	js, err := json.Marshal(coreConfig{Runtime: "go", Measures: []string{measureHeap, measureGorouts}, Config: cfg})
	if err != nil {
		return nil, invalid("cannot encode the config: " + err.Error())
	}
	h, err := nativeNew(string(js))
	if err != nil {
		return nil, err
	}
	spans, err := nativeSpanAttributes()
	if err != nil {
		nativeFree(h)
		return nil, err
	}
	interval := time.Duration(cfg.IntervalMs) * time.Millisecond
	if interval == 0 {
		interval = 15 * time.Second
	}
	naming := cfg.Naming
	if naming == "" {
		naming = "semconv"
	}
	m := &Monitor{
		h: h, interval: interval, onAlert: cfg.OnAlert, spans: spans, naming: naming,
		reading: newRuntimeReading([]string{mGCCycles, mHeapLive, mMemLimit}),
		profOn:  cfg.Profile["enabled"] != false,
		prof:    newHeapProfiler(),
	}
	// Close only closes (safe while other goroutines are inside a call); the memory is freed
	// here, once no goroutine can reach the Monitor any more.
	runtime.AddCleanup(m, freeNative, h)
	return m, nil
}

// freeHook, when set (by tests), sees each handle the cleanup frees.
var freeHook atomic.Pointer[func(nativeMonitor)]

func freeNative(h nativeMonitor) {
	nativeFree(h)
	if hook := freeHook.Load(); hook != nil {
		(*hook)(h)
	}
}

// Start starts the core's sampler thread and the Go runtime watcher, which feeds the live heap
// after each GC cycle and GOMEMLIMIT to the core and delivers alert events to OnAlert.
// Starting a running monitor does nothing.
func (m *Monitor) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := nativeStart(m.h)
	runtime.KeepAlive(m)
	if err != nil || m.stop != nil {
		return err
	}
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go m.watch(m.stop, m.done)
	return nil
}

// Stop stops the sampler thread and the watcher; Start may be called again (after a fork).
func (m *Monitor) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop, m.done = nil, nil
	}
	err := nativeStop(m.h)
	runtime.KeepAlive(m)
	return err
}

// Running reports whether the core's sampler thread runs.
func (m *Monitor) Running() (bool, error) {
	r, err := nativeIsRunning(m.h)
	runtime.KeepAlive(m)
	return r, err
}

// Close stops the monitor; every later call returns an error matching ErrClosed. Idempotent.
func (m *Monitor) Close() error {
	if !m.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := m.Stop(); err != nil {
		return err
	}
	err := nativeClose(m.h)
	runtime.KeepAlive(m)
	return err
}

func (m *Monitor) watch(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.watchOnce()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// watchOnce feeds what changed since the last pass: the live heap after a new GC cycle,
// GOMEMLIMIT and the heap profile; then it delivers the alert events. Errors (a closed monitor, a clock step back)
// are skipped: the next pass tries again.
func (m *Monitor) watchOnce() {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	r, st := m.reading, &m.watchSt
	r.read()
	if limit, has := r.memoryLimit(); !st.limitSet || limit != st.limit || has != st.hasLimit {
		if m.SetRuntimeLimit(limit, has) == nil {
			st.limit, st.hasLimit, st.limitSet = limit, has, true
		}
	}
	if cycles := r.uint(mGCCycles); cycles > st.cycles {
		ts := time.Now().UnixMilli()
		if ts > st.lastTs && m.ObserveBaseline(ts, float64(r.uint(mHeapLive))) == nil {
			st.cycles, st.lastTs = cycles, ts
		}
	}
	if m.profOn {
		// An error here is a closed monitor; the next pass tries again.
		_, _ = m.ProfileHeap()
	}
	if m.onAlert == nil {
		return
	}
	events, err := m.PollEvents()
	if err != nil {
		return
	}
	for _, e := range events {
		m.onAlert(e)
	}
}

// Sample reads process and container memory now (and feeds RSS to the detector until the
// runtime baseline takes over).
func (m *Monitor) Sample() (Snapshot, error) {
	s, err := nativeSample(m.h)
	runtime.KeepAlive(m)
	return decoded[Snapshot](s, err)
}

// SampleAt is Sample at an explicit unix-ms time (replays, tests); time must move forward.
func (m *Monitor) SampleAt(tsMs int64) (Snapshot, error) {
	s, err := nativeSampleAt(m.h, tsMs)
	runtime.KeepAlive(m)
	return decoded[Snapshot](s, err)
}

// ObserveBaseline feeds the heap left after a GC at tsMs (unix ms). The runtime watcher does
// this with /gc/heap/live:bytes; call it yourself only for replays and tests.
func (m *Monitor) ObserveBaseline(tsMs int64, bytes float64) error {
	err := nativeObserveBaseline(m.h, tsMs, bytes)
	runtime.KeepAlive(m)
	return err
}

// SetRuntimeLimit records the runtime's memory limit (GOMEMLIMIT; has=false clears it).
func (m *Monitor) SetRuntimeLimit(limit uint64, has bool) error {
	err := nativeSetRuntimeLimit(m.h, limit, has)
	runtime.KeepAlive(m)
	return err
}

// Analysis returns the detector's current view.
func (m *Monitor) Analysis() (Analysis, error) {
	s, err := nativeAnalysis(m.h)
	runtime.KeepAlive(m)
	return decoded[Analysis](s, err)
}

// PollEvents drains the alert state changes since the last poll, oldest first.
func (m *Monitor) PollEvents() ([]AlertEvent, error) {
	s, err := nativePollEvents(m.h)
	runtime.KeepAlive(m)
	return decoded[[]AlertEvent](s, err)
}

// Report returns the leak report.
func (m *Monitor) Report() (Report, error) {
	return decoded[Report](m.ReportJSON())
}

// ReportJSON returns the leak report as the core's stable JSON.
func (m *Monitor) ReportJSON() (string, error) {
	s, err := nativeReportJSON(m.h)
	runtime.KeepAlive(m)
	return s, err
}

// ReportText returns the leak report as plain text for logs.
func (m *Monitor) ReportText() (string, error) {
	s, err := nativeReportText(m.h)
	runtime.KeepAlive(m)
	return s, err
}

// Request is one request in flight, from BeginRequest to End. It holds no Go pointers and
// needs no freeing; End it exactly once.
type Request struct {
	m   *Monitor
	req nativeRequest
	hot [2]float64
}

// BeginRequest starts tracking a request on route (a template such as "GET /users/{id}",
// never the raw path). The middleware calls it; use it directly for other servers.
func (m *Monitor) BeginRequest(route string) (*Request, error) {
	r := &Request{m: m}
	hotSample(&r.hot)
	err := nativeBegin(m.h, route, &r.hot, &r.req)
	runtime.KeepAlive(m)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// End ends the request and returns its deltas (heap bytes allocated, goroutines).
func (r *Request) End() (RequestOutcome, error) {
	var end [2]float64
	hotSample(&end)
	var out nativeOutcome
	err := nativeEnd(r.m.h, &r.req, &end, &out)
	runtime.KeepAlive(r.m)
	if err != nil {
		return RequestOutcome{}, err
	}
	return outcomeOf(&out), nil
}

// WatchesRuntimeBaseline reports whether the detector watches the Go live heap fed after GC
// cycles (true once the watcher has fed one) rather than process RSS.
func (m *Monitor) WatchesRuntimeBaseline() (bool, error) {
	w, err := nativeWatchesBaseline(m.h)
	runtime.KeepAlive(m)
	return w, err
}
