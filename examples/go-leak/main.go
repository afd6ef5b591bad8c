// Command go-leak runs a net/http service with a heap leak on one route and a goroutine leak on
// another, drives load against it, and prints leaksense's report once it names the leaking
// routes. Time is compressed through the options, so this takes about a minute, not hours.
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
// growth, 5 s "for", 5 s attribution blocks.
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

// leakStart is when the leaking routes start to get traffic: the floor is flat before.
const leakStart = 12 * time.Second

// run serves on 127.0.0.1, drives load until the report names both leaking routes or the
// timeout passes, and returns the last report.
func run(ctx context.Context, w io.Writer, timeout time.Duration) (leaksense.LeakReport, error) {
	var rep leaksense.LeakReport
	// Alerts are printed from the monitor's watcher goroutine, progress from this one.
	out := &lockedWriter{w: w}
	// Compressed time needs a post-GC floor point every second or so; a real service gets
	// thousands of GC cycles over the hours a leak takes, at any GOGC.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	m, err := leaksense.NewMonitor(fastConfig(func(e leaksense.Event) {
		fmt.Fprintf(out, "event: %s, %d suspect(s) named\n", e.Kind, len(e.Report.Suspects))
	}))
	if err != nil {
		return rep, err
	}
	defer m.Close()
	a := newApp()
	defer a.close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	srv := &http.Server{Handler: m.Middleware(a.handler())}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := m.Start(); err != nil {
		return rep, err
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); drive(ctx, "http://"+ln.Addr().String()) }()
	defer wg.Wait()
	defer cancel()

	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return rep, errors.New("the leaking routes were not named in time")
		case <-tick.C:
		}
		if rep, err = m.Report(); err != nil {
			return rep, err
		}
		if sec := int(time.Since(start).Seconds()); sec%5 == 0 {
			progress(out, sec, rep)
		}
		if rep.State == leaksense.AlertStateFiring && names(rep, RouteSessions) && names(rep, RouteStream) {
			fmt.Fprintf(out, "both leaking routes named after %.0f s\n", time.Since(start).Seconds())
			return rep, nil
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
	floor, requests := 0.0, uint64(0)
	if rep.Baseline != nil {
		floor = *rep.Baseline
	}
	for _, r := range rep.Routes {
		requests += r.Requests
	}
	suspects := make([]string, 0, len(rep.Suspects))
	for _, s := range rep.Suspects {
		suspects = append(suspects, fmt.Sprintf("%s (%.0f B/req)", s.Route, s.RetainedBytesPerRequest))
	}
	fmt.Fprintf(out, "%3d s: floor %.1f MB, %s/%s, %d requests, suspects: %s\n",
		sec, floor/1e6, rep.Verdict, rep.State, requests, strings.Join(suspects, ", "))
}

func names(rep leaksense.LeakReport, route string) bool {
	return slices.ContainsFunc(rep.Suspects, func(s leaksense.Suspect) bool { return s.Route == route })
}

// drive sends traffic whose mix changes every 2.5 s, so that the attribution can tell the
// routes apart (constant ratios between routes would make them indistinguishable).
func drive(ctx context.Context, base string) {
	client := &http.Client{Timeout: 5 * time.Second}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for id := 0; ctx.Err() == nil; {
		leaking := time.Since(start) > leakStart
		rates := map[string]int{"users": 40 + rng.IntN(80), "healthz": 10 + rng.IntN(30)}
		if leaking {
			rates["sessions"] = rng.IntN(30)
			rates["stream"] = rng.IntN(30)
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
	case "sessions":
		method, path = http.MethodPost, "/sessions"
	case "stream":
		path = fmt.Sprintf("/stream/%d", id)
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
	rep, err := run(context.Background(), os.Stdout, 4*time.Minute)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-leak:", err)
	}
	for _, s := range rep.Suspects {
		fmt.Printf("suspect %-18s retains %8.0f bytes per request (95%% CI %.0f..%.0f)\n",
			s.Route, s.RetainedBytesPerRequest, s.Interval[0], s.Interval[1])
	}
	if rep.Profile != nil {
		for _, s := range rep.Profile.Sites {
			fmt.Printf("growing site %s (%s:%d): %+.0f bytes, %.0f%% of the floor's growth\n",
				s.Function, s.File, s.Line, s.Bytes, s.Share*100)
		}
	}
	if err != nil {
		os.Exit(1)
	}
}
