//go:build cgo

package leaksense

import (
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkStopTheWorld compares runtime.ReadMemStats with one runtime/metrics read of what this
// package collects, under a 1 GiB live heap and 10,000 parked goroutines. It reports the
// caller's time (ns/op) and the longest stalls a busy goroutine saw meanwhile: ReadMemStats
// stops the world, metrics.Read does not. It allocates 1 GiB, so it runs only with
// LEAKSENSE_BENCH_STW=1.
func BenchmarkStopTheWorld(b *testing.B) {
	if os.Getenv("LEAKSENSE_BENCH_STW") == "" {
		b.Skip("set LEAKSENSE_BENCH_STW=1 (allocates a 1 GiB live heap)")
	}
	heap := make([][]byte, 1<<20) // 1 GiB in 1 KiB objects, all live
	for i := range heap {
		heap[i] = make([]byte, 1<<10)
	}
	park := make(chan struct{})
	var parked sync.WaitGroup
	for i := 0; i < 10_000; i++ {
		parked.Add(1)
		go func() { parked.Done(); <-park }()
	}
	parked.Wait()
	b.Cleanup(func() { close(park); runtime.KeepAlive(heap) })
	runtime.GC()

	r := newRuntimeReading(allRuntimeMetrics)
	var ms runtime.MemStats
	cases := []struct {
		name string
		read func()
	}{
		{"ReadMemStats", func() { runtime.ReadMemStats(&ms) }},
		{"runtime_metrics", func() { metrics.Read(r.samples) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var inRead time.Duration
			gaps := watchStalls(func() {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					c.read()
					inRead += time.Since(t0)
					time.Sleep(100 * time.Microsecond) // let the victim run between reads
				}
				b.StopTimer()
			})
			// ns/op includes the sleep; read-ns is the caller's time in the read itself.
			b.ReportMetric(float64(inRead.Nanoseconds())/float64(b.N), "read-ns")
			slices.Sort(gaps)
			if len(gaps) > 0 {
				b.ReportMetric(float64(gaps[len(gaps)-1]), "max-stall-ns")
				b.ReportMetric(float64(gaps[len(gaps)*99/100]), "p99-stall-ns")
			}
		})
	}
}

// watchStalls runs work while a busy goroutine records the gaps between its clock reads; it
// returns the gaps longer than 2 µs (the stalls).
func watchStalls(work func()) []int64 {
	var stop atomic.Bool
	var gaps []int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := time.Now()
		for !stop.Load() {
			now := time.Now()
			if g := now.Sub(last).Nanoseconds(); g > 2000 {
				gaps = append(gaps, g)
			}
			last = now
		}
	}()
	work()
	stop.Store(true)
	<-done
	return gaps
}
