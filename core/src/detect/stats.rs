//! Robust statistics of the detector: medians and selection on integer order keys, block
//! medians, Theil–Sen slopes with Sen's Mann–Kendall interval, the "flat, then rising" hinge,
//! the plateau and step tests, and the normal quantile (shared with attribution).
//!
//! Everything here works on the stack or on caller-owned scratch, so an evaluation never
//! allocates.

use crate::series::Sample;
use std::mem::MaybeUninit;

/// Most points the trend test looks at: longer segments are reduced to block medians.
pub(crate) const TEST_POINTS: usize = 24;
/// Most points in one block median (the blocks' scratch is on the stack).
pub(crate) const BLOCK_MAX: usize = 64;

/// Most points whose times [`hinge_fit`] keeps on the stack (a day and a half at 5-min
/// buckets); longer windows compute each time in the loop.
const HINGE_STACK: usize = 512;

/// The best "flat, then rising" fit of the floor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hinge {
    /// Index of the first point of the rising segment.
    pub(crate) index: usize,
    /// Level of the flat part.
    pub(crate) baseline: f64,
    /// Slope of the rising part, per second.
    pub(crate) slope: f64,
}

/// Least-squares fit of `y = b + r * max(0, t - t_c)` over every candidate hinge `t_c` (a point
/// with at least `min_tail` points from it on), in one pass with suffix sums. `None` when the best fit
/// does not rise.
pub(crate) fn hinge_fit(points: &[Sample], min_tail: usize) -> Option<Hinge> {
    let n = points.len();
    if n < min_tail {
        return None;
    }
    if n <= HINGE_STACK {
        hinge_fit_stack(points, min_tail)
    } else {
        hinge_fit_loop(points, min_tail)
    }
}

/// [`hinge_fit`] in one loop, each time computed in it (any length).
fn hinge_fit_loop(points: &[Sample], min_tail: usize) -> Option<Hinge> {
    let n = points.len();
    if n < min_tail {
        return None;
    }
    let t0 = points[0].ts_ms;
    let y0 = points[0].value;
    let x = |i: usize| points[i].ts_ms.saturating_sub(t0) as f64 / 3600e3;
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
        let t = x(i);
        let y = points[i].value - y0;
        st += t;
        stt += t * t;
        sty += t * y;
        sy_suf += y;
        let k = (n - i) as f64;
        if n - i < min_tail {
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

/// [`hinge_fit`] of at most [`HINGE_STACK`] points, in passes with the same arithmetic: the
/// times (vectorised divisions), the suffix sums and the values' sum (a chain of additions
/// per sum, each in its order), every candidate's score (independent of one another:
/// vectorised; both vectorised passes with AVX2 where the processor has it), then the best in
/// the same order and with the same strict comparison as one loop would find it.
fn hinge_fit_stack(points: &[Sample], min_tail: usize) -> Option<Hinge> {
    let n = points.len().min(HINGE_STACK);
    let y0 = points[0].value;
    // Uninitialised: zeroing 24 KiB at every fit cost a tenth of it.
    let mut xs = [const { MaybeUninit::<f64>::uninit() }; HINGE_STACK];
    hinge_times(&points[..n], &mut xs[..n]);
    // SAFETY: `hinge_times` wrote the first `n`.
    let xs: &[f64] = unsafe { std::slice::from_raw_parts(xs.as_ptr().cast(), n) };
    // Candidates `i` with `n - i >= min_tail`.
    let cands = (n + 1).saturating_sub(min_tail.max(1));
    let mut sums = [const { MaybeUninit::<[f64; 4]>::uninit() }; HINGE_STACK];
    let (mut st, mut stt, mut sty, mut sy_suf) = (0.0, 0.0, 0.0, 0.0);
    // The values' sum from the first point on (-0.0, as `Iterator::sum` starts), beside the
    // suffix sums from the last: five independent chains of additions in one loop.
    let mut sy = -0.0;
    for i in (0..n).rev() {
        sy += points[n - 1 - i].value - y0;
        let t = xs[i];
        let y = points[i].value - y0;
        st += t;
        stt += t * t;
        sty += t * y;
        sy_suf += y;
        sums[i].write([st, stt, sty, sy_suf]);
    }
    // SAFETY: the first `n` were written above.
    let sums: &[[f64; 4]] = unsafe { std::slice::from_raw_parts(sums.as_ptr().cast(), n) };
    let mut scores = [const { MaybeUninit::<f64>::uninit() }; HINGE_STACK];
    hinge_scores(n, sy, &xs[..cands], &sums[..cands], &mut scores[..cands]);
    // SAFETY: `hinge_scores` wrote the first `cands`.
    let scores: &[f64] = unsafe { std::slice::from_raw_parts(scores.as_ptr().cast(), cands) };
    // One loop from the last candidate down, keeping a strictly larger score, keeps the
    // last of the largest: the largest score in four independent lanes (no chain of
    // compare-and-keep through every candidate; a NaN is never kept), then its last index.
    let mut lanes = [0.0f64; 4];
    let mut chunks = scores.chunks_exact(4);
    for c in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = if x > *l { x } else { *l };
        }
    }
    for &x in chunks.remainder() {
        lanes[0] = if x > lanes[0] { x } else { lanes[0] };
    }
    let best_score = lanes
        .into_iter()
        .fold(0.0, |a, x| if x > a { x } else { a });
    if best_score <= 0.0 {
        return None;
    }
    let index = scores.iter().rposition(|&x| x == best_score)?;
    let (su, num, den) = hinge_terms(n, sy, xs[index], sums[index], index);
    let r = num / den;
    Some(Hinge {
        index,
        baseline: (sy - r * su) / n as f64 + y0,
        slope: r / 3600.0,
    })
}

