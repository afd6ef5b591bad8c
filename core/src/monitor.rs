//! The monitor: one object that collects process memory, feeds the leak detector, tracks
//! requests per route and builds the leak report. Every binding wraps exactly this type.
//!
//! Threading: the request hot path goes straight to the sharded [`RequestTracker`]; sampling,
//! detection and reporting share one mutex, taken once per sample or report.
//!
//! Forking (gunicorn, Celery, multiprocessing): the core's fork handlers (`crate::fork`) take
//! every lock of every monitor around `fork()`, so a child never inherits one held by a thread
//! it does not have. In the child the sampler is stopped (its thread did not survive); call
//! `start()` there to sample again.

mod config;
mod counts;
mod events;
mod profile;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::collect::{Collector, Snapshot};
use crate::detect::{AlertEvent, AlertState, Analysis, Detector, DetectorConfig};
use crate::error::{CollectError, ErrorCode, InputError};
use crate::fork::{ForkLocks, Guard};
use crate::gauges::{LeakGauges, MonitorGauges};
use crate::profile::HeapProfile;
use crate::report::{LeakReport, SuspectWatch};
use crate::requests::{
    AttributionConfig, MeasureSource, RequestOutcome, RequestToken, RequestTracker,
};
use crate::series::Sample;

pub use config::MonitorConfig;
pub use counts::{COUNTS, CountDef, OPEN_FDS, count_def};
pub use events::{
    EVENT_QUEUE_CAPACITY, Event, EventKind, MAX_REPLAY_REQUESTS, MEASURE_MEMORY, ReplayStep,
};

/// Errors of the monitor's operations, each with a stable [`ErrorCode`].
#[derive(Debug, Error)]
pub enum MonitorError {
    /// Bad input or options.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Memory collection failed.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// The monitor was closed.
    #[error("the monitor is closed")]
    Closed,
    /// Writing a file (a pprof profile) failed.
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    /// A bug: a lock poisoned by a panic, a thread that would not start.
    #[error("internal error: {0}")]
    Internal(String),
}

