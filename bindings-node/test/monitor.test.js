'use strict';
// The Monitor over the core: options, errors with codes, events, report, timer hygiene.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { Monitor, analyze } = require('..');

// Time compressed so the detector decides within a few simulated minutes.
const FAST = { interval_ms: 100, slot_ms: 1000, detector: { bucket_secs: 1, warmup_secs: 15, min_growth_secs: 15, for_secs: 5 }, attribution: { block_ms: 5000 } };

test('bad options are invalid_option errors with a code', () => {
  const bad = [
    { interval_ms: -1 }, { interval_ms: 1.7 }, { interval_ms: 0 }, { max_routes: 2 ** 40 }, { nope: 1 },
    { memory_limit: NaN }, { memory_limit: Infinity }, { runtime: 'ruby' }, { measures: ['a', 'b', 'c', 'd', 'e'] },
    { detector: { for_secs: -5 } }, { detector: { bogus: 1 } }, { detector: { limit: 5 } },
    { runtime: 'go' }, { heap: 1 },
  ];
  for (const o of bad) assert.throws(() => new Monitor(o), (e) => e.code === 'invalid_option' && e.message.length > 0, JSON.stringify(o));
  for (const o of [5, 'x', []]) assert.throws(() => new Monitor(o), { code: 'invalid_option' });
  new Monitor(null).close();
});

test('defaults: node runtime, heap_used measure, no per-request RSS', () => {
  const m = new Monitor({ heap: false });
  const c = m.config();
  assert.strictEqual(c.runtime, 'node');
  assert.strictEqual(c.heap, false);
  assert.strictEqual(new Monitor().config().heap, true, 'the preset watches the V8 heap');
  assert.deepStrictEqual(c.measures, ['heap_used']);
  assert.deepStrictEqual(m.native.measures(), ['heap_used']);
  assert.strictEqual(c.rss_per_request, false);
  assert.strictEqual(m.watched(), 'rss');
  m.close();
});

test('start/stop/close; calls after close throw closed', () => {
  const m = new Monitor({ ...FAST, heap: false });
  m.start();
  assert.ok(m.isRunning());
  m.start();
  m.stop();
  assert.ok(!m.isRunning());
  m.close();
  m.close();
  for (const f of [() => m.report(), () => m.sample(), () => m.analysis(), () => m.start(), () => m.observeBaseline(1, 1), () => m.setRuntimeLimit(5), () => m.native.routeId('/a'), () => m.native.record(0, 1, 2), () => m.native.memory()]) {
    assert.throws(f, { code: 'closed' });
  }
});

test('numbers are validated before conversion', () => {
  const m = new Monitor({ heap: false });
  for (const ts of [1.5, NaN, 2 ** 60]) assert.throws(() => m.sample(ts), { code: 'invalid_option' });
  for (const b of [-1, 0, 1.7, NaN, 2 ** 60]) assert.throws(() => m.setRuntimeLimit(b), { code: 'invalid_option' });
  for (const id of [-1, 2 ** 40, 1.7, NaN]) assert.throws(() => m.native.record(id, 1, 2), { code: 'invalid_option', message: /routeId/ });
  assert.throws(() => m.observeBaseline(1000, NaN), { code: 'non_finite_value' });
  m.sample(2000);
  assert.throws(() => m.sample(1000), { code: 'out_of_order' });
  m.setRuntimeLimit(null);
  m.close();
});

test('record: one call per request on a route id; typed errors; nothing counted on a bad call', () => {
  const m = new Monitor({ heap: false });
  const n = m.native;
  assert.deepStrictEqual([m.config().rss_per_request, m.config().measures], [false, ['heap_used']]);
  const a = n.routeId('/a');
  assert.strictEqual(n.routeId('/a'), a, 'ids are stable');
  assert.strictEqual(n.record(a, 100, 164), 64);
  assert.throws(() => n.record(a, undefined, 1), { code: 'invalid_option' });
  assert.throws(() => n.record(a, NaN, 1), { code: 'non_finite_value' });
  assert.throws(() => n.record(a, 1, Infinity), { code: 'non_finite_value' });
  assert.throws(() => n.record(a + 1, 1, 2), { code: 'invalid_option', message: /route id/ });
  assert.ok(Number.isNaN(n.requestRss()), 'no RSS read without rss_per_request');
  n.record(n.routeId(''), 1, 1); // odd routes count under the overflow bucket _other
  const routes = m.report().routes.map((r) => [r.route, r.requests]);
  assert.deepStrictEqual(routes.sort(), [['/a', 1], ['_other', 1]]);
  m.close();
  const none = new Monitor({ heap: false, measures: [] });
  assert.ok(Number.isNaN(none.native.record(none.native.routeId('/x'), undefined, undefined)));
  assert.throws(() => none.native.record(0, 5, 6), { code: 'invalid_option' });
  none.close();
  const rss = new Monitor({ heap: false, rss_per_request: true });
  const start = rss.native.requestRss();
  assert.ok(start > 0);
  const [delta, rssDelta] = rss.native.recordWithRss(rss.native.routeId('/r'), 1, 3, start);
  assert.strictEqual(delta, 2);
  assert.ok(Number.isFinite(rssDelta));
  assert.deepStrictEqual(rss.native.measures(), ['heap_used', 'rss']);
  rss.close();
  assert.throws(() => new Monitor({ measures: ['heap_used', 'other'] }), { code: 'invalid_option', message: /at most one/ });
});

test('memory() reads without feeding the detector; sample() feeds it', () => {
  const m = new Monitor({ heap: false });
  const mem = m.native.memory();
  assert.ok(mem.process.rss_bytes > 0 && mem.peak_rss >= mem.process.rss_bytes / 2);
  assert.strictEqual(m.analysis().samples, 0);
  const s = m.sample();
  assert.deepStrictEqual(Object.keys(s).sort(), ['container', 'limits', 'peak_rss', 'process']);
  assert.ok(s.limits.host > 0);
  assert.strictEqual(m.analysis().samples, 1);
  m.close();
});

