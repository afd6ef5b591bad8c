'use strict';
// The shared monitor vector: replayed through Monitor, the listeners get exactly the events the
// core's own test expects (kind, time, measure, report and its text), in order.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { Monitor } = require('..');

const VECTOR = path.join(__dirname, '..', '..', 'tests', 'vectors', 'monitor.json');

test('the monitor vector gives the same events', () => {
  const doc = JSON.parse(fs.readFileSync(VECTOR, 'utf8'));
  const m = new Monitor(doc.options);
  const got = [];
  for (const kind of ['leak', 'suspects', 'resolved']) m.on(kind, (e) => got.push(e));
  for (const step of doc.steps) {
    m.replay([step]);
    m.poll();
  }
  m.close();
  assert.deepStrictEqual(got.map((e) => e.kind), ['leak', 'suspects', 'resolved']);
  assert.deepStrictEqual(got, doc.events);
  assert.strictEqual(got[1].report.suspects[0].route, '/leak');
});

test('replay errors carry codes', () => {
  const m = new Monitor({ heap: false });
  assert.throws(() => m.replay([{ ts_ms: 1, bogus: 1 }]), { code: 'invalid_option' });
  assert.throws(() => m.replay({}), { code: 'invalid_option' });
  assert.throws(() => m.replay([{ ts_ms: 2, baseline: 1 }, { ts_ms: 1, baseline: 1 }]), { code: 'out_of_order' });
  m.close();
  assert.throws(() => m.replay([]), { code: 'closed' });
});
