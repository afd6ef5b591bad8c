package leaksense

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName is the OpenTelemetry scope of the instruments.
const instrumentationName = "github.com/leaksense/leaksense/bindings-go"

// goValue reads one catalog metric from a runtime/metrics reading. Keys are the core
// catalog's stable keys; names, units and descriptions come from the catalog itself.
var goValues = map[string]func(r *runtimeReading) int64{
	"go.memory.limit": func(r *runtimeReading) int64 {
		if l, ok := r.memoryLimit(); ok {
			return int64(l)
		}
		return -1 // no limit: not observed
	},
	"go.memory.allocated":   func(r *runtimeReading) int64 { return r.int(mAllocBytes) },
	"go.memory.allocations": func(r *runtimeReading) int64 { return r.int(mAllocObjects) },
	"go.memory.gc.goal":     func(r *runtimeReading) int64 { return r.int(mGCGoal) },
	"go.goroutine.count":    func(r *runtimeReading) int64 { return r.int(mGoroutines) },
	"go.config.gogc":        func(r *runtimeReading) int64 { return r.int(mGOGC) },
	"go.heap.objects_bytes": func(r *runtimeReading) int64 { return r.int(mObjectsBytes) },
	"go.heap.objects_count": func(r *runtimeReading) int64 { return r.int(mObjectsCount) },
	"go.heap.in_use":        func(r *runtimeReading) int64 { return r.int(mHeapObjects) + r.int(mHeapUnused) },
	"go.heap.live":          func(r *runtimeReading) int64 { return r.int(mHeapLive) },
	"go.heap.free":          func(r *runtimeReading) int64 { return r.int(mHeapFree) },
	"go.heap.released":      func(r *runtimeReading) int64 { return r.int(mHeapReleased) },
	"go.gc.cycles":          func(r *runtimeReading) int64 { return r.int(mGCCycles) },
}

// The process and container metrics, read from one core memory reading per collection (a
// statm pread, getrusage and one pread per cgroup file, passed back as a struct: no JSON).
var memoryKeys = map[string]bool{
	"process.memory.usage":       true,
	"process.memory.virtual":     true,
	"process.memory.peak":        true,
	"container.memory.usage":     true,
	"container.memory.oom_kills": true,
}

// The counts the core reads itself, by catalog key: their instrument observes the core's latest
// reading (what the count detector saw), read without JSON once per collection. The goroutine
// count's instrument reads runtime/metrics like the other Go metrics.
var coreCounts = map[string]string{"process.open_fds": CountOpenFDs}

// RegisterMetrics registers the Go runtime metrics (from runtime/metrics, including the
// semconv opt-in ones that the contrib runtime instrumentation leaves out, and the live heap),
// process and container memory, the open file descriptors (when "open_fds" is a watched
// count), and the detector's gauges (the core's: baseline, growth rate, limit, time to limit,
// alert state) on mp, or on otel.GetMeterProvider() when mp is nil.
// Names, units and descriptions come from the core's catalog. One collection makes one
// metrics.Read; unregister with the returned Registration.
func (m *Monitor) RegisterMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	return m.registerMetrics(mp, nil)
}

// registerMetrics registers the catalog's metrics whose key keep accepts (all when nil).
func (m *Monitor) registerMetrics(mp metric.MeterProvider, keep func(key string) bool) (metric.Registration, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	cat, err := nativeCatalog("go", string(*m.config.Naming))
	if err != nil {
		return nil, err
	}
	gaugeIndex := map[string]int{}
	for i, k := range nativeGaugeKeys() {
		gaugeIndex[k] = i
	}
	meter := mp.Meter(instrumentationName)
	c := &collection{m: m, reading: newRuntimeReading(allRuntimeMetrics), gaugeIndex: gaugeIndex}
	var instruments []metric.Observable
	for _, cm := range cat {
		if keep != nil && !keep(cm.Key) {
			continue
		}
		inst, err := c.add(meter, cm)
		if err != nil {
			return nil, err
		}
		if inst != nil {
			instruments = append(instruments, inst)
		}
	}
	return meter.RegisterCallback(c.observe, instruments...)
}

type int64Obs struct {
	inst metric.Int64Observable
	get  func(*runtimeReading) int64
}

type float64Obs struct {
	inst  metric.Float64Observable
	index int // in the core's gauges
}

type memoryObs struct {
	inst metric.Int64Observable
	key  string
}

