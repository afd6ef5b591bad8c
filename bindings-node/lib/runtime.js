'use strict';
// What only the Node runtime can read: the heap after a major GC, and V8's own limits.
const v8 = require('node:v8');
const { PerformanceObserver, constants } = require('node:perf_hooks');

/** The lower of process.constrainedMemory() and the V8 heap limit, in bytes. */
function runtimeLimit() {
  const heap = v8.getHeapStatistics().heap_size_limit;
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  // Node returns 0/undefined without a constraint and 2^64-1 in an unlimited cgroup.
  return constrained > 0 && constrained < heap ? constrained : heap;
}

/** Gives the core the runtime limit (the detector uses the smallest applicable one). */
function applyRuntimeLimit(nativeMonitor) {
  nativeMonitor.setRuntimeLimit(runtimeLimit());
}

/**
 * Feeds the V8 heap (used plus external memory) to the core's detector, which then watches it
 * instead of RSS: a sample every poll tick (the detector finds the floor of the GC sawtooth
 * itself) and one right after every major (mark-compact) GC, the floor's exact points, marked
 * as such (`observeBaselineAfterFullGc`) so that an old generation collected only every hour
 * or more does not read as a leak between collections. Major GCs alone are too sparse while a
 * leak grows the heap fast (V8 then runs few of them).
 * The observer's entry list is dropped after each callback, so nothing accumulates.
 */
function watchHeap(nativeMonitor) {
  let last = -Infinity;
  const sample = (afterFullGc = false) => {
    // Two samples in one millisecond would be out of order for the core; keep the first.
    const now = Date.now();
    if (now <= last || nativeMonitor.isClosed()) return;
    last = now;
    // External memory holds Buffer and ArrayBuffer stores: a leak of Buffers is a classic Node
    // leak that the JS heap alone would not show.
    const h = v8.getHeapStatistics();
    const bytes = h.used_heap_size + h.external_memory;
    if (afterFullGc) nativeMonitor.observeBaselineAfterFullGc(now, bytes);
    else nativeMonitor.observeBaseline(now, bytes);
  };
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) sample(true);
  });
  return {
    sample: () => sample(false),
    start: () => observer.observe({ entryTypes: ['gc'] }),
    stop: () => observer.disconnect(),
  };
}

/**
 * Active handles, requests and timers keeping the event loop alive: a count that only Node can
 * read, fed to the core's count detector every poll tick (a socket, file handle or interval
 * left open per request grows it).
 */
function activeResources() {
  return process.getActiveResourcesInfo().length;
}

module.exports = { runtimeLimit, applyRuntimeLimit, watchHeap, activeResources };
