//! How a [`Monitor`](super::Monitor) is set up: [`MonitorConfig`], and the per-runtime presets a
//! binding's monitor starts from before its user's options are laid over them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::counts;
use crate::catalog::{Naming, Runtime};
use crate::detect::{DetectorConfig, SeriesKind};
use crate::error::InputError;
use crate::options::{into_object, kind_of, object, over_defaults};
use crate::profile::ProfileConfig;
use crate::requests::{AttributionConfig, MeasureSource, RequestTracker, TrackerConfig};

/// How long a V8 heap watched every tick goes without a declared leak until a full collection
/// has been seen (V8 may collect an old generation only every hour or more; BENCHMARKS.md,
/// "Slow GC as a V8 heap shows it").
const V8_FIRST_COLLECTION_SECS: f64 = 4.0 * 3600.0;

/// How a [`Monitor`](super::Monitor) is set up. Every field has a default, which depends on the
/// runtime ([`MonitorConfig::preset`]); bindings pass their runtime's name and their user's
/// options as one JSON object ([`MonitorConfig::for_runtime`]), so the option names and the
/// defaults are the same in every language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// The runtime hosting the monitor (selects the preset and the catalog names).
    pub runtime: Runtime,
    /// Semconv or legacy metric names.
    pub naming: Naming,
    /// Period of the core's sampler thread, and of the binding's runtime watcher, in ms.
    pub interval_ms: u64,
    /// Names of the runtime measures the binding reads at each request's start and end and
    /// records with it (their deltas also go on the request's span), at most four. Defaults:
    /// one cheap measure (Node: `heap_used`; Python: `gc_count`; Go: none, its goroutines are
    /// a watched count). Dearer opt-ins: Go `heap_allocated` (a `runtime/metrics` read,
    /// ~0.3-0.8 µs each end), Python `allocated_blocks` (walks every memory pool).
    pub measures: Vec<String>,
    /// Also read process RSS at each request's start and end, reported as the `rss` measure
    /// and the span's RSS delta (one statm `pread` at each end, plus one more call into the
    /// core at the start). Off by default: a per-request RSS delta mostly shows the
    /// allocator's page churn, not what the request retained (docs/cost.md).
    pub rss_per_request: bool,
    /// Route cardinality cap; routes beyond it are counted under `_other`.
    pub max_routes: usize,
    /// Width of a request-count slot in milliseconds (attribution works per slot).
    pub slot_ms: i64,
    /// A memory limit in bytes to use instead of the detected one.
    pub memory_limit: Option<u64>,
    /// The binding feeds the runtime's heap to the detector instead of process RSS: Node the
    /// V8 heap (used + external) every tick and after each mark-compact, Go the live heap
    /// after each GC cycle, Python the process RSS right after each full collection (with the
    /// metrics registered). Default: on for Node and Go, off for Python and plain processes.
    pub heap: bool,
    /// Detector options (the limit is set through `memory_limit`); a field left out takes the
    /// default of `detector.kind` and the runtime.
    pub detector: DetectorConfig,
    /// The counts watched beside memory, each with its own detector, alert and events:
    /// `open_fds` (counted by the core, Linux), `goroutines` (Go), `active_resources` (Node),
    /// `threads` (Python). Default: `open_fds` and the runtime's own count.
    pub counts: Vec<String>,
    /// Detector options of the counts: the count kind's defaults, under the options given in
    /// `detector` (so compressed time applies to every series), under these. Its `kind` is
    /// always `count`; a count's limit is set by the core (`open_fds`: `RLIMIT_NOFILE`).
    pub count_detector: DetectorConfig,
    /// Attribution options.
    pub attribution: AttributionConfig,
    /// The live-heap profile (allocation sites of the growth); on by default only in Go,
    /// whose runtime profiles the heap anyway (docs/profile.md says why Node and Python not).
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
            rss_per_request: false,
            max_routes: tracker.max_routes,
            slot_ms: tracker.slot_ms,
            memory_limit: None,
            heap: false,
            detector: DetectorConfig::default(),
            counts: counts::preset(Runtime::Process),
            count_detector: DetectorConfig::for_kind(SeriesKind::Count),
            attribution: AttributionConfig::default(),
            profile: ProfileConfig::default(),
        }
    }
}

