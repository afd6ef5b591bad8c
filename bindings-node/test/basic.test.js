'use strict';
// Exercises the addon through the generated index.js loader.
const test = require('node:test');
const assert = require('node:assert');
const addon = require('../index.js');

test('catalog legacy names are process.runtime.nodejs.*', () => {
  const m = JSON.parse(addon.catalogJson('node', 'legacy'));
  assert.ok(m.length > 0);
  assert.ok(m.some((x) => x.name.startsWith('process.runtime.nodejs.')), JSON.stringify(m.map((x) => x.name)));
});

test('unknown runtime is invalid_option', () => {
  assert.throws(() => addon.catalogJson('ruby', 'semconv'), { code: 'invalid_option', message: /ruby/ });
});

for (const bad of [-1, 2 ** 40, 1.7, NaN]) {
  test(`u32 rejects ${bad}`, () => {
    assert.throws(() => addon.validateU32('max_routes', bad), { code: 'invalid_option', message: /max_routes/ });
  });
}
test('u32 accepts 7', () => assert.strictEqual(addon.validateU32('x', 7), 7));

for (const bad of [-1, 2 ** 40, 1.7]) {
  test(`findGrowthInflection rejects window ${bad} before conversion`, () => {
    assert.throws(() => addon.findGrowthInflection([1, 2, 3], [1, 2, 3], bad, 2), { code: 'invalid_option', message: /window/ });
  });
}

test("formatAmount is the core's formatter: IEC bytes, counts with a plural unit", () => {
  assert.strictEqual(addon.formatAmount(53657.6), '52.4 KiB');
  assert.strictEqual(addon.formatAmount(1, '{file_descriptor}'), '1 file descriptor');
  assert.strictEqual(addon.formatAmount(5776, '{file_descriptor}'), '5776 file descriptors');
  assert.strictEqual(addon.formatAmount(0.5, '{resource}'), '0.5 resources');
  for (const bad of ['', ' ', 'a\nb', 'x'.repeat(65)]) {
    assert.throws(() => addon.formatAmount(1, bad), { code: 'invalid_option', message: /unit/ });
  }
});

test('deriv with out-of-order timestamps throws out_of_order', () => {
  assert.throws(() => addon.deriv([2, 1], [1, 2]), { code: 'out_of_order' });
});
