'use strict';
// Every Node metric through the real @opentelemetry/sdk-metrics, under the catalog's names and
// units, in both namings; GC durations by type; the post-GC floor and the runtime limit.
const test = require('node:test');
const assert = require('node:assert');
const v8 = require('node:v8');
const vm = require('node:vm');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { catalog, registerMetrics, Monitor } = require('..');
const { runtimeLimit } = require('../lib/runtime.js');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc'); // a full (major) GC on demand
const settle = () => new Promise((r) => setTimeout(r, 50)); // perf_hooks delivers GC entries asynchronously

async function collect(naming, monitor) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60000 });
  const provider = new MeterProvider({ readers: [reader] });
  const unregister = registerMetrics(provider.getMeter('leaksense-test'), { naming, monitor });
  gc();
  await settle();
  await reader.forceFlush();
  const got = new Map();
  for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) got.set(m.descriptor.name, m);
  unregister();
  await provider.shutdown();
  return got;
}

const NODE_KEYS = ['v8js.heap.used', 'v8js.heap.total', 'v8js.heap.limit', 'v8js.external', 'v8js.array_buffers',
  'v8js.heap.space.used', 'v8js.heap.space.limit', 'v8js.heap.space.available', 'v8js.heap.space.physical', 'v8js.gc.duration',
  'process.memory.usage', 'process.memory.virtual', 'process.memory.peak', 'memory.limit', 'detector.state'];

for (const naming of ['semconv', 'legacy']) {
  test(`every metric exported under catalog names and units (${naming})`, async () => {
    const monitor = new Monitor({ heap: false });
    const got = await collect(naming, monitor);
    // Container rows have points only where the cgroup reports them (OOM kills: cgroup v2).
    const { container } = monitor.sample();
    monitor.close();
    const c = catalog('node', naming);
    const keys = [...NODE_KEYS, ...[['container.memory.usage', container.usage], ['container.memory.oom_kills', container.oom_kill]]
      .filter(([, v]) => v !== null).map(([key]) => key)];
    for (const key of keys) {
      const m = got.get(c[key].name);
      assert.ok(m, `missing ${key} as ${c[key].name}; got ${[...got.keys()]}`);
      assert.strictEqual(m.descriptor.unit, c[key].unit, key);
      assert.strictEqual(m.descriptor.description, c[key].description, key);
      assert.ok(m.dataPoints.length > 0, key);
    }
    const point = (key) => got.get(c[key].name).dataPoints[0].value;
    assert.ok(point('process.memory.usage') > 10e6 && point('process.memory.virtual') >= point('process.memory.usage'));
    // The peak (VmHWM) is read just after the RSS; the kernel keeps it lazily, so allow slack.
    assert.ok(point('process.memory.peak') >= point('process.memory.usage') / 2);
    const space = c['v8js.heap.space.used'];
    const spaces = got.get(space.name).dataPoints.map((p) => p.attributes[space.attributes[0]]);
    assert.ok(spaces.includes('old_space'), `spaces: ${spaces}`);
    const gcType = c['v8js.gc.duration'].attributes[0];
    const major = got.get(c['v8js.gc.duration'].name).dataPoints.find((p) => p.attributes[gcType] === 'major');
    assert.ok(major && major.value.count >= 1 && major.value.sum > 0, 'the forced GC was recorded as major with a duration');
    if (naming === 'legacy') {
      for (const key of ['v8js.heap.used', 'v8js.heap.total', 'v8js.external', 'process.memory.usage', 'v8js.heap.space.used']) {
        assert.match(c[key].name, /^process\.runtime\.nodejs\./, key);
      }
      assert.strictEqual(space.attributes[0], 'nodejs.heap_space.name');
    }
  });
}

test('a started monitor feeds the heap after each major GC as the post-GC floor', async () => {
  const monitor = new Monitor({ interval_ms: 60000 });
  assert.strictEqual(monitor.watched(), 'rss');
  monitor.start();
  gc();
  await settle();
  assert.strictEqual(monitor.watched(), 'runtime_baseline');
  const samples = monitor.analysis().samples;
  gc();
  await settle();
  assert.ok(monitor.analysis().samples > samples, 'a second major GC adds a floor point');
  monitor.stop();
  gc();
  await settle();
  const stopped = monitor.analysis().samples;
  gc();
  await settle();
  assert.strictEqual(monitor.analysis().samples, stopped, 'stopped monitors do not observe GCs');
  monitor.close();
});

test('a started monitor also samples the heap on every tick; heap: false leaves it on RSS', async () => {
  const monitor = new Monitor({ interval_ms: 20 });
  monitor.start();
  await new Promise((r) => setTimeout(r, 400));
  assert.strictEqual(monitor.watched(), 'runtime_baseline');
  assert.ok(monitor.analysis().samples >= 5, `samples ${monitor.analysis().samples}`);
  monitor.close();
  const rss = new Monitor({ interval_ms: 20, heap: false }).start();
  gc();
  await new Promise((r) => setTimeout(r, 200));
  assert.strictEqual(rss.watched(), 'rss');
  assert.ok(rss.analysis().samples >= 2, 'the core thread samples RSS');
  rss.close();
});

test('the limit is the lower of constrainedMemory() and the V8 heap limit', () => {
  const heap = v8.getHeapStatistics().heap_size_limit;
  assert.ok(runtimeLimit() <= heap);
  const m = new Monitor({ heap: false });
  assert.ok(m.analysis().limit <= runtimeLimit(), `${m.analysis().limit} > ${runtimeLimit()}`);
  m.close();
  // A small heap makes the V8 limit the binding one.
  const lib = path.join(__dirname, '..');
  const r = spawnSync(process.execPath, ['--max-old-space-size=48', '-e',
    `const v8=require('v8'); const {Monitor}=require(${JSON.stringify(lib)}); const m=new Monitor({heap:false});
     console.log(JSON.stringify([m.analysis().limit, v8.getHeapStatistics().heap_size_limit])); m.close();`], { encoding: 'utf8', timeout: 20000 });
  assert.strictEqual(r.status, 0, r.stderr);
  const [limit, heapLimit] = JSON.parse(r.stdout);
  assert.strictEqual(limit, heapLimit);
  assert.ok(heapLimit < 128 * 1024 * 1024);
});
