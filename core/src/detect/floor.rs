//! The post-GC floor: samples fall into fixed time buckets, each bucket keeps its minimum, and
//! a floor point is the minimum over a few buckets, enough to span one and a half estimated GC
//! periods (the period is measured from the sawtooth's drops), stamped at the middle of that
//! window. Upward spikes never reach the floor. A slow GC (a full collection every hour or more)
//! is seen through its large falls to a new low, and its floor window then reaches back past the
//! last of them (up to 8 h). A fall far below the floor is a restart.
//!
//! Cost: O(1) per sample, O(window) per bucket close; memory is fixed at construction.

use super::options::{DetectorConfig, SeriesKind};
use super::profile::DailyProfile;
use super::traffic::Traffic;
use crate::error::InputError;
use crate::series::{Ring, Sample};

/// The minimum of one time bucket, with the bucket's extent.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start_ms: i64,
    min: Sample,
    max: f64,
    drops: u32,
    /// The largest sample-to-sample fall into the bucket.
    fall: f64,
}

/// Fewest buckets a floor point spans: the minimum of a sawtooth faster than the sampling is
/// a noisy estimate of the floor, and more samples tighten it.
const MIN_SPAN: usize = 2;
/// Fewest samples a floor point's window holds, for sparse series (scraped every few minutes).
const WINDOW_SAMPLES: f64 = 4.0;
/// The rank (1 = the lowest) of the sample a point of the smoother floor for sparse series
/// takes over its window (`sparse_urgent_samples`).
const SMOOTH_RANK: usize = 2;
/// Buckets a floor point spans when no GC drop has been seen in the last `MAX_SPAN` buckets.
const NO_DROP_SPAN: usize = MIN_SPAN;
/// Most buckets a floor point spans (its window is 1.5 GC periods, capped here), from the
/// per-bucket drop counts.
const MAX_SPAN: usize = 12;
/// Most buckets a floor point spans under `saw_floor_share` (a big sawtooth sampled at few
/// samples per collection).
const SAW_MAX_SPAN: usize = 12;
/// Sampling intervals above this (ms) keep their window under `saw_floor_share`: 12 buckets
/// hold too few samples of a series scraped every few minutes to smooth its minimum.
const SAW_MAX_INTERVAL_MS: f64 = 150_000.0;
/// `saw_floor_share` widens no window in the first 4 h after start or restart (ms): a cache
/// that fills from cold rises there, and on the noisier floor its bend shows before its rise
/// is significant.
const SAW_AFTER_MS: i64 = 4 * 3_600_000;
/// With `slow_lone_secs`: a lone slow collection followed by a sample-to-sample fall of this
/// share of its own is a GC's (its later collections not recognised as slow), and keeps
/// reaching back to it.
const LONE_FALL_SHARE: f64 = 0.5;
/// Most buckets a floor point spans under a slow GC (a full collection every hour or more, see
/// [`SLOW_SHARE`]): 8 h of 5 min buckets, 1.5 periods of a 5 h GC.
const SLOW_MAX_SPAN: usize = 96;
/// A slow collection is a sample-to-sample fall of at least `slow_fall_steps` times the usual
/// change (noise is not that large), freeing at least `SLOW_SHARE` of the heap, from a level the heap
/// reached gradually (not a spike's top), landing below every sample of the last
/// `SLOW_LOOKBACK_SECS` by at least `SLOW_BELOW` of the fall: the heap had built up over them
/// since the previous collection. A fast sawtooth's trough lands back on its old floor instead.
/// With `slow_rise_share` the heap must also have climbed there in small steps (a long spike
/// on a sparse series jumps up in one). With `slow_fall_dense_secs` a fall of
/// [`SLOW_RECENT_FALL`] times the largest of the last `SLOW_LOOKBACK_SECS` is large enough too.
const SLOW_SHARE: f64 = 0.05;
/// With `slow_fall_dense_secs`, a fall this many times the largest sample-to-sample fall of the
/// last `SLOW_LOOKBACK_SECS` is as large as a slow collection's, on a series sampled densely
/// enough for that largest fall to be a scale (a V8 heap's largest scavenge).
const SLOW_RECENT_FALL: f64 = 1.5;
/// See [`SLOW_SHARE`]. With buckets so small that this is more than `SLOW_MAX_SPAN` of them
/// (under 19 s, as in compressed-time demos), slow collections are not looked for.
const SLOW_LOOKBACK_SECS: f64 = 1800.0;
/// See [`SLOW_SHARE`].
const SLOW_BELOW: f64 = 0.25;
/// Slow collections whose times are kept; their median interval is the slow GC period.
const SLOW_EVENTS: usize = 6;
/// Shortest median interval between slow collections that sets the floor's span: below it the
/// per-bucket drop counts see the period.
const SLOW_PERIOD_SECS: f64 = 2400.0;
/// With `first_collection_slow_share`: the longest usual interval between samples at which an
/// early first collection may be taken for a slow one (a slow GC's ramp is seen sample by
/// sample; 60-s and 5-min series' falls are too coarse to tell).
const EARLY_SLOW_INTERVAL_MS: f64 = 20_000.0;
/// A collection's share of the heap for `first_collection_secs`: a fall by this share of it,
/// landing below the last bucket (a spike's end does not).
const COLLECTED_SHARE: f64 = 0.03;

