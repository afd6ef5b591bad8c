package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	leaksense "github.com/leaksense/leaksense/bindings-go"
)

// The example as a test: under load, each leak is alerted as its own series (memory,
// goroutines, open file descriptors) and its route named, and no healthy route (the
// garbage-heavy one, the one whose goroutines exit with their request) is named by any
// series, in any event or in any report polled every second while it runs.
func TestEveryLeakIsAlertedAsItselfWithItsRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("drives load for about a minute")
	}
	var out bytes.Buffer
	res, err := run(context.Background(), &out, 4*time.Minute)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for series, route := range leaks {
		if _, ok := res.alerted[series]; !ok {
			t.Errorf("%s never alerted", series)
		}
		if by, ok := res.named[series]; !ok {
			t.Errorf("%s: %s never named", series, route)
		} else {
			t.Logf("%s: %s named by the %s (alert after %.0f s)", series, route, by, res.alerted[series])
		}
	}
	for _, a := range res.accused {
		t.Errorf("healthy route named: %s", a)
	}
	// Amounts per request in the core's formatter: IEC bytes, counts with a plural unit.
	for _, line := range []string{
		`memory: POST /sessions named .*, [\d.]+ (B|KiB|MiB) per request`,
		`goroutines: GET /stream/\{id\} named .*, [\d.]+ goroutines? per request`,
		`open_fds: GET /files/\{id\} named .*, [\d.]+ file descriptors? per request`,
	} {
		if !regexp.MustCompile(line).MatchString(out.String()) {
			t.Errorf("no line matches %q", line)
		}
	}
	checkTopGrowingSite(t, res.reports["memory"])
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
