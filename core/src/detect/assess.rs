//! One evaluation of the floor: fits "flat, then rising" to find where growth began, tests the
//! rising segment (block medians, Theil–Sen with Sen's Mann–Kendall interval), checks that the
//! rise still goes on and is better described by a line than by one step or a ramp that levelled
//! off, and asks, at the rate's lower confidence bound, for a practical rise relative to the
//! baseline or a time to the memory limit within a horizon.

use super::detector::Verdict;
use super::load::{self, LoadWork};
use super::options::{COUNT_PROJECTION_FACTOR, COUNT_RISE_FACTOR, DetectorConfig, SeriesKind};
use super::profile::{DAY_MS, DailyProfile};
use super::prom;
use super::reason::NoLeakReason;
use super::stats::{
    Bounds, Hinge, Slopes, TEST_POINTS, block_median, hinge_fit, line_beats_step, mean, median,
    order_key, parabola, plateau, plateau_f, reduce_blocks, reduce_blocks_by, residual_sigma, sen,
    sen_at, sen_blocks, sen_blocks_at, theil_sen,
};
use crate::series::{Ring, Sample};
use std::cell::OnceCell;

/// Records a diagnostic tag (feature `probe`: [`super::probe`]); nothing without the feature.
macro_rules! probe {
    (phase $p:expr) => {
        #[cfg(feature = "probe")]
        super::probe::phase($p);
    };
    (when $c:expr, $($t:tt)*) => {
        #[cfg(feature = "probe")]
        if super::probe::enabled() && $c {
            super::probe::tag(&format!($($t)*));
        }
    };
    ($($t:tt)*) => {
        #[cfg(feature = "probe")]
        if super::probe::enabled() {
            super::probe::tag(&format!($($t)*));
        }
    };
}

/// A firing alert resolves once the newest third of the segment, or the last [`RECENT_SECS`],
/// rises (at its rate's upper bound) less than this share of the segment's rate.
const RECENT_SHARE: f64 = 0.3;
/// With `stop_steady_load`, how many times as long as a level-off needs the flat part must
/// have lasted for the looser rate bound (1.5 let one more training leak alert resolve while
/// the leak grew).
const STEADY_FLAT_RATIO: f64 = 2.0;
/// The recent window in which a firing alert's floor must have gone flat to resolve.
const RECENT_SECS: f64 = 2700.0;
/// F statistic from which "rising, then flat" describes a rising segment better than a line
/// (see [`plateau_f`]): about the 93rd percentile of F(1, 10), the usual number of blocks.
pub(super) const PLATEAU_F: f64 = 4.0;
/// With a limit, a rise matters once the limit is within this many times as long as the
/// growth has lasted (at the rate's lower bound).
const TTL_GROWTH: f64 = 2.0;
/// With traffic known, a plateau is the load's doing (and `stop_min_secs` holds it) while the
/// flat part with the load's part out still rises at this share of the segment's rate
/// ([`load_lifts_flat`]; 0.3 let 4 more of 50 training `slow_count_leak` alerts resolve while
/// the leak grew, 0.1 and 0 none).
const LIFT_SHARE: f64 = 0.1;
/// The load's range before the growth, as a share of its range over a flat part, from which
/// the floor's response to its load before the growth is trusted there ([`levelled_off_load_out`];
/// the two training flaps it removed had responses fitted over a fifth of the flat part's range).
const PRE_RANGE_SHARE: f64 = 0.5;
/// Fewest floor points a rising segment needs.
const MIN_POINTS: usize = 6;
/// How long an urgent rise must have lasted for `urgent_traffic` to judge it as on the series
/// alone (on training, 1 h let a one-off jump at a record load through: `minute_healthy` 46).
const URGENT_TRAFFIC_SECS: f64 = 5400.0;
/// How far back [`above_yesterday`] looks a second time.
const HALF_HOUR_MS: i64 = 1_800_000;
const HOUR_MS: i64 = 3_600_000;

/// Trend estimate of one evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Estimate {
    pub(super) growth_start_ms: Option<i64>,
    pub(super) rate: Option<f64>,
    pub(super) rate_low: Option<f64>,
    pub(super) rate_high: Option<f64>,
    pub(super) baseline: Option<f64>,
    /// When a firing alert's rise levelled off (a leak that stopped, a warm-up that flattened).
    pub(super) growth_stop_ms: Option<i64>,
    /// How far the evidence exceeds the practical bar (>= 1 when the condition holds).
    pub(super) strength: f64,
    /// The test that judged a rise healthy (stored where it returns, read by `analysis()`).
    pub(super) held: Option<NoLeakReason>,
    /// With `ttl_accel_sigmas`: the seconds to the limit of a rise that significantly
    /// accelerates, at its parabola ([`Segment::accel_ttl`]; `analysis()` only).
    pub(super) accel_ttl_secs: Option<f64>,
}

/// Reusable buffers of an evaluation, so that evaluations never allocate.
#[derive(Debug, Clone, Default)]
pub(super) struct Work {
    points: Vec<Sample>,
    loads: Vec<f64>,
    values: Vec<i64>,
    slopes: Slopes,
    load: LoadWork,
    /// The usable floor with the load's part taken out.
    adjusted: Vec<Sample>,
    /// When the last evaluation judged the floor ([`rests`]).
    judged_at: Option<i64>,
}

impl Work {
    /// A judgement on these buffers that leaves the verdicts later evaluations reuse as they
    /// were (the buffers' contents are scratch).
    pub(super) fn aside<R>(&mut self, f: impl FnOnce(&mut Work) -> R) -> R {
        let (cache, judged_at) = (self.load.cache(), self.judged_at);
        let r = f(self);
        self.load.restore(cache);
        self.judged_at = judged_at;
        r
    }

    /// When the floor with the load's part out last showed no hidden leak (tests of its reuse).
    #[cfg(test)]
    pub(super) fn unmask_quiet_at(&self) -> Option<i64> {
        self.load.quiet_at
    }

    /// Buffers for a floor of `capacity` points.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Work {
            points: Vec::with_capacity(capacity),
            loads: Vec::with_capacity(capacity),
            values: Vec::with_capacity(capacity),
            slopes: Slopes::with_capacity(TEST_POINTS * TEST_POINTS / 2),
            load: LoadWork::with_capacity(capacity),
            adjusted: Vec::with_capacity(capacity),
            judged_at: None,
        }
    }
}

/// [`Segment::site`] of `stop_load_out`'s floor.
const LOAD_OUT_SITE: usize = 3;
/// The bracket site of [`unmasked_flat_too`]'s Theil–Sen (after the segments' two each).
const FLAT_TOO_SITE: usize = 2 * LOAD_OUT_SITE + 2;
const _: () = assert!(FLAT_TOO_SITE < crate::detect::stats::SEN_SITES);

/// The rising segment of the usable floor, as the hinge fit found it.
struct Segment<'a> {
    cfg: &'a DetectorConfig,
    /// Every usable floor point.
    points: &'a [Sample],
    /// The points from the hinge on.
    seg: &'a [Sample],
    hinge: Hinge,
    now: Sample,
    /// Seconds from the segment's first point to the newest.
    dur_secs: f64,
    /// The flat part's level (absolute).
    baseline: f64,
    /// With traffic: the mean request rate per point, aligned with `points`.
    loads: Option<&'a [f64]>,
    /// The window the newest floor point is the minimum over (ms).
    window_ms: i64,
    /// Slow collections at a steady period set the floor's window.
    slow_floor: bool,
    /// The heap has fallen (a collection) since start or restart ([`View`]).
    collected: bool,
    /// The mean interval between samples (ms).
    interval_ms: f64,
    /// The points are the floor with the load's part taken out (every decelerating rise is a
    /// warm-up there).
    unmasked: bool,
    /// The points are today's floor less yesterday's plus this level ([`Context`]).
    yesterday_level: Option<f64>,
    /// Which judgement's segment this is, for the brackets of its Theil–Sen selections
    /// ([`Slopes`]): the raw floor 0, with the load's part out 1, against yesterday 2,
    /// `stop_load_out`'s floor [`LOAD_OUT_SITE`]; its two sites are twice that and the next.
    site: usize,
    /// Whether the rise is urgent at its accelerating projection ([`Segment::urgent_accel`]),
    /// computed once when first asked.
    accel: OnceCell<bool>,
    /// [`Context::cond_only`].
    cond_only: bool,
}

impl<'a> Segment<'a> {
    /// The segment of `points` from the hinge on, as [`judge_points`] judges it.
    fn new(ctx: &Context<'a>, points: &'a [Sample], loads: Option<&'a [f64]>, h: Hinge) -> Self {
        let seg = &points[h.index..];
        let now = points[points.len() - 1];
        Segment {
            cfg: ctx.cfg,
            points,
            seg,
            hinge: h,
            now,
            dur_secs: now.ts_ms.saturating_sub(seg[0].ts_ms) as f64 / 1000.0,
            baseline: h.baseline.abs(),
            loads,
            window_ms: ctx.view.window_ms,
            slow_floor: ctx.view.slow_floor,
            collected: ctx.view.collected,
            interval_ms: ctx.view.interval_ms,
            unmasked: loads.is_none() && ctx.view.loads.is_some(),
            yesterday_level: ctx.yesterday_level,
            site: if ctx.yesterday_level.is_some() {
                2
            } else {
                usize::from(loads.is_none() && ctx.view.loads.is_some())
            },
            accel: OnceCell::new(),
            cond_only: ctx.cond_only,
        }
    }

    /// The relative bars (rise, projected rise) as shares of the baseline. A count's are
    /// higher because in-flight work follows traffic; with traffic known, that part is
    /// explained and a count gets the heap's bars.
    fn ratios(&self) -> (f64, f64) {
        practical_ratios(self.cfg, self.loads.is_some())
    }

    /// The time to the limit within which a rise matters: `time_to_limit_alert_secs`, or
    /// [`TTL_GROWTH`] times as long as the growth has lasted, so that a slow leak is alerted
    /// while more of its time to the limit lies ahead than behind.
    fn ttl_horizon(&self) -> f64 {
        self.cfg
            .time_to_limit_alert_secs
            .max(TTL_GROWTH * self.dur_secs)
    }

