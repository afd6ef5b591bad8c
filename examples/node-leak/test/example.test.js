'use strict';
// Runs the example end to end: a real Express service under load, and the report must name the
// leaking route (main.js exits 0 only then).
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const path = require('node:path');

test('the report names the leaking route /sessions/:id', { timeout: 280_000 }, async (t) => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'main.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const killer = setTimeout(() => process.kill(child.pid, 'SIGKILL'), 270_000);
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  t.diagnostic(out.split('\n').find((l) => / after [\d.]+ s$/.test(l)) ?? 'no result line');
  assert.strictEqual(code, 0, out);
  assert.match(out, /suspects\n\s+1\. \/sessions\/:id /, out);
  assert.match(out, /leaksense: LEAK/, out);
});