/// The floor tracker: buckets, the GC period, slow collections and the floor points.
#[derive(Debug, Clone)]
pub(super) struct Floor {
    bucket_ms: i64,
    last: Option<Sample>,
    epoch_start_ms: i64,
    bucket: Option<Bucket>,
    mins: Ring<Sample>,
    drops: Ring<u32>,
    range_ewma: f64,
    /// The fall a drop is measured from (`drop_fall_secs`): the highest sample since it was
    /// last reset, and when that was.
    fall_high: Sample,
    /// Whether a drop may be counted: cleared by a counted drop, set again once the heap has
    /// climbed back from `fall_low` by as much.
    fall_armed: bool,
    /// The lowest sample since the last counted drop.
    fall_low: f64,
    /// Winsorized mean of the sample-to-sample change (the scale a slow collection must beat).
    step_ewma: f64,
    /// Times of the newest slow collections (see [`SLOW_SHARE`]).
    slow_gcs: Ring<i64>,
    /// The newest slow collection's fall, and the largest sample-to-sample fall since it
    /// (`slow_lone_secs`: a lone collection followed by falls as large is a GC's).
    slow_fall: f64,
    fall_since_slow: f64,
    /// The largest sample-to-sample fall into each of the last `slow_lookback` buckets (for
    /// `slow_fall_dense_secs`), and the largest of them, updated at each bucket close so that
    /// a sample costs O(1).
    falls: Ring<f64>,
    lookback_fall: f64,
    /// Whether the heap has fallen by a collection's share since start or restart (see
    /// [`COLLECTED_SHARE`]), or the runtime reported a full collection.
    collected: bool,
    /// The time of a first collection `first_collection_slow_share` may take for a slow one,
    /// until a slow period without another fall confirms it or such a fall cancels it.
    early_slow: Option<i64>,
    /// The candidate's fall (`first_collection_slow_cancel_share`).
    early_fall: f64,
    /// The heap right after the last full collection the runtime reported
    /// ([`Floor::mark_full_gc`]): no floor point sits above it.
    anchor: Option<f64>,
    /// Buckets in `SLOW_LOOKBACK_SECS`; 0 when slow collections are not looked for.
    slow_lookback: usize,
    /// The highest and lowest samples of the last closed bucket.
    prev_max: f64,
    prev_min: f64,
    /// The lowest bucket minimum of the last `slow_lookback` buckets, updated at each bucket
    /// close so that a sample costs O(1).
    lookback_low: f64,
    /// With `first_collection_lookback_secs`: buckets the collection must land below (0
    /// without), the lowest bucket minimum over them, and the buckets closed before one is
    /// looked for.
    collect_lookback: usize,
    collect_low: f64,
    collect_burn_in: usize,
    points: Ring<Sample>,
    /// The mean request rate over each floor point's window (NaN without traffic), aligned
    /// with `points`.
    loads: Ring<f64>,
    /// The window of the newest floor point (ms): how long a flat floor takes to show as flat.
    window_ms: i64,
    /// The usual interval between samples (ms; a winsorized moving average).
    interval_ms: f64,
    /// Whether `minute_window_samples` widens the next points' window (see [`Floor::widen`]).
    widen: bool,
    /// Whether no alert is active (`saw_floor_share` widens the window only then).
    quiet: bool,
    /// The floor of the last two days by time of day.
    profile: DailyProfile,
    /// The same floor values stamped at their minimum sample's own time (for attribution).
    troughs: Ring<Sample>,
    /// Whether the newest floor point's window was set by the fewest samples of a sparse
    /// sawtooth (see [`Floor::sparse`]).
    sparse: bool,
    /// With `sparse_urgent_samples`: the smoother floor, aligned with `points` (see
    /// [`Floor::smooth`]).
    smooth: Ring<Sample>,
}

impl Floor {
    /// An empty floor for these (validated) options.
    pub(super) fn new(cfg: &DetectorConfig) -> Result<Self, InputError> {
        Ok(Floor {
            bucket_ms: (cfg.bucket_secs * 1000.0).round() as i64,
            last: None,
            epoch_start_ms: 0,
            bucket: None,
            mins: Ring::new(SLOW_MAX_SPAN)?,
            drops: Ring::new(MAX_SPAN)?,
            range_ewma: 0.0,
            fall_high: Sample {
                ts_ms: 0,
                value: f64::NEG_INFINITY,
            },
            fall_armed: true,
            fall_low: f64::INFINITY,
            step_ewma: 0.0,
            slow_gcs: Ring::new(SLOW_EVENTS)?,
            slow_fall: 0.0,
            fall_since_slow: 0.0,
            // The last `slow_lookback` buckets' (computed as below).
            falls: Ring::new(
                ((SLOW_LOOKBACK_SECS / cfg.bucket_secs).ceil() as usize).clamp(1, SLOW_MAX_SPAN),
            )?,
            lookback_fall: 0.0,
            collected: false,
            early_slow: None,
            early_fall: 0.0,
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
            collect_lookback: {
                let secs = cfg.first_collection_lookback_secs;
                ((secs / cfg.bucket_secs).ceil() as usize).min(SLOW_MAX_SPAN)
            },
            collect_low: f64::INFINITY,
            collect_burn_in: {
                let secs = cfg.first_collection_lookback_secs.min(SLOW_LOOKBACK_SECS);
                ((secs / cfg.bucket_secs).ceil() as usize).min(SLOW_MAX_SPAN)
            },
            points: Ring::new(cfg.floor_capacity)?,
            loads: Ring::new(cfg.floor_capacity)?,
            window_ms: 0,
            interval_ms: 0.0,
            widen: false,
            quiet: true,
            profile: {
                let p = DailyProfile::new(
                    (cfg.bucket_secs * 1000.0).round() as i64,
                    cfg.profile_week_alone,
                );
                if cfg.unmask_day_same_load > 0.0 {
                    p.with_week_loads()
                } else {
                    p
                }
            },
            troughs: Ring::new(cfg.floor_capacity)?,
            sparse: false,
            smooth: Ring::new(if cfg.sparse_urgent_samples > 0.0 {
                cfg.floor_capacity
            } else {
                1
            })?,
        })
    }