test("'leak' fires from the core's detector and 'resolved' after a restart", () => {
  const m = new Monitor({ ...FAST, heap: false, memory_limit: 4e9 });
  const seen = [];
  m.on('leak', (e) => seen.push(['leak', e.report.verdict, e.report.state, e.measure]));
  m.on('resolved', (e) => seen.push(['resolved', e.report.state, e.report_text.split('\n')[0]]));
  const t0 = 1_700_000_000_000;
  let i = 0;
  // 60 s flat at 100 MB, then 1 MB/s growth for 120 s, sampled every 250 ms (simulated time).
  for (; i < 240; i++) m.observeBaseline(t0 + i * 250, 100e6 + (i % 4) * 1e5);
  for (; i < 720; i++) m.observeBaseline(t0 + i * 250, 100e6 + (i - 240) * 250e3 + (i % 4) * 1e5);
  m.poll();
  assert.deepStrictEqual(seen[0], ['leak', 'leak', 'firing', 'memory'], JSON.stringify(m.analysis()));
  assert.strictEqual(m.report().state, 'firing');
  assert.match(m.reportText(), /leak/i);
  // A drop far below the floor is a restart: the detector starts over and the alert resolves.
  for (let j = 0; j < 20; j++) m.observeBaseline(t0 + (i + j) * 250, 30e6);
  m.poll();
  assert.deepStrictEqual(seen.at(-1).slice(0, 2), ['resolved', 'inactive'], JSON.stringify(seen));
  m.close();
});

test("a 'leak' listener may close the monitor: the rest of the poll is dropped, nothing throws", () => {
  const m = new Monitor({ ...FAST, heap: false, memory_limit: 4e9 });
  const seen = [];
  m.on('leak', (e) => { seen.push(e.kind); m.close(); });
  m.on('resolved', () => seen.push('resolved'));
  const t0 = 1_700_000_000_000;
  let i = 0;
  // The same leak as above, then the restart, all queued before one poll.
  for (; i < 240; i++) m.observeBaseline(t0 + i * 250, 100e6 + (i % 4) * 1e5);
  for (; i < 720; i++) m.observeBaseline(t0 + i * 250, 100e6 + (i - 240) * 250e3 + (i % 4) * 1e5);
  for (let j = 0; j < 20; j++) m.observeBaseline(t0 + (i + j) * 250, 30e6);
  const events = m.poll();
  assert.deepStrictEqual(events.map((e) => e.kind), ['leak', 'resolved']);
  assert.deepStrictEqual(seen, ['leak']);
  assert.throws(() => m.report(), { code: 'closed' });
});

test('the core\'s Node preset: watching the V8 heap marks its readings after each full GC, under the caller\'s detector options', () => {
  const det = (opts) => { const m = new Monitor(opts); const d = m.native.config().detector; m.close(); return d; };
  assert.deepStrictEqual([det({}).reports_full_gcs, det({}).first_collection_secs], [true, 14400]);
  const mine = det({ detector: { for_secs: 60 } });
  assert.deepStrictEqual([mine.for_secs, mine.reports_full_gcs, mine.first_collection_secs], [60, true, 14400]);
  assert.strictEqual(det({ detector: { first_collection_secs: 0 } }).first_collection_secs, 0);
  // RSS: the detector's own default wait for a first collection (3 h), not the V8 preset's.
  assert.deepStrictEqual([det({ heap: false }).reports_full_gcs, det({ heap: false }).first_collection_secs], [false, 10800]);
  assert.throws(() => new Monitor({ detector: 3 }), { code: 'invalid_option' });
  const m = new Monitor({ heap: false });
  assert.strictEqual(m.observeBaselineAfterFullGc(1_700_000_000_000, 5e7), null);
  assert.strictEqual(m.native.watched(), 'runtime_baseline');
  assert.throws(() => m.observeBaselineAfterFullGc(1_700_000_000_000, 5e7), { code: 'out_of_order' });
  assert.throws(() => m.observeBaselineAfterFullGc(1_700_000_000_001.5, 5e7), { code: 'invalid_option' });
  assert.throws(() => m.observeBaselineAfterFullGc(1_700_000_000_001, NaN), { code: 'non_finite_value' });
  m.close();
});

test('analyze: options are detector fields; unknown or non-finite ones are refused', () => {
  const ts = Array.from({ length: 50 }, (_, i) => 1_700_000_000 + i * 60);
  const vs = ts.map(() => 1e8);
  assert.strictEqual(analyze(ts, vs).verdict, 'insufficient');
  assert.strictEqual(analyze(ts, vs, { kind: 'count', warmup_secs: 60, bucket_secs: 60 }).samples, 50);
  assert.throws(() => analyze(ts, vs, { bogus: 1 }), { code: 'invalid_option' });
  assert.throws(() => analyze(ts, vs, { kind: 3 }), { code: 'invalid_option' });
  assert.throws(() => analyze(ts, vs, { limit: NaN }), { code: 'invalid_option' });
  assert.throws(() => analyze(ts, vs, 'x'), { code: 'invalid_option' });
});

test('the poll timer is unref()d: a started monitor does not keep node alive', () => {
  const lib = path.join(__dirname, '..');
  const r = spawnSync(process.execPath, ['-e', `const {Monitor}=require(${JSON.stringify(lib)}); new Monitor({interval_ms: 50}).start(); console.log('started')`], { timeout: 20000, encoding: 'utf8' });
  assert.strictEqual(r.signal, null, 'node had to be killed: the timer kept it alive');
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /started/);
});
