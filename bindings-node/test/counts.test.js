'use strict';
// Counts watched beside memory: Node's active handles and requests (fed by the poll timer) and
// open file descriptors (counted by the core), each with its own alert, events, report and gauge.
const test = require('node:test');
const assert = require('node:assert');
const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { Monitor, registerMetrics, catalog, formatAmount } = require('..');

const lines = (m) => Object.fromEntries(m.report().counts.map((l) => [l.series, l]));

async function until(cond, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('active resources and descriptors are read while the monitor runs', async () => {
  const m = new Monitor({ interval_ms: 10 });
  assert.deepStrictEqual(m.counts(), ['open_fds', 'active_resources']);
  assert.deepStrictEqual(lines(m), {}, 'nothing read before start');
  const base = process.getActiveResourcesInfo().length;
  const timers = Array.from({ length: 30 }, () => setInterval(() => {}, 60_000));
  m.start();
  try {
    await until(() => (lines(m).active_resources?.value ?? 0) >= base + 30, 'active resources');
    await until(() => lines(m).open_fds, 'descriptors');
    const fds = lines(m).open_fds;
    assert.strictEqual(fds.unit, '{file_descriptor}');
    assert.ok(fds.value >= 3 && (fds.limit === null || fds.limit >= fds.value), JSON.stringify(fds));
    const own = m.report('active_resources');
    assert.strictEqual(own.series, 'active_resources');
    assert.strictEqual(own.unit, '{resource}');
    assert.match(m.reportText(), /\ncounts\n {2}open_fds .*\n {2}active_resources /);
    assert.match(m.reportText('open_fds'), /series {9}open_fds/);

    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60000 });
    const provider = new MeterProvider({ readers: [reader] });
    const unregister = registerMetrics(provider.getMeter('leaksense-test'), { monitor: m });
    await reader.forceFlush();
    const got = new Map();
    for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const x of sm.metrics) got.set(x.descriptor.name, x);
    unregister();
    await provider.shutdown();
    const c = catalog('node');
    for (const [key, least] of [['process.open_fds', 3], ['nodejs.active_resources', base + 30]]) {
      const metric = got.get(c[key].name);
      assert.ok(metric, `${c[key].name} missing; got ${[...got.keys()]}`);
      assert.strictEqual(metric.descriptor.unit, c[key].unit);
      assert.ok(metric.dataPoints[0].value >= least, `${key}: ${metric.dataPoints[0].value}`);
    }
  } finally {
    timers.forEach(clearInterval);
    m.close();
  }
});

test('without counts nothing is read', async () => {
  const m = new Monitor({ interval_ms: 10, counts: [] });
  m.start();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepStrictEqual(lines(m), {});
  m.close();
});

test('bad count options and readings are typed errors', () => {
  for (const options of [{ counts: ['goroutines'] }, { counts: ['open_fds', 'open_fds'] }, { counts: ['sockets'] },
    { count_detector: { kind: 'heap' } }, { count_detector: { limit: 3 } }]) {
    assert.throws(() => new Monitor(options), { code: 'invalid_option' }, JSON.stringify(options));
  }
  const m = new Monitor();
  m.observeCount('active_resources', 2_000, 5);
  assert.throws(() => m.observeCount('threads', 3_000, 5), { code: 'invalid_option' });
  assert.throws(() => m.observeCount('active_resources', 3_000, NaN), { code: 'non_finite_value' });
  assert.throws(() => m.observeCount('active_resources', 1_000, 5), { code: 'out_of_order' });
  assert.throws(() => m.observeCount('active_resources', 2.5, 5), { code: 'invalid_option' });
  assert.throws(() => m.report('sockets'), { code: 'invalid_option' });
  m.close();
  assert.throws(() => m.observeCount('active_resources', 9_000, 5), { code: 'closed' });
  assert.throws(() => m.report('active_resources'), { code: 'closed' });
});

// A service in compressed time whose memory is flat while /watch leaves an interval timer per
// request from 30 s on, /upload holds a socket for each running upload (2 s) and /ok nothing
// by the reading; the route mix changes every 10 s (a seeded generator, so every run is alike).
function handleLeakSteps() {
  let seed = 5; // mulberry32
  const rand = (n) => {
    seed = (seed + 0x6D2B79F5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
  const t0 = 1_700_000_000_000;
  let leaked = 0;
  let uploads = [];
  let rates = [3, 2, 2];
  const steps = [];
  for (let i = 0; i < 600; i++) {
    const t = i / 4;
    if (i % 40 === 0) rates = [1 + rand(7), rand(4), 1 + rand(3)];
    uploads = uploads.filter((end) => end > t);
    for (let k = 0; k < rates[2]; k++) uploads.push(t + 2);
    const requests = { '/ok': rates[0], '/upload': rates[2] };
    if (t >= 30) {
      requests['/watch'] = rates[1];
      leaked += rates[1];
    }
    steps.push({ ts_ms: t0 + i * 250, requests, baseline: 5e7 + rand(100_000), counts: { active_resources: 6 + leaked + uploads.length + rand(3) } });
  }
  return steps;
}

test('a handle leak alerts as active_resources and names its route', () => {
  const m = new Monitor({
    rss_per_request: false, slot_ms: 1000, memory_limit: 4e9,
    detector: { bucket_secs: 1, warmup_secs: 10, min_growth_secs: 10, for_secs: 3 },
    attribution: { block_ms: 5000 },
  });
  const got = [];
  for (const kind of ['leak', 'suspects', 'resolved']) m.on(kind, (e) => got.push(e));
  for (const step of handleLeakSteps()) {
    m.replay([step]);
    m.poll();
  }
  assert.ok(got.length > 0 && got[0].kind === 'leak', JSON.stringify(got.map((e) => [e.kind, e.measure])));
  assert.ok(got.every((e) => e.measure === 'active_resources'), 'memory is flat');
  const named = got.find((e) => e.kind === 'suspects');
  assert.ok(named, 'no suspects event');
  assert.deepStrictEqual(named.report.suspects.map((s) => s.route), ['/watch'], named.report_text);
  assert.ok(Math.abs(named.report.suspects[0].retained_bytes_per_request - 1) < 0.15);
  const perRequest = named.report.suspects[0].retained_bytes_per_request;
  assert.ok(named.report_text.includes(`${formatAmount(perRequest, '{resource}')} per request`), named.report_text);
  const line = lines(m).active_resources;
  assert.strictEqual(line.verdict, 'leak');
  assert.strictEqual(line.suspects[0].route, '/watch');
  assert.strictEqual(m.report().verdict, 'healthy');
  m.close();
});
