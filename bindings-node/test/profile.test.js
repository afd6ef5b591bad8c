'use strict';
// The live-heap profile from V8's sampling heap profiler: flattening, feeding, the retaining
// line named as the top growing site, pprof export and every error path.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Monitor } = require('..');
const { flatten } = require('../lib/profile.js');

test('flatten: parents first, 1-based lines, samples counted per node and size', () => {
  const frame = (functionName, lineNumber) => ({ functionName, url: 'file:///a.js', lineNumber, columnNumber: 0, scriptId: '1' });
  const profile = {
    head: { id: 1, callFrame: frame('(root)', -1), children: [
      { id: 2, callFrame: frame('main', 9), children: [{ id: 3, callFrame: frame('leak', 19), children: [] }] },
    ] },
    samples: [{ nodeId: 3, size: 64, ordinal: 1 }, { nodeId: 3, size: 64, ordinal: 2 }, { nodeId: 3, size: 128, ordinal: 3 }, { nodeId: 99, size: 8, ordinal: 4 }],
  };
  const f = flatten(profile);
  assert.deepStrictEqual(f.names, ['(root)', 'main', 'leak']);
  assert.deepStrictEqual(f.parents, [-1, 0, 1]);
  assert.deepStrictEqual(f.lines, [0, 10, 20]);
  assert.deepStrictEqual([f.sampleNodes, f.sampleSizes, f.sampleCounts], [[2, 2], [64, 128], [2, 1]]);
});

const kept = [];
function retainForTest(n) {
  for (let i = 0; i < n; i++) kept.push(new Array(256).fill(i)); // the leak
}

test('the top growing site is the retaining line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaksense-profile-'));
  const m = new Monitor({ heap: false, profile: { enabled: true, snapshot_every_ms: 1, sample_bytes: 16384 } });
  assert.throws(() => m.writePprof(path.join(dir, 'x.pb')), { code: 'empty_input' });
  m.start();
  try {
    assert.strictEqual(typeof m.profileHeap(), 'number');
    retainForTest(20000);
    const pause = m.profileHeap();
    assert.ok(pause >= 0, String(pause));
    const p = m.report().profile;
    assert.ok(p && p.sites.length > 0, JSON.stringify(p));
    const top = p.sites[0];
    const src = fs.readFileSync(__filename, 'utf8').split('\n');
    // V8's sampling heap profiler knows functions, not lines: a node's line is where its
    // function starts.
    const want = src.findIndex((l) => l.startsWith('function retainForTest(')) + 1;
    assert.strictEqual(top.function, 'retainForTest', JSON.stringify(p.sites));
    assert.ok(top.file.endsWith('profile.test.js'), top.file);
    assert.strictEqual(top.line, want);
    // 20000 arrays of 256 slots: about 40 MB on a 64-bit V8 (8-byte slots, or 4 with pointer
    // compression), estimated from samples.
    assert.ok(top.bytes > 10e6 && top.bytes < 100e6, String(top.bytes));
    m.writePprof(path.join(dir, 'growth.pb'), 'growth');
    assert.ok(fs.statSync(path.join(dir, 'growth.pb')).size > 0);
    assert.throws(() => m.writePprof(path.join(dir, 'x.pb'), 'heap'), { code: 'invalid_option' });
    assert.throws(() => m.writePprof('/no/such/dir/x.pb'), { code: 'io' });
  } finally {
    m.close();
    kept.length = 0;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.strictEqual(m.profileHeap(), null, 'stopped');
});

test('bad profiles are invalid_option errors', () => {
  const m = new Monitor({ heap: false, profile: { enabled: true } });
  const n = m.native;
  const ok = [['a', 'b'], ['', ''], [0, 1], [-1, 0], [1], [8], [2]];
  n.profileReplace(1, ...ok, 512);
  const bad = [
    [['a'], ['', ''], [0, 1], [-1, 0], [1], [8], [2]], // lengths differ
    [['a', 'b'], ['', ''], [0, 1], [1, -1], [1], [8], [2]], // a parent after its child
    [['a', 'b'], ['', ''], [0, 1], [-1, 0], [5], [8], [2]], // no such node
    [['a', 'b'], ['', ''], [0, 1.5], [-1, 0], [1], [8], [2]], // a fractional line
    [['a', 'b'], ['', ''], [0, 1], [-1, 0], [1], [-8], [2]], // a negative size
    [['a', 'b'], ['', ''], [0, 1], [-1, 0], [1, 0], [8], [2]], // sample lengths differ
  ];
  for (const args of bad) assert.throws(() => n.profileReplace(2, ...args, 512), { code: 'invalid_option' }, JSON.stringify(args));
  assert.throws(() => n.profileReplace(NaN, ...ok, 512), { code: 'invalid_option' });
  m.close();
  assert.throws(() => n.profileReplace(3, ...ok, 512), { code: 'closed' });
});

test('off by default: no profiler started, feeds refused', () => {
  const m = new Monitor({ heap: false });
  assert.strictEqual(m.config().profile.enabled, false);
  m.start();
  assert.strictEqual(m.profileHeap(), null);
  assert.throws(() => m.native.profileReplace(1, [], [], [], [], [], [], [], 1), { code: 'invalid_option' });
  assert.throws(() => m.writePprof('/tmp/x.pb'), { code: 'invalid_option' });
  m.close();
  assert.throws(() => new Monitor({ profile: { max_stacks: 2 } }), { code: 'invalid_option' });
});
