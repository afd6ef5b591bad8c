//go:build cgo

package leaksense

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func newMonitor(t testing.TB, cfg Config) *Monitor {
	t.Helper()
	m, err := NewMonitor(cfg)
	if err != nil {
		t.Fatalf("NewMonitor: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Message == "" {
		t.Fatalf("got %v, want an *Error with code %s", err, code)
	}
}

func TestCodesMatchTheCore(t *testing.T) {
	for c := Code(1); c <= CodeInternal; c++ {
		if c.String() != nativeCodeName(c) || c.String() == "unknown" {
			t.Errorf("code %d: Go %q, core %q", c, c.String(), nativeCodeName(c))
		}
	}
	if Code(0).String() != "unknown" || nativeCodeName(10) != "unknown" {
		t.Error("an unknown code must be named unknown")
	}
}

func TestBadConfigIsInvalidOption(t *testing.T) {
	for _, opts := range []MonitorOptions{
		{Naming: Ptr(Naming("ancient"))},
		{Runtime: Ptr(RuntimeNode)},
		{Detector: &DetectorOptions{BucketSecs: Ptr(-1.0)}},
		{Detector: &DetectorOptions{Kind: Ptr(SeriesKind("bytes"))}},
		{Attribution: &AttributionOptions{TopK: Ptr[uint64](0)}},
		{IntervalMs: Ptr[uint64](86_400_001)},
		{MemoryLimit: Ptr[uint64](0)},
		{Measures: &[]string{"heap_used"}},  // Go reads heap_allocated
		{Measures: &[]string{"goroutines"}}, // a watched count, not a per-request measure
		{Measures: &[]string{"heap_allocated", "heap_allocated"}},
		{Counts: &[]string{"threads"}}, // Python's
		{Counts: &[]string{"goroutines", "goroutines"}},
		{Detector: &DetectorOptions{ForSecs: Ptr(nan())}},
	} {
		_, err := NewMonitor(Config{MonitorOptions: opts})
		wantCode(t, err, CodeInvalidOption)
	}
	m := newMonitor(t, Config{})
	c := m.Config()
	if *c.Runtime != RuntimeGo || *c.IntervalMs != 15_000 || !*c.Heap || *c.Naming != NamingSemconv ||
		*c.RSSPerRequest || len(*c.Measures) != 0 ||
		!slices.Equal(*c.Counts, []string{CountOpenFDs, CountGoroutines}) {
		t.Errorf("the core's Go preset: %+v", c)
	}
}

func TestSeriesErrors(t *testing.T) {
	nan := []float64{1, 2}
	nan[1] = nan[1] * 0
	_, _, err := Deriv([]float64{1, 2}, []float64{1, nan[1] / nan[1]})
	wantCode(t, err, CodeNonFiniteValue)
	_, _, err = Deriv([]float64{2, 1}, []float64{1, 2})
	wantCode(t, err, CodeOutOfOrder)
	_, _, err = Deriv([]float64{1, 2, 3}, []float64{1, 2})
	wantCode(t, err, CodeInvalidOption)
	_, err = FindGrowthInflection(nil, nil, 12, 0.8)
	wantCode(t, err, CodeEmptyInput)
	_, err = FindGrowthInflection([]float64{1}, []float64{1}, -1, 0.8)
	wantCode(t, err, CodeInvalidOption)
	_, err = Analyze([]float64{1, 2}, []float64{1, 2}, AnalyzeOptions{Kind: Ptr(SeriesKind("bytes"))})
	wantCode(t, err, CodeInvalidOption)
	_, err = Analyze([]float64{1, 2}, []float64{1, 2}, AnalyzeOptions{Limit: Ptr(nan[1] / nan[1])})
	wantCode(t, err, CodeInvalidOption)
	_, err = Analyze([]float64{1, 2}, []float64{1, 2}, AnalyzeOptions{ForSecs: Ptr(-1.0)})
	wantCode(t, err, CodeInvalidOption)
	if a, err := Analyze([]float64{1, 2}, []float64{1, 2}, AnalyzeOptions{Kind: Ptr(SeriesKindCount), ForSecs: Ptr(60.0)}); err != nil || a.Samples != 2 {
		t.Errorf("analyze with options: %+v %v", a, err)
	}
	if _, ok, err := Deriv(nil, nil); ok || err != nil {
		t.Errorf("empty deriv: ok=%v err=%v", ok, err)
	}
}

// FormatAmount is the core's formatter: IEC bytes, counts with their unit, plural unless 1.
func TestFormatAmount(t *testing.T) {
	for _, c := range []struct {
		value      float64
		unit, want string
	}{
		{53657.6, "By", "52.4 KiB"},
		{1, "{goroutine}", "1 goroutine"},
		{5776, "{file_descriptor}", "5776 file descriptors"},
	} {
		if got, err := FormatAmount(c.value, c.unit); err != nil || got != c.want {
			t.Errorf("FormatAmount(%v, %q) = %q, %v; want %q", c.value, c.unit, got, err, c.want)
		}
	}
	for _, bad := range []string{"", " ", "a\nb", strings.Repeat("x", 65)} {
		_, err := FormatAmount(1, bad)
		wantCode(t, err, CodeInvalidOption)
	}
}

func TestCloseIsIdempotentAndLaterCallsFailClosed(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](5)}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := m.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if running, err := m.Running(); running || err != nil {
		t.Errorf("after Close: running=%v err=%v", running, err)
	}
	_, err := m.Sample()
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Sample after Close: %v", err)
	}
	wantCode(t, m.Start(), CodeClosed)
	wantCode(t, m.ObserveBaseline(1, 1), CodeClosed)
	wantCode(t, m.SetRuntimeLimit(1, true), CodeClosed)
	_, err = m.Analysis()
	wantCode(t, err, CodeClosed)
	_, err = m.Poll()
	wantCode(t, err, CodeClosed)
	_, err = m.Gauges()
	wantCode(t, err, CodeClosed)
	wantCode(t, m.Replay(nil), CodeClosed)
	_, err = m.Report()
	wantCode(t, err, CodeClosed)
	_, err = m.ReportText()
	wantCode(t, err, CodeClosed)
	_, err = m.BeginRequest("GET /")
	wantCode(t, err, CodeClosed)
}

