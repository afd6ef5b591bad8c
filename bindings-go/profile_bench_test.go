//go:build cgo

package leaksense

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// go test -run '^$' -bench Profile -benchtime 2s -count 5   (BENCHMARKS.md, "Live-heap profile")
//
// Go's heap profiler is the runtime's own (on in every Go program at MemProfileRate, 512 KiB);
// what leaksense adds is reading runtime.MemProfile once per watch pass (15 s by default). The
// pairs below compare, in one run: the allocation-heavy request with the runtime's profiling
// off, at its default, and at its default while leaksense reads the profile every second (15x
// more often than by default); and one leaksense read against one pprof.WriteHeapProfile.

type row struct {
	ID   int      `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// allocHeavy is the allocation-heavy request: 200 rows built and serialised.
func allocHeavy(w io.Writer) {
	rows := make([]row, 0, 200)
	for i := 0; i < 200; i++ {
		rows = append(rows, row{ID: i, Name: "item", Tags: []string{"a", "b"}})
	}
	_ = json.NewEncoder(w).Encode(rows)
}

func benchAllocHeavy(b *testing.B, rate int, readEvery time.Duration) {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = rate
	defer func() { runtime.MemProfileRate = old }()
	m := newMonitor(b, Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { allocHeavy(w) })
	h := m.Middleware(mux)
	stop := make(chan struct{})
	if readEvery > 0 {
		go func() {
			t := time.NewTicker(readEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					_, _ = m.ProfileHeap()
				}
			}
		}()
	}
	defer close(stop)
	b.ReportAllocs()
	b.ResetTimer()
	serveLoop(h)(b)
}

func BenchmarkProfileAllocHeavyRuntimeProfilingOff(b *testing.B) { benchAllocHeavy(b, 0, 0) }
func BenchmarkProfileAllocHeavyRuntimeDefault(b *testing.B)      { benchAllocHeavy(b, 512<<10, 0) }
func BenchmarkProfileAllocHeavyLeaksenseReads1s(b *testing.B) {
	benchAllocHeavy(b, 512<<10, time.Second)
}

// profileHeap fills the heap profile with many distinct stacks (recursion depth x 16 sites).
var profileHeapKept [][]byte

//go:noinline
func deepAlloc(depth, site int) {
	if depth > 0 {
		deepAlloc(depth-1, site)
		return
	}
	switch site % 4 {
	case 0:
		profileHeapKept = append(profileHeapKept, make([]byte, 64<<10))
	case 1:
		profileHeapKept = append(profileHeapKept, make([]byte, 128<<10))
	case 2:
		profileHeapKept = append(profileHeapKept, make([]byte, 256<<10))
	default:
		profileHeapKept = append(profileHeapKept, make([]byte, 512<<10))
	}
}

var fillOnce sync.Once

// fillHeapProfile fills the heap profile once per process, so every benchmark reads the same.
func fillHeapProfile(b *testing.B) int {
	fillOnce.Do(fill)
	n, _ := runtime.MemProfile(nil, false)
	return n
}

func fill() {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 4096 // every such allocation is recorded: many stacks
	for d := 0; d < 64; d++ {
		for s := 0; s < 16; s++ {
			deepAlloc(d, s)
		}
	}
	runtime.MemProfileRate = old
	runtime.GC()
	runtime.GC()
}

// One leaksense read (MemProfile, symbolize through the PC cache, hand to the core), the pause
// a watch pass adds, against one pprof.WriteHeapProfile of the same heap.
func BenchmarkProfileReadLeaksense(b *testing.B) {
	records := fillHeapProfile(b)
	m := newMonitor(b, Config{})
	if _, err := m.ProfileHeap(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.ProfileHeap(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records), "records")
}

// The part of a read that holds the runtime's profile lock (and so can delay the program's
// sampled allocations): the runtime.MemProfile copy alone.
func BenchmarkProfileReadMemProfileCopy(b *testing.B) {
	records := fillHeapProfile(b)
	buf := make([]runtime.MemProfileRecord, records+64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.MemProfile(buf, false)
	}
	b.ReportMetric(float64(records), "records")
}

func BenchmarkProfileReadWriteHeapProfile(b *testing.B) {
	records := fillHeapProfile(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pprof.WriteHeapProfile(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records), "records")
}