/// The points' times in hours from the first (vectorised divisions, with AVX2 where the
/// processor has it).
fn hinge_times(points: &[Sample], xs: &mut [MaybeUninit<f64>]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked above).
        unsafe { hinge_times_avx2(points, xs) };
        return;
    }
    hinge_times_body(points, xs);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn hinge_times_avx2(points: &[Sample], xs: &mut [MaybeUninit<f64>]) {
    hinge_times_body(points, xs);
}

#[inline(always)]
fn hinge_times_body(points: &[Sample], xs: &mut [MaybeUninit<f64>]) {
    let t0 = points[0].ts_ms;
    for (slot, p) in xs.iter_mut().zip(points) {
        slot.write(p.ts_ms.saturating_sub(t0) as f64 / 3600e3);
    }
}

/// A hinge candidate's `Su`, `num` and `den` (see [`hinge_fit`]) from its time and suffix sums.
#[inline(always)]
fn hinge_terms(n: usize, sy: f64, t: f64, sums: [f64; 4], i: usize) -> (f64, f64, f64) {
    let [st, stt, sty, sy_suf] = sums;
    let nf = n as f64;
    let k = f64::from((n - i) as u32);
    let su = st - t * k;
    let suu = stt - 2.0 * t * st + t * t * k;
    let suy = sty - t * sy_suf;
    let den = nf * suu - su * su;
    let num = nf * suy - su * sy;
    (su, num, den)
}

/// Every candidate's score `num² / den`, 0 where the fit does not rise (never the best).
fn hinge_scores(n: usize, sy: f64, xs: &[f64], sums: &[[f64; 4]], scores: &mut [MaybeUninit<f64>]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked above).
        unsafe { hinge_scores_avx2(n, sy, xs, sums, scores) };
        return;
    }
    hinge_scores_body(n, sy, xs, sums, scores);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn hinge_scores_avx2(
    n: usize,
    sy: f64,
    xs: &[f64],
    sums: &[[f64; 4]],
    scores: &mut [MaybeUninit<f64>],
) {
    hinge_scores_body(n, sy, xs, sums, scores);
}

#[inline(always)]
fn hinge_scores_body(
    n: usize,
    sy: f64,
    xs: &[f64],
    sums: &[[f64; 4]],
    scores: &mut [MaybeUninit<f64>],
) {
    for (i, ((s, &t), &sum)) in scores.iter_mut().zip(xs).zip(sums).enumerate() {
        let (_, num, den) = hinge_terms(n, sy, t, sum, i);
        s.write(if den > 0.0 && num > 0.0 {
            num * num / den
        } else {
            0.0
        });
    }
}

/// Robust standard deviation (scaled median absolute residual) of `points` around the hinge.
pub(crate) fn residual_sigma(points: &[Sample], h: &Hinge, buf: &mut Vec<i64>) -> f64 {
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
pub(crate) fn plateau_f(blocks: &[(f64, f64)]) -> f64 {
    plateau(blocks).0
}

/// [`plateau_f`] and the index of the best knee (the block from which the fit is flat; 0 when
/// no fit rises).
pub(crate) fn plateau(blocks: &[(f64, f64)]) -> (f64, usize) {
    let k = blocks.len();
    if k < 5 {
        return (0.0, 0);
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
    let (mut best, mut knee) = (f64::INFINITY, 0);
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
        if rise > 0.0 && sse < best {
            (best, knee) = (sse, j);
        }
    }
    if !best.is_finite() {
        return (0.0, 0);
    }
    let f = (sse_line - best) / (best / (kf - 3.0));
    (if f.is_nan() { 0.0 } else { f }, knee)
}

/// Whether a straight line fits `blocks` (seconds, value) better, in squared error, than the
/// best split into two flat levels.
pub(crate) fn line_beats_step(blocks: &[(f64, f64)]) -> bool {
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
pub(crate) fn theil_sen(
    points: &[Sample],
    z: f64,
    slopes: &mut Vec<i64>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    sen(points, TEST_POINTS, Some((z, Bounds::Both)), slopes)
}

/// Which bounds of Sen's interval a caller uses: each costs one selection among the slopes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bounds {
    Low,
    High,
    Both,
}

/// Theil–Sen on at most `max_blocks` block medians of `points`; the interval's `Bounds` only
/// when `z` is given.
pub(crate) fn sen(
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
pub(crate) fn sen_blocks(
    blocks: &[(f64, f64)],
    z: Option<(f64, Bounds)>,
    slopes: &mut Vec<i64>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    sen_blocks_with(blocks, z, slopes, None)
}

/// [`sen_blocks`] with the selections bracketed by the ranks the same `site` of the previous
/// evaluation found ([`Slopes`]): the same values, found among fewer slopes.
pub(crate) fn sen_blocks_at(
    blocks: &[(f64, f64)],
    z: Option<(f64, Bounds)>,
    slopes: &mut Slopes,
    site: usize,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let Slopes { keys, spare, hints } = slopes;
    sen_blocks_with(blocks, z, keys, Some((spare, &mut hints[site])))
}

/// [`sen`] with [`sen_blocks_at`]'s bracketing.
pub(crate) fn sen_at(
    points: &[Sample],
    z: Option<(f64, Bounds)>,
    slopes: &mut Slopes,
    site: usize,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let mut blocks = [(0.0f64, 0.0f64); TEST_POINTS];
    let nb = reduce_blocks(points, &mut blocks, TEST_POINTS);
    sen_blocks_at(&blocks[..nb], z, slopes, site)
}

/// Where the slopes of a judgement are kept, with a bracket per call site ([`SEN_SITES`]) of
/// the ranks its last Theil–Sen found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slopes {
    keys: Vec<i64>,
    /// The slopes within a bracket (up to `TEST_POINTS²/2`).
    spare: Vec<i64>,
    /// Per site: order keys below and above the ranks its last selections found (an empty
    /// bracket, `(i64::MAX, i64::MIN)`, before its first).
    hints: [(i64, i64); SEN_SITES],
}

/// Call sites of [`sen_blocks_at`] with a bracket of their own (the judgements' in `assess`;
/// fixed: 9 × 16 bytes).
pub(crate) const SEN_SITES: usize = 9;

/// Fewest slopes for which [`sen_blocks_at`] brackets its selections.
const BRACKET_MIN: usize = 64;

impl Slopes {
    /// Room for the slopes of `TEST_POINTS` blocks.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Slopes {
            keys: Vec::with_capacity(capacity),
            spare: Vec::with_capacity(capacity),
            hints: [NO_BRACKET; SEN_SITES],
        }
    }
}

