'use strict';
// Runs the leaking service under load until leaksense names the leaking route, then prints the
// report. Time is compressed through the options so this takes a minute or two, not hours.
// Exit code: 0 when the alert has fired and the report, still reading a leak, names /sessions/:id
// first; 1 otherwise (timeout or wrong route).
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const { Monitor } = require('leaksense');
const { createApp, DEMO_OPTIONS } = require('./app.js');

const LEAKING_ROUTE = '/sessions/:id';
const TIMEOUT_MS = Number(process.env.LEAK_EXAMPLE_TIMEOUT_MS ?? 240_000);

const monitor = new Monitor(DEMO_OPTIONS);

const server = http.createServer(createApp(monitor));
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const load = fork(path.join(__dirname, 'load.js'), [String(port), '15000']);
  const started = Date.now();
  console.log(`service on 127.0.0.1:${port}; load driver pid ${load.pid}`);

  function finish(code, why) {
    if (monitor.native.isClosed()) return;
    console.log(`\n${why} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    console.log(monitor.reportText());
    load.kill();
    server.close();
    monitor.close();
    process.exitCode = code;
  }

  let fired = false;
  // 'leak' comes when the alert fires, 'suspects' once the core is sure of the suspect routes;
  // each event carries the report the core built for it.
  const onEvent = (e) => {
    fired = true;
    const top = e.report.suspects[0];
    if (top?.route === LEAKING_ROUTE) {
      finish(0, `leak detected ('${e.kind}' event); top suspect ${top.route} retains ${Math.round(top.retained_bytes_per_request)} bytes per request`);
    } else {
      console.log(`leak detected, suspects so far: ${e.report.suspects.map((s) => s.route).join(', ') || 'none'}; waiting`);
    }
  };
  monitor.on('leak', onEvent);
  monitor.on('suspects', onEvent);
  // Once the alert has fired, keep checking whether attribution has named the route. The alert
  // itself may drop back to pending meanwhile (RSS can shrink when V8 decommits pages), so what
  // counts is the verdict the report still holds.
  const check = setInterval(() => {
    if (monitor.native.isClosed()) return clearInterval(check);
    if (!fired) return;
    const report = monitor.report();
    if (report.verdict === 'leak' && report.suspects[0]?.route === LEAKING_ROUTE) {
      clearInterval(check);
      finish(0, `leak found (alert ${report.state}); top suspect ${LEAKING_ROUTE} retains ${Math.round(report.suspects[0].retained_bytes_per_request)} bytes per request`);
    }
  }, 1000);
  setTimeout(() => {
    clearInterval(check);
    if (!monitor.native.isClosed()) finish(1, 'the leaking route was not named in time');
  }, TIMEOUT_MS).unref();
  monitor.start();
});