    /// The newest sample accepted since start or restart.
    pub(super) fn last(&self) -> Option<Sample> {
        self.last
    }

    /// When the series started, or last restarted (unix ms).
    pub(super) fn epoch_start_ms(&self) -> i64 {
        self.epoch_start_ms
    }

    /// Whether a collection has been seen since start or restart.
    pub(super) fn collected(&self) -> bool {
        self.collected
    }

    /// The floor points since the last restart, oldest first.
    pub(super) fn points(&self) -> &Ring<Sample> {
        &self.points
    }

    /// The floor of the last two days by time of day.
    pub(super) fn profile(&self) -> &DailyProfile {
        &self.profile
    }

    /// The window the newest floor point is the minimum over (ms).
    pub(super) fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// The mean request rate over each floor point's window, aligned with [`Floor::points`].
    pub(super) fn loads(&self) -> &Ring<f64> {
        &self.loads
    }

    /// Whether the newest floor point's window was set by the fewest samples of a sparse
    /// sawtooth ([`WINDOW_SAMPLES`] samples span more than [`MIN_SPAN`] buckets: a series
    /// sampled every few minutes), with no slow collection setting it.
    pub(super) fn sparse(&self) -> bool {
        self.sparse
    }

    /// The mean interval between samples (ms; 0 before the second sample).
    pub(super) fn interval_ms(&self) -> f64 {
        self.interval_ms
    }

    /// With `sparse_urgent_samples`: a smoother floor, aligned with [`Floor::points`] (one
    /// point per floor point): where the floor is [`Floor::sparse`], the `SMOOTH_RANK`-th
    /// lowest bucket minimum of the last `sparse_urgent_samples` samples (one sample per
    /// bucket there), stamped at the middle of that window; elsewhere the floor point itself.
    pub(super) fn smooth(&self) -> &Ring<Sample> {
        &self.smooth
    }

    /// The floor's troughs since the last restart, oldest first.
    pub(super) fn troughs(&self) -> &Ring<Sample> {
        &self.troughs
    }

    /// The runtime reported a full collection that left `value`: it counts as the collection
    /// `first_collection_secs` waits for, and caps the floor until the next one.
    pub(super) fn mark_full_gc(&mut self, value: f64) {
        self.collected = true;
        self.anchor = Some(value);
    }
    /// Whether `minute_window_samples` applies to the points made from now on.
    pub(super) fn widen(&mut self, on: bool, quiet: bool) {
        self.widen = on;
        self.quiet = quiet;
    }

    /// Takes one (validated) sample. Returns whether it closed a bucket, which is when the
    /// detector evaluates. `traffic` gives each new floor point the mean request rate over
    /// its window.
    pub(super) fn push(&mut self, cfg: &DetectorConfig, s: Sample, traffic: &Traffic) -> bool {
        // The fall into this sample (0 for a rise or the first sample).
        let fall = self.last.map_or(0.0, |p| (p.value - s.value).max(0.0));
        if let Some(prev) = self.last
            && self.is_drop(cfg, prev, s)
            && let Some(b) = self.bucket.as_mut()
        {
            b.drops += 1;
        }
        if let Some(prev) = self.last
            && let Some(b) = self.bucket
        {
            self.observe_step(cfg, prev, s, b.min.value, b.fall);
        }
        if let Some(prev) = self.last {
            let dt = s.ts_ms.saturating_sub(prev.ts_ms) as f64;
            // Winsorized, so a scrape outage hardly moves it.
            self.interval_ms = if self.interval_ms > 0.0 {
                self.interval_ms + 0.1 * (dt.min(3.0 * self.interval_ms) - self.interval_ms)
            } else {
                dt
            };
        }
        if self.last.is_none() {
            self.epoch_start_ms = s.ts_ms;
        }
        self.last = Some(s);
        match self.bucket {
            None => {
                self.open_bucket(s.ts_ms, s, 0.0);
                false
            }
            Some(b) if s.ts_ms.saturating_sub(b.start_ms) >= self.bucket_ms => {
                self.close_bucket(cfg, b, traffic);
                let k = s.ts_ms.saturating_sub(b.start_ms) / self.bucket_ms.max(1);
                let start = b.start_ms.saturating_add(k.saturating_mul(self.bucket_ms));
                self.open_bucket(start, s, fall);
                true
            }
            Some(mut b) => {
                if s.value < b.min.value {
                    b.min = s;
                }
                b.fall = b.fall.max(fall);
                b.max = b.max.max(s.value);
                self.bucket = Some(b);
                false
            }
        }
    }