impl std::ops::Deref for Slopes {
    type Target = Vec<i64>;
    fn deref(&self) -> &Vec<i64> {
        &self.keys
    }
}

impl std::ops::DerefMut for Slopes {
    fn deref_mut(&mut self) -> &mut Vec<i64> {
        &mut self.keys
    }
}

/// A bracket's scratch and the bracket itself.
type Hint<'a> = (&'a mut Vec<i64>, &'a mut (i64, i64));

/// A bracket nothing falls within.
const NO_BRACKET: (i64, i64) = (i64::MAX, i64::MIN);

fn sen_blocks_with(
    blocks: &[(f64, f64)],
    z: Option<(f64, Bounds)>,
    slopes: &mut Vec<i64>,
    hint: Option<Hint>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let nb = blocks.len();
    if nb < 3 {
        return (None, None, None);
    }
    slopes.clear();
    if blocks.windows(2).all(|w| w[1].0 > w[0].0) {
        // Block times rise (always, from `reduce_blocks`), so every pair's `dt` is positive
        // (a difference of finite floats has the sign of the exact one): the pairs go in
        // without a test per pair, a row at a time, which is most of this function's time.
        pair_slopes(blocks, slopes);
    } else {
        for i in 0..nb {
            for j in i + 1..nb {
                let dt = blocks[j].0 - blocks[i].0;
                if dt > 0.0 {
                    slopes.push(order_key((blocks[j].1 - blocks[i].1) / dt));
                }
            }
        }
    }
    let m = slopes.len();
    if m == 0 {
        return (None, None, None);
    }
    let half = m / 2;
    // The ranks of Sen's bounds a caller uses, where they are not the median's.
    let (lo_rank, hi_rank) = z.map_or((None, None), |(z, bounds)| {
        let nbf = nb as f64;
        let var_s = nbf * (nbf - 1.0) * (2.0 * nbf + 5.0) / 18.0;
        let c = z * var_s.sqrt();
        let lo_rank = (((m as f64 - c) / 2.0).floor().max(0.0) as usize).min(m - 1);
        let hi_rank = (((m as f64 + c) / 2.0).ceil() as usize).min(m - 1);
        (
            (bounds != Bounds::High && lo_rank < half).then_some(lo_rank),
            (bounds != Bounds::Low && hi_rank > half).then_some(hi_rank),
        )
    });
    let ranks = match hint {
        Some((spare, hint)) if m >= BRACKET_MIN => {
            bracketed_ranks(slopes, spare, hint, half, lo_rank, hi_rank)
        }
        _ => sen_ranks(slopes, half, lo_rank, hi_rank),
    };
    let mid = from_order_key(ranks.mid);
    let below = ranks.below.map_or(f64::NEG_INFINITY, from_order_key);
    let med = if m % 2 == 1 { mid } else { (mid + below) / 2.0 };
    let Some((_, bounds)) = z else {
        return (finite(med), None, None);
    };
    let lo = (bounds != Bounds::High).then(|| ranks.lo.map_or(mid, from_order_key));
    let hi = (bounds != Bounds::Low).then(|| ranks.hi.map_or(mid, from_order_key));
    (finite(med), lo.and_then(finite), hi.and_then(finite))
}

/// The order keys Theil–Sen reads: the median's rank, the largest below it, and the bounds'
/// ranks that differ from the median's.
struct Ranks {
    mid: i64,
    below: Option<i64>,
    lo: Option<i64>,
    hi: Option<i64>,
}

/// [`Ranks`] of `v` (rank `half` and the ranks `lo` below it and `hi` above it).
fn sen_ranks(v: &mut [i64], half: usize, lo: Option<usize>, hi: Option<usize>) -> Ranks {
    let mid = *v.select_nth_unstable(half).1;
    // The median's selection split the slopes; each bound is selected in its half.
    Ranks {
        mid,
        below: v[..half].iter().copied().max(),
        lo: lo.map(|r| *v[..half].select_nth_unstable(r).1),
        hi: hi.map(|r| *v[half + 1..].select_nth_unstable(r - half - 1).1),
    }
}

/// Copies the keys of `v` within `[a, b]` to the front of `spare` (at least 4 longer than `v`)
/// in their order, and counts them and those below `a` (with AVX2 four at a time where the
/// processor has it: the same keys, the same order).
fn split_bracket(v: &[i64], spare: &mut [i64], a: i64, b: i64) -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked above).
        return unsafe { split_bracket_avx2(v, spare, a, b) };
    }
    split_bracket_scalar(v, spare, a, b, 0, 0)
}

