//! The monitor: one object that collects process memory, feeds the leak detector, tracks
//! requests per route and builds the leak report. Every binding wraps exactly this type.
//!
//! Threading: the request hot path goes straight to the sharded [`RequestTracker`]; sampling,
//! detection and reporting share one mutex, taken once per sample or report.
//!
//! Forking (gunicorn, cluster): stop the monitor before `fork` and start it again in both the
//! parent and the child. Stopping joins the sampler thread, so no lock is held across the fork.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::catalog::{Naming, Runtime};
use crate::collect::{Collector, Snapshot};
use crate::detect::{AlertEvent, AlertState, Analysis, Detector, DetectorConfig};
use crate::error::{CollectError, ErrorCode, InputError};
use crate::profile::{HeapProfile, ProfileConfig};
use crate::report::{LeakReport, SuspectWatch};
use crate::requests::{
    AttributionConfig, MeasureSource, RequestOutcome, RequestToken, RequestTracker, TrackerConfig,
};
use crate::series::Sample;

/// Events kept until a binding polls them; the oldest are dropped first.
pub const EVENT_QUEUE_CAPACITY: usize = 256;

/// What [`Monitor::poll_events`] returns: an alert state change, or the news that a firing
/// alert's report now names the routes to blame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorEvent {
    /// Timestamp (unix ms) of the sample that caused it.
    pub ts_ms: i64,
    /// Alert state before.
    pub from: AlertState,
    /// Alert state after (`from` again for a `suspects` event).
    pub to: AlertState,
    /// What happened.
    pub kind: EventKind,
    /// For a `suspects` event, the report that named them (a report built later may differ:
    /// a route near the model's significance bar can drop out and come back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<LeakReport>>,
    /// `report` as text, for logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_text: Option<String>,
}

/// The kinds of [`MonitorEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The alert changed state, `from` → `to`.
    Alert,
    /// The alert is firing (`from` and `to` are both `firing`) and the monitor is sure of its
    /// suspect routes ([`SuspectWatch`]: stricter intervals, the same top suspect in
    /// consecutive looks); the event carries the report that named them. At most once per
    /// firing, often later than the firing: the model names a route only once the traffic mix
    /// tells routes apart.
    Suspects,
}

impl From<AlertEvent> for MonitorEvent {
    fn from(e: AlertEvent) -> Self {
        MonitorEvent {
            ts_ms: e.ts_ms,
            from: e.from,
            to: e.to,
            kind: EventKind::Alert,
            report: None,
            report_text: None,
        }
    }
}

/// How a [`Monitor`] is set up. Every field has a default; bindings pass it as JSON
/// (`MonitorConfig::from_json`), so the option names are the same in every language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// The runtime hosting the monitor (selects catalog names).
    pub runtime: Runtime,
    /// Semconv or legacy metric names.
    pub naming: Naming,
    /// Period of the core's sampler thread, in milliseconds.
    pub interval_ms: u64,
    /// Names of the runtime measures the binding passes to `begin_request`/`end_request`
    /// (e.g. `["heap_used"]` in Node), at most four.
    pub measures: Vec<String>,
    /// Also read process RSS at each request's begin and end, reported as the `rss` measure
    /// (one `pread`, about 0.3 µs, at each end).
    pub rss_per_request: bool,
    /// Route cardinality cap; routes beyond it are counted under `_other`.
    pub max_routes: usize,
    /// Width of a request-count slot in milliseconds (attribution works per slot).
    pub slot_ms: i64,
    /// A memory limit in bytes to use instead of the detected one.
    pub memory_limit: Option<u64>,
    /// Detector options (the limit is set through `memory_limit`).
    pub detector: DetectorConfig,
    /// Attribution options.
    pub attribution: AttributionConfig,
    /// The live-heap profile (allocation sites of the growth).
    pub profile: ProfileConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        let tracker = TrackerConfig::new(Vec::<String>::new());
        MonitorConfig {
            runtime: Runtime::Process,
            naming: Naming::Semconv,
            interval_ms: 15_000,
            measures: Vec::new(),
            rss_per_request: cfg!(target_os = "linux"),
            max_routes: tracker.max_routes,
            slot_ms: tracker.slot_ms,
            memory_limit: None,
            detector: DetectorConfig::default(),
            attribution: AttributionConfig::default(),
            profile: ProfileConfig::default(),
        }
    }
}

