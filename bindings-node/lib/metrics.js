'use strict';
// V8 heap metrics on an OpenTelemetry meter; names/units/descriptions come from the core catalog.
const v8 = require('node:v8');
const addon = require('../index.js');

/** Returns the core catalog for `runtime` and `naming` ('semconv' | 'legacy') as objects keyed by stable key. */
function catalog(runtime = 'node', naming = 'semconv') {
  const out = {};
  for (const m of JSON.parse(addon.catalogJson(runtime, naming))) out[m.key] = m;
  return out;
}

const CREATE = {
  observable_gauge: 'createObservableGauge',
  observable_up_down_counter: 'createObservableUpDownCounter',
  observable_counter: 'createObservableCounter',
};

function instrument(meter, m) {
  return meter[CREATE[m.kind]](m.name, { unit: m.unit, description: m.description });
}

/** Registers the V8 heap instruments on `meter`; one heap-statistics read per collection. */
function registerV8Metrics(meter, { naming = 'semconv' } = {}) {
  const c = catalog('node', naming);
  const total = {
    used: instrument(meter, c['v8js.heap.used']),
    total: instrument(meter, c['v8js.heap.total']),
    limit: instrument(meter, c['v8js.heap.limit']),
    external: instrument(meter, c['v8js.external']),
  };
  const space = {
    used: instrument(meter, c['v8js.heap.space.used']),
    limit: instrument(meter, c['v8js.heap.space.limit']),
    available: instrument(meter, c['v8js.heap.space.available']),
    physical: instrument(meter, c['v8js.heap.space.physical']),
  };
  const attr = c['v8js.heap.space.used'].attributes[0];
  const cb = (r) => {
    const h = v8.getHeapStatistics();
    r.observe(total.used, h.used_heap_size);
    r.observe(total.total, h.total_heap_size);
    r.observe(total.limit, h.heap_size_limit);
    r.observe(total.external, h.external_memory);
    for (const s of v8.getHeapSpaceStatistics()) {
      const a = { [attr]: s.space_name };
      r.observe(space.used, s.space_used_size, a);
      r.observe(space.limit, s.space_size, a);
      r.observe(space.available, s.space_available_size, a);
      r.observe(space.physical, s.physical_space_size, a);
    }
  };
  meter.addBatchObservableCallback(cb, [...Object.values(total), ...Object.values(space)]);
  return () => meter.removeBatchObservableCallback(cb, [...Object.values(total), ...Object.values(space)]);
}

module.exports = { catalog, registerV8Metrics };
