'use strict';
// Runs the example end to end: a real Express service under load; main.js exits 0 only when the
// memory leak and the descriptor leak were each alerted as their own series with their route
// named, and no healthy route (the garbage-heavy /reports/:id among them) was ever named.
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

test('each leak is alerted as itself and its route named; no healthy route is', { timeout: 280_000 }, async (t) => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'main.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const killer = setTimeout(() => process.kill(child.pid, 'SIGKILL'), 270_000);
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  t.diagnostic(out.split('\n').find((l) => / after [\d.]+ s$/.test(l)) ?? 'no result line');
  assert.strictEqual(code, 0, out);
  assert.match(out, /event: memory leak/, out);
  assert.match(out, /event: open_fds leak/, out);
  // Amounts per request in the core's formatter: IEC bytes, counts with a plural unit.
  assert.match(out, /memory: \/sessions\/:id named .*, [\d.]+ (B|KiB|MiB) per request/, out);
  assert.match(out, /open_fds: \/files\/:id named .*, [\d.]+ file descriptors? per request/, out);
  assert.doesNotMatch(out, /healthy route named/, out);
  assert.match(out, /leaksense: LEAK/, out);
  // The live-heap profile's top growing site is the function that fills the session cache.
  const line = fs.readFileSync(path.join(__dirname, '..', 'app.js'), 'utf8').split('\n')
    .findIndex((l) => l.includes('the bug: nothing ever evicts a session')) + 1;
  const top = out.match(/growing allocation sites .*\n\s+1\. (\S+) \((.*):(\d+)\)/);
  assert.ok(top, out);
  assert.strictEqual(top[1], 'rememberSession', out);
  assert.ok(top[2].endsWith('app.js'), top[2]);
  assert.strictEqual(Number(top[3]), line, out);
});