impl MonitorConfig {
    /// Parses a JSON object of options; unknown keys and bad values are `invalid_option`.
    pub fn from_json(json: &str) -> Result<Self, InputError> {
        let bad = |e: serde_json::Error| InputError::invalid_option("config", e.to_string());
        let value: serde_json::Value = serde_json::from_str(json).map_err(bad)?;
        if !value.is_object() {
            return Err(InputError::invalid_option(
                "config",
                "must be a JSON object",
            ));
        }
        let cfg: MonitorConfig = serde_json::from_value(value).map_err(bad)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every option, including the detector's and the tracker's.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(1..=86_400_000).contains(&self.interval_ms) {
            return Err(InputError::invalid_option(
                "interval_ms",
                "must be between 1 ms and one day",
            ));
        }
        if self.memory_limit == Some(0) {
            return Err(InputError::invalid_option(
                "memory_limit",
                "must be positive",
            ));
        }
        if self.detector.limit.is_some() {
            return Err(InputError::invalid_option(
                "detector.limit",
                "set the limit with memory_limit",
            ));
        }
        self.detector.validate()?;
        self.attribution.validate()?;
        self.profile.validate()?;
        RequestTracker::new(self.tracker_config(None)).map(drop)
    }

    fn tracker_config(&self, rss: Option<Arc<dyn MeasureSource>>) -> TrackerConfig {
        TrackerConfig {
            max_routes: self.max_routes,
            slot_ms: self.slot_ms,
            rss_source: rss,
            ..TrackerConfig::new(self.measures.iter().cloned())
        }
    }
}

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
    events: VecDeque<MonitorEvent>,
    watched: Watched,
    last_ts_ms: Option<i64>,
    /// While the alert fires and its suspects are not announced yet.
    suspects: Option<SuspectWatch>,
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
    tracker: RequestTracker,
    profile: Option<Arc<HeapProfile>>,
    closed: AtomicBool,
    stop: (Mutex<bool>, Condvar),
}