func TestCloseRacesWithRequests(t *testing.T) {
	m := newMonitor(t, Config{})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r, err := m.BeginRequest("GET /x")
				if err != nil {
					wantCodeNoFatal(t, err, CodeClosed)
					continue
				}
				if _, err := r.End(); err != nil {
					wantCodeNoFatal(t, err, CodeClosed)
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func wantCodeNoFatal(t *testing.T, err error, code Code) {
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("got %v, want code %s", err, code)
	}
}

func TestSampleAndRuntimeInputs(t *testing.T) {
	m := newMonitor(t, Config{})
	snap, err := m.Sample()
	if err != nil || snap.Process.RSSBytes == 0 {
		t.Fatalf("Sample: %+v %v", snap, err)
	}
	if _, err := m.SampleAt(4102444800000); err != nil {
		t.Fatal(err)
	}
	_, err = m.SampleAt(1000)
	wantCode(t, err, CodeOutOfOrder)
	wantCode(t, m.SetRuntimeLimit(0, true), CodeInvalidOption)
	if err := m.SetRuntimeLimit(1<<40, true); err != nil {
		t.Fatal(err)
	}
	wantCode(t, m.ObserveBaseline(1_700_000_000_000, nan()), CodeNonFiniteValue)
	if err := m.ObserveBaseline(1_700_000_000_000, 5e7); err != nil {
		t.Fatal(err)
	}
	wantCode(t, m.ObserveBaseline(1_600_000_000_000, 5e7), CodeOutOfOrder)
	text, err := m.ReportText()
	if err != nil || !strings.Contains(text, "leaksense:") {
		t.Errorf("ReportText: %q %v", text, err)
	}
}

func nan() float64 { z := 0.0; return z / z }

// Six hours of a post-GC floor, flat for two and then rising, fed with injected times: the
// detector fires and the runtime watcher hands the leak event, with its report, to OnEvent.
func TestEventsReachTheCallback(t *testing.T) {
	var mu sync.Mutex
	var got []Event
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{MemoryLimit: Ptr[uint64](4e9)}, OnEvent: func(e Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}})
	rng := rand.New(rand.NewPCG(7, 7))
	t0 := int64(1_700_000_000_000)
	for step := int64(0); step < 180; step++ {
		growth := 0.0
		if step > 60 {
			growth = float64(step-60) * 80_000
		}
		if err := m.ObserveBaseline(t0+step*120_000, 5e7+growth+rng.Float64()*1e5); err != nil {
			t.Fatal(err)
		}
	}
	a, err := m.Analysis()
	if err != nil || a.Verdict != VerdictLeak || a.RatePerSec == nil {
		t.Fatalf("analysis: %+v %v", a, err)
	}
	m.watchOnce()
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0].Kind != EventKindLeak || got[0].Measure != "memory" || got[0].Report.State != AlertStateFiring {
		t.Errorf("no leak event with its report reached OnEvent: %+v", got)
	}
}

