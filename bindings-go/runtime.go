package leaksense

import (
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
)

// The runtime/metrics this package reads. metrics.Read never stops the world, unlike
// runtime.ReadMemStats, which is why nothing here calls ReadMemStats.
const (
	mAllocBytes    = "/gc/heap/allocs:bytes"
	mAllocObjects  = "/gc/heap/allocs:objects"
	mGoroutines    = "/sched/goroutines:goroutines"
	mGCCycles      = "/gc/cycles/total:gc-cycles"
	mGCGoal        = "/gc/heap/goal:bytes"
	mGOGC          = "/gc/gogc:percent"
	mMemLimit      = "/gc/gomemlimit:bytes"
	mHeapLive      = "/gc/heap/live:bytes"
	mObjectsBytes  = "/gc/heap/objects:bytes"
	mObjectsCount  = "/gc/heap/objects:objects"
	mHeapObjects   = "/memory/classes/heap/objects:bytes"
	mHeapUnused    = "/memory/classes/heap/unused:bytes"
	mHeapFree      = "/memory/classes/heap/free:bytes"
	mHeapReleased  = "/memory/classes/heap/released:bytes"
	mHeapStacks    = "/memory/classes/heap/stacks:bytes"
	mOSStacks      = "/memory/classes/os-stacks:bytes"
	mMemTotal      = "/memory/classes/total:bytes"
	measureHeap    = "heap_allocated"
	measureGorouts = "goroutines"
)

var allRuntimeMetrics = []string{
	mAllocBytes, mAllocObjects, mGoroutines, mGCCycles, mGCGoal, mGOGC, mMemLimit, mHeapLive,
	mObjectsBytes, mObjectsCount, mHeapObjects, mHeapUnused, mHeapFree, mHeapReleased,
	mHeapStacks, mOSStacks, mMemTotal,
}

// runtimeReading is one metrics.Read of every metric above, by name.
type runtimeReading struct {
	samples []metrics.Sample
	index   map[string]int
}

func newRuntimeReading(names []string) *runtimeReading {
	r := &runtimeReading{samples: make([]metrics.Sample, len(names)), index: make(map[string]int, len(names))}
	for i, n := range names {
		r.samples[i].Name = n
		r.index[n] = i
	}
	return r
}

func (r *runtimeReading) read() { metrics.Read(r.samples) }

// uint returns a metric as uint64; 0 when the runtime does not support it.
func (r *runtimeReading) uint(name string) uint64 {
	v := r.samples[r.index[name]].Value
	switch v.Kind() {
	case metrics.KindUint64:
		return v.Uint64()
	case metrics.KindFloat64:
		return uint64(v.Float64())
	default:
		return 0
	}
}

// int clamps a metric into int64 for OpenTelemetry's int64 instruments.
func (r *runtimeReading) int(name string) int64 {
	v := r.uint(name)
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// hotSamples recycles the one-sample buffers of the request hot path: a buffer on the stack
// would escape through metrics.Read and cost an allocation per request.
var hotSamples = sync.Pool{New: func() any { return &[1]metrics.Sample{{Name: mAllocBytes}} }}

// hotSample reads the two per-request measures, in the order of the monitor's "measures"
// option: heap bytes allocated so far (/gc/heap/allocs:bytes) and the goroutine count
// (runtime.NumGoroutine, the same value as /sched/goroutines:goroutines at a fraction of the
// cost).
func hotSample(out *[2]float64) {
	s := hotSamples.Get().(*[1]metrics.Sample)
	metrics.Read(s[:])
	out[0] = float64(s[0].Value.Uint64())
	hotSamples.Put(s)
	out[1] = float64(runtime.NumGoroutine())
}

// memoryLimit is GOMEMLIMIT, or false when it is unset (math.MaxInt64).
func (r *runtimeReading) memoryLimit() (uint64, bool) {
	l := r.uint(mMemLimit)
	return l, l > 0 && l < math.MaxInt64
}
