'use strict';
// Runs every shared vector file through the addon; an unknown op fails the test.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const ls = require('..');

const dir = path.join(__dirname, '..', '..', 'tests', 'vectors');
const num = (x) => (x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x);
const arr = (a) => a.map(num);

const ops = {
  deriv: (a) => ls.deriv(arr(a.timestamps), arr(a.values)),
  predict_linear: (a) => ls.predictLinear(arr(a.timestamps), arr(a.values), num(a.eval_time), num(a.horizon)),
  find_growth_inflection: (a) => ls.findGrowthInflection(arr(a.timestamps), arr(a.values), num(a.window), num(a.ratio)),
  // `options` goes to the core as it is; the older cases give kind and limit.
  analyze: (a) => ls.analyze(arr(a.timestamps), arr(a.values), a.options ?? { kind: a.kind, limit: a.limit }),
};

// Detector cases: exact verdict/state, inclusive ranges for growth_start (s) and rate_per_sec.
function checkAnalysis(got, expect) {
  let checked = 0;
  for (const key of ['verdict', 'state']) {
    if (key in expect) { assert.strictEqual(got[key], expect[key], key); checked++; }
  }
  const secs = (ms) => (ms == null ? null : ms / 1000);
  const ranges = { growth_start: secs(got.growth_start_ms), growth_stop: secs(got.growth_stop_ms), rate_per_sec: got.rate_per_sec };
  for (const [key, v] of Object.entries(ranges)) {
    if (!(key in expect)) continue;
    const [lo, hi] = arr(expect[key]);
    assert.ok(v != null && lo <= v && v <= hi, `${key} ${v} not in [${lo}, ${hi}]`);
    checked++;
  }
  const firing = got.events.filter((e) => e.to === 'firing').map((e) => e.ts_ms / 1000);
  if ('fired' in expect) { assert.strictEqual(firing.length > 0, expect.fired, 'fired'); checked++; }
  if ('fired_by' in expect) {
    assert.ok(firing.length > 0 && firing[0] <= expect.fired_by, `first firing ${firing[0]} not by ${expect.fired_by}`);
    checked++;
  }
  assert.ok(checked > 0, 'case checks nothing');
}

function close(got, want) {
  if (want === null) return assert.strictEqual(got, null);
  want = num(want);
  if (Number.isNaN(want)) return assert.ok(Number.isNaN(got), `want NaN, got ${got}`);
  if (!Number.isFinite(want)) return assert.strictEqual(got, want);
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `got ${got}, want ${want}`);
}

// monitor.json drives a Monitor (monitor-vector.test.js); the others are function cases.
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'monitor.json').sort()) {
  const { cases } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  test(`vectors/${file}`, async (t) => {
    for (const c of cases) {
      await t.test(c.name, () => {
        const op = ops[c.op];
        assert.ok(op, `unknown op ${c.op} in ${file}`);
        if ('error' in c.expect) {
          assert.throws(() => op(c.args), (e) => e.code === c.expect.error);
        } else if (c.op === 'analyze') {
          checkAnalysis(op(c.args), c.expect);
        } else if ('value' in c.expect) {
          close(op(c.args), c.expect.value);
        } else if ('timestamp' in c.expect) {
          close(op(c.args), c.expect.timestamp);
        } else {
          assert.fail(`case ${c.name} has no known expectation`);
        }
      });
    }
  });
}
