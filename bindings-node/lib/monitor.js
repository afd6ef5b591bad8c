'use strict';
// The Monitor: the core monitor plus Node's event loop glue (an unref'd poll timer, events).
const { EventEmitter } = require('node:events');
const native = require('../index.js');
const { checkObject, codedError, optionsJson } = require('./options.js');
const runtime = require('./runtime.js');
const { watchProfile } = require('./profile.js');

/** Options every Node monitor starts from; the caller's keys override them. */
const NODE_DEFAULTS = { runtime: 'node', measures: ['heap_used'] };

/**
 * Detector options under the caller's while the V8 heap is watched: its readings after each
 * mark-compact are marked, and no leak is declared in the first 4 h before one has run (V8 may
 * collect an old generation only every hour or more; BENCHMARKS.md, "Slow GC as a V8 heap
 * shows it").
 */
const HEAP_DETECTOR_DEFAULTS = { reports_full_gcs: true, first_collection_secs: 4 * 3600 };

/**
 * Watches this process for memory leaks. Emits 'leak' (report, event) when the core's alert
 * goes to firing, and once more while it fires, with `event.kind === 'suspects'`, carrying the
 * report naming its suspect routes once the core is sure of them (often later than the alert
 * fires); 'resolved' (report, event) when it leaves firing.
 */
class Monitor extends EventEmitter {
  constructor(options = {}) {
    super();
    if (!native.NativeMonitor) {
      throw codedError('unsupported', `the Monitor needs the native addon; this process loaded the ${native.__napiBindingTarget} fallback, which has the pure functions only`);
    }
    const { heap = true, ...core } = checkObject(options);
    if (heap) core.detector = { ...HEAP_DETECTOR_DEFAULTS, ...checkObject(core.detector, 'detector') };
    // Opt-in: each read of V8's sampling heap profile through node:inspector forces a full GC
    // (the inspector always asks V8 for one), a pause that grows with the heap (BENCHMARKS.md,
    // "Live-heap profile").
    core.profile = { enabled: false, ...checkObject(core.profile, 'profile') };
    this.native = new native.NativeMonitor(optionsJson({ ...NODE_DEFAULTS, ...core }));
    this.intervalMs = this.native.config().interval_ms;
    this.timer = null;
    this.heapWatch = heap ? runtime.watchHeap(this.native) : null;
    runtime.applyRuntimeLimit(this.native);
    // The live-heap profile: V8's sampling heap profiler, read once per snapshot period (each
    // read forces a full GC, so no more often than the snapshots need).
    const profile = this.native.config().profile;
    this.profileWatch = profile.enabled ? watchProfile(this.native, profile.sample_bytes) : null;
    this.profileEveryMs = Math.max(this.intervalMs, profile.snapshot_every_ms);
    this.profileLast = 0;
  }

  /**
   * Starts the core's sampler thread (it samples RSS off the JS thread, so a busy event loop
   * cannot delay it) and an unref'd timer that feeds the V8 heap (unless `heap: false`) and
   * delivers the detector's events here.
   */
  start() {
    this.native.start();
    this.heapWatch?.start();
    this.profileWatch?.start();
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.heapWatch?.sample();
        if (this.profileWatch && Date.now() - this.profileLast >= this.profileEveryMs) this.profileHeap();
        this.poll();
      }, this.intervalMs);
      this.timer.unref();
    }
    return this;
  }

  /** Stops sampling and the timer; `start()` resumes. */
  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.heapWatch?.stop();
    this.profileWatch?.stop();
    this.native.stop();
    return this;
  }

  /** Stops everything; later calls throw an error with code 'closed'. Idempotent. */
  close() {
    this.stop();
    this.native.close();
  }

  /** Delivers the events queued in the core as 'leak' and 'resolved' events. */
  poll() {
    const events = this.native.pollEvents();
    // A 'suspects' event (while firing) carries the report that first named suspect routes; a
    // firing polled together with it makes one 'leak', with that report.
    const named = events.some((e) => e.kind === 'suspects');
    for (const e of events) {
      if (this.native.isClosed()) break; // a listener closed the monitor
      if (e.kind === 'suspects') this.emit('leak', e.report, e);
      else if (e.to === 'firing' && !named) this.emit('leak', this.native.report(), e);
      else if (e.from === 'firing') this.emit('resolved', this.native.report(), e);
    }
    return events;
  }

  /**
   * Reads V8's sampling heap profile now and feeds the live-heap profile (the poll timer does
   * this once per snapshot period). Returns the milliseconds the read took (the event loop's
   * pause), or null when the profiler is off or not started.
   */
  profileHeap() {
    this.profileLast = Date.now();
    return this.profileWatch ? this.profileWatch.read() : null;
  }

  /** Writes the live-heap profile as a pprof file: kind 'inuse' (default) or 'growth'. */
  writePprof(path, kind = 'inuse') { return this.native.writePprof(path, kind); }

  /** The leak report (the core's stable JSON schema, snake_case keys). */
  report() { return this.native.report(); }
  /** The leak report as text. */
  reportText() { return this.native.reportText(); }
  /** The detector's current analysis. */
  analysis() { return this.native.analysis(); }
  /** Samples process memory now (unix ms, default now) and feeds the detector. */
  sample(tsMs) { return this.native.sample(tsMs); }
  /** Feeds a runtime heap sample (done for you unless `heap: false`). */
  observeBaseline(tsMs, bytes) { return this.native.observeBaseline(tsMs, bytes); }
  /** Feeds a heap sample taken right after a full (mark-compact) GC (done for you unless `heap: false`). */
  observeBaselineAfterFullGc(tsMs, bytes) { return this.native.observeBaselineAfterFullGc(tsMs, bytes); }
  /** Records the runtime's limit in bytes (null clears it). */
  setRuntimeLimit(bytes) { return this.native.setRuntimeLimit(bytes); }
  /** The options in force, defaults filled in. */
  config() { return this.native.config(); }
  /** Which series the detector watches: 'rss' or 'runtime_baseline'. */
  watched() { return this.native.watched(); }
  /** Whether the sampler runs. */
  isRunning() { return this.native.isRunning(); }
}

module.exports = { Monitor, NODE_DEFAULTS };