    /// Whether `s` completes a GC drop (see `drop_fall_secs`) after `prev`.
    fn is_drop(&mut self, cfg: &DetectorConfig, prev: Sample, s: Sample) -> bool {
        let threshold = 0.25 * self.range_ewma;
        if self.bucket.is_none() || self.range_ewma <= 0.0 {
            return false;
        }
        let window_ms = cfg.drop_fall_ms();
        if s.ts_ms.saturating_sub(prev.ts_ms) >= window_ms {
            // Samples this far apart: the fall between them, every one of them.
            self.fall_armed = true;
            self.fall_high = s;
            return prev.value - s.value > threshold;
        }
        if !self.fall_armed {
            self.fall_low = self.fall_low.min(s.value);
            if s.value - self.fall_low > threshold {
                self.fall_armed = true;
                self.fall_high = s;
            }
            return false;
        }
        if prev.value >= self.fall_high.value
            || s.ts_ms.saturating_sub(self.fall_high.ts_ms) > window_ms
        {
            self.fall_high = prev;
        }
        if self.fall_high.value - s.value > threshold {
            self.fall_armed = false;
            self.fall_low = s.value;
            return true;
        }
        false
    }

    /// Whether `value` falls so far below the floor that the process must have restarted.
    pub(super) fn is_restart(&self, cfg: &DetectorConfig, value: f64) -> bool {
        let drop = |r: f64| r > 0.0 && r - value > cfg.reset_drop_ratio * r;
        // Back near the heap the last reported full collection left: that collection's fall
        // (the series' floor had followed the ramp up), not a restart.
        if self.anchor.is_some_and(|a| !drop(a)) {
            return false;
        }
        let lowest = || self.mins.iter().map(|m| m.value).reduce(f64::min);
        match self.points.last() {
            // A slow collection lands back on an older floor, far below a floor that has
            // followed the ramp up since: a restart also falls that far below every bucket kept
            // (8 h). Checked only after the cheap test, which it can only make stricter.
            Some(f) if drop(f.value) && cfg.kind == SeriesKind::Heap => {
                lowest().is_none_or(|l| drop(l.min(f.value)))
            }
            Some(f) => drop(f.value),
            None => lowest().is_some_and(drop),
        }
    }

    /// Tracks the usual sample-to-sample change and records slow collections.
    fn observe_step(
        &mut self,
        cfg: &DetectorConfig,
        prev: Sample,
        s: Sample,
        bucket_min: f64,
        bucket_fall: f64,
    ) {
        let fall = prev.value - s.value;
        let step = fall.abs();
        self.fall_since_slow = self.fall_since_slow.max(fall);
        let lowest = self.lookback_low.min(bucket_min);
        // A collection lands below the last bucket or two; a spike's end does not.
        let recent = self.prev_min.min(bucket_min);
        let collects = !cfg.reports_full_gcs
            && fall >= COLLECTED_SHARE * prev.value
            && s.value < recent
            && (self.collect_lookback == 0
                || (self.mins.len() >= self.collect_burn_in
                    && s.value < self.collect_low.min(bucket_min)));
        #[cfg(feature = "probe")]
        if collects && !self.collected {
            super::probe::tag(&format!("gc collected {:.3}", fall / prev.value));
        }
        // `first_collection_slow_share`: a large first collection on a densely sampled heap,
        // too early for the slow-collection test below, is a candidate slow collection.
        let early = collects
            && !self.collected
            && cfg.first_collection_slow_share > 0.0
            && cfg.kind == SeriesKind::Heap
            && self.slow_lookback > 0
            && self.mins.len() < self.slow_lookback
            && self.interval_ms <= EARLY_SLOW_INTERVAL_MS
            && fall >= cfg.first_collection_slow_share * prev.value;
        self.collected |= collects;
        if early {
            #[cfg(feature = "probe")]
            super::probe::tag(&format!("gc early candidate {:.3}", fall / prev.value));
            self.early_slow = Some(s.ts_ms);
            self.early_fall = fall;
        } else if let Some(t) = self.early_slow {
            let since = s.ts_ms.saturating_sub(t);
            // A collection falls by a share of the candidate's or lands below the last
            // `first_collection_lookback_secs` (section 67); a V8 heap's scavenges do neither.
            let collection = fall >= cfg.first_collection_slow_cancel_share * self.early_fall
                || s.value < self.collect_low.min(bucket_min);
            if since >= self.bucket_ms && fall >= COLLECTED_SHARE * prev.value && collection {
                // Another collection within a slow period: a faster sawtooth, not a slow
                // GC's ramp.
                #[cfg(feature = "probe")]
                super::probe::tag("gc early cancelled");
                self.early_slow = None;
            } else if since >= (SLOW_PERIOD_SECS * 1000.0) as i64 {
                // A slow period without a fall: that collection was a slow one.
                #[cfg(feature = "probe")]
                super::probe::tag("gc early slow");
                self.early_slow = None;
                if self.slow_gcs.is_empty() {
                    self.slow_gcs.push(t);
                }
            }
        }
        if cfg.kind == SeriesKind::Heap
            && self.slow_lookback > 0
            && self.mins.len() >= self.slow_lookback
            && self.step_ewma > 0.0
            && (fall > cfg.slow_fall_steps * self.step_ewma
                || (cfg.slow_fall_dense_secs > 0.0
                    && self.interval_ms <= cfg.slow_fall_dense_secs * 1000.0
                    && fall > SLOW_RECENT_FALL * self.lookback_fall.max(bucket_fall)))
            && fall >= SLOW_SHARE * prev.value
            && prev.value - self.prev_max < 0.5 * fall
            && s.value < lowest - SLOW_BELOW * fall
            && self
                .slow_gcs
                .last()
                .is_none_or(|t| s.ts_ms.saturating_sub(t) >= self.bucket_ms)
            && self.rose_gradually(cfg.slow_rise_share, bucket_min, s.value, fall)
        {
            #[cfg(feature = "probe")]
            super::probe::tag(&format!("gc slow {:.3}", fall / prev.value));
            self.slow_gcs.push(s.ts_ms);
            (self.slow_fall, self.fall_since_slow) = (fall, 0.0);
        }
        // Winsorized, so the collections themselves hardly move it.
        self.step_ewma = if self.step_ewma > 0.0 {
            self.step_ewma + 0.05 * (step.min(3.0 * self.step_ewma) - self.step_ewma)
        } else {
            step
        };
    }

