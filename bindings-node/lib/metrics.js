'use strict';
// Node runtime metrics on an OpenTelemetry meter; names, units and descriptions come from the
// core catalog (semconv or the article's legacy process.runtime.nodejs.* names).
const v8 = require('node:v8');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const addon = require('../index.js');

/**
 * Returns the core catalog for `runtime` and `naming` ('semconv' | 'legacy'; left out: the core's
 * default) as objects keyed by stable key.
 */
function catalog(runtime = 'node', naming = null) {
  const out = {};
  for (const m of JSON.parse(addon.catalogJson(runtime, naming ?? null))) out[m.key] = m;
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

// One instrument per entry of `keys` (local name -> catalog key), under the same local names.
function instruments(meter, c, keys) {
  return Object.fromEntries(Object.entries(keys).map(([local, key]) => [local, instrument(meter, c[key])]));
}

// Observable instruments read in one batch callback per collection; returns the unregister.
function batch(meter, instruments, cb) {
  const list = Object.values(instruments);
  meter.addBatchObservableCallback(cb, list);
  return () => meter.removeBatchObservableCallback(cb, list);
}

/** Registers the V8 heap instruments on `meter`; one heap-statistics read per collection. */
function registerV8Metrics(meter, { naming } = {}) {
  const c = catalog('node', naming);
  const ins = instruments(meter, c, {
    used: 'v8js.heap.used',
    total: 'v8js.heap.total',
    limit: 'v8js.heap.limit',
    external: 'v8js.external',
    arrayBuffers: 'v8js.array_buffers',
    spaceUsed: 'v8js.heap.space.used',
    spaceLimit: 'v8js.heap.space.limit',
    spaceAvailable: 'v8js.heap.space.available',
    spacePhysical: 'v8js.heap.space.physical',
  });
  const attr = {
    used: c['v8js.heap.space.used'].attributes[0],
    limit: c['v8js.heap.space.limit'].attributes[0],
    available: c['v8js.heap.space.available'].attributes[0],
    physical: c['v8js.heap.space.physical'].attributes[0],
  };
  return batch(meter, ins, (r) => {
    const h = v8.getHeapStatistics();
    r.observe(ins.used, h.used_heap_size);
    r.observe(ins.total, h.total_heap_size);
    r.observe(ins.limit, h.heap_size_limit);
    r.observe(ins.external, h.external_memory);
    // Only process.memoryUsage() knows array buffers (about 2.5 µs, once per collection).
    r.observe(ins.arrayBuffers, process.memoryUsage().arrayBuffers);
    for (const s of v8.getHeapSpaceStatistics()) {
      r.observe(ins.spaceUsed, s.space_used_size, { [attr.used]: s.space_name });
      r.observe(ins.spaceLimit, s.space_size, { [attr.limit]: s.space_name });
      r.observe(ins.spaceAvailable, s.space_available_size, { [attr.available]: s.space_name });
      r.observe(ins.spacePhysical, s.physical_space_size, { [attr.physical]: s.space_name });
    }
  });
}

// perf_hooks GC kinds to the semconv `v8js.gc.type` values.
const GC_TYPES = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Records every GC's duration by type on the `v8js.gc.duration` histogram. The observer hands
 * over each batch of entries and keeps none, so its buffer stays bounded.
 */
function registerGcMetrics(meter, { naming } = {}) {
  const m = catalog('node', naming)['v8js.gc.duration'];
  const histogram = meter.createHistogram(m.name, {
    unit: m.unit,
    description: m.description,
    advice: { explicitBucketBoundaries: [0.01, 0.1, 1, 10] },
  });
  const attr = m.attributes[0];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) histogram.record(e.duration / 1000, { [attr]: GC_TYPES[e.detail?.kind] ?? 'unknown' });
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/**
 * Registers process memory (RSS, virtual, peak), container memory (cgroup usage, OOM kills),
 * the monitor's detector gauges (baseline, rate, time to limit, limit, state) and its watched
 * counts (open descriptors, active resources: the core's latest reading, what its count
 * detector saw). Process and container figures come from one core reading per collection.
 */
function registerMonitorMetrics(meter, monitor, { naming = monitor.config().naming } = {}) {
  const c = catalog('node', naming);
  const ins = instruments(meter, c, {
    rss: 'process.memory.usage',
    virtual: 'process.memory.virtual',
    peak: 'process.memory.peak',
    containerUsage: 'container.memory.usage',
    oomKills: 'container.memory.oom_kills',
  });
  // The detector's gauges, in the order the core gives their values.
  const gauges = addon.gaugeKeys().map((key) => instrument(meter, c[key]));
  const counts = Object.fromEntries(Object.entries(COUNT_KEYS)
    .filter(([series]) => monitor.counts().includes(series))
    .map(([series, key]) => [series, instrument(meter, c[key])]));
  const observe = (r, instrument, v) => { if (v !== null && v !== undefined) r.observe(instrument, v); };
  return batch(meter, { ...ins, ...gauges, ...counts }, (r) => {
    if (monitor.native.isClosed()) {
      r.observe(ins.rss, process.memoryUsage.rss());
      return;
    }
    // One read of each source, without feeding the detector (its sampler thread does that).
    const snap = monitor.native.memory();
    r.observe(ins.rss, snap.process.rss_bytes);
    r.observe(ins.virtual, snap.process.virtual_bytes);
    observe(r, ins.peak, snap.peak_rss);
    observe(r, ins.containerUsage, snap.container.usage);
    observe(r, ins.oomKills, snap.container.oom_kill);
    monitor.native.gauges().forEach((v, i) => observe(r, gauges[i], v));
    for (const [series, ins] of Object.entries(counts)) observe(r, ins, monitor.native.countValue(series));
  });
}

// The watched counts' catalog keys, by series.
const COUNT_KEYS = { open_fds: 'process.open_fds', active_resources: 'nodejs.active_resources' };

/**
 * Registers every Node metric on `meter`: the V8 heap, GC durations, and with `monitor` the
 * process and container memory and the detector gauges. Returns a function that unregisters them.
 */
function registerMetrics(meter, { monitor, naming = monitor?.config().naming } = {}) {
  const undo = [registerV8Metrics(meter, { naming }), registerGcMetrics(meter, { naming })];
  if (monitor) undo.push(registerMonitorMetrics(meter, monitor, { naming }));
  return () => undo.forEach((f) => f());
}

module.exports = { catalog, registerMetrics, registerV8Metrics, registerGcMetrics, registerMonitorMetrics };
