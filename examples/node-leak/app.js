'use strict';
// An Express service with one leaking route (a global cache of closures) beside healthy ones.
const express = require('express');
const leaksense = require('leaksense');

/** Builds the app; every request is tracked by the monitor's middleware. */
function createApp(monitor) {
  const app = express();
  app.use(leaksense.express(monitor));

  // Healthy: allocates about 20 KB per request and keeps none of it.
  app.get('/users/:id', (req, res) => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: req.params.id, i }));
    res.json({ id: req.params.id, rows: rows.length });
  });
  app.get('/health', (req, res) => res.send('ok'));

  // The leak: every request adds a closure to a global cache that nothing ever clears,
  // and the closure holds about 20 KB.
  const sessionCache = [];
  app.get('/sessions/:id', (req, res) => {
    const state = Array.from({ length: 500 }, (_, i) => ({ user: req.params.id, i }));
    sessionCache.push(() => state.length);
    res.json({ sessions: sessionCache.length });
  });
  return app;
}

module.exports = { createApp };
