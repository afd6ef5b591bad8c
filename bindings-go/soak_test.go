//go:build cgo && !race

package leaksense

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

// The soak (issue #18): a few million requests through the middleware, in process, and the
// process's RSS after a full collection stays flat. Not under -race (its shadow memory would
// dominate); run-tests.sh runs it as its own step. A control shows that the same measurement
// sees a leak of about 100 bytes a request.
func TestSoakRSSStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak")
	}
	m := newMonitor(t, Config{})
	h := m.Middleware(testMux())
	paths := make([]string, 20)
	for i := range paths {
		paths[i] = fmt.Sprintf("/users/%d", i)
	}
	run := func(n int, kept *[][]byte) {
		for i := 0; i < n; i++ {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", paths[i%len(paths)], nil))
			if kept != nil {
				*kept = append(*kept, make([]byte, 100))
			}
		}
	}
	run(200_000, nil) // warm-up
	warm := rssBytes(t)
	const n = 3_000_000
	run(n, nil)
	grown := (rssBytes(t) - warm) / (1 << 20)
	t.Logf("RSS growth after warm-up: %.2f MB over %d requests", grown, n)
	if got := routeCounts(report(t, m))["GET /users/{id}"]; got != 200_000+n {
		t.Errorf("counted %d requests, want %d", got, 200_000+n)
	}
	// Bound: 16 MB over 3M requests (about 5 bytes a request); measured 0-2 MB (RELIABILITY.md).
	if grown > 16 {
		t.Errorf("RSS grew %.1f MB over %d requests", grown, n)
	}
	var kept [][]byte
	before := rssBytes(t)
	run(300_000, &kept)
	leaked := (rssBytes(t) - before) / (1 << 20)
	t.Logf("control: %.1f MB for 300,000 requests keeping 100 bytes each", leaked)
	if leaked <= 16 || len(kept) != 300_000 {
		t.Errorf("the control leak showed only %.1f MB", leaked)
	}
}
