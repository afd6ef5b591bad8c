'use strict';
// An Express service with one leaking route (a global cache of closures) beside healthy ones.
const express = require('express');
const leaksense = require('leaksense');

/**
 * Monitor options with time compressed so a leak is found in a minute or two, not hours. The
 * detector watches RSS (`heap: false`), sampled by the core every 200 ms: with 1 s buckets the
 * V8 heap's sawtooth (major GCs 10-15 s apart while the leak grows) would look like restarts.
 */
const DEMO_OPTIONS = {
  heap: false,
  interval_ms: 200,
  slot_ms: 1000,
  detector: { bucket_secs: 1, warmup_secs: 15, min_growth_secs: 15, for_secs: 5 },
  attribution: { block_ms: 5000 },
  // The live-heap profile (opt-in in Node: each read forces a full GC), with a snapshot every
  // second so one is near the (compressed) growth start.
  profile: { enabled: true, snapshot_every_ms: 1000 },
};

/** Builds the app; every request is tracked by the monitor's middleware. */
function createApp(monitor) {
  const app = express();
  app.use(leaksense.express(monitor));

  // Healthy: allocates about 8 KB per request and keeps none of it.
  app.get('/users/:id', (req, res) => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: req.params.id, i }));
    res.json({ id: req.params.id, rows: rows.length });
  });
  app.get('/health', (req, res) => res.send('ok'));

  // The leak: every request adds a closure to a global cache that nothing ever clears,
  // and the closure holds about 80 KB. (V8's heap profiler names functions, not lines: the
  // report's site is this function, at the line where it starts.)
  const sessionCache = [];
  function rememberSession(user) { // the bug: nothing ever evicts a session
    const state = [];
    for (let i = 0; i < 1000; i++) state.push({ user, i });
    sessionCache.push(() => state.length);
  }
  app.get('/sessions/:id', (req, res) => {
    rememberSession(req.params.id);
    res.json({ sessions: sessionCache.length });
  });
  return app;
}

module.exports = { createApp, DEMO_OPTIONS };