/// Collects, detects and attributes for one process. `Send + Sync`; every method takes `&self`.
pub struct Monitor {
    shared: Arc<Shared>,
    sampler: Mutex<Option<JoinHandle<()>>>,
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
        let profile = match config.profile.enabled {
            true => Some(Arc::new(HeapProfile::new(config.profile.clone())?)),
            false => None,
        };
        let state = State {
            profile: profile.clone(),
            pprof_due: None,
            pprof_error: None,
            collector,
            detector,
            events: VecDeque::new(),
            watched: Watched::Rss,
            last_ts_ms: None,
            suspects: None,
        };
        Ok(Monitor {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(state),
                tracker,
                profile,
                closed: AtomicBool::new(false),
                stop: (Mutex::new(false), Condvar::new()),
            }),
            sampler: Mutex::new(None),
        })
    }

    /// [`Monitor::new`] from a JSON object of options (what the bindings call).
    pub fn from_json(json: &str) -> Result<Monitor, MonitorError> {
        Monitor::new(MonitorConfig::from_json(json)?)
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
        let mut sampler = self.sampler.lock().map_err(|_| internal("sampler"))?;
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
        let handle = self.sampler.lock().ok().and_then(|mut s| s.take());
        if let Some(handle) = handle {
            if let Ok(mut stopped) = self.shared.stop.0.lock() {
                *stopped = true;
            }
            self.shared.stop.1.notify_all();
            let _ = handle.join();
        }
    }

    /// Whether the sampler thread runs.
    pub fn is_running(&self) -> bool {
        self.sampler.lock().is_ok_and(|s| s.is_some())
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
        let snap = sample_into(&mut st, ts, strict);
        drop(st);
        self.shared.write_alert_pprof();
        snap
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
        let event = feed(
            &mut st,
            Sample {
                ts_ms,
                value: bytes,
            },
            after_full_gc,
        );
        drop(st);
        self.shared.write_alert_pprof();
        event
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

    /// The request tracker, for its lower-level calls (measure names, injected times).
    pub fn tracker(&self) -> &RequestTracker {
        &self.shared.tracker
    }

    /// The detector's current view.
    pub fn analysis(&self) -> Result<Analysis, MonitorError> {
        Ok(self.state()?.detector.analysis())
    }

    /// Drains the events since the last poll, oldest first (at most
    /// [`EVENT_QUEUE_CAPACITY`]; older ones were dropped): every alert transition, and a
    /// [`EventKind::Suspects`] event once a firing alert's suspects are sure.
    pub fn poll_events(&self) -> Result<Vec<MonitorEvent>, MonitorError> {
        Ok(self.state()?.events.drain(..).collect())
    }

    /// The leak report: the detector's verdict, the suspect routes and the per-route table.
    pub fn report(&self) -> Result<LeakReport, MonitorError> {
        self.shared.report()
    }

    /// While the alert fires and its suspects are not announced yet, builds the report (at the
    /// firing, then once per detector bucket of sample time) and queues a
    /// [`EventKind::Suspects`] event with it once [`SuspectWatch`] says so. The sampler thread
    /// calls this after every sample; call it yourself only when you feed samples without it
    /// (replays, tests). Returns whether it queued the event.
    pub fn check_suspects(&self) -> Result<bool, MonitorError> {
        self.shared.check_suspects()
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
        drop(st);
        let snapshot = self.tracker.snapshot();
        let mut report = LeakReport::build(analysis, &floor, &snapshot, attribution)?;
        if let Some(p) = &self.profile {
            report.attach_profile(p, &floor);
        }
        if let Some(e) = self.state()?.pprof_error.clone() {
            report.notes.push(e);
        }
        Ok(report)
    }

    fn check_suspects(&self) -> Result<bool, MonitorError> {
        let watch = {
            let st = self.state()?;
            match (&st.suspects, st.last_ts_ms) {
                (Some(w), Some(last)) if w.is_due(last) => w.clone(),
                _ => return Ok(false),
            }
        };
        // Built without the lock (up to tens of ms at the route cap), so that sampling and
        // the bindings' baseline feeds never wait for it.
        let report = self.report_with(&SuspectWatch::config(&self.config.attribution))?;
        let mut st = self.state()?;
        let Some(last) = st.last_ts_ms else {
            return Ok(false);
        };
        match &mut st.suspects {
            // Otherwise the alert resolved, or fired again, meanwhile.
            Some(w) if *w == watch => {
                if !w.look(last, &report) {
                    return Ok(false);
                }
            }
            _ => return Ok(false),
        }
        st.suspects = None;
        push_event(
            &mut st,
            MonitorEvent {
                ts_ms: last,
                from: AlertState::Firing,
                to: AlertState::Firing,
                kind: EventKind::Suspects,
                report_text: Some(report.render_text()),
                report: Some(Box::new(report)),
            },
        );
        Ok(true)
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
        push_event(st, e.into());
    }
    Ok(event)
}

fn push_event(st: &mut State, e: MonitorEvent) {
    if st.events.len() == EVENT_QUEUE_CAPACITY {
        st.events.pop_front();
    }
    st.events.push_back(e);
}

fn sample_into(st: &mut State, ts_ms: i64, strict: bool) -> Result<Snapshot, MonitorError> {
    let snap = st.collector.snapshot()?;
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
    Ok(snap)
}

fn sampler_loop(shared: &Shared) {
    let interval = Duration::from_millis(shared.config.interval_ms);
    loop {
        if !shared.closed.load(Ordering::Acquire)
            && let Ok(mut st) = shared.state.lock()
        {
            // A failed read (a transient procfs error) is skipped; the next tick tries again.
            let _ = sample_into(&mut st, shared.tracker.now_ms(), false);
            drop(st);
            shared.write_alert_pprof();
            let _ = shared.check_suspects();
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

mod profile;

#[cfg(test)]
mod tests;