/// [`split_bracket`] from `n` keys within and `below` keys below on, over `v`.
fn split_bracket_scalar(
    v: &[i64],
    spare: &mut [i64],
    a: i64,
    b: i64,
    mut n: usize,
    mut below: usize,
) -> (usize, usize) {
    for &x in v {
        spare[n] = x;
        n += usize::from(a <= x && x <= b);
        below += usize::from(x < a);
    }
    (n, below)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn split_bracket_avx2(v: &[i64], spare: &mut [i64], a: i64, b: i64) -> (usize, usize) {
    use std::arch::x86_64::*;
    // Per mask of the four lanes within: the 32-bit lane indices that move them to the front.
    const PERM: [[i32; 8]; 16] = {
        let mut t = [[0i32; 8]; 16];
        let mut m = 0;
        while m < 16 {
            let mut k = 0;
            let mut lane = 0;
            while lane < 4 {
                if m & (1 << lane) != 0 {
                    t[m][2 * k] = 2 * lane;
                    t[m][2 * k + 1] = 2 * lane + 1;
                    k += 1;
                }
                lane += 1;
            }
            m += 1;
        }
        t
    };
    assert!(spare.len() >= v.len() + 4);
    let (va, vb) = (_mm256_set1_epi64x(a), _mm256_set1_epi64x(b));
    let (mut n, mut below) = (0usize, 0usize);
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        // SAFETY: `c` holds 4 keys; `spare` has room for 4 at `n` (n <= keys read, and it
        // is 4 longer than `v`); `PERM` rows are 8 lanes.
        unsafe {
            let x = _mm256_loadu_si256(c.as_ptr().cast());
            let lt = _mm256_cmpgt_epi64(va, x);
            let out = _mm256_or_si256(lt, _mm256_cmpgt_epi64(x, vb));
            let m_lt = _mm256_movemask_pd(_mm256_castsi256_pd(lt)) as u32;
            let m_in = !(_mm256_movemask_pd(_mm256_castsi256_pd(out)) as u32) & 0xf;
            let perm = _mm256_loadu_si256(PERM[m_in as usize].as_ptr().cast());
            let moved = _mm256_permutevar8x32_epi32(x, perm);
            _mm256_storeu_si256(spare[n..n + 4].as_mut_ptr().cast(), moved);
            n += m_in.count_ones() as usize;
            below += m_lt.count_ones() as usize;
        }
    }
    split_bracket_scalar(rest, spare, a, b, n, below)
}

/// [`sen_ranks`] among the slopes within the bracket `hint` (one pass counts those below it and
/// copies those within into `spare`) when the ranks read fall within it, else among all; then
/// the bracket for the next call: the keys read, widened on each side by half their distance
/// (as order keys: a relative margin). A judgement a bucket later sees nearly the same slopes:
/// on the day a leak is judged before it fires 9 in 10 calls fall within the bracket, among a
/// third of the slopes. Ranks are exact, so the values are the same either way.
fn bracketed_ranks(
    v: &mut [i64],
    spare: &mut Vec<i64>,
    hint: &mut (i64, i64),
    half: usize,
    lo: Option<usize>,
    hi: Option<usize>,
) -> Ranks {
    let lowest = lo.unwrap_or(half - 1).min(half - 1);
    let highest = hi.unwrap_or(half);
    let (a, b) = *hint;
    let within = (a <= b).then(|| {
        if spare.len() < v.len() + 4 {
            spare.resize(v.len() + 4, 0);
        }
        let (n, below) = split_bracket(v, spare, a, b);
        (below <= lowest && below + n > highest).then(|| {
            let (lo, hi) = (lo.map(|r| r - below), hi.map(|r| r - below));
            sen_ranks(&mut spare[..n], half - below, lo, hi)
        })
    });
    let r = within
        .flatten()
        .unwrap_or_else(|| sen_ranks(v, half, lo, hi));
    let first = r.lo.or(r.below).unwrap_or(r.mid);
    let last = r.hi.unwrap_or(r.mid);
    let d = (i128::from(last) - i128::from(first)) / 2 + 1;
    let clamp = |k: i128| k.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    *hint = (clamp(i128::from(first) - d), clamp(i128::from(last) + d));
    r
}

/// The order keys of every pair's slope `(v_j - v_i) / (t_j - t_i)`, `i < j`, row by row,
/// appended to `slopes` (vectorised, with AVX2 where the processor has it: the same divisions).
fn pair_slopes(blocks: &[(f64, f64)], slopes: &mut Vec<i64>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked above).
        unsafe { pair_slopes_avx2(blocks, slopes) };
        return;
    }
    pair_slopes_body(blocks, slopes);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pair_slopes_avx2(blocks: &[(f64, f64)], slopes: &mut Vec<i64>) {
    pair_slopes_body(blocks, slopes);
}

#[inline(always)]
fn pair_slopes_body(blocks: &[(f64, f64)], slopes: &mut Vec<i64>) {
    for (i, &(ti, vi)) in blocks.iter().enumerate() {
        slopes.extend(
            blocks[i + 1..]
                .iter()
                .map(|&(t, v)| order_key((v - vi) / (t - ti))),
        );
    }
}

