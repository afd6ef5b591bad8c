//go:build cgo

package leaksense

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Issue #18 for Go: programs that start processes while a monitor runs and goroutines are
// inside the core, and load through the middleware with memory flat. Go never forks its own
// image: syscall.ForkExec clones and execs at once, running no atfork handler and no leaksense
// code in the child, so children must be unaffected and the parent must carry on.

// rssBytes is the resident set of this process after a full collection that returns freed
// memory to the OS, so that only memory still held counts.
func rssBytes(t *testing.T) float64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	text, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("needs /proc (Linux)")
	}
	pages, err := strconv.ParseFloat(strings.Fields(string(text))[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * float64(os.Getpagesize())
}

// A helper process: the test binary re-executed by TestForkExecUsersAreUnaffected. It builds its
// own monitor and serves requests through the middleware; its exit code says whether it could.
func TestForkExecChildHelper(t *testing.T) {
	if os.Getenv("LEAKSENSE_FORKEXEC_CHILD") != "1" {
		t.Skip("run by TestForkExecUsersAreUnaffected")
	}
	m, err := NewMonitor(Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](10)}})
	if err != nil {
		os.Exit(3)
	}
	h := m.Middleware(testMux())
	for i := 0; i < 100; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	}
	rep, err := m.Report()
	if err != nil || routeCounts(rep)["GET /ok"] != 100 {
		os.Exit(4)
	}
	os.Exit(0)
}

func TestForkExecUsersAreUnaffected(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{IntervalMs: Ptr[uint64](5)}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	h := m.Middleware(testMux())
	var served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
				served.Add(1)
				if served.Load()%64 == 0 {
					_, _ = m.Report()
				}
			}
		}()
	}
	// Raw syscall.ForkExec of a small program, and the test binary itself as a leaksense user.
	for i := 0; i < 20; i++ {
		pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
		if err != nil {
			t.Fatal(err)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
			t.Fatalf("child %d: %v, status %d", pid, err, ws.ExitStatus())
		}
	}
	for i := 0; i < 5; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestForkExecChildHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LEAKSENSE_FORKEXEC_CHILD=1")
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child leaksense user: %v", err)
			}
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill() // by PID; a hang is the failure
			t.Fatal("child leaksense user hung")
		}
	}
	close(stop)
	wg.Wait()
	// The parent carries on: every request counted, the sampler still sampling.
	rep := report(t, m)
	if got := routeCounts(rep)["GET /ok"]; got != uint64(served.Load()) {
		t.Errorf("counted %d of %d requests", got, served.Load())
	}
	a, _ := m.Analysis()
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := m.Analysis()
		if err != nil {
			t.Fatal(err)
		}
		if b.Samples > a.Samples {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sampler stopped sampling")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heldBytes is what the load test compares: RSS after a full collection, or under -race, where
// the detector's shadow memory for each new goroutine and connection dominates RSS (160 MB over
// this test, 0.5 MB without it), the Go heap live after a collection. The native side's memory
// is then checked by the same test without -race (run-tests.sh's soak step) and the soak.
func heldBytes(t *testing.T) (float64, string) {
	if !raceEnabled {
		return rssBytes(t), "RSS"
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc), "Go heap"
}

// 100 goroutines through a real server on loopback, in waves (under -race in CI, and without
// it in the soak step): every request counted, and memory flat once warm.
func TestLoadThroughTheMiddlewareKeepsMemoryFlat(t *testing.T) {
	m := newMonitor(t, Config{})
	srv := serve(t, m.Middleware(testMux()))
	const workers, perWorker = 100, 50
	wave := func() {
		var wg sync.WaitGroup
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				c := srv.Client()
				for i := 0; i < perWorker; i++ {
					get(t, c, fmt.Sprintf("%s/users/%d", srv.URL, g*perWorker+i))
				}
			}(g)
		}
		wg.Wait()
	}
	for w := 0; w < 2; w++ {
		wave() // warm-up: connections, the core's tables
	}
	warm, what := heldBytes(t)
	const waves = 6
	for w := 0; w < waves; w++ {
		wave()
	}
	held, _ := heldBytes(t)
	grown := (held - warm) / (1 << 20)
	t.Logf("%s growth after warm-up: %.2f MB over %d requests", what, grown, waves*workers*perWorker)
	if got, want := routeCounts(report(t, m))["GET /users/{id}"], uint64((waves+2)*workers*perWorker); got != want {
		t.Errorf("counted %d requests, want %d", got, want)
	}
	// 30,000 requests after warm-up: a 500-byte-per-request leak would show as 15 MB; measured
	// 0.5 MB of RSS, and well under 1 MB of Go heap under -race (RELIABILITY.md).
	if grown > 8 {
		t.Errorf("%s grew %.1f MB", what, grown)
	}
}
