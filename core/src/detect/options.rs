//! The detector's options: what a series measures and every tunable, with their validation.

use crate::error::InputError;

use super::stats::{BLOCK_MAX, TEST_POINTS};

/// A count's rise bar is this many times a heap's: in-flight work (goroutines, connections)
/// follows traffic much more than a heap floor does. With traffic known, that part is explained
/// and the detector divides the bar by it again.
pub(crate) const COUNT_RISE_FACTOR: f64 = 5.0;
/// The same for the projected rise.
pub(crate) const COUNT_PROJECTION_FACTOR: f64 = 4.0;
/// A count's `stop_min_secs`: a count that follows traffic levels off for hours each evening
/// while a slow leak under it goes on.
const COUNT_STOP_MIN_SECS: f64 = 4.0 * 3600.0;
/// A reused traffic verdict is at most this many buckets (evaluations) old, and a day's floor
/// rests (`full_day_rest_secs`) for less than this many.
const REUSE_BUCKETS: f64 = 2.0;
/// A day's floor rests while an alert is pending or firing (`active_rest_secs`) for less than
/// this many buckets.
const ACTIVE_REST_BUCKETS: f64 = 4.0;
/// Shortest bucket with which a collection's fall is looked for over `drop_fall_secs`: with
/// time compressed (the examples' and binding tests' 1-s buckets, samples every few ms) each
/// sample is compared with the one before, as the compressed timings were set with.
const DROP_FALL_MIN_BUCKET_SECS: f64 = 60.0;

