'use strict';
// Middleware on real servers over 127.0.0.1: routes from the framework, AsyncLocalStorage under
// concurrency, span attributes, and 1,000 requests in flight at once.
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const express = require('express');
const Fastify = require('fastify');
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const leaksense = require('..');

const native = require('../index.js');
const [ALLOCATED, RSS_DELTA] = native.spanAttributeNames();

function listen(server) {
  return new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => resolve(server.address().port)));
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  });
}

const counts = (monitor) => Object.fromEntries(monitor.report().routes.map((r) => [r.route, r.requests]));
const total = (monitor) => monitor.report().routes.reduce((n, r) => n + r.requests, 0);

// The close listener runs after the response is written; wait until `n` requests were recorded.
async function settled(monitor, n) {
  for (let i = 0; i < 200 && total(monitor) < n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.strictEqual(total(monitor), n);
}

test('Express: route is baseUrl + req.route.path, never the raw URL; 404s are _unmatched', async () => {
  const m = new leaksense.Monitor({ heap: false });
  const app = express();
  app.use(leaksense.express(m));
  app.get('/users/:id', (req, res) => res.send(`u${req.params.id}`));
  const api = express.Router();
  api.get('/items/:id', async (req, res) => { await new Promise((r) => setTimeout(r, 5)); res.send('i'); });
  app.use('/api', api);
  const server = http.createServer(app);
  const port = await listen(server);
  try {
    for (const p of ['/users/1', '/users/2', '/api/items/9', '/nope']) await get(port, p);
    await settled(m, 4);
    assert.deepStrictEqual(counts(m), { '/users/:id': 2, '/api/items/:id': 1, _unmatched: 1 });
  } finally {
    server.close();
    m.close();
  }
});

test('Fastify: route is request.routeOptions.url', async () => {
  const m = new leaksense.Monitor({ heap: false });
  const app = Fastify();
  await app.register(leaksense.fastify(m));
  app.get('/orders/:id', async (req) => ({ id: req.params.id, route: leaksense.currentRequest() !== undefined }));
  app.register(async (child) => { child.get('/v2/things/:t', async () => 'ok'); });
  const port = await app.listen({ port: 0, host: '127.0.0.1' }).then(() => app.server.address().port);
  try {
    const r = await get(port, '/orders/7');
    assert.deepStrictEqual(JSON.parse(r.body), { id: '7', route: true }, 'handler runs inside the request context');
    await get(port, '/orders/8');
    await get(port, '/v2/things/x');
    await settled(m, 3);
    assert.deepStrictEqual(counts(m), { '/orders/:id': 2, '/v2/things/:t': 1 });
  } finally {
    await app.close();
    m.close();
  }
});

test('node:http: 1,000 concurrent requests, each keeps its own context across awaits', async () => {
  const m = new leaksense.Monitor({ heap: false });
  let release;
  const allIn = new Promise((r) => { release = r; });
  const N = 1000;
  let arrived = 0;
  const live = new Set();
  const handler = leaksense.httpHandler(m, async (req, res) => {
    const ctx = leaksense.currentRequest();
    live.add(ctx);
    const i = Number(req.url.slice(1));
    if (++arrived === N) release();
    await allIn; // every request is in flight at once here
    assert.strictEqual(leaksense.currentRequest(), ctx);
    leaksense.setRoute(`/r${i % 10}`);
    await new Promise((r) => setImmediate(r));
    res.end(String(i));
  });
  const server = http.createServer(handler);
  const port = await listen(server);
  let peak = 0;
  allIn.then(() => { peak = live.size; });
  try {
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => get(port, `/${i}`)));
    assert.ok(replies.every((r, i) => r.status === 200 && r.body === String(i)));
    assert.strictEqual(peak, N, 'all requests were tracked at once, each with its own context');
    await settled(m, N);
    const c = counts(m);
    assert.deepStrictEqual(Object.keys(c).sort(), Array.from({ length: 10 }, (_, i) => `/r${i}`).sort());
    assert.ok(Object.values(c).every((n) => n === N / 10), JSON.stringify(c));
  } finally {
    server.close();
    m.close();
  }
});

test('node:http route option; a closed monitor lets requests through untracked', async () => {
  const m = new leaksense.Monitor({ heap: false });
  const errors = [];
  m.on('error', (e) => errors.push(e));
  const server = http.createServer(leaksense.httpHandler(m, (req, res) => res.end('ok'), { route: (req) => req.method + ' /thing' }));
  const port = await listen(server);
  try {
    await get(port, '/thing?x=1');
    await settled(m, 1);
    assert.deepStrictEqual(counts(m), { 'GET /thing': 1 });
    m.close();
    assert.strictEqual((await get(port, '/thing')).body, 'ok');
    assert.deepStrictEqual(errors, [], 'closed is not reported as an error');
  } finally {
    server.close();
  }
});

test('a failing core call is reported on the monitor and never breaks the request', async () => {
  const m = new leaksense.Monitor({ heap: false });
  const errors = [];
  m.on('error', (e) => errors.push(e.code));
  const handler = leaksense.httpHandler(m, (req, res) => res.end('ok'), { route: (req) => req.url });
  const server = http.createServer(handler);
  const port = await listen(server);
  const realBatch = m.native.recordBatch.bind(m.native);
  const realRouteId = m.native.routeId.bind(m.native);
  try {
    m.native.recordBatch = () => { throw Object.assign(new Error('boom'), { code: 'internal' }); };
    assert.strictEqual((await get(port, '/a')).body, 'ok');
    await new Promise((r) => setTimeout(r, 50));
    m.flush(); // the batch crosses into the core here, and fails
    m.native.routeId = () => { throw Object.assign(new Error('bad'), { code: 'invalid_option' }); };
    assert.strictEqual((await get(port, '/b')).body, 'ok');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepStrictEqual(errors, ['internal', 'invalid_option']);
  } finally {
    m.native.recordBatch = realBatch;
    m.native.routeId = realRouteId;
    server.close();
    m.close();
  }
});