// The watcher reads /gc/heap/live:bytes after GC cycles and feeds it as the baseline.
func TestWatcherFeedsTheLiveHeapAfterGC(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](5)}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil { // a no-op while running
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		runtime.GC()
		watches, err := m.WatchesRuntimeBaseline()
		if err != nil {
			t.Fatal(err)
		}
		if watches {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher fed no live-heap baseline after GC cycles")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a, err := m.Analysis()
	if err != nil || a.Samples == 0 {
		t.Fatalf("analysis after the baseline: %+v %v", a, err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if running, _ := m.Running(); running {
		t.Error("still running after Stop")
	}
	if err := m.Start(); err != nil { // restart after a stop (fork)
		t.Fatal(err)
	}
}

// A monitor that is never closed is freed by its cleanup once unreachable, a started one too
// after Stop (a running watcher keeps its Monitor reachable, by design).
func TestUnreachableMonitorsAreFreed(t *testing.T) {
	var mu sync.Mutex
	freed := map[nativeMonitor]bool{}
	hook := func(h nativeMonitor) { mu.Lock(); freed[h] = true; mu.Unlock() }
	freeHook.Store(&hook)
	t.Cleanup(func() { freeHook.Store(nil) })
	var handles []nativeMonitor
	var live []*Monitor
	for i := 0; i < 8; i++ {
		m, err := NewMonitor(Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](5)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := m.Start(); err != nil {
				t.Fatal(err)
			}
			if err := m.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		handles = append(handles, m.h)
		live = append(live, m)
	}
	// Our handles are all live here, so an earlier free at the same address is not ours.
	mu.Lock()
	clear(freed)
	mu.Unlock()
	runtime.KeepAlive(live) // from here on nothing refers to them
	deadline := time.Now().Add(20 * time.Second)
	for {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		n := 0
		for _, h := range handles {
			if freed[h] {
				n++
			}
		}
		mu.Unlock()
		if n == len(handles) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d unreachable monitors freed", n, len(handles))
		}
	}
}

// A monitor may take none of Go's per-request measures: requests are counted, with no deltas.
func TestRequestsWithoutMeasures(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{Measures: &[]string{}, RSSPerRequest: Ptr(false)}})
	r, err := m.BeginRequest("GET /x")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.End()
	if err != nil || len(out.Deltas) != 0 || out.HasRSSDelta {
		t.Fatalf("outcome %+v %v", out, err)
	}
	rep, err := m.Report()
	if err != nil || len(rep.Routes) != 1 || rep.Routes[0].Requests != 1 || len(rep.Routes[0].Measures) != 0 {
		t.Errorf("report %+v %v", rep.Routes, err)
	}
}
