//! The traffic covariate in an evaluation: whether a rise the floor tests found could be the
//! load's doing. Only ever a veto: with traffic known, the detector declares no leak the load
//! can explain, and never one it would not declare without traffic.
//!
//! A floor that follows load (live per-request data, traffic-sized caches) is some increasing
//! function of the load, a few minutes late. Two cases:
//! - **Loads seen before the growth began.** Any increasing function is allowed: the isotonic
//!   regression of the floor on the (lagged) load (pool-adjacent-violators), tried at a few
//!   lags, alone and with the "flat, then rising" hinge added (backfitting). If the hinge
//!   hardly improves on the load alone (keeps `veto_keeps` of its squared error), the rise is
//!   the load's. A floor that rises and falls with traffic leaves the hinge nothing to add; a
//!   leak keeps rising whatever the load does, which no function of the load follows.
//! - **Record loads** (higher than any before the growth began): an increasing function could
//!   bend exactly where the growth began, so the load's share is bounded instead by a linear
//!   response fitted before the growth (at its upper confidence bound), with room for a convex
//!   bend (`veto_record_curve`). A floor that stayed flat while the load varied before cannot blame a
//!   rise on more load; one whose response was never seen (the first morning's ramp from the
//!   night low) waits until the load turns. Under a floor seen only at slow collections the
//!   bound is too wide to say either: there a load that moved before with no response of the
//!   floor cannot take the blame (`veto_slow_evidence`).
//!
//! Cost: O(n log n) per lag, and only on the evaluations where every other test already holds.

use super::stats::{Hinge, hinge_fit, mean, order_key};
use crate::series::Sample;

/// A segment reaches record loads when its load exceeds the range seen before it by this share
/// of that range.
const RECORD: f64 = 0.1;
/// Rounds of backfitting the isotonic function and the hinge's rate.
const BACKFIT_ROUNDS: usize = 4;
/// Most points the load fits of a veto look at.
const MODEL_POINTS: usize = 96;
/// Points (5 min buckets: 2 h) over which a fall of the load is looked for.
const FALL_POINTS: usize = 24;
/// A fall of the load by this share of its range can hide growth under a floor that follows it.
const FALL_SHARE: f64 = 0.1;
/// Share of the floor's variance an increasing function of the load must explain for the
/// floor to be judged with the load's part out.
const FOLLOWS: f64 = 0.5;
/// A floor window at least this long (a day less an hour, for gaps and the floor's placement
/// inside its buckets) holds a full daily swing of the load (`unmask_full_day`).
pub(super) const FULL_DAY_MS: i64 = 23 * 3_600_000;
/// Lags tried, in floor points (5 min buckets: up to 30 min).
const LAGS: [usize; 4] = [0, 2, 4, 6];
/// Most floor points the window may have moved by for [`sort_by_load`] to patch its last order.
const PATCH_POINTS: usize = 8;

/// Reusable buffers of the isotonic fits.
#[derive(Debug, Clone, Default)]
pub(super) struct LoadWork {
    pairs: Vec<(f64, f64, f64)>,
    /// [`pava_sse`]'s pooled blocks: sum, count and mean.
    blocks: Vec<(f64, f64, f64)>,
    fitted: Vec<f64>,
    resid: Vec<Sample>,
    order: Vec<u32>,
    keys: Vec<(i64, u32)>,
    /// The loads `keys` were last sorted for ([`sort_by_load`]).
    sorted: Vec<f64>,
    /// [`diff_keys`]' new index of each of the last sort's points (`u32::MAX`: gone).
    remap: Vec<u32>,
    sub_points: Vec<Sample>,
    sub_loads: Vec<f64>,
    /// The loads' running maximum (`veto_record_ratchet`).
    running_max: Vec<f64>,
    /// The last verdict: the growth start it judged, when, and whether the load explained it.
    last: Option<(i64, i64, bool)>,
    /// When the floor with the load's part out last showed no hidden leak.
    pub(super) quiet_at: Option<i64>,
}

/// The verdicts [`LoadWork`] keeps for later evaluations to reuse.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoadCache {
    last: Option<(i64, i64, bool)>,
    quiet_at: Option<i64>,
}

impl LoadWork {
    /// The verdicts kept for reuse, to put back ([`LoadWork::restore`]) after a judgement that
    /// must leave them as they were.
    pub(super) fn cache(&self) -> LoadCache {
        LoadCache {
            last: self.last,
            quiet_at: self.quiet_at,
        }
    }

    /// Puts back verdicts taken with [`LoadWork::cache`].
    pub(super) fn restore(&mut self, c: LoadCache) {
        self.last = c.last;
        self.quiet_at = c.quiet_at;
    }

    /// Buffers for `capacity` points.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        LoadWork {
            pairs: Vec::with_capacity(capacity),
            blocks: Vec::with_capacity(capacity),
            fitted: Vec::with_capacity(capacity),
            resid: Vec::with_capacity(capacity),
            order: Vec::with_capacity(capacity),
            keys: Vec::with_capacity(capacity),
            sorted: Vec::with_capacity(capacity),
            remap: Vec::with_capacity(capacity),
            sub_points: Vec::with_capacity(MODEL_POINTS),
            sub_loads: Vec::with_capacity(MODEL_POINTS),
            running_max: Vec::new(),
            last: None,
            quiet_at: None,
        }
    }
}

/// Whether an increasing function of the load, at some lag, explains the floor so well that
/// adding the hinge `h` (growth from its start on) hardly improves the fit: then the rise may
/// be the load's, and it is not declared a leak.
pub(super) fn explains(
    points: &[Sample],
    loads: &[f64],
    h: &Hinge,
    opts: &VetoOptions,
    work: &mut LoadWork,
) -> bool {
    let n = points.len();
    if loads.len() != n || n < 8 {
        return false;
    }
    if let Some(explained) = reused(points, h, opts.reuse_ms, work).filter(|_| !opts.urgent) {
        #[cfg(feature = "probe")]
        super::probe::tag(&format!("veto reuse {explained}"));
        return explained;
    }
    let record = h.index > 0 && record_load(loads, h.index);
    let explained = if record {
        (opts.curve > 0.0 && !beyond_linear(points, loads, h, opts))
            || (opts.ratchet > 0.0
                && !opts.urgent
                && ratchet_explains(points, loads, h, opts.ratchet, work))
    } else {
        isotonic_explains(points, loads, h, opts.keeps, work)
    };
    #[cfg(feature = "probe")]
    super::probe::tag(&format!(
        "veto {} {explained}",
        if record { "record" } else { "iso" }
    ));
    if !opts.urgent {
        work.last = Some((points[h.index].ts_ms, points[n - 1].ts_ms, explained));
    }
    explained
}

/// Whether [`explains`] would reuse a verdict that the load explains the rise from `h` on (so
/// that an evaluation can skip the tests the veto would overrule).
pub(super) fn explained_lately(
    points: &[Sample],
    h: &Hinge,
    reuse_ms: i64,
    work: &LoadWork,
) -> bool {
    reused(points, h, reuse_ms, work) == Some(true)
}

/// A floor point more hardly moves the veto's verdict, and the isotonic fits are the costliest
/// part of an evaluation with traffic: the verdict on the same growth start, when it is recent
/// enough.
fn reused(points: &[Sample], h: &Hinge, reuse_ms: i64, work: &LoadWork) -> Option<bool> {
    let (start, now) = (points[h.index].ts_ms, points[points.len() - 1].ts_ms);
    work.last
        .filter(|&(s, at, _)| {
            reuse_ms > 0 && s == start && (0..=reuse_ms).contains(&now.saturating_sub(at))
        })
        .map(|l| l.2)
}

/// The load veto's options (see `DetectorConfig`).
pub(super) struct VetoOptions {
    /// `veto_keeps`.
    pub(super) keeps: f64,
    /// `veto_record_curve`.
    pub(super) curve: f64,
    /// `veto_record_ratchet`.
    pub(super) ratchet: f64,
    /// `veto_slow_evidence` under a floor set by slow collections, else 0.
    pub(super) slow_evidence: f64,
    /// `traffic_reuse_secs`, in ms.
    pub(super) reuse_ms: i64,
    /// `veto_lag_secs`, in ms (0: off).
    pub(super) lag_ms: i64,
    /// The rise reaches the limit soon (`urgent_traffic`): at record loads the load is blamed
    /// only where the floor showed a response to it before the growth (its linear response's
    /// lower bound above zero); the verdict is neither reused nor kept for reuse.
    pub(super) urgent: bool,
    /// `veto_level_rise_secs`, in ms, for a count; 0 otherwise.
    pub(super) level_rise_ms: i64,
    /// `warmup_deceleration`: how much the floor may slow over that stretch.
    pub(super) level_rise_decel: f64,
}

