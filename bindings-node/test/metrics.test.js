'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { catalog, registerV8Metrics } = require('../lib/metrics.js');

for (const naming of ['semconv', 'legacy']) {
  test(`V8 metrics exported under catalog names and units (${naming})`, async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60000 });
    const provider = new MeterProvider({ readers: [reader] });
    registerV8Metrics(provider.getMeter('leaksense-test'), { naming });
    await reader.forceFlush();
    const got = new Map();
    for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) got.set(m.descriptor.name, m);
    const c = catalog('node', naming);
    for (const key of ['v8js.heap.used', 'v8js.heap.total', 'v8js.heap.limit', 'v8js.external', 'v8js.heap.space.used']) {
      const m = got.get(c[key].name);
      assert.ok(m, `missing ${c[key].name}; got ${[...got.keys()]}`);
      assert.strictEqual(m.descriptor.unit, c[key].unit);
      assert.ok(m.dataPoints.length > 0 && m.dataPoints.every((p) => p.value >= 0));
    }
    const spaces = got.get(c['v8js.heap.space.used'].name).dataPoints.map((p) => p.attributes[c['v8js.heap.space.used'].attributes[0]]);
    assert.ok(spaces.includes('old_space'), `spaces: ${spaces}`);
    await provider.shutdown();
  });
}