    /// Whether a rise of `rise` at `rate` per second is large enough to matter: relative to the
    /// baseline, projected over the horizon, by the time left until the limit, or (a count)
    /// rising for longer than a daily cycle rises.
    fn practical(&self, rate: f64, rise: f64) -> bool {
        let cfg = self.cfg;
        let (rise_ratio, projection_ratio) = self.ratios();
        rate > 0.0
            && (rise >= rise_ratio * self.baseline
                || rate * cfg.projection_secs >= projection_ratio * self.baseline
                || cfg
                    .limit
                    .is_some_and(|l| (l - self.now.value) / rate <= self.ttl_horizon())
                || (cfg.kind == SeriesKind::Count
                    && cfg.count_sustain_secs > 0.0
                    && self.dur_secs >= cfg.count_sustain_secs))
    }

    /// Whether the rise at the rate's lower bound `lo` reaches the limit within
    /// `urgent_ttl_ratio` times as long as it has lasted: a leak that will kill the process
    /// soon need not prove as long that it does not slow down.
    fn urgent(&self, lo: f64) -> bool {
        let ratio = self.cfg.urgent_ttl_ratio;
        ratio > 0.0
            && (lo > 0.0
                && self
                    .cfg
                    .limit
                    .is_some_and(|l| l - self.now.value <= ratio * self.dur_secs * lo)
                || self.urgent_accel())
    }

    /// With `urgent_accel_sigmas`: whether the rise reaches the limit at its accelerating
    /// projection ([`Segment::accel_ttl`] at that many standard errors) within
    /// `urgent_ttl_ratio` times as long as it has lasted (a leak that speeds up is understated
    /// by its segment's straight rate).
    fn urgent_accel(&self) -> bool {
        let (k, ratio) = (self.cfg.urgent_accel_sigmas, self.cfg.urgent_ttl_ratio);
        if k <= 0.0 || ratio <= 0.0 || self.cfg.limit.is_none() {
            return false;
        }
        *self.accel.get_or_init(|| {
            let mut blocks = [(0.0f64, 0.0f64); TEST_POINTS];
            let nb = reduce_blocks(self.seg, &mut blocks, TEST_POINTS);
            self.accel_ttl(&blocks[..nb], k)
                .is_some_and(|t| t <= ratio * self.dur_secs)
        })
    }

    /// The seconds to the limit of a rise that accelerates: a parabola through the segment's
    /// block medians whose curvature stands more than `sigmas` standard errors above zero,
    /// from its value and rate now, accelerating at its curvature less those standard errors.
    /// `None` without a limit, at `sigmas` 0, or for a rise that does not significantly
    /// accelerate.
    fn accel_ttl(&self, blocks: &[(f64, f64)], sigmas: f64) -> Option<f64> {
        let limit = self.cfg.limit.filter(|_| sigmas > 0.0)?;
        let p = parabola(blocks, self.dur_secs)?;
        let c = p.curvature - sigmas * p.curvature_se;
        let (room, r) = (limit - p.value, p.rate);
        probe!(
            "accel {:.2} {:.1}",
            2.0 * room / (r + (r * r + 4.0 * c.max(0.0) * room).sqrt()) / self.dur_secs,
            p.curvature / p.curvature_se
        );
        if c <= 0.0 || r <= 0.0 || room <= 0.0 || self.now.value >= limit {
            return None;
        }
        // The time left: c t^2 + r t = room.
        Some(2.0 * room / (r + (r * r + 4.0 * c * room).sqrt()))
    }

    /// With traffic known and `urgent_traffic`: whether the rise is urgent ([`Segment::urgent`])
    /// and has lasted [`URGENT_TRAFFIC_SECS`], with the floor still below the limit. Then the
    /// warm-up test judges it as on the series alone, and at record loads the load veto blames
    /// the load only where the floor showed a response to it before the growth.
    fn urgent_traffic(&self, lo: f64) -> bool {
        self.cfg.urgent_traffic
            && self.loads.is_some()
            && self.dur_secs >= URGENT_TRAFFIC_SECS
            && self.cfg.limit.is_some_and(|l| self.now.value < l)
            && self.urgent(lo)
    }

    /// With `warmup_load_decel`: whether the load's rise over the segment's newer half (by
    /// time) falls short of its older half's by at least that share of its range over the
    /// segment (least-squares slopes of each half times the half's length).
    fn load_decelerated(&self) -> bool {
        let share = self.cfg.warmup_load_decel;
        share > 0.0
            && self
                .load_half_rises()
                .is_some_and(|(older, newer, range)| range > 0.0 && older - newer >= share * range)
    }

    /// The load's rise over the segment's older and newer halves (by time; least-squares
    /// slopes of each half times the half's length) and its range over the segment; `None`
    /// without loads or with fewer than 4 points in a half.
    fn load_half_rises(&self) -> Option<(f64, f64, f64)> {
        let loads = self.loads?;
        let (seg, xs) = (self.seg, &loads[self.hinge.index..]);
        let n = seg.len();
        if n < 8 || xs.len() != n {
            return None;
        }
        let t0 = seg[0].ts_ms;
        let mid_ms = t0 + (self.now.ts_ms - t0) / 2;
        let split = seg.partition_point(|p| p.ts_ms < mid_ms);
        if split < 4 || n - split < 4 {
            return None;
        }
        let rise = |ps: &[Sample], xs: &[f64]| {
            let m = ps.len() as f64;
            let tm = ps.iter().map(|p| (p.ts_ms - t0) as f64).sum::<f64>() / m;
            let xm = xs.iter().sum::<f64>() / m;
            let (mut sxy, mut sxx) = (0.0, 0.0);
            for (p, &x) in ps.iter().zip(xs) {
                let dt = (p.ts_ms - t0) as f64 - tm;
                sxy += dt * (x - xm);
                sxx += dt * dt;
            }
            let span = (ps[ps.len() - 1].ts_ms - ps[0].ts_ms) as f64;
            if sxx > 0.0 { sxy / sxx * span } else { 0.0 }
        };
        let older = rise(&seg[..split], &xs[..split]);
        let newer = rise(&seg[split..], &xs[split..]);
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        Some((older, newer, hi - lo))
    }

    /// How many times over its practical bar the rate's lower bound `lo` is: the largest ratio
    /// of achieved to required among the rise, the projected rise and the time to limit.
    fn strength(&self, lo: f64) -> f64 {
        let cfg = self.cfg;
        let (rise_ratio, projection_ratio) = self.ratios();
        let ratio = |got: f64, need: f64| {
            if need > 0.0 {
                got / need
            } else {
                f64::INFINITY
            }
        };
        let mut s = ratio(lo * self.dur_secs, rise_ratio * self.baseline).max(ratio(
            lo * cfg.projection_secs,
            projection_ratio * self.baseline,
        ));
        if let Some(l) = cfg.limit {
            s = s.max(ratio(self.ttl_horizon() * lo, l - self.now.value));
        }
        if s.is_nan() { 1.0 } else { s }
    }
}

/// Shortest share of the usable floor points with a known load for the covariate to be used.
const LOAD_SHARE: f64 = 0.8;
/// Fills the missing loads (NaN) with the last known one (the first known one at the start).
/// False when too few are known for the covariate.
fn fill_loads(loads: &mut [f64]) -> bool {
    // Counted without a branch per load (vectorised); every load known leaves nothing to fill.
    let known: usize = loads.iter().map(|x| usize::from(x.is_finite())).sum();
    if known == 0 || (known as f64) < LOAD_SHARE * loads.len() as f64 {
        return false;
    }
    if known == loads.len() {
        return true;
    }
    let mut last = loads.iter().copied().find(|x| x.is_finite()).unwrap_or(0.0);
    for x in loads.iter_mut() {
        if x.is_finite() {
            last = *x;
        } else {
            *x = last;
        }
    }
    true
}

/// With `day_merge_buckets` (`k`), once `points` span a day ([`load::FULL_DAY_MS`]): the
/// points of each run of `k` buckets aligned on the clock (so a run stays one point as the
/// window slides; at most `k` points each), but the newest point, merged in place into one
/// of their mean time, value and load (`loads`: filled, as long as `points`). A day's floor
/// is judged three times per evaluation with traffic, each costing about its number of
/// points (the hinge, the load's fits, yesterday's floor read at each point); the tests look
/// at [`TEST_POINTS`] block medians of the rise, over a day's rise a dozen points each
/// either way.
fn merge_day_points(cfg: &DetectorConfig, points: &mut Vec<Sample>, loads: &mut Vec<f64>) {
    let k = cfg.day_merge_buckets;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return;
    };
    if k <= 1 || loads.len() != points.len() || last.ts_ms - first.ts_ms < load::FULL_DAY_MS {
        return;
    }
    let run_ms = (k as i64).saturating_mul(((cfg.bucket_secs * 1000.0) as i64).max(1));
    // The newest point stays as it is: merged with the one before it, it added a healthy
    // false alarm on the unseen training pool and a resolution while growing on the quality
    // pool (design section 93).
    let n = points.len() - 1;
    let (mut i, mut w, mut end) = (0, 0, i64::MIN);
    while i < n {
        // The run's end on the clock: one division only where the floor skipped a run (a
        // division per point was a tenth of a merged evaluation's own time).
        let t0 = points[i].ts_ms;
        end = if t0 < end.saturating_add(run_ms) && t0 >= end {
            end + run_ms
        } else {
            (t0.div_euclid(run_ms) + 1).saturating_mul(run_ms)
        };
        let mut j = i + 1;
        // At most `k` points: a floor point sits where its bucket's lowest sample was, and the
        // buckets are not aligned on the clock, so a run can hold one more.
        while j < n && j - i < k && points[j].ts_ms < end {
            j += 1;
        }
        let (mut dt, mut v, mut x) = (0i64, 0.0, 0.0);
        for (p, l) in points[i..j].iter().zip(&loads[i..j]) {
            (dt, v, x) = (dt + (p.ts_ms - t0), v + p.value, x + l);
        }
        // A pair's means without a division (the divisions were a tenth of this function's
        // time): `dt` >= 0 (times ascend), so a shift halves it as `/ 2` does, and `* 0.5` is
        // `/ 2.0` to the bit.
        let (mean_dt, v, x) = match j - i {
            1 => (0, v, x),
            2 => (dt >> 1, v * 0.5, x * 0.5),
            m => (dt / m as i64, v / m as f64, x / m as f64),
        };
        points[w] = Sample {
            ts_ms: t0 + mean_dt,
            value: v,
        };
        loads[w] = x;
        (i, w) = (j, w + 1);
    }
    let len = points.len();
    points.copy_within(n.., w);
    loads.copy_within(n.., w);
    points.truncate(len - (n - w));
    loads.truncate(len - (n - w));
}

