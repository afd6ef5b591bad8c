//! The robust streaming leak detector.
//!
//! It watches the floor of the GC sawtooth (the heap left after collection), not raw samples:
//! samples fall into fixed time buckets, each bucket keeps its minimum, and a floor point is the
//! minimum over a few buckets, enough to span one and a half estimated GC periods (the period is
//! measured from the sawtooth's drops), stamped at the middle of that window. Upward spikes
//! never reach the floor. A slow GC (a full collection every hour or more) is seen through its
//! large falls to a new low, and its floor window then reaches back past the last of them (up
//! to 8 h). Before its first collection, a slow GC's ramp looks exactly like a leak; with
//! `first_collection_secs` no leak is declared until a collection has been seen or that time
//! has passed.
//!
//! Every closed bucket is an evaluation (as Prometheus evaluates a rule). An evaluation fits a
//! "flat, then rising" hinge to the floor since the last restart to find where growth began,
//! then tests the rising segment (reduced to block medians) with a Theil–Sen slope and Sen's
//! Mann–Kendall confidence interval, checks that the rise still goes on and is better described
//! by a line than by one step (warm-ups, deploys and cache fills are not), and asks, at the
//! rate's lower confidence bound, for a practical rise relative to the baseline, or a time to
//! the memory limit within a horizon. The alert state machine has Prometheus's `for` semantics on top of that condition.
//!
//! Cost: O(1) per sample, plus one evaluation per bucket that is linear in the bounded floor
//! ring, so O(1) amortized; memory is fixed at construction.

use std::collections::VecDeque;

use crate::error::InputError;
use crate::series::{Ring, Sample};

/// What a series measures, which sets the defaults that depend on its shape.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// Bytes of memory, usually with a GC sawtooth.
    #[default]
    Heap,
    /// A noisy integer count (goroutines, handles, connections).
    Count,
}

impl std::str::FromStr for SeriesKind {
    type Err = InputError;

    /// Parses `"heap"` or `"count"` (the serde names), as bindings and the CLI receive them.
    fn from_str(s: &str) -> Result<Self, InputError> {
        match s {
            "heap" => Ok(SeriesKind::Heap),
            "count" => Ok(SeriesKind::Count),
            other => Err(InputError::invalid_option(
                "kind",
                format!("`{other}` is not one of heap, count"),
            )),
        }
    }
}

/// Options of the detector. Every tunable has a default; only `kind` and `limit` usually change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// What the series measures.
    pub kind: SeriesKind,
    /// The memory (or count) limit, when known; enables time-to-limit.
    pub limit: Option<f64>,
    /// How long the leak condition must hold before pending turns to firing (Prometheus `for`);
    /// shorter for strong evidence, see `min_for_secs`.
    pub for_secs: f64,
    /// Width of a floor bucket; one evaluation per closed bucket.
    pub bucket_secs: f64,
    /// Number of floor points kept (the detector's memory; 288 buckets of 5 min is 24 h);
    /// at most [`MAX_FLOOR`].
    pub floor_capacity: usize,
    /// Shortest hold when the evidence is far beyond the practical bar: the hold is `for_secs`
    /// divided by how many times over the bar the rate's lower bound is, down to this. Only for
    /// growth that left a flat baseline of `min_growth_secs` and has lasted
    /// `min_growth_secs + for_secs`; set it to `for_secs` for plain Prometheus `for`.
    pub min_for_secs: f64,
    /// Time after start or restart during which no leak is declared (warm-up).
    pub warmup_secs: f64,
    /// Shortest rising segment that can be a leak.
    pub min_growth_secs: f64,
    /// Smallest rise since growth began, as a fraction of the baseline, that counts as a leak.
    pub min_rise_ratio: f64,
    /// Smallest rise, in robust standard deviations of the floor's noise.
    pub min_rise_sigmas: f64,
    /// With a limit: a significant rise that reaches the limit within this time is a leak even
    /// when it is still small relative to the baseline.
    pub time_to_limit_alert_secs: f64,
    /// Horizon of the projected rise: a significant rise whose rate would add
    /// `projection_ratio` of the baseline within this time is a leak.
    pub projection_secs: f64,
    /// See `projection_secs`.
    pub projection_ratio: f64,
    /// Two-sided confidence level of the rate interval and the trend test.
    pub confidence: f64,
    /// A drop below the floor by this fraction of it is a restart: the detector starts over.
    pub reset_drop_ratio: f64,
    /// For a heap that may be collected only every few hours (a V8 old generation sampled every
    /// tick): until the heap has fallen by a collection's share (3%) since start or restart, no
    /// leak is declared before this long after it, since a slow GC's first ramp looks exactly
    /// like a leak. 0 (the default) turns it off; 4 h covers GC periods up to 4 h. Leave it off
    /// for series of post-GC values, which never fall like that.
    pub first_collection_secs: f64,
    /// The feeder calls [`Detector::update_after_full_gc`] after every full collection (the
    /// Node binding, which sees V8's mark-compacts): then only those count as the collection
    /// `first_collection_secs` waits for, not a fall in the series (a scavenge's).
    pub reports_full_gcs: bool,
    /// How many of the newest alert events `analysis()` keeps.
    pub max_events: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            kind: SeriesKind::Heap,
            limit: None,
            for_secs: 1800.0,
            min_for_secs: 900.0,
            bucket_secs: 300.0,
            floor_capacity: 288,
            warmup_secs: 3600.0,
            min_growth_secs: 1800.0,
            min_rise_ratio: 0.1,
            min_rise_sigmas: 3.0,
            time_to_limit_alert_secs: 6.0 * 3600.0,
            projection_secs: 12.0 * 3600.0,
            projection_ratio: 0.15,
            confidence: 0.95,
            reset_drop_ratio: 0.3,
            first_collection_secs: 0.0,
            reports_full_gcs: false,
            max_events: 32,
        }
    }
}

impl DetectorConfig {
    /// The defaults for a series of this kind.
    /// Counts follow traffic more closely than a heap floor does, so they need a larger rise.
    pub fn for_kind(kind: SeriesKind) -> Self {
        let d = DetectorConfig::default();
        match kind {
            SeriesKind::Heap => d,
            SeriesKind::Count => DetectorConfig {
                kind,
                min_rise_ratio: 5.0 * d.min_rise_ratio,
                projection_ratio: 4.0 * d.projection_ratio,
                ..d
            },
        }
    }

    /// Checks every option; the detector refuses a config that fails this.
    pub fn validate(&self) -> Result<(), InputError> {
        fn range(name: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), InputError> {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(InputError::invalid_option(
                    name,
                    format!("{v} is not within [{lo}, {hi}]"),
                ))
            }
        }
        const WEEK: f64 = 7.0 * 86400.0;
        if let Some(l) = self.limit
            && !(l.is_finite() && l > 0.0)
        {
            return Err(InputError::invalid_option(
                "limit",
                format!("{l} must be finite and positive"),
            ));
        }
        range("for_secs", self.for_secs, 0.0, WEEK)?;
        range("min_for_secs", self.min_for_secs, 0.0, WEEK)?;
        range("bucket_secs", self.bucket_secs, 1.0, 86400.0)?;
        if !(8..=MAX_FLOOR).contains(&self.floor_capacity) {
            return Err(InputError::invalid_option(
                "floor_capacity",
                format!("{} is not within [8, {MAX_FLOOR}]", self.floor_capacity),
            ));
        }
        range("warmup_secs", self.warmup_secs, 0.0, WEEK)?;
        range("min_growth_secs", self.min_growth_secs, 0.0, WEEK)?;
        range("min_rise_ratio", self.min_rise_ratio, 0.0, 100.0)?;
        range("min_rise_sigmas", self.min_rise_sigmas, 0.0, 1000.0)?;
        range(
            "time_to_limit_alert_secs",
            self.time_to_limit_alert_secs,
            0.0,
            365.0 * 86400.0,
        )?;
        range(
            "projection_secs",
            self.projection_secs,
            0.0,
            365.0 * 86400.0,
        )?;
        range("projection_ratio", self.projection_ratio, 0.0, 1000.0)?;
        range("confidence", self.confidence, 0.5, 0.9999)?;
        range("reset_drop_ratio", self.reset_drop_ratio, 0.01, 1.0)?;
        range(
            "first_collection_secs",
            self.first_collection_secs,
            0.0,
            WEEK,
        )?;
        if !(1..=10_000).contains(&self.max_events) {
            return Err(InputError::invalid_option(
                "max_events",
                format!("{} is not within [1, 10000]", self.max_events),
            ));
        }
        Ok(())
    }
}

/// The detector's judgement of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not enough data since start or restart (warm-up, or too few floor points).
    Insufficient,
    /// No leak right now.
    Healthy,
    /// The leak condition holds at the last evaluation.
    Leak,
}

/// Prometheus alert states.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition does not hold.
    #[default]
    Inactive,
    /// The condition holds, for less than `for_secs` so far.
    Pending,
    /// The condition has held for `for_secs`.
    Firing,
}

