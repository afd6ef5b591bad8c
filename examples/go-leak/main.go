// Command go-leak runs a net/http service with three leaks (heap on one route, goroutines on
// another, file descriptors on a third) beside healthy routes, one of which allocates and frees
// 256 KiB per request, drives load against it, and prints leaksense's reports once each leak has
// been alerted as what it is and its route named. Time is compressed through the options, so
// this takes about a minute, not hours.
//
// Build the library first, from the repository root: cargo build -p leaksense-ffi --release
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	leaksense "github.com/leaksense/leaksense/bindings-go"
)

// fastConfig compresses hours into seconds: 1 s detector buckets, 15 s warm-up and minimum
// growth, 5 s "for", 5 s attribution blocks. The counts' detectors take the same options.
func fastConfig(onEvent func(leaksense.Event)) leaksense.Config {
	return leaksense.Config{
		MonitorOptions: leaksense.MonitorOptions{
			IntervalMs: leaksense.Ptr[uint64](200),
			SlotMs:     leaksense.Ptr[int64](1000),
			Detector: &leaksense.DetectorOptions{
				BucketSecs: leaksense.Ptr(1.0), WarmupSecs: leaksense.Ptr(15.0),
				MinGrowthSecs: leaksense.Ptr(15.0), ForSecs: leaksense.Ptr(5.0),
			},
			Attribution: &leaksense.AttributionOptions{BlockMs: leaksense.Ptr[int64](5000)},
			// A live-heap snapshot every second, so one is near the (compressed) growth start.
			Profile: &leaksense.ProfileConfig{SnapshotEveryMs: leaksense.Ptr[int64](1000)},
		},
		OnEvent: onEvent,
	}
}

// leakStart is when the leaking routes start to get traffic: every series is flat before.
const leakStart = 12 * time.Second

// The leaks, by the series that must alert and the route it must name.
var leaks = map[string]string{
	"memory":                  RouteSessions,
	leaksense.CountGoroutines: RouteStream,
	leaksense.CountOpenFDs:    RouteFiles,
}

// healthy routes must never be named, by any series, in any event or report.
var healthy = []string{RouteUsers, RouteHealth, RouteWatch}

// result is what a run saw.
type result struct {
	// reports of each series when its leak was named (or at the end).
	reports map[string]leaksense.LeakReport
	// named: when each series' route was named (seconds after start) and by what.
	named map[string]string
	// alerted: each series whose alert fired, with the seconds after start.
	alerted map[string]float64
	// accused: every naming of a healthy route ("series: route (by what)").
	accused []string
}

// recorder keeps what the events and the reports said, from the watcher goroutine and the
// run loop.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	out   io.Writer
	res   result
}

func (r *recorder) look(series, by string, rep leaksense.LeakReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := time.Since(r.start).Seconds()
	for _, s := range rep.Suspects {
		if slices.Contains(healthy, s.Route) {
			r.res.accused = append(r.res.accused, fmt.Sprintf("%s: %s (%s at %.0f s)", series, s.Route, by, secs))
		}
	}
	if _, done := r.res.named[series]; done {
		return
	}
	r.res.reports[series] = rep
	if rep.Verdict == leaksense.VerdictLeak && len(rep.Suspects) > 0 && rep.Suspects[0].Route == leaks[series] {
		r.res.named[series] = fmt.Sprintf("%s at %.0f s", by, secs)
		amount, err := leaksense.FormatAmount(rep.Suspects[0].RetainedBytesPerRequest, rep.Unit)
		if err != nil {
			amount = err.Error()
		}
		fmt.Fprintf(r.out, "%s: %s named (%s) after %.0f s, %s per request\n", series,
			leaks[series], by, secs, amount)
	}
}

func (r *recorder) event(e leaksense.Event) {
	if e.Kind == leaksense.EventKindLeak {
		r.mu.Lock()
		if _, ok := r.res.alerted[e.Measure]; !ok {
			r.res.alerted[e.Measure] = time.Since(r.start).Seconds()
		}
		r.mu.Unlock()
	}
	fmt.Fprintf(r.out, "event: %s %s, %d suspect(s) named\n", e.Measure, e.Kind, len(e.Report.Suspects))
	r.look(e.Measure, string(e.Kind)+" event", e.Report)
}

// done reports whether every leak was alerted and named.
func (r *recorder) done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for series := range leaks {
		if _, ok := r.res.alerted[series]; !ok {
			return false
		}
		if _, ok := r.res.named[series]; !ok {
			return false
		}
	}
	return true
}

