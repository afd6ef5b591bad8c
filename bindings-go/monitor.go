package leaksense

import (
	"encoding/json"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config holds the monitor's options, the same JSON keys as in every leaksense language (nil
// fields take the core's Go preset; see MonitorOptions), and where its events go.
type Config struct {
	MonitorOptions
	// OnEvent, if set, receives the monitor's events from the runtime watcher goroutine (or
	// from Poll): "leak" (the alert went to firing), "suspects" (while it fires, the core is
	// sure of the suspect routes) and "resolved" (it left firing), each with the report the
	// core built for it. It must not call Stop or Close (they wait for that goroutine); hand
	// off to another goroutine for that.
	OnEvent func(Event) `json:"-"`
}

// Monitor watches this process for memory leaks and attributes them to routes. It is safe for
// concurrent use. Close it when done; a cleanup frees the native memory once it is unreachable.
type Monitor struct {
	h        nativeMonitor
	config   MonitorOptions // in force, the preset filled in
	kinds    []measureKind  // the per-request measures, in the order of the measures option
	readsRSS bool           // rss_per_request: the core reads RSS at each end of a request
	// feedsGoroutines: the goroutine count is a watched count, fed by the runtime watcher.
	feedsGoroutines bool
	routes          routeIDs
	interval        time.Duration
	onEvent         func(Event)
	spans           SpanAttributeNames
	spanKeys        [1]string // the span attribute of each measure kind
	closed          atomic.Bool

	mu      sync.Mutex // guards the watcher's start and stop
	stop    chan struct{}
	done    chan struct{}
	watchSt watchState
	watchMu sync.Mutex // serialises watch passes (ticker and tests)
	reading *runtimeReading
	profMu  sync.Mutex // guards prof
	prof    *heapProfiler
}

type watchState struct {
	cycles   uint64
	limit    uint64
	hasLimit bool
	limitSet bool
	lastTs   int64
	countTs  int64 // of the last goroutine count fed
}

// NewMonitor creates a monitor. Bad options give an *Error with CodeInvalidOption.
func NewMonitor(cfg Config) (*Monitor, error) {
	js, err := json.Marshal(cfg.MonitorOptions)
	if err != nil {
		return nil, invalid("cannot encode the config: " + err.Error())
	}
	h, err := nativeNew("go", string(js))
	if err != nil {
		return nil, err
	}
	m := &Monitor{h: h, onEvent: cfg.OnEvent, reading: newRuntimeReading([]string{mGCCycles, mHeapLive, mMemLimit, mGoroutines}), prof: newHeapProfiler()}
	// Close only closes (safe while other goroutines are inside a call); the memory is freed
	// here, once no goroutine can reach the Monitor any more.
	runtime.AddCleanup(m, freeNative, h)
	if m.spans, err = nativeSpanAttributes(); err != nil {
		return nil, err
	}
	if m.config, err = decoded[MonitorOptions](nativeConfig(h)); err != nil {
		return nil, err
	}
	m.spanKeys = [1]string{kindHeapAllocated: m.spans.AllocatedBytes}
	if m.kinds, err = measureKindsOf(*m.config.Measures); err != nil {
		return nil, err
	}
	m.readsRSS = *m.config.RSSPerRequest
	m.feedsGoroutines = slices.Contains(*m.config.Counts, CountGoroutines)
	m.routes.max = int(*m.config.MaxRoutes)
	m.interval = time.Duration(*m.config.IntervalMs) * time.Millisecond
	return m, nil
}

// Config returns the options in force, the core's Go preset filled in.
func (m *Monitor) Config() MonitorOptions { return m.config }

// freeHook, when set (by tests), sees each handle the cleanup frees.
var freeHook atomic.Pointer[func(nativeMonitor)]

func freeNative(h nativeMonitor) {
	nativeFree(h)
	if hook := freeHook.Load(); hook != nil {
		(*hook)(h)
	}
}

// Start starts the core's sampler thread (which also counts open file descriptors) and the Go
// runtime watcher, which feeds the live heap after each GC cycle (with the heap option, on in
// the Go preset), the goroutine count (/sched/goroutines:goroutines, every interval, when
// "goroutines" is among the counts, as in the Go preset) and GOMEMLIMIT to the core and
// delivers the events to OnEvent.
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

// Stop stops the sampler thread and the watcher; Start may be called again.
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

// watchOnce feeds what changed since the last pass: the live heap after a new GC cycle, the
// goroutine count and GOMEMLIMIT; then it delivers the events. Errors (a closed monitor, a
// clock step back) are skipped: the next pass tries again.
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
	if cycles := r.uint(mGCCycles); *m.config.Heap && cycles > st.cycles {
		ts := time.Now().UnixMilli()
		if ts > st.lastTs && m.ObserveBaseline(ts, float64(r.uint(mHeapLive))) == nil {
			st.cycles, st.lastTs = cycles, ts
		}
	}
	if ts := time.Now().UnixMilli(); m.feedsGoroutines && ts > st.countTs {
		if m.ObserveCount(CountGoroutines, ts, float64(r.uint(mGoroutines))) == nil {
			st.countTs = ts
		}
	}
	if m.profileOn() {
		// An error here is a closed monitor; the next pass tries again.
		_, _ = m.ProfileHeap()
	}
	if m.onEvent != nil {
		_, _ = m.Poll()
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

// The counts a monitor can watch beside memory (the "counts" option), each with its own
// detector, alert and events (Event.Measure names it) and report (ReportFor).
const (
	// CountGoroutines is the live goroutine count, fed by the runtime watcher.
	CountGoroutines = "goroutines"
	// CountOpenFDs is the number of open file descriptors, counted by the core (Linux).
	CountOpenFDs = "open_fds"
)

// ObserveCount feeds one reading of a watched count at tsMs (unix ms). The runtime watcher
// feeds "goroutines" and the core counts "open_fds"; call it yourself for replays and tests.
// A count that is not watched is CodeInvalidOption; a time that does not move forward for
// that count, CodeOutOfOrder.
func (m *Monitor) ObserveCount(series string, tsMs int64, value float64) error {
	err := nativeObserveCount(m.h, series, tsMs, value)
	runtime.KeepAlive(m)
	return err
}

// ReportFor returns the report of one watched series: "memory" (the same as Report) or a
// count such as "goroutines", whose suspects are the routes whose requests leave it behind
// (RetainedBytesPerRequest is then in the count's unit: goroutines per request).
func (m *Monitor) ReportFor(series string) (LeakReport, error) {
	s, err := nativeReportForJSON(m.h, series)
	runtime.KeepAlive(m)
	return decoded[LeakReport](s, err)
}

// ReportTextFor returns ReportFor(series) as plain text for logs.
func (m *Monitor) ReportTextFor(series string) (string, error) {
	s, err := nativeReportForText(m.h, series)
	runtime.KeepAlive(m)
	return s, err
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

// Poll drains the core's events, oldest first, hands each to OnEvent (if set) and returns
// them. The runtime watcher calls it every interval.
func (m *Monitor) Poll() ([]Event, error) {
	s, err := nativePollEvents(m.h)
	runtime.KeepAlive(m)
	events, err := decoded[[]Event](s, err)
	if m.onEvent != nil {
		for _, e := range events {
			m.onEvent(e)
		}
	}
	return events, err
}

// Replay feeds recorded steps (requests per route and a post-GC baseline at injected times)
// through the core, as every language's replay does: for tests and replays.
func (m *Monitor) Replay(steps []ReplayStep) error {
	js, err := json.Marshal(steps)
	if err != nil {
		return invalid("cannot encode the steps: " + err.Error())
	}
	err = nativeReplay(m.h, string(js))
	runtime.KeepAlive(m)
	return err
}

// Gauges returns the detector's gauges by catalog key (nil where there is nothing to observe).
func (m *Monitor) Gauges() (map[string]*float64, error) {
	s, err := nativeGauges(m.h)
	runtime.KeepAlive(m)
	return decoded[map[string]*float64](s, err)
}

// Report returns the leak report.
func (m *Monitor) Report() (LeakReport, error) {
	return decoded[LeakReport](m.ReportJSON())
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

// WatchesRuntimeBaseline reports whether the detector watches the Go live heap fed after GC
// cycles (true once the watcher has fed one) rather than process RSS.
func (m *Monitor) WatchesRuntimeBaseline() (bool, error) {
	w, err := nativeWatchesBaseline(m.h)
	runtime.KeepAlive(m)
	return w, err
}