/// One alert state change. `firing -> inactive` is the "resolved" transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AlertEvent {
    /// Timestamp (unix ms) of the sample that caused the change.
    pub ts_ms: i64,
    /// State before.
    pub from: AlertState,
    /// State after.
    pub to: AlertState,
}

/// What the detector knows about the series now. Field names are a stable JSON schema.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Analysis {
    /// Leak, healthy, or not enough data.
    pub verdict: Verdict,
    /// The alert state.
    pub state: AlertState,
    /// When the floor began to rise (unix ms), when a significant rise is under way.
    pub growth_start_ms: Option<i64>,
    /// Growth rate of the post-GC floor (units per second, Theil–Sen).
    pub rate_per_sec: Option<f64>,
    /// Lower end of the rate's confidence interval (`confidence`, default 95%).
    pub rate_low: Option<f64>,
    /// Upper end of the rate's confidence interval.
    pub rate_high: Option<f64>,
    /// Seconds until the floor reaches `limit` at `rate_per_sec`, when it is rising.
    pub time_to_limit_secs: Option<f64>,
    /// The limit used.
    pub limit: Option<f64>,
    /// The current floor (the level left after GC).
    pub baseline: Option<f64>,
    /// Samples accepted since creation.
    pub samples: u64,
    /// The newest alert state changes, oldest first (at most `max_events`).
    pub events: Vec<AlertEvent>,
}

/// Trend estimate of one evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Estimate {
    growth_start_ms: Option<i64>,
    rate: Option<f64>,
    rate_low: Option<f64>,
    rate_high: Option<f64>,
    baseline: Option<f64>,
    /// How far the evidence exceeds the practical bar (>= 1 when the condition holds).
    strength: f64,
}

/// The minimum of one time bucket, with the bucket's extent.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start_ms: i64,
    min: Sample,
    max: f64,
    drops: u32,
}

/// Fewest buckets a floor point spans: the minimum of a sawtooth faster than the sampling is
/// a noisy estimate of the floor, and more samples tighten it.
const MIN_SPAN: usize = 2;
/// Buckets a floor point spans when no GC drop has been seen in the last `MAX_SPAN` buckets.
const NO_DROP_SPAN: usize = MIN_SPAN;
/// Most buckets a floor point spans (its window is 1.5 GC periods, capped here), from the
/// per-bucket drop counts.
const MAX_SPAN: usize = 12;
/// Most buckets a floor point spans under a slow GC (a full collection every hour or more, see
/// [`SLOW_FALL`]): 8 h of 5 min buckets, 1.5 periods of a 5 h GC.
const SLOW_MAX_SPAN: usize = 96;
/// A slow collection is a sample-to-sample fall of at least this many times the usual change
/// (noise is not that large), freeing at least `SLOW_SHARE` of the heap, from a level the heap
/// reached gradually (not a spike's top), landing below every sample of the last
/// `SLOW_LOOKBACK_SECS` by at least `SLOW_BELOW` of the fall: the heap had built up over them
/// since the previous collection. A fast sawtooth's trough lands back on its old floor instead.
const SLOW_FALL: f64 = 6.0;
/// See [`SLOW_FALL`].
const SLOW_SHARE: f64 = 0.05;
/// See [`SLOW_FALL`]. With buckets so small that this is more than `SLOW_MAX_SPAN` of them
/// (under 19 s, as in compressed-time demos), slow collections are not looked for.
const SLOW_LOOKBACK_SECS: f64 = 1800.0;
/// See [`SLOW_FALL`].
const SLOW_BELOW: f64 = 0.25;
/// Slow collections whose times are kept; their median interval is the slow GC period.
const SLOW_EVENTS: usize = 6;
/// Shortest median interval between slow collections that sets the floor's span: below it the
/// per-bucket drop counts see the period.
const SLOW_PERIOD_SECS: f64 = 2400.0;
/// A collection's share of the heap for `first_collection_secs`: a fall by this share of it,
/// landing below the last bucket (a spike's end does not).
const COLLECTED_SHARE: f64 = 0.03;
/// Most points the trend test looks at: longer segments are reduced to block medians.
const TEST_POINTS: usize = 24;
/// A firing alert resolves once the newest third of the segment rises (at its rate's upper
/// bound) less than this share of the segment's rate.
const RECENT_SHARE: f64 = 0.3;
/// F statistic from which "rising, then flat" describes a rising segment better than a line
/// (see [`plateau_f`]): about the 93rd percentile of F(1, 10), the usual number of blocks.
const PLATEAU_F: f64 = 4.0;
/// Most points in one block median (the blocks' scratch is on the stack).
const BLOCK_MAX: usize = 64;
/// Largest floor ring: every block of the trend test then fits `BLOCK_MAX` (5.3 days of 5 min
/// buckets).
pub const MAX_FLOOR: usize = TEST_POINTS * BLOCK_MAX;
/// Fewest floor points a rising segment needs.
const MIN_POINTS: usize = 6;

/// The streaming leak detector. Feed it samples in time order with [`Detector::update`].
#[derive(Debug, Clone)]
pub struct Detector {
    cfg: DetectorConfig,
    z: f64,
    bucket_ms: i64,
    samples: u64,
    last: Option<Sample>,
    epoch_start_ms: i64,
    bucket: Option<Bucket>,
    mins: Ring<Sample>,
    drops: Ring<u32>,
    range_ewma: f64,
    /// Winsorized mean of the sample-to-sample change (the scale a slow collection must beat).
    step_ewma: f64,
    /// Times of the newest slow collections (see [`SLOW_FALL`]).
    slow_gcs: Ring<i64>,
    /// Whether the heap has fallen by a collection's share since start or restart (see
    /// [`COLLECTED_SHARE`]), or the runtime reported a full collection.
    collected: bool,
    /// The heap right after the last full collection the runtime reported
    /// ([`Detector::update_after_full_gc`]): no floor point sits above it.
    anchor: Option<f64>,
    /// Buckets in `SLOW_LOOKBACK_SECS`; 0 when slow collections are not looked for.
    slow_lookback: usize,
    /// The highest and lowest samples of the last closed bucket.
    prev_max: f64,
    prev_min: f64,
    /// The lowest bucket minimum of the last `slow_lookback` buckets, updated at each bucket
    /// close so that a sample costs O(1).
    lookback_low: f64,
    floor: Ring<Sample>,
    /// The same floor values stamped at their minimum sample's own time (for attribution).
    troughs: Ring<Sample>,
    state: AlertState,
    active_since_ms: i64,
    verdict: Verdict,
    strength: f64,
    events: VecDeque<AlertEvent>,
    work: Work,
}

impl Detector {
    /// A detector with the given options (validated).
    pub fn new(cfg: DetectorConfig) -> Result<Self, InputError> {
        cfg.validate()?;
        let z = normal_quantile(0.5 + cfg.confidence / 2.0);
        Ok(Detector {
            z,
            bucket_ms: (cfg.bucket_secs * 1000.0).round() as i64,
            samples: 0,
            last: None,
            epoch_start_ms: 0,
            bucket: None,
            mins: Ring::new(SLOW_MAX_SPAN)?,
            drops: Ring::new(MAX_SPAN)?,
            range_ewma: 0.0,
            step_ewma: 0.0,
            slow_gcs: Ring::new(SLOW_EVENTS)?,
            collected: false,
            anchor: None,
            slow_lookback: {
                let n = (SLOW_LOOKBACK_SECS / cfg.bucket_secs).ceil();
                if n <= SLOW_MAX_SPAN as f64 {
                    n as usize
                } else {
                    0
                }
            },
            prev_max: f64::INFINITY,
            prev_min: f64::INFINITY,
            lookback_low: f64::INFINITY,
            floor: Ring::new(cfg.floor_capacity)?,
            troughs: Ring::new(cfg.floor_capacity)?,
            state: AlertState::Inactive,
            active_since_ms: 0,
            verdict: Verdict::Insufficient,
            strength: 1.0,
            events: VecDeque::with_capacity(cfg.max_events),
            work: Work {
                points: Vec::with_capacity(cfg.floor_capacity),
                values: Vec::with_capacity(cfg.floor_capacity),
                slopes: Vec::with_capacity(TEST_POINTS * TEST_POINTS / 2),
            },
            cfg,
        })
    }

    /// The options in use.
    pub fn config(&self) -> &DetectorConfig {
        &self.cfg
    }

    /// Feeds one sample. Returns the alert state change it caused, if any. A NaN or infinite
    /// value, or a timestamp not after the previous one, is refused with a typed error and
    /// leaves the detector as it was.
    pub fn update(&mut self, s: Sample) -> Result<Option<AlertEvent>, InputError> {
        self.feed(s, false)
    }

    /// [`Detector::update`] with a sample the runtime took right after a full collection (a
    /// V8 mark-compact): the live data then. Until the next one, the floor stays at or below
    /// it, so a heap that ramps up between rare full collections (promoted garbage) reads as
    /// flat, and a leak shows as the next collection lands higher. It also counts as the
    /// collection `first_collection_secs` waits for, and is never a restart.
    pub fn update_after_full_gc(&mut self, s: Sample) -> Result<Option<AlertEvent>, InputError> {
        let event = self.feed(s, true)?;
        if self.cfg.kind == SeriesKind::Heap {
            self.collected = true;
            self.anchor = Some(s.value);
        }
        Ok(event)
    }

