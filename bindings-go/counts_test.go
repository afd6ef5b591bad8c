//go:build cgo

package leaksense

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// countLine is the memory report's line for series, if it has one yet.
func countLine(t *testing.T, m *Monitor, series string) (CountLine, bool) {
	t.Helper()
	for _, l := range report(t, m).Counts {
		if l.Series == series {
			return l, true
		}
	}
	return CountLine{}, false
}

// While the monitor runs, the watcher feeds the goroutine count and the core counts the open
// descriptors; both show as lines of the memory report, and as metrics.
func TestTheWatcherFeedsGoroutinesAndTheCoreCountsDescriptors(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](5)}})
	if _, ok := countLine(t, m, CountGoroutines); ok {
		t.Fatal("a goroutine line before the watcher ran")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() { defer wg.Done(); <-stop }()
	}
	defer wg.Wait()
	defer close(stop)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, okG := countLine(t, m, CountGoroutines)
		_, okF := countLine(t, m, CountOpenFDs)
		if okG && g.Value >= 200 && okF {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts never read: %+v", report(t, m).Counts)
		}
		time.Sleep(5 * time.Millisecond)
	}
	fds, _ := countLine(t, m, CountOpenFDs)
	if fds.Unit != "{file_descriptor}" || fds.Value < 3 || fds.Limit == nil || *fds.Limit < fds.Value {
		t.Errorf("open_fds line: %+v", fds)
	}
	own, err := m.ReportFor(CountGoroutines)
	if err != nil || own.Series != CountGoroutines || own.Unit != "{goroutine}" {
		t.Errorf("the goroutines report: %+v %v", own, err)
	}
	if text, err := m.ReportTextFor(CountOpenFDs); err != nil || !strings.Contains(text, "series         open_fds") {
		t.Errorf("the open_fds report text: %q %v", text, err)
	}

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if _, err := m.RegisterMetrics(mp); err != nil {
		t.Fatal(err)
	}
	got := collect(t, reader)
	if p := int64Points(t, got["process.unix.file_descriptor.count"]); len(p) != 1 || p[0].Value < 3 {
		t.Errorf("process.unix.file_descriptor.count: %+v", p)
	}
}

// Without "goroutines" among the counts the watcher feeds none, and the descriptor metric is
// not registered without "open_fds".
func TestCountsCanBeTurnedOff(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](5), Counts: &[]string{}}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	m.watchOnce()
	if c := report(t, m).Counts; len(c) != 0 {
		t.Errorf("counts read although none is watched: %+v", c)
	}
	wantCode(t, m.ObserveCount(CountGoroutines, 1, 1), CodeInvalidOption)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if _, err := m.RegisterMetrics(mp); err != nil {
		t.Fatal(err)
	}
	if _, ok := collect(t, reader)["process.unix.file_descriptor.count"]; ok {
		t.Error("a descriptor metric without the open_fds count")
	}
}

func TestCountErrors(t *testing.T) {
	m := newMonitor(t, Config{})
	if err := m.ObserveCount(CountGoroutines, 2_000, 10); err != nil {
		t.Fatal(err)
	}
	wantCode(t, m.ObserveCount("threads", 3_000, 1), CodeInvalidOption)
	wantCode(t, m.ObserveCount(CountGoroutines, 3_000, nan()), CodeNonFiniteValue)
	wantCode(t, m.ObserveCount(CountGoroutines, 1_000, 1), CodeOutOfOrder)
	_, err := m.ReportFor("sockets")
	wantCode(t, err, CodeInvalidOption)
	_, err = m.ReportTextFor("")
	wantCode(t, err, CodeInvalidOption)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wantCode(t, m.ObserveCount(CountGoroutines, 9_000, 1), CodeClosed)
	_, err = m.ReportFor(CountGoroutines)
	wantCode(t, err, CodeClosed)
}

// goroutineLeakSteps is a service in compressed time whose memory is flat while /stream leaves
// one goroutine per request from 30 s on, /poll holds one for each running long poll (2 s) and
// /ok none by the reading; the route mix changes every 10 s.
func goroutineLeakSteps() []ReplayStep {
	rng := rand.New(rand.NewPCG(5, 5))
	t0 := int64(1_700_000_000_000)
	var leaked float64
	var polls []float64
	rates := [3]uint64{3, 2, 2}
	steps := make([]ReplayStep, 0, 600)
	for i := int64(0); i < 600; i++ {
		t := float64(i) / 4
		if i%40 == 0 {
			rates = [3]uint64{1 + rng.Uint64N(7), rng.Uint64N(4), 1 + rng.Uint64N(3)}
		}
		polls = slices.DeleteFunc(polls, func(end float64) bool { return end <= t })
		for range rates[2] {
			polls = append(polls, t+2)
		}
		requests := map[string]uint64{"/ok": rates[0], "/poll": rates[2]}
		if t >= 30 {
			requests["/stream"] = rates[1]
			leaked += float64(rates[1])
		}
		steps = append(steps, ReplayStep{
			TsMs:     t0 + i*250,
			Requests: &requests,
			Baseline: Ptr(5e7 + rng.Float64()*1e5),
			Counts:   &map[string]float64{CountGoroutines: 20 + leaked + float64(len(polls)) + float64(rng.IntN(3))},
		})
	}
	return steps
}

// A goroutine leak reaches OnEvent as its own events, measure "goroutines", and its suspects
// event names the route with about one goroutine per request.
func TestAGoroutineLeakAlertsAsGoroutinesAndNamesItsRoute(t *testing.T) {
	var got []Event
	m := newMonitor(t, Config{
		MonitorOptions: MonitorOptions{
			SlotMs:      Ptr[int64](1000),
			MemoryLimit: Ptr[uint64](4e9),
			Detector: &DetectorOptions{BucketSecs: Ptr(1.0), WarmupSecs: Ptr(10.0),
				MinGrowthSecs: Ptr(10.0), ForSecs: Ptr(3.0)},
			Attribution: &AttributionOptions{BlockMs: Ptr[int64](5000)},
		},
		OnEvent: func(e Event) { got = append(got, e) },
	})
	for _, s := range goroutineLeakSteps() {
		if err := m.Replay([]ReplayStep{s}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	var suspects *Event
	for i, e := range got {
		if e.Measure != CountGoroutines {
			t.Errorf("event about %s: memory is flat", e.Measure)
		}
		if e.Kind == EventKindSuspects && suspects == nil {
			suspects = &got[i]
		}
	}
	if len(got) == 0 || got[0].Kind != EventKindLeak {
		t.Fatalf("no leak event first: %+v", got)
	}
	if suspects == nil {
		t.Fatalf("no suspects event: %d events", len(got))
	}
	s := suspects.Report.Suspects
	if len(s) != 1 || s[0].Route != "/stream" || s[0].RetainedBytesPerRequest < 0.85 || s[0].RetainedBytesPerRequest > 1.15 {
		t.Errorf("suspects %+v\n%s", s, suspects.ReportText)
	}
	line, ok := countLine(t, m, CountGoroutines)
	if !ok || line.Verdict != VerdictLeak || len(line.Suspects) != 1 || line.Suspects[0].Route != "/stream" {
		t.Errorf("the memory report's goroutines line: %+v", line)
	}
}