/// What an evaluation looks at.
pub(super) struct View<'a> {
    /// The floor points since the last restart.
    pub(super) floor: &'a Ring<Sample>,
    /// Their mean request rates, when traffic is known (the covariate).
    pub(super) loads: Option<&'a Ring<f64>>,
    /// Points before this time belong to the warm-up after start or restart.
    pub(super) from_ms: i64,
    /// The window the newest floor point is the minimum over (ms).
    pub(super) window_ms: i64,
    /// Slow collections at a steady period set the floor's window.
    pub(super) slow_floor: bool,
    /// The mean interval between samples (ms).
    pub(super) interval_ms: f64,
    /// The heap has fallen (a collection) since start or restart.
    pub(super) collected: bool,
    /// The floor of the last two days by time of day.
    pub(super) profile: &'a DailyProfile,
    /// When the alert turned active (meaningful while it fires).
    pub(super) active_since_ms: i64,
}

/// Judges the usable floor. Returns the verdict before the alert step, whether the leak
/// condition holds, and the estimates. With `lazy`, returns as soon as the condition is
/// decided, leaving the estimates partial. With traffic known, a rise the load can explain is
/// not a leak ([`load::explains`]). With a day of floor kept, the floor with yesterday's at the
/// same hour taken out is judged too ([`against_yesterday`]).
pub(super) fn assess(
    cfg: &DetectorConfig,
    z: f64,
    view: &View,
    work: &mut Work,
    lazy: bool,
    firing: bool,
) -> (Verdict, bool, Estimate) {
    // Held, the alert stays firing whatever the judgements below say: an evaluation (`lazy`)
    // skips them (a firing alert's judgements are the costliest: every one of them, at every
    // bucket); `analysis()` still makes them for its estimates.
    let held = firing && held_above_yesterday(cfg, view);
    probe!(when held, "dayhold");
    if lazy && held {
        let now = view.floor.last().map(|p| p.value);
        let kept = Estimate {
            baseline: now,
            ..Estimate::default()
        };
        return (Verdict::Leak, true, kept);
    }
    let (verdict, cond, est) = assess_with_load(cfg, z, view, work, lazy, firing);
    let level = !firing && level_with_earlier_days(cfg, view);
    if cond && level {
        let est = Estimate {
            held: Some(NoLeakReason::DailyCycle),
            ..est
        };
        return (Verdict::Healthy, false, est);
    }
    // `work.points` holds the usable floor unless that was too short (`Insufficient`).
    if cond || verdict == Verdict::Insufficient {
        return (verdict, cond, est);
    }
    if level {
        return (verdict, cond, est);
    }
    let ctx = Context {
        cfg,
        z,
        view,
        lazy,
        firing,
        differenced: true,
        yesterday_level: None,
        cond_only: true,
    };
    if let Some(found) = cfg
        .profile_unmask
        .then(|| against_yesterday(&ctx, work, est))
        .flatten()
    {
        return (Verdict::Leak, true, found);
    }
    if held {
        let kept = Estimate {
            growth_stop_ms: None,
            held: None,
            ..est
        };
        return (Verdict::Leak, true, kept);
    }
    (verdict, cond, est)
}

/// [`assess`] without the judgement against yesterday.
fn assess_with_load(
    cfg: &DetectorConfig,
    z: f64,
    view: &View,
    work: &mut Work,
    lazy: bool,
    firing: bool,
) -> (Verdict, bool, Estimate) {
    let (floor, loads, from_ms) = (view.floor, view.loads, view.from_ms);
    let Some(now) = floor.last() else {
        return (Verdict::Insufficient, false, Estimate::default());
    };
    let mut est = Estimate {
        baseline: Some(now.value),
        ..Estimate::default()
    };
    let skip = floor.iter().take_while(|p| p.ts_ms < from_ms).count();
    if floor.len() - skip < MIN_POINTS {
        return (Verdict::Insufficient, false, est);
    }
    if lazy {
        work.judged_at = Some(now.ts_ms);
    }
    floor.copy_into(skip, &mut work.points);
    let known = loads.is_some_and(|loads| {
        loads.copy_into(skip, &mut work.loads);
        fill_loads(&mut work.loads)
    });
    // With traffic known only (the series alone judges a day's floor once, without the
    // unmasking, and its merged floor added healthy false alarms on two-day swings), and not
    // while firing (which added one on the unseen pool): design section 93.
    if lazy && !firing && known {
        merge_day_points(cfg, &mut work.points, &mut work.loads);
    }
    let Work {
        points,
        loads: xs,
        values,
        slopes,
        load: load_work,
        adjusted,
        ..
    } = work;
    let xs = known.then_some(&xs[..]);
    let ctx = Context {
        cfg,
        z,
        view,
        lazy,
        firing,
        differenced: false,
        yesterday_level: None,
        cond_only: false,
    };
    probe!(phase "raw");
    let (verdict, cond) = judge_points(&ctx, points, xs, values, slopes, load_work, &mut est);
    probe!("{}", if cond { "COND" } else { "HEALTHY" });
    // With traffic known, a leak can hide under a floor that falls with the load: judge the
    // floor with the load's part taken out too, while the load has fallen or an alert fires,
    // or (`unmask_full_day`) once the window spans a day, or for a count whose rise was held
    // (`unmask_count_held`).
    let Some(x) = xs else {
        return (verdict, cond, est);
    };
    // A count whose leak stopped can keep rising with the day's load, and the raw floor then
    // shows no plateau until the evening.
    if cond && firing && cfg.stop_load_out {
        let start = est.growth_start_ms;
        probe!(phase "lo");
        if let Some(stop) = levelled_off_load_out(&ctx, points, x, start, slopes, adjusted) {
            est.growth_stop_ms = Some(stop);
            est.held = Some(NoLeakReason::LevelledOff);
            return (Verdict::Healthy, false, est);
        }
    }
    // A window that spans a day holds yesterday's whole swing: the load's part of the floor
    // is then known over the whole range of loads, not only those seen before a growth.
    let full_day = cfg.unmask_full_day
        && points[points.len() - 1].ts_ms - points[0].ts_ms >= load::FULL_DAY_MS
        && above_yesterday(points, view.profile)
        && !busier_than_yesterday(points, x, view.profile, cfg.unmask_day_same_load);
    // Not only for evaluations (`lazy`): `analysis()` reports the estimates of the judgement
    // that decides, the unmasked one's growth start and rate when it finds the leak.
    // A count (`unmask_count_held`) is judged so too wherever the raw judgement found a rise
    // and held it as a warm-up, levelled off or the load's: a count leak that began on the
    // load's morning ramp climbs fast with it, then slower at the peak (the shape of a
    // warm-up to the raw floor), while the load's part of it is known only once the floor
    // follows its load (`load::unmask`); counts have no warm-up of their own to let through.
    let count_held = cfg.unmask_count_held
        && cfg.kind == SeriesKind::Count
        && matches!(
            est.held,
            Some(NoLeakReason::WarmUp | NoLeakReason::LevelledOff | NoLeakReason::ExplainedByLoad)
        );
    if cond || !cfg.traffic_unmask || !(firing || full_day || count_held || load::fell_recently(x))
    {
        return (verdict, cond, est);
    }
    // Nothing was hidden a moment ago: a floor point more hardly changes that, and the fit
    // and judgement below cost as much as the evaluation itself.
    let (first, now) = (points[0].ts_ms, points[points.len() - 1].ts_ms);
    let reuse_ms = if full_day {
        cfg.unmask_reuse_ms()
    } else {
        cfg.traffic_reuse_ms()
    };
    if !firing
        && reuse_ms > 0
        && load_work
            .quiet_at
            .is_some_and(|at| first <= at && now - at <= reuse_ms)
    {
        return (verdict, cond, est);
    }
    let mut hidden = est;
    probe!(phase "unm");
    // After a deploy's fall (`unmask_refill_fall`), only the floor back at its level.
    let from = refill_from(points, cfg.unmask_refill_fall);
    probe!(when from != Some(0), "refill from {from:?}");
    let found = from.is_some_and(|i| {
        load::unmask(&points[i..], &x[i..], cfg.unmask_moves, load_work, adjusted)
    }) && judge_points(
        &Context {
            cond_only: true,
            ..ctx
        },
        adjusted,
        None,
        values,
        slopes,
        load_work,
        &mut hidden,
    )
    .1 && !(firing && unmasked_flat_too(cfg, z, &est, &hidden, adjusted, slopes));
    load_work.quiet_at = (!found).then_some(now);
    probe!("{}", if found { "FOUND" } else { "NONE" });
    if found {
        (Verdict::Leak, true, hidden)
    } else {
        (verdict, cond, est)
    }
}

/// The floor points before a fall whose lowest is the level [`refill_from`] measures the
/// fall from (a lone high point, a spike the floor passed over, is not a level), and the
/// points from the fall on that must all stay down (a lone low point is noise).
const REFILL_LEVEL_POINTS: usize = 3;

/// How soon after its fall [`refill_from`] wants the floor back at its level: a deploy's
/// refill takes hours (the unseen generator's up to 6 h, longer under a slow GC's held
/// trough), a slow collection's fall is climbed back only by growth, if at all.
const REFILL_MAX_MS: i64 = 8 * 3_600_000;

