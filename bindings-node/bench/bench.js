'use strict';
// Benchmarks in one run (node's `performance`), each against its named alternative:
//  1. the Express middleware's cost per request, against no middleware and against a naive
//     middleware that calls process.memoryUsage() at the start and the end of each request;
//  2. one memory sample: monitor.sample() from JS (statm, cgroup files, detector, result object)
//     against process.memoryUsage(),
//     process.memoryUsage.rss() and v8.getHeapStatistics().
// Run: node bench/bench.js   (prints medians of 7 rounds and the ratios)
const { performance } = require('node:perf_hooks');
const { EventEmitter } = require('node:events');
const v8 = require('node:v8');
const leaksense = require('..');

const ROUNDS = 7;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// ns per call of fn(i), median over rounds, after a warm-up round.
function measure(fn, n) {
  for (let i = 0; i < n; i++) fn(i);
  const out = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    out.push(((performance.now() - t) * 1e6) / n);
  }
  return median(out);
}

// A request through one middleware: the request object, the response emitting 'close' at the end,
// as node:http does; the route is set as Express's router sets it.
const ROUTES = ['/users/:id', '/orders/:id', '/health', '/sessions/:id'];
function requestThrough(mw) {
  return (i) => {
    const req = { route: undefined, baseUrl: '' };
    const res = new EventEmitter();
    mw(req, res, () => { req.route = { path: ROUTES[i & 3] }; });
    res.emit('close');
  };
}

function naive() {
  const perRoute = new Map();
  return (req, res, next) => {
    const start = process.memoryUsage();
    res.once('close', () => {
      const end = process.memoryUsage();
      const route = req.route ? req.baseUrl + req.route.path : '_other';
      const acc = perRoute.get(route) ?? { n: 0, heap: 0 };
      acc.n++;
      acc.heap += end.heapUsed - start.heapUsed;
      perRoute.set(route, acc);
    });
    next();
  };
}

const monitor = new leaksense.Monitor({ heap: false });
const monitorNoRss = new leaksense.Monitor({ heap: false, rss_per_request: false });
const N = 200_000;
const mw = {
  none: measure(requestThrough((req, res, next) => next()), N),
  leaksense: measure(requestThrough(leaksense.express(monitor)), N),
  leaksenseNoRss: measure(requestThrough(leaksense.express(monitorNoRss)), N),
  naive: measure(requestThrough(naive()), N / 10),
};
const added = mw.leaksense - mw.none;
const addedNoRss = mw.leaksenseNoRss - mw.none;
const addedNaive = mw.naive - mw.none;

const sampler = new leaksense.Monitor({ heap: false, interval_ms: 60000 });
const sample = {
  core: measure(() => sampler.sample(), 50_000),
  memoryUsage: measure(() => process.memoryUsage(), 20_000),
  rss: measure(() => process.memoryUsage.rss(), 50_000),
  heapStatistics: measure(() => v8.getHeapStatistics(), 50_000),
};

const us = (ns) => `${(ns / 1000).toFixed(3)} µs`;
console.log(`node ${process.version}, ${ROUNDS} rounds, medians`);
console.log('\nper request (Express middleware, request cycle without network):');
console.log(`  no middleware                      ${us(mw.none)}`);
console.log(`  leaksense (heap_used + core rss)   ${us(mw.leaksense)}   added ${us(added)}`);
console.log(`  leaksense (heap_used only)         ${us(mw.leaksenseNoRss)}   added ${us(addedNoRss)}`);
console.log(`  naive process.memoryUsage() x2     ${us(mw.naive)}   added ${us(addedNaive)}`);
console.log(`  ratio naive added / leaksense added: ${(addedNaive / added).toFixed(1)}x`);
console.log('\none memory sample:');
console.log(`  monitor.sample() from JS (all figures)   ${us(sample.core)}`);
console.log(`  process.memoryUsage()                     ${us(sample.memoryUsage)}   ${(sample.memoryUsage / sample.core).toFixed(1)}x the core`);
console.log(`  process.memoryUsage.rss()                 ${us(sample.rss)}   ${(sample.rss / sample.core).toFixed(1)}x the core`);
console.log(`  v8.getHeapStatistics()                    ${us(sample.heapStatistics)}`);
for (const m of [monitor, monitorNoRss, sampler]) m.close();
