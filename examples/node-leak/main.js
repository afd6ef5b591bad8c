'use strict';
// Runs the leaking service under load until leaksense has alerted each leak as what it is (the
// memory leak as 'memory', the descriptor leak as 'open_fds') and named its route, then prints
// the report. Time is compressed through the options so this takes a minute or two, not hours.
// Exit code: 0 when both leaks were alerted and named and no healthy route was ever named, by
// any series, in any event or in the reports polled every second; 1 otherwise.
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const { Monitor, formatAmount } = require('leaksense');
const { createApp, DEMO_OPTIONS } = require('./app.js');

// The route each series must name, and the routes none may.
const LEAKS = { memory: '/sessions/:id', open_fds: '/files/:id' };
const HEALTHY = ['/users/:id', '/health', '/reports/:id'];
const TIMEOUT_MS = Number(process.env.LEAK_EXAMPLE_TIMEOUT_MS ?? 240_000);

const monitor = new Monitor(DEMO_OPTIONS);
const app = createApp(monitor);
const server = http.createServer(app);
const started = Date.now();
const secs = () => ((Date.now() - started) / 1000).toFixed(0);
const alerted = {};
const named = {};
const accused = [];

// What one report (from an event, or polled) says about its series.
function look(series, by, report) {
  for (const s of report.suspects) {
    if (HEALTHY.includes(s.route)) accused.push(`${series}: ${s.route} (${by} at ${secs()} s)`);
  }
  const top = report.suspects[0];
  if (!named[series] && report.verdict === 'leak' && top?.route === LEAKS[series]) {
    named[series] = `${by} at ${secs()} s`;
    const amount = formatAmount(top.retained_bytes_per_request, report.unit);
    console.log(`${series}: ${top.route} named (${by}) after ${secs()} s, ${amount} per request`);
  }
}

// 'leak' comes when a series' alert fires, 'suspects' once the core is sure of its suspect
// routes; each event names its series (`measure`) and carries the report the core built for it.
for (const kind of ['leak', 'suspects', 'resolved']) {
  monitor.on(kind, (e) => {
    console.log(`event: ${e.measure} ${e.kind} at ${secs()} s, ${e.report.suspects.length} suspect(s) named`);
    if (kind === 'leak') alerted[e.measure] ??= secs();
    look(e.measure, `${kind} event`, e.report);
  });
}

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  // The leaking routes get traffic from 30 s on: the floor then has 15 s past the detector's
  // warm-up (15 s) at a healthy service's loads. A leak that began as the warm-up ended left
  // the floor 1-4 points before its rise; the load's noise then read as record loads whose
  // effect on the floor was never seen, and the load veto held the alert for up to 144 s.
  const load = fork(path.join(__dirname, 'load.js'), [String(port), '30000']);
  console.log(`service on 127.0.0.1:${port}; load driver pid ${load.pid}`);

  function finish(code, why) {
    if (monitor.native.isClosed()) return;
    clearInterval(check);
    console.log(`\n${why} after ${secs()} s\n`);
    console.log(monitor.reportText());
    for (const a of accused) console.log(`healthy route named: ${a}`);
    load.kill();
    server.close();
    app.locals.closeFiles();
    monitor.close();
    process.exitCode = code;
  }

  // Every second: what a user polling the reports during the alert would read.
  const check = setInterval(() => {
    if (monitor.native.isClosed()) return;
    for (const series of Object.keys(LEAKS)) look(series, 'report', monitor.report(series));
    const missing = Object.keys(LEAKS).filter((s) => !alerted[s] || !named[s]);
    if (missing.length === 0) {
      finish(accused.length ? 1 : 0, accused.length ? 'a healthy route was named' : `every leak alerted and named (${Object.entries(named).map(([s, by]) => `${s}: ${by}`).join('; ')})`);
    }
  }, 1000);
  setTimeout(() => {
    const missing = Object.keys(LEAKS).filter((s) => !alerted[s] || !named[s]);
    finish(1, `not alerted and named in time: ${missing.join(', ')}`);
  }, TIMEOUT_MS).unref();
  monitor.start();
});
