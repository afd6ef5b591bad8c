'use strict';
// One metrics collection through the real @opentelemetry/sdk-metrics: leaksense's registerMetrics
// (V8 heap and spaces, GC histogram, process and container memory, detector gauges) against
// @opentelemetry/instrumentation-runtime-node (its default metrics), same reader, same process.
// Run: node bench/collect.js   (median of 7 rounds of 2,000 collections each)
const { performance } = require('node:perf_hooks');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
const { RuntimeNodeInstrumentation } = require('@opentelemetry/instrumentation-runtime-node');
const { Monitor, registerMetrics } = require('..');

class ManualReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

async function perCollection(reader, n) {
  const out = [];
  for (let r = 0; r < 8; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) await reader.collect();
    if (r > 0) out.push(((performance.now() - t) * 1000) / n); // round 0 warms up
  }
  out.sort((a, b) => a - b);
  return out[Math.floor(out.length / 2)];
}

function points(result) {
  let n = 0;
  for (const sm of result.resourceMetrics.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

async function main() {
  const monitor = new Monitor({ heap: false });
  const ours = new ManualReader();
  registerMetrics(new MeterProvider({ readers: [ours] }).getMeter('leaksense'), { monitor });

  const theirs = new ManualReader();
  const inst = new RuntimeNodeInstrumentation();
  inst.setMeterProvider(new MeterProvider({ readers: [theirs] }));
  inst.enable();
  await new Promise((r) => setTimeout(r, 100)); // let its event-loop monitors produce a value

  const N = 2000;
  const a = await perCollection(ours, N);
  const b = await perCollection(theirs, N);
  const pa = points(await ours.collect());
  const pb = points(await theirs.collect());
  console.log(`node ${process.version}; one collection (median of 7 rounds of ${N})`);
  console.log(`  leaksense registerMetrics            ${a.toFixed(1)} µs  (${pa} data points)`);
  console.log(`  instrumentation-runtime-node 0.36.1  ${b.toFixed(1)} µs  (${pb} data points)`);
  console.log(`  ratio runtime-node / leaksense: ${(b / a).toFixed(2)}x`);
  inst.disable();
  monitor.close();
}
main();