    fn feed(&mut self, s: Sample, full_gc: bool) -> Result<Option<AlertEvent>, InputError> {
        let index = usize::try_from(self.samples).unwrap_or(usize::MAX);
        if !s.value.is_finite() {
            return Err(InputError::NonFinite {
                index,
                what: "value",
                value: s.value,
            });
        }
        if let Some(prev) = self.last
            && s.ts_ms <= prev.ts_ms
        {
            return Err(InputError::OutOfOrder {
                index,
                ts_ms: s.ts_ms,
                prev_ms: prev.ts_ms,
            });
        }
        self.samples += 1;
        let mut event = None;
        if !full_gc && self.is_restart(s.value) {
            self.reset(s.ts_ms);
            event = self.transition(s.ts_ms, AlertState::Inactive);
        }
        if let Some(prev) = self.last
            && self.bucket.is_some()
            && prev.value - s.value > 0.25 * self.range_ewma
            && self.range_ewma > 0.0
            && let Some(b) = self.bucket.as_mut()
        {
            b.drops += 1;
        }
        if let Some(prev) = self.last
            && let Some(b) = self.bucket
        {
            self.observe_step(prev, s, b.min.value);
        }
        if self.last.is_none() {
            self.epoch_start_ms = s.ts_ms;
        }
        self.last = Some(s);
        match self.bucket {
            None => self.open_bucket(s.ts_ms, s),
            Some(b) if s.ts_ms.saturating_sub(b.start_ms) >= self.bucket_ms => {
                self.close_bucket(b);
                let k = s.ts_ms.saturating_sub(b.start_ms) / self.bucket_ms.max(1);
                let start = b.start_ms.saturating_add(k.saturating_mul(self.bucket_ms));
                self.open_bucket(start, s);
                let cond = self.evaluate();
                event = self.step_alert(s.ts_ms, cond).or(event);
            }
            Some(mut b) => {
                if s.value < b.min.value {
                    b.min = s;
                }
                b.max = b.max.max(s.value);
                self.bucket = Some(b);
            }
        }
        Ok(event)
    }

