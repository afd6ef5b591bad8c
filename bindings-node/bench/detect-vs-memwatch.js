'use strict';
// Detection on the example app (examples/node-leak), leaksense against @airbnb/node-memwatch in
// the same process: does each raise its 'leak' event, and how long after the leak starts?
// And on the same app without the leaking traffic: does either raise a false alarm?
// memwatch is a node-gyp addon, not a dependency; install it first (it builds on node 20):
//   npm install --no-save @airbnb/node-memwatch@3.0.0 && npm rebuild @airbnb/node-memwatch
// Run: node bench/detect-vs-memwatch.js leak|healthy   (at most 150 s / 90 s)
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const memwatch = require('@airbnb/node-memwatch');
const { Monitor } = require('..');
const example = path.join(__dirname, '..', '..', 'examples', 'node-leak');
const { createApp, DEMO_OPTIONS } = require(path.join(example, 'app.js'));

const scenario = process.argv[2] ?? 'leak';
const LEAK_AFTER_MS = 15_000;
const leaking = scenario === 'leak';
const RUN_MS = leaking ? 150_000 : 90_000;

const monitor = new Monitor(DEMO_OPTIONS);
const server = http.createServer(createApp(monitor));
const LEAKING_ROUTE = '/sessions/:id';
const found = { leaksense: null, firstTop: null, rightTop: null, wrongTops: new Set(), memwatch: null, memwatchInfo: null, majorGcs: 0 };

server.listen(0, '127.0.0.1', () => {
  const load = fork(path.join(example, 'load.js'), [String(server.address().port), String(leaking ? LEAK_AFTER_MS : 1e12)]);
  const t0 = Date.now();
  const since = () => (Date.now() - t0 - (leaking ? LEAK_AFTER_MS : 0)) / 1000;
  monitor.on('leak', (report) => { found.leaksense ??= since(); });
  memwatch.on('leak', (info) => { if (found.memwatch === null) { found.memwatch = since(); found.memwatchInfo = info; } });
  memwatch.on('stats', () => { found.majorGcs++; });
  const check = setInterval(() => {
    const top = monitor.report().suspects[0];
    // The top suspect while firing: the first one named, and when the leaking route is first on top.
    if (monitor.analysis().state === 'firing' && top) {
      found.firstTop ??= { route: top.route, at: since() };
      if (top.route === LEAKING_ROUTE) found.rightTop ??= since();
      else found.wrongTops.add(top.route);
    }
    const done = leaking ? found.rightTop !== null && found.memwatch !== null : false;
    if (done || Date.now() - t0 > RUN_MS) {
      clearInterval(check);
      load.kill();
      server.close();
      monitor.close();
      const fmt = (s) => (s === null ? 'never' : `${s.toFixed(1)} s`);
      console.log(`scenario: ${scenario} (${leaking ? 'leak starts at 15 s; times are after it starts' : 'no leaking traffic; times are after start'})`);
      console.log(`  leaksense 'leak' event:   ${fmt(found.leaksense)}; first top suspect: ${found.firstTop ? `${found.firstTop.route} at ${fmt(found.firstTop.at)}` : 'none'}`);
      console.log(`  leaksense names ${LEAKING_ROUTE} on top at: ${fmt(found.rightTop)}; other routes it put on top: ${[...found.wrongTops].join(', ') || 'none'}`);
      console.log(`  node-memwatch 'leak':     ${fmt(found.memwatch)}${found.memwatchInfo ? ` (${found.memwatchInfo.reason})` : ''}; names no route`);
      console.log(`  memwatch 'stats' (full GCs seen): ${found.majorGcs}; run ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  }, 500);
  monitor.start();
});
