'use strict';
// Per-request tracking for node:http, Express and Fastify. The core does the bookkeeping; this
// file reads the runtime measures, finds the framework's route and sets span attributes.
const v8 = require('node:v8');
const { AsyncLocalStorage } = require('node:async_hooks');
const { trace } = require('@opentelemetry/api');
const native = require('../index.js');
const { codedError } = require('./options.js');

const [ALLOCATED_BYTES, RSS_DELTA_BYTES] = native.spanAttributeNames();
const { UNMATCHED_ROUTE } = native;
/** Per-request context: concurrent requests each see their own through async continuations. */
const requests = new AsyncLocalStorage();

// Runtime measures the middleware can read, by core measure name. v8.getHeapStatistics() costs
// about 0.15 µs here; process.memoryUsage() about 2.5 µs, since it also reads RSS from procfs.
const READERS = {
  heap_used: () => v8.getHeapStatistics().used_heap_size,
};

// Requests a middleware keeps before they cross into the core in one call (`recordBatch`): a
// call into the addon costs 0.2-0.5 µs here, several times the tracker's own work per request,
// while writing three numbers into a Float64Array costs a few ns. The monitor flushes the
// batch on every tick (interval_ms) and before it reports, analyses, polls or closes, so a
// request reaches the core within one tick at the latest.
const BATCH = 128;

/**
 * Builds the begin/end pair for one monitor (checks once that its measure is readable). A
 * request keeps its start reading in its context; at its end its route resolves to an id (once
 * per route, in a map capped like the core's route table: past the cap the core counts routes
 * under `_other`, and they are looked up each time instead) and it joins the batch. With
 * `rss_per_request` each request crosses into the core at its start (the RSS reading) and at
 * its end instead.
 */
function tracker(monitor) {
  const nat = monitor.native;
  const config = nat.config();
  const names = config.measures;
  const unknown = names.filter((n) => !READERS[n]);
  if (unknown.length) throw codedError('invalid_option', `no Node reader for measures ${unknown.join(', ')} (known: ${Object.keys(READERS).join(', ')})`);
  const read = names.length ? READERS[names[0]] : () => 0;
  const hasMeasure = names.length > 0;
  const rssPerRequest = config.rss_per_request;
  const maxRoutes = config.max_routes;
  const ids = new Map();
  const batch = new Float64Array(BATCH * 3);
  let pending = 0;
  const report = (err) => { if (err.code !== 'closed' && monitor.listenerCount('error')) monitor.emit('error', err); };

  function flush() {
    if (pending === 0) return;
    const n = pending;
    pending = 0;
    try {
      nat.recordBatch(batch, n);
    } catch (err) {
      report(err);
    }
  }
  monitor.addFlush(flush);

  function routeId(route) {
    let id = ids.get(route);
    if (id === undefined) {
      id = nat.routeId(route);
      if (ids.size < maxRoutes) ids.set(route, id);
    }
    return id;
  }

  function begin(route) {
    return {
      start: read(),
      rssStart: rssPerRequest ? nat.requestRss() : NaN,
      span: trace.getActiveSpan(),
      route,
    };
  }

  function end(ctx, route) {
    try {
      const id = routeId(ctx.route || route || UNMATCHED_ROUTE);
      const end = read();
      let delta;
      let rss = NaN;
      if (rssPerRequest) {
        [delta, rss] = nat.recordWithRss(id, hasMeasure ? ctx.start : undefined, hasMeasure ? end : undefined, ctx.rssStart);
      } else {
        const i = pending * 3;
        batch[i] = id;
        batch[i + 1] = ctx.start;
        batch[i + 2] = end;
        if (++pending === BATCH) flush();
        delta = end - ctx.start; // the span's copy; the core computes its own from the batch
      }
      const span = ctx.span;
      if (span?.isRecording()) {
        if (hasMeasure) span.setAttribute(ALLOCATED_BYTES, delta);
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
 * the handler passes to `setRoute()`, else `UNMATCHED_ROUTE`; never the raw URL.
 */
function httpHandler(monitor, handler, options = {}) {
  const t = tracker(monitor);
  const routeOf = options.route;
  return function leaksenseHandler(req, res) {
    const ctx = t.begin(routeOf ? String(routeOf(req)) : '');
    res.once('close', () => t.end(ctx, null));
    return requests.run(ctx, handler, req, res);
  };
}

/** Express middleware; the route is `req.baseUrl + req.route.path`, read when the response ends. */
function express(monitor) {
  const t = tracker(monitor);
  return function leaksenseExpress(req, res, next) {
    const ctx = t.begin('');
    res.once('close', () => t.end(ctx, req.route ? req.baseUrl + req.route.path : ''));
    requests.run(ctx, next);
  };
}

/** Fastify plugin (register it at the root); the route is `request.routeOptions.url`. */
function fastify(monitor) {
  const t = tracker(monitor);
  function leaksenseFastify(app, _opts, done) {
    app.addHook('onRequest', (request, reply, next) => {
      const ctx = t.begin(request.routeOptions?.url ?? '');
      reply.raw.once('close', () => t.end(ctx, null));
      requests.run(ctx, next);
    });
    done();
  }
  // Hooks apply to the whole app, not only to an encapsulated child (what fastify-plugin does).
  leaksenseFastify[Symbol.for('skip-override')] = true;
  leaksenseFastify[Symbol.for('fastify.display-name')] = 'leaksense';
  return leaksenseFastify;
}

module.exports = { httpHandler, express, fastify, currentRequest, setRoute, UNMATCHED_ROUTE };
