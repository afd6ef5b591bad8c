package leaksense

import (
	"math"
	"runtime/metrics"
)

// The runtime/metrics this package reads. metrics.Read never stops the world, unlike
// runtime.ReadMemStats, which is why nothing here calls ReadMemStats.
const (
	mAllocBytes   = "/gc/heap/allocs:bytes"
	mAllocObjects = "/gc/heap/allocs:objects"
	mGoroutines   = "/sched/goroutines:goroutines"
	mGCCycles     = "/gc/cycles/total:gc-cycles"
	mGCGoal       = "/gc/heap/goal:bytes"
	mGOGC         = "/gc/gogc:percent"
	mMemLimit     = "/gc/gomemlimit:bytes"
	mHeapLive     = "/gc/heap/live:bytes"
	mObjectsBytes = "/gc/heap/objects:bytes"
	mObjectsCount = "/gc/heap/objects:objects"
	mHeapObjects  = "/memory/classes/heap/objects:bytes"
	mHeapUnused   = "/memory/classes/heap/unused:bytes"
	mHeapFree     = "/memory/classes/heap/free:bytes"
	mHeapReleased = "/memory/classes/heap/released:bytes"
	mHeapStacks   = "/memory/classes/heap/stacks:bytes"
	mOSStacks     = "/memory/classes/os-stacks:bytes"
	mMemTotal     = "/memory/classes/total:bytes"
)

var allRuntimeMetrics = []string{
	mAllocBytes, mAllocObjects, mGoroutines, mGCCycles, mGCGoal, mGOGC, mMemLimit, mHeapLive,
	mObjectsBytes, mObjectsCount, mHeapObjects, mHeapUnused, mHeapFree, mHeapReleased,
	mHeapStacks, mOSStacks, mMemTotal,
}

// runtimeReading is one metrics.Read of the metrics it was made for, by name; its sample
// slice is reused by every read.
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

// memoryLimit is GOMEMLIMIT, or false when it is unset (math.MaxInt64).
func (r *runtimeReading) memoryLimit() (uint64, bool) {
	l := r.uint(mMemLimit)
	return l, l > 0 && l < math.MaxInt64
}