/// With `unmask_refill_fall` (`share`): where the floor with the load's part out is judged
/// from. After the window's newest fall of the floor by `share` below every earlier point of
/// the window, that stays down for [`REFILL_LEVEL_POINTS`] (a deploy that empties a cache),
/// the first point where the floor stands again at the level it fell from, if that comes
/// within [`REFILL_MAX_MS`]; None while it has not come back (the refill, which would teach
/// the load's fit that the floor follows the morning's load). 0 without such a fall.
fn refill_from(points: &[Sample], share: f64) -> Option<usize> {
    if share <= 0.0 {
        return Some(0);
    }
    let level = |i: usize| {
        points[i.saturating_sub(REFILL_LEVEL_POINTS)..i]
            .iter()
            .map(|p| p.value)
            .fold(f64::INFINITY, f64::min)
    };
    // The fall's low level: the highest of the points from it (all of them still down).
    let low = |i: usize| {
        points[i..i + REFILL_LEVEL_POINTS]
            .iter()
            .map(|p| p.value)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    // A fall to a new low of the window by as much: a slow collection's fall lands about
    // where the floor stood before its ramp, a deploy's well below anything it held before.
    let last = points.len().saturating_sub(REFILL_LEVEL_POINTS);
    let (mut lowest, mut found) = (f64::INFINITY, None);
    for i in 1..=last {
        lowest = lowest.min(points[i - 1].value);
        if low(i) < (1.0 - share) * lowest {
            found = Some(i);
        }
    }
    let Some(i) = found else {
        return Some(0);
    };
    let before = level(i);
    let back = points[i..].iter().position(|p| p.value >= before);
    let end = points[i].ts_ms + REFILL_MAX_MS;
    match back {
        Some(j) if points[i + j].ts_ms <= end => Some(i + j),
        // Back only later (a slow collection's fall that growth climbed back), or still
        // down past a refill's time: not a refill.
        Some(_) => Some(0),
        None if points[points.len() - 1].ts_ms > end => Some(0),
        None => None,
    }
}

/// With `stop_unmask_lift`: whether a firing alert's raw floor levelled off (`est`: the
/// plateau test) and the floor with the load's part out (`adjusted`, whose judgement `hidden`
/// still finds a rise) is flat too over the raw floor's flat part: the upper bound of its
/// Theil–Sen rate there below `stop_unmask_lift` of the unmasked segment's rate (the plateau
/// test's own rule on the raw floor's knee). The unmasked judgement then finds only the rise
/// before that knee, with the load's fitted part taken out, and its smaller rise waits longer
/// for its own plateau: a warm-up that rose with the morning's load, which the isotonic fit
/// takes for the load's doing.
fn unmasked_flat_too(
    cfg: &DetectorConfig,
    z: f64,
    est: &Estimate,
    hidden: &Estimate,
    adjusted: &[Sample],
    slopes: &mut Slopes,
) -> bool {
    let share = cfg.stop_unmask_lift;
    let (Some(knee), Some(rate)) = (est.growth_stop_ms, hidden.rate) else {
        return false;
    };
    if share <= 0.0 || est.held != Some(NoLeakReason::LevelledOff) {
        return false;
    }
    let flat = &adjusted[adjusted.partition_point(|p| p.ts_ms < knee)..];
    if flat.len() < MIN_POINTS {
        return false;
    }
    let (_, _, hi) = sen_at(flat, Some((z, Bounds::High)), slopes, FLAT_TOO_SITE);
    hi.is_some_and(|h| h < share * rate)
}

/// Whether an evaluation may skip judging a day's floor (`full_day_rest_secs`, and
/// `active_rest_secs` while an alert is pending or firing: `rest_ms`): the usable floor spans
/// a day and the last judgement was less than the rest ago. A day's window judged one bucket
/// later moves a new alert whose condition holds two buckets in a row by that bucket at most,
/// and a second day's evaluations cost twice the first day's (a full window, and the floor
/// with the load's part out judged too).
pub(super) fn rests(rest_ms: i64, view: &View, work: &Work) -> bool {
    let Some(now) = view.floor.last() else {
        return false;
    };
    rest_ms > 0
        && work.judged_at.is_some_and(|at| now.ts_ms - at < rest_ms)
        && view
            .floor
            .iter()
            .find(|p| p.ts_ms >= view.from_ms)
            .is_some_and(|p| now.ts_ms - p.ts_ms >= load::FULL_DAY_MS)
}

/// Whether the floor stands above yesterday's at this hour, now and half an hour ago: the
/// unmasked judgement of a full day is only worth its cost then (a leak that began today
/// raises the floor above yesterday's at the same load; a healthy floor is below it about
/// half the time).
fn above_yesterday(points: &[Sample], profile: &DailyProfile) -> bool {
    let now = points[points.len() - 1].ts_ms;
    let before = points.iter().rev().find(|p| p.ts_ms <= now - HALF_HOUR_MS);
    [points.last(), before]
        .into_iter()
        .all(|p| p.is_some_and(|p| profile.day_before(p.ts_ms).is_some_and(|y| p.value > y)))
}

/// With `unmask_day_same_load` (`share`, above 0): whether the load at the floor's newest point
/// or half an hour before it stands above yesterday's load at that hour, and above the highest
/// of the earlier days' (2 to 7 days before, those the profile saw), by more than `share` of
/// the window's range of loads. There a floor above yesterday's is the load's: today's part of
/// it is fitted on loads the window never held before, and `unmask_full_day`'s gate stays shut.
/// A Monday as busy as the Friday before is not busier.
fn busier_than_yesterday(
    points: &[Sample],
    loads: &[f64],
    profile: &DailyProfile,
    share: f64,
) -> bool {
    if share <= 0.0 || loads.len() != points.len() {
        return false;
    }
    let n = points.len();
    let now = points[n - 1].ts_ms;
    let before = points.iter().rposition(|p| p.ts_ms <= now - HALF_HOUR_MS);
    // How far the load stands above the highest of yesterday's and the earlier days' there.
    let margin = |i: usize| {
        let ts = points[i].ts_ms;
        let y = profile.floor_and_load_day_before(ts).1?;
        let top = profile.earlier_days_max_load(ts).map_or(y, |e| e.max(y));
        (loads[i] > top).then_some(loads[i] - top)
    };
    let Some(most) = [Some(n - 1), before]
        .into_iter()
        .flatten()
        .filter_map(margin)
        .reduce(f64::max)
    else {
        return false;
    };
    // The window's range of loads only when the load stands above them all.
    let (lo, hi) = load::extent(loads);
    most > share * (hi - lo)
}

/// With `profile_week_alone`, on the series alone: whether the floor's newest point stands no
/// higher than the highest of the earlier days' floors at this time of day (2 to 7 days
/// before): a day busier than yesterday, as an earlier day was (a Monday after a quiet
/// weekend).
fn level_with_earlier_days(cfg: &DetectorConfig, view: &View) -> bool {
    cfg.profile_week_alone
        && view.loads.is_none()
        && view.floor.last().is_some_and(|p| {
            view.profile
                .earlier_days_max(p.ts_ms)
                .is_some_and(|m| p.value <= m)
        })
}

/// Floor points in [`held_above_yesterday`]'s newest hour (at 5-min buckets).
const DAY_HOLD_POINTS: usize = 12;
/// The share of the practical rise by which [`held_above_yesterday`] wants the floor above
/// yesterday's (on the week bench, 1.0 let 2 more of 45 firing `week_late_leak` alerts resolve
/// while the leak grew than 0.5, with the alert active for a day).
const DAY_HOLD_SHARE: f64 = 0.5;

/// For an alert active for `day_hold_secs` or more: whether the floor's newest
/// [`DAY_HOLD_POINTS`] (those with a yesterday, at least half) stand above yesterday's at the
/// same hour, at the median, by [`DAY_HOLD_SHARE`] of the practical rise. A leak that goes on for a day or more rises above
/// yesterday's floor at every hour, while the daily swing on top of it reads to the thirds and
/// the plateau test as a level-off, and once it outlasts the window the hinge no longer finds
/// where it began. A leak (or a step) that stopped stands level with yesterday's a day later.
fn held_above_yesterday(cfg: &DetectorConfig, view: &View) -> bool {
    let Some(now) = view.floor.last() else {
        return false;
    };
    if cfg.day_hold_secs <= 0.0
        || now.ts_ms.saturating_sub(view.active_since_ms) < cfg.day_hold_ms()
        || view.floor.len() < DAY_HOLD_POINTS
    {
        return false;
    }
    // Yesterday's bins can be missing here and there (a floor point spans several buckets
    // at a slow GC): the points that have one, at least half of them.
    let mut rises = [0; DAY_HOLD_POINTS];
    let (mut n, mut level) = (0, 0.0);
    for p in view.floor.iter().rev().take(DAY_HOLD_POINTS) {
        if let Some(y) = view.profile.day_before(p.ts_ms) {
            (rises[n], level) = (order_key(p.value - y), level + y);
            n += 1;
        }
    }
    if 2 * n < DAY_HOLD_POINTS {
        return false;
    }
    let rise = median(&mut rises[..n]);
    let (ratio, _) = practical_ratios(cfg, view.loads.is_some());
    rise >= DAY_HOLD_SHARE * ratio * level / n as f64 && !rise_over_yesterday_falls(view, now.ts_ms)
}

/// The hours over which [`rise_over_yesterday_falls`] wants the rise to have fallen.
const DAY_HOLD_RELEASE_HOURS: i64 = 4;
/// The share by which that rise must fall every one of those hours (a leak that stopped
/// loses an hour's leak of it every hour, at least 1/24 of what the day added).
const DAY_HOLD_RELEASE_FALL: f64 = 0.05;

/// Whether the floor's median rise over yesterday's at the same hour fell by
/// [`DAY_HOLD_RELEASE_FALL`] or more in each of the last [`DAY_HOLD_RELEASE_HOURS`] hours: a
/// leak that stopped stands a little less above yesterday's every hour, so the hold of
/// [`held_above_yesterday`] lets the other judgements decide (docs/design/detector.md
/// section 47: a leak that stops after a long alert resolved 21 h after its stop with the
/// hold alone, about half that with this release).
fn rise_over_yesterday_falls(view: &View, now_ms: i64) -> bool {
    let mut later = rise_over_yesterday(view, now_ms);
    (1..=DAY_HOLD_RELEASE_HOURS).all(|h| {
        let earlier = rise_over_yesterday(view, now_ms - h * HOUR_MS);
        let fell =
            matches!((later, earlier), (Some(a), Some(b)) if a < (1.0 - DAY_HOLD_RELEASE_FALL) * b);
        later = earlier;
        fell
    })
}

/// The median of the floor's rise over yesterday's at the same hour, over the points of the
/// hour up to `to_ms` (those with a yesterday, at least half of [`DAY_HOLD_POINTS`]).
fn rise_over_yesterday(view: &View, to_ms: i64) -> Option<f64> {
    let mut rises = [0; DAY_HOLD_POINTS];
    let mut n = 0;
    let hour = view.floor.iter().rev().skip_while(|p| p.ts_ms > to_ms);
    for p in hour.take_while(|p| p.ts_ms > to_ms - HOUR_MS) {
        if n < DAY_HOLD_POINTS
            && let Some(y) = view.profile.day_before(p.ts_ms)
        {
            rises[n] = order_key(p.value - y);
            n += 1;
        }
    }
    if 2 * n < DAY_HOLD_POINTS {
        return None;
    }
    Some(median(&mut rises[..n]))
}

/// The practical bar's rise and projection ratios: a count judged with its load's part known
/// (out, or vetoed) needs only a heap's, not the larger ratios `for_kind` gives counts.
fn practical_ratios(cfg: &DetectorConfig, loads_known: bool) -> (f64, f64) {
    if cfg.kind == SeriesKind::Count && loads_known {
        (
            cfg.min_rise_ratio / COUNT_RISE_FACTOR,
            cfg.projection_ratio / COUNT_PROJECTION_FACTOR,
        )
    } else {
        (cfg.min_rise_ratio, cfg.projection_ratio)
    }
}

/// With a day of floor kept (`profile_unmask`): judges the floor with yesterday's floor at the
/// same hour taken out, over the points whose yesterday the profile holds (past yesterday's
/// warm-up). A window that spans a day holds yesterday's whole swing, and one hinge over it
/// starts in yesterday's swing: the thirds and the plateau test then see the swing, and the
/// residuals around the hinge hold it. Today less yesterday is flat for a floor that repeats
/// its day and rises from where a leak begins. Only worth its cost while the floor stands
/// above yesterday's (or an alert fires, to keep it firing). Returns the estimates when it
/// finds a leak.
fn against_yesterday(ctx: &Context, work: &mut Work, est: Estimate) -> Option<Estimate> {
    let Work {
        points,
        loads,
        values,
        slopes,
        load: load_work,
        adjusted,
        ..
    } = work;
    let profile = ctx.view.profile;
    if !ctx.firing && !above_yesterday(points, profile) {
        return None;
    }
    // `loads` is this evaluation's, filled, when it is as long as the floor and all known.
    let tol = ctx.cfg.profile_same_load;
    let loads = (tol > 0.0
        && ctx.view.loads.is_some()
        && loads.len() == points.len()
        && loads.iter().all(|x| x.is_finite()))
    .then_some(&loads[..]);
    // Alike within a share of the day's range of loads: the floor follows the load over that
    // range (a share of the load itself would be a small one at night).
    let reach = loads.map_or(0.0, |x| {
        let (lo, hi) = load::extent(x);
        tol * (hi - lo)
    });
    adjusted.clear();
    let mut level = 0.0;
    let from_ms = ctx.view.from_ms.saturating_add(DAY_MS);
    let mut day_before = profile.reader();
    for (i, p) in points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.ts_ms >= from_ms)
    {
        let (floor_before, load_before) = day_before.read(p.ts_ms);
        // A busier or quieter hour than yesterday's moves the floor by its load.
        let same_load = |x: &[f64]| load_before.is_some_and(|y| (x[i] - y).abs() <= reach);
        if loads.is_some_and(|x| !same_load(x)) {
            continue;
        }
        if let Some(y) = floor_before {
            adjusted.push(Sample {
                ts_ms: p.ts_ms,
                value: p.value - y,
            });
            level += y;
        }
    }
    if adjusted.len() < MIN_POINTS {
        return None;
    }
    // Yesterday's mean level added back keeps the practical bar relative to the floor.
    let level = level / adjusted.len() as f64;
    adjusted.iter_mut().for_each(|a| a.value += level);
    let mut found = est;
    let ctx = &Context {
        yesterday_level: ctx.cfg.profile_day_rise.then_some(level),
        ..*ctx
    };
    probe!(phase "yday");
    let (_, cond) = judge_points(ctx, adjusted, None, values, slopes, load_work, &mut found);
    probe!("{}", if cond { "FOUND" } else { "NONE" });
    cond.then_some(found)
}