/// A least-squares parabola `v(t) = a + b t + c t^2` through block medians (`t` in seconds):
/// the value and rate it gives at `at` seconds, its curvature `c`, and `c`'s standard error
/// from the residuals. `None` for fewer than 6 blocks or a degenerate spread of times.
pub(crate) fn parabola(blocks: &[(f64, f64)], at: f64) -> Option<Parabola> {
    let n = blocks.len();
    let span = blocks.last()?.0 - blocks.first()?.0;
    if n < 6 || span <= 0.0 {
        return None;
    }
    // Times scaled to [0, 1] keep the normal equations well conditioned.
    let t0 = blocks[0].0;
    let mut s = [0.0f64; 5];
    let mut y = [0.0f64; 3];
    for &(t, v) in blocks {
        let u = (t - t0) / span;
        let mut p = 1.0;
        for k in s.iter_mut() {
            *k += p;
            p *= u;
        }
        y[0] += v;
        y[1] += u * v;
        y[2] += u * u * v;
    }
    let m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]];
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if !det.is_normal() {
        return None;
    }
    // The inverse by cofactors (symmetric).
    let inv = [
        [
            (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det,
            (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det,
            (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det,
        ],
        [
            (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det,
            (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det,
            (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det,
        ],
        [
            (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det,
            (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det,
            (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det,
        ],
    ];
    let coef = |r: usize| inv[r][0] * y[0] + inv[r][1] * y[1] + inv[r][2] * y[2];
    let (a, b, c) = (coef(0), coef(1), coef(2));
    let ssr: f64 = blocks
        .iter()
        .map(|&(t, v)| {
            let u = (t - t0) / span;
            let r = v - (a + b * u + c * u * u);
            r * r
        })
        .sum();
    let var = ssr / (n - 3) as f64;
    let u = (at - t0) / span;
    let out = Parabola {
        value: a + b * u + c * u * u,
        rate: (b + 2.0 * c * u) / span,
        curvature: c / (span * span),
        curvature_se: (var * inv[2][2]).max(0.0).sqrt() / (span * span),
    };
    [out.value, out.rate, out.curvature, out.curvature_se]
        .iter()
        .all(|x| x.is_finite())
        .then_some(out)
}

/// What [`parabola`] returns (per second and per second squared).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Parabola {
    pub(crate) value: f64,
    pub(crate) rate: f64,
    pub(crate) curvature: f64,
    pub(crate) curvature_se: f64,
}

/// Splits `points` into at most `max_blocks` consecutive blocks; each block becomes (time of
/// its middle point in seconds from the first, median value). Returns the number of blocks.
pub(crate) fn reduce_blocks(
    points: &[Sample],
    out: &mut [(f64, f64); TEST_POINTS],
    max_blocks: usize,
) -> usize {
    reduce_blocks_by(points, out, max_blocks, |_, p| p.value)
}

/// [`reduce_blocks`] of `value(i, points[i])` in place of each point's value (the floor with
/// the load's part out, `warmup_load_out`), with no buffer of the changed points.
pub(crate) fn reduce_blocks_by(
    points: &[Sample],
    out: &mut [(f64, f64); TEST_POINTS],
    max_blocks: usize,
    value: impl Fn(usize, &Sample) -> f64,
) -> usize {
    let n = points.len();
    if n == 0 {
        return 0;
    }
    let t0 = points[0].ts_ms;
    let nb = n.min(max_blocks).min(TEST_POINTS);
    let mut vals = [0i64; BLOCK_MAX];
    // Block `b` starts at `b·n / nb`: the quotient and remainder of `b·n` stepped by those of
    // `n` from one block to the next (the same integers) instead of two divisions per block,
    // which were a fifth of this function's time, on every judgement.
    let (step_q, step_r) = (n / nb, n % nb);
    let (mut q, mut r) = (0, 0);
    for slot in out.iter_mut().take(nb) {
        let lo = q;
        q += step_q;
        r += step_r;
        if r >= nb {
            q += 1;
            r -= nb;
        }
        let hi = q.max(lo + 1).min(n);
        let block = &points[lo..hi];
        let mid = block[block.len() / 2].ts_ms.saturating_sub(t0) as f64 / 1000.0;
        let len = block.len().min(vals.len());
        let value = if len <= 16 {
            let mut a = [0i64; 16];
            for (i, (v, p)) in a.iter_mut().zip(block).enumerate() {
                *v = order_key(value(lo + i, p));
            }
            median_small(&mut a, len)
        } else {
            for (i, (v, p)) in vals.iter_mut().zip(block).enumerate() {
                *v = order_key(value(lo + i, p));
            }
            median(&mut vals[..len])
        };
        *slot = (mid, value);
    }
    nb
}

/// The median value of at most `TEST_POINTS` blocks.
pub(crate) fn block_median(blocks: &[(f64, f64)]) -> f64 {
    let mut v = [0i64; TEST_POINTS];
    let n = blocks.len().min(TEST_POINTS);
    for (x, b) in v.iter_mut().zip(blocks) {
        *x = order_key(b.1);
    }
    median(&mut v[..n])
}

/// The arithmetic mean of `v` (NaN when empty).
pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The median of values given as [`order_key`]s (lower middle for even lengths averaged with
/// the upper); NaN when empty.
pub(crate) fn median(v: &mut [i64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    // Sorted, the middle values are in place (the same values a selection finds).
    if (2..=16).contains(&n) {
        let mut a = [0i64; 16];
        for (x, &k) in a.iter_mut().zip(v.iter()) {
            *x = k;
        }
        return median_small(&mut a, n);
    }
    let hi = select(v, n / 2);
    if n % 2 == 1 {
        hi
    } else {
        // Selection left the smaller half in front: the lower middle is its largest.
        (hi + from_order_key(v[..n / 2].iter().copied().max().expect("n >= 2"))) / 2.0
    }
}

/// Compare-exchanges of a sorting network on the array `a`, each branch-free (a minimum and a
/// maximum), with constant indices so that the values stay in registers.
macro_rules! network {
    ($a:ident; $(($i:literal, $j:literal))*) => {{
        $(
            let (x, y) = ($a[$i], $a[$j]);
            $a[$i] = x.min(y);
            $a[$j] = x.max(y);
        )*
    }};
}

/// Sorts the first `n` keys of `a`: for 2 to 16, Batcher's odd-even merge sort network of the
/// next power of two without the comparators that reach past them (a padding of largest keys
/// would stay where it is; each network is checked on every 0-1 input in the tests), else
/// `sort_unstable`. A selection among a dozen values (a block median of a day's window) mostly
/// pays for mispredicted branches; the network's fixed sequence has none. The sorted order is
/// the one any selection's values come from.
fn sort_small(a: &mut [i64; 16], n: usize) {
    match n {
        2 => network!(a; (0,1)),
        3 => network!(a; (0,1) (0,2) (1,2)),
        4 => network!(a; (0,1) (2,3) (0,2) (1,3) (1,2)),
        5 => network!(a; (0,1) (2,3) (0,2) (1,3) (1,2) (0,4) (2,4) (1,2) (3,4)),
        6 => network!(a; (0,1) (2,3) (4,5) (0,2) (1,3) (1,2) (0,4) (1,5) (2,4) (3,5) (1,2) (3,4)),
        7 => {
            network!(a; (0,1) (2,3) (4,5) (0,2) (1,3) (4,6) (1,2) (5,6) (0,4) (1,5) (2,6) (2,4) (3,5) (1,2) (3,4) (5,6))
        }
        8 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (0,2) (1,3) (4,6) (5,7) (1,2) (5,6) (0,4) (1,5) (2,6) (3,7) (2,4) (3,5) (1,2) (3,4) (5,6))
        }
        9 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (0,2) (1,3) (4,6) (5,7) (1,2) (5,6) (0,4) (1,5) (2,6) (3,7) (2,4) (3,5) (1,2) (3,4) (5,6) (0,8) (4,8) (2,4) (3,5) (6,8) (1,2) (3,4) (5,6) (7,8))
        }
        10 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (0,2) (1,3) (4,6) (5,7) (1,2) (5,6) (0,4) (1,5) (2,6) (3,7) (2,4) (3,5) (1,2) (3,4) (5,6) (0,8) (1,9) (4,8) (5,9) (2,4) (3,5) (6,8) (7,9) (1,2) (3,4) (5,6) (7,8))
        }
        11 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (0,2) (1,3) (4,6) (5,7) (8,10) (1,2) (5,6) (9,10) (0,4) (1,5) (2,6) (3,7) (2,4) (3,5) (1,2) (3,4) (5,6) (9,10) (0,8) (1,9) (2,10) (4,8) (5,9) (6,10) (2,4) (3,5) (6,8) (7,9) (1,2) (3,4) (5,6) (7,8) (9,10))
        }
        12 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (10,11) (0,2) (1,3) (4,6) (5,7) (8,10) (9,11) (1,2) (5,6) (9,10) (0,4) (1,5) (2,6) (3,7) (2,4) (3,5) (1,2) (3,4) (5,6) (9,10) (0,8) (1,9) (2,10) (3,11) (4,8) (5,9) (6,10) (7,11) (2,4) (3,5) (6,8) (7,9) (1,2) (3,4) (5,6) (7,8) (9,10))
        }
        13 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (10,11) (0,2) (1,3) (4,6) (5,7) (8,10) (9,11) (1,2) (5,6) (9,10) (0,4) (1,5) (2,6) (3,7) (8,12) (2,4) (3,5) (10,12) (1,2) (3,4) (5,6) (9,10) (11,12) (0,8) (1,9) (2,10) (3,11) (4,12) (4,8) (5,9) (6,10) (7,11) (2,4) (3,5) (6,8) (7,9) (10,12) (1,2) (3,4) (5,6) (7,8) (9,10) (11,12))
        }
        14 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (10,11) (12,13) (0,2) (1,3) (4,6) (5,7) (8,10) (9,11) (1,2) (5,6) (9,10) (0,4) (1,5) (2,6) (3,7) (8,12) (9,13) (2,4) (3,5) (10,12) (11,13) (1,2) (3,4) (5,6) (9,10) (11,12) (0,8) (1,9) (2,10) (3,11) (4,12) (5,13) (4,8) (5,9) (6,10) (7,11) (2,4) (3,5) (6,8) (7,9) (10,12) (11,13) (1,2) (3,4) (5,6) (7,8) (9,10) (11,12))
        }
        15 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (10,11) (12,13) (0,2) (1,3) (4,6) (5,7) (8,10) (9,11) (12,14) (1,2) (5,6) (9,10) (13,14) (0,4) (1,5) (2,6) (3,7) (8,12) (9,13) (10,14) (2,4) (3,5) (10,12) (11,13) (1,2) (3,4) (5,6) (9,10) (11,12) (13,14) (0,8) (1,9) (2,10) (3,11) (4,12) (5,13) (6,14) (4,8) (5,9) (6,10) (7,11) (2,4) (3,5) (6,8) (7,9) (10,12) (11,13) (1,2) (3,4) (5,6) (7,8) (9,10) (11,12) (13,14))
        }
        16 => {
            network!(a; (0,1) (2,3) (4,5) (6,7) (8,9) (10,11) (12,13) (14,15) (0,2) (1,3) (4,6) (5,7) (8,10) (9,11) (12,14) (13,15) (1,2) (5,6) (9,10) (13,14) (0,4) (1,5) (2,6) (3,7) (8,12) (9,13) (10,14) (11,15) (2,4) (3,5) (10,12) (11,13) (1,2) (3,4) (5,6) (9,10) (11,12) (13,14) (0,8) (1,9) (2,10) (3,11) (4,12) (5,13) (6,14) (7,15) (4,8) (5,9) (6,10) (7,11) (2,4) (3,5) (6,8) (7,9) (10,12) (11,13) (1,2) (3,4) (5,6) (7,8) (9,10) (11,12) (13,14))
        }
        _ => a[..n.min(16)].sort_unstable(),
    }
}

