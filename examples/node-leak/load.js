'use strict';
// Load driver: a few concurrent clients; the route mix changes every 8 s (as real traffic does).
// The leaking routes only get traffic after a healthy start (30 s; main.js says why):
// /sessions/:id is busy in every other period and quiet (never idle) in between, /files/:id at
// a random level of its own; the healthy routes (the garbage-heavy /reports/:id among them) at
// random levels. Periods longer than the spacing of the floor points the model fits (5 s,
// `block_ms`) keep the mix distinct between points, which is what lets the model tell the
// routes apart. With the leaking route idle every other period the floor was a staircase with
// flat steps of 8 s (forty minutes at the default 5-minute buckets), which the detector's shape
// tests (a rise that pauses may be a warm-up ending) held back past the test's 240 s in about
// one run in four under CI load.
const http = require('node:http');

const [port, leakAfterMs = '30000'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const start = Date.now();
let weights = { users: 1, health: 1, reports: 1, sessions: 0, files: 0 };
let busy = false;

function reshuffle() {
  const leaking = Date.now() - start >= Number(leakAfterMs);
  busy = leaking && !busy;
  weights = {
    users: 0.2 + Math.random(),
    health: 0.2 + Math.random(),
    reports: 0.1 + 0.6 * Math.random(),
    sessions: leaking ? (busy ? 0.8 + Math.random() : 0.2 + 0.2 * Math.random()) : 0,
    files: leaking ? 0.1 + 0.4 * Math.random() : 0,
  };
}
setInterval(reshuffle, 8000).unref();

const PATHS = {
  users: () => `/users/${Math.floor(Math.random() * 1000)}`,
  health: () => '/health',
  reports: () => `/reports/${Math.floor(Math.random() * 1000)}`,
  sessions: () => `/sessions/${Math.floor(Math.random() * 1000)}`,
  files: () => `/files/${Math.floor(Math.random() * 1000)}`,
};

function pick() {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  let x = Math.random() * total;
  for (const [route, w] of Object.entries(weights)) {
    if ((x -= w) < 0) return PATHS[route]();
  }
  return PATHS.health();
}

function client() {
  const req = http.get({ host: '127.0.0.1', port: Number(port), path: pick(), agent }, (res) => {
    res.resume();
    // Paced at about 60 requests per second per client.
    res.on('end', () => setTimeout(client, 15));
  });
  req.on('error', () => process.exit(0)); // the server went away: done
}
for (let i = 0; i < 4; i++) client();