/// What every judgement of one evaluation shares.
#[derive(Clone, Copy)]
struct Context<'a> {
    cfg: &'a DetectorConfig,
    z: f64,
    view: &'a View<'a>,
    lazy: bool,
    firing: bool,
    /// The floor with yesterday's taken out: the daily profile's veto does not apply again.
    differenced: bool,
    /// With `profile_day_rise`, on the floor against yesterday's: yesterday's mean level that
    /// was added back, so that a point less it is today's floor less yesterday's.
    yesterday_level: Option<f64>,
    /// The caller reads the judgement's estimates only where the condition holds (the floor
    /// with the load's part out, the floor against yesterday's): [`judge`] may then end a
    /// judgement at a test that decides the condition before the estimates it would skip.
    cond_only: bool,
}

/// Judges `points` (the usable floor, or it with the load's part out): hinge, gate, the tests
/// and, with their loads, the vetoes.
fn judge_points(
    ctx: &Context,
    points: &[Sample],
    loads: Option<&[f64]>,
    values: &mut Vec<i64>,
    slopes: &mut Slopes,
    load_work: &mut LoadWork,
    est: &mut Estimate,
) -> (Verdict, bool) {
    let (cfg, z, lazy, firing) = (ctx.cfg, ctx.z, ctx.lazy, ctx.firing);
    let Some(hinge) = hinge_fit(points, MIN_POINTS) else {
        probe!("nohinge");
        if !lazy {
            (est.rate, est.rate_low, est.rate_high) = theil_sen(points, z, slopes);
            est.accel_ttl_secs = None;
        }
        return (Verdict::Healthy, false);
    };
    let s = Segment::new(ctx, points, loads, hinge);
    let seg = s.seg;
    // Cheap gate on the least-squares slope (twice as generous as the real test).
    if lazy
        && (s.dur_secs < cfg.min_growth_secs
            || seg.len() < MIN_POINTS
            || !s.practical(2.0 * hinge.slope, 2.0 * hinge.slope * s.dur_secs))
    {
        probe!(
            "cheap {} {:.0}",
            if s.dur_secs < cfg.min_growth_secs || seg.len() < MIN_POINTS {
                "short"
            } else {
                "small"
            },
            s.dur_secs / 60.0
        );
        return (Verdict::Healthy, false);
    }
    // A rise the load explained a moment ago is vetoed again whatever the tests say, unless
    // it may be urgent (at the least-squares rate, a cheap stand-in for the rate's lower bound
    // that the tests compute; twice that cost 10 % more time on a swinging day, same outputs).
    let reuse_ms = cfg.traffic_reuse_ms();
    if lazy
        && !firing
        && cfg.traffic_veto
        && loads.is_some()
        && !s.urgent_traffic(hinge.slope)
        && load::explained_lately(points, &hinge, reuse_ms, load_work)
    {
        probe!("veto lately true");
        est.held = Some(NoLeakReason::ExplainedByLoad);
        return (Verdict::Healthy, false);
    }
    let (verdict, cond) = judge(&s, z, lazy, firing, slopes, values, est);
    if cond && !firing {
        let urgent = est.rate_low.is_some_and(|lo| s.urgent_traffic(lo));
        let vetoed = if cfg.traffic_veto && explained_by_load(&s, load_work, urgent) {
            Some(NoLeakReason::ExplainedByLoad)
        } else if cfg.profile_veto && !ctx.differenced && yesterday_too(&s, ctx.view.profile) {
            Some(NoLeakReason::DailyCycle)
        } else {
            None
        };
        if vetoed.is_some() {
            est.held = vetoed;
            return (Verdict::Healthy, false);
        }
    }
    (verdict, cond)
}

/// With traffic known: whether the rise of the segment could be the load's doing (an
/// increasing function of the load fits the floor about as well as the hinge).
fn explained_by_load(s: &Segment, work: &mut LoadWork, urgent: bool) -> bool {
    s.loads.is_some_and(|loads| {
        let opts = load::VetoOptions {
            keeps: s.cfg.veto_keeps,
            curve: s.cfg.veto_record_curve,
            // A floor with no collection seen (RSS, arenas, post-GC readings alone): a heap
            // with a sawtooth keeps no high-water mark.
            ratchet: if s.cfg.kind == SeriesKind::Heap && !s.collected {
                s.cfg.veto_record_ratchet
            } else {
                0.0
            },
            slow_evidence: if s.slow_floor {
                s.cfg.veto_slow_evidence
            } else {
                0.0
            },
            reuse_ms: s.cfg.traffic_reuse_ms(),
            lag_ms: (s.cfg.veto_lag_secs * 1000.0) as i64,
            urgent,
            level_rise_ms: if s.cfg.kind == SeriesKind::Count {
                (s.cfg.veto_level_rise_secs * 1000.0) as i64
            } else {
                0
            },
            level_rise_decel: s.cfg.warmup_deceleration,
        };
        load::explains(s.points, loads, &s.hinge, &opts, work)
    })
}

/// Whether yesterday's floor rose over the same hours nearly as much: then the rise is the
/// daily cycle's, unless what today adds over yesterday's rise is large enough to matter, or
/// the floor is clearly higher than yesterday at this hour (a leak that began earlier).
fn yesterday_too(s: &Segment, profile: &DailyProfile) -> bool {
    let (start, now) = (s.seg[0], s.now);
    let (Some(y_start), Some(y_now)) = (
        profile.day_before(start.ts_ms),
        profile.day_before(now.ts_ms),
    ) else {
        return false;
    };
    let today = s.hinge.slope * s.dur_secs;
    let excess = today - (y_now - y_start);
    let higher = now.value - y_now;
    let (rise_ratio, _) = s.ratios();
    !(s.practical(excess / s.dur_secs, excess) || higher >= rise_ratio * s.baseline)
}