impl MonitorError {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            MonitorError::Input(e) => e.code(),
            MonitorError::Collect(e) => e.code(),
            MonitorError::Closed => ErrorCode::Closed,
            MonitorError::Write { .. } => ErrorCode::Io,
            MonitorError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Which series feeds the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Watched {
    /// Process RSS from the core's own samples (until the binding feeds a runtime baseline).
    Rss,
    /// The runtime's heap left after a full GC, fed by the binding.
    RuntimeBaseline,
}

struct State {
    collector: Collector,
    detector: Detector,
    /// Alert transitions to deliver, waiting for their report (built without this lock).
    awaiting: VecDeque<(EventKind, i64)>,
    /// Events ready for the binding to poll.
    events: VecDeque<Event>,
    watched: Watched,
    last_ts_ms: Option<i64>,
    /// While the alert fires and its suspects are not announced yet.
    suspects: Option<SuspectWatch>,
    /// The request count and time the last request rate was taken at (the traffic covariate).
    requests: Option<(i64, u64)>,
    /// The watched counts, each with its own detector.
    counts: counts::Counts,
    /// The live-heap profile, when on (also in `Shared`, for feeds that skip this lock).
    profile: Option<Arc<HeapProfile>>,
    /// An alert fired at this time and its pprof files are still to be written.
    pprof_due: Option<i64>,
    /// Why the pprof files at the last alert could not be written.
    pprof_error: Option<String>,
}

struct Shared {
    config: MonitorConfig,
    state: Mutex<State>,
    /// Held while reports for events are built and queued, so events stay in order.
    delivery: Mutex<()>,
    tracker: RequestTracker,
    profile: Option<Arc<HeapProfile>>,
    closed: AtomicBool,
    stop: (Mutex<bool>, Condvar),
    /// The sampler thread. Its lock is held through all of `start` and `stop`, so they never
    /// interleave (a stop that let a start slip in between would leave a handle whose thread
    /// has already been told to stop: running, and never sampling).
    sampler: Mutex<Option<JoinHandle<()>>>,
}

/// Collects, detects and attributes for one process. `Send + Sync`; every method takes `&self`.
pub struct Monitor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("config", &self.shared.config)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

fn internal(what: &str) -> MonitorError {
    MonitorError::Internal(format!("{what} lock poisoned by an earlier panic"))
}

/// The limit the detector should use: the configured one, else the collector's effective one.
fn limit_for(config: &MonitorConfig, collector: &Collector) -> Option<f64> {
    config
        .memory_limit
        .or_else(|| collector.limits().effective().map(|(bytes, _)| bytes))
        .map(|bytes| bytes as f64)
}

/// The per-request RSS reader: a shared statm probe (reads through `&self`).
fn rss_source(config: &MonitorConfig) -> Option<Arc<dyn MeasureSource>> {
    #[cfg(target_os = "linux")]
    if config.rss_per_request
        && let Ok(probe) = crate::collect::procfs::StatmProbe::open()
    {
        return Some(Arc::new(move || {
            probe.read().ok().map(|m| m.rss_bytes as f64)
        }));
    }
    let _ = config;
    None
}

impl Monitor {
    /// Opens the process probe and builds the detector and the request tracker.
    pub fn new(config: MonitorConfig) -> Result<Monitor, MonitorError> {
        config.validate()?;
        let collector = Collector::new()?;
        let detector = new_detector(&config, limit_for(&config, &collector))?;
        let tracker = RequestTracker::new(config.tracker_config(rss_source(&config)))?;
        let counts = counts::Counts::new(&config)?;
        let profile = match config.profile.enabled {
            true => Some(Arc::new(HeapProfile::new(config.profile.clone())?)),
            false => None,
        };
        let state = State {
            counts,
            profile: profile.clone(),
            pprof_due: None,
            pprof_error: None,
            collector,
            detector,
            awaiting: VecDeque::new(),
            events: VecDeque::new(),
            watched: Watched::Rss,
            last_ts_ms: None,
            suspects: None,
            requests: None,
        };
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            delivery: Mutex::new(()),
            tracker,
            profile,
            closed: AtomicBool::new(false),
            stop: (Mutex::new(false), Condvar::new()),
            sampler: Mutex::new(None),
        });
        crate::fork::register(Arc::downgrade(&shared) as Weak<dyn ForkLocks>);
        Ok(Monitor { shared })
    }

    /// [`Monitor::new`] from a JSON object of options laid over the preset of its `runtime`.
    pub fn from_json(json: &str) -> Result<Monitor, MonitorError> {
        Monitor::new(MonitorConfig::from_json(json)?)
    }

    /// [`Monitor::new`] for a binding: its runtime's name and its user's options as a JSON
    /// object (see [`MonitorConfig::for_runtime`]).
    pub fn for_runtime(runtime: &str, json: &str) -> Result<Monitor, MonitorError> {
        Monitor::new(MonitorConfig::for_runtime(runtime, json)?)
    }

    /// The configuration the monitor runs with.
    pub fn config(&self) -> &MonitorConfig {
        &self.shared.config
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, MonitorError> {
        self.shared.state()
    }

    /// Starts the core's sampler thread, which samples every `interval_ms`. A second call
    /// while it runs does nothing.
    pub fn start(&self) -> Result<(), MonitorError> {
        drop(self.state()?);
        let mut sampler = self
            .shared
            .sampler
            .lock()
            .map_err(|_| internal("sampler"))?;
        if sampler.is_some() {
            return Ok(());
        }
        *self
            .shared
            .stop
            .0
            .lock()
            .map_err(|_| internal("stop flag"))? = false;
        let shared = Arc::clone(&self.shared);
        let handle = std::thread::Builder::new()
            .name("leaksense-sampler".into())
            .spawn(move || sampler_loop(&shared))
            .map_err(|e| MonitorError::Internal(format!("cannot start the sampler thread: {e}")))?;
        *sampler = Some(handle);
        Ok(())
    }

    /// Stops the sampler thread, if it runs, and waits for it. Idempotent.
    pub fn stop(&self) {
        // The sampler thread never takes this lock, so holding it through the join is safe.
        let Ok(mut sampler) = self.shared.sampler.lock() else {
            return;
        };
        if let Some(handle) = sampler.take() {
            if let Ok(mut stopped) = self.shared.stop.0.lock() {
                *stopped = true;
            }
            self.shared.stop.1.notify_all();
            let _ = handle.join();
        }
    }

    /// Whether the sampler thread runs.
    pub fn is_running(&self) -> bool {
        self.shared.sampler.lock().is_ok_and(|s| s.is_some())
    }

    /// Stops sampling; every later call fails with [`ErrorCode::Closed`]. Idempotent.
    pub fn close(&self) {
        self.stop();
        self.shared.closed.store(true, Ordering::Release);
    }

    /// Whether [`Monitor::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Reads process memory and the container figures now, and feeds RSS to the detector
    /// unless the binding feeds a runtime baseline. `ts_ms` (unix ms) defaults to the tracker's
    /// clock. An explicit `ts_ms` that does not move forward is an `out_of_order` error; a
    /// clock sample in the same millisecond as the previous one only skips the detector.
    pub fn sample(&self, ts_ms: Option<i64>) -> Result<Snapshot, MonitorError> {
        let mut st = self.state()?;
        let (ts, strict) = match ts_ms {
            Some(ts) => (ts, true),
            None => (self.shared.tracker.now_ms(), false),
        };
        observe_requests(&mut st, ts, self.shared.tracker.total_requests());
        let snap = st.collector.scrape()?;
        feed_sample(&mut st, &snap, ts, strict)?;
        drop(st);
        self.shared.write_alert_pprof();
        self.shared.deliver_transitions()?;
        Ok(snap)
    }

    /// Feeds the runtime's heap left after a full GC (the floor of the sawtooth). From the
    /// first call on, the detector watches this series instead of RSS.
    pub fn observe_baseline(
        &self,
        ts_ms: i64,
        bytes: f64,
    ) -> Result<Option<AlertEvent>, MonitorError> {
        self.observe_runtime_heap(ts_ms, bytes, false)
    }

    /// [`Monitor::observe_baseline`] for a heap reading taken right after a full collection,
    /// from a binding that also feeds readings between them (Node: the V8 heap every tick and
    /// after each mark-compact). See [`Detector::update_after_full_gc`]; such a binding sets
    /// `detector.reports_full_gcs`.
    pub fn observe_baseline_after_full_gc(
        &self,
        ts_ms: i64,
        bytes: f64,
    ) -> Result<Option<AlertEvent>, MonitorError> {
        self.observe_runtime_heap(ts_ms, bytes, true)
    }

    fn observe_runtime_heap(
        &self,
        ts_ms: i64,
        bytes: f64,
        after_full_gc: bool,
    ) -> Result<Option<AlertEvent>, MonitorError> {
        let mut st = self.state()?;
        if st.watched == Watched::Rss {
            // A different series: start the detector afresh on it.
            crate::series::validate(&[Sample {
                ts_ms,
                value: bytes,
            }])?;
            st.detector = new_detector(&self.shared.config, st.detector.analysis().limit)?;
            st.watched = Watched::RuntimeBaseline;
            st.last_ts_ms = None;
            st.suspects = None;
        }
        observe_requests(&mut st, ts_ms, self.shared.tracker.total_requests());
        let event = feed(
            &mut st,
            Sample {
                ts_ms,
                value: bytes,
            },
            after_full_gc,
        )?;
        drop(st);
        self.shared.write_alert_pprof();
        self.shared.deliver_transitions()?;
        Ok(event)
    }

    /// The series the detector watches now.
    pub fn watched(&self) -> Result<Watched, MonitorError> {
        Ok(self.state()?.watched)
    }

    /// Records a limit the runtime reports (GOMEMLIMIT, the V8 heap limit). The detector then
    /// uses the smallest applicable limit, unless `memory_limit` fixes one.
    pub fn set_runtime_limit(&self, limit: Option<u64>) -> Result<(), MonitorError> {
        if limit == Some(0) {
            return Err(InputError::invalid_option("limit", "must be positive").into());
        }
        let mut st = self.state()?;
        st.collector.set_runtime_limit(limit);
        let limit = limit_for(&self.shared.config, &st.collector);
        st.detector.set_limit(limit)?;
        Ok(())
    }

    /// Starts tracking one request on `route` with the runtime measures read at its start.
    pub fn begin_request(&self, route: &str, start: &[f64]) -> Result<RequestToken, MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        Ok(self.shared.tracker.begin(route, start)?)
    }

    /// Ends a request with the runtime measures read at its end; returns its deltas.
    pub fn end_request(
        &self,
        token: RequestToken,
        end: &[f64],
    ) -> Result<RequestOutcome, MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        Ok(self.shared.tracker.end(token, end)?)
    }

    /// The id of `route` for [`Monitor::record_request`]: resolve each route once and keep
    /// the id (see [`RequestTracker::route_id`]).
    pub fn route_id(&self, route: &str) -> Result<u32, MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        Ok(self.shared.tracker.route_id(route))
    }

    /// Records one finished request in one call: its route id, the runtime measures read at
    /// its start and end, and `rss_start` ([`Monitor::request_rss`] at its start; NaN unless
    /// `rss_per_request`). Returns its deltas. The bindings' request path.
    pub fn record_request(
        &self,
        route: u32,
        start: &[f64],
        end: &[f64],
        rss_start: f64,
    ) -> Result<RequestOutcome, MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        Ok(self.shared.tracker.record(route, start, end, rss_start)?)
    }

    /// Process RSS now for the start of a request, when `rss_per_request` is on (NaN
    /// otherwise): one statm `pread`.
    pub fn request_rss(&self) -> f64 {
        self.shared.tracker.rss_now()
    }

    /// What a metrics scrape exports, read now without feeding the detector: process memory,
    /// peak RSS, the container's usage and OOM counts, one read of each source (see
    /// [`Collector::scrape`]: the container limit is the sampler's last reading).
    pub fn memory(&self) -> Result<Snapshot, MonitorError> {
        Ok(self.state()?.collector.scrape()?)
    }

    /// The request tracker, for its lower-level calls (measure names, injected times).
    pub fn tracker(&self) -> &RequestTracker {
        &self.shared.tracker
    }

    /// The detector's current view.
    pub fn analysis(&self) -> Result<Analysis, MonitorError> {
        Ok(self.state()?.detector.analysis())
    }

    /// The gauges now: the memory detector's and each watched count's latest reading, by
    /// catalog key; what every binding exports on its OpenTelemetry meter.
    pub fn gauges(&self) -> Result<MonitorGauges, MonitorError> {
        let st = self.state()?;
        Ok(MonitorGauges {
            leak: LeakGauges::from_analysis(&st.detector.analysis()),
            counts: st.counts.gauges(),
        })
    }

    /// The events since the last poll, oldest first (at most [`EVENT_QUEUE_CAPACITY`]; older
    /// ones were dropped): `leak`, `suspects` and `resolved`, each with its report, built by
    /// the call that fed the sample causing it, once it released the state lock.
    pub fn poll_events(&self) -> Result<Vec<Event>, MonitorError> {
        Ok(self.state()?.events.drain(..).collect())
    }

    /// The leak report: the detector's verdict, the suspect routes and the per-route table.
    pub fn report(&self) -> Result<LeakReport, MonitorError> {
        self.shared.report()
    }

    /// Builds the reports of pending alert transitions, and, while the alert fires and its
    /// suspects are not announced yet, looks for them (at the firing, then once per detector
    /// bucket of sample time), queueing a `suspects` event once [`SuspectWatch`] says so. The
    /// sampler thread calls this after every sample, and [`Monitor::replay`] after every step;
    /// call it yourself only when you feed samples without either. Returns whether it queued
    /// a `suspects` event.
    pub fn deliver(&self) -> Result<bool, MonitorError> {
        self.shared.deliver()
    }

    /// Feeds recorded data (replays, tests) at injected times, step by step: each step's
    /// requests, then its baseline (as [`Monitor::observe_baseline`]), then
    /// [`Monitor::deliver`]. The same steps give the same events in every language.
    pub fn replay(&self, steps: &[ReplayStep]) -> Result<(), MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        let zeros = vec![0.0; self.tracker().runtime_measures()];
        for step in steps {
            for (route, &n) in &step.requests {
                if n > MAX_REPLAY_REQUESTS {
                    return Err(InputError::invalid_option(
                        "requests",
                        format!(
                            "{n} requests on {route:?} in one step; at most {MAX_REPLAY_REQUESTS}"
                        ),
                    )
                    .into());
                }
                for _ in 0..n {
                    let t = self.tracker().begin_at(route, step.ts_ms, &zeros)?;
                    self.tracker().end_at(t, step.ts_ms, &zeros)?;
                }
            }
            if let Some(bytes) = step.baseline {
                self.observe_baseline(step.ts_ms, bytes)?;
            }
            for (series, &value) in &step.counts {
                self.shared.feed_count(series, step.ts_ms, value)?;
            }
            self.deliver()?;
        }
        Ok(())
    }

    /// [`Monitor::replay`] of a JSON array of steps.
    pub fn replay_json(&self, json: &str) -> Result<(), MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        let steps: Vec<ReplayStep> = serde_json::from_str(json)
            .map_err(|e| InputError::invalid_option("steps", e.to_string()))?;
        self.replay(&steps)
    }
}