type countObs struct {
	inst   metric.Int64Observable
	series string
}

type collection struct {
	m          *Monitor
	mu         sync.Mutex // one reading buffer, shared by concurrent collections
	reading    *runtimeReading
	ints       []int64Obs
	used       metric.Int64Observable // go.memory.used, split by go.memory.type
	usedStack  metric.ObserveOption   // its two attribute sets, built once
	usedOther  metric.ObserveOption
	floats     []float64Obs
	gaugeIndex map[string]int
	mems       []memoryObs
	counts     []countObs
}

func (c *collection) add(meter metric.Meter, cm CatalogMetric) (metric.Observable, error) {
	unit, desc := metric.WithUnit(cm.Unit), metric.WithDescription(cm.Description)
	if i, ok := c.gaugeIndex[cm.Key]; ok {
		g, err := meter.Float64ObservableGauge(cm.Name, unit, desc)
		if err != nil {
			return nil, err
		}
		c.floats = append(c.floats, float64Obs{g, i})
		return g, nil
	}
	get, ok := goValues[cm.Key]
	mem := memoryKeys[cm.Key]
	series, count := coreCounts[cm.Key]
	count = count && slices.Contains(*c.m.config.Counts, series)
	if !ok && !mem && !count && cm.Key != "go.memory.used" {
		return nil, nil // a catalog row without a source in Go (or a count not watched)
	}
	var inst metric.Int64Observable
	var err error
	switch cm.Kind {
	case ObservableCounter:
		inst, err = meter.Int64ObservableCounter(cm.Name, unit, desc)
	case ObservableUpDownCounter:
		inst, err = meter.Int64ObservableUpDownCounter(cm.Name, unit, desc)
	case ObservableGauge:
		inst, err = meter.Int64ObservableGauge(cm.Name, unit, desc)
	default:
		return nil, fmt.Errorf("leaksense: catalog metric %s has kind %d, not observable", cm.Key, cm.Kind)
	}
	if err != nil {
		return nil, err
	}
	if cm.Key == "go.memory.used" {
		if len(cm.Attributes) > 0 {
			c.used = inst
			key := cm.Attributes[0]
			c.usedStack = metric.WithAttributeSet(attribute.NewSet(attribute.String(key, "stack")))
			c.usedOther = metric.WithAttributeSet(attribute.NewSet(attribute.String(key, "other")))
		}
		return inst, nil
	}
	if mem {
		c.mems = append(c.mems, memoryObs{inst, cm.Key})
		return inst, nil
	}
	if count {
		c.counts = append(c.counts, countObs{inst, series})
		return inst, nil
	}
	c.ints = append(c.ints, int64Obs{inst, get})
	return inst, nil
}

func (c *collection) observe(_ context.Context, o metric.Observer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reading
	r.read()
	for _, i := range c.ints {
		if v := i.get(r); v >= 0 {
			o.ObserveInt64(i.inst, v)
		}
	}
	if c.used != nil {
		// As the semconv defines it: everything mapped minus released, split into stacks
		// and the rest.
		stack := r.int(mHeapStacks) + r.int(mOSStacks)
		other := r.int(mMemTotal) - r.int(mHeapReleased) - stack
		o.ObserveInt64(c.used, stack, c.usedStack)
		o.ObserveInt64(c.used, other, c.usedOther)
	}
	if len(c.mems) > 0 {
		var mem nativeMemory
		err := nativeMemoryRead(c.m.h, &mem)
		runtime.KeepAlive(c.m)
		if err == nil { // a closed monitor has no reading
			for _, i := range c.mems {
				if v, ok := memoryValue(&mem, i.key); ok && v <= math.MaxInt64 {
					o.ObserveInt64(i.inst, int64(v))
				}
			}
		}
	}
	for _, i := range c.counts {
		v, ok, err := nativeCountValue(c.m.h, i.series)
		runtime.KeepAlive(c.m)
		if err == nil && ok { // nothing before the sampler's first count, or once closed
			o.ObserveInt64(i.inst, int64(v))
		}
	}
	if len(c.floats) > 0 {
		var g gaugeValues
		err := nativeGaugeValues(c.m.h, &g)
		runtime.KeepAlive(c.m)
		if err != nil {
			return nil // a closed monitor has no gauges to report
		}
		for _, f := range c.floats {
			if v, ok := gaugeValue(&g, f.index); ok {
				o.ObserveFloat64(f.inst, v)
			}
		}
	}
	return nil
}