/// The tests on the rising segment, after the gate.
fn judge(
    s: &Segment,
    z: f64,
    lazy: bool,
    firing: bool,
    slopes: &mut Slopes,
    values: &mut Vec<i64>,
    est: &mut Estimate,
) -> (Verdict, bool) {
    let (cfg, seg, dur_secs) = (s.cfg, s.seg, s.dur_secs);
    let healthy = (Verdict::Healthy, false);
    // Every test below runs on at most TEST_POINTS block medians of the segment: O(1) work
    // after one linear pass, and less noise than single floor points.
    let mut blocks = [(0.0f64, 0.0f64); TEST_POINTS];
    let nb = reduce_blocks(seg, &mut blocks, TEST_POINTS);
    let blocks = &blocks[..nb];
    // A rise that fits "rising, then flat" is held below whatever its rate (the first of the
    // shape tests, on these blocks, at every call of them) unless an alert fires: where only
    // the condition is read, that ends the judgement before Theil–Sen's selections (the same
    // conditions; on the day a leak is judged before it fires, 2 in 3 of the judgements
    // against yesterday end here, design section 98). The diagnostic tags keep their order.
    if s.cond_only && !firing && !probing() && plateau_f(blocks) >= PLATEAU_F {
        return healthy;
    }
    // An evaluation (`lazy`) needs only the lower bound; `analysis()` reports both.
    let bounds = if lazy { Bounds::Low } else { Bounds::Both };
    let (rate, lo, hi) = sen_blocks_at(blocks, Some((z, bounds)), slopes, 2 * s.site);
    (est.rate, est.rate_low, est.rate_high) = (rate, lo, hi);
    est.accel_ttl_secs = if lazy {
        None
    } else {
        s.accel_ttl(blocks, s.cfg.ttl_accel_sigmas)
    };
    let (Some(rate), Some(lo)) = (rate, lo) else {
        probe!("norate");
        return healthy;
    };
    if lo > 0.0 && seg.len() >= MIN_POINTS {
        est.growth_start_ms = Some(seg[0].ts_ms);
    } else {
        probe!("gate");
        return healthy;
    }
    if dur_secs < cfg.min_growth_secs {
        probe!("tooshort");
        est.held = Some(NoLeakReason::TooShort);
        return healthy;
    }
    // Read only for its condition (as the plateau test above), a rise below the practical bar
    // at its lower bound ends here, before the shape tests' selections.
    let rise_at = |lo: f64| {
        s.yesterday_level
            .map_or(lo * dur_secs, |y| (lo * dur_secs).max(blocks[nb - 1].1 - y))
    };
    if s.cond_only && !firing && !probing() && !s.practical(lo, rise_at(lo)) {
        return healthy;
    }
    let continues = rise_continues(blocks, rate, dur_secs, z, firing, slopes);
    // A firing alert has passed every test below once.
    if firing {
        est.growth_stop_ms = levelled_off(s, blocks, rate, z, slopes);
        probe!(
            when est.growth_stop_ms.is_some(),
            "knee {:.0} {:.0}",
            est.growth_stop_ms.map_or(0, |k| k - seg[0].ts_ms) as f64 / 6e4,
            est.growth_stop_ms
                .map_or(0, |k| seg[seg.len() - 1].ts_ms - k) as f64
                / 6e4
        );
        if !continues && est.growth_stop_ms.is_none() {
            // Resolved by the thirds: the knee of the best "rising, then flat" fit says when.
            let (_, knee) = plateau(blocks);
            est.growth_stop_ms = (knee > 0).then(|| {
                seg[0]
                    .ts_ms
                    .saturating_add((blocks[knee].0 * 1000.0) as i64)
            });
        }
        probe!(when !continues, "thirds");
        if continues && est.growth_stop_ms.is_none() || burst_holds(s) {
            probe!(when burst_holds(s), "burst");
            est.growth_stop_ms = None;
            return (Verdict::Leak, true);
        }
        est.held = Some(NoLeakReason::LevelledOff);
        return healthy;
    }
    // A decelerating rise is a warm-up. With traffic known, any decelerating rise (a leak under
    // a floor that falls with the load is judged on the floor with the load's part out); without
    // it only one with no flat baseline before it (a warm-up's tail), since a leak whose rate
    // follows traffic also slows at night.
    // An urgent rise (`urgent_traffic`) is judged as on the series alone.
    let decel = (cfg.traffic_warmup && (s.unmasked || s.loads.is_some()) && !s.urgent_traffic(lo))
        || s.hinge.index == 0;
    let urgent = s.urgent(lo);
    let share = if urgent {
        cfg.warmup_deceleration.min(cfg.urgent_deceleration)
    } else {
        cfg.warmup_deceleration
    };
    let decel = (decel && share > 0.0).then_some(share);
    // Where the load's own curve decelerated over the rise (`warmup_load_decel`), a floor that
    // follows it slows too: there the raw floor's deceleration is no warm-up's mark, and neither
    // the test only traffic adds (after a flat baseline) nor the bound on a slowing rise's total
    // (`warmup_bound`) holds it. Looked at only where one of them would hold the rise.
    // The load itself decelerated over a rise after a flat baseline (`warmup_load_decel`).
    let load_slowed = || s.hinge.index > 0 && s.loads.is_some() && s.load_decelerated();
    let slowed_with_load = || decel.is_some() && load_slowed();
    // An urgent rise (`urgent_step`) is not held by the one-step test: a rise that reaches the
    // limit within `urgent_ttl_ratio` times its age is a danger even if one jump between two
    // levels describes it better than a line (5-min and 1-min points often do).
    let step_test = !(urgent && cfg.urgent_step);
    let mut shaped = continues && shaped_like_a_leak(blocks, decel, step_test, slopes);
    probe!(
        "shape cont {} shaped {} urgent {} decel {:?} hinge {} slowed {}",
        continues,
        shaped,
        urgent,
        decel,
        s.hinge.index,
        slowed_with_load()
    );
    if continues && !shaped && slowed_with_load() {
        shaped = shaped_like_a_leak(blocks, None, step_test, slopes);
    }
    // `warmup_load_out`: a rise with no flat baseline before it (a warm-up begun with the
    // window) that the deceleration test does not hold is judged again with the load's part
    // out of the floor (its response fitted with a time trend): a warm-up's tail that the
    // load's morning ramp lifts.
    if shaped
        && cfg.warmup_load_out
        && s.hinge.index == 0
        && let (Some(share), Some(loads)) = (decel, s.loads)
        && loads.len() == seg.len()
    {
        let beta = trend_free_response(seg, loads);
        probe!("loadout beta {:.3}", beta * mean(loads) / s.baseline);
        if beta > 0.0 {
            let mut lb = [(0.0f64, 0.0f64); TEST_POINTS];
            let nl = reduce_blocks_by(seg, &mut lb, TEST_POINTS, |i, p| p.value - beta * loads[i]);
            if !shaped_like_a_leak(&lb[..nl], Some(share), step_test, slopes) {
                probe!("wu loadout");
                shaped = false;
            }
        }
    }
    // The diagnostic tag (`sigwarm_tally`, section 89): for a rise after a flat baseline that
    // the tests so far leave shaped, the load's rise over the older and newer halves (shares of
    // its range) and whether the floor with the load's part out would hold it.
    #[cfg(feature = "probe")]
    if super::probe::enabled()
        && shaped
        && s.hinge.index > 0
        && let (Some(share), Some(loads)) = (decel, s.loads)
        && loads.len() == s.points.len()
        && let Some((older, newer, range)) = s.load_half_rises()
    {
        let loads = &loads[s.hinge.index..];
        let beta = trend_free_response(seg, loads);
        let mut lb = [(0.0f64, 0.0f64); TEST_POINTS];
        let nl = reduce_blocks_by(seg, &mut lb, TEST_POINTS, |i, p| p.value - beta * loads[i]);
        let n = super::probe::len();
        let held = beta > 0.0 && !shaped_like_a_leak(&lb[..nl], Some(share), step_test, slopes);
        super::probe::truncate(n);
        probe!(
            "lo2 older {:.2} newer {:.2} urgent {} beta {:.3} held {}",
            older / range.max(f64::MIN_POSITIVE),
            newer / range.max(f64::MIN_POSITIVE),
            urgent,
            beta * mean(loads) / s.baseline,
            held
        );
    }
    // An urgent rise is bounded only by `urgent_warmup_bound`, on a 1-min or 5-min series and
    // with no flat baseline before it (a warm-up begun with the process), whether or not the
    // deceleration test runs for it (`urgent_traffic` judges it as on the series alone).
    let bound = if urgent {
        if s.interval_ms >= URGENT_BOUND_INTERVAL_MS && s.hinge.index == 0 {
            cfg.urgent_warmup_bound
        } else {
            0.0
        }
    } else if decel.is_some() {
        cfg.warmup_bound
    } else {
        0.0
    };
    if !shaped || (bound > 0.0 && bounded_warmup(s, blocks, bound, slopes) && !load_slowed()) {
        // The diagnostic tag (`gap_tally`): which warm-up test held a rise that goes on: the
        // deceleration test only the traffic column applies after a flat baseline, the bound
        // on a slowing rise's total, or the tests the series alone applies too.
        probe!(
            when continues,
            "wu {}",
            if shaped {
                "bound"
            } else if decel.is_some()
                && s.hinge.index > 0
                && shaped_like_a_leak(blocks, None, step_test, slopes)
            {
                "traffic"
            } else {
                "shape"
            }
        );
        est.held = Some(if continues {
            NoLeakReason::WarmUp
        } else {
            NoLeakReason::LevelledOff
        });
        return healthy;
    }
    // Practical relevance is judged at the lower confidence bound of the rate, so a rise that
    // is only just as large as a daily cycle's is not enough.
    // Against yesterday, the rise since yesterday at this hour counts, not only the segment's:
    // the difference starts a day in, with the rise of a leak from late yesterday already in it.
    if !s.practical(lo, rise_at(lo)) {
        est.held = Some(NoLeakReason::TooSmall);
        return healthy;
    }
    let sigma = residual_sigma(s.points, &s.hinge, values);
    // An urgent rise need not stand as far out of the noise (`urgent_rise_sigmas`).
    let sigmas = if urgent {
        cfg.min_rise_sigmas.min(cfg.urgent_rise_sigmas)
    } else {
        cfg.min_rise_sigmas
    };
    let cond = lo * dur_secs >= sigmas * sigma;
    // The hold shortens only for growth that left a flat baseline of at least
    // `min_growth_secs` (not a warm-up's tail) and has lasted `min_growth_secs + for_secs`,
    // as long as the normal path needs at least (longer than a deploy's or a cache fill's ramp).
    let flat_secs = seg[0].ts_ms.saturating_sub(s.points[0].ts_ms) as f64 / 1000.0;
    let shortcut =
        flat_secs >= cfg.min_growth_secs && dur_secs >= cfg.min_growth_secs + cfg.for_secs;
    est.strength = if !shortcut { 1.0 } else { s.strength(lo) };
    if cond {
        return (Verdict::Leak, true);
    }
    est.held = Some(NoLeakReason::Noise);
    healthy
}