test('batches: bad entries are skipped with one error, the rest recorded; a tick flushes', async () => {
  const m = new leaksense.Monitor({ heap: false, interval_ms: 20 });
  const n = m.native;
  const a = n.routeId('/a');
  const entries = new Float64Array([a, 1, 5, 99999, 1, 2, a, NaN, 1, a, 10, 11]);
  assert.throws(() => n.recordBatch(entries, 4), { code: 'invalid_option' });
  assert.deepStrictEqual(counts(m), { '/a': 2 }, 'the two good entries were recorded');
  assert.throws(() => n.recordBatch(entries, 5), { code: 'invalid_option', message: /15 numbers/ });
  const errors = [];
  m.on('error', (e) => errors.push(e));
  const handler = leaksense.httpHandler(m, (req, res) => res.end('ok'), { route: () => '/ticked' });
  const server = http.createServer(handler);
  const port = await listen(server);
  try {
    m.start();
    await get(port, '/x');
    for (let i = 0; i < 100 && !n.report().routes.some((r) => r.route === '/ticked'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(n.report().routes.some((r) => r.route === '/ticked'), 'the tick flushed the batch');
    assert.deepStrictEqual(errors, []);
  } finally {
    server.close();
    m.close();
  }
});

test('routes resolve to ids once, cached up to max_routes', async () => {
  const m = new leaksense.Monitor({ heap: false, max_routes: 3 });
  const calls = [];
  const realRouteId = m.native.routeId.bind(m.native);
  m.native.routeId = (r) => { calls.push(r); return realRouteId(r); };
  const handler = leaksense.httpHandler(m, (req, res) => res.end('ok'), { route: (req) => req.url });
  const server = http.createServer(handler);
  const port = await listen(server);
  try {
    for (let i = 0; i < 10; i++) await get(port, `/r${i % 5}`);
    await settled(m, 10);
    // /r0../r2 are cached; /r3 and /r4 are past the cap and looked up each time (as _other).
    assert.deepStrictEqual(calls, ['/r0', '/r1', '/r2', '/r3', '/r4', '/r3', '/r4']);
    assert.deepStrictEqual(counts(m), { '/r0': 2, '/r1': 2, '/r2': 2, _other: 4 });
  } finally {
    server.close();
    m.close();
  }
});

test('a known route retains no heap over 100,000 requests (margin 256 KiB)', () => {
  // The request cycle without the network, as the benchmark runs it: after a warm-up and a full
  // GC, 100,000 requests, another full GC; the heap used may differ by V8's own bookkeeping
  // (code, inline caches; measured: under 64 KiB), never by anything per request (100,000
  // requests retaining even 8 bytes each would be 800 KiB).
  const { EventEmitter } = require('node:events');
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  for (const options of [{ heap: false }, { heap: false, rss_per_request: true }]) {
    const m = new leaksense.Monitor(options);
    const mw = leaksense.express(m);
    const route = { path: '/users/:id' };
    const once = () => {
      const req = { route: undefined, baseUrl: '' };
      const res = new EventEmitter();
      mw(req, res, () => { req.route = route; });
      res.emit('close');
    };
    for (let i = 0; i < 10_000; i++) once();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) once();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 256 * 1024, `${JSON.stringify(options)}: heap grew ${grown} B`);
    assert.deepStrictEqual(counts(m), { '/users/:id': 110_000 });
    m.close();
  }
});

test('unknown measures are refused when the middleware is built', () => {
  const m = new leaksense.Monitor({ heap: false, measures: ['cpu'] });
  assert.throws(() => leaksense.express(m), { code: 'invalid_option', message: /cpu/ });
  m.close();
});

test('span attributes under sdk-trace-base, names from the core catalog', async () => {
  const cm = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(cm);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const m = new leaksense.Monitor({ heap: false, rss_per_request: true });
  const tracked = leaksense.httpHandler(m, (req, res) => {
    const keep = new Array(10000).fill(req.url); // allocates on the heap during the request
    res.end(String(keep.length));
  }, { route: () => '/alloc' });
  // Stands in for the HTTP instrumentation: the server span is active when the request starts.
  const server = http.createServer((req, res) => tracer.startActiveSpan('GET /alloc', (span) => {
    tracked(req, res);
    res.once('close', () => span.end());
  }));
  const port = await listen(server);
  try {
    await get(port, '/alloc');
    await settled(m, 1);
    const [span] = exporter.getFinishedSpans();
    assert.ok(span, 'span exported');
    assert.strictEqual(typeof span.attributes[ALLOCATED], 'number');
    assert.ok(span.attributes[ALLOCATED] !== 0, `allocated ${span.attributes[ALLOCATED]}`);
    assert.strictEqual(typeof span.attributes[RSS_DELTA], 'number');
    assert.strictEqual(ALLOCATED, 'memory.allocated_bytes');
  } finally {
    server.close();
    m.close();
    await provider.shutdown();
    context.disable();
  }
});
