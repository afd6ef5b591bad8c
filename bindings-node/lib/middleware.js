'use strict';
// Per-request tracking for node:http, Express and Fastify. The core does the bookkeeping; this
// file reads the runtime measures, finds the framework's route and sets span attributes.
const v8 = require('node:v8');
const { AsyncLocalStorage } = require('node:async_hooks');
const { trace } = require('@opentelemetry/api');
const native = require('../index.js');
const { codedError } = require('./options.js');

const [ALLOCATED_BYTES, RSS_DELTA_BYTES] = native.spanAttributeNames();
/** Per-request context: concurrent requests each see their own through async continuations. */
const requests = new AsyncLocalStorage();

// Runtime measures the middleware can read, by core measure name. v8.getHeapStatistics() costs
// about 0.15 µs here; process.memoryUsage() about 2.5 µs, since it also reads RSS from procfs.
const READERS = {
  heap_used: () => v8.getHeapStatistics().used_heap_size,
};

/** Builds the begin/end pair for one monitor (checks once that its measure is readable). */
function tracker(monitor) {
  const nat = monitor.native;
  const names = nat.config().measures;
  const unknown = names.filter((n) => !READERS[n]);
  if (unknown.length) throw codedError('invalid_option', `no Node reader for measures ${unknown.join(', ')} (known: ${Object.keys(READERS).join(', ')})`);
  const read = names.length ? READERS[names[0]] : () => null;
  const hasRss = nat.measures().includes('rss');
  const report = (err) => { if (err.code !== 'closed' && monitor.listenerCount('error')) monitor.emit('error', err); };

  function begin(route) {
    try {
      return { handle: nat.begin(route, read()), span: trace.getActiveSpan(), route: undefined };
    } catch (err) {
      report(err);
      return null;
    }
  }

  function end(ctx, route) {
    if (!ctx) return;
    try {
      const delta = nat.end(ctx.handle, ctx.route ?? route ?? null, read());
      const span = ctx.span;
      if (span?.isRecording()) {
        if (names.length) span.setAttribute(ALLOCATED_BYTES, delta);
        const rss = hasRss ? nat.lastRssDelta() : NaN;
        if (Number.isFinite(rss)) span.setAttribute(RSS_DELTA_BYTES, rss);
      }
    } catch (err) {
      report(err);
    }
  }
  return { begin, end };
}

/** The current request's context inside a tracked handler, or undefined. */
function currentRequest() {
  return requests.getStore() ?? undefined;
}

/** Names the current request's route (for plain node:http, where no framework knows it). */
function setRoute(route) {
  const ctx = requests.getStore();
  if (ctx) ctx.route = String(route);
}

/**
 * Wraps a node:http request listener. The route is `options.route(req)` if given, else what
 * the handler passes to `setRoute()`, else `_other`; never the raw URL.
 */
function httpHandler(monitor, handler, options = {}) {
  const t = tracker(monitor);
  const routeOf = options.route;
  return function leaksenseHandler(req, res) {
    const ctx = t.begin(routeOf ? String(routeOf(req)) : '');
    if (ctx) res.once('close', () => t.end(ctx, null));
    return requests.run(ctx, handler, req, res);
  };
}

/** Express middleware; the route is `req.baseUrl + req.route.path`, read when the response ends. */
function express(monitor) {
  const t = tracker(monitor);
  return function leaksenseExpress(req, res, next) {
    const ctx = t.begin('');
    if (ctx) res.once('close', () => t.end(ctx, req.route ? req.baseUrl + req.route.path : ''));
    requests.run(ctx, next);
  };
}

/** Fastify plugin (register it at the root); the route is `request.routeOptions.url`. */
function fastify(monitor) {
  const t = tracker(monitor);
  function leaksenseFastify(app, _opts, done) {
    app.addHook('onRequest', (request, reply, next) => {
      const ctx = t.begin(request.routeOptions?.url ?? '');
      if (ctx) reply.raw.once('close', () => t.end(ctx, null));
      requests.run(ctx, next);
    });
    done();
  }
  // Hooks apply to the whole app, not only to an encapsulated child (what fastify-plugin does).
  leaksenseFastify[Symbol.for('skip-override')] = true;
  leaksenseFastify[Symbol.for('fastify.display-name')] = 'leaksense';
  return leaksenseFastify;
}

module.exports = { httpHandler, express, fastify, currentRequest, setRoute };