/// Whether the diagnostic tags are being recorded (feature `probe`): then every test runs in
/// its order, so that the tags say which held a rise.
fn probing() -> bool {
    #[cfg(feature = "probe")]
    {
        super::probe::enabled()
    }
    #[cfg(not(feature = "probe"))]
    {
        false
    }
}

/// Whether the rise still goes on. A new alert needs the newest third of the segment above
/// the middle third by at least half of what the rate predicts (warm-ups and one-off steps
/// flatten out). A firing alert stays firing until the newest third has clearly slowed down
/// (its rate's upper bound below RECENT_SHARE of the segment's) and no longer sits clearly above
/// the middle third: a leak whose rate wavers with traffic must not resolve and flap. A leak
/// that stopped resolves after about 1.3 times as long as it rose (the thirds grow with the
/// segment).
fn rise_continues(
    blocks: &[(f64, f64)],
    rate: f64,
    dur_secs: f64,
    z: f64,
    firing: bool,
    slopes: &mut Vec<i64>,
) -> bool {
    let nb = blocks.len();
    let third = nb / 3;
    let mid = block_median(&blocks[third..2 * third]);
    let new = block_median(&blocks[2 * third..]);
    if firing {
        // Only a firing alert looks at the newest third's own rate.
        let (_, _, recent_hi) = sen_blocks(
            &blocks[(2 * third).min(nb - 3)..],
            Some((z, Bounds::High)),
            slopes,
        );
        return recent_hi.is_none_or(|h| h >= RECENT_SHARE * rate)
            || new - mid > 0.25 * rate * dur_secs / 3.0;
    }
    !(new - mid < 0.5 * rate * dur_secs / 3.0 || new.is_nan() || mid.is_nan())
}

/// For a firing alert: whether the rise has levelled off. The segment fits "rising, then
/// flat" clearly better than a line ([`PLATEAU_F`]), the flat part has lasted at least
/// [`RECENT_SECS`] (a floor window, `stop_pause_ratio` times the rise's longest pause,
/// `stop_min_secs` unless `stop_min_load_only` finds the load did not make the plateau, and
/// the time the rise takes to climb `stop_noise_sigmas` of the flat part's noise),
/// and its rate's upper bound is below [`RECENT_SHARE`] of the segment's: a
/// leak that stopped, or a warm-up that flattened, resolves about that long after the growth
/// stopped, whatever the segment's length. Returns when it levelled off.
fn levelled_off(
    s: &Segment,
    blocks: &[(f64, f64)],
    rate: f64,
    z: f64,
    slopes: &mut Slopes,
) -> Option<i64> {
    let (f, knee) = plateau(blocks);
    if f < PLATEAU_F || knee == 0 {
        probe!("noknee");
        return None;
    }
    let seg = s.seg;
    let knee_ms = seg[0]
        .ts_ms
        .saturating_add((blocks[knee].0 * 1000.0) as i64);
    let now = seg.last()?.ts_ms;
    // A floor is seen flat only after a whole window: under a slow GC, the floor steps up at
    // each collection and is flat between them.
    // A level-off no longer than a pause the rise already took (a leak whose rate follows
    // traffic, a staircase) is not a stop.
    let pause_ms = s.cfg.stop_pause_ratio * longest_pause_ms(seg, knee_ms) as f64;
    let flat_at = seg.partition_point(|p| p.ts_ms < knee_ms);
    let short_ms = ((RECENT_SECS * 1000.0) as i64)
        .max(s.window_ms)
        .max(pause_ms as i64);
    let mut needed_ms = short_ms.max((s.cfg.stop_min_secs * 1000.0) as i64);
    // The minimum flat time is for a plateau the load may have made: on the floor with the
    // load's part out, or where the load's part does not lift the flat part, it is not.
    if now.saturating_sub(knee_ms) < needed_ms
        && s.cfg.stop_min_load_only
        && now.saturating_sub(knee_ms) >= short_ms
    {
        let loose = match s.loads {
            Some(x) => !load_lifts_flat(s, x, flat_at, rate),
            None => s.unmasked,
        };
        if loose {
            needed_ms = short_ms;
        }
    }
    // Nor is it for a rise that ended abruptly (`stop_abrupt_share`): a leak that stops rises
    // at its full pace up to the knee, a count that follows traffic slows down over the
    // evening before it levels off. Nor does `load_hides` hold such a plateau: its response
    // is fitted over the whole window, where the leak and a batch's load rose together.
    let share = s.cfg.stop_abrupt_share;
    let mut abrupt = false;
    if now.saturating_sub(knee_ms) < needed_ms
        && share > 0.0
        && now.saturating_sub(knee_ms) >= short_ms
    {
        let from = knee_ms.saturating_sub((s.cfg.stop_abrupt_secs * 1000.0) as i64);
        let before = &seg[seg.partition_point(|p| p.ts_ms < from)..flat_at];
        let (_, lo, _) = sen(before, TEST_POINTS, Some((z, Bounds::Low)), slopes);
        if lo.is_some_and(|lo| lo >= share * rate) {
            probe!("abrupt");
            needed_ms = short_ms;
            abrupt = true;
        }
    }
    if now.saturating_sub(knee_ms) < needed_ms {
        probe!(
            "short_{}",
            if needed_ms > short_ms {
                "stopmin"
            } else if short_ms == pause_ms as i64 {
                "pause"
            } else if short_ms == s.window_ms {
                "window"
            } else {
                "recent"
            }
        );
        return None;
    }
    let flat = &seg[flat_at..];
    if flat.len() < MIN_POINTS {
        probe!("fewflat");
        return None;
    }
    let flat_secs = now.saturating_sub(knee_ms) as f64 / 1000.0;
    // The level must have held for as long as the rise takes to climb a few of the flat
    // part's own noise: a slow leak under noise has flat-looking stretches.
    let k = s.cfg.stop_noise_sigmas;
    if k > 0.0 && flat_secs * rate < k * flat_sigma(flat, slopes) {
        probe!("noise");
        return None;
    }
    if !abrupt
        && s.loads
            .is_some_and(|x| load_hides(s.points, x, flat.len(), rate * flat_secs))
    {
        probe!("loadhides");
        return None;
    }
    let (_, _, hi) = sen_at(flat, Some((z, Bounds::High)), slopes, 2 * s.site + 1);
    // With traffic known, a load that stayed at least as high over the flat part as over the
    // rise leaves no evening for a leak whose rate follows traffic to slow down in: a flat
    // part twice as long as needed is judged with a looser rate bound (`stop_steady_load`).
    let steady = s.cfg.stop_steady_load;
    let share = match s.loads {
        Some(x) if steady > 0.0 && flat_secs * 1000.0 >= STEADY_FLAT_RATIO * needed_ms as f64 => {
            let (rise, flat) = (s.hinge.index, s.hinge.index + flat_at);
            let n = x.len().min(s.points.len());
            if rise < flat && flat < n && mean(&x[flat..n]) >= mean(&x[rise..flat]) {
                steady.max(RECENT_SHARE)
            } else {
                RECENT_SHARE
            }
        }
        _ => RECENT_SHARE,
    };
    let level = hi.is_some_and(|h| h < share * rate);
    if !level {
        probe!("bound {:.2}", hi.unwrap_or(f64::NAN) / rate);
    }
    level.then_some(knee_ms)
}

/// With traffic known (`stop_load_out`), for a firing alert whose raw floor still rises: when
/// the floor with the load's part out levelled off ([`levelled_off`] on it), provided the raw
/// floor rose over that flat part while its load rose (the load hid the plateau; where the raw
/// floor is flat the raw plateau test decides, with `stop_min_secs` for a plateau the load
/// made) and the load moved before the growth by at least [`PRE_RANGE_SHARE`] of its range
/// over the flat part. The load's part is the floor's linear response to its load before the
/// growth began: one fitted over the growth (`load::unmask`'s isotonic fit) takes a leak that
/// rises with the day's load for the load's doing, and resolved such leaks while they grew.
fn levelled_off_load_out(
    ctx: &Context,
    points: &[Sample],
    loads: &[f64],
    start: Option<i64>,
    slopes: &mut Slopes,
    adjusted: &mut Vec<Sample>,
) -> Option<i64> {
    let (cfg, start) = (ctx.cfg, start?);
    let hold = cfg.stop_burst_hold;
    if hold > 0.0 && load::burst_hold(points, loads, start, ctx.view.window_ms, hold) {
        return None;
    }
    let pre = points.partition_point(|p| p.ts_ms < start);
    if pre < 2 * MIN_POINTS || loads.len() != points.len() {
        return None;
    }
    let beta = load::level_response(&points[..pre], &loads[..pre])?.max(0.0);
    let xm = mean(loads);
    adjusted.clear();
    adjusted.extend(points.iter().zip(loads).map(|(p, &x)| Sample {
        ts_ms: p.ts_ms,
        value: p.value - beta * (x - xm),
    }));
    let hinge = hinge_fit(adjusted, MIN_POINTS)?;
    let mut s = Segment::new(ctx, adjusted, None, hinge);
    s.site = LOAD_OUT_SITE;
    if s.seg.len() < MIN_POINTS || s.dur_secs < cfg.min_growth_secs {
        return None;
    }
    let mut blocks = [(0.0f64, 0.0f64); TEST_POINTS];
    let nb = reduce_blocks(s.seg, &mut blocks, TEST_POINTS);
    let (rate, lo, _) = sen_blocks_at(
        &blocks[..nb],
        Some((ctx.z, Bounds::Low)),
        slopes,
        2 * s.site,
    );
    let rate = rate.filter(|_| lo.is_some_and(|lo| lo > 0.0))?;
    let knee = levelled_off(&s, &blocks[..nb], rate, ctx.z, slopes)?;
    let at = points.partition_point(|p| p.ts_ms < knee);
    let half = (points.len() - at) / 2;
    let load_rose = half > 0 && mean(&loads[at + half..]) > mean(&loads[at..at + half]);
    let raw_rose = prom::deriv(&points[at..]).is_some_and(|d| d >= LIFT_SHARE * rate);
    let ((plo, phi), (flo, fhi)) = (load::extent(&loads[..pre]), load::extent(&loads[at..]));
    (load_rose && raw_rose && phi - plo >= PRE_RANGE_SHARE * (fhi - flo)).then_some(knee)
}