    /// Changes the limit used for time-to-limit (`None` removes it).
    pub fn set_limit(&mut self, limit: Option<f64>) -> Result<(), InputError> {
        let cfg = DetectorConfig {
            limit,
            ..self.cfg.clone()
        };
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    /// The current judgement, estimates and alert history.
    pub fn analysis(&self) -> Analysis {
        let mut work = Work::default();
        let (_, _, e) = assess(
            &self.cfg,
            self.z,
            &self.floor,
            self.usable_from_ms(),
            &mut work,
            false,
            self.state == AlertState::Firing,
        );
        let rising = e.rate.filter(|r| *r > 0.0);
        let time_to_limit_secs = match (self.cfg.limit, e.baseline, rising) {
            (Some(l), Some(b), Some(r)) => finite(((l - b) / r).max(0.0)),
            _ => None,
        };
        Analysis {
            verdict: self.verdict,
            state: self.state,
            growth_start_ms: e.growth_start_ms,
            rate_per_sec: e.rate,
            rate_low: e.rate_low,
            rate_high: e.rate_high,
            time_to_limit_secs,
            limit: self.cfg.limit,
            baseline: e.baseline,
            samples: self.samples,
            events: self.events.iter().copied().collect(),
        }
    }

    /// The post-GC floor points kept since the last restart, oldest first (bounded): one per
    /// bucket, each the minimum of its window, stamped at the window's middle.
    pub fn floor(&self) -> Vec<Sample> {
        self.floor.iter().collect()
    }

    /// The floor's troughs since the last restart, oldest first (bounded): each floor value
    /// stamped at the time of the sample it came from, without repeats. A rising floor's
    /// minimum sits at the start of its window, so `floor()` lags it by up to half a window
    /// (30 min when no GC drop is seen); attribution, which lines floor growth up with request
    /// counts, needs the troughs' true times.
    pub fn troughs(&self) -> Vec<Sample> {
        self.troughs.iter().collect()
    }

    /// The alert state now.
    pub fn state(&self) -> AlertState {
        self.state
    }

    fn is_restart(&self, value: f64) -> bool {
        let drop = |r: f64| r > 0.0 && r - value > self.cfg.reset_drop_ratio * r;
        // Back near the heap the last reported full collection left: that collection's fall
        // (the series' floor had followed the ramp up), not a restart.
        if self.anchor.is_some_and(|a| !drop(a)) {
            return false;
        }
        let lowest = || self.mins.iter().map(|m| m.value).reduce(f64::min);
        match self.floor.last() {
            // A slow collection lands back on an older floor, far below a floor that has
            // followed the ramp up since: a restart also falls that far below every bucket kept
            // (8 h). Checked only after the cheap test, which it can only make stricter.
            Some(f) if drop(f.value) && self.cfg.kind == SeriesKind::Heap => {
                lowest().is_none_or(|l| drop(l.min(f.value)))
            }
            Some(f) => drop(f.value),
            None => lowest().is_some_and(drop),
        }
    }

    /// Tracks the usual sample-to-sample change and records slow collections.
    fn observe_step(&mut self, prev: Sample, s: Sample, bucket_min: f64) {
        let fall = prev.value - s.value;
        let step = fall.abs();
        let lowest = self.lookback_low.min(bucket_min);
        // A collection lands below the last bucket or two; a spike's end does not.
        let recent = self.prev_min.min(bucket_min);
        self.collected |=
            !self.cfg.reports_full_gcs && fall >= COLLECTED_SHARE * prev.value && s.value < recent;
        if self.cfg.kind == SeriesKind::Heap
            && self.slow_lookback > 0
            && self.mins.len() >= self.slow_lookback
            && self.step_ewma > 0.0
            && fall > SLOW_FALL * self.step_ewma
            && fall >= SLOW_SHARE * prev.value
            && prev.value - self.prev_max < 0.5 * fall
            && s.value < lowest - SLOW_BELOW * fall
            && self
                .slow_gcs
                .last()
                .is_none_or(|t| s.ts_ms.saturating_sub(t) >= self.bucket_ms)
        {
            self.slow_gcs.push(s.ts_ms);
        }
        // Winsorized, so the collections themselves hardly move it.
        self.step_ewma = if self.step_ewma > 0.0 {
            self.step_ewma + 0.05 * (step.min(3.0 * self.step_ewma) - self.step_ewma)
        } else {
            step
        };
    }

    /// Buckets a floor point must span to reach back past the last slow collection: 1.5 times
    /// the median interval between slow collections when that is long, every bucket since the
    /// only one seen so far, 0 otherwise.
    fn slow_span(&self) -> usize {
        let n = self.slow_gcs.len();
        if n == 1 {
            let since = match (self.last, self.slow_gcs.last()) {
                (Some(l), Some(t)) => l.ts_ms.saturating_sub(t),
                _ => 0,
            };
            let buckets = usize::try_from(since / self.bucket_ms.max(1)).unwrap_or(usize::MAX);
            return buckets.saturating_add(1).min(SLOW_MAX_SPAN);
        }
        if n < 2 {
            return 0;
        }
        let mut gaps = [0i64; SLOW_EVENTS];
        for (g, (a, b)) in gaps
            .iter_mut()
            .zip(self.slow_gcs.iter().zip(self.slow_gcs.iter().skip(1)))
        {
            *g = b.saturating_sub(a);
        }
        // At most five gaps, in ms.
        let gaps = &mut gaps[..n - 1];
        gaps.sort_unstable();
        let m = gaps.len();
        let period = (gaps[(m - 1) / 2] as f64 + gaps[m / 2] as f64) / 2000.0;
        if period.is_nan() || period < SLOW_PERIOD_SECS {
            return 0;
        }
        ((1.5 * period / self.cfg.bucket_secs).ceil() as usize).min(SLOW_MAX_SPAN)
    }

    fn reset(&mut self, ts_ms: i64) {
        self.last = None;
        self.epoch_start_ms = ts_ms;
        self.bucket = None;
        self.mins.clear();
        self.drops.clear();
        self.range_ewma = 0.0;
        self.step_ewma = 0.0;
        self.slow_gcs.clear();
        self.collected = false;
        self.anchor = None;
        self.prev_max = f64::INFINITY;
        self.prev_min = f64::INFINITY;
        self.lookback_low = f64::INFINITY;
        self.floor.clear();
        self.troughs.clear();
        self.verdict = Verdict::Insufficient;
    }

    fn open_bucket(&mut self, start_ms: i64, s: Sample) {
        self.bucket = Some(Bucket {
            start_ms,
            min: s,
            max: s.value,
            drops: 0,
        });
    }

    fn close_bucket(&mut self, b: Bucket) {
        self.mins.push(b.min);
        self.drops.push(b.drops);
        (self.prev_max, self.prev_min) = (b.max, b.min.value);
        self.lookback_low = self
            .mins
            .iter()
            .rev()
            .take(self.slow_lookback)
            .map(|m| m.value)
            .fold(f64::INFINITY, f64::min);
        let range = b.max - b.min.value;
        self.range_ewma = if self.mins.len() == 1 {
            range
        } else {
            0.8 * self.range_ewma + 0.2 * range
        };
        // Span 1.5 GC periods. With no drop seen there is no sawtooth to bridge (a series of
        // post-GC readings, or a floor under noise): a long span would only add lag, since
        // the minimum of a rising floor is the oldest point of the window.
        let drops: u32 = self.drops.iter().sum();
        let span = if drops == 0 {
            NO_DROP_SPAN
        } else {
            let buckets_per_gc = self.drops.len() as f64 / drops as f64;
            ((1.5 * buckets_per_gc).ceil() as usize).clamp(MIN_SPAN, MAX_SPAN)
        };
        let span = span.max(self.slow_span()).min(self.mins.len());
        let trough = self.mins.iter().skip(self.mins.len() - span).fold(
            None,
            |lowest: Option<Sample>, m| match lowest {
                Some(l) if l.value <= m.value => Some(l),
                _ => Some(m),
            },
        );
        let Some(trough) = trough else { return };
        let low = self.anchor.map_or(trough.value, |a| trough.value.min(a));
        if self.troughs.last().is_none_or(|t| trough.ts_ms > t.ts_ms) {
            self.troughs.push(trough);
        }
        // One floor point per bucket, placed at the middle of the window it is the minimum of:
        // dense points whatever the GC period, with a lag of half a window at most.
        let half_ms = (span as i64).saturating_mul(self.bucket_ms) / 2;
        let ts_ms = b
            .start_ms
            .saturating_add(self.bucket_ms)
            .saturating_sub(half_ms);
        if self.floor.last().is_none_or(|f| ts_ms > f.ts_ms) {
            self.floor.push(Sample { ts_ms, value: low });
        }
    }

    /// One evaluation at a bucket close: sets the verdict, returns whether the leak condition
    /// holds. Skips the estimates that cannot change the answer; `analysis()` computes them.
    fn evaluate(&mut self) -> bool {
        let from = self.usable_from_ms();
        let firing = self.state == AlertState::Firing;
        let (verdict, cond, e) = assess(
            &self.cfg,
            self.z,
            &self.floor,
            from,
            &mut self.work,
            true,
            firing,
        );
        self.verdict = verdict;
        self.strength = e.strength;
        let first_ms = self
            .epoch_start_ms
            .saturating_add((self.cfg.first_collection_secs * 1000.0) as i64);
        let now = self.last.map_or(i64::MIN, |l| l.ts_ms);
        if cond && self.cfg.kind == SeriesKind::Heap && !self.collected && now < first_ms {
            // Not enough data yet to tell a leak from a slow GC's first ramp.
            self.verdict = Verdict::Insufficient;
            return false;
        }
        cond
    }

    /// Floor points before this time belong to the warm-up after start or restart.
    fn usable_from_ms(&self) -> i64 {
        let warm_ms = (self.cfg.warmup_secs * 1000.0) as i64;
        self.epoch_start_ms.saturating_add(warm_ms)
    }

    fn step_alert(&mut self, ts_ms: i64, cond: bool) -> Option<AlertEvent> {
        if cond {
            self.verdict = Verdict::Leak;
        }
        let min_for = self.cfg.for_secs.min(self.cfg.min_for_secs);
        let for_secs = (self.cfg.for_secs / self.strength.max(1.0)).max(min_for);
        let for_ms = (for_secs * 1000.0) as i64;
        let next = match (self.state, cond) {
            (_, false) => AlertState::Inactive,
            (AlertState::Inactive, true) if for_ms == 0 => AlertState::Firing,
            (AlertState::Inactive, true) => AlertState::Pending,
            (AlertState::Pending, true) if ts_ms.saturating_sub(self.active_since_ms) >= for_ms => {
                AlertState::Firing
            }
            (s, true) => s,
        };
        if self.state == AlertState::Inactive && next != AlertState::Inactive {
            self.active_since_ms = ts_ms;
        }
        self.transition(ts_ms, next)
    }

    fn transition(&mut self, ts_ms: i64, to: AlertState) -> Option<AlertEvent> {
        if self.state == to {
            return None;
        }
        let e = AlertEvent {
            ts_ms,
            from: self.state,
            to,
        };
        self.state = to;
        if self.events.len() == self.cfg.max_events {
            self.events.pop_front();
        }
        self.events.push_back(e);
        Some(e)
    }
}

/// Replays `samples` through a fresh detector and returns its final analysis: exactly what a
/// live process would have seen.
pub fn analyze(samples: &[Sample], cfg: &DetectorConfig) -> Result<Analysis, InputError> {
    if samples.is_empty() {
        return Err(InputError::Empty {
            what: "analyze",
            needed: 1,
            got: 0,
        });
    }
    let mut d = Detector::new(cfg.clone())?;
    for s in samples {
        d.update(*s)?;
    }
    Ok(d.analysis())
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Reusable buffers of an evaluation, so that evaluations never allocate.
#[derive(Debug, Clone, Default)]
struct Work {
    points: Vec<Sample>,
    values: Vec<i64>,
    slopes: Vec<i64>,
}

/// Judges the usable floor (points at or after `from_ms`). Returns the verdict before the
/// alert step, whether the leak condition holds, and the estimates. With `lazy`, returns as
/// soon as the condition is decided, leaving the estimates partial.
fn assess(
    cfg: &DetectorConfig,
    z: f64,
    floor: &Ring<Sample>,
    from_ms: i64,
    work: &mut Work,
    lazy: bool,
    firing: bool,
) -> (Verdict, bool, Estimate) {
    let Some(now) = floor.last() else {
        return (Verdict::Insufficient, false, Estimate::default());
    };
    let mut est = Estimate {
        baseline: Some(now.value),
        ..Estimate::default()
    };
    work.points.clear();
    work.points
        .extend(floor.iter().filter(|p| p.ts_ms >= from_ms));
    let points = &work.points;
    if points.len() < MIN_POINTS {
        return (Verdict::Insufficient, false, est);
    }
    let healthy = Verdict::Healthy;
    let Some(h) = hinge_fit(points) else {
        if !lazy {
            (est.rate, est.rate_low, est.rate_high) = theil_sen(points, z, &mut work.slopes);
        }
        return (healthy, false, est);
    };
    let seg = &points[h.index..];
    let dur_secs = now.ts_ms.saturating_sub(seg[0].ts_ms) as f64 / 1000.0;
    let baseline = h.baseline.abs();
    let practical = |rate: f64, rise: f64| {
        rise >= cfg.min_rise_ratio * baseline
            || rate * cfg.projection_secs >= cfg.projection_ratio * baseline
            || cfg
                .limit
                .is_some_and(|l| (l - now.value) / rate <= cfg.time_to_limit_alert_secs)
    };
    // Cheap gate on the least-squares slope (twice as generous as the real test).
    if lazy
        && (dur_secs < cfg.min_growth_secs
            || seg.len() < MIN_POINTS
            || !practical(2.0 * h.slope, 2.0 * h.slope * dur_secs))
    {
        return (healthy, false, est);
    }
    // Every test below runs on at most TEST_POINTS block medians of the segment: O(1) work
    // after one linear pass, and less noise than single floor points.
    let mut blocks = [(0.0f64, 0.0f64); TEST_POINTS];
    let nb = reduce_blocks(seg, &mut blocks, TEST_POINTS);
    let blocks = &blocks[..nb];
    // An evaluation (`lazy`) needs only the lower bound; `analysis()` reports both.
    let bounds = if lazy { Bounds::Low } else { Bounds::Both };
    let (rate, lo, hi) = sen_blocks(blocks, Some((z, bounds)), &mut work.slopes);
    (est.rate, est.rate_low, est.rate_high) = (rate, lo, hi);
    let (Some(rate), Some(lo)) = (rate, lo) else {
        return (healthy, false, est);
    };
    if lo > 0.0 && seg.len() >= MIN_POINTS {
        est.growth_start_ms = Some(seg[0].ts_ms);
    } else {
        return (healthy, false, est);
    }
    if dur_secs < cfg.min_growth_secs {
        return (healthy, false, est);
    }
    // Still rising: the newest third of the segment sits above the middle third by at least
    // half of what the rate predicts (warm-ups and one-off steps flatten out).
    let third = nb / 3;
    let mid = block_median(&blocks[third..2 * third]);
    let new = block_median(&blocks[2 * third..]);
    let (_, _, recent_hi) = sen_blocks(
        &blocks[(2 * third).min(nb - 3)..],
        Some((z, Bounds::High)),
        &mut work.slopes,
    );
    // A firing alert has passed every test below once. It stays firing until the newest third
    // has clearly slowed down (its rate's upper bound below RECENT_SHARE of the segment's) and
    // no longer sits clearly above the middle third: a leak whose rate wavers with traffic must
    // not resolve and flap. A leak that stopped resolves after about 1.3 times as long as it
    // rose (the thirds grow with the segment).
    if firing {
        let still = recent_hi.is_none_or(|h| h >= RECENT_SHARE * rate)
            || new - mid > 0.25 * rate * dur_secs / 3.0;
        return if still {
            (Verdict::Leak, true, est)
        } else {
            (healthy, false, est)
        };
    }
    if new - mid < 0.5 * rate * dur_secs / 3.0 || new.is_nan() || mid.is_nan() {
        return (healthy, false, est);
    }
    // A rise that has levelled off (the end of a deploy's or a cache fill's ramp, a warm-up)
    // fits "rising, then flat" better than a line; judged on every block, not on the newest
    // third's own noisy slope.
    if plateau_f(blocks) >= PLATEAU_F {
        return (healthy, false, est);
    }
    // A deploy step, a cache fill or a warm-up is one jump between two levels; a leak is
    // better described by a line than by any single jump.
    if !line_beats_step(blocks) {
        return (healthy, false, est);
    }
    // Growth seen since the first usable point (no flat baseline before it) is the tail of a
    // warm-up until it proves it does not slow down.
    if h.index == 0 {
        let half = nb / 2;
        let first = sen_blocks(&blocks[..half], None, &mut work.slopes).0;
        let second = sen_blocks(&blocks[half..], None, &mut work.slopes).0;
        match (first, second) {
            (Some(a), Some(b)) if b >= 0.75 * a => {}
            _ => return (healthy, false, est),
        }
    }
    // Practical relevance is judged at the lower confidence bound of the rate, so a rise that
    // is only just as large as a daily cycle's is not enough.
    if !practical(lo, lo * dur_secs) {
        return (healthy, false, est);
    }
    let sigma = residual_sigma(points, &h, &mut work.values);
    let cond = lo * dur_secs >= cfg.min_rise_sigmas * sigma;
    // The hold shortens only for growth that left a flat baseline of at least
    // `min_growth_secs` (not a warm-up's tail) and has lasted `min_growth_secs + for_secs`,
    // as long as the normal path needs at least (longer than a deploy's or a cache fill's ramp).
    let flat_secs = seg[0].ts_ms.saturating_sub(points[0].ts_ms) as f64 / 1000.0;
    let shortcut =
        flat_secs >= cfg.min_growth_secs && dur_secs >= cfg.min_growth_secs + cfg.for_secs;
    est.strength = if !shortcut {
        1.0
    } else {
        strength(cfg, lo, dur_secs, baseline, now.value)
    };
    (if cond { Verdict::Leak } else { healthy }, cond, est)
}

/// How many times over the rate's lower bound `lo` clears the practical bar: the largest
/// ratio of achieved to required among the rise, the projected rise and the time to limit.
fn strength(cfg: &DetectorConfig, lo: f64, dur_secs: f64, baseline: f64, now: f64) -> f64 {
    let ratio = |got: f64, need: f64| {
        if need > 0.0 {
            got / need
        } else {
            f64::INFINITY
        }
    };
    let mut s = ratio(lo * dur_secs, cfg.min_rise_ratio * baseline).max(ratio(
        lo * cfg.projection_secs,
        cfg.projection_ratio * baseline,
    ));
    if let Some(l) = cfg.limit {
        s = s.max(ratio(cfg.time_to_limit_alert_secs * lo, l - now));
    }
    if s.is_nan() { 1.0 } else { s }
}

/// The best "flat, then rising" fit of the floor.
#[derive(Debug, Clone, Copy)]
struct Hinge {
    /// Index of the first point of the rising segment.
    index: usize,
    /// Level of the flat part.
    baseline: f64,
    /// Slope of the rising part, per second.
    slope: f64,
}

/// Least-squares fit of `y = b + r * max(0, t - t_c)` over every candidate hinge `t_c` (a point
/// with at least `MIN_POINTS` after it), in one pass with suffix sums. `None` when the best fit
/// does not rise.
fn hinge_fit(points: &[Sample]) -> Option<Hinge> {
    let n = points.len();
    if n < MIN_POINTS {
        return None;
    }
    let t0 = points[0].ts_ms;
    let y0 = points[0].value;
    let x = |p: &Sample| p.ts_ms.saturating_sub(t0) as f64 / 3600e3;
    let sy: f64 = points.iter().map(|p| p.value - y0).sum();
    let nf = n as f64;
    // With `u = max(0, t - t_c)`, the fit's squared error is `Syy - num² / (n·den)`, where
    // `num = n·Suy - Su·Sy` and `den = n·Suu - Su²`: the best hinge rises (`num > 0`) and has
    // the largest `num² / den`. One division per candidate (this loop is most of an
    // evaluation on a flat floor); the coefficients are computed for the winner only.
    let mut best: Option<(usize, f64, f64, f64)> = None;
    let mut best_score = 0.0;
    let (mut st, mut stt, mut sty, mut sy_suf) = (0.0, 0.0, 0.0, 0.0);
    for i in (0..n).rev() {
        let t = x(&points[i]);
        let y = points[i].value - y0;
        st += t;
        stt += t * t;
        sty += t * y;
        sy_suf += y;
        let k = (n - i) as f64;
        if n - i < MIN_POINTS {
            continue;
        }
        let su = st - t * k;
        let suu = stt - 2.0 * t * st + t * t * k;
        let suy = sty - t * sy_suf;
        let den = nf * suu - su * su;
        let num = nf * suy - su * sy;
        if !(den > 0.0 && num > 0.0) {
            continue;
        }
        let score = num * num / den;
        if score > best_score {
            best_score = score;
            best = Some((i, su, num, den));
        }
    }
    let (index, su, num, den) = best?;
    let r = num / den;
    Some(Hinge {
        index,
        baseline: (sy - r * su) / nf + y0,
        slope: r / 3600.0,
    })
}

/// Robust standard deviation (scaled median absolute residual) of `points` around the hinge.
fn residual_sigma(points: &[Sample], h: &Hinge, buf: &mut Vec<i64>) -> f64 {
    let tc = points[h.index].ts_ms;
    // At most 96 evenly spaced points: plenty for a noise level, and bounded work.
    let stride = points.len().div_ceil(96).max(1);
    buf.clear();
    buf.extend(points.iter().step_by(stride).map(|p| {
        let dt = p.ts_ms.saturating_sub(tc).max(0) as f64 / 1000.0;
        order_key((p.value - (h.baseline + h.slope * dt)).abs())
    }));
    1.4826 * median(buf)
}

/// Sums of x, y, x², xy and y² over `blocks`, x in hours, y from the first block's value.
fn sums(blocks: &[(f64, f64)]) -> (f64, f64, f64, f64, f64) {
    let y0 = blocks.first().map_or(0.0, |b| b.1);
    blocks.iter().fold(
        (0.0, 0.0, 0.0, 0.0, 0.0),
        |(sx, sy, sxx, sxy, syy), &(t, v)| {
            let (x, y) = (t / 3600.0, v - y0);
            (sx + x, sy + y, sxx + x * x, sxy + x * y, syy + y * y)
        },
    )
}

/// How much better "rising, then flat from some block on" fits `blocks` (seconds, value) than
/// a straight line: the F statistic `(SSE_line - SSE_plateau) / (SSE_plateau / (k - 3))` of
/// the best continuous ramp-then-plateau `y = a + r * min(t, t_j)` (at least two blocks after
/// the knee `t_j`, rising ramp), 0 when no such fit rises. One pass with prefix sums.
fn plateau_f(blocks: &[(f64, f64)]) -> f64 {
    let k = blocks.len();
    if k < 5 {
        return 0.0;
    }
    let y0 = blocks[0].1;
    let (sx, sy, sxx, sxy, syy) = sums(blocks);
    let kf = k as f64;
    let vyy = syy - sy * sy / kf;
    // Residual sum of squares of y on one regressor u, and the sign of the fitted slope.
    let fit = |su: f64, suu: f64, suy: f64| {
        let vuu = suu - su * su / kf;
        let vuy = suy - su * sy / kf;
        if vuu > 0.0 {
            (vyy - vuy * vuy / vuu, vuy)
        } else {
            (vyy, 0.0)
        }
    };
    let (sse_line, _) = fit(sx, sxx, sxy);
    let (mut px, mut pxx, mut pxy, mut py) = (0.0, 0.0, 0.0, 0.0);
    let mut best = f64::INFINITY;
    for (j, &(t, v)) in blocks.iter().enumerate().take(k - 2) {
        let x = t / 3600.0;
        let y = v - y0;
        px += x;
        pxx += x * x;
        pxy += x * y;
        py += y;
        if j == 0 {
            continue;
        }
        // u = min(t, t_j): the blocks after the knee all sit at t_j.
        let after = (k - 1 - j) as f64;
        let (sse, rise) = fit(px + after * x, pxx + after * x * x, pxy + x * (sy - py));
        if rise > 0.0 {
            best = best.min(sse);
        }
    }
    if !best.is_finite() {
        return 0.0;
    }
    let f = (sse_line - best) / (best / (kf - 3.0));
    if f.is_nan() { 0.0 } else { f }
}

/// Whether a straight line fits `blocks` (seconds, value) better, in squared error, than the
/// best split into two flat levels.
fn line_beats_step(blocks: &[(f64, f64)]) -> bool {
    let k = blocks.len();
    if k < 4 {
        return false;
    }
    let y0 = blocks[0].1;
    let (sx, sy, sxx, sxy, syy) = sums(blocks);
    let kf = k as f64;
    let vxx = sxx - sx * sx / kf;
    let vyy = syy - sy * sy / kf;
    let vxy = sxy - sx * sy / kf;
    let sse_line = if vxx > 0.0 {
        vyy - vxy * vxy / vxx
    } else {
        vyy
    };
    let (mut ly, mut lyy) = (0.0, 0.0);
    let mut sse_step = f64::INFINITY;
    for (j, &(_, v)) in blocks.iter().enumerate().take(k - 2) {
        let y = v - y0;
        ly += y;
        lyy += y * y;
        let nl = (j + 1) as f64;
        if j < 1 {
            continue;
        }
        let nr = kf - nl;
        let (ry, ryy) = (sy - ly, syy - lyy);
        let sse = (lyy - ly * ly / nl) + (ryy - ry * ry / nr);
        sse_step = sse_step.min(sse);
    }
    sse_line < sse_step
}

/// Theil–Sen slope (per second) of up to `TEST_POINTS` block medians of `points`, with Sen's
/// rank confidence interval from the Mann–Kendall variance. All `None` with fewer than 3 blocks.
fn theil_sen(
    points: &[Sample],
    z: f64,
    slopes: &mut Vec<i64>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    sen(points, TEST_POINTS, Some((z, Bounds::Both)), slopes)
}

/// Which bounds of Sen's interval a caller uses: each costs one selection among the slopes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bounds {
    Low,
    High,
    Both,
}

/// Theil–Sen on at most `max_blocks` block medians of `points`; the interval's `Bounds` only
/// when `z` is given.
fn sen(
    points: &[Sample],
    max_blocks: usize,
    z: Option<(f64, Bounds)>,
    slopes: &mut Vec<i64>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let mut blocks = [(0.0f64, 0.0f64); TEST_POINTS];
    let nb = reduce_blocks(points, &mut blocks, max_blocks);
    sen_blocks(&blocks[..nb], z, slopes)
}

/// Theil–Sen slope of (seconds, value) points with, when `z` is given, the chosen bounds of
/// Sen's rank interval from the Mann–Kendall variance (`None` for a bound not chosen). All
/// `None` with fewer than 3 points.
fn sen_blocks(
    blocks: &[(f64, f64)],
    z: Option<(f64, Bounds)>,
    slopes: &mut Vec<i64>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let nb = blocks.len();
    if nb < 3 {
        return (None, None, None);
    }
    slopes.clear();
    for i in 0..nb {
        for j in i + 1..nb {
            let dt = blocks[j].0 - blocks[i].0;
            if dt > 0.0 {
                slopes.push(order_key((blocks[j].1 - blocks[i].1) / dt));
            }
        }
    }
    let m = slopes.len();
    if m == 0 {
        return (None, None, None);
    }
    let half = m / 2;
    let mid = select(slopes, half);
    let below = slopes[..half]
        .iter()
        .copied()
        .max()
        .map_or(f64::NEG_INFINITY, from_order_key);
    let med = if m % 2 == 1 { mid } else { (mid + below) / 2.0 };
    let Some((z, bounds)) = z else {
        return (finite(med), None, None);
    };
    let nbf = nb as f64;
    let var_s = nbf * (nbf - 1.0) * (2.0 * nbf + 5.0) / 18.0;
    let c = z * var_s.sqrt();
    let lo_rank = (((m as f64 - c) / 2.0).floor().max(0.0) as usize).min(m - 1);
    let hi_rank = (((m as f64 + c) / 2.0).ceil() as usize).min(m - 1);
    // The median's selection split the slopes; each bound is selected in its half.
    let lo = (bounds != Bounds::High).then(|| match lo_rank.cmp(&half) {
        std::cmp::Ordering::Less => select(&mut slopes[..half], lo_rank),
        _ => mid,
    });
    let hi = (bounds != Bounds::Low).then(|| {
        if hi_rank > half {
            select(&mut slopes[half + 1..], hi_rank - half - 1)
        } else {
            mid
        }
    });
    (finite(med), lo.and_then(finite), hi.and_then(finite))
}

/// Splits `points` into at most `max_blocks` consecutive blocks; each block becomes (time of
/// its middle point in seconds from the first, median value). Returns the number of blocks.
fn reduce_blocks(
    points: &[Sample],
    out: &mut [(f64, f64); TEST_POINTS],
    max_blocks: usize,
) -> usize {
    let n = points.len();
    if n == 0 {
        return 0;
    }
    let t0 = points[0].ts_ms;
    let nb = n.min(max_blocks).min(TEST_POINTS);
    let mut vals = [0i64; BLOCK_MAX];
    for (b, slot) in out.iter_mut().enumerate().take(nb) {
        let lo = b * n / nb;
        let hi = ((b + 1) * n / nb).max(lo + 1).min(n);
        let block = &points[lo..hi];
        let mid = block[block.len() / 2].ts_ms.saturating_sub(t0) as f64 / 1000.0;
        let len = block.len().min(vals.len());
        for (v, p) in vals.iter_mut().zip(block) {
            *v = order_key(p.value);
        }
        *slot = (mid, median(&mut vals[..len]));
    }
    nb
}

/// The median value of at most `TEST_POINTS` blocks.
fn block_median(blocks: &[(f64, f64)]) -> f64 {
    let mut v = [0i64; TEST_POINTS];
    let n = blocks.len().min(TEST_POINTS);
    for (x, b) in v.iter_mut().zip(blocks) {
        *x = order_key(b.1);
    }
    median(&mut v[..n])
}

/// The median of values given as [`order_key`]s (lower middle for even lengths averaged with
/// the upper); NaN when empty.
fn median(v: &mut [i64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let hi = select(v, n / 2);
    if n % 2 == 1 {
        hi
    } else {
        // Selection left the smaller half in front: the lower middle is its largest.
        (hi + from_order_key(v[..n / 2].iter().copied().max().expect("n >= 2"))) / 2.0
    }
}

/// The `k`-th smallest of values given as [`order_key`]s.
fn select(v: &mut [i64], k: usize) -> f64 {
    from_order_key(*v.select_nth_unstable(k).1)
}

/// `v` as an integer in the order of `f64::total_cmp` (NaN cannot panic), which is its own
/// inverse. The medians and Theil–Sen selections are most of an evaluation's work, and
/// selecting integers skips the float-to-order transform `total_cmp` makes at every comparison.
fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The f64 whose [`order_key`] is `key`.
fn from_order_key(key: i64) -> f64 {
    let bits = key ^ ((((key >> 63) as u64) >> 1) as i64);
    f64::from_bits(bits as u64)
}

#[allow(clippy::excessive_precision)]
/// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e2,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    let p_low = 0.02425;
    if p < p_low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - p_low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn s(ts_secs: i64, value: f64) -> Sample {
        Sample {
            ts_ms: ts_secs * 1000,
            value,
        }
    }

    /// The events are exactly: pending, firing, resolved.
    fn assert_fired_once_then_resolved(events: &[AlertEvent]) {
        let kinds: Vec<_> = events.iter().map(|e| (e.from, e.to)).collect();
        assert_eq!(
            kinds,
            vec![
                (AlertState::Inactive, AlertState::Pending),
                (AlertState::Pending, AlertState::Firing),
                (AlertState::Firing, AlertState::Inactive)
            ]
        );
    }

    /// A 15 s series: floor `f(t_secs)` plus a 5 min sawtooth of amplitude `amp`.
    fn sawtooth(hours: f64, amp: f64, f: impl Fn(f64) -> f64) -> Vec<Sample> {
        let n = (hours * 240.0) as i64;
        (0..n)
            .map(|i| {
                let t = (i * 15) as f64;
                let phase = (i % 20) as f64 / 20.0;
                s(1_700_000_000 + i * 15, f(t) + amp * phase)
            })
            .collect()
    }

    #[test]
    fn a_linear_leak_under_a_sawtooth_fires() {
        let leak_start = 3.0 * 3600.0;
        let xs = sawtooth(12.0, 50e6, |t| 200e6 + 20.0e3 * (t - leak_start).max(0.0));
        let a = analyze(&xs, &DetectorConfig::default()).unwrap();
        assert_eq!(a.verdict, Verdict::Leak);
        assert_eq!(a.state, AlertState::Firing);
        let rate = a.rate_per_sec.unwrap();
        assert!((rate - 20e3).abs() < 2e3, "rate {rate}");
        assert!(a.rate_low.unwrap() <= rate && rate <= a.rate_high.unwrap());
        let start = a.growth_start_ms.unwrap() / 1000 - 1_700_000_000;
        assert!((start as f64 - leak_start).abs() < 1800.0, "start {start}");
        let fired = a
            .events
            .iter()
            .find(|e| e.to == AlertState::Firing)
            .unwrap();
        assert!(fired.ts_ms / 1000 - 1_700_000_000 > leak_start as i64);
    }

    #[test]
    fn a_flat_sawtooth_stays_healthy() {
        let xs = sawtooth(12.0, 80e6, |_| 200e6);
        let a = analyze(&xs, &DetectorConfig::default()).unwrap();
        assert_eq!(a.verdict, Verdict::Healthy);
        assert_eq!(a.state, AlertState::Inactive);
        assert!(a.events.is_empty());
        let b = a.baseline.unwrap();
        assert!((b - 200e6).abs() < 1e6, "baseline {b}");
    }

    #[test]
    fn bad_samples_get_typed_errors_and_keep_state() {
        let mut d = Detector::new(DetectorConfig::default()).unwrap();
        d.update(s(10, 1.0)).unwrap();
        let e = d.update(s(20, f64::NAN)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NonFiniteValue);
        let e = d.update(s(20, f64::INFINITY)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NonFiniteValue);
        let e = d.update(s(20, f64::NEG_INFINITY)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NonFiniteValue);
        let e = d.update(s(10, 1.0)).unwrap_err();
        assert!(matches!(e, InputError::OutOfOrder { index: 1, .. }));
        assert_eq!(
            d.update(s(5, 1.0)).unwrap_err().code(),
            ErrorCode::OutOfOrder
        );
        assert_eq!(d.analysis().samples, 1);
        d.update(s(20, 2.0)).unwrap();
        assert_eq!(d.analysis().samples, 2);
    }

    #[test]
    fn analyze_rejects_empty_input_and_reports_the_bad_index() {
        let cfg = DetectorConfig::default();
        assert_eq!(
            analyze(&[], &cfg).unwrap_err().code(),
            ErrorCode::EmptyInput
        );
        let e = analyze(&[s(1, 1.0), s(2, 2.0), s(2, 3.0)], &cfg).unwrap_err();
        assert!(matches!(e, InputError::OutOfOrder { index: 2, .. }));
        let e = analyze(&[s(1, 1.0), s(2, f64::NAN)], &cfg).unwrap_err();
        assert!(matches!(e, InputError::NonFinite { index: 1, .. }));
    }

    #[test]
    fn invalid_options_are_refused() {
        let edits: [fn(&mut DetectorConfig); 19] = [
            |c| c.limit = Some(0.0),
            |c| c.min_for_secs = -1.0,
            |c| c.limit = Some(f64::NAN),
            |c| c.for_secs = -1.0,
            |c| c.for_secs = f64::INFINITY,
            |c| c.bucket_secs = 0.0,
            |c| c.floor_capacity = 2,
            |c| c.floor_capacity = MAX_FLOOR + 1,
            |c| c.warmup_secs = f64::NAN,
            |c| c.min_growth_secs = -5.0,
            |c| c.min_rise_ratio = -0.1,
            |c| c.min_rise_sigmas = f64::NAN,
            |c| c.time_to_limit_alert_secs = -1.0,
            |c| c.confidence = 1.0,
            |c| c.projection_secs = -1.0,
            |c| c.projection_ratio = f64::NAN,
            |c| c.reset_drop_ratio = 0.0,
            |c| c.first_collection_secs = -1.0,
            |c| c.max_events = 0,
        ];
        let widest = DetectorConfig {
            floor_capacity: MAX_FLOOR,
            ..Default::default()
        };
        assert!(widest.validate().is_ok());
        let bad = edits.map(|edit| {
            let mut c = DetectorConfig::default();
            edit(&mut c);
            c
        });
        for cfg in bad {
            assert_eq!(
                cfg.validate().unwrap_err().code(),
                ErrorCode::InvalidOption,
                "{cfg:?}"
            );
            assert!(Detector::new(cfg.clone()).is_err());
            assert_eq!(
                analyze(&[s(1, 1.0)], &cfg).unwrap_err().code(),
                ErrorCode::InvalidOption
            );
        }
        let mut d = Detector::new(DetectorConfig::default()).unwrap();
        assert_eq!(
            d.set_limit(Some(-1.0)).unwrap_err().code(),
            ErrorCode::InvalidOption
        );
        assert_eq!(d.config().limit, None);
        d.set_limit(Some(1e9)).unwrap();
        assert_eq!(d.analysis().limit, Some(1e9));
    }

    #[test]
    fn a_ramp_that_levelled_off_fits_a_plateau_and_a_line_does_not() {
        // 12 blocks 10 min apart, with a small alternating wiggle as noise.
        let noisy = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
            (0..12)
                .map(|i| {
                    let t = f64::from(i) * 600.0;
                    (t, f(t) + if i % 2 == 0 { 0.3 } else { -0.3 })
                })
                .collect()
        };
        let line = noisy(&|t| 100.0 + t / 60.0);
        let ramp_then_flat = noisy(&|t| 100.0 + t.min(4000.0) / 60.0);
        assert!(plateau_f(&line) < PLATEAU_F, "{}", plateau_f(&line));
        assert!(
            plateau_f(&ramp_then_flat) >= PLATEAU_F,
            "{}",
            plateau_f(&ramp_then_flat)
        );
        // A falling or constant series has no rising ramp to end.
        assert_eq!(plateau_f(&noisy(&|t| 100.0 - t / 60.0)), 0.0);
        assert_eq!(plateau_f(&[(0.0, 1.0); 8]), 0.0);
        assert_eq!(plateau_f(&line[..4]), 0.0);
    }

