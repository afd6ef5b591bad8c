package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	leaksense "github.com/leaksense/leaksense/bindings-go"
)

// The example as a test: under load, the report names the heap-leaking and the
// goroutine-leaking route, not the healthy ones, and the goroutine leak shows as about one
// extra goroutine per request on its route.
func TestReportNamesBothLeakingRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives load for about a minute")
	}
	var out bytes.Buffer
	rep, err := run(context.Background(), &out, 4*time.Minute)
	t.Log(out.String())
	if err != nil {
		model := "none"
		if rep.Model != nil {
			model = fmt.Sprintf("%+v", *rep.Model)
		}
		t.Fatalf("%v; suspects %+v; model %s; notes %q", err, rep.Suspects, model, rep.Notes)
	}
	if rep.Verdict != leaksense.VerdictLeak {
		t.Errorf("verdict %s", rep.Verdict)
	}
	checkTopGrowingSite(t, rep)
	for _, s := range rep.Suspects {
		if s.Route == RouteUsers || s.Route == RouteHealth {
			t.Errorf("healthy route %s named: %+v", s.Route, s)
		}
	}
	for _, r := range rep.Routes {
		if r.Route != RouteStream && r.Route != RouteUsers {
			continue
		}
		var goroutines *leaksense.MeasureSummary
		for i := range r.Measures {
			if r.Measures[i].Measure == "goroutines" {
				goroutines = &r.Measures[i]
			}
		}
		if goroutines == nil {
			t.Fatalf("%s has no goroutine measure", r.Route)
		}
		// Concurrent requests blur single deltas, not the mean over thousands of requests.
		leaky := r.Route == RouteStream
		if leaky && (goroutines.Mean < 0.5 || goroutines.Mean > 1.5) || !leaky && (goroutines.Mean < -0.5 || goroutines.Mean > 0.5) {
			t.Errorf("%s: mean goroutine delta %.2f per request", r.Route, goroutines.Mean)
		}
	}
}

// checkTopGrowingSite: the live-heap profile's top growing site is the line of app.go that
// appends a new session to the never-evicted cache.
func checkTopGrowingSite(t *testing.T, rep leaksense.LeakReport) {
	t.Helper()
	src, err := os.ReadFile("app.go")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, "the bug: sessions are never evicted") {
			want = i + 1
		}
	}
	if rep.Profile == nil || len(rep.Profile.Sites) == 0 {
		t.Fatalf("no growing allocation sites in the report: %+v", rep.Profile)
	}
	top := rep.Profile.Sites[0]
	t.Logf("top growing site: %+v", top)
	if filepath.Base(top.File) != "app.go" || int(top.Line) != want || !strings.Contains(top.Function, "handler") {
		t.Errorf("top growing site %s (%s:%d), want app.go:%d", top.Function, top.File, top.Line, want)
	}
}