/// With traffic known (`stop_burst_hold`): whether a firing alert's level-off may be an idle
/// spell of a recurring batch job whose runs make the leak ([`load::burst_hold`]).
fn burst_holds(s: &Segment) -> bool {
    let hold = s.cfg.stop_burst_hold;
    s.loads.is_some_and(|x| {
        hold > 0.0 && load::burst_hold(s.points, x, s.seg[0].ts_ms, s.window_ms, hold)
    })
}

/// Robust standard deviation (scaled median absolute deviation) of the values of `flat`.
fn flat_sigma(flat: &[Sample], buf: &mut Vec<i64>) -> f64 {
    buf.clear();
    buf.extend(flat.iter().map(|p| order_key(p.value)));
    let m = median(buf);
    buf.clear();
    buf.extend(flat.iter().map(|p| order_key((p.value - m).abs())));
    1.4826 * median(buf)
}

/// The longest time the rising part of `seg` (its points before `knee_ms`) went without a new
/// high: the longest pause the growth has taken so far.
fn longest_pause_ms(seg: &[Sample], knee_ms: i64) -> i64 {
    let mut high = f64::NEG_INFINITY;
    let mut since = seg.first().map_or(0, |p| p.ts_ms);
    let mut longest = 0;
    for p in seg.iter().take_while(|p| p.ts_ms < knee_ms) {
        if p.value > high {
            high = p.value;
            longest = longest.max(p.ts_ms.saturating_sub(since));
            since = p.ts_ms;
        }
    }
    longest
}

/// With traffic known: whether the load over the newest `k` points fell enough below the load
/// before them that a flat floor there may hide growth: the floor's least-squares response to
/// load (crude: it also takes in any trend the load shares) times that fall reaches
/// [`RECENT_SHARE`] of the `growth` the segment's rate would have added meanwhile.
fn load_hides(points: &[Sample], loads: &[f64], k: usize, growth: f64) -> bool {
    let n = loads.len();
    if 2 * k > n || points.len() != n {
        return false;
    }
    let fall = mean(&loads[n - 2 * k..n - k]) - mean(&loads[n - k..]);
    if fall <= 0.0 {
        return false;
    }
    let beta = load::level_response(points, loads).map_or(0.0, |b| b.max(0.0));
    beta * fall >= RECENT_SHARE * growth
}

/// With traffic known: whether the floor of the flat part `seg[at..]`, with the load's part
/// taken out, still rises at [`LIFT_SHARE`] of `rate` (least squares): a count whose in-flight
/// part falls with the evening's load looks flat while its leak goes on. The load's part is
/// the floor's response to its load fitted with a time trend over the segment, so that the
/// leak's own trend is not taken for a response to a load that fell meanwhile.
fn load_lifts_flat(s: &Segment, loads: &[f64], at: usize, rate: f64) -> bool {
    let seg = s.seg;
    let off = s.hinge.index;
    let beta = trend_free_response(seg, &loads[off..]);
    let loads = &loads[off..];
    let n = seg.len().min(loads.len());
    if at + 2 > n {
        return false;
    }
    // The least-squares slope of the flat part's floor with the load's part out.
    let flat: Vec<Sample> = seg[at..n]
        .iter()
        .zip(&loads[at..n])
        .map(|(p, &x)| Sample {
            ts_ms: p.ts_ms,
            value: p.value - beta * x,
        })
        .collect();
    prom::deriv(&flat).is_some_and(|slope| slope >= LIFT_SHARE * rate)
}

/// The floor's least-squares response to its load with a time trend fitted alongside, at
/// least 0.
fn trend_free_response(points: &[Sample], loads: &[f64]) -> f64 {
    let n = points.len().min(loads.len());
    if n < 3 {
        return 0.0;
    }
    let t0 = points[0].ts_ms;
    let secs = |p: &Sample| p.ts_ms.saturating_sub(t0) as f64 / 1000.0;
    let (mut tm, mut xm, mut ym) = (0.0, 0.0, 0.0);
    for (p, &x) in points[..n].iter().zip(loads) {
        (tm, xm, ym) = (tm + secs(p), xm + x, ym + p.value);
    }
    let nf = n as f64;
    (tm, xm, ym) = (tm / nf, xm / nf, ym / nf);
    let (mut stt, mut sxx, mut sxt, mut sxy, mut sty) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (p, &x) in points[..n].iter().zip(loads) {
        let (dt, dx, dy) = (secs(p) - tm, x - xm, p.value - ym);
        (stt, sxx, sxt) = (stt + dt * dt, sxx + dx * dx, sxt + dx * dt);
        (sxy, sty) = (sxy + dx * dy, sty + dt * dy);
    }
    let det = sxx * stt - sxt * sxt;
    if det > 0.0 {
        ((sxy * stt - sty * sxt) / det).max(0.0)
    } else {
        0.0
    }
}

/// The shape tests of a rise that still goes on: not a ramp that levelled off, not one step,
/// and, with `decel`, not a decelerating rise (a warm-up).
fn shaped_like_a_leak(
    blocks: &[(f64, f64)],
    decel: Option<f64>,
    step_test: bool,
    slopes: &mut Vec<i64>,
) -> bool {
    // A rise that has levelled off (the end of a deploy's or a cache fill's ramp, a warm-up)
    // fits "rising, then flat" better than a line; judged on every block, not on the newest
    // third's own noisy slope.
    if plateau_f(blocks) >= PLATEAU_F {
        probe!("wu plateau");
        return false;
    }
    // A deploy step, a cache fill or a warm-up is one jump between two levels; a leak is
    // better described by a line than by any single jump (not asked with `step_test` off).
    if step_test && !line_beats_step(blocks) {
        probe!("wu step");
        return false;
    }
    // A decelerating rise is a warm-up (the tail of one since start, or a cache warming after
    // a flat spell) until it proves it does not slow down.
    let Some(decel) = decel else {
        return true;
    };
    let half = blocks.len() / 2;
    let first = sen_blocks(&blocks[..half], None, slopes).0;
    let second = sen_blocks(&blocks[half..], None, slopes).0;
    let steady = matches!((first, second), (Some(a), Some(b)) if b >= decel * a);
    probe!(when !steady, "wu decel");
    steady
}

/// `urgent_warmup_bound` runs on series sampled this often or less (ms): 1-min and 5-min
/// scrapes.
const URGENT_BOUND_INTERVAL_MS: f64 = 30_000.0;

/// `warmup_peak_bound`'s largest newest-to-middle third rate ratio (section 74).
const PEAK_PACE: f64 = 0.7;

/// `warmup_bound`: whether a rise that decelerates from its first third to its newest ends, at
/// a geometric slowdown at that pace, below `warmup_bound` of the baseline (a cache's size is
/// bounded). The ratio q of the thirds' rates spans two thirds, so each third rises q = √ratio
/// times the one before, and what is left after the newest third is its rise × q / (1 − q).
/// A rise with no flat baseline before it (it began with the window: a warm-up starts with the
/// process), for its first `warmup_start_secs`, is bounded by `warmup_start_bound` where that
/// is larger (only where `warmup_bound` runs). With `warmup_peak_bound`, a rise whose middle
/// third is its fastest is projected from the middle to the newest third, below that bound.
fn bounded_warmup(s: &Segment, blocks: &[(f64, f64)], bound: f64, slopes: &mut Vec<i64>) -> bool {
    let cfg = s.cfg;
    let bound = if s.hinge.index == 0 && bound > 0.0 && s.dur_secs <= cfg.warmup_start_secs {
        bound.max(cfg.warmup_start_bound)
    } else {
        bound
    };
    let nb = blocks.len();
    let third = nb / 3;
    if bound <= 0.0 || third < 3 {
        return false;
    }
    let (Some(first), Some(newest)) = (
        sen_blocks(&blocks[..third], None, slopes).0,
        sen_blocks(&blocks[nb - third..], None, slopes).0,
    ) else {
        return false;
    };
    // `warmup_peak_bound`: a rise that has not slowed since its first third (the hinge put
    // before the warm-up began, its first third flat) but whose newest third climbs at most
    // `PEAK_PACE` times its middle third's rate, from a middle third faster than the first:
    // the same projection at the middle-to-newest pace (one third apart, so q is the ratio).
    let peak = cfg.warmup_peak_bound;
    if peak > 0.0 && newest >= first {
        let mid = sen_blocks(&blocks[third..nb - third], None, slopes).0;
        if let Some(mid) = mid
            && mid > first
            && newest > 0.0
            && newest <= PEAK_PACE * mid
        {
            let q = newest / mid;
            let last = newest * (blocks[nb - 1].0 - blocks[nb - third].0);
            let so_far = blocks[nb - 1].1 - blocks[0].1;
            probe!(
                "peak q {:.2} sofar {:.3} rest {:.3}",
                q,
                so_far / s.baseline,
                last * q / (1.0 - q) / s.baseline
            );
            return so_far + last * q / (1.0 - q) < peak * s.baseline;
        }
    }
    probe!(
        "bnd nb {} first {:.3} newest {:.3}",
        nb,
        first * 3600.0 / s.baseline,
        newest * 3600.0 / s.baseline
    );
    if first <= 0.0 || newest >= first {
        return false;
    }
    let q = (newest / first).max(0.0).sqrt();
    let last = newest * (blocks[nb - 1].0 - blocks[nb - third].0);
    let so_far = blocks[nb - 1].1 - blocks[0].1;
    probe!(
        "bnd q {:.2} sofar {:.3} rest {:.3} bound {:.2}",
        q,
        so_far / s.baseline,
        last * q / (1.0 - q) / s.baseline,
        bound
    );
    so_far + last * q / (1.0 - q) < bound * s.baseline
}

#[cfg(test)]
#[path = "assess_tests.rs"]
mod tests;
