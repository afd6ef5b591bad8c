'use strict';
// The Monitor: the core monitor plus Node's event loop glue (an unref'd poll timer, events).
const { EventEmitter } = require('node:events');
const native = require('../index.js');
const { codedError, optionsJson } = require('./options.js');
const runtime = require('./runtime.js');
const { watchProfile } = require('./profile.js');

/** The count only Node can read, fed to the core every poll tick while the monitor runs. */
const ACTIVE_RESOURCES = 'active_resources';

/**
 * Watches this process for memory leaks. Options go to the core as one JSON object, laid over
 * its Node preset. Emits the core's events, each with the report the core built for it:
 * 'leak' (an alert went to firing), 'suspects' (while it fires, the core is sure of the
 * suspect routes; often later than the alert) and 'resolved' (it left firing), for memory and
 * for each watched count (`event.measure`: 'memory', 'open_fds', 'active_resources').
 */
class Monitor extends EventEmitter {
  constructor(options = {}) {
    super();
    if (!native.NativeMonitor) {
      throw codedError('unsupported', `the Monitor needs the native addon; this process loaded the ${native.__napiBindingTarget} fallback, which has the pure functions only`);
    }
    this.native = new native.NativeMonitor(optionsJson(options));
    // The middleware's batches of finished requests (lib/middleware.js), flushed into the core
    // on every tick and before anything that reads the core's request counts.
    this.flushes = new Set();
    const config = this.native.config();
    this.intervalMs = config.interval_ms;
    this.timer = null;
    this.heapWatch = config.heap ? runtime.watchHeap(this.native) : null;
    this.feedsResources = config.counts.includes(ACTIVE_RESOURCES);
    this.lastCountMs = -Infinity;
    runtime.applyRuntimeLimit(this.native);
    // The live-heap profile: V8's sampling heap profiler, read once per snapshot period (each
    // read forces a full GC, so no more often than the snapshots need).
    const profile = this.native.config().profile;
    this.profileWatch = profile.enabled ? watchProfile(this.native, profile.sample_bytes) : null;
    this.profileEveryMs = Math.max(this.intervalMs, profile.snapshot_every_ms);
    this.profileLast = 0;
  }

  /**
   * Starts the core's sampler thread (it samples RSS and counts open descriptors off the JS
   * thread, so a busy event loop cannot delay it) and an unref'd timer that feeds the V8 heap
   * (with the `heap` option) and the active resources count, and delivers the core's events
   * here.
   */
  start() {
    this.native.start();
    this.heapWatch?.start();
    this.profileWatch?.start();
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.heapWatch?.sample();
        this.feedCounts();
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
    this.flush();
    this.stop();
    this.native.close();
  }

  /** Feeds the counts only Node can read (a tick within the last one's millisecond is skipped). */
  feedCounts() {
    const now = Date.now();
    if (!this.feedsResources || now <= this.lastCountMs || this.native.isClosed()) return;
    this.lastCountMs = now;
    this.native.observeCount(ACTIVE_RESOURCES, now, runtime.activeResources());
  }

  /** Registers a middleware's flush (called by lib/middleware.js). */
  addFlush(flush) { this.flushes.add(flush); }

  /** Hands the middleware's waiting requests to the core now. */
  flush() { for (const f of this.flushes) f(); }

  /** Drains the core's events and emits each under its kind; returns them. */
  poll() {
    this.flush();
    const events = this.native.pollEvents();
    for (const e of events) {
      if (this.native.isClosed()) break; // a listener closed the monitor
      this.emit(e.kind, e);
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

  /** Feeds recorded steps (requests per route and a post-GC baseline at injected times). */
  replay(steps) { this.native.replay(JSON.stringify(steps)); }
  /**
   * The leak report of memory (the default) or of a watched count ('open_fds',
   * 'active_resources'), in the core's stable JSON schema (snake_case keys).
   */
  report(series) { this.flush(); return this.native.report(series ?? null); }
  /** The leak report of memory or of a watched count, as text. */
  reportText(series) { this.flush(); return this.native.reportText(series ?? null); }
  /** Feeds one reading of a watched count (the poll timer feeds 'active_resources'; the core counts 'open_fds'). */
  observeCount(series, tsMs, value) { return this.native.observeCount(series, tsMs, value); }
  /** The counts watched beside memory. */
  counts() { return this.native.config().counts; }
  /** The detector's current analysis. */
  analysis() { return this.native.analysis(); }
  /** Samples process memory now (unix ms, default now) and feeds the detector. */
  sample(tsMs) { return this.native.sample(tsMs); }
  /** Feeds a runtime heap sample (done for you with the `heap` option). */
  observeBaseline(tsMs, bytes) { return this.native.observeBaseline(tsMs, bytes); }
  /** Feeds a heap sample taken right after a full (mark-compact) GC (done for you with `heap`). */
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

module.exports = { Monitor };
