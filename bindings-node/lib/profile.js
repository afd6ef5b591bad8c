'use strict';
// V8's sampling heap profiler through node:inspector, read periodically and handed to the core.
// Live objects only (samples of collected objects are dropped by V8), Poisson-sampled by V8
// every `sample_bytes` allocated on average; the core unsamples and keeps the snapshots.
const inspector = require('node:inspector');

/**
 * Flattens the inspector's tree into parallel arrays, parents before children, and counts the
 * live samples per (node, size): what `NativeMonitor.profileReplace` takes.
 */
function flatten(profile) {
  const names = [];
  const urls = [];
  const lines = [];
  const parents = [];
  const indexOf = new Map();
  const stack = [[profile.head, -1]];
  while (stack.length) {
    const [node, parent] = stack.pop();
    const i = names.length;
    const f = node.callFrame;
    names.push(f.functionName);
    urls.push(f.url);
    // The inspector's lines are 0-based (-1 when unknown); pprof and people count from 1.
    lines.push(f.lineNumber >= 0 ? f.lineNumber + 1 : 0);
    parents.push(parent);
    indexOf.set(node.id, i);
    for (const c of node.children) stack.push([c, i]);
  }
  const counts = new Map();
  for (const s of profile.samples) {
    const key = `${s.nodeId}:${s.size}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const sampleNodes = [];
  const sampleSizes = [];
  const sampleCounts = [];
  for (const [key, n] of counts) {
    const [id, size] = key.split(':').map(Number);
    const i = indexOf.get(id);
    if (i === undefined) continue;
    sampleNodes.push(i);
    sampleSizes.push(size);
    sampleCounts.push(n);
  }
  return { names, urls, lines, parents, sampleNodes, sampleSizes, sampleCounts };
}

/**
 * Starts V8's sampling heap profiler on its own inspector session and returns the reader. The
 * inspector's calls are synchronous on this thread, so `read()` is the pause a profile costs.
 */
function watchProfile(nativeMonitor, samplingInterval) {
  let session = null;
  const post = (method, params) => {
    let out;
    let error;
    session.post(method, params, (e, r) => { error = e; out = r; });
    if (error) throw error;
    return out;
  };
  return {
    start() {
      if (session) return;
      session = new inspector.Session();
      session.connect();
      post('HeapProfiler.enable');
      post('HeapProfiler.startSampling', {
        samplingInterval,
        includeObjectsCollectedByMajorGC: false,
        includeObjectsCollectedByMinorGC: false,
      });
    },
    stop() {
      if (!session) return;
      try { post('HeapProfiler.stopSampling'); } finally { session.disconnect(); session = null; }
    },
    /** Reads the profile now and feeds it; returns the milliseconds it took, or null if stopped. */
    read() {
      if (!session || nativeMonitor.isClosed()) return null;
      const t0 = process.hrtime.bigint();
      const { profile } = post('HeapProfiler.getSamplingProfile');
      const f = flatten(profile);
      nativeMonitor.profileReplace(Date.now(), f.names, f.urls, f.lines, f.parents,
        f.sampleNodes, f.sampleSizes, f.sampleCounts, samplingInterval);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    },
  };
}

module.exports = { flatten, watchProfile };
