'use strict';
// An Express service with a memory leak (a global cache of closures) and a descriptor leak (a
// file opened per request and never closed) beside healthy routes, one of which allocates and
// frees 256 KiB per request.
const fs = require('node:fs');
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
  // second so one is near the (compressed) growth start. The read's pause is not compressed
  // like the rest and grows with the heap (1-3 ms per MB here: over a third of each second once
  // the leak holds 300 MB), so the service slows as it leaks, and its leak with it (the
  // detector may read that as a warm-up ending). Read every 5 s instead, the router's `handle`
  // grew more than `rememberSession` in 14 of 22 runs (0 of 8 at 1 s, but seen once on a busy
  // machine): V8 counts an inlined function's allocations as its caller's. The report lists the
  // service's own sites before its dependencies', so `rememberSession` still comes first.
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
  // Healthy but garbage-heavy: builds a 256 KiB export in a buffer, sends its digest and drops it.
  app.get('/reports/:id', (req, res) => {
    const report = Buffer.alloc(256 * 1024, req.params.id);
    let sum = 0;
    for (let i = 0; i < report.length; i += 4096) sum = (sum + report[i]) % 65521;
    res.json({ id: req.params.id, bytes: report.length, sum });
  });

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

  // The descriptor leak: every request opens a file "for later" and nothing ever closes it.
  const openFiles = [];
  app.get('/files/:id', (req, res) => {
    openFiles.push(fs.openSync('/dev/null', 'r'));
    res.json({ open: openFiles.length });
  });
  app.locals.closeFiles = () => openFiles.splice(0).forEach((fd) => fs.closeSync(fd));
  return app;
}

module.exports = { createApp, DEMO_OPTIONS };