/// Largest floor ring: every block of the trend test then fits `BLOCK_MAX` (5.3 days of 5 min
/// buckets).
pub const MAX_FLOOR: usize = TEST_POINTS * BLOCK_MAX;
/// Most buckets `day_merge_buckets` merges into one point (an hour at 5-min buckets).
pub const MAX_DAY_MERGE_BUCKETS: usize = 12;

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
    /// like a leak. Default 3 h (GC periods of 1-4 h: on training seeds as many slow-GC false
    /// alarms waited out as with 4 h, at a smaller cost where no collection shows); 0 turns it
    /// off. Off with time compressed (buckets under a minute). Turn it off for series of
    /// post-GC values, which never fall like that (the Go and Python monitors' heap presets
    /// do).
    pub first_collection_secs: f64,
    /// With `first_collection_secs` and a limit: while no collection has been seen, a rise
    /// whose time to the limit at the rate's lower bound is at most this many times as long as
    /// the rise has lasted still fires (a heap that will be killed soon need not wait for a
    /// collection that a series of post-GC values or an RSS may never show). 0 turns it off.
    pub first_collection_urgent: f64,
    /// `first_collection_urgent` in place of it after a restart that came while the wait for
    /// a first collection still held: with nothing lower before it, a slow GC's first
    /// collection falls as far as a restart, and the wait it re-arms then holds the next ramp
    /// of the same GC, which nears the limit as fast as the first. 0 turns the bypass off
    /// there.
    pub first_collection_restart_urgent: f64,
    /// After a restart that came while the wait for a first collection still held (the
    /// bypass of `first_collection_restart_urgent`), where the floor had risen before that
    /// fall fast enough to climb it back within 1.5 times `first_collection_secs` (a slow GC's
    /// first collection takes back what its ramp added): once the re-armed wait has run out
    /// with no collection seen, a rise is still held while the floor stays below where it
    /// stood before that fall and rises since it at the rate it rose at before it, within this
    /// factor either way. A slow GC's next ramp repeats its first (within 20 % on training); a
    /// leak after a real restart rises at its own rate from a level that was flat. A fall from
    /// at or above `limit` is an out-of-memory kill and never held so. Default 1.5; 0 turns it
    /// off; otherwise at least 1 (design section 84).
    pub first_collection_repeat_ratio: f64,
    /// With `first_collection_secs`: the fall that counts as the collection must also land
    /// below every bucket minimum of this long before it (capped at the 8 h of buckets kept),
    /// and is looked for only once that long has passed since start or restart (at most
    /// 30 min). A V8 heap's scavenges (a young-generation collection every few seconds) fall
    /// by a few percent but land on a floor the old generation's ramp has lifted; a full
    /// collection, or a fast sawtooth's trough over a flat floor, lands below it. Default
    /// 10 min; 0 keeps the plain test (below the last bucket or two).
    pub first_collection_lookback_secs: f64,
    /// On a heap sampled at most 20 s apart: a first collection (the fall that ends the wait
    /// of `first_collection_secs`) that comes before the slow-collection test can look (its
    /// 30 min of buckets since start or restart) and falls by at least this share of the heap
    /// is taken for a slow collection once 40 min pass without another fall of 3 % that is a
    /// collection (`first_collection_slow_cancel_share`), so the floor holds its trough over
    /// the next ramp (the wait has ended, and the GC's period cannot be known yet). A faster
    /// sawtooth collects again within those 40 min. Default 0.17 (early first collections of 16-34 % on training slow GCs;
    /// a 16 % load-driven fall on a daily swing must not count, design section 78); 0 turns
    /// it off.
    pub first_collection_slow_share: f64,
    /// With `first_collection_slow_share`: a later fall of 3 % cancels the candidate only if
    /// it falls by at least this share of the candidate's own fall or lands below every
    /// bucket minimum of the last `first_collection_lookback_secs` (a collection's landing,
    /// section 67). A V8 heap's scavenges after an early full collection are small and land
    /// on the floor the old generation's ramp has lifted, so they no longer cancel it; a
    /// faster sawtooth's next collection does one or the other. Default 0.5; 0 lets any fall
    /// of 3 % cancel (design sections 78, 80).
    pub first_collection_slow_cancel_share: f64,
    /// The feeder calls [`Detector::update_after_full_gc`] after every full collection (the
    /// Node binding, which sees V8's mark-compacts): then only those count as the collection
    /// `first_collection_secs` waits for, not a fall in the series (a scavenge's).
    pub reports_full_gcs: bool,
    /// How many of the newest alert events `analysis()` keeps.
    pub max_events: usize,
    // Series-alone and alert options (issue 17, second round).
    /// A firing alert resolves on a plateau only once the floor has been flat for this many
    /// times the longest pause the rise took before (the longest time it went without a new
    /// high): a level-off no longer than a pause already seen is not a stop. 0 turns it off.
    pub stop_pause_ratio: f64,
    /// A firing alert resolves on a plateau only once the floor has been flat for as long as
    /// the rise would take to climb this many robust standard deviations of the flat part's
    /// noise: a slow leak under noise has flat-looking stretches. 0 (the default) turns it off:
    /// at 4 it took the series-alone flaps on training seeds from 101 to 90 for 2 min more
    /// resolution, but the resolution with traffic from 81 to 104 min.
    pub stop_noise_sigmas: f64,
    /// A sparse series' floor window is widened to hold a few samples (their minimum then
    /// reaches a sawtooth's floor) only when the usual sample-to-sample change is at least this
    /// share of the level: a sawtooth sampled every few minutes. Post-GC readings change far
    /// less, are each a floor already, and a wider window only smooths them into false
    /// confidence. 0 widens every sparse series.
    pub sparse_sawtooth_step: f64,
    /// How long a collection's fall may take. A GC drop (the floor's window counts them to span
    /// one and a half GC periods) is a fall of a quarter of the usual bucket range; between
    /// samples under this many seconds apart it is measured from the highest sample of the
    /// last this-many seconds and counted once until the heap climbs back by as much, so that
    /// a collection freeing memory over a few seconds, several small steps at 1-s sampling,
    /// counts as one drop. Samples this far apart or more compare each sample with the one
    /// before (every such fall a drop). 0, or `bucket_secs` under 60 (time compressed, as in
    /// the examples), compares successive samples always.
    pub drop_fall_secs: f64,
    /// A slow collection (a fall to a new low after a long build-up) is recognised only if,
    /// since the heap was last near the level it fell to, no rise between bucket minima was
    /// this share of the fall or more. A spike lasting several samples of a series scraped
    /// every few minutes jumps up in one step and falls back, and taken for a collection it
    /// froze the floor for hours; build-ups climb in steps of under a fifth of the fall, or
    /// about half at 2–5 min sampling. 0 turns the test off.
    pub slow_rise_share: f64,
    /// A slow collection's fall is at least this many times the usual sample-to-sample change
    /// (a winsorized mean of its size). A JVM G1 heap's mixed cycle under a large eden
    /// sawtooth scraped at few samples per young collection falls by about twice the eden's
    /// amplitude or less, so at 6 half of them are not seen (design section 104).
    pub slow_fall_steps: f64,
    /// Under slow collections at a steady period, a floor point is the minimum since the last
    /// slow collection (at most 1.5 periods back) rather than over 1.5 periods: a JVM G1
    /// heap's old generation is cleared at irregular mixed cycles (design section 104).
    pub slow_since_last: bool,
    /// On a heap sampled at most this many seconds apart (the usual interval), a fall is also
    /// large enough for a slow collection when it is 1.5 times the largest sample-to-sample
    /// fall of the last 30 min, not only when it is 6 times the usual change: a V8 heap's
    /// scavenges (a young-generation collection every few seconds) make the usual change so
    /// large that a full collection freeing 10–15 % is not 6 times it, and its floor then
    /// followed the scavenges' troughs up the next ramp. At a few samples per 5-min bucket the
    /// largest of so few falls is no scale (sparse spikes, unseen generational heaps at 30 s+
    /// took it for collections). 0 (the default) turns it off; 20 is the setting measured in
    /// docs/design/detector.md section 68, off for what it costs a leak that begins early.
    pub slow_fall_dense_secs: f64,
    /// A lone slow collection (none recognised after it yet) widens the floor's window to
    /// reach back to it for at most this long, unless a sample-to-sample fall of half its own
    /// came since (a GC whose later collections were not recognised as slow): a deploy's or a
    /// reload's fall read as a slow collection otherwise held the floor at its trough for up to
    /// 8 h while the heap refilled, and the floor then caught up in one step hours later, which
    /// alarmed. Default 4 h (a slow GC's period is 1–4 h); 0 keeps the window until a second
    /// collection (at most 8 h).
    pub slow_lone_secs: f64,
    /// A count that keeps rising through its noise for this long is a leak whatever its size.
    /// 0 (the default) turns it off: on training series it caught 1 more leak of 50 and cost
    /// healthy counts that follow weekly traffic false alarms on the unseen generator.
    pub count_sustain_secs: f64,
    /// A firing alert resolves on a plateau only once the floor has been flat for at least
    /// this long. 0 for a heap (the other stop tests decide); 4 h for a count
    /// ([`DetectorConfig::for_kind`]): a count that follows traffic levels off for hours each
    /// evening while its leak goes on, and the leak adds less than the count's noise per hour.
    /// At 4 h `slow_count_leak`'s alerts resolved while the leak still grew fell from 18 / 20
    /// to 11 / 12 of 50 (with traffic / series alone) on training seeds; a count leak that
    /// stops resolves no sooner than this after the stop (measured with such a leak: the
    /// median resolution rose from 115 to 269 min on the series alone).
    pub stop_min_secs: f64,
    /// With traffic known, `stop_min_secs` holds a plateau only where the load may have made
    /// it: the flat part with the load's part out (its response fitted with a time trend)
    /// still rises at a tenth of the segment's rate. Elsewhere, and on the floor with the
    /// load's part out, the other stop tests decide. On training seeds, a count leak that
    /// stops resolved 249 instead of 393 min after the stop (median, with traffic), with
    /// `slow_count_leak`'s evening level-offs held as before. No effect without traffic.
    pub stop_min_load_only: bool,
    /// `stop_min_secs` does not hold a plateau whose rise ended abruptly, nor does the load's
    /// hiding test (`load_hides`): the floor's rate over the `stop_abrupt_secs` before the
    /// knee, at its lower bound, is at least this share of the segment's rate (a leak that
    /// stops, e.g. when a batch ends, rises at its full pace up to the knee; a count that
    /// follows traffic slows down over the evening before its flat part). The other stop
    /// tests decide, as for a heap. Only a count (the only kind with a `stop_min_secs`) can
    /// change. 0 turns it off (the default): at 1.3 on training seeds a count leak that stops
    /// resolved 209 / 239 instead of 224 / 269 min after the stop (with traffic / alone), but
    /// four unseen `count_burst_leak` false alarms that had stayed firing into the leak
    /// resolved before it (design section 96).
    pub stop_abrupt_share: f64,
    /// The time before the knee whose rate `stop_abrupt_share` judges.
    pub stop_abrupt_secs: f64,
    /// With traffic known, a firing alert does not resolve while the load shows a recurring
    /// batch job whose runs made the rise: at least two bursts of load in the window, the
    /// floor's rise since the growth began came with them (its rise away from them at most half
    /// as much), and the last burst ended at most this many times the longest gap between
    /// bursts ago. A leak that grows only while a recurring batch runs is flat through each idle
    /// spell; a one-off batch shows no gap. On training seeds, `batch_leak`'s alerts resolved
    /// while the leak grew fell from 15 to 8 of 50 with traffic, nothing else moved. 0 turns it
    /// off; no effect without traffic.
    pub stop_burst_hold: f64,
    /// With traffic known, a firing alert whose floor still rises with its load also resolves
    /// once the floor with the load's part out has levelled off (the plateau test's rules,
    /// without `stop_min_secs`): a count whose leak stopped keeps rising with the day's load
    /// and shows no plateau on the raw floor until the evening. The load's part is the
    /// floor's linear response to its load before the growth began, and the rule holds only
    /// where the raw floor rose over the flat part while its load rose, and the load moved
    /// before the growth by at least half as much as over the flat part. Off for a heap, on
    /// for a count ([`DetectorConfig::for_kind`]): on training seeds a count leak that stops
    /// resolved 186 instead of 249 min after the stop (median, with traffic), with no more
    /// alerts resolved while a leak grew. No effect without traffic.
    pub stop_load_out: bool,
    /// With traffic known, once a firing alert's raw floor has levelled off (the plateau
    /// test), the floor with the load's part out (`traffic_unmask`) keeps it firing only while
    /// that floor still rises over the raw floor's flat part: the upper bound of its rate there
    /// at least this share of its own segment's rate. Where the unmasked floor is as flat as the
    /// raw one, what it still finds is the rise before the level-off with the load's fitted
    /// part taken out (a warm-up that rose with the morning's load, which the fit takes for the
    /// load's doing), and it would hold the alert until that smaller rise shows its own
    /// plateau. 0.45 for a heap, off (0) for a count ([`DetectorConfig::for_kind`]): on
    /// training seeds (with `stop_steady_load` off) the unseen generator's `sigmoid_warmup`
    /// alerts resolved 98 instead of 153 min after the warm-up flattened with traffic (94 on
    /// the series alone), with 3 more leak alerts resolved while the leak grew there (each one
    /// the series alone resolves too) and none on the quality bench; on counts it only added 3
    /// such alerts. No effect without traffic.
    pub stop_unmask_lift: f64,
    /// With traffic known, a firing alert's raw floor has levelled off once its flat part's rate
    /// (upper bound) is below this share of the segment's rate, instead of 0.3, where the load
    /// over the flat part stayed at least as high as over the rise (a leak whose rate follows
    /// traffic then has no evening to slow down in) and the flat part has lasted twice as long
    /// as a level-off needs. 0.4 for a heap, off (0) for a count ([`DetectorConfig::for_kind`]:
    /// a count's plateau the load made is `stop_load_out`'s and `stop_min_secs`' to judge). On
    /// training seeds, warm-up alerts with traffic resolved sooner after the warm-up flattened
    /// (`cache_warmup` 0, 21 and 34: 88, 139 and 203 min to 68, 119 and 143; `gappy_healthy`
    /// 14: 464 to 84) with no more alerts resolved while a leak grew; 0.5 added one, a load
    /// that merely did not fall over the flat part four. Values at or below 0.3 change
    /// nothing. No effect without traffic.
    pub stop_steady_load: f64,
    /// With traffic known: a rise an increasing function of the (lagged) request rate explains
    /// about as well as the load plus growth is not a leak (the load veto).
    pub traffic_veto: bool,
    /// The load veto holds when adding growth to the load's fit leaves at least this share of
    /// its squared error (the growth adds little).
    pub veto_keeps: f64,
    /// At record loads (beyond any seen before the growth), how much steeper than the linear
    /// response fitted before the growth the load's part may be (room for a convex bend: the
    /// slope of `x^1.5` at the top of its range is about twice its mean slope over the lower
    /// half). 0: no veto at record loads.
    pub veto_record_curve: f64,
    /// At record loads: the rise is also the load's when an increasing function of the load's
    /// running maximum (over the floor window, lagged) explains it as `veto_keeps` asks of the
    /// load itself, adding growth leaving at least this share of the squared error: a floor
    /// that ratchets up with the highest load seen and stays (CPython's RSS, glibc arenas)
    /// rises only while the load sets records; a leak rises at a level or falling load too.
    /// 0: off.
    pub veto_record_ratchet: f64,
    /// At record loads, the load's rise that the linear response fitted before the growth may
    /// explain is measured to the newest load smoothed to first order with this time constant
    /// when that stands higher than the load itself: a floor of sessions or traffic-sized
    /// caches held for a while after their requests still stands at a level the load has
    /// left (a flash crowd, a peak). Not for an urgent rise. 0: off.
    pub veto_lag_secs: f64,
    /// On a heap with traffic known: a rise that began with the series' usable data (within
    /// 10 min of the end of the warm-up after start or restart) is not declared before this
    /// long after that start while the load stands no higher than where the rise began, unless
    /// it is urgent as `first_collection_urgent` asks (a JVM old generation climbing for hours
    /// at night-time allocation before its first mixed cycle, a cache filling from empty at
    /// night). 0: off.
    pub start_rise_secs: f64,
    /// A count at record loads: the load is not blamed for a rise whose floor kept climbing,
    /// over the newest this many seconds of the segment, by at least half of what the
    /// segment's rate predicts there and without slowing (`warmup_deceleration`), while the
    /// load did not rise (its newest hour's mean no higher than its mean over the half hour
    /// before that stretch, by a tenth of its range over the segment): a count that follows the
    /// load within half an hour cannot. Heap series are left out (a slow warm-up under a level
    /// load is such a rise). 0 turns it off.
    pub veto_level_rise_secs: f64,
    /// At record loads under a floor that slow collections at a steady period set: when the
    /// load before the growth spanned at least this share of its rise since, yet the floor's
    /// linear response to it then was not above zero at its lower confidence bound, the rise
    /// is not the load's (a floor seen only at collections hours apart makes that bound wide
    /// enough to excuse any rise). 0: off.
    pub veto_slow_evidence: f64,
    /// The costly fits of the traffic rules are reused for up to this long, and never for more
    /// than two buckets (evaluations), so a reused verdict stays younger than the alert's hold
    /// whatever the bucket: the load veto's verdict on growth from the same start (an
    /// evaluation it vetoes skips the other tests), and (before an alert fires) a finding that
    /// the floor with the load's part out hides no leak. 0: refitted at every evaluation.
    pub traffic_reuse_secs: f64,
    /// With traffic known: while the load has fallen or an alert fires, the floor is also
    /// judged with the load's part taken out (a leak can hide under a floor that falls with
    /// the load).
    pub traffic_unmask: bool,
    /// With `traffic_unmask` and `unmask_full_day`, before an alert fires and once the window
    /// spans a day: a finding that the floor with the load's part out hides no leak is reused
    /// for up to this long (the longer of this and `traffic_reuse_secs`), and never for more
    /// than four buckets: with `full_day_rest_secs` the fit then runs every sixth bucket at 900
    /// s instead of every fourth. 0: `traffic_reuse_secs` alone.
    pub unmask_reuse_secs: f64,
    /// With `traffic_unmask`: unless the floor fell with the load at the load's first fall in
    /// the window, the load's part is scaled by the share of the floor's response to the
    /// load's level that its moves with the load's moves confirm (a rise that happened once
    /// while the load rose, such as a warm-up, is not blamed on the load).
    pub unmask_moves: bool,
    /// With `traffic_unmask`: once the floor window spans a day (23 h; it then holds
    /// yesterday's whole swing, so the load's part is known over the whole range of loads),
    /// the floor with the load's part out is judged at every evaluation, not only while the
    /// load has fallen or an alert fires.
    pub unmask_full_day: bool,
    /// With `unmask_full_day`: the floor counts as standing above yesterday's at this hour
    /// (the rule's gate) only where its load is not above yesterday's load at that hour by
    /// more than this share of the window's range of loads (a busier hour than yesterday's
    /// raises the floor by its load; its part is then fitted on loads yesterday never
    /// reached), and, where the profile keeps earlier days (a week's memory of the load, kept
    /// with this option), above the highest of theirs at that hour too (a Monday as busy as
    /// the Friday before is not busier). 0: at every load.
    pub unmask_day_same_load: f64,
    /// With `traffic_unmask`: a fall of the floor to at least this share below every earlier
    /// point of the window, that stays down for three floor points (a deploy that empties a
    /// cache without a restart, not a slow collection's fall back to where its ramp began),
    /// starts a refill that the load's part is not fitted on: the floor with the load's part
    /// out is judged only from the first point where the floor stands again at the level it
    /// fell from (the lowest of the three points before the fall), and not at all before; a
    /// fall not climbed back within 8 h is not a refill. A refill that climbs as the
    /// morning's load rises teaches the fit that the floor follows the load, and the night's
    /// floor, which stays where the refill left it, then reads as growth. 0.12 for a heap, off
    /// (0) for a count ([`DetectorConfig::for_kind`]): on training seeds with traffic, the
    /// unseen generator's `deploy_refill` alarmed on 7 instead of 11 of 140 series, with no
    /// other change there and, on the quality pool, one more leak caught (design section 87).
    /// No effect without traffic.
    pub unmask_refill_fall: f64,
    /// With `traffic_unmask`, for a count: the floor with the load's part out is also judged
    /// wherever the usable floor's judgement found a rise and held it as a warm-up, levelled
    /// off or the load's (a count leak that began on the load's morning ramp rises fast with
    /// it, then slower at its peak: a warm-up's shape on the raw floor). Off by default: on
    /// fresh training seeds it catches 3-4 more of 100 `count_leak_stops` but raises 2-4 more
    /// false alarms in 100 `count_swing`s (a count that rises with its load to a record looks
    /// the same), and costs up to 25 % more time on a count's day with traffic.
    pub unmask_count_held: bool,
    /// The daily profile's veto: a rise that yesterday's floor also had over the same hours,
    /// nearly as large, is the daily cycle's, not a leak (unless today adds enough over
    /// yesterday's rise to matter, or the floor stands clearly above yesterday's at this hour).
    /// Needs a day of floor; with or without traffic.
    pub profile_veto: bool,
    /// Once a day of floor is kept: the floor with yesterday's floor at the same hour taken out
    /// is judged too, while the floor stands above yesterday's or an alert fires (on a second
    /// day, one hinge over the window starts in yesterday's swing).
    pub profile_unmask: bool,
    /// With `profile_unmask` and traffic known: only the floor points whose load is within
    /// this share of the window's range of loads from yesterday's load at the same hour are
    /// judged against yesterday's floor (a busier or quieter day moves the floor by its load,
    /// as much as a leak). 0: every point.
    pub profile_same_load: f64,
    /// With `profile_unmask`: the floor against yesterday's counts as relevant the whole rise
    /// since yesterday at this hour (today's newest floor less yesterday's), not only the rise
    /// of its segment: the difference is judged only from a day on, so a leak that began late
    /// yesterday has part of its rise in the difference's first point.
    pub profile_day_rise: bool,
    /// With `profile_unmask`, on the series alone: the floor against yesterday's raises no new
    /// alert while the floor's newest point stands no higher than the highest floor at this
    /// half-hour of the day over the 2 to 7 days before (a bounded memory of 8 × 48 half-hours):
    /// a day that is busier than yesterday, as an earlier day was (a Monday after a quiet
    /// weekend), is not a leak. Off until a week is kept: nothing before day 3 changes.
    pub profile_week_alone: bool,
    /// Once the usable floor spans a day (23 h) and no alert is pending or firing, the floor is
    /// judged at most this often, and never less often than every other bucket: a day's
    /// window moves little with one point more, and its evaluations are the costliest (a leak
    /// condition that holds two buckets in a row turns pending at most one bucket later; one
    /// that flickers can turn pending later than that). 0: judged at every bucket.
    pub full_day_rest_secs: f64,
    /// As `full_day_rest_secs`, while an alert is pending or firing: once the usable floor
    /// spans a day, the floor is judged at most this often, and a bucket that rests leaves the
    /// alert as it is (a pending alert turns firing, and a firing one resolves, at the next
    /// judged bucket). Never longer than four buckets. 0: judged at every bucket.
    pub active_rest_secs: f64,
    /// As `active_rest_secs`, while an alert is firing only (not pending): once the usable
    /// floor spans a day, a firing alert's floor is judged at most this often (the longer of
    /// the two applies), and a bucket that rests leaves it firing (it resolves at the next
    /// judged bucket). A pending alert's judgements, and so when it fires, are left as they
    /// are. Never longer than four buckets. 0: judged at every bucket.
    pub firing_rest_secs: f64,
    /// With traffic known, once the usable floor spans a day: an inactive or pending alert's
    /// evaluations judge the floor with the points of each run of this many buckets (aligned
    /// on the clock, at most that many points, the newest point left as it is) merged into
    /// one (their mean time, value and load), so each of a day's three judgements (raw, the
    /// load's part out, against yesterday) fits about that many times fewer points. A firing
    /// alert's judgements, the series alone and `analysis()` see every point. 1: every point
    /// (the default; design section 93).
    pub day_merge_buckets: usize,
    /// A rise whose second half climbs at less than this share of its first half's rate is
    /// decelerating: a warm-up, not a leak. 0 turns the warm-up test off.
    pub warmup_deceleration: f64,
    /// With traffic known: every decelerating rise is a warm-up, not only one with no flat
    /// baseline before it (without traffic a leak whose rate follows traffic slows at night).
    pub traffic_warmup: bool,
    /// Without traffic: a heap series whose sawtooth is slower than its sampling gives its
    /// own traffic proxy, the rate at which it climbs between collections (the allocation
    /// rate, which follows the request rate), fed to the same rules as a request rate.
    pub alloc_rate_traffic: bool,
    /// With a limit: a rise whose time to the limit at the rate's lower bound is at most this
    /// many times as long as the rise has lasted is urgent, and the warm-up test judges it with
    /// `urgent_deceleration` (on training seeds, with traffic, 6 more of 259 leaks that reach
    /// their limit alerted with half their time to it left, no healthy series with a new false
    /// alarm; held out 5 more of 327, and 3 more of 1260 healthy series with a false alarm).
    /// 0 turns it off.
    pub urgent_ttl_ratio: f64,
    /// With `urgent_ttl_ratio`: the warm-up test's `warmup_deceleration` for an urgent rise
    /// (a rise that will reach the limit soon need not prove it does not slow down as much).
    /// 0 skips the warm-up test for it; `warmup_deceleration` or more: no change.
    pub urgent_deceleration: f64,
    /// With a limit and traffic known: an urgent rise (`urgent_ttl_ratio`) that has lasted
    /// 1.5 h, under a floor still below the limit, is not held by what only traffic adds: the
    /// warm-up test judges it as on the series alone (`traffic_warmup` off for it), and at
    /// record loads the load veto blames the load only where the floor showed a response to it
    /// before the growth (the linear response's lower bound above zero).
    pub urgent_traffic: bool,
    /// With `urgent_ttl_ratio`: the rise an urgent rise needs over the floor's noise, in
    /// residual sigmas, where `min_rise_sigmas` is more (a rise that will reach the limit soon
    /// need not stand as far out of the noise); `min_rise_sigmas` or more (the default): no
    /// change. At 2, on training seeds, 4 more of 259 leaks that reach their limit are alerted
    /// with half their time to it left, for 1 more healthy false alarm in each column.
    pub urgent_rise_sigmas: f64,
    /// With `urgent_ttl_ratio`: an urgent rise is not held by the one-step test of the warm-up
    /// test (a rise better described by one jump between two levels than by a line): on
    /// 5-min and 1-min points a leak's rise is often as well described by a jump (on training
    /// seeds, with traffic, 1 more of 259 quality and 1 more of 76 unseen leaks that reach their
    /// limit alerted with half their time to it left, no new false alarm).
    pub urgent_step: bool,
    /// With `urgent_ttl_ratio`, on a series sampled so sparsely that a floor point spans
    /// several buckets for its few samples of a sawtooth (every few minutes): a second floor,
    /// the second-lowest of the last this many samples (a smoother floor that lags more), is
    /// judged where the usual one found a rise of a leak's shape that was held only by its
    /// noise (`min_rise_sigmas`) or its size; a rise there that passes every test and is
    /// urgent is a leak (on training seeds, 3 more of 28 `sparse_leak`s alerted with half
    /// their time to the limit left in each column, no new false alarm). 0 turns it off.
    pub sparse_urgent_samples: f64,
    /// With `urgent_ttl_ratio`, on a series sampled every few minutes (as for
    /// `sparse_urgent_samples`): a pending alert whose condition failed at most this long ago
    /// (one evaluation at 300 s) is credited the time it had been pending when it turns
    /// pending again on a rise that is urgent, so the hold counts across one flicker of a
    /// floor of a few samples a point (on training seeds, 2 more of 132 `sparse_leak`s
    /// alerted with half their time to the limit left in each column, no new false alarm).
    /// 0 turns it off.
    pub urgent_pending_grace_secs: f64,
    /// With a limit and `urgent_ttl_ratio`: while a pending rise is urgent, the hold is at
    /// most this share of its time to the limit at the rate's lower bound (never under
    /// `min_for_secs`), as long as that projected time does not recede from one evaluation to
    /// the next (a bending rise's does), on a floor that is neither sparse nor bridging slow
    /// collections, on a heap seen to collect, for a rise begun `first_collection_secs` after
    /// the start (on training seeds, with traffic / alone, 5 / 6 more of 1221 leaks that reach
    /// their limit alerted with half their time to it left, no new false alarm). 0 turns it off.
    pub urgent_hold_ttl_share: f64,
    /// With traffic known (or an informative allocation rate), on a sawtooth sampled every
    /// 30 s to 150 s (a 1-min series, whose floor point spans the usual 2 buckets): while no
    /// alert is active, a floor point's window holds at least this many samples (12: 3 buckets
    /// of 5 min), a floor with less noise for the tests only traffic adds (on training seeds, 3
    /// more of 28 `minute_leak`s alerted with traffic with half their time to the limit left,
    /// no new false alarm). 0 turns it off.
    pub minute_window_samples: f64,
    /// On a heap's sawtooth sampled every 150 s or less, while no alert is active and from 4 h
    /// after start or restart, a floor point's window holds enough samples (up to 12 buckets)
    /// for the lowest of them to land within this share of the level above the trough, from
    /// the measured amplitude (the lowest of n samples at random phases of a sawtooth lies a
    /// (n + 1)th of its amplitude above the trough): a big sawtooth scraped at few samples
    /// per collection (a Go heap at GOGC 100-400) keeps a floor with less noise. On training
    /// seeds at 0.02 it catches more leaks on all three generators and raises more healthy
    /// false alarms on all three (section 99), so it is off. 0 turns it off.
    pub saw_floor_share: f64,
    /// With `urgent_ttl_ratio`: a rise is also urgent where a parabola through its block
    /// medians bends upwards by more than this many standard errors of its curvature and,
    /// from its value and rate now, accelerating at that curvature less those standard
    /// errors, reaches the limit within `urgent_ttl_ratio` times as long as the rise has
    /// lasted (a leak that speeds up is understated by its straight rate). 0 turns it off.
    pub urgent_accel_sigmas: f64,
    /// With a limit: the reported `time_to_limit_secs` of a rise whose parabola (as for
    /// `urgent_accel_sigmas`) bends upwards by more than this many standard errors is the
    /// sooner of the straight projection at `rate_per_sec` and the accelerating one (at the
    /// curvature less those standard errors). 0 (the default) reports the straight one only.
    pub ttl_accel_sigmas: f64,
    /// Where the warm-up test runs on a rise that is not urgent (`urgent_ttl_ratio`): a rise
    /// whose newest third climbs slower than its first is a warm-up when its rise so far, plus
    /// what a geometric slowdown at that pace would still add, stays below this share of the
    /// baseline (a cache's size is bounded: a warm-up adds a fifth to a third of it), except
    /// where the load itself decelerated over a rise after a flat baseline
    /// (`warmup_load_decel`). 0 turns it off.
    pub warmup_bound: f64,
    /// Where `warmup_bound` runs (it is not 0): its bound for a rise with no flat baseline
    /// before it (it began with the series or its window, as a warm-up begins with the
    /// process) that has lasted at most `warmup_start_secs`, where this is larger: a
    /// decelerating rise from the start whose projected total stays below this share of the
    /// baseline is a warm-up. 0 leaves `warmup_bound` alone.
    pub warmup_start_bound: f64,
    /// How long a rise with no flat baseline before it is bounded by `warmup_start_bound`
    /// (seconds since the rise began): a warm-up that began with the process alarms within its
    /// first hours; a leak that follows it shows later. 0 turns `warmup_start_bound` off.
    pub warmup_start_secs: f64,
    /// With `urgent_ttl_ratio`: `warmup_bound`'s test for an urgent rise (which it otherwise
    /// skips) on a series sampled every 30 s or more, where the rise has no flat baseline
    /// before it (it began with the series or its window, as a warm-up begins with the
    /// process): a rise whose newest third climbs slower than its first is a warm-up when its
    /// rise so far, plus what a geometric slowdown at that pace would still add, stays below
    /// this share of the baseline (`warmup_start_bound` where that is larger, for its first
    /// `warmup_start_secs`). 0 turns it off.
    pub urgent_warmup_bound: f64,
    /// Where `warmup_bound` runs (it is not 0): a rise that has not slowed from its first
    /// third to its newest, but whose middle third climbed faster than its first and its
    /// newest third at most 0.7 times as fast as the middle (a warm-up whose segment began in
    /// the flat spell before it), is a warm-up when its rise so far, plus what a geometric
    /// slowdown at the middle-to-newest pace would still add, stays below this share of the
    /// baseline. 0 (the default) turns it off: on training seeds it removes cache warm-up
    /// alarms at a cost in leaks (docs/design/detector.md section 74).
    pub warmup_peak_bound: f64,
    /// With traffic known, where the deceleration test runs: a rise with no flat baseline
    /// before it (a warm-up begun with the window) that the test does not hold is judged again
    /// with the load's part out of the floor (its response to the load fitted with a time
    /// trend over the segment): a warm-up's tail that the load's morning ramp lifts
    /// (docs/design/detector.md section 88).
    pub warmup_load_out: bool,
    /// With traffic known and `traffic_warmup`: the deceleration test that only traffic adds
    /// (a rise after a flat baseline) is skipped where the load's own curve decelerated over
    /// the rise: its rise over the segment's newer half falls short of its older half's by at
    /// least this share of its range over the segment (a leak whose floor also follows the load
    /// slows with it). 0 turns it off.
    pub warmup_load_decel: f64,
    /// A firing alert that has been active (pending, then firing) for at least this long stays
    /// firing while the floor's newest hour (12 floor points, at least half of them with a
    /// yesterday in the daily profile) stands above yesterday's at the same hour, at the
    /// median, by half the practical rise (`min_rise_ratio` of yesterday's
    /// floor there): a leak that goes on for days does not resolve when the daily swing on top
    /// of it reads as a level-off, or once it fills the window (a day of floor points) and no
    /// "flat, then rising" hinge finds where it began. A leak or a step that stopped stands
    /// level with yesterday's at most a day after it stopped; the hold lets go sooner, once
    /// that rise has fallen by 5 % an hour for 4 hours. 0 turns it off.
    pub day_hold_secs: f64,
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
            first_collection_secs: 10_800.0,
            first_collection_urgent: 2.0,
            first_collection_restart_urgent: 0.0,
            first_collection_repeat_ratio: 1.5,
            first_collection_lookback_secs: 600.0,
            first_collection_slow_share: 0.17,
            first_collection_slow_cancel_share: 0.5,
            reports_full_gcs: false,
            max_events: 32,
            stop_pause_ratio: 1.0,
            stop_noise_sigmas: 0.0,
            sparse_sawtooth_step: 0.01,
            drop_fall_secs: 15.0,
            slow_rise_share: 0.65,
            slow_fall_steps: 6.0,
            slow_since_last: false,
            slow_fall_dense_secs: 0.0,
            slow_lone_secs: 14_400.0,
            count_sustain_secs: 0.0,
            stop_min_secs: 0.0,
            stop_min_load_only: true,
            stop_abrupt_share: 0.0,
            stop_abrupt_secs: 10_800.0,
            stop_burst_hold: 2.0,
            stop_load_out: false,
            stop_unmask_lift: 0.45,
            stop_steady_load: 0.4,
            traffic_veto: true,
            veto_keeps: 0.9,
            veto_record_curve: 2.5,
            veto_record_ratchet: 0.0,
            veto_lag_secs: 0.0,
            start_rise_secs: 0.0,
            veto_level_rise_secs: 7200.0,
            veto_slow_evidence: 0.5,
            traffic_reuse_secs: 600.0,
            traffic_unmask: true,
            unmask_reuse_secs: 0.0,
            unmask_moves: true,
            unmask_full_day: true,
            unmask_day_same_load: 0.1,
            unmask_refill_fall: 0.12,
            unmask_count_held: false,
            profile_veto: true,
            profile_unmask: true,
            profile_same_load: 0.05,
            profile_day_rise: true,
            profile_week_alone: false,
            full_day_rest_secs: 600.0,
            active_rest_secs: 0.0,
            firing_rest_secs: 1200.0,
            day_merge_buckets: 1,
            warmup_deceleration: 0.75,
            traffic_warmup: true,
            alloc_rate_traffic: false,
            urgent_ttl_ratio: 2.0,
            urgent_deceleration: 0.5,
            urgent_traffic: true,
            urgent_rise_sigmas: 3.0,
            urgent_step: true,
            sparse_urgent_samples: 12.0,
            urgent_pending_grace_secs: 300.0,
            urgent_hold_ttl_share: 0.1,
            minute_window_samples: 12.0,
            saw_floor_share: 0.0,
            urgent_accel_sigmas: 0.0,
            ttl_accel_sigmas: 3.0,
            warmup_bound: 0.2,
            warmup_start_bound: 0.4,
            warmup_start_secs: 4.0 * 3600.0,
            urgent_warmup_bound: 0.2,
            warmup_peak_bound: 0.0,
            warmup_load_out: true,
            warmup_load_decel: 1.0,
            day_hold_secs: 12.0 * 3600.0,
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
                min_rise_ratio: COUNT_RISE_FACTOR * d.min_rise_ratio,
                projection_ratio: COUNT_PROJECTION_FACTOR * d.projection_ratio,
                stop_min_secs: COUNT_STOP_MIN_SECS,
                stop_load_out: true,
                stop_unmask_lift: 0.0,
                stop_steady_load: 0.0,
                unmask_refill_fall: 0.0,
                ..d
            },
        }
    }

    /// How long the traffic rules' costly fits are reused, in the detector's milliseconds: at
    /// most two buckets, or with short buckets (a monitor whose time is compressed in a test or
    /// demo) a verdict would outlive hundreds of evaluations and hold back an alert throughout.
    pub(crate) fn traffic_reuse_ms(&self) -> i64 {
        (self
            .traffic_reuse_secs
            .min(REUSE_BUCKETS * self.bucket_secs)
            * 1000.0) as i64
    }

    /// How long a collection's fall may take (`drop_fall_secs`), in the detector's
    /// milliseconds; 0 (each sample compared with the one before) with time compressed.
    pub(crate) fn drop_fall_ms(&self) -> i64 {
        if self.bucket_secs < DROP_FALL_MIN_BUCKET_SECS {
            return 0;
        }
        (self.drop_fall_secs * 1000.0) as i64
    }

    /// How long a heap waits for its first collection (`first_collection_secs`), in the
    /// detector's milliseconds; 0 with time compressed (the examples' and binding tests' 1-s
    /// buckets), where a slow GC's hours do not shrink with the buckets.
    pub(crate) fn first_collection_ms(&self) -> i64 {
        if self.bucket_secs < DROP_FALL_MIN_BUCKET_SECS {
            return 0;
        }
        (self.first_collection_secs * 1000.0) as i64
    }

    /// How long a full day's finding that the floor with the load's part out hides no leak is
    /// reused (`unmask_reuse_secs`, or `traffic_reuse_secs` if longer), in ms: at most four
    /// buckets.
    pub(crate) fn unmask_reuse_ms(&self) -> i64 {
        ((self
            .unmask_reuse_secs
            .min(ACTIVE_REST_BUCKETS * self.bucket_secs)
            * 1000.0) as i64)
            .max(self.traffic_reuse_ms())
    }

    /// How long after an evaluation a day's floor rests (`full_day_rest_secs`), in the
    /// detector's milliseconds: at most two buckets, so that it skips one evaluation at most
    /// whatever the bucket.
    pub(crate) fn full_day_rest_ms(&self) -> i64 {
        (self
            .full_day_rest_secs
            .min(REUSE_BUCKETS * self.bucket_secs)
            * 1000.0) as i64
    }

    /// How long after a judgement a day's floor rests while an alert is pending or firing
    /// (`active_rest_secs`), in the detector's milliseconds: at most four buckets.
    pub(crate) fn active_rest_ms(&self) -> i64 {
        (self
            .active_rest_secs
            .min(ACTIVE_REST_BUCKETS * self.bucket_secs)
            * 1000.0) as i64
    }

    /// How long after a judgement a day's floor rests while an alert is firing
    /// (`firing_rest_secs`, or `active_rest_secs` if longer), in the detector's milliseconds:
    /// at most four buckets.
    pub(crate) fn firing_rest_ms(&self) -> i64 {
        (self
            .firing_rest_secs
            .max(self.active_rest_secs)
            .min(ACTIVE_REST_BUCKETS * self.bucket_secs)
            * 1000.0) as i64
    }

    /// How long an alert must have been active before `day_hold_secs` holds it, in ms.
    pub(crate) fn day_hold_ms(&self) -> i64 {
        (self.day_hold_secs * 1000.0) as i64
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
        range(
            "first_collection_urgent",
            self.first_collection_urgent,
            0.0,
            100.0,
        )?;
        range(
            "first_collection_restart_urgent",
            self.first_collection_restart_urgent,
            0.0,
            100.0,
        )?;
        range(
            "first_collection_repeat_ratio",
            self.first_collection_repeat_ratio,
            0.0,
            100.0,
        )?;
        if self.first_collection_repeat_ratio > 0.0 && self.first_collection_repeat_ratio < 1.0 {
            return Err(InputError::invalid_option(
                "first_collection_repeat_ratio",
                format!(
                    "{} is neither 0 nor at least 1",
                    self.first_collection_repeat_ratio
                ),
            ));
        }
        range(
            "first_collection_lookback_secs",
            self.first_collection_lookback_secs,
            0.0,
            WEEK,
        )?;
        range(
            "first_collection_slow_share",
            self.first_collection_slow_share,
            0.0,
            1.0,
        )?;
        range(
            "first_collection_slow_cancel_share",
            self.first_collection_slow_cancel_share,
            0.0,
            1.0,
        )?;
        range("stop_pause_ratio", self.stop_pause_ratio, 0.0, 100.0)?;
        range("stop_noise_sigmas", self.stop_noise_sigmas, 0.0, 1000.0)?;
        range("sparse_sawtooth_step", self.sparse_sawtooth_step, 0.0, 10.0)?;
        range("drop_fall_secs", self.drop_fall_secs, 0.0, 3600.0)?;
        range("slow_rise_share", self.slow_rise_share, 0.0, 1.0)?;
        range("slow_fall_steps", self.slow_fall_steps, 1.0, 100.0)?;
        range(
            "slow_fall_dense_secs",
            self.slow_fall_dense_secs,
            0.0,
            3600.0,
        )?;
        range("slow_lone_secs", self.slow_lone_secs, 0.0, WEEK)?;
        range("count_sustain_secs", self.count_sustain_secs, 0.0, WEEK)?;
        range("stop_min_secs", self.stop_min_secs, 0.0, WEEK)?;
        range("stop_abrupt_share", self.stop_abrupt_share, 0.0, 10.0)?;
        range("stop_abrupt_secs", self.stop_abrupt_secs, 600.0, 86400.0)?;
        range("stop_burst_hold", self.stop_burst_hold, 0.0, 100.0)?;
        range("stop_unmask_lift", self.stop_unmask_lift, 0.0, 100.0)?;
        range("unmask_refill_fall", self.unmask_refill_fall, 0.0, 1.0)?;
        range("stop_steady_load", self.stop_steady_load, 0.0, 1.0)?;
        range("urgent_ttl_ratio", self.urgent_ttl_ratio, 0.0, 100.0)?;
        range("urgent_deceleration", self.urgent_deceleration, 0.0, 1.0)?;
        range("urgent_rise_sigmas", self.urgent_rise_sigmas, 0.0, 1000.0)?;
        range("urgent_accel_sigmas", self.urgent_accel_sigmas, 0.0, 100.0)?;
        range(
            "sparse_urgent_samples",
            self.sparse_urgent_samples,
            0.0,
            96.0,
        )?;
        range(
            "urgent_pending_grace_secs",
            self.urgent_pending_grace_secs,
            0.0,
            3600.0,
        )?;
        range(
            "urgent_hold_ttl_share",
            self.urgent_hold_ttl_share,
            0.0,
            1.0,
        )?;
        range(
            "minute_window_samples",
            self.minute_window_samples,
            0.0,
            96.0,
        )?;
        range("ttl_accel_sigmas", self.ttl_accel_sigmas, 0.0, 100.0)?;
        range("saw_floor_share", self.saw_floor_share, 0.0, 1.0)?;
        range("day_hold_secs", self.day_hold_secs, 0.0, WEEK)?;
        range("veto_keeps", self.veto_keeps, 0.0, 1.0)?;
        range("veto_record_curve", self.veto_record_curve, 0.0, 100.0)?;
        range("veto_record_ratchet", self.veto_record_ratchet, 0.0, 1.0)?;
        range("veto_lag_secs", self.veto_lag_secs, 0.0, 86400.0)?;
        range("start_rise_secs", self.start_rise_secs, 0.0, WEEK)?;
        range("warmup_load_decel", self.warmup_load_decel, 0.0, 10.0)?;
        range(
            "veto_level_rise_secs",
            self.veto_level_rise_secs,
            0.0,
            86400.0,
        )?;
        range("veto_slow_evidence", self.veto_slow_evidence, 0.0, 100.0)?;
        range("traffic_reuse_secs", self.traffic_reuse_secs, 0.0, 86400.0)?;
        range("unmask_reuse_secs", self.unmask_reuse_secs, 0.0, 86400.0)?;
        range("full_day_rest_secs", self.full_day_rest_secs, 0.0, 86400.0)?;
        range("active_rest_secs", self.active_rest_secs, 0.0, 86400.0)?;
        range("firing_rest_secs", self.firing_rest_secs, 0.0, 86400.0)?;
        if !(1..=MAX_DAY_MERGE_BUCKETS).contains(&self.day_merge_buckets) {
            return Err(InputError::invalid_option(
                "day_merge_buckets",
                format!(
                    "{} is not within [1, {MAX_DAY_MERGE_BUCKETS}]",
                    self.day_merge_buckets
                ),
            ));
        }
        range("profile_same_load", self.profile_same_load, 0.0, 10.0)?;
        range("unmask_day_same_load", self.unmask_day_same_load, 0.0, 10.0)?;
        range("warmup_deceleration", self.warmup_deceleration, 0.0, 1.0)?;
        range("warmup_bound", self.warmup_bound, 0.0, 10.0)?;
        range("warmup_start_bound", self.warmup_start_bound, 0.0, 10.0)?;
        range("urgent_warmup_bound", self.urgent_warmup_bound, 0.0, 10.0)?;
        range("warmup_start_secs", self.warmup_start_secs, 0.0, 86400.0)?;
        range("warmup_peak_bound", self.warmup_peak_bound, 0.0, 10.0)?;
        if !(1..=10_000).contains(&self.max_events) {
            return Err(InputError::invalid_option(
                "max_events",
                format!("{} is not within [1, 10000]", self.max_events),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn the_traffic_rules_options_are_validated() {
        let edits: [fn(&mut DetectorConfig); 106] = [
            |c| c.urgent_hold_ttl_share = -0.1,
            |c| c.urgent_hold_ttl_share = f64::NAN,
            |c| c.urgent_hold_ttl_share = 1.1,
            |c| c.urgent_pending_grace_secs = -1.0,
            |c| c.urgent_pending_grace_secs = f64::NAN,
            |c| c.urgent_pending_grace_secs = 3601.0,
            |c| c.first_collection_slow_share = -0.1,
            |c| c.first_collection_slow_share = f64::NAN,
            |c| c.first_collection_slow_cancel_share = -0.1,
            |c| c.first_collection_slow_cancel_share = 1.5,
            |c| c.first_collection_slow_cancel_share = f64::NAN,
            |c| c.first_collection_restart_urgent = -1.0,
            |c| c.first_collection_restart_urgent = f64::NAN,
            |c| c.first_collection_repeat_ratio = -1.0,
            |c| c.first_collection_repeat_ratio = 0.5,
            |c| c.first_collection_repeat_ratio = f64::NAN,
            |c| c.slow_fall_dense_secs = -1.0,
            |c| c.slow_fall_dense_secs = f64::NAN,
            |c| c.slow_lone_secs = -1.0,
            |c| c.slow_lone_secs = f64::NAN,
            |c| c.first_collection_lookback_secs = -1.0,
            |c| c.first_collection_lookback_secs = f64::NAN,
            |c| c.first_collection_urgent = -1.0,
            |c| c.first_collection_urgent = f64::NAN,
            |c| c.sparse_urgent_samples = -1.0,
            |c| c.sparse_urgent_samples = f64::NAN,
            |c| c.minute_window_samples = -1.0,
            |c| c.minute_window_samples = f64::NAN,
            |c| c.minute_window_samples = 97.0,
            |c| c.saw_floor_share = -0.1,
            |c| c.saw_floor_share = f64::NAN,
            |c| c.saw_floor_share = 1.5,
            |c| c.ttl_accel_sigmas = -1.0,
            |c| c.ttl_accel_sigmas = f64::INFINITY,
            |c| c.urgent_accel_sigmas = -1.0,
            |c| c.urgent_accel_sigmas = f64::NAN,
            |c| c.urgent_rise_sigmas = -1.0,
            |c| c.urgent_rise_sigmas = f64::NAN,
            |c| c.warmup_deceleration = -0.1,
            |c| c.warmup_deceleration = 1.5,
            |c| c.veto_keeps = f64::NAN,
            |c| c.urgent_ttl_ratio = -1.0,
            |c| c.urgent_deceleration = 1.5,
            |c| c.veto_keeps = 2.0,
            |c| c.veto_record_curve = -1.0,
            |c| c.veto_record_curve = f64::INFINITY,
            |c| c.veto_record_ratchet = -0.1,
            |c| c.veto_record_ratchet = f64::NAN,
            |c| c.veto_record_ratchet = 1.5,
            |c| c.veto_lag_secs = -1.0,
            |c| c.veto_lag_secs = f64::NAN,
            |c| c.veto_lag_secs = 1e6,
            |c| c.start_rise_secs = -1.0,
            |c| c.start_rise_secs = f64::NAN,
            |c| c.veto_slow_evidence = -0.5,
            |c| c.veto_slow_evidence = f64::NAN,
            |c| c.traffic_reuse_secs = -1.0,
            |c| c.traffic_reuse_secs = 1e9,
            |c| c.unmask_reuse_secs = -1.0,
            |c| c.unmask_reuse_secs = f64::NAN,
            |c| c.full_day_rest_secs = -1.0,
            |c| c.full_day_rest_secs = f64::NAN,
            |c| c.active_rest_secs = -1.0,
            |c| c.active_rest_secs = f64::NAN,
            |c| c.firing_rest_secs = -1.0,
            |c| c.firing_rest_secs = f64::NAN,
            |c| c.day_merge_buckets = 0,
            |c| c.day_merge_buckets = 13,
            |c| c.profile_same_load = -0.1,
            |c| c.profile_same_load = f64::NAN,
            |c| c.unmask_day_same_load = -0.1,
            |c| c.unmask_day_same_load = f64::NAN,
            |c| c.day_hold_secs = -1.0,
            |c| c.day_hold_secs = f64::NAN,
            |c| c.stop_unmask_lift = -0.1,
            |c| c.stop_unmask_lift = f64::NAN,
            |c| c.unmask_refill_fall = -0.1,
            |c| c.unmask_refill_fall = 1.5,
            |c| c.unmask_refill_fall = f64::NAN,
            |c| c.stop_steady_load = 1.5,
            |c| c.stop_steady_load = f64::NAN,
            |c| c.warmup_load_decel = -0.1,
            |c| c.warmup_load_decel = f64::NAN,
            |c| c.veto_level_rise_secs = -1.0,
            |c| c.veto_level_rise_secs = f64::NAN,
            |c| c.warmup_bound = -0.1,
            |c| c.warmup_bound = 11.0,
            |c| c.warmup_bound = f64::NAN,
            |c| c.warmup_start_bound = -0.1,
            |c| c.warmup_start_bound = 11.0,
            |c| c.warmup_start_bound = f64::NAN,
            |c| c.urgent_warmup_bound = -0.1,
            |c| c.urgent_warmup_bound = 11.0,
            |c| c.urgent_warmup_bound = f64::NAN,
            |c| c.warmup_start_secs = -1.0,
            |c| c.warmup_start_secs = 86401.0,
            |c| c.warmup_start_secs = f64::NAN,
            |c| c.warmup_peak_bound = -0.1,
            |c| c.warmup_peak_bound = 11.0,
            |c| c.warmup_peak_bound = f64::NAN,
            |c| c.stop_abrupt_share = -0.1,
            |c| c.stop_abrupt_share = 11.0,
            |c| c.stop_abrupt_share = f64::NAN,
            |c| c.stop_abrupt_secs = 599.0,
            |c| c.stop_abrupt_secs = 86401.0,
            |c| c.stop_abrupt_secs = f64::NAN,
        ];
        for edit in edits {
            let mut c = DetectorConfig::default();
            edit(&mut c);
            assert_eq!(
                c.validate().unwrap_err().code(),
                ErrorCode::InvalidOption,
                "{c:?}"
            );
        }
        // Each rule can be switched off.
        let off = DetectorConfig {
            traffic_veto: false,
            traffic_unmask: false,
            unmask_moves: false,
            unmask_full_day: false,
            unmask_day_same_load: 0.0,
            unmask_refill_fall: 0.0,
            unmask_count_held: false,
            profile_veto: false,
            profile_unmask: false,
            profile_same_load: 0.0,
            profile_day_rise: false,
            traffic_warmup: false,
            stop_min_load_only: false,
            stop_burst_hold: 0.0,
            stop_unmask_lift: 0.0,
            stop_steady_load: 0.0,
            warmup_deceleration: 0.0,
            veto_record_curve: 0.0,
            traffic_reuse_secs: 0.0,
            full_day_rest_secs: 0.0,
            active_rest_secs: 0.0,
            firing_rest_secs: 0.0,
            day_merge_buckets: 1,
            urgent_ttl_ratio: 0.0,
            urgent_traffic: false,
            warmup_load_decel: 0.0,
            veto_level_rise_secs: 0.0,
            day_hold_secs: 0.0,
            warmup_bound: 0.0,
            warmup_start_bound: 0.0,
            warmup_start_secs: 0.0,
            urgent_warmup_bound: 0.0,
            warmup_peak_bound: 0.0,
            warmup_load_out: false,
            ..DetectorConfig::default()
        };
        assert!(off.validate().is_ok());
    }

    #[test]
    fn a_traffic_verdict_is_reused_for_at_most_two_buckets() {
        // The defaults: 600 s, two 5-minute buckets.
        assert_eq!(DetectorConfig::default().traffic_reuse_ms(), 600_000);
        // Time compressed to 1-second buckets (the examples' monitors): 2 s, not 10 min, or a
        // veto found on the growth's first evaluation would hold the alert back for 600 of them.
        let compressed = DetectorConfig {
            bucket_secs: 1.0,
            ..DetectorConfig::default()
        };
        assert_eq!(compressed.traffic_reuse_ms(), 2_000);
        // Shorter than two buckets, and off, as set.
        let short = DetectorConfig {
            traffic_reuse_secs: 90.0,
            ..DetectorConfig::default()
        };
        assert_eq!(short.traffic_reuse_ms(), 90_000);
        let off = DetectorConfig {
            traffic_reuse_secs: 0.0,
            ..compressed
        };
        assert_eq!(off.traffic_reuse_ms(), 0);
        // A day's floor rests for one bucket at most: 600 s is every other 5-min bucket, and
        // every other 1-second bucket with time compressed.
        assert_eq!(DetectorConfig::default().full_day_rest_ms(), 600_000);
        assert_eq!(compressed.full_day_rest_ms(), 2_000);
        // While an alert is active, for three buckets at most; off by default.
        assert_eq!(DetectorConfig::default().active_rest_ms(), 0);
        let active = |active_rest_secs| DetectorConfig {
            active_rest_secs,
            ..DetectorConfig::default()
        };
        assert_eq!(active(600.0).active_rest_ms(), 600_000);
        assert_eq!(active(3600.0).active_rest_ms(), 1_200_000);
        // While an alert fires, 1200 s by default (every fourth bucket), and the longer of it
        // and `active_rest_secs`; four 1-second buckets with time compressed.
        assert_eq!(DetectorConfig::default().firing_rest_ms(), 1_200_000);
        assert_eq!(compressed.firing_rest_ms(), 4_000);
        let firing = |firing_rest_secs, active_rest_secs| DetectorConfig {
            firing_rest_secs,
            active_rest_secs,
            ..DetectorConfig::default()
        };
        assert_eq!(firing(300.0, 600.0).firing_rest_ms(), 600_000);
        assert_eq!(firing(0.0, 0.0).firing_rest_ms(), 0);
        // A day's floor judged on every point by default (section 93: merged in runs of two
        // buckets it is a fifth cheaper, but a test's short leak is alerted after its half
        // mark).
        assert_eq!(DetectorConfig::default().day_merge_buckets, 1);
        // A full day's unmasking that found nothing: `traffic_reuse_secs` by default, up to
        // four buckets with `unmask_reuse_secs`.
        assert_eq!(DetectorConfig::default().unmask_reuse_ms(), 600_000);
        let unmask = DetectorConfig {
            unmask_reuse_secs: 3600.0,
            ..DetectorConfig::default()
        };
        assert_eq!(unmask.unmask_reuse_ms(), 1_200_000);
        // A collection's fall takes up to 15 s; with time compressed each sample is compared
        // with the one before.
        assert_eq!(DetectorConfig::default().drop_fall_ms(), 15_000);
        assert_eq!(compressed.drop_fall_ms(), 0);
    }

    #[test]
    fn the_slow_collection_rise_share_is_validated() {
        for bad in [-0.1, 1.5, f64::NAN] {
            let c = DetectorConfig {
                slow_rise_share: bad,
                ..DetectorConfig::default()
            };
            assert_eq!(
                c.validate().unwrap_err().code(),
                ErrorCode::InvalidOption,
                "{bad}"
            );
        }
        for ok in [0.0, 0.65, 1.0] {
            let c = DetectorConfig {
                slow_rise_share: ok,
                ..DetectorConfig::default()
            };
            assert!(c.validate().is_ok(), "{ok}");
        }
    }

    #[test]
    fn the_slow_collection_fall_steps_are_validated() {
        for bad in [0.5, 101.0, f64::NAN, f64::INFINITY] {
            let c = DetectorConfig {
                slow_fall_steps: bad,
                ..DetectorConfig::default()
            };
            assert_eq!(
                c.validate().unwrap_err().code(),
                ErrorCode::InvalidOption,
                "{bad}"
            );
        }
        for ok in [1.0, 6.0, 100.0] {
            let c = DetectorConfig {
                slow_fall_steps: ok,
                ..DetectorConfig::default()
            };
            assert!(c.validate().is_ok(), "{ok}");
        }
    }
}