    /// Whether the heap climbed to where it fell from in many small steps since it was last
    /// near the level it fell to (`landing`): the build-up between slow collections. A spike
    /// that lasts longer than `SLOW_LOOKBACK_SECS` (a few samples of a series scraped every
    /// few minutes) ends in a fall as large, to the level it jumped from, but rose in one
    /// step. Walks the kept bucket minima back from the open bucket's (`newest`); only run on
    /// a fall that passed every other test, so its O(`SLOW_MAX_SPAN`) cost is rare.
    fn rose_gradually(&self, share: f64, newest: f64, landing: f64, fall: f64) -> bool {
        if share <= 0.0 {
            return true;
        }
        let mut newer = newest;
        let mut largest = 0.0_f64;
        for m in self.mins.iter().rev() {
            largest = largest.max(newer - m.value);
            if m.value <= landing + SLOW_BELOW * fall {
                break;
            }
            newer = m.value;
        }
        largest < share * fall
    }

    /// Whether slow collections at a steady period (the median interval between at least two,
    /// [`SLOW_PERIOD_SECS`] or more) set the floor's window: the floor is then seen only once
    /// per collection.
    pub(super) fn slow_period(&self) -> bool {
        self.slow_gcs.len() >= 2 && self.slow_span(self.bucket_ms as f64 / 1000.0, 0.0, false) > 0
    }

