'use strict';
// Issue #18 for Node: `cluster` workers (a primary whose monitor runs while it forks them), load
// through the middleware on a real node:http server on loopback with every request counted and
// memory flat, and a soak of a few million requests through the middleware asserting that the
// process's RSS stays flat. Memory is compared after a full GC, never timed.
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { execFile } = require('node:child_process');
const v8 = require('node:v8');
const vm = require('node:vm');
const leaksense = require('..');

const MB = 1024 * 1024;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

/** RSS after full collections. */
function settledRss() {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().rss;
}

test('cluster: every worker samples and counts its own requests; the primary keeps running', async () => {
  const app = path.join(__dirname, 'fixtures', 'cluster-app.js');
  const N = 600;
  const out = await new Promise((resolve, reject) => {
    // The primary kills its workers itself; the timeout kills the primary by PID if it hangs.
    const child = execFile(process.execPath, [app, String(N)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    assert.ok(child.pid > 0);
  });
  const { statuses, primary, workers } = JSON.parse(out.trim().split('\n').pop());
  assert.ok(statuses.every((s) => s === 200));
  assert.strictEqual(workers.length, 3);
  let total = 0;
  for (const w of workers) {
    assert.ok(w.running && w.samples > 0, JSON.stringify(w));
    assert.notStrictEqual(w.pid, primary.pid);
    total += Object.values(w.counts).reduce((a, b) => a + b, 0);
  }
  assert.strictEqual(total, N, 'every request counted once, by the worker that served it');
  assert.ok(workers.filter((w) => Object.keys(w.counts).length > 0).length >= 2, 'spread over workers');
  assert.ok(primary.running && primary.samples > 0 && primary.counts['/primary'] > 0, JSON.stringify(primary));
});

function listen(server) {
  return new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => resolve(server.address().port)));
}

test('load: 20 waves of 1,000 concurrent requests on node:http, every one counted, memory flat', async (t) => {
  const m = new leaksense.Monitor({ heap: false });
  const handler = leaksense.httpHandler(m, (req, res) => {
    leaksense.setRoute(`/r${Number(req.url.slice(1)) % 20}`);
    res.end('ok');
  });
  const server = http.createServer(handler);
  const port = await listen(server);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  const get = (i) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
  const wave = async () => {
    const statuses = await Promise.all(Array.from({ length: 1000 }, (_, i) => get(i)));
    assert.ok(statuses.every((s) => s === 200));
  };
  try {
    for (let w = 0; w < 5; w++) await wave(); // warm-up: sockets, JIT, the core's tables
    const warm = settledRss();
    for (let w = 0; w < 15; w++) await wave();
    // A response's 'close' on the server may come a turn after the client saw its end.
    const total = () => m.report().routes.reduce((a, r) => a + r.requests, 0);
    for (let i = 0; i < 200 && total() < 20_000; i++) await new Promise((r) => setTimeout(r, 10));
    const grown = (settledRss() - warm) / MB;
    const counts = m.report().routes.map((r) => r.requests);
    assert.strictEqual(counts.length, 20);
    assert.strictEqual(counts.reduce((a, b) => a + b, 0), 20_000);
    t.diagnostic(`RSS growth after warm-up: ${grown.toFixed(2)} MB over 15,000 requests`);
    // 15,000 requests after warm-up: a per-request leak of 1 kB would show as 15 MB.
    assert.ok(grown < 8, `RSS grew ${grown.toFixed(1)} MB`);
  } finally {
    agent.destroy();
    server.close();
    m.close();
  }
});

test('soak: 3,000,000 requests through the middleware keep RSS flat', { timeout: 600_000 }, (t) => {
  const m = new leaksense.Monitor({ heap: false });
  let routes = 0;
  // Every 50th request is on a new route: 60,000 routes against the 1,000 cap (the rest go
  // to _other), so the route table's bound is exercised too.
  const handler = leaksense.httpHandler(m, (req, res) => res.emit('close'), {
    route: (req) => (req.i % 50 === 0 ? `/new/${routes++}` : `/r${req.i % 20}`),
  });
  const run = (from, to, kept) => {
    for (let i = from; i < to; i++) {
      const res = new EventEmitter();
      handler({ i }, res);
      kept?.push([i, i, i, i, i, i, i, i]);
    }
  };
  try {
    run(0, 300_000); // warm-up
    const warm = settledRss();
    run(300_000, 3_300_000);
    const grown = (settledRss() - warm) / MB;
    const total = m.report().routes.reduce((a, r) => a + r.requests, 0);
    assert.strictEqual(total, 3_300_000);
    // Bound: 16 MB over 3M requests (5 bytes a request). The core's tables are preallocated;
    // what may grow is the current slot's count list (at most 1,001 routes x 12 bytes) and
    // allocator and V8 noise, measured at 0-3 MB here (RELIABILITY.md).
    t.diagnostic(`RSS growth after warm-up: ${grown.toFixed(2)} MB over 3,000,000 requests`);
    assert.ok(grown < 16, `RSS grew ${grown.toFixed(1)} MB over 3M requests`);
    // The control: the same measurement sees a leak of about 100 bytes a request.
    const kept = [];
    const before = settledRss();
    run(3_300_000, 3_600_000, kept);
    const leaked = (settledRss() - before) / MB;
    t.diagnostic(`control: ${leaked.toFixed(1)} MB for 300,000 requests keeping ~100 bytes each`);
    assert.ok(leaked > 16, `the control leak showed only ${leaked.toFixed(1)} MB`);
    assert.strictEqual(kept.length, 300_000);
  } finally {
    m.close();
  }
});