impl Shared {
    fn state(&self) -> Result<MutexGuard<'_, State>, MonitorError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(MonitorError::Closed);
        }
        self.state.lock().map_err(|_| internal("monitor state"))
    }

    fn report(&self) -> Result<LeakReport, MonitorError> {
        self.report_with(&self.config.attribution)
    }

    fn report_with(&self, attribution: &AttributionConfig) -> Result<LeakReport, MonitorError> {
        let st = self.state()?;
        let analysis = st.detector.analysis();
        let floor = st.detector.troughs();
        let counts = st.counts.lines();
        drop(st);
        let snapshot = self.tracker.snapshot();
        let mut report = LeakReport::build(analysis, &floor, &snapshot, attribution)?;
        report.counts = counts;
        if let Some(p) = &self.profile {
            report.attach_profile(p, &floor);
        }
        if let Some(e) = self.state()?.pprof_error.clone() {
            report.notes.push(e);
        }
        Ok(report)
    }

    /// One builder at a time, so that events are queued in the order they happened.
    fn delivering(&self) -> Result<MutexGuard<'_, ()>, MonitorError> {
        self.delivery.lock().map_err(|_| internal("delivery"))
    }

    fn deliver(&self) -> Result<bool, MonitorError> {
        let _one = self.delivering()?;
        self.transitions()?;
        self.count_transitions()?;
        let memory = self.look_for_suspects()?;
        Ok(self.look_for_count_suspects()? || memory)
    }

    fn deliver_transitions(&self) -> Result<(), MonitorError> {
        let _one = self.delivering()?;
        self.transitions()?;
        self.count_transitions()
    }

    /// Builds each awaiting transition's report (outside the state lock, so that sampling and
    /// the bindings' baseline feeds never wait for it) and queues its event. The caller holds
    /// the delivery lock.
    fn transitions(&self) -> Result<(), MonitorError> {
        loop {
            let Some((kind, ts_ms)) = self.state()?.awaiting.pop_front() else {
                return Ok(());
            };
            let report = self.report()?;
            push_event(&mut *self.state()?, Event::new(kind, ts_ms, report));
        }
    }

    /// A look for a firing alert's suspects, when one is due. The caller holds the delivery
    /// lock.
    fn look_for_suspects(&self) -> Result<bool, MonitorError> {
        let watch = {
            let st = self.state()?;
            match (&st.suspects, st.last_ts_ms) {
                (Some(w), Some(last)) if w.is_due(last) => w.clone(),
                _ => return Ok(false),
            }
        };
        // Built without the state lock (up to tens of ms at the route cap).
        let report = self.report_with(&SuspectWatch::config(&self.config.attribution))?;
        let mut st = self.state()?;
        let Some(last) = st.last_ts_ms else {
            return Ok(false);
        };
        if !SuspectWatch::look_in(&mut st.suspects, &watch, last, &report) {
            return Ok(false);
        }
        push_event(&mut st, Event::new(EventKind::Suspects, last, report));
        Ok(true)
    }
}

