'use strict';
// The WASI fallback (NAPI_RS_FORCE_WASI=error forbids the native addon): the pure functions
// work and give the same answers; the Monitor says `unsupported`.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const script = `
const ls = require(${JSON.stringify(path.join(__dirname, '..'))});
const native = require(${JSON.stringify(path.join(__dirname, '..', 'index.js'))});
const ts = Array.from({ length: 60 }, (_, i) => 1700000000 + i * 60);
const out = {
  target: native.__napiBindingTarget,
  deriv: ls.deriv([10, 20], [1, 6]),
  analyze: ls.analyze(ts, ts.map(() => 1e8)).verdict,
  catalog: Object.keys(ls.catalog('node', 'legacy')).length,
};
try { ls.deriv([2, 1], [1, 2]); } catch (e) { out.derivError = e.code; }
try { new ls.Monitor(); } catch (e) { out.monitorError = e.code; }
console.log(JSON.stringify(out));
`;

test('WASI fallback: pure functions work, the Monitor is unsupported', () => {
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', script], { env: { ...process.env, NAPI_RS_FORCE_WASI: 'error' }, encoding: 'utf8', timeout: 60000 });
  assert.strictEqual(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.deepStrictEqual(got, { target: 'wasm32-wasi', deriv: 0.5, analyze: 'insufficient', catalog: got.catalog, derivError: 'out_of_order', monitorError: 'unsupported' });
  assert.ok(got.catalog > 10);
});