/// [`explains`] at loads seen before the growth: the isotonic fits.
fn isotonic_explains(
    points: &[Sample],
    loads: &[f64],
    h: &Hinge,
    keeps: f64,
    work: &mut LoadWork,
) -> bool {
    let n = points.len();
    // At most MODEL_POINTS evenly spaced points: the floor points are strongly autocorrelated,
    // and the fits below are the costliest part of an evaluation with traffic.
    let stride = n.div_ceil(MODEL_POINTS).max(1);
    let (mut sp, mut sx) = (
        std::mem::take(&mut work.sub_points),
        std::mem::take(&mut work.sub_loads),
    );
    sp.clear();
    sx.clear();
    sp.extend(points.iter().step_by(stride));
    sx.extend(loads.iter().step_by(stride));
    let m = sp.len();
    // The lag whose load alone fits best, and how much a hinge adds there: the tests' hinge,
    // or the one that best fits what the load leaves (a leak that began while the load fell
    // hides under a rise the load explains). The hinges (ten isotonic fits each) are fitted at
    // the best lag only; lags that coincide once subsampled are fitted once.
    let mut best: Option<(f64, usize)> = None;
    let mut prev = usize::MAX;
    for lag in LAGS.into_iter().map(|l| l / stride) {
        if lag == prev || lag + 8 > m {
            continue;
        }
        prev = lag;
        sort_by_load(&sx[..m - lag], work);
        let alone = residuals(&sp[lag..], &sx[..m - lag], work);
        if best.is_none_or(|(b, _)| alone < b) {
            best = Some((alone, lag));
        }
    }
    let explained = best.is_some_and(|(alone, lag)| {
        let (p, x) = (&sp[lag..], &sx[..m - lag]);
        sort_by_load(x, work);
        residuals(p, x, work);
        let mut with_hinge = backfit(p, x, points[h.index].ts_ms, work);
        if let Some(r) = hinge_fit(&work.resid, 6) {
            with_hinge = with_hinge.min(backfit(p, x, work.resid[r.index].ts_ms, work));
        }
        with_hinge >= keeps * alone
    });
    (work.sub_points, work.sub_loads) = (sp, sx);
    explained
}

/// [`explains`] at record loads with `veto_record_ratchet`: the isotonic fits on the load's
/// running maximum over the window (a floor that keeps the highest load's level).
fn ratchet_explains(
    points: &[Sample],
    loads: &[f64],
    h: &Hinge,
    keeps: f64,
    work: &mut LoadWork,
) -> bool {
    let mut top = std::mem::take(&mut work.running_max);
    top.clear();
    let mut m = f64::NEG_INFINITY;
    top.extend(loads.iter().map(|&x| {
        m = m.max(x);
        m
    }));
    let explained = isotonic_explains(points, &top, h, keeps, work);
    work.running_max = top;
    explained
}

/// Whether the load fell over the last [`FALL_POINTS`] points, by [`FALL_SHARE`] of its range
/// over all of them: when a floor that follows load can hide growth.
pub(super) fn fell_recently(loads: &[f64]) -> bool {
    let n = loads.len();
    if n < 2 * FALL_POINTS {
        return false;
    }
    let (lo, hi) = extent(loads);
    let recent = &loads[n - FALL_POINTS..];
    let before = &loads[n - 2 * FALL_POINTS..n - FALL_POINTS];
    mean(before) - mean(recent) > FALL_SHARE * (hi - lo)
}

/// The floor with the load's part taken out into `out`: what an increasing function of the
/// load leaves (the isotonic residuals, at the floor's mean level). False (nothing to judge)
/// unless the floor follows its load ([`FOLLOWS`]). With `moves`, the isotonic part is scaled
/// by the share of the levels' linear response that the moves confirm ([`move_response_from`]),
/// and nothing is unmasked when the floor's moves do not follow the load's at all.
pub(super) fn unmask(
    points: &[Sample],
    loads: &[f64],
    moves: bool,
    work: &mut LoadWork,
    out: &mut Vec<Sample>,
) -> bool {
    if points.len() != loads.len() || points.len() < 8 {
        return false;
    }
    sort_by_load(loads, work);
    fit_residuals(points, loads, work);
    // The floor's mean level and spread, and the sums of its linear response to the load
    // ([`level_response`]): the same sums in the same order, several to a loop, so that
    // their chains of additions run side by side ([`first_sums`]).
    let nf = points.len() as f64;
    let s = first_sums(points, loads, &work.pairs, &work.fitted);
    let (values, xs, sse) = (s.values, s.xs, s.sse);
    let (level, xm) = (values / nf, xs / nf);
    let (mut sst, mut sxx, mut sxy) = (-0.0, 0.0, 0.0);
    for (p, &x) in points.iter().zip(loads) {
        sst += (p.value - level).powi(2);
        sxx += (x - xm) * (x - xm);
        sxy += (x - xm) * (p.value - level);
    }
    // Only a floor that follows its load to a large extent can hide growth under it.
    if !(sst > 0.0 && sse <= (1.0 - FOLLOWS) * sst) {
        return false;
    }
    out.clear();
    // With `moves`, the isotonic part is shrunk by how much of the levels' response the
    // moves confirm: a rise that happened once while the load rose counts in the levels only.
    // A floor seen following its load down at the first fall of the window is trusted to:
    // growth that starts later, as the load falls, must not be taken out with the load.
    let share = if moves {
        match (
            move_response_from(points, loads, s.moves),
            (sxx > 0.0).then(|| sxy / sxx),
        ) {
            (Some(m), Some(l)) if l > 0.0 && !followed_fall_within(points, loads, l, s.extent) => {
                (m / l).clamp(0.0, 1.0)
            }
            _ => 1.0,
        }
    } else {
        1.0
    };
    if share <= 0.0 {
        return false;
    }
    let y0 = points[0].value;
    out.extend(work.resid.iter().zip(points).map(|(r, p)| {
        let fitted = p.value - y0 - r.value;
        Sample {
            ts_ms: r.ts_ms,
            value: p.value - y0 - share * fitted + level,
        }
    }));
    true
}

/// [`unmask`]'s first sums over the window, each in its order from its start as where it is
/// defined, in one loop: the floor's and the loads' sums, the isotonic fit's squared error
/// ([`fit_sse`], in load order), the loads' extent (`followed_first_fall`'s) and the moves'
/// sums (`move_response`'s first pass; nearly every unmasking reaches it). Each is a chain
/// of hundreds of dependent additions (or minimums); side by side they take the time of one.
struct FirstSums {
    values: f64,
    xs: f64,
    sse: f64,
    extent: (f64, f64),
    moves: (f64, f64),
}

fn first_sums(
    points: &[Sample],
    loads: &[f64],
    pairs: &[(f64, f64, f64)],
    fitted: &[f64],
) -> FirstSums {
    let (mut values, mut xs, mut sse) = (-0.0, -0.0, -0.0);
    let (mut msx, mut msy) = (0.0, 0.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, ((p, &x), (q, f))) in points
        .iter()
        .zip(loads)
        .zip(pairs.iter().zip(fitted))
        .enumerate()
    {
        values += p.value;
        xs += x;
        sse += sq_err(q, 0.0, *f);
        (lo, hi) = (lo.min(x), hi.max(x));
        if i >= MOVE_STEP {
            msx += x - loads[i - MOVE_STEP];
            msy += p.value - points[i - MOVE_STEP].value;
        }
    }
    FirstSums {
        values,
        xs,
        sse,
        extent: (lo, hi),
        moves: (msx, msy),
    }
}

/// The floor's linear response to its load's level (least squares). None when the load never
/// moved.
pub(super) fn level_response(points: &[Sample], loads: &[f64]) -> Option<f64> {
    let n = points.len().min(loads.len()) as f64;
    let xm = loads.iter().sum::<f64>() / n;
    let ym = points.iter().map(|p| p.value).sum::<f64>() / n;
    let (sxx, sxy) = points
        .iter()
        .zip(loads)
        .fold((0.0, 0.0), |(a, b), (p, &x)| {
            (a + (x - xm) * (x - xm), b + (x - xm) * (p.value - ym))
        });
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The share of the load's range that its first fall in the window covers for
/// `followed_first_fall`.
const FIRST_FALL: f64 = 0.05;

/// Whether the floor fell with its load at the load's first fall in the window (its moves
/// over [`MOVE_STEP`] points while the load fell, until the load fell by [`FIRST_FALL`] of
/// its range), by at least half the levels' response `level`. None of that fall: false.
#[cfg(test)]
fn followed_first_fall(points: &[Sample], loads: &[f64], level: f64) -> bool {
    let n = points.len().min(loads.len());
    followed_fall_within(points, loads, level, extent(&loads[..n]))
}

/// `followed_first_fall` with the loads' extent given (`unmask` sums it beside its own).
fn followed_fall_within(
    points: &[Sample],
    loads: &[f64],
    level: f64,
    (lo, hi): (f64, f64),
) -> bool {
    let n = points.len().min(loads.len());
    let (mut fell, mut sxx, mut sxy) = (0.0, 0.0, 0.0);
    for i in MOVE_STEP..n {
        let dx = loads[i] - loads[i - MOVE_STEP];
        if dx >= 0.0 {
            continue;
        }
        sxx += dx * dx;
        sxy += dx * (points[i].value - points[i - MOVE_STEP].value);
        fell -= dx / MOVE_STEP as f64;
        if fell >= FIRST_FALL * (hi - lo) {
            return sxy >= 0.5 * level * sxx;
        }
    }
    false
}

/// Floor points between the moves `move_response` regresses (5 min buckets: 20 min; 1, 2 and 6 measured).
const MOVE_STEP: usize = 4;

/// The floor's response to its load, fitted on moves: least squares of the floor's change on
/// the load's change over [`MOVE_STEP`] points, with an intercept. Growth at a constant rate
/// goes to the intercept, and a rise that happened once while the load rose is weighed against
/// every later fall of the load the floor did not follow. None when the load never moved.
#[cfg(test)]
fn move_response(points: &[Sample], loads: &[f64]) -> Option<f64> {
    let sums = moves(points, loads).fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    move_response_from(points, loads, sums)
}

/// The moves `move_response` regresses: the load's and the floor's changes over
/// [`MOVE_STEP`] points, in time order.
fn moves<'a>(points: &'a [Sample], loads: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    let n = points.len().min(loads.len());
    (MOVE_STEP.min(n)..n).map(|i| {
        (
            loads[i] - loads[i - MOVE_STEP],
            points[i].value - points[i - MOVE_STEP].value,
        )
    })
}