    #[test]
    fn normal_quantile_matches_known_values() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.001) + 3.090232).abs() < 1e-5);
    }

    #[test]
    fn a_restart_resets_and_resolves_a_firing_alert() {
        let leak = sawtooth(12.0, 30e6, |t| 200e6 + 30.0e3 * (t - 3.0 * 3600.0).max(0.0));
        let mut d = Detector::new(DetectorConfig::default()).unwrap();
        for x in &leak {
            d.update(*x).unwrap();
        }
        assert_eq!(d.state(), AlertState::Firing);
        let last = leak.last().unwrap().ts_ms;
        let restart = Sample {
            ts_ms: last + 15_000,
            value: 50e6,
        };
        let e = d.update(restart).unwrap().unwrap();
        assert_eq!(
            (e.ts_ms, e.from, e.to),
            (restart.ts_ms, AlertState::Firing, AlertState::Inactive)
        );
        let a = d.analysis();
        assert_eq!(a.verdict, Verdict::Insufficient);
        assert!(d.floor().is_empty());
        assert_eq!(a.samples, leak.len() as u64 + 1);
        assert_fired_once_then_resolved(&a.events);
    }

    #[test]
    fn a_firing_alert_resolves_once_the_leak_stops() {
        let (start, stop) = (3.0 * 3600.0, 7.0 * 3600.0);
        let xs = sawtooth(20.0, 30e6, |t| {
            200e6 + 20.0e3 * (t.min(stop) - start).max(0.0)
        });
        let a = analyze(&xs, &DetectorConfig::default()).unwrap();
        assert_fired_once_then_resolved(&a.events);
        let resolved_h = (a.events[2].ts_ms / 1000 - 1_700_000_000) as f64 / 3600.0;
        assert!(resolved_h > 7.0, "resolved at {resolved_h} h");
        assert_eq!(a.state, AlertState::Inactive);
    }

    #[test]
    fn strong_evidence_shortens_the_hold_down_to_min_for() {
        // 3.6%/h from a flat baseline under noise: the condition first holds more than an hour
        // into the growth, and then far beyond the practical bar.
        let start = 4.0 * 3600.0;
        let xs = sawtooth(10.0, 30e6, |t| {
            let noise = ((t * 12.9898).sin() * 43758.5453).fract();
            200e6 + 2e6 * noise + 2e3 * (t - start).max(0.0)
        });
        // Seconds from the last pending to the first firing, and when it fired.
        let hold = |cfg: &DetectorConfig| {
            let a = analyze(&xs, cfg).unwrap();
            assert_eq!(a.state, AlertState::Firing);
            let fire = a
                .events
                .iter()
                .position(|e| e.to == AlertState::Firing)
                .unwrap();
            let pending = a.events[..fire]
                .iter()
                .rev()
                .find(|e| e.to == AlertState::Pending)
                .unwrap();
            let fired = a.events[fire].ts_ms;
            ((fired - pending.ts_ms) / 1000, fired)
        };
        let plain = DetectorConfig {
            min_for_secs: 1800.0,
            ..Default::default()
        };
        let (plain_hold, plain_fired) = hold(&plain);
        assert!(plain_hold >= 1800, "plain for held {plain_hold} s");
        let (short_hold, short_fired) = hold(&DetectorConfig::default());
        assert!((900..1800).contains(&short_hold), "held {short_hold} s");
        assert!(short_fired < plain_fired);
    }

    #[test]
    fn for_zero_fires_at_once_and_events_are_bounded() {
        let cfg = DetectorConfig {
            for_secs: 0.0,
            max_events: 2,
            ..Default::default()
        };
        let leak = sawtooth(12.0, 30e6, |t| 200e6 + 30.0e3 * (t - 3.0 * 3600.0).max(0.0));
        let a = analyze(&leak, &cfg).unwrap();
        assert_eq!(a.state, AlertState::Firing);
        assert_eq!(a.events[0].from, AlertState::Inactive);
        assert!(a.events.iter().all(|e| e.to != AlertState::Pending));
        assert!(a.events.len() <= 2);
    }

    #[test]
    fn time_to_limit_follows_the_limit() {
        let leak = sawtooth(12.0, 30e6, |t| 200e6 + 20.0e3 * (t - 3.0 * 3600.0).max(0.0));
        let mut d = Detector::new(DetectorConfig::default()).unwrap();
        for x in &leak {
            d.update(*x).unwrap();
        }
        assert_eq!(d.analysis().time_to_limit_secs, None);
        d.set_limit(Some(2e9)).unwrap();
        let a = d.analysis();
        let want = (2e9 - a.baseline.unwrap()) / a.rate_per_sec.unwrap();
        assert_eq!(a.time_to_limit_secs, Some(want));
        assert!(want > 0.0);
    }

    #[test]
    fn analysis_serializes_with_snake_case_names() {
        let xs = sawtooth(3.0, 1e6, |_| 1e8);
        let a = analyze(&xs, &DetectorConfig::default()).unwrap();
        let j = serde_json::to_value(&a).unwrap();
        assert_eq!(j["verdict"], "healthy");
        assert_eq!(j["state"], "inactive");
        assert!(j.get("growth_start_ms").is_some() && j.get("rate_low").is_some());
        let back: Analysis = serde_json::from_value(j).unwrap();
        assert_eq!(back, a);
        let cfg: DetectorConfig = serde_json::from_str(r#"{"kind":"count","limit":5}"#).unwrap();
        assert_eq!((cfg.kind, cfg.limit), (SeriesKind::Count, Some(5.0)));
        assert!(serde_json::from_str::<DetectorConfig>(r#"{"bogus":1}"#).is_err());
    }

    #[test]
    fn other_sampling_steps_give_the_same_verdicts() {
        use crate::detect::scenarios::{Situation, generate};
        for step in [5, 60] {
            for seed in 1..4 {
                for sit in [Situation::Flat, Situation::Step, Situation::FastLeak] {
                    let sc = generate(sit, seed, step);
                    let cfg = DetectorConfig {
                        limit: sc.limit,
                        ..DetectorConfig::for_kind(sc.kind)
                    };
                    let a = analyze(&sc.samples, &cfg).unwrap();
                    let want = if sit.leaks() {
                        AlertState::Firing
                    } else {
                        AlertState::Inactive
                    };
                    assert_eq!(a.state, want, "{} seed {seed} at {step} s", sit.name());
                    if !sit.leaks() {
                        let fired = a.events.iter().any(|e| e.to == AlertState::Firing);
                        assert!(!fired, "{} seed {seed} at {step} s", sit.name());
                    }
                }
            }
        }
    }

    /// Every alert state change over a generated series, with the defaults for its kind and
    /// `first_collection_secs`.
    fn replay(
        sc: &crate::detect::scenarios::Scenario,
        first_collection_secs: f64,
    ) -> Vec<AlertEvent> {
        let cfg = DetectorConfig {
            limit: sc.limit,
            max_events: 1000,
            first_collection_secs,
            ..DetectorConfig::for_kind(sc.kind)
        };
        analyze(&sc.samples, &cfg).unwrap().events
    }

    #[test]
    fn a_slow_gc_does_not_fire() {
        use crate::detect::scenarios::{Situation, generate};
        // A full GC every 1-4 h: the heap ramps up for hours like a leak, and a collection can
        // fall by more than `reset_drop_ratio` below a floor that followed the ramp. The detector
        // used to fire on these seeds. The first three it now gets right by default; the other
        // three fire on the ramp before the first collection, which `first_collection_secs`
        // waits out.
        for (seed, first) in [(2, 0.0), (4, 0.0), (9, 0.0), (1, 4.0), (5, 4.0), (8, 4.0)] {
            let events = replay(&generate(Situation::SlowGc, seed, 15), first * 3600.0);
            assert!(
                events.iter().all(|e| e.to != AlertState::Firing),
                "seed {seed}: {events:?}"
            );
        }
    }

    #[test]
    fn a_leak_under_a_slow_gc_fires_after_it_begins() {
        use crate::detect::scenarios::{Situation, generate};
        for (seed, first) in [(3, 0.0), (6, 0.0), (3, 4.0), (6, 4.0)] {
            let sc = generate(Situation::SlowGcLeak, seed, 15);
            let start = sc.leak_start_ms.unwrap();
            let events = replay(&sc, first * 3600.0);
            let fired: Vec<i64> = events
                .iter()
                .filter(|e| e.to == AlertState::Firing)
                .map(|e| e.ts_ms)
                .collect();
            assert!(!fired.is_empty(), "seed {seed}: {events:?}");
            assert!(fired.iter().all(|&t| t > start), "seed {seed}: {events:?}");
            let last = events.last().unwrap();
            assert_eq!(last.to, AlertState::Firing, "seed {seed}: {events:?}");
        }
    }

    #[test]
    fn the_detector_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Detector>();
    }

    proptest::proptest! {
        #[test]
        fn order_keys_sort_like_total_cmp_and_round_trip(
            a in proptest::num::f64::ANY,
            b in proptest::num::f64::ANY,
        ) {
            proptest::prop_assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b));
            proptest::prop_assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
        }

        #[test]
        fn analyze_never_panics_and_types_bad_input(
            steps in proptest::collection::vec(-2i64..40_000, 0..400),
            raw in proptest::collection::vec(proptest::num::f64::ANY, 0..400),
            start in proptest::num::i64::ANY,
            kind in proptest::sample::select(vec![SeriesKind::Heap, SeriesKind::Count]),
        ) {
            let mut ts = start;
            let xs: Vec<Sample> = steps.iter().zip(&raw).map(|(d, v)| {
                ts = ts.saturating_add(*d);
                Sample { ts_ms: ts, value: *v }
            }).collect();
            let first_bad = xs.iter().enumerate().find_map(|(i, x)| {
                if !x.value.is_finite() {
                    Some((i, ErrorCode::NonFiniteValue))
                } else if i > 0 && x.ts_ms <= xs[i - 1].ts_ms {
                    Some((i, ErrorCode::OutOfOrder))
                } else {
                    None
                }
            });
            let r = analyze(&xs, &DetectorConfig::for_kind(kind));
            match (xs.is_empty(), first_bad, r) {
                (true, _, Err(e)) => proptest::prop_assert_eq!(e.code(), ErrorCode::EmptyInput),
                (false, None, Ok(a)) => {
                    proptest::prop_assert_eq!(a.samples, xs.len() as u64);
                    proptest::prop_assert!(a.events.len() <= 32);
                }
                (false, Some((i, code)), Err(e)) => {
                    proptest::prop_assert_eq!(e.code(), code);
                    let index = match e {
                        InputError::NonFinite { index, .. } | InputError::OutOfOrder { index, .. } => index,
                        _ => usize::MAX,
                    };
                    proptest::prop_assert_eq!(index, i);
                }
                (_, _, r) => proptest::prop_assert!(false, "unexpected {:?}", r),
            }
        }

        #[test]
        fn memory_stays_bounded_on_long_wild_series(
            values in proptest::collection::vec(0.0f64..1e12, 1..3000),
            step_ms in 1i64..600_000,
        ) {
            let cfg = DetectorConfig { floor_capacity: 16, max_events: 4, bucket_secs: 1.0, ..Default::default() };
            let mut d = Detector::new(cfg).unwrap();
            for (i, v) in values.iter().enumerate() {
                d.update(Sample { ts_ms: i as i64 * step_ms, value: *v }).unwrap();
                proptest::prop_assert!(d.floor().len() <= 16);
            }
            let a = d.analysis();
            proptest::prop_assert!(a.events.len() <= 4);
            let j = serde_json::to_string(&a);
            proptest::prop_assert!(j.is_ok());
        }

        #[test]
        fn any_config_is_accepted_or_refused_without_panic(
            for_secs in proptest::num::f64::ANY,
            bucket_secs in proptest::num::f64::ANY,
            limit in proptest::option::of(proptest::num::f64::ANY),
            confidence in proptest::num::f64::ANY,
            floor_capacity in 0usize..200_000,
        ) {
            let cfg = DetectorConfig { for_secs, bucket_secs, limit, confidence, floor_capacity, ..Default::default() };
            match Detector::new(cfg) {
                Ok(mut d) => {
                    let r = d.update(Sample { ts_ms: 0, value: 1.0 });
                    proptest::prop_assert!(r.is_ok());
                }
                Err(e) => proptest::prop_assert_eq!(e.code(), ErrorCode::InvalidOption),
            }
        }
    }
}