impl ForkLocks for Shared {
    // The order every path nests them: the sampler slot (start/stop) before the stop flag;
    // delivery before the state and the tracker (a report is built under delivery); the state
    // is never held into the tracker. The live-heap profile's lock is innermost: it is taken
    // under the state (a sample's snapshot) or alone (an allocator hook), and its holder takes
    // no other.
    fn lock_all(&self) -> Vec<Guard<'_>> {
        fn guard<T>(m: &Mutex<T>) -> Guard<'_> {
            Box::new(m.lock().unwrap_or_else(|e| e.into_inner()))
        }
        let mut guards = vec![
            guard(&self.sampler),
            guard(&self.stop.0),
            guard(&self.delivery),
            guard(&self.state),
        ];
        guards.extend(self.profile.as_deref().map(HeapProfile::fork_guard));
        guards.extend(self.tracker.fork_guards());
        guards
    }

    fn reset_in_child(&self) {
        let mut sampler = self.sampler.lock().unwrap_or_else(|e| e.into_inner());
        // The thread does not exist here: joining or detaching its handle would act on a
        // thread id that may be reused. Forgetting it leaks only the handle's allocation.
        if let Some(handle) = sampler.take() {
            std::mem::forget(handle);
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn new_detector(config: &MonitorConfig, limit: Option<f64>) -> Result<Detector, InputError> {
    Detector::new(DetectorConfig {
        limit,
        ..config.detector.clone()
    })
}

fn feed(
    st: &mut State,
    sample: Sample,
    after_full_gc: bool,
) -> Result<Option<AlertEvent>, MonitorError> {
    let event = if after_full_gc {
        st.detector.update_after_full_gc(sample)?
    } else {
        st.detector.update(sample)?
    };
    st.last_ts_ms = Some(sample.ts_ms);
    if let Some(p) = &st.profile {
        p.tick(sample.ts_ms);
    }
    if let Some(e) = event {
        if e.to == AlertState::Firing {
            if let Some(p) = &st.profile {
                p.mark_alert(e.ts_ms);
            }
            st.pprof_due = Some(e.ts_ms);
            let bucket_ms = (st.detector.config().bucket_secs * 1000.0) as i64;
            st.suspects = Some(SuspectWatch::new(e.ts_ms, bucket_ms));
        } else if e.from == AlertState::Firing {
            st.suspects = None;
        }
        if let Some(kind) = EventKind::of(&e) {
            if st.awaiting.len() == EVENT_QUEUE_CAPACITY {
                st.awaiting.pop_front();
            }
            st.awaiting.push_back((kind, e.ts_ms));
        }
    }
    Ok(event)
}

fn push_event(st: &mut State, e: Event) {
    if st.events.len() == EVENT_QUEUE_CAPACITY {
        st.events.pop_front();
    }
    st.events.push_back(e);
}

/// Feeds the detector the request rate since the last call, from the tracker's request count
/// `total` (the traffic covariate). Nothing before the first request: a process that serves
/// none is judged on its memory alone.
fn observe_requests(st: &mut State, ts_ms: i64, total: u64) {
    if let Some((t0, n0)) = st.requests
        && ts_ms > t0
    {
        let rate = total.saturating_sub(n0) as f64 / ((ts_ms - t0) as f64 / 1000.0);
        // A time that does not move forward for the detector is refused; skip it.
        let _ = st.detector.observe_traffic(Sample { ts_ms, value: rate });
    }
    if total > 0 && st.requests.is_none_or(|(t0, _)| ts_ms > t0) {
        st.requests = Some((ts_ms, total));
    }
}

/// Takes a sample's part: the profile's periodic snapshot, and the snapshot's RSS to the
/// detector while it watches RSS. `strict`: a time that does not move forward is an error, not
/// a skipped point.
fn feed_sample(
    st: &mut State,
    snap: &Snapshot,
    ts_ms: i64,
    strict: bool,
) -> Result<(), MonitorError> {
    if let Some(p) = &st.profile {
        p.tick(ts_ms);
    }
    let moves_forward = st.last_ts_ms.is_none_or(|last| ts_ms > last);
    if st.watched == Watched::Rss && (strict || moves_forward) {
        feed(
            st,
            Sample {
                ts_ms,
                value: snap.process.rss_bytes as f64,
            },
            false,
        )?;
    }
    Ok(())
}

fn sampler_loop(shared: &Shared) {
    let interval = Duration::from_millis(shared.config.interval_ms);
    loop {
        if !shared.closed.load(Ordering::Acquire)
            && let Ok(mut st) = shared.state.lock()
        {
            // A failed read (a transient procfs error) is skipped; the next tick tries again.
            let now = shared.tracker.now_ms();
            observe_requests(&mut st, now, shared.tracker.total_requests());
            // The full read, container limit files included: what `scrape` reuses.
            let now = shared.tracker.now_ms();
            if let Ok(snap) = st.collector.snapshot() {
                let _ = feed_sample(&mut st, &snap, now, false);
            }
            counts::sample_own(&mut st, now);
            drop(st);
            shared.write_alert_pprof();
            let _ = shared.deliver();
        }
        let Ok(stopped) = shared.stop.0.lock() else {
            return;
        };
        let Ok((stopped, _)) = shared.stop.1.wait_timeout_while(stopped, interval, |s| !*s) else {
            return;
        };
        if *stopped {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
