'use strict';
// The live-heap profile's cost in one run: V8's sampling heap profiler at leaksense's interval
// (512 KiB) and at V8's default (32 KiB) against no profiler, on the request path (the Express
// middleware) and an allocation-heavy request (200 rows built and serialised); the rounds run
// round-robin so the machine's drift hits every variant alike. Then the pauses: one
// profileHeap() (getSamplingProfile, flatten, hand to the core) against
// v8.writeHeapSnapshot() twice plus a diff of the two by constructor.
// Run: node bench/profile-cost.js [rounds]
const { performance } = require('node:perf_hooks');
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const inspector = require('node:inspector');
const v8 = require('node:v8');
const leaksense = require('..');

const ROUNDS = Number(process.argv[2] ?? 9);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(fn, n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t) * 1e6) / n;
}

const m = new leaksense.Monitor({ heap: false });
const mw = leaksense.express(m);
function request(work) {
  return (i) => {
    const req = { route: undefined, baseUrl: '' };
    const res = new EventEmitter();
    mw(req, res, () => { req.route = { path: '/items/:id' }; work(i); });
    res.emit('close');
  };
}
let sink = 0;
const trivial = request(() => {});
const heavy = request((i) => {
  const rows = [];
  for (let k = 0; k < 200; k++) rows.push({ id: k, name: `item ${k + i}`, tags: [k, k + 1, String(k)] });
  sink += JSON.stringify(rows).length;
});

const session = new inspector.Session();
session.connect();
const post = (method, params) => session.post(method, params, (e) => { if (e) throw e; });
post('HeapProfiler.enable');
const variants = {
  'off': { on() {}, off() {} },
  'sampling 512 KiB (leaksense)': {
    on: () => post('HeapProfiler.startSampling', { samplingInterval: 512 * 1024 }),
    off: () => post('HeapProfiler.stopSampling'),
  },
  'sampling 32 KiB (V8 default)': {
    on: () => post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024 }),
    off: () => post('HeapProfiler.stopSampling'),
  },
};
const workloads = { 'request path': [trivial, 200000], 'allocation-heavy': [heavy, 3000] };
const results = {};
for (const [w, [fn, n]] of Object.entries(workloads)) timed(fn, n); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, v] of Object.entries(variants)) {
    for (const [w, [fn, n]] of Object.entries(workloads)) {
      v.on();
      const ns = timed(fn, n);
      v.off();
      (results[`${name}|${w}`] ??= []).push(ns);
    }
  }
}
session.disconnect();
m.close();

console.log(`node ${process.version}, ${ROUNDS} round-robin rounds (median)`);
console.log(`${'variant'.padEnd(30)} ${'request path'.padStart(14)} ${'ratio'.padStart(7)} ${'alloc-heavy'.padStart(14)} ${'ratio'.padStart(7)}`);
for (const name of Object.keys(variants)) {
  const cells = Object.keys(workloads).map((w) => {
    const v = median(results[`${name}|${w}`]);
    const base = median(results[`off|${w}`]);
    return `${(v / 1000).toFixed(2).padStart(11)} µs ${(v / base).toFixed(3).padStart(6)}x`;
  });
  console.log(`${name.padEnd(30)} ${cells.join(' ')}`);
}

// Pauses, with a heap of about 200 MB of live objects from a few hundred call sites.
const kept = [];
function grow(depth, n) {
  if (depth > 0) return grow(depth - 1, n);
  for (let i = 0; i < n; i++) kept.push({ a: new Array(64).fill(i), s: `k${i}` });
}
const pm = new leaksense.Monitor({ heap: false, profile: { enabled: true, snapshot_every_ms: 1 } });
pm.start();
for (let d = 0; d < 40; d++) grow(d, 20000);
const pauses = [];
for (let r = 0; r < ROUNDS; r++) pauses.push(pm.profileHeap());
const stats = pm.report().profile;
pm.close();
console.log(`heap ${(v8.getHeapStatistics().used_heap_size / 2 ** 20).toFixed(0)} MiB; profileHeap() pause median ${median(pauses).toFixed(2)} ms, max ${Math.max(...pauses).toFixed(2)} ms (${stats.stacks.length} growing stacks shown)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaksense-snap-'));
function censusOf(file) {
  // The snapshot's node table: count and self size per constructor name.
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields;
  const [ni, si] = [f.indexOf('name'), f.indexOf('self_size')];
  const census = new Map();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const name = snap.strings[snap.nodes[i + ni]];
    const e = census.get(name) ?? { n: 0, bytes: 0 };
    e.n++;
    e.bytes += snap.nodes[i + si];
    census.set(name, e);
  }
  return census;
}
const t0 = performance.now();
const a = v8.writeHeapSnapshot(path.join(dir, 'a.heapsnapshot'));
const t1 = performance.now();
for (let i = 0; i < 20000; i++) kept.push({ a: new Array(64).fill(i), s: `k${i}` });
const t2 = performance.now();
const b = v8.writeHeapSnapshot(path.join(dir, 'b.heapsnapshot'));
const t3 = performance.now();
const [ca, cb] = [censusOf(a), censusOf(b)];
const grew = [...cb].map(([k, v]) => [k, v.bytes - (ca.get(k)?.bytes ?? 0)]).sort((x, y) => y[1] - x[1]);
const t4 = performance.now();
fs.rmSync(dir, { recursive: true, force: true });
const snapMs = ((t1 - t0) + (t3 - t2)) / 2;
console.log(`writeHeapSnapshot pause ${snapMs.toFixed(0)} ms each (x2), diff ${(t4 - t3).toFixed(0)} ms; top grown constructor ${grew[0][0]}`);
console.log(`snapshot pause / profileHeap pause: ${(snapMs / median(pauses)).toFixed(0)}x`);
void sink;