/// `move_response` with the moves' sums given (its first pass: `unmask` sums them beside its
/// own). None when the load never moved or there are too few points.
fn move_response_from(points: &[Sample], loads: &[f64], (sx, sy): (f64, f64)) -> Option<f64> {
    let n = points.len().min(loads.len());
    if n <= MOVE_STEP + 2 {
        return None;
    }
    let m = (n - MOVE_STEP) as f64;
    let (xm, ym) = (sx / m, sy / m);
    let (sxx, sxy) = moves(points, loads).fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - xm) * (x - xm), b + (x - xm) * (y - ym))
    });
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The lowest and highest of `v`.
pub(super) fn extent(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// Whether the segment from `index` on reaches loads never seen before it (by more than
/// [`RECORD`] of the range seen before): where an increasing function of the load could bend
/// exactly when growth began.
fn record_load(loads: &[f64], index: usize) -> bool {
    let (lo, hi) = extent(&loads[..index]);
    let top = loads[index..]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    index == 0 || top > hi + RECORD * (hi - lo)
}

/// At record loads: whether the rise since the hinge exceeds what the load can explain by a
/// linear response fitted before the segment (at its upper confidence bound), with room for a
/// convex bend (`veto_record_curve`). Under a floor set by slow collections, true when the load
/// before moved over much of its rise since with no response of the floor (`veto_slow_evidence`).
/// False when the points before the segment cannot bound the response
/// (too few, or a load that hardly moved): then the rise may be the load's, unless it is urgent.
fn beyond_linear(points: &[Sample], loads: &[f64], h: &Hinge, opts: &VetoOptions) -> bool {
    if rose_at_level_load(points, loads, h, opts.level_rise_ms, opts.level_rise_decel) {
        return true;
    }
    let pre = h.index;
    if pre < 6 {
        return opts.urgent;
    }
    let (x, y) = (&loads[..pre], &points[..pre]);
    let nf = pre as f64;
    let xm = x.iter().sum::<f64>() / nf;
    let ym = y.iter().map(|p| p.value).sum::<f64>() / nf;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (&x, p) in x.iter().zip(y) {
        sxx += (x - xm) * (x - xm);
        sxy += (x - xm) * (p.value - ym);
    }
    if sxx <= 0.0 {
        return opts.urgent;
    }
    let beta = sxy / sxx;
    let (mut e2, mut lag, mut prev) = (0.0, 0.0, 0.0);
    for (i, (&x, p)) in x.iter().zip(y).enumerate() {
        let e = p.value - ym - beta * (x - xm);
        e2 += e * e;
        if i > 0 {
            lag += e * prev;
        }
        prev = e;
    }
    let rho = if e2 > 0.0 {
        (lag / e2).clamp(0.0, 0.95)
    } else {
        0.0
    };
    let se = (e2 / (nf - 2.0) / sxx * (1.0 + rho) / (1.0 - rho)).sqrt();
    let beta_hi = beta.max(0.0) + 2.0 * se;
    let n = loads.len();
    let at = |i: usize| mean(&loads[i.saturating_sub(1)..(i + 2).min(n)]);
    // `veto_lag_secs`: the load's newest level smoothed to first order, when that is higher
    // (a floor held for a while after the requests that made it still stands at a level the
    // load has left).
    let newest = if opts.lag_ms > 0 && !opts.urgent {
        at(n - 1).max(lagged_last(points, loads, opts.lag_ms as f64))
    } else {
        at(n - 1)
    };
    let load_rise = (newest - at(pre)).max(0.0);
    let dur = points[n - 1].ts_ms.saturating_sub(points[pre].ts_ms) as f64 / 1000.0;
    // A floor seen once per slow collection leaves a response bound so wide (few independent
    // points, strongly autocorrelated residuals) that it would excuse any rise: when the load
    // before moved over much of its rise since and the floor showed no response to it, the
    // load is not blamed.
    if opts.slow_evidence > 0.0 && beta - 2.0 * se <= 0.0 {
        let (lo, hi) = extent(x);
        if hi - lo >= opts.slow_evidence * load_rise {
            return true;
        }
    }
    // An urgent rise is not blamed on a response the floor never showed.
    if opts.urgent && beta - 2.0 * se <= 0.0 {
        return true;
    }
    // The diagnostic tag (`gap_tally`): the response's lower bound in standard errors, the
    // load's span before the growth over its rise since, and the rise over the allowance
    // without the bend.
    #[cfg(feature = "probe")]
    {
        let (lo, hi) = extent(x);
        super::probe::tag(&format!(
            "rec {:.1} {:.2} {:.2}",
            (beta - 2.0 * se) / se.max(f64::MIN_POSITIVE),
            (hi - lo) / load_rise.max(f64::MIN_POSITIVE),
            h.slope * dur / (beta_hi * load_rise).max(f64::MIN_POSITIVE)
        ));
    }
    h.slope * dur > opts.curve * beta_hi * load_rise
}

/// The load at the newest point smoothed to first order with time constant `tc_ms`.
fn lagged_last(points: &[Sample], loads: &[f64], tc_ms: f64) -> f64 {
    let (mut s, mut prev) = (loads[0], points[0].ts_ms);
    for (p, &x) in points.iter().zip(loads) {
        let dt = p.ts_ms.saturating_sub(prev) as f64;
        prev = p.ts_ms;
        s += (x - s) * (1.0 - (-dt / tc_ms).exp());
    }
    s
}

/// Floor points (5 min buckets: 30 min) over which a floor that follows the load may lag it.
const LEVEL_LAG_POINTS: usize = 6;

/// `veto_level_rise_secs`: whether the floor kept climbing over the newest `stretch_ms` of the
/// segment, by at least half of what the segment's rate predicts there and without slowing
/// (its newer half's rise at least `decel` of its older half's), while the load did not rise
/// (its mean over the newest two lags no higher than over the lag before the stretch, by
/// [`FALL_SHARE`] of its range over the segment). Floors compared by medians of a lag's points.
fn rose_at_level_load(
    points: &[Sample],
    loads: &[f64],
    h: &Hinge,
    stretch_ms: i64,
    decel: f64,
) -> bool {
    const L: usize = LEVEL_LAG_POINTS;
    let n = points.len();
    if stretch_ms <= 0 || h.slope <= 0.0 {
        return false;
    }
    let now = points[n - 1].ts_ms;
    let s = points.partition_point(|p| p.ts_ms < now.saturating_sub(stretch_ms));
    if s < h.index + L || n < s + 3 * L {
        return false;
    }
    let (lo, hi) = extent(&loads[h.index..]);
    let before = mean(&loads[s - L..=s]);
    let newest = mean(&loads[n - 2 * L..]);
    if newest > before + FALL_SHARE * (hi - lo) {
        return false;
    }
    let median = |ps: &[Sample]| {
        let mut v = [0.0f64; L];
        for (a, p) in v.iter_mut().zip(ps) {
            *a = p.value;
        }
        v.sort_unstable_by(f64::total_cmp);
        0.5 * (v[(L - 1) / 2] + v[L / 2])
    };
    let m = s + (n - s) / 2 - L / 2;
    let (first, mid, last) = (
        median(&points[s..s + L]),
        median(&points[m..m + L]),
        median(&points[n - L..]),
    );
    let secs = points[n - 1].ts_ms.saturating_sub(points[s].ts_ms) as f64 / 1000.0;
    // Under a level load the floor's own shape shows: a warm-up slows down over the stretch.
    last > first && last - first >= 0.5 * h.slope * secs && last - mid >= decel * (mid - first)
}

/// The squared errors of the isotonic regression of the values on `loads`, alone and with a
/// hinge at `tc` (`y = f(x) + r·max(0, t - t_c)`, by backfitting).
/// The squared error of the isotonic regression of the values on `loads`, alone; fills
/// `work.resid` with what it leaves, in time order.
fn residuals(points: &[Sample], loads: &[f64], work: &mut LoadWork) -> f64 {
    fit_residuals(points, loads, work);
    fit_sse(&work.pairs, 0.0, &work.fitted)
}

/// [`residuals`] without the squared error: the fit in `work.pairs` and `work.fitted` (load
/// order), the residuals in `work.resid`.
fn fit_residuals(points: &[Sample], loads: &[f64], work: &mut LoadWork) {
    let y0 = points[0].value;
    work.pairs.clear();
    work.pairs.extend(work.order.iter().map(|&i| {
        (
            loads[i as usize],
            points[i as usize].value - y0,
            f64::from(i),
        )
    }));
    pava_fit(&work.pairs, 0.0, &mut work.blocks, &mut work.fitted);
    work.resid.clear();
    work.resid.extend(points.iter().map(|p| Sample {
        ts_ms: p.ts_ms,
        value: 0.0,
    }));
    for (q, f) in work.pairs.iter().zip(&work.fitted) {
        work.resid[q.2 as usize].value = q.1 - f;
    }
}

/// Sorts the indices of `loads` by load into `work.order` (once per lag; the fits reuse it).
fn sort_by_load(loads: &[f64], work: &mut LoadWork) {
    // Integer keys (the load's total order, then the index) sort several times faster than a
    // comparator that reads the loads through the indices: this sort is a large part of an
    // evaluation with traffic. The keys are distinct, so their sorted order is unique.
    if !patch_keys(loads, work) && !diff_keys(loads, work) {
        work.keys.clear();
        work.keys
            .extend((0u32..).zip(loads).map(|(i, &x)| (order_key(x), i)));
        work.keys.sort_unstable();
    }
    work.sorted.clear();
    work.sorted.extend_from_slice(loads);
    work.order.clear();
    work.order.extend(work.keys.iter().map(|k| k.1));
}

/// Updates the sorted keys of the last [`sort_by_load`] to `loads` when they are its loads with
/// at most [`PATCH_POINTS`] points added at the end and as many as the window lost taken from
/// the start: the unmasked judgements of a full day see the window move by a few floor points
/// between them, and patching the sorted keys costs a few linear passes instead of a sort of
/// hundreds of keys (a hot path: the sort was about a tenth of a two-day series' time). The
/// keys are distinct, so the sorted order is the same. False when `loads` are not such a step.
fn patch_keys(loads: &[f64], work: &mut LoadWork) -> bool {
    let (n, prev) = (loads.len(), &work.sorted);
    let m = prev.len();
    if work.keys.len() != m || u32::try_from(n).is_err() {
        return false;
    }
    let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    let Some(kept) = (n.saturating_sub(PATCH_POINTS)..n)
        .rev()
        .find(|&kept| kept <= m && same(&prev[m - kept..], &loads[..kept]))
    else {
        return false;
    };
    let dropped = (m - kept) as u32;
    if dropped > 0 {
        work.keys.retain(|k| k.1 >= dropped);
        for k in &mut work.keys {
            k.1 -= dropped;
        }
    }
    for (i, &x) in (kept as u32..).zip(&loads[kept..]) {
        let key = (order_key(x), i);
        let at = work.keys.partition_point(|k| *k < key);
        work.keys.insert(at, key);
    }
    true
}

/// Most points [`diff_keys`] drops and adds, together.
const DIFF_EDITS: usize = 2 * PATCH_POINTS;
/// How far ahead [`diff_keys`] looks in the last sort's loads for the next new load.
const DIFF_LOOKAHEAD: usize = 4;

/// Updates the sorted keys of the last [`sort_by_load`] to `loads` when they are its loads
/// with a few dropped and a few added anywhere (at most [`DIFF_EDITS`] in all, a drop at most
/// [`DIFF_LOOKAHEAD`] in a row): the day's floor with its points merged in runs of buckets
/// (`day_merge_buckets`) moves between judgements by a run dropped at the start and its
/// newest run, merged from fewer points the last time, replaced, which [`patch_keys`]
/// cannot patch. Any matching of equal loads gives the same keys (a kept key keeps its load, and
/// the keys are distinct, so their sorted order is unique): one greedy pass, then the kept
/// keys renumbered and the added ones inserted. False past the edit budget.
fn diff_keys(loads: &[f64], work: &mut LoadWork) -> bool {
    let (n, prev) = (loads.len(), &work.sorted);
    let m = prev.len();
    if work.keys.len() != m || u32::try_from(n).is_err() || m.abs_diff(n) > DIFF_EDITS {
        return false;
    }
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
    work.remap.clear();
    work.remap.resize(m, u32::MAX);
    let mut added = [0u32; DIFF_EDITS];
    let (mut i, mut j, mut edits, mut n_added) = (0, 0, 0, 0);
    while i < m && j < n {
        if same(prev[i], loads[j]) {
            work.remap[i] = j as u32;
            (i, j) = (i + 1, j + 1);
            continue;
        }
        // Drop the last sort's loads up to the next equal to this new one, or add this one.
        let ahead = (1..=DIFF_LOOKAHEAD).find(|&d| i + d < m && same(prev[i + d], loads[j]));
        if let Some(d) = ahead {
            (i, edits) = (i + d, edits + d);
        } else {
            if n_added == DIFF_EDITS {
                return false;
            }
            added[n_added] = j as u32;
            (j, edits, n_added) = (j + 1, edits + 1, n_added + 1);
        }
        if edits > DIFF_EDITS {
            return false;
        }
    }
    edits += m - i;
    if edits + (n - j) > DIFF_EDITS || n_added + (n - j) > DIFF_EDITS {
        return false;
    }
    for k in j..n {
        added[n_added] = k as u32;
        n_added += 1;
    }
    let remap = &work.remap;
    work.keys.retain(|k| remap[k.1 as usize] != u32::MAX);
    for k in &mut work.keys {
        k.1 = remap[k.1 as usize];
    }
    for &k in &added[..n_added] {
        let key = (order_key(loads[k as usize]), k);
        let at = work.keys.partition_point(|q| *q < key);
        work.keys.insert(at, key);
    }
    true
}

/// The squared error of the isotonic regression of the values on `loads` with a hinge at `tc`
/// (`y = f(x) + r·max(0, t - t_c)`, by backfitting).
fn backfit(points: &[Sample], loads: &[f64], tc: i64, work: &mut LoadWork) -> f64 {
    let y0 = points[0].value;
    let u = |p: &Sample| p.ts_ms.saturating_sub(tc).max(0) as f64 / 3.6e6;
    // Pairs (load, value, u) in load order ([`sort_by_load`]); the backfitting changes only
    // the values.
    work.pairs.clear();
    work.pairs.extend(work.order.iter().map(|&i| {
        let p = &points[i as usize];
        (loads[i as usize], p.value - y0, u(p))
    }));
    let uu: f64 = work.pairs.iter().map(|q| q.2 * q.2).sum();
    let mut sse = pava_sse(&work.pairs, 0.0, &mut work.blocks, &mut work.fitted);
    if uu <= 0.0 {
        return sse;
    }
    for _ in 0..BACKFIT_ROUNDS {
        // r given f: least squares of y - f on u.
        let uy: f64 = work
            .pairs
            .iter()
            .zip(&work.fitted)
            .map(|(q, f)| q.2 * (q.1 - f))
            .sum();
        let r = (uy / uu).max(0.0);
        sse = pava_sse(&work.pairs, r, &mut work.blocks, &mut work.fitted);
    }
    sse
}

/// Isotonic regression (pool-adjacent-violators) of `y - r·u` on the pairs sorted by load:
/// fills `fitted` and returns the squared error of `y - r·u - f`. Pairs of equal load form
/// one block from the start: `f` is a function of the load, so a floor that rises while the
/// load stays the same (a request rate that repeats, or one carried over a gap) is not fitted.
///
/// Each block keeps its mean, divided once when the block is made, and a lone pair's mean is
/// its value (`x / 1.0` is `x` to the bit): the same means as dividing at every comparison,
/// without a division on the chain of a pair that pools nothing (a hot path: this fit was a
/// tenth of the day a leak is judged before it fires).
fn pava_sse(
    pairs: &[(f64, f64, f64)],
    r: f64,
    blocks: &mut Vec<(f64, f64, f64)>,
    fitted: &mut Vec<f64>,
) -> f64 {
    pava_fit(pairs, r, blocks, fitted);
    fit_sse(pairs, r, fitted)
}

/// The squared error of `y - r·u - f` over the pairs and `fitted` ([`pava_fit`]), summed in
/// their order.
fn fit_sse(pairs: &[(f64, f64, f64)], r: f64, fitted: &[f64]) -> f64 {
    pairs
        .iter()
        .zip(fitted)
        .map(|(q, &f)| sq_err(q, r, f))
        .sum()
}

/// One pair's squared error `(y - r·u - f)²` in [`fit_sse`].
#[inline(always)]
fn sq_err(q: &(f64, f64, f64), r: f64, f: f64) -> f64 {
    let e = q.1 - r * q.2 - f;
    e * e
}

/// [`pava_sse`]'s fit without its error: fills `blocks` and `fitted`.
fn pava_fit(
    pairs: &[(f64, f64, f64)],
    r: f64,
    blocks: &mut Vec<(f64, f64, f64)>,
    fitted: &mut Vec<f64>,
) {
    blocks.clear();
    for tie in pairs.chunk_by(|a, b| a.0 == b.0) {
        let mut sum: f64 = tie.iter().map(|q| q.1 - r * q.2).sum();
        let mut count = tie.len() as f64;
        let mut mean = if tie.len() == 1 { sum } else { sum / count };
        while let Some(&(s, c, m)) = blocks.last() {
            if m <= mean {
                break;
            }
            sum += s;
            count += c;
            mean = sum / count;
            blocks.pop();
        }
        blocks.push((sum, count, mean));
    }
    fitted.clear();
    for &(_, count, mean) in blocks.iter() {
        fitted.extend(std::iter::repeat_n(mean, count as usize));
    }
}

/// Most blocks [`burst_hold`] cuts the window into (fixed arrays: no allocation).
const BURST_BLOCKS: usize = 64;
/// Levels of [`burst_hold`]'s table of lowest means: runs of up to 2^4 blocks, enough for a
/// reach of [`BURST_REACH_MS`] over blocks of [`BURST_MIN_BLOCK_MS`] (25 blocks).
const BURST_LEVELS: usize = 5;
const _: () = assert!((BURST_REACH_MS / BURST_MIN_BLOCK_MS + 1) < 1 << BURST_LEVELS);
/// Shortest block of [`burst_hold`]: a batch run lasts 20 min or more.
const BURST_MIN_BLOCK_MS: i64 = 300_000;
/// How far on each side [`burst_hold`] looks for the load's level outside a burst: half the
/// longest batch run worth holding (4 h), so that a point inside a run has idle load on both
/// sides, while the daily swing moves little in that time.
const BURST_REACH_MS: i64 = 2 * 3_600_000;
/// A burst stands above its surroundings by this share of the window's mean load.
const BURST_SHARE: f64 = 0.1;
/// Most the floor may rise away from the bursts, as a share of its rise with them (training
/// seeds, `stop_burst_hold` 2: 0.5 held 7 of 15 `batch_leak` flaps, 0.6 held 8, 0.8 held 9;
/// without this test, unseen `stopping_leak` resolved 43 min later).
const IDLE_RISE_SHARE: f64 = 0.5;

/// With traffic known, for a firing alert whose floor has levelled off: whether the flat spell
/// may be an idle spell of a recurring batch job whose runs make the leak. The load's bursts are
/// the blocks whose mean load stands above the higher of the lowest block means on each side
/// within [`BURST_REACH_MS`] by [`BURST_SHARE`] of the mean load (a daily swing's monotone
/// stretch is its own lower level on one side; a burst has idle load on both). Holds when at
/// least two bursts were seen, the floor's rise since `from_ms` came with them (blocks within
/// `lag_ms`, the floor's window, after a burst; the rise elsewhere at most [`IDLE_RISE_SHARE`]
/// of it: a steady leak under bursty traffic rises between the bursts too), and the last burst
/// ended at most `factor` times the longest gap between bursts ago. A one-off batch shows no
/// gap and does not hold. A burst still running at the window's end has no idle load after it
/// yet and is not seen; the factor leaves room for it.
pub(super) fn burst_hold(
    points: &[Sample],
    loads: &[f64],
    from_ms: i64,
    lag_ms: i64,
    factor: f64,
) -> bool {
    let n = points.len().min(loads.len());
    if n < 2 || factor <= 0.0 {
        return false;
    }
    let (t0, now) = (points[0].ts_ms, points[n - 1].ts_ms);
    let block_ms = (now.saturating_sub(t0) / BURST_BLOCKS as i64 + 1).max(BURST_MIN_BLOCK_MS);
    let nb = ((now.saturating_sub(t0) / block_ms) as usize + 1).min(BURST_BLOCKS);
    let (loads_sum, floors_sum, counts) = burst_sums(&points[..n], &loads[..n], block_ms, nb);
    let margin = BURST_SHARE * loads_sum.iter().sum::<f64>() / n as f64;
    // Each block's mean load divided once (infinite for an empty block, which the lowest
    // of a reach then passes over as the `None` it was), not once per reach that reads it.
    let mut means = [f64::INFINITY; BURST_BLOCKS];
    for ((m, &sum), &c) in means.iter_mut().zip(&loads_sum).zip(&counts).take(nb) {
        if c > 0 {
            *m = sum / f64::from(c);
        }
    }
    let load = |k: usize| (counts[k] > 0).then_some(means[k]);
    let reach = ((BURST_REACH_MS / block_ms) as usize).max(1);
    let (lefts, rights) = burst_lows(&means, nb, reach);
    let mut flags = [false; BURST_BLOCKS];
    let (mut bursts, mut longest_gap, mut last_end) = (0usize, 0i64, None);
    for k in 0..nb {
        flags[k] = load(k).is_some_and(|m| m - lefts[k].max(rights[k]) > margin);
        let start_ms = t0 + k as i64 * block_ms;
        if flags[k] && (k == 0 || !flags[k - 1]) {
            if let Some(end) = last_end {
                longest_gap = longest_gap.max(start_ms - end);
            }
            bursts += 1;
        }
        if flags[k] {
            last_end = Some(start_ms + block_ms);
        }
    }
    let Some(end) = last_end else {
        return false;
    };
    if bursts < 2 || now.saturating_sub(end) as f64 > factor * longest_gap as f64 {
        return false;
    }
    let lag = (lag_ms / block_ms) as usize + 1;
    let first = ((from_ms.saturating_sub(t0) / block_ms) as usize).min(nb);
    let (mut with, mut without) = (0.0, 0.0);
    let mut prev: Option<f64> = None;
    for k in first..nb {
        let Some(level) = (counts[k] > 0).then(|| floors_sum[k] / f64::from(counts[k])) else {
            continue;
        };
        if let Some(before) = prev {
            if flags[k.saturating_sub(lag)..=k].iter().any(|&b| b) {
                with += level - before;
            } else {
                without += level - before;
            }
        }
        prev = Some(level);
    }
    with > 0.0 && without <= IDLE_RISE_SHARE * with
}

/// Per block `k < nb`: the lowest of `means` over the `reach` blocks before it and it, and
/// over it and the `reach` after it (within `nb`), as a fold from infinity with `f64::min`
/// gives them, from a table of the lowest of every 2^j blocks (two lookups instead of a chain
/// of minimums through the reach). Minimums of means that are never -0.0 (sums from +0.0),
/// with NaN as infinite (skipped, as the fold skips it), do not depend on order or overlap.
fn burst_lows(
    means: &[f64; BURST_BLOCKS],
    nb: usize,
    reach: usize,
) -> ([f64; BURST_BLOCKS], [f64; BURST_BLOCKS]) {
    let mut table = [[f64::INFINITY; BURST_BLOCKS]; BURST_LEVELS];
    for (t, &m) in table[0].iter_mut().zip(means).take(nb) {
        *t = if m.is_nan() { f64::INFINITY } else { m };
    }
    let levels = (usize::BITS - (reach + 1).min(nb).leading_zeros()) as usize;
    for j in 1..levels.min(BURST_LEVELS) {
        let (done, next) = table.split_at_mut(j);
        let (prev, half) = (&done[j - 1], 1 << (j - 1));
        for i in 0..(nb + 1).saturating_sub(1 << j) {
            next[0][i] = prev[i].min(prev[i + half]);
        }
    }
    let lowest = |r: std::ops::Range<usize>| {
        let j = (usize::BITS - 1 - r.len().leading_zeros()) as usize;
        table[j][r.start].min(table[j][r.end - (1 << j)])
    };
    let (mut lefts, mut rights) = ([f64::INFINITY; BURST_BLOCKS], [f64::INFINITY; BURST_BLOCKS]);
    for k in 0..nb {
        lefts[k] = lowest(k.saturating_sub(reach)..k + 1);
        rights[k] = lowest(k..(k + reach + 1).min(nb));
    }
    (lefts, rights)
}

/// Per block of `block_ms` from the first point's time (the last of `nb` blocks takes every
/// later point): the sums of the loads and of the floor values, and the number of points.
/// Each point's block is stepped from the previous point's (the times rise) instead of an
/// integer division per point; a time before the block reached divides. The same blocks.
fn burst_sums(
    points: &[Sample],
    loads: &[f64],
    block_ms: i64,
    nb: usize,
) -> (
    [f64; BURST_BLOCKS],
    [f64; BURST_BLOCKS],
    [u32; BURST_BLOCKS],
) {
    let (mut loads_sum, mut floors_sum) = ([0.0f64; BURST_BLOCKS], [0.0f64; BURST_BLOCKS]);
    let mut counts = [0u32; BURST_BLOCKS];
    let Some(t0) = points.first().map(|p| p.ts_ms) else {
        return (loads_sum, floors_sum, counts);
    };
    let mut k = 0usize;
    for (p, &x) in points.iter().zip(loads) {
        let d = p.ts_ms.saturating_sub(t0);
        if d < k as i64 * block_ms {
            k = ((d / block_ms) as usize).min(nb - 1);
        } else {
            while k + 1 < nb && d >= (k as i64 + 1) * block_ms {
                k += 1;
            }
        }
        loads_sum[k] += x;
        floors_sum[k] += p.value;
        counts[k] += 1;
    }
    (loads_sum, floors_sum, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Means that repeat, are empty (infinite) or NaN: the table's lowest of each reach is
        /// the fold's.
        #[test]
        fn burst_lows_are_the_folds(
            raw in proptest::collection::vec(0u8..12, 1..=BURST_BLOCKS),
            reach in 1usize..30,
        ) {
            let nb = raw.len();
            let mut means = [f64::INFINITY; BURST_BLOCKS];
            for (m, &r) in means.iter_mut().zip(&raw) {
                *m = match r {
                    10 => f64::INFINITY,
                    11 => f64::NAN,
                    _ => f64::from(r) * 0.7,
                };
            }
            let fold = |r: std::ops::Range<usize>| means[r].iter().fold(f64::INFINITY, |a, &m| a.min(m));
            let (lefts, rights) = burst_lows(&means, nb, reach.min(BURST_REACH_MS as usize / BURST_MIN_BLOCK_MS as usize));
            let reach = reach.min(BURST_REACH_MS as usize / BURST_MIN_BLOCK_MS as usize);
            for k in 0..nb {
                proptest::prop_assert_eq!(lefts[k].to_bits(), fold(k.saturating_sub(reach)..k + 1).to_bits());
                proptest::prop_assert_eq!(rights[k].to_bits(), fold(k..(k + reach + 1).min(nb)).to_bits());
            }
        }
    }

    proptest::proptest! {
        /// Rising times with gaps, repeats and a few steps back: the stepped blocks are the
        /// divided ones, so the same sums.
        #[test]
        fn burst_blocks_stepped_are_the_divided_ones(
            steps in proptest::collection::vec(-400_000i64..2_000_000, 2..300),
            block_ms in 1i64..3_000_000,
            nb in 1usize..=BURST_BLOCKS,
        ) {
            let mut t = 1_000_000_000i64;
            let points: Vec<Sample> = steps
                .iter()
                .enumerate()
                .map(|(i, &dt)| {
                    t += if dt < -300_000 { dt } else { dt.max(0) };
                    Sample { ts_ms: t, value: i as f64 * 0.37 }
                })
                .collect();
            let loads: Vec<f64> = (0..points.len()).map(|i| (i % 7) as f64 + 0.5).collect();
            let t0 = points[0].ts_ms;
            let (mut ls, mut fs, mut cs) = ([0.0f64; BURST_BLOCKS], [0.0f64; BURST_BLOCKS], [0u32; BURST_BLOCKS]);
            for (p, &x) in points.iter().zip(&loads) {
                let k = ((p.ts_ms.saturating_sub(t0) / block_ms) as usize).min(nb - 1);
                ls[k] += x;
                fs[k] += p.value;
                cs[k] += 1;
            }
            let (gl, gf, gc) = burst_sums(&points, &loads, block_ms, nb);
            proptest::prop_assert_eq!(gc, cs);
            proptest::prop_assert!(gl.iter().zip(&ls).all(|(a, b)| a.to_bits() == b.to_bits()));
            proptest::prop_assert!(gf.iter().zip(&fs).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    proptest::proptest! {
        /// Loads that grow, slide, repeat or jump: the patched order is the full sort's.
        #[test]
        fn patched_load_order_is_the_sorted_order(
            steps in proptest::collection::vec((0u8..7, 0u8..6), 1..80),
        ) {
            let (mut work, mut loads) = (LoadWork::default(), Vec::<f64>::new());
            for (kind, x) in steps {
                let x = f64::from(x) / 2.0;
                match kind {
                    0 => loads.push(x),
                    1 if !loads.is_empty() => {
                        loads.remove(0);
                        loads.push(x);
                    }
                    2 => {
                        let k = usize::from(x as u8).min(loads.len());
                        loads.drain(..k);
                        loads.extend((0..k + 1).map(|j| x + j as f64));
                    }
                    3 => loads = vec![x; usize::from(x as u8) + 1],
                    4 => loads.push(f64::NAN),
                    // As the day's merged floor moves (`diff_keys`): the first dropped, two
                    // points merged into their mean somewhere, one added.
                    5 if loads.len() >= 3 => {
                        let at = usize::from(x as u8).min(loads.len() - 2);
                        let mean = 0.5 * (loads[at] + loads[at + 1]);
                        loads.splice(at..at + 2, [mean]);
                        loads.remove(0);
                        loads.push(x);
                    }
                    // A point replaced in the middle.
                    _ if !loads.is_empty() => {
                        let at = usize::from(x as u8) % loads.len();
                        loads[at] = x + 0.25;
                    }
                    _ => loads.push(x),
                }
                sort_by_load(&loads, &mut work);
                let mut want: Vec<u32> = (0..loads.len() as u32).collect();
                want.sort_by(|&a, &b| loads[a as usize].total_cmp(&loads[b as usize]).then(a.cmp(&b)));
                proptest::prop_assert_eq!(&work.order, &want);
            }
        }
    }

    /// The isotonic fit as it was, dividing at every comparison: the reference of
    /// [`pava_sse`]'s kept means.
    fn pava_sse_plain(pairs: &[(f64, f64, f64)], r: f64, fitted: &mut Vec<f64>) -> f64 {
        let mut blocks: Vec<(f64, f64)> = Vec::new();
        for tie in pairs.chunk_by(|a, b| a.0 == b.0) {
            let mut sum: f64 = tie.iter().map(|q| q.1 - r * q.2).sum();
            let mut count = tie.len() as f64;
            while let Some(&(s, c)) = blocks.last() {
                if s / c <= sum / count {
                    break;
                }
                sum += s;
                count += c;
                blocks.pop();
            }
            blocks.push((sum, count));
        }
        fitted.clear();
        for &(sum, count) in &blocks {
            fitted.extend(std::iter::repeat_n(sum / count, count as usize));
        }
        pairs
            .iter()
            .zip(fitted.iter())
            .map(|(q, f)| {
                let e = q.1 - r * q.2 - f;
                e * e
            })
            .sum()
    }

    proptest::proptest! {
        /// `unmask`'s first sums in one loop are the sums each computes alone, to the bit.
        #[test]
        fn first_sums_are_each_ones_own(
            raw in proptest::collection::vec((0u16..500, -400i32..400), 8..300),
        ) {
            let points: Vec<Sample> = raw
                .iter()
                .enumerate()
                .map(|(i, &(_, v))| Sample { ts_ms: 300_000 * i as i64, value: 1e6 + f64::from(v) * 1.7 })
                .collect();
            let loads: Vec<f64> = raw.iter().map(|&(x, _)| f64::from(x) * 0.9).collect();
            let mut work = LoadWork::default();
            sort_by_load(&loads, &mut work);
            let sse = residuals(&points, &loads, &mut work);
            let s = first_sums(&points, &loads, &work.pairs, &work.fitted);
            let plain_values: f64 = points.iter().map(|p| p.value).sum();
            let plain_xs: f64 = loads.iter().sum();
            let (lo, hi) = extent(&loads);
            let n = points.len();
            let moves = (MOVE_STEP..n).fold((0.0, 0.0), |(a, b), i| {
                (a + (loads[i] - loads[i - MOVE_STEP]), b + (points[i].value - points[i - MOVE_STEP].value))
            });
            let bits = |v: f64| v.to_bits();
            proptest::prop_assert_eq!(bits(s.sse), bits(sse));
            proptest::prop_assert_eq!(bits(s.values), bits(plain_values));
            proptest::prop_assert_eq!(bits(s.xs), bits(plain_xs));
            proptest::prop_assert_eq!((bits(s.extent.0), bits(s.extent.1)), (bits(lo), bits(hi)));
            proptest::prop_assert_eq!((bits(s.moves.0), bits(s.moves.1)), (bits(moves.0), bits(moves.1)));
            proptest::prop_assert_eq!(
                move_response(&points, &loads).map(bits),
                move_response_from(&points, &loads, s.moves).map(bits)
            );
        }
    }

    proptest::proptest! {
        /// Loads with ties, values with signed zeros, repeats, NaN and huge magnitudes: the
        /// kept means give the plain fit's values and error, to the bit.
        #[test]
        fn pava_kept_means_are_the_plain_fit(
            raw in proptest::collection::vec((0u8..40, 0u8..16, -3i32..4), 0..200),
            r in proptest::prop_oneof![proptest::strategy::Just(0.0f64), 0.0f64..5.0],
        ) {
            let mut loads: Vec<u8> = raw.iter().map(|q| q.0).collect();
            loads.sort_unstable();
            let pairs: Vec<(f64, f64, f64)> = loads
                .iter()
                .zip(&raw)
                .map(|(&l, &(_, v, u))| {
                    let y = match v {
                        0 => 0.0,
                        1 => -0.0,
                        2 => f64::NAN,
                        3 => 1e300,
                        4 => -1e300,
                        _ => f64::from(v) * 0.37 - 2.1,
                    };
                    (f64::from(l) * 0.5, y, f64::from(u) * 0.25)
                })
                .collect();
            let (mut blocks, mut fitted, mut want) = (Vec::new(), Vec::new(), Vec::new());
            let sse = pava_sse(&pairs, r, &mut blocks, &mut fitted);
            let plain = pava_sse_plain(&pairs, r, &mut want);
            proptest::prop_assert_eq!(sse.to_bits(), plain.to_bits());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&fitted), bits(&want));
        }
    }

    #[test]
    fn isotonic_regression_pools_violators() {
        let (mut blocks, mut fitted) = (Vec::new(), Vec::new());
        // Sorted by load: values 1, 3, 2, 4 -> 1, 2.5, 2.5, 4.
        let pairs = [
            (1.0, 1.0, 0.0),
            (2.0, 3.0, 0.0),
            (3.0, 2.0, 0.0),
            (4.0, 4.0, 0.0),
        ];
        let sse = pava_sse(&pairs, 0.0, &mut blocks, &mut fitted);
        assert!((sse - 0.5).abs() < 1e-12, "{sse}");
        assert_eq!(fitted, [1.0, 2.5, 2.5, 4.0]);
        // With r = 1 and u = 1 on the third pair, the values are 1, 3, 1, 4 -> 1, 2, 2, 4.
        let pairs = [
            (1.0, 1.0, 0.0),
            (2.0, 3.0, 0.0),
            (3.0, 2.0, 1.0),
            (4.0, 4.0, 0.0),
        ];
        let sse = pava_sse(&pairs, 1.0, &mut blocks, &mut fitted);
        assert!((sse - 2.0).abs() < 1e-12, "{sse}");
        assert_eq!(fitted, [1.0, 2.0, 2.0, 4.0]);
        // Equal loads get one value: 4 at load 1, then 0 and 10 at load 2 -> 4, 5, 5 (pooling
        // the 0 with the 4 first and adding the 10 after would give 4.67 for all three).
        let pairs = [(1.0, 4.0, 0.0), (2.0, 0.0, 0.0), (2.0, 10.0, 0.0)];
        let sse = pava_sse(&pairs, 0.0, &mut blocks, &mut fitted);
        assert!((sse - 50.0).abs() < 1e-12, "{sse}");
        assert_eq!(fitted, [4.0, 5.0, 5.0]);
        // A rise at one load is not followed, whatever the order within the tie.
        let pairs = [(1.0, 1.0, 0.0), (1.0, 2.0, 0.0), (1.0, 3.0, 0.0)];
        pava_sse(&pairs, 0.0, &mut blocks, &mut fitted);
        assert_eq!(fitted, [2.0, 2.0, 2.0]);
    }

    #[test]
    fn a_floor_that_follows_load_is_explained_and_a_leak_is_not() {
        let mut w = LoadWork::default();
        // 24 points, 5 min apart; the load goes up and down twice.
        let load: Vec<f64> = (0..24)
            .map(|i| 50.0 + 30.0 * (f64::from(i) * 0.4 - 1.0).sin())
            .collect();
        let follows: Vec<Sample> = (0..24)
            .map(|i| Sample {
                ts_ms: i64::from(i) * 300_000,
                value: 1000.0 + 2.0 * load[i as usize],
            })
            .collect();
        let leaks: Vec<Sample> = (0..24)
            .map(|i| Sample {
                ts_ms: i64::from(i) * 300_000,
                value: 1000.0 + 10.0 * f64::from((i - 8).max(0)),
            })
            .collect();
        let hinge = |points: &[Sample]| crate::detect::stats::hinge_fit(points, 6).unwrap();
        let opts = default_veto();
        assert!(explains(&follows, &load, &hinge(&follows), &opts, &mut w));
        assert!(!explains(&leaks, &load, &hinge(&leaks), &opts, &mut w));
    }

    #[test]
    fn a_slow_floor_that_ignored_the_load_before_cannot_blame_a_record_load() {
        // 48 points, 5 min apart. For 2 h the load swings between 100 and 200 while the floor,
        // seen only at a slow collection (one step at 1 h), ignores it; then the load climbs to
        // records of 300 while the floor grows.
        let load: Vec<f64> = (0..48)
            .map(|i| match i {
                0..24 => 150.0 + 50.0 * (f64::from(i) * std::f64::consts::TAU / 12.0).sin(),
                _ => 150.0 + 150.0 * f64::from(i - 24) / 24.0,
            })
            .collect();
        let floor: Vec<Sample> = (0..48)
            .map(|i| Sample {
                ts_ms: i64::from(i) * 300_000,
                value: match i {
                    0..12 => 1000.0 + 5.0 * f64::from(i % 2),
                    12..24 => 1040.0 + 5.0 * f64::from(i % 2),
                    _ => 1040.0 + 6.0 * f64::from(i - 23),
                },
            })
            .collect();
        // Growth from 2 h on, 6 per 5 min.
        let h = Hinge {
            index: 24,
            baseline: 1040.0,
            slope: 6.0 / 300.0,
        };
        assert!(record_load(&load, h.index));
        let verdict = |slow_evidence: f64| {
            let opts = VetoOptions {
                keeps: 0.9,
                curve: 2.5,
                ratchet: 0.0,
                slow_evidence,
                reuse_ms: 0,
                lag_ms: 0,
                urgent: false,
                level_rise_ms: 0,
                level_rise_decel: 0.75,
            };
            explains(&floor, &load, &h, &opts, &mut LoadWork::default())
        };
        // The linear response's upper bound before the growth is wide enough to excuse it...
        assert!(verdict(0.0));
        // ...but the load moved over most of its rise since with no response of the floor.
        assert!(!verdict(0.5));
        // When the load before moved over less than the share asked for, the bound decides.
        assert!(verdict(1.0));
    }

    #[test]
    fn a_floor_that_ratchets_with_record_loads_is_the_loads_with_veto_record_ratchet() {
        // 72 points, 5 min apart: the load swings around 100 for 2 h, climbs to records of 300
        // with a dip on the way, then falls back to 200. A floor that keeps the highest load's
        // level (CPython's RSS) rises only while the load sets records and stays; a leak rises
        // through the dip and the fall.
        let load: Vec<f64> = (0..72)
            .map(|i| match i {
                0..24 => 100.0 + 20.0 * (f64::from(i) * std::f64::consts::TAU / 12.0).sin(),
                24..36 => 120.0 + 100.0 * f64::from(i - 24) / 12.0,
                36..42 => 180.0,
                42..54 => 220.0 + 80.0 * f64::from(i - 42) / 12.0,
                _ => 200.0,
            })
            .collect();
        let mut top = f64::NEG_INFINITY;
        let ratchet: Vec<Sample> = (0..72)
            .map(|i| {
                top = top.max(load[i as usize]);
                Sample {
                    ts_ms: i64::from(i) * 300_000,
                    value: 1000.0 + 2.0 * (top - 120.0).max(0.0) + 3.0 * f64::from(i % 2),
                }
            })
            .collect();
        let leak: Vec<Sample> = (0..72)
            .map(|i| Sample {
                ts_ms: i64::from(i) * 300_000,
                value: 1000.0 + 6.0 * f64::from((i - 24).max(0)) + 3.0 * f64::from(i % 2),
            })
            .collect();
        let h = Hinge {
            index: 24,
            baseline: 1000.0,
            slope: 6.0 / 300.0,
        };
        assert!(record_load(&load, h.index));
        let verdict = |points: &[Sample], ratchet: f64| {
            let opts = VetoOptions {
                ratchet,
                ..default_veto()
            };
            explains(points, &load, &h, &opts, &mut LoadWork::default())
        };
        // The floor showed no response to the load before: the linear bound blames no load.
        assert!(!verdict(&ratchet, 0.0));
        // Its running maximum explains the ratchet, not the leak.
        assert!(verdict(&ratchet, 0.9));
        assert!(!verdict(&leak, 0.9));
    }

    #[test]
    fn a_rise_at_a_level_load_is_not_the_loads() {
        // 84 points, 5 min apart: a night load of 100 for 2 h, a climb to 300 over 2 h, then
        // 3 h level at 300. A floor that grows 6 per 5 min from the climb on keeps rising at
        // the level load; one that follows the load stops; one that slows (a warm-up) too.
        let load: Vec<f64> = (0..84)
            .map(|i| match i {
                0..24 => 100.0 + f64::from(i % 3),
                24..48 => 100.0 + 200.0 * f64::from(i - 24) / 24.0,
                _ => 300.0 + f64::from(i % 3),
            })
            .collect();
        let series = |f: &dyn Fn(usize) -> f64| -> Vec<Sample> {
            (0..84usize)
                .map(|i| Sample {
                    ts_ms: i as i64 * 300_000,
                    value: f(i) + if i % 2 == 0 { 0.0 } else { 3.0 },
                })
                .collect()
        };
        let h = Hinge {
            index: 24,
            baseline: 1000.0,
            slope: 6.0 / 300.0,
        };
        let leak = series(&|i| 1000.0 + 6.0 * i.saturating_sub(24) as f64);
        let follows = series(&|i| 1000.0 + 2.0 * (load[i] - 100.0));
        let slows =
            series(&|i| 1000.0 + 400.0 * (1.0 - (-(i.saturating_sub(24) as f64) / 12.0).exp()));
        assert!(rose_at_level_load(&leak, &load, &h, 7_200_000, 0.75));
        assert!(!rose_at_level_load(&follows, &load, &h, 7_200_000, 0.75));
        assert!(!rose_at_level_load(&slows, &load, &h, 7_200_000, 0.75));
        // Off, or while the load still climbs (the newest 2 h at 2 h 10 min of the climb's end).
        assert!(!rose_at_level_load(&leak, &load, &h, 0, 0.75));
        assert!(!rose_at_level_load(
            &leak[..50],
            &load[..50],
            &h,
            7_200_000,
            0.75
        ));
    }

    #[test]
    fn an_urgent_rise_is_not_blamed_on_a_response_never_seen() {
        // 48 points, 5 min apart: a flat night load of 100 for 2 h, with a flat floor; then
        // the load climbs to 300 (records) while the floor grows, 6 per 5 min.
        let load: Vec<f64> = (0..48)
            .map(|i| match i {
                0..24 => 100.0 + f64::from(i % 3),
                _ => 100.0 + 200.0 * f64::from(i - 24) / 24.0,
            })
            .collect();
        let floor: Vec<Sample> = (0..48)
            .map(|i| Sample {
                ts_ms: i64::from(i) * 300_000,
                value: match i {
                    0..24 => 1000.0 + 5.0 * f64::from(i % 2),
                    _ => 1000.0 + 6.0 * f64::from(i - 23),
                },
            })
            .collect();
        let h = Hinge {
            index: 24,
            baseline: 1000.0,
            slope: 6.0 / 300.0,
        };
        assert!(record_load(&load, h.index));
        let verdict = |urgent: bool, w: &mut LoadWork| {
            let opts = VetoOptions {
                keeps: 0.9,
                curve: 2.5,
                ratchet: 0.0,
                slow_evidence: 0.0,
                reuse_ms: 600_000,
                lag_ms: 0,
                urgent,
                level_rise_ms: 0,
                level_rise_decel: 0.75,
            };
            explains(&floor, &load, &h, &opts, w)
        };
        let mut w = LoadWork::default();
        // The night showed no response to the load: its bound excuses any rise...
        assert!(verdict(false, &mut w));
        // ...unless the rise is urgent; that verdict is not kept for reuse...
        let mut fresh = LoadWork::default();
        assert!(!verdict(true, &mut fresh));
        assert!(fresh.last.is_none());
        // ...and an urgent evaluation does not reuse a verdict of a moment ago.
        assert!(!verdict(true, &mut w));
    }

    /// The veto's default options, nothing reused.
    fn default_veto() -> VetoOptions {
        VetoOptions {
            keeps: 0.9,
            curve: 2.5,
            ratchet: 0.0,
            slow_evidence: 0.0,
            reuse_ms: 0,
            lag_ms: 0,
            urgent: false,
            level_rise_ms: 0,
            level_rise_decel: 0.75,
        }
    }

    #[test]
    fn a_floor_that_lags_a_flash_crowd_is_the_loads_with_veto_lag_secs() {
        // 38 points, 5 min apart: the load climbs from 100 to 200 over 2 h, holds, then a
        // crowd takes it to 600 in 30 min and leaves at once. The floor follows the load
        // smoothed over 30 min (sessions held after their requests), so an hour after the crowd
        // it still stands above where it began while the load is back at 200.
        let load: Vec<f64> = (0..38)
            .map(|i| match i {
                0..24 => 100.0 + 100.0 * f64::from(i) / 23.0,
                26..32 => 200.0 + 400.0 * f64::from(i - 25) / 6.0,
                _ => 200.0,
            })
            .collect();
        let mut lagged = load[0];
        let floor: Vec<Sample> = (0..38)
            .map(|i| {
                if i > 0 {
                    lagged += (load[i] - lagged) * (1.0 - (-300.0f64 / 1800.0).exp());
                }
                Sample {
                    ts_ms: i as i64 * 300_000,
                    value: 1000.0 + 2.0 * lagged + if i % 2 == 1 { 3.0 } else { 0.0 },
                }
            })
            .collect();
        let h = Hinge {
            index: 24,
            baseline: floor[24].value,
            slope: (floor[37].value - floor[24].value) / (13.0 * 300.0),
        };
        assert!(record_load(&load, h.index));
        let verdict = |lag_ms: i64| {
            let opts = VetoOptions {
                lag_ms,
                ..default_veto()
            };
            explains(&floor, &load, &h, &opts, &mut LoadWork::default())
        };
        // The load is back where the rise began: against it, any rise is beyond its response...
        assert!(!verdict(0));
        // ...but not against the load smoothed over half an hour.
        assert!(verdict(1_800_000));
    }

    #[test]
    fn unmasking_by_moves_does_not_blame_a_finished_warm_up_on_the_load() {
        // 48 points, 5 min apart: the load climbs from 20 to 100, holds, falls to 60.
        let load: Vec<f64> = (0..48)
            .map(|i| match i {
                0..16 => 20.0 + 5.0 * f64::from(i),
                16..24 => 100.0,
                24..32 => 100.0 - 5.0 * f64::from(i - 24),
                _ => 60.0,
            })
            .collect();
        let at = |i: i32, v: f64| Sample {
            ts_ms: i64::from(i) * 300_000,
            value: v,
        };
        // A warm-up that rose with the morning's load once, then stayed; and a floor that
        // rises and falls with the load.
        let warm: Vec<Sample> = (0..48)
            .map(|i| at(i, 1000.0 + 12.5 * f64::from(i.min(16))))
            .collect();
        let follows: Vec<Sample> = (0..48)
            .map(|i| at(i, 1000.0 + 2.0 * load[i as usize]))
            .collect();
        let mut w = LoadWork::default();
        let (mut by_levels, mut by_moves) = (Vec::new(), Vec::new());
        // By levels, the evening's falling load makes the finished warm-up look like growth.
        assert!(unmask(&warm, &load, false, &mut w, &mut by_levels));
        let evening = |v: &[Sample]| v[47].value - v[24].value;
        assert!(evening(&by_levels) > 10.0, "{}", evening(&by_levels));
        // By moves, the floor did not fall with the load: less of the rise is left (here a
        // fifth less: the toy warm-up rose exactly with the load, the generated ones do not).
        let hidden = unmask(&warm, &load, true, &mut w, &mut by_moves);
        assert!(
            !hidden || evening(&by_moves) < 0.9 * evening(&by_levels),
            "{by_moves:?}"
        );
        // A floor that moves with its load both ways is unmasked as before.
        assert!(unmask(&follows, &load, false, &mut w, &mut by_levels));
        assert!(unmask(&follows, &load, true, &mut w, &mut by_moves));
        for (a, b) in by_levels.iter().zip(&by_moves) {
            assert!((a.value - b.value).abs() < 1e-6, "{a:?} {b:?}");
        }
        // A floor seen falling with the load at its first fall, with a leak from then on: the
        // first fall confirms the levels' response, so it is unmasked as by levels (the
        // monitor's test of a leak that starts as the load falls needs this).
        let late: Vec<Sample> = (0..48)
            .map(|i| {
                at(
                    i,
                    1000.0 + 2.0 * load[i as usize] + 3.0 * f64::from((i - 27).max(0)),
                )
            })
            .collect();
        let l = level_response(&late, &load).unwrap();
        assert!(followed_first_fall(&late, &load, l));
        let l = level_response(&warm, &load).unwrap();
        assert!(!followed_first_fall(&warm, &load, l));
        assert!(!followed_first_fall(&late, &[5.0; 48], 1.0));
        assert!(unmask(&late, &load, false, &mut w, &mut by_levels));
        assert!(unmask(&late, &load, true, &mut w, &mut by_moves));
        assert_eq!(by_levels, by_moves);
        // Growth at a constant rate goes to the intercept of the moves' fit, not to the load.
        let leak: Vec<Sample> = (0..48)
            .map(|i| at(i, 1000.0 + 2.0 * load[i as usize] + 3.0 * f64::from(i)))
            .collect();
        let beta = move_response(&leak, &load).unwrap();
        assert!((beta - 2.0).abs() < 1e-9, "{beta}");
        assert_eq!(move_response(&leak, &[5.0; 48]), None);
    }

    #[test]
    fn a_verdict_is_reused_only_for_the_same_growth_start_and_while_recent() {
        // The series of the test above: the load explains `follows` and not `leaks`.
        let load: Vec<f64> = (0..24)
            .map(|i| 50.0 + 30.0 * (f64::from(i) * 0.4 - 1.0).sin())
            .collect();
        let at = |i: i32, v: f64| Sample {
            ts_ms: i64::from(i) * 300_000,
            value: v,
        };
        let follows: Vec<Sample> = (0..24)
            .map(|i| at(i, 1000.0 + 2.0 * load[i as usize]))
            .collect();
        let leaks: Vec<Sample> = (0..24)
            .map(|i| at(i, 1000.0 + 10.0 * f64::from((i - 8).max(0))))
            .collect();
        let h = crate::detect::stats::hinge_fit(&leaks, 6).unwrap();
        let opts = |reuse_ms| VetoOptions {
            keeps: 0.9,
            curve: 2.5,
            ratchet: 0.0,
            slow_evidence: 0.0,
            reuse_ms,
            lag_ms: 0,
            urgent: false,
            level_rise_ms: 0,
            level_rise_decel: 0.75,
        };
        let explained_first = |points: &[Sample], h: &Hinge| {
            let mut w = LoadWork::default();
            let n = points.len();
            assert!(explains(points, &load[..n], h, &opts(600_000), &mut w));
            w
        };
        // A moment later, on the same growth start: the verdict stands, whatever the points.
        let mut w = explained_first(&follows, &h);
        assert!(explained_lately(&leaks, &h, 600_000, &w));
        assert!(explains(&leaks, &load, &h, &opts(600_000), &mut w));
        // Not when reuse is off.
        assert!(!explained_lately(&leaks, &h, 0, &w));
        assert!(!explains(&leaks, &load, &h, &opts(0), &mut w));
        // Nor for another growth start.
        let other = Hinge {
            index: h.index + 1,
            ..h
        };
        let mut w = explained_first(&follows, &other);
        assert!(!explained_lately(&leaks, &h, 600_000, &w));
        assert!(!explains(&leaks, &load, &h, &opts(600_000), &mut w));
        // Nor once it is older than the reuse time (15 min here).
        let mut w = explained_first(&follows[..21], &h);
        assert!(!explains(&leaks, &load, &h, &opts(600_000), &mut w));
    }
}