/// The median of the first `n` (1 to 16) keys of `a`, as [`median`] gives it; sorts them.
fn median_small(a: &mut [i64; 16], n: usize) -> f64 {
    sort_small(a, n);
    let hi = from_order_key(a[n / 2]);
    if n % 2 == 1 {
        hi
    } else {
        (hi + from_order_key(a[n / 2 - 1])) / 2.0
    }
}

/// The `k`-th smallest of values given as [`order_key`]s.
pub(crate) fn select(v: &mut [i64], k: usize) -> f64 {
    from_order_key(*v.select_nth_unstable(k).1)
}

/// `v` as an integer in the order of `f64::total_cmp` (NaN cannot panic), which is its own
/// inverse. The medians and Theil–Sen selections are most of an evaluation's work, and
/// selecting integers skips the float-to-order transform `total_cmp` makes at every comparison.
pub(crate) fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The f64 whose [`order_key`] is `key`.
pub(crate) fn from_order_key(key: i64) -> f64 {
    let bits = key ^ ((((key >> 63) as u64) >> 1) as i64);
    f64::from_bits(bits as u64)
}

/// `v` when it is finite.
pub(crate) fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
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

    #[test]
    fn a_parabola_recovers_its_curvature() {
        let blocks: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                let t = 600.0 * i as f64;
                (
                    t,
                    100.0 + 0.5 * t + 1e-4 * t * t + if i % 2 == 0 { 1.0 } else { -1.0 },
                )
            })
            .collect();
        let p = parabola(&blocks, 12_000.0).unwrap();
        assert!((p.curvature - 1e-4).abs() < 1e-6, "{p:?}");
        assert!((p.rate - (0.5 + 2e-4 * 12_000.0)).abs() < 0.01, "{p:?}");
        assert!(p.curvature_se > 0.0 && p.curvature_se < 1e-6, "{p:?}");
        assert!(parabola(&blocks[..5], 0.0).is_none());
    }
    use super::*;
    use crate::detect::assess::PLATEAU_F;

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
    fn the_small_sorting_networks_sort_every_0_1_input() {
        // A comparator network that sorts every 0-1 input sorts every input (Knuth's 0-1
        // principle).
        for n in 2..=16usize {
            for bits in 0u32..1 << n {
                let mut a = [i64::MAX; 16];
                for (i, x) in a.iter_mut().take(n).enumerate() {
                    *x = i64::from((bits >> i) & 1);
                }
                sort_small(&mut a, n);
                assert!(a[..n].is_sorted(), "n = {n}, bits = {bits:b}");
            }
        }
    }

    #[test]
    fn normal_quantile_matches_known_values() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.001) + 3.090232).abs() < 1e-5);
    }

    proptest::proptest! {
        /// The blocks' bounds stepped are the divided ones `b·n / nb`: the same times and
        /// medians, to the bit, for any length and number of blocks.
        #[test]
        fn blocks_stepped_are_the_divided_ones(
            v in proptest::collection::vec(-50i32..50, 1..1600),
            max_blocks in 1usize..40,
        ) {
            let points: Vec<Sample> = v
                .iter()
                .enumerate()
                .map(|(i, &x)| Sample { ts_ms: 1_000 * i as i64 + i64::from(x).abs(), value: f64::from(x) * 0.3 })
                .collect();
            let mut got = [(0.0f64, 0.0f64); TEST_POINTS];
            let nb = reduce_blocks(&points, &mut got, max_blocks);
            let n = points.len();
            proptest::prop_assert_eq!(nb, n.min(max_blocks).min(TEST_POINTS));
            for (b, g) in got.iter().enumerate().take(nb) {
                let lo = b * n / nb;
                let hi = ((b + 1) * n / nb).max(lo + 1).min(n);
                let block = &points[lo..hi];
                let mid = block[block.len() / 2].ts_ms.saturating_sub(points[0].ts_ms) as f64 / 1000.0;
                let mut keys: Vec<i64> = block.iter().take(BLOCK_MAX).map(|p| order_key(p.value)).collect();
                proptest::prop_assert_eq!(g.0.to_bits(), mid.to_bits());
                proptest::prop_assert_eq!(g.1.to_bits(), median(&mut keys).to_bits());
            }
        }
    }

    proptest::proptest! {
        /// The median (sorted by a network up to 16 values, selected above) is the middle of
        /// the sorted values, or the mean of the two middle ones, to the bit.
        #[test]
        fn medians_are_the_sorted_middle(
            v in proptest::collection::vec(proptest::num::f64::ANY, 1..40),
        ) {
            let mut keys: Vec<i64> = v.iter().map(|&x| order_key(x)).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            let (n, at) = (keys.len(), |i: usize| from_order_key(sorted[i]));
            let want = if n % 2 == 1 { at(n / 2) } else { (at(n / 2) + at(n / 2 - 1)) / 2.0 };
            proptest::prop_assert_eq!(median(&mut keys).to_bits(), want.to_bits());
        }

        /// The hinge in three passes (scores vectorised, with AVX2 where the processor has
        /// it) finds the one loop's hinge to the bit; the scalar scores are the AVX2 ones.
        #[test]
        fn the_hinge_in_passes_is_the_one_loops(
            steps in proptest::collection::vec(1i64..900_000, 1..HINGE_STACK),
            values in proptest::collection::vec(-1e9f64..1e9, HINGE_STACK),
            ramp in -1e3f64..1e3,
            min_tail in 0usize..12,
        ) {
            let mut t = 1_700_000_000_000i64;
            let points: Vec<Sample> = steps
                .iter()
                .zip(&values)
                .enumerate()
                .map(|(i, (&dt, &v))| {
                    t += dt;
                    Sample { ts_ms: t, value: v * 1e-3 + ramp * i as f64 }
                })
                .collect();
            let n = points.len();
            let bits = |h: Option<Hinge>| h.map(|h| (h.index, h.baseline.to_bits(), h.slope.to_bits()));
            if n >= min_tail {
                proptest::prop_assert_eq!(
                    bits(hinge_fit_stack(&points, min_tail)),
                    bits(hinge_fit_loop(&points, min_tail))
                );
            }
            let xs: Vec<f64> = points.iter().map(|p| (p.ts_ms - points[0].ts_ms) as f64 / 3600e3).collect();
            let sums: Vec<[f64; 4]> = values[..n].iter().map(|&v| [v, v * 0.5, -v, v * v]).collect();
            let sy = values[n];
            let mut a = vec![MaybeUninit::uninit(); n];
            let mut b = vec![MaybeUninit::uninit(); n];
            hinge_scores(n, sy, &xs, &sums, &mut a);
            hinge_scores_body(n, sy, &xs, &sums, &mut b);
            // SAFETY: both wrote all `n`.
            let (a, b) = unsafe { (a.iter().map(|x| x.assume_init().to_bits()).collect::<Vec<_>>(), b.iter().map(|x| x.assume_init().to_bits()).collect::<Vec<_>>()) };
            proptest::prop_assert_eq!(a, b);
            let mut a = vec![MaybeUninit::uninit(); n];
            let mut b = vec![MaybeUninit::uninit(); n];
            hinge_times(&points, &mut a);
            hinge_times_body(&points, &mut b);
            // SAFETY: both wrote all `n`.
            let (a, b) = unsafe {
                (
                    a.iter().map(|x| x.assume_init().to_bits()).collect::<Vec<_>>(),
                    b.iter().map(|x| x.assume_init().to_bits()).collect::<Vec<_>>(),
                )
            };
            proptest::prop_assert_eq!(a, b);
        }

        /// Theil–Sen with brackets carried from call to call (series that drift, jump, repeat
        /// values, cross zero) gives the plain selections' values to the bit, every bound.
        #[test]
        fn bracketed_sen_is_the_plain_one(
            series in proptest::collection::vec(
                (8usize..=TEST_POINTS, -3.0f64..3.0, 0.0f64..5.0, 0u8..4, proptest::prelude::any::<u64>()),
                1..12,
            ),
        ) {
            let mut slopes = Slopes::with_capacity(0);
            let mut plain = Vec::new();
            for (nb, rate, noise, kind, seed) in series {
                let mut x = seed;
                let mut blocks = Vec::with_capacity(nb);
                for i in 0..nb {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let u = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                    let v = match kind {
                        0 => rate * i as f64 + noise * u,
                        1 => (rate * i as f64).round(),
                        2 => noise * u,
                        _ => -rate * i as f64 * 1e-9 + u * 1e-12,
                    };
                    blocks.push((300.0 * i as f64 + 1.0, v));
                }
                for (z, bounds) in [(1.96, Bounds::Low), (1.64, Bounds::High), (2.5, Bounds::Both)] {
                    let want = sen_blocks(&blocks, Some((z, bounds)), &mut plain);
                    let got = sen_blocks_at(&blocks, Some((z, bounds)), &mut slopes, 0);
                    let bits = |r: (Option<f64>, Option<f64>, Option<f64>)| {
                        (r.0.map(f64::to_bits), r.1.map(f64::to_bits), r.2.map(f64::to_bits))
                    };
                    proptest::prop_assert_eq!(bits(got), bits(want));
                }
            }
        }

        /// The bracket's split (with AVX2 where the processor has it) is the scalar loop's.
        #[test]
        fn dispatched_bracket_split_is_the_scalar_one(
            v in proptest::collection::vec(-50i64..50, 0..300),
            a in -60i64..60,
            width in -5i64..60,
        ) {
            let b = a + width;
            let (mut x, mut y) = (vec![0; v.len() + 4], vec![0; v.len() + 4]);
            let got = split_bracket(&v, &mut x, a, b);
            let want = split_bracket_scalar(&v, &mut y, a, b, 0, 0);
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(&x[..got.0], &y[..want.0]);
        }

        /// The pair slopes (with AVX2 where the processor has it) are the scalar loop's.
        #[test]
        fn dispatched_pair_slopes_are_the_scalar_ones(
            blocks in proptest::collection::vec((-1e7f64..1e7, -1e12f64..1e12), 0..TEST_POINTS + 2),
        ) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            pair_slopes(&blocks, &mut a);
            pair_slopes_body(&blocks, &mut b);
            proptest::prop_assert_eq!(a, b);
        }

        #[test]
        fn order_keys_sort_like_total_cmp_and_round_trip(
            a in proptest::num::f64::ANY,
            b in proptest::num::f64::ANY,
        ) {
            proptest::prop_assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b));
            proptest::prop_assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
        }
    }
}