    /// Buckets a floor point must span to reach back past the last slow collection: 1.5 times
    /// the median interval between slow collections when that is long, every bucket since the
    /// only one seen so far (for at most `lone_secs` after it, when that is positive:
    /// `slow_lone_secs`), 0 otherwise.
    /// With `since_last` (`slow_since_last`), a steady period's span reaches back no further
    /// than the bucket of the last slow collection: the minimum since the last large fall.
    fn slow_span(&self, bucket_secs: f64, lone_secs: f64, since_last: bool) -> usize {
        let n = self.slow_gcs.len();
        let since = match (self.last, self.slow_gcs.last()) {
            (Some(l), Some(t)) => l.ts_ms.saturating_sub(t),
            _ => 0,
        };
        if n == 1 {
            if lone_secs > 0.0
                && since as f64 > lone_secs * 1000.0
                && self.fall_since_slow < LONE_FALL_SHARE * self.slow_fall
            {
                return 0;
            }
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
        let span = ((1.5 * period / bucket_secs).ceil() as usize).min(SLOW_MAX_SPAN);
        if since_last {
            let back = usize::try_from(since / self.bucket_ms.max(1)).unwrap_or(usize::MAX);
            span.min(back.saturating_add(1)).max(1)
        } else {
            span
        }
    }

    /// Starts over after a restart at `ts_ms`.
    pub(super) fn reset(&mut self, ts_ms: i64) {
        self.last = None;
        self.epoch_start_ms = ts_ms;
        self.bucket = None;
        self.mins.clear();
        self.drops.clear();
        self.range_ewma = 0.0;
        self.fall_high = Sample {
            ts_ms: 0,
            value: f64::NEG_INFINITY,
        };
        self.fall_armed = true;
        self.fall_low = f64::INFINITY;
        self.step_ewma = 0.0;
        self.slow_gcs.clear();
        (self.slow_fall, self.fall_since_slow) = (0.0, 0.0);
        self.falls.clear();
        self.lookback_fall = 0.0;
        self.collected = false;
        self.early_slow = None;
        self.anchor = None;
        self.prev_max = f64::INFINITY;
        self.prev_min = f64::INFINITY;
        self.lookback_low = f64::INFINITY;
        self.collect_low = f64::INFINITY;
        self.points.clear();
        self.loads.clear();
        self.profile.clear();
        self.troughs.clear();
        self.sparse = false;
        self.smooth.clear();
    }

    /// The point of the smoother floor for a bucket that ends at `end_ms`, over the last
    /// `buckets` (rounded up) bucket minima, where the floor is sparse and they are more than
    /// `SMOOTH_RANK`: the `SMOOTH_RANK`-th lowest, stamped at the window's middle (after the
    /// previous point). O(window), at a bucket close.
    fn smooth_point(&self, buckets: f64, end_ms: i64) -> Option<Sample> {
        let span = (buckets.ceil() as usize)
            .min(SLOW_MAX_SPAN)
            .min(self.mins.len());
        if !self.sparse || span <= SMOOTH_RANK {
            return None;
        }
        // The SMOOTH_RANK lowest values, ascending.
        let mut low = [f64::INFINITY; SMOOTH_RANK];
        for m in self.mins.iter().skip(self.mins.len() - span) {
            let mut v = m.value;
            for l in &mut low {
                if v < *l {
                    std::mem::swap(&mut v, l);
                }
            }
        }
        let window_ms = (span as i64).saturating_mul(self.bucket_ms);
        let ts_ms = end_ms.saturating_sub(window_ms / 2);
        let ts_ms = self
            .smooth
            .last()
            .map_or(ts_ms, |p| ts_ms.max(p.ts_ms.saturating_add(1)));
        Some(Sample {
            ts_ms,
            value: low[SMOOTH_RANK - 1],
        })
    }

    fn open_bucket(&mut self, start_ms: i64, s: Sample, fall: f64) {
        self.bucket = Some(Bucket {
            start_ms,
            min: s,
            max: s.value,
            drops: 0,
            fall,
        });
    }

    /// The lowest of the newest `n` bucket minima (infinite with none). O(n).
    fn lowest_of_last(&self, n: usize) -> f64 {
        self.mins
            .iter()
            .rev()
            .take(n)
            .map(|m| m.value)
            .fold(f64::INFINITY, f64::min)
    }

    fn close_bucket(&mut self, cfg: &DetectorConfig, b: Bucket, traffic: &Traffic) {
        self.mins.push(b.min);
        self.drops.push(b.drops);
        self.falls.push(b.fall);
        self.lookback_fall = self.falls.iter().fold(0.0, f64::max);
        (self.prev_max, self.prev_min) = (b.max, b.min.value);
        self.lookback_low = self.lowest_of_last(self.slow_lookback);
        // Kept while an early candidate waits too (`first_collection_slow_cancel_share`).
        if self.collect_lookback > 0 && (!self.collected || self.early_slow.is_some()) {
            self.collect_low = self.lowest_of_last(self.collect_lookback);
        }
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
        // Enough buckets for a few samples: the minimum of one or two samples of a sawtooth
        // sampled every few minutes is far above its floor.
        // Only for a sawtooth: post-GC readings are each a floor already.
        let level = self.last.map_or(0.0, |l| l.value.abs());
        let sawtooth = self.step_ewma >= cfg.sparse_sawtooth_step * level;
        let samples = if sawtooth { WINDOW_SAMPLES } else { 0.0 };
        let per_bucket = self.interval_ms / self.bucket_ms.max(1) as f64;
        let sparse = (samples * per_bucket).ceil();
        // `minute_window_samples`: a 1-min sawtooth's window widened to that many samples.
        let minute = if sawtooth
            && cfg.minute_window_samples > 0.0
            && (30_000.0..=150_000.0).contains(&self.interval_ms)
            && self.widen
        {
            ((cfg.minute_window_samples * per_bucket).ceil() as usize).min(MAX_SPAN)
        } else {
            0
        };
        // `saw_floor_share`: a big sawtooth's window holds enough samples for its minimum to
        // land within that share of the level above the trough (the lowest of n uniform phases
        // lies a (n + 1)th of the amplitude above it). The amplitude is the buckets' range, or
        // three mean sample-to-sample changes where a bucket holds one sample.
        let saw = if sawtooth
            && cfg.saw_floor_share > 0.0
            && cfg.kind == SeriesKind::Heap
            && self.quiet
            && self.interval_ms <= SAW_MAX_INTERVAL_MS
            && b.start_ms.saturating_sub(self.epoch_start_ms) >= SAW_AFTER_MS
            && b.min.value > 0.0
        {
            let amp = self.range_ewma.max(3.0 * self.step_ewma);
            let n = amp / (cfg.saw_floor_share * b.min.value) - 1.0;
            ((n * per_bucket).ceil().max(0.0) as usize).min(SAW_MAX_SPAN)
        } else {
            0
        };
        let slow = self.slow_span(cfg.bucket_secs, cfg.slow_lone_secs, cfg.slow_since_last);
        self.sparse = sparse > MIN_SPAN as f64 && slow == 0;
        let span = span
            .max((sparse as usize).min(MAX_SPAN))
            .max(minute)
            .max(saw)
            .max(slow)
            .min(self.mins.len());
        self.window_ms = (span as i64).saturating_mul(self.bucket_ms);
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
        let window_ms = (span as i64).saturating_mul(self.bucket_ms);
        let end_ms = b.start_ms.saturating_add(self.bucket_ms);
        let ts_ms = end_ms.saturating_sub(window_ms / 2);
        if self.points.last().is_none_or(|f| ts_ms > f.ts_ms) {
            let load = traffic.mean(end_ms.saturating_sub(window_ms), end_ms);
            if cfg.sparse_urgent_samples > 0.0 {
                let smooth = self
                    .smooth_point(cfg.sparse_urgent_samples * per_bucket, end_ms)
                    .unwrap_or(Sample { ts_ms, value: low });
                self.smooth.push(smooth);
            }
            self.points.push(Sample { ts_ms, value: low });
            self.profile.record(Sample { ts_ms, value: low }, load);
            self.loads.push(load);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window of the newest floor point after 6 h of 10 min samples of `value(i)`.
    fn window_after(cfg: &DetectorConfig, value: impl Fn(i64) -> f64) -> i64 {
        let mut f = Floor::new(cfg).unwrap();
        let traffic = Traffic::new(300_000).unwrap();
        for i in 0..36 {
            let s = Sample {
                ts_ms: i * 600_000,
                value: value(i),
            };
            f.push(cfg, s, &traffic);
        }
        f.window_ms()
    }

    /// The window of the newest floor point after `hours` of 30-s samples of a sawtooth of
    /// `amp` times its 100 MB floor, read at pseudo-random phases (a fast GC scraped slowly).
    fn saw_window(cfg: &DetectorConfig, amp: f64, hours: i64) -> i64 {
        let mut f = Floor::new(cfg).unwrap();
        let traffic = Traffic::new(300_000).unwrap();
        for i in 0..hours * 120 {
            let phase =
                ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / (1u64 << 24) as f64;
            let s = Sample {
                ts_ms: i * 30_000,
                value: 100e6 * (1.0 + amp * phase),
            };
            f.push(cfg, s, &traffic);
        }
        f.window_ms()
    }

    #[test]
    fn a_big_sawtooth_scraped_slowly_gets_a_window_of_many_samples_with_saw_floor_share() {
        let on = DetectorConfig {
            saw_floor_share: 0.02,
            ..DetectorConfig::default()
        };
        let off = DetectorConfig::default();
        // Amplitude 2x the floor: 2 / 0.02 - 1 = 99 samples, 50 min of 30-s samples: ten or
        // more 5-min buckets (up to 12), against the usual 2.
        assert_eq!(saw_window(&off, 2.0, 6), 2 * 300_000);
        assert!(saw_window(&on, 2.0, 6) >= 10 * 300_000);
        // Not in the first 4 h after start (a cache filling from cold).
        assert_eq!(saw_window(&on, 2.0, 3), 2 * 300_000);
        // A small sawtooth (4 % of the floor) keeps the usual window.
        assert_eq!(saw_window(&on, 0.04, 6), 2 * 300_000);
    }

    #[test]
    fn a_sparse_window_widens_for_a_sawtooth_only() {
        let cfg = DetectorConfig::default();
        // Post-GC readings every 10 min: each is a floor, changing by 0.1 % of the level.
        let post_gc = |i: i64| 100e6 * (1.0 + 0.001 * (i % 3) as f64);
        // A sawtooth sampled every 10 min: readings anywhere between the floor and 40 % above.
        let sawtooth = |i: i64| 100e6 * (1.0 + 0.4 * ((i * 7) % 5) as f64 / 5.0);
        assert_eq!(window_after(&cfg, post_gc), 2 * 300_000);
        assert_eq!(window_after(&cfg, sawtooth), 8 * 300_000);
        // With the gate off, post-GC readings get the wide window too.
        let always = DetectorConfig {
            sparse_sawtooth_step: 0.0,
            ..Default::default()
        };
        assert_eq!(window_after(&always, post_gc), 8 * 300_000);
    }

    #[test]
    fn the_smoother_floor_is_the_second_lowest_of_its_samples_on_sparse_series_only() {
        let cfg = DetectorConfig::default();
        let traffic = Traffic::new(300_000).unwrap();
        // A sawtooth sampled every 5 min: one sample per bucket, anywhere on the tooth.
        let tooth = |i: i64| 100e6 * (1.0 + 0.4 * ((i * 7) % 11) as f64 / 11.0);
        let mut f = Floor::new(&cfg).unwrap();
        for i in 0..48 {
            let s = Sample {
                ts_ms: i * 300_000,
                value: tooth(i),
            };
            f.push(&cfg, s, &traffic);
        }
        assert!(f.sparse());
        assert_eq!(f.smooth().len(), f.points().len());
        // The newest point: the last 12 closed buckets hold samples 35..=46.
        let mut last: Vec<f64> = (35..47).map(tooth).collect();
        last.sort_by(f64::total_cmp);
        assert_eq!(f.smooth().last().unwrap().value, last[1]);
        assert!(f.smooth().last().unwrap().value > f.points().last().unwrap().value);
        // Every 15 s the floor is not sparse: the smoother floor is the floor itself.
        let mut f = Floor::new(&cfg).unwrap();
        for i in 0..(6 * 240) {
            let s = Sample {
                ts_ms: i * 15_000,
                value: 100e6 * (1.0 + 0.3 * (i % 8) as f64 / 8.0),
            };
            f.push(&cfg, s, &traffic);
        }
        assert!(!f.sparse());
        let same = f
            .smooth()
            .iter()
            .zip(f.points().iter())
            .all(|(a, b)| a == b);
        assert!(same && f.smooth().len() == f.points().len());
    }

    /// The window of the newest floor point after 6 h of a heap sampled every `step_ms`: a
    /// sawtooth of 50 % over 100 MB collected every 20 min, each collection falling back over
    /// `fall_ms`.
    fn window_with_falls(cfg: &DetectorConfig, step_ms: i64, fall_ms: i64) -> i64 {
        let mut f = Floor::new(cfg).unwrap();
        let traffic = Traffic::new(300_000).unwrap();
        let period = 1_200_000;
        for i in 0..6 * 3_600_000 / step_ms {
            let t = i * step_ms;
            let into = t % period;
            let phase = if into < fall_ms {
                1.0 - into as f64 / fall_ms as f64
            } else {
                (into - fall_ms) as f64 / (period - fall_ms) as f64
            };
            let s = Sample {
                ts_ms: t,
                value: 100e6 * (1.0 + 0.5 * phase),
            };
            f.push(cfg, s, &traffic);
        }
        f.window_ms()
    }

    #[test]
    fn a_collection_that_falls_over_seconds_is_a_drop_at_any_step() {
        let cfg = DetectorConfig::default();
        // 1.5 periods of 20 min: six 5-min buckets.
        let six = 6 * 300_000;
        assert_eq!(window_with_falls(&cfg, 15_000, 0), six);
        assert_eq!(window_with_falls(&cfg, 1_000, 0), six);
        // A fall over 20 s: 20 small steps at 1 s, one or two at 15 s.
        assert_eq!(window_with_falls(&cfg, 1_000, 20_000), six);
        assert_eq!(window_with_falls(&cfg, 5_000, 20_000), six);
        // Counting only the falls between successive samples, the 1-s series sees no drop
        // and its floor spans the shortest window, a third of a GC period.
        let successive = DetectorConfig {
            drop_fall_secs: 0.0,
            ..Default::default()
        };
        assert_eq!(window_with_falls(&successive, 1_000, 20_000), 2 * 300_000);
        // At 15 s the default still counts each of the two falls of a collection (samples as
        // far apart as `drop_fall_secs`): half the span. A window over two intervals counts
        // the collection once.
        assert_eq!(window_with_falls(&cfg, 15_000, 20_000), 3 * 300_000);
        let wider = DetectorConfig {
            drop_fall_secs: 30.0,
            ..Default::default()
        };
        assert_eq!(window_with_falls(&wider, 15_000, 20_000), six);
        assert_eq!(window_with_falls(&wider, 1_000, 20_000), six);
    }

    /// How many slow collections a floor recognises in `n` 5-min samples of `value(i)`.
    fn slow_gcs_in(cfg: &DetectorConfig, n: i64, value: impl Fn(i64) -> f64) -> usize {
        floor_after(cfg, n, value).slow_gcs.len()
    }

    /// A floor fed `n` 5-min samples of `value(i)`.
    fn floor_after(cfg: &DetectorConfig, n: i64, value: impl Fn(i64) -> f64) -> Floor {
        let mut f = Floor::new(cfg).unwrap();
        let traffic = Traffic::new(300_000).unwrap();
        for i in 0..n {
            let s = Sample {
                ts_ms: i * 300_000,
                value: value(i),
            };
            f.push(cfg, s, &traffic);
        }
        f
    }

    #[test]
    fn slow_collections_at_a_steady_period_make_a_slow_floor() {
        let cfg = DetectorConfig::default();
        let wobble = |i: i64| 100e6 * (1.0 + 0.01 * ((i * 7) % 5) as f64 / 5.0);
        // A build-up of 60 % over 2 h, then a fall back, every 2 h.
        let build_up = |i: i64| wobble(i) + 60e6 * (i % 24) as f64 / 24.0;
        // One collection seen: the floor's span reaches back to it, but no period is known.
        assert!(!floor_after(&cfg, 48, build_up).slow_period());
        assert!(floor_after(&cfg, 96, build_up).slow_period());
        // A fast sawtooth (one collection a bucket) is no slow floor.
        assert!(!floor_after(&cfg, 96, wobble).slow_period());
    }

    #[test]
    fn a_long_spike_on_a_sparse_series_is_not_a_slow_collection() {
        let cfg = DetectorConfig::default();
        // A level with 1 % of wobble, and a spike of 1.5 times it for 40 min (8 samples, longer
        // than the 30 min a collection must land below) from 2 h.
        let wobble = |i: i64| 100e6 * (1.0 + 0.01 * ((i * 7) % 5) as f64 / 5.0);
        let spike = |i: i64| wobble(i) + if (24..32).contains(&i) { 150e6 } else { 0.0 };
        assert_eq!(slow_gcs_in(&cfg, 48, spike), 0);
        // A build-up of 60 % over 2 h, then a fall back: a slow collection.
        let build_up = |i: i64| wobble(i) + 60e6 * (i % 24) as f64 / 24.0;
        assert_eq!(slow_gcs_in(&cfg, 48, build_up), 1);
        // With the test off, the spike's end is taken for one too.
        let off = DetectorConfig {
            slow_rise_share: 0.0,
            ..Default::default()
        };
        assert_eq!(slow_gcs_in(&off, 48, spike), 1);
        assert_eq!(slow_gcs_in(&off, 48, build_up), 1);
    }

    #[test]
    fn a_collection_among_large_young_drops_is_slow_with_fewer_steps() {
        // A build-up of 60 % over 2 h under a young sawtooth of 12 % read every 5 min: the
        // fall back is about five usual changes, a slow collection at `slow_fall_steps` 3
        // only (a JVM G1 heap's mixed cycle under its eden, section 104).
        let young = |i: i64| 100e6 + 12e6 * (i % 2) as f64 + 60e6 * (i % 24) as f64 / 24.0;
        assert_eq!(slow_gcs_in(&DetectorConfig::default(), 48, young), 0);
        let fewer = DetectorConfig {
            slow_fall_steps: 3.0,
            ..Default::default()
        };
        assert_eq!(slow_gcs_in(&fewer, 48, young), 1);
    }

    #[test]
    fn the_floor_since_the_last_slow_collection_reaches_back_to_it_only() {
        let wobble = |i: i64| 100e6 * (1.0 + 0.01 * ((i * 7) % 5) as f64 / 5.0);
        let build_up = |i: i64| wobble(i) + 60e6 * (i % 24) as f64 / 24.0;
        // Four samples after the fourth collection of a 2-h period: 1.5 periods back, or
        // back to that collection's bucket only.
        let cfg = DetectorConfig::default();
        assert_eq!(floor_after(&cfg, 100, build_up).window_ms(), 36 * 300_000);
        let since = DetectorConfig {
            slow_since_last: true,
            ..Default::default()
        };
        assert!(floor_after(&since, 100, build_up).window_ms() <= 5 * 300_000);
    }
}