impl MonitorConfig {
    /// The defaults of a monitor in `runtime` with `heap` watched (`None`: the runtime's
    /// default) for a series of `detector.kind` `kind`.
    pub fn preset(
        runtime: Runtime,
        heap: Option<bool>,
        kind: crate::detect::SeriesKind,
    ) -> MonitorConfig {
        let mut c = MonitorConfig {
            runtime,
            detector: DetectorConfig::for_kind(kind),
            ..MonitorConfig::default()
        };
        let measures: &[&str] = match runtime {
            Runtime::Node => &["heap_used"],
            // Not goroutines: a request's goroutine delta at the middleware's end counts the
            // request-scoped goroutines that exit on ctx.Done() only after it (+1 on a healthy
            // route). The goroutine count is watched as a series instead (`counts`).
            Runtime::Go => &[],
            Runtime::Python => &["gc_count"],
            Runtime::Process => &[],
        };
        c.measures = measures.iter().map(|m| m.to_string()).collect();
        c.counts = counts::preset(runtime);
        c.heap = heap.unwrap_or(matches!(runtime, Runtime::Node | Runtime::Go));
        // Node: each read of V8's sampling profile through node:inspector forces a full GC;
        // Python: the allocator hook can cost more than 5% on allocation-heavy code
        // (BENCHMARKS.md, "Live-heap profile"). Both opt in.
        c.profile.enabled = runtime == Runtime::Go;
        if runtime == Runtime::Node && c.heap {
            // The V8 heap is fed every tick, and the readings right after a mark-compact are
            // marked: only those count as the collection `first_collection_secs` waits for.
            c.detector.reports_full_gcs = true;
            c.detector.first_collection_secs = V8_FIRST_COLLECTION_SECS;
            // Marked collections come with any growth; measured without the urgent bypass.
            c.detector.first_collection_urgent = 0.0;
        } else if c.heap && matches!(runtime, Runtime::Go | Runtime::Python) {
            // Post-GC values (Go's live heap after each cycle, Python's RSS after a full
            // collection) never fall by a collection's share: a leak from the start would
            // wait the whole `first_collection_secs`.
            c.detector.first_collection_secs = 0.0;
        }
        c
    }

    /// Parses a JSON object of options laid over the preset of its `runtime` (default
    /// `process`); unknown keys and bad values are `invalid_option`.
    pub fn from_json(json: &str) -> Result<Self, InputError> {
        Self::from_object(object("config", json)?)
    }

    /// The options a binding for `runtime` got from its user (a JSON object; empty or `null`
    /// means none), laid over that runtime's preset. A `runtime` key naming another runtime
    /// is `invalid_option`.
    pub fn for_runtime(runtime: &str, json: &str) -> Result<Self, InputError> {
        let rt = Runtime::parse(runtime).ok_or_else(|| {
            InputError::invalid_option("runtime", format!("unknown runtime {runtime:?}"))
        })?;
        let json = if json.trim().is_empty() { "null" } else { json };
        let mut fields = object("config", json)?;
        match fields.get("runtime") {
            None => {}
            Some(Value::String(s)) if Runtime::parse(s) == Some(rt) => {}
            Some(other) => {
                return Err(InputError::invalid_option(
                    "runtime",
                    format!("is set by the {} binding, got {other}", rt.as_str()),
                ));
            }
        }
        fields.insert("runtime".into(), Value::String(rt.as_str().into()));
        Self::from_object(fields)
    }

    fn from_object(fields: Map<String, Value>) -> Result<Self, InputError> {
        let runtime = match fields.get("runtime") {
            None | Some(Value::Null) => Runtime::Process,
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| InputError::invalid_option("runtime", e.to_string()))?,
        };
        let heap = match fields.get("heap") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                return Err(InputError::invalid_option(
                    "heap",
                    format!("must be true or false, got {other}"),
                ));
            }
        };
        let detector = match fields.get("detector") {
            None => Map::new(),
            Some(d) => into_object("detector", d.clone())?,
        };
        let preset = MonitorConfig::preset(runtime, heap, kind_of(&detector)?);
        let mut fields = fields;
        let counts = count_detector_fields(detector, fields.remove("count_detector"))?;
        fields.insert("count_detector".into(), Value::Object(counts));
        let cfg = over_defaults("config", &preset, fields)?;
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
        counts::validate(self.runtime, &self.counts)?;
        if self.count_detector.kind != SeriesKind::Count {
            return Err(InputError::invalid_option(
                "count_detector.kind",
                "counts are always of kind `count`",
            ));
        }
        if self.count_detector.limit.is_some() {
            return Err(InputError::invalid_option(
                "count_detector.limit",
                "a count's limit is set by the core",
            ));
        }
        self.count_detector.validate()?;
        self.attribution.validate()?;
        self.profile.validate()?;
        RequestTracker::new(self.tracker_config(None)).map(drop)
    }

    /// The detector options of count series, with the limit of one.
    pub(super) fn count_detector_with(&self, limit: Option<f64>) -> DetectorConfig {
        DetectorConfig {
            limit,
            ..self.count_detector.clone()
        }
    }

    pub(super) fn tracker_config(&self, rss: Option<Arc<dyn MeasureSource>>) -> TrackerConfig {
        TrackerConfig {
            max_routes: self.max_routes,
            slot_ms: self.slot_ms,
            rss_source: rss,
            ..TrackerConfig::new(self.measures.iter().cloned())
        }
    }
}

/// The user's `count_detector` fields with those of `detector` under them: options given for
/// the memory detector (compressed time, stricter bars) apply to the counts unless
/// `count_detector` sets them. `kind` is not inherited; a `kind` other than `count` is refused
/// by [`MonitorConfig::validate`].
fn count_detector_fields(
    mut detector: Map<String, Value>,
    counts: Option<Value>,
) -> Result<Map<String, Value>, InputError> {
    detector.remove("kind");
    if let Some(v) = counts {
        // Detector options are flat: a key given here replaces the inherited one.
        detector.extend(into_object("count_detector", v)?);
    }
    Ok(detector)
}
