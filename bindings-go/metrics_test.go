//go:build cgo

package leaksense

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// collect returns every metric the reader sees, by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != instrumentationName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func int64Points(t *testing.T, m metricdata.Metrics) []metricdata.DataPoint[int64] {
	t.Helper()
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		return d.DataPoints
	case metricdata.Gauge[int64]:
		return d.DataPoints
	}
	t.Fatalf("%s: not an int64 metric: %T", m.Name, m.Data)
	return nil
}

func TestMetricsOnTheSDKReaderUseCatalogNamesAndUnits(t *testing.T) {
	prev := debug.SetMemoryLimit(8 << 30)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{MemoryLimit: Ptr[uint64](16 << 30)}})
	if err := m.ObserveBaseline(1_700_000_000_000, 5e7); err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	reg, err := m.RegisterMetrics(mp)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC() // the live heap is known after the first cycle
	got := collect(t, reader)

	cat, err := Catalog("semconv")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]CatalogMetric{}
	for _, c := range cat {
		byKey[c.Key] = c
	}
	// The core's detector gauges, the alert state among them.
	keys := []string{"memory.limit", "detector.state"}
	for k := range goValues {
		keys = append(keys, k)
	}
	keys = append(keys, "go.memory.used", "process.memory.usage", "process.memory.virtual", "process.memory.peak")
	for _, key := range keys {
		c, ok := byKey[key]
		if !ok {
			t.Errorf("catalog has no %s", key)
			continue
		}
		g, ok := got[c.Name]
		if !ok {
			t.Errorf("%s (%s) not collected", c.Name, key)
			continue
		}
		if g.Unit != c.Unit || g.Description != c.Description {
			t.Errorf("%s: unit %q description %q, catalog %q %q", c.Name, g.Unit, g.Description, c.Unit, c.Description)
		}
	}
	rss := int64Points(t, got["process.memory.usage"])
	if len(rss) != 1 || rss[0].Value < 1<<20 {
		t.Errorf("process.memory.usage: %+v", rss)
	}
	// The peak (VmHWM) is read just after the RSS in the same snapshot; the kernel updates the
	// high-water mark lazily, so allow slack rather than demand peak >= RSS.
	if p := int64Points(t, got[byKey["process.memory.peak"].Name]); len(p) != 1 || len(rss) != 1 || p[0].Value < rss[0].Value/2 {
		t.Errorf("process.memory.peak: %+v (rss %+v)", p, rss)
	}
	// Spot values: real goroutines, the limit set above, both go.memory.type series.
	if p := int64Points(t, got["go.goroutine.count"]); len(p) != 1 || p[0].Value < 2 {
		t.Errorf("go.goroutine.count: %+v", p)
	}
	if p := int64Points(t, got["go.memory.limit"]); len(p) != 1 || p[0].Value != 8<<30 {
		t.Errorf("go.memory.limit: %+v", p)
	}
	if p := int64Points(t, got["leaksense.go.memory.heap.live"]); len(p) != 1 || p[0].Value <= 0 {
		t.Errorf("live heap: %+v", p)
	}
	used := int64Points(t, got["go.memory.used"])
	types := map[string]int64{}
	for _, p := range used {
		v, _ := p.Attributes.Value(attribute.Key("go.memory.type"))
		types[v.AsString()] = p.Value
	}
	if len(types) != 2 || types["stack"] <= 0 || types["other"] <= 0 {
		t.Errorf("go.memory.used: %v", types)
	}
	if g, ok := got["leaksense.memory.limit"].Data.(metricdata.Gauge[float64]); !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value != 16<<30 {
		t.Errorf("leaksense.memory.limit: %+v", got["leaksense.memory.limit"].Data)
	}
	if g, ok := got["leaksense.detector.state"].Data.(metricdata.Gauge[float64]); !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value != 0 {
		t.Errorf("leaksense.detector.state: %+v", got["leaksense.detector.state"].Data)
	}

	// Unregistered instruments stop reporting.
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	for name, g := range collect(t, reader) {
		if s, ok := g.Data.(metricdata.Gauge[int64]); ok && len(s.DataPoints) > 0 {
			t.Errorf("%s still observed after Unregister", name)
		}
	}
}

func TestMetricsOnTheGlobalProviderWithLegacyNames(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{Naming: Ptr(NamingLegacy)}})
	if _, err := m.RegisterMetrics(nil); err != nil {
		t.Fatal(err)
	}
	got := collect(t, reader)
	for _, name := range []string{"process.runtime.go.goroutines", "process.runtime.go.gc.count"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing from %d metrics", name, len(got))
		}
	}
	if _, ok := got["go.goroutine.count"]; ok {
		t.Error("legacy mode still emits the semconv name")
	}
}

func TestRegisterMetricsAfterCloseStillCollects(t *testing.T) {
	m := newMonitor(t, Config{})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if _, err := m.RegisterMetrics(mp); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, reader); len(got) == 0 {
		t.Error("runtime metrics need no open monitor")
	}
}