// run serves on 127.0.0.1, drives load until every leak has been alerted as its own series
// and its route named, or the timeout passes, and returns what it saw.
func run(ctx context.Context, w io.Writer, timeout time.Duration) (result, error) {
	rec := &recorder{start: time.Now(), out: &lockedWriter{w: w}, res: result{
		reports: map[string]leaksense.LeakReport{}, named: map[string]string{}, alerted: map[string]float64{},
	}}
	// Compressed time needs a post-GC floor point every second or so; a real service gets
	// thousands of GC cycles over the hours a leak takes, at any GOGC.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	m, err := leaksense.NewMonitor(fastConfig(rec.event))
	if err != nil {
		return rec.res, err
	}
	defer m.Close()
	a := newApp()
	defer a.close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rec.res, err
	}
	srv := &http.Server{Handler: m.Middleware(a.handler())}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := m.Start(); err != nil {
		return rec.res, err
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); drive(ctx, "http://"+ln.Addr().String()) }()
	defer wg.Wait()
	defer cancel()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return rec.res, fmt.Errorf("not every leak was alerted and named in time: alerted %v, named %v",
				rec.res.alerted, rec.res.named)
		case <-tick.C:
		}
		// What a user polling the reports during the alert would read.
		for series := range leaks {
			rep, err := m.ReportFor(series)
			if err != nil {
				return rec.res, err
			}
			rec.look(series, "report", rep)
		}
		if sec := int(time.Since(rec.start).Seconds()); sec%5 == 0 {
			rep, _ := m.Report()
			progress(rec.out, sec, rep)
		}
		if rec.done() {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if final, err := m.ReportText(); err == nil {
				fmt.Fprintf(rec.out, "\n%s", final)
			}
			return rec.res, nil
		}
	}
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func progress(out io.Writer, sec int, rep leaksense.LeakReport) {
	floor := 0.0
	if rep.Baseline != nil {
		floor = *rep.Baseline
	}
	counts := make([]string, 0, len(rep.Counts))
	for _, c := range rep.Counts {
		counts = append(counts, fmt.Sprintf("%s %.0f (%s)", c.Series, c.Value, c.State))
	}
	fmt.Fprintf(out, "%3d s: floor %.1f MB, memory %s/%s; %s\n",
		sec, floor/1e6, rep.Verdict, rep.State, strings.Join(counts, ", "))
}

// drive sends traffic whose mix changes every 2.5 s, so that the attribution can tell the
// routes apart (constant ratios between routes would make them indistinguishable).
func drive(ctx context.Context, base string) {
	client := &http.Client{Timeout: 5 * time.Second}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for id := 0; ctx.Err() == nil; {
		rates := map[string]int{"users": 40 + rng.IntN(80), "healthz": 10 + rng.IntN(30), "watch": 5 + rng.IntN(25)}
		if time.Since(start) > leakStart {
			rates["sessions"] = rng.IntN(30)
			rates["stream"] = rng.IntN(30)
			rates["files"] = rng.IntN(30)
		}
		var wg sync.WaitGroup
		for kind, perSec := range rates {
			n := perSec * 5 / 2
			wg.Add(1)
			go func(kind string, n int, seed uint64) {
				defer wg.Done()
				gap := 2500 * time.Millisecond / time.Duration(max(n, 1))
				for i := 0; i < n && ctx.Err() == nil; i++ {
					send(ctx, client, base, kind, int(seed)+i)
					time.Sleep(gap)
				}
			}(kind, n, uint64(id))
		}
		wg.Wait()
		id += 1000
	}
}

func send(ctx context.Context, c *http.Client, base, kind string, id int) {
	method, path := http.MethodGet, ""
	switch kind {
	case "users":
		path = fmt.Sprintf("/users/%d", id)
	case "healthz":
		path = "/healthz"
	case "watch":
		path = fmt.Sprintf("/watch/%d", id)
	case "sessions":
		method, path = http.MethodPost, "/sessions"
	case "stream":
		path = fmt.Sprintf("/stream/%d", id)
	case "files":
		path = fmt.Sprintf("/files/%d", id)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(""))
	if err != nil {
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func main() {
	res, err := run(context.Background(), os.Stdout, 4*time.Minute)
	for _, a := range res.accused {
		fmt.Println("healthy route named:", a)
	}
	if err == nil && len(res.accused) > 0 {
		err = errors.New("a healthy route was named")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-leak:", err)
	}
	// The live-heap profile of the report that named the heap leak: where its growth was allocated.
	if rep := res.reports["memory"]; rep.Profile != nil {
		for _, s := range rep.Profile.Sites {
			fmt.Printf("growing site %s (%s:%d): %+.0f bytes, %.0f%% of the floor's growth\n",
				s.Function, s.File, s.Line, s.Bytes, s.Share*100)
		}
	}
	if err != nil {
		os.Exit(1)
	}
}
