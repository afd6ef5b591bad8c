'use strict';
// Per-request and sampling cost in one run of paired rounds: each round times every variant
// once (in a fresh order), so each ratio compares figures taken moments apart; medians over the
// rounds, and the spread (min..max) of each ratio as the noise.
//  1. per request, Express middleware, request cycle without the network: no middleware;
//     leaksense defaults; leaksense with every option (rss_per_request); the hand-rolled minimal
//     middleware (v8.getHeapStatistics() at both ends, a count and a heap sum per route, the
//     delta on the active span);
//  2. one memory sample: monitor.sample() from JS against process.memoryUsage().
// Run: node bench/bench.js [rounds=15]
const { performance } = require('node:perf_hooks');
const { EventEmitter } = require('node:events');
const v8 = require('node:v8');
const { trace } = require('@opentelemetry/api');
const leaksense = require('..');

const ROUNDS = Number(process.argv[2] ?? 15);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) => `[${Math.min(...xs).toFixed(3)}..${Math.max(...xs).toFixed(3)}]`;

// ns per call of fn(i) over n calls.
function time(fn, n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t) * 1e6) / n;
}

// Runs every variant once per round in a shuffled order; returns ns per call by variant.
function paired(variants, n) {
  const names = Object.keys(variants);
  for (const k of names) time(variants[k], n); // warm-up
  const out = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...names].sort(() => Math.random() - 0.5);
    for (const k of order) out[k].push(time(variants[k], n));
  }
  return out;
}

// A request through one middleware: the response emitting 'close' at the end, as node:http
// does; the route is set as Express's router sets it.
const ROUTES = ['/users/:id', '/orders/:id', '/health', '/sessions/:id'].map((path) => ({ path }));
function requestThrough(mw) {
  return (i) => {
    const req = { route: undefined, baseUrl: '' };
    const res = new EventEmitter();
    mw(req, res, () => { req.route = ROUTES[i & 3]; });
    res.emit('close');
  };
}

function handRolled() {
  const perRoute = new Map();
  return (req, res, next) => {
    const start = v8.getHeapStatistics().used_heap_size;
    const span = trace.getActiveSpan();
    res.once('close', () => {
      const delta = v8.getHeapStatistics().used_heap_size - start;
      const route = req.route ? req.baseUrl + req.route.path : '_other';
      const acc = perRoute.get(route) ?? { n: 0, heap: 0 };
      acc.n++;
      acc.heap += delta;
      perRoute.set(route, acc);
      if (span?.isRecording()) span.setAttribute('memory.heap_delta', delta);
    });
    next();
  };
}

const defaults = new leaksense.Monitor({ heap: false });
const every = new leaksense.Monitor({ heap: false, rss_per_request: true });
const req = paired({
  none: requestThrough((rq, rs, next) => next()),
  'leaksense defaults': requestThrough(leaksense.express(defaults)),
  'leaksense every option': requestThrough(leaksense.express(every)),
  'hand-rolled getHeapStatistics x2': requestThrough(handRolled()),
}, 50_000);

const sampler = new leaksense.Monitor({ heap: false, interval_ms: 60000 });
const sample = paired({
  'monitor.sample()': () => sampler.sample(),
  'process.memoryUsage()': () => process.memoryUsage(),
}, 20_000);

const us = (ns) => `${(ns / 1000).toFixed(3)} µs`;
const added = (k) => req[k].map((v, i) => v - req.none[i]);
console.log(`node ${process.version}, ${ROUNDS} paired rounds, medians`);
console.log('\nper request (Express middleware, request cycle without the network):');
for (const k of Object.keys(req)) {
  const tail = k === 'none' ? '' : `   added ${us(median(added(k)))} ${spread(added(k).map((x) => x / 1000))} µs`;
  console.log(`  ${k.padEnd(34)} ${us(median(req[k]))}${tail}`);
}
for (const k of ['leaksense defaults', 'leaksense every option']) {
  const r = added(k).map((v, i) => v / added('hand-rolled getHeapStatistics x2')[i]);
  console.log(`  added ${k} / added hand-rolled: ${median(r).toFixed(3)} ${spread(r)}`);
}
console.log('\none memory sample:');
for (const k of Object.keys(sample)) console.log(`  ${k.padEnd(34)} ${us(median(sample[k]))}`);
const sr = sample['monitor.sample()'].map((v, i) => v / sample['process.memoryUsage()'][i]);
console.log(`  monitor.sample() / process.memoryUsage(): ${median(sr).toFixed(3)} ${spread(sr)}`);
for (const m of [defaults, every, sampler]) m.close();
