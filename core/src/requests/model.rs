//! The attribution model: which floor points it fits, where growth starts, which routes get
//! their own column, and the estimates it reports (the reasoning is in `attribute.rs`'s module
//! documentation and docs/design/attribution.md).

use super::attribute::{AttributionConfig, BACKGROUND, ModelFit, RouteEstimate};
use super::fit::{Fit, RHO_GRID, co_rows, fit};
use super::tracker::TrackerSnapshot;
use crate::series::Sample;

/// Fewest floor points since the start the model fits: intercept, background and one route,
/// with three residual degrees of freedom.
const MIN_POINTS: usize = 6;

/// How far from the detector's growth start the model looks for its own (and how far before
/// it the flat floor is taken in).
const START_SEARCH_MS: i64 = 3600 * 1000;

pub(super) fn fit_model(
    snap: &TrackerSnapshot,
    floor: &[Sample],
    gs: i64,
    cfg: &AttributionConfig,
    notes: &mut Vec<String>,
) -> Option<ModelFit> {
    if floor.len() < 3 || snap.slots.is_empty() {
        notes.push("model: too few floor points or no request counts".into());
        return None;
    }
    let points = floor_points(snap, floor, gs, cfg.block_ms);
    let n = points.len();
    let times: Vec<i64> = points.iter().map(|f| f.ts_ms).collect();
    // Candidate starts: points within the search range of the detector's start that leave
    // enough points after them for a fit.
    let candidates: Vec<usize> = (0..n.saturating_sub(MIN_POINTS - 1))
        .filter(|&k| (times[k] - gs).abs() <= START_SEARCH_MS)
        .collect();
    if candidates.is_empty() {
        let since = times.iter().filter(|&&t| t >= gs).count();
        notes.push(format!(
            "model: {since} floor points since growth began; need {MIN_POINTS}"
        ));
        return None;
    }
    let problem = Problem::new(snap, points, gs, cfg.top_k);
    let (rho, start) = problem.rho_and_start(&candidates, gs);
    let own = problem.pursue_columns(start, rho);
    Some(problem.model_fit(snap, start, rho, &own, cfg))
}

/// The floor points observed (troughs of the sawtooth, not interpolated values, which would
/// smear growth across points), at least `block_ms` apart, from an hour before growth began:
/// the detector's growth start is an estimate, so the model looks for its own start nearby,
/// and the points before it pin the level the growth rose from.
fn floor_points(snap: &TrackerSnapshot, floor: &[Sample], gs: i64, block_ms: i64) -> Vec<Sample> {
    let last_slot_end = snap.slots.last().map_or(0, |s| s.start_ms + snap.slot_ms);
    let mut points: Vec<Sample> = Vec::new();
    for f in floor
        .iter()
        .filter(|f| f.ts_ms >= gs - START_SEARCH_MS && f.ts_ms <= last_slot_end)
    {
        if points.last().is_none_or(|l| f.ts_ms - l.ts_ms >= block_ms) {
            points.push(*f);
        }
    }
    points
}

/// What the model fits: the floor points and the requests per route up to each.
struct Problem {
    design: Design,
    y: Vec<f64>,
    /// Routes with requests since growth began, busiest first.
    busiest: Vec<usize>,
    /// Most route columns the points support.
    k_max: usize,
}

impl Problem {
    fn new(snap: &TrackerSnapshot, points: Vec<Sample>, gs: i64, top_k: usize) -> Problem {
        let n = points.len();
        let times: Vec<i64> = points.iter().map(|f| f.ts_ms).collect();
        // Requests per route from the first point up to each point. A slot's requests are
        // spread evenly over it, so a point inside a slot counts the elapsed share of it:
        // snapping to slot edges would shift up to half a slot of requests to the wrong side
        // of a point.
        let nr = snap.routes.len();
        let before_each = requests_before(snap, &times);
        let cum: Vec<f64> = before_each
            .iter()
            .flat_map(|at| at.iter().zip(&before_each[0]).map(|(a, first)| a - first))
            .collect();
        let at_gs = times.partition_point(|&t| t < gs).min(n - 1);
        let totals: Vec<f64> = (0..nr)
            .map(|r| cum[(n - 1) * nr + r] - cum[at_gs * nr + r])
            .collect();
        let mut busiest: Vec<usize> = (0..nr).filter(|&r| totals[r] > 0.0).collect();
        busiest.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]));
        // Keep about two points since growth began per coefficient beyond intercept and
        // background.
        let k_max = top_k.min((n - at_gs).saturating_sub(4) / 2).max(1);
        Problem {
            design: Design { cum, nr, times },
            y: points.iter().map(|f| f.value).collect(),
            busiest,
            k_max,
        }
    }

    fn fit_with(&self, start: usize, own: &[usize], pooled: &[usize], rho: f64) -> Fit {
        fit(&self.design.matrix(start, own, pooled), &self.y, rho)
    }

    /// The error correlation and the growth start, both chosen with the busiest routes as
    /// columns.
    ///
    /// The floor's noise is autocorrelated: a trough read late in a busy spell stays high for
    /// several points, and RSS follows a high-water mark whose jumps persist. Ignoring that
    /// gives intervals too narrow to trust, so the rows are Cochrane–Orcutt transformed with
    /// the error correlation `rho` that fits best (Hildreth–Lu grid search): rho = 0 fits the
    /// levels, rho = 1 the growth between consecutive points.
    fn rho_and_start(&self, candidates: &[usize], gs: i64) -> (f64, usize) {
        let times = &self.design.times;
        let near_gs = *candidates
            .iter()
            .min_by_key(|&&k| (times[k] - gs).abs())
            .expect("candidates is not empty");
        let (first_own, first_pooled) = self.busiest.split_at(self.busiest.len().min(self.k_max));
        let rss_of =
            |start: usize, rho: f64| self.fit_with(start, first_own, first_pooled, rho).rss;
        let rho = RHO_GRID
            .iter()
            .map(|&r| (r, rss_of(near_gs, r)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map_or(0.0, |(r, _)| r);
        let start = candidates
            .iter()
            .map(|&k| (k, rss_of(k, rho)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map_or(near_gs, |(k, _)| k);
        (rho, start)
    }

    /// The busiest routes not in `own`: they share the `_other` column.
    fn pooled(&self, own: &[usize]) -> Vec<usize> {
        self.busiest
            .iter()
            .copied()
            .filter(|r| !own.contains(r))
            .collect()
    }

    /// The routes with their own coefficient, chosen one at a time as the route whose
    /// requests best match the growth still unexplained (orthogonal matching pursuit), the
    /// rest pooled in `_other`. Choosing by traffic alone pooled a quiet leaking route, and
    /// then the busy route whose traffic looked most like it took the blame.
    fn pursue_columns(&self, start: usize, rho: f64) -> Vec<usize> {
        let (n, y) = (self.y.len(), &self.y);
        let mut own: Vec<usize> = Vec::new();
        while own.len() < self.k_max {
            let pooled = self.pooled(&own);
            let a = self.design.matrix(start, &own, &pooled);
            let fitted = fit(&a, y, rho);
            let betas = fitted.betas();
            let unexplained: Vec<f64> = (0..n)
                .map(|k| {
                    y[k] - (0..betas.len())
                        .map(|j| a[k * betas.len() + j] * betas[j])
                        .sum::<f64>()
                })
                .collect();
            let unexplained = co_rows(&unexplained, rho);
            let best = pooled
                .iter()
                .filter_map(|&r| {
                    let col = co_rows(&self.design.route_since(start, r), rho);
                    let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let dot: f64 = col.iter().zip(&unexplained).map(|(c, u)| c * u).sum();
                    (norm > 0.0 && dot > 0.0).then_some((r, dot / norm))
                })
                .max_by(|x, y| x.1.total_cmp(&y.1));
            match best {
                Some((r, _)) => own.push(r),
                None => break,
            }
        }
        own
    }

    /// The final fit with `own` as route columns: estimates, intervals and shares.
    fn model_fit(
        &self,
        snap: &TrackerSnapshot,
        start: usize,
        rho: f64,
        own: &[usize],
        cfg: &AttributionConfig,
    ) -> ModelFit {
        let n = self.y.len();
        let pooled = self.pooled(own);
        let mut names: Vec<String> = own.iter().map(|&r| snap.routes[r].route.clone()).collect();
        if !pooled.is_empty() {
            names.push(super::OTHER_ROUTE.to_string());
        }
        names.push(BACKGROUND.to_string());
        let p = names.len();
        let a = self.design.matrix(start, own, &pooled);
        let window = [self.design.times[start], self.design.times[n - 1]];
        // Each column's growth over the window (what a coefficient of 1 would add): requests
        // on a route column, seconds on the background.
        let spans: Vec<f64> = (0..p).map(|j| a[(n - 1) * p + j]).collect();
        let fit = fit(&a, &self.y, rho);
        let betas = fit.betas();
        // The routes were searched for the one that best explains the growth, so the level is
        // shared among them (Bonferroni): with many routes, one of them matches the growth by
        // chance more often than a single route does.
        let intervals = fit.profile_intervals(cfg.alpha / self.busiest.len().max(1) as f64);
        // The fitted growth over the window, which the shares divide.
        let floor_growth: f64 = (0..p).map(|j| betas[j] * spans[j]).sum();
        let mut estimates: Vec<RouteEstimate> = (0..p)
            .map(|j| {
                let beta = betas[j];
                // An unbounded interval ends at the largest finite value (JSON has no
                // infinities).
                let [lo, hi] = intervals[j].map(|v| v.min(f64::MAX));
                let share = if floor_growth > 0.0 {
                    beta * spans[j] / floor_growth
                } else {
                    0.0
                };
                RouteEstimate {
                    route: names[j].clone(),
                    requests: if j == p - 1 {
                        0
                    } else {
                        spans[j].round() as u64
                    },
                    retained_bytes_per_request: beta,
                    interval: [lo, hi],
                    share,
                }
            })
            .collect();
        estimates.sort_by(|a, b| b.share.total_cmp(&a.share));
        ModelFit {
            block_ms: cfg.block_ms,
            blocks: n - 1 - start,
            window_ms: window,
            floor_growth,
            residual_std: fit.sigma(),
            confidence: 1.0 - cfg.alpha,
            estimates,
        }
    }
}

/// Requests per route before each of `times` (sorted, unix ms), as one row per time, counting
/// the elapsed share of the slot a time falls in. One pass over the slots, whatever the number
/// of points.
fn requests_before(snap: &TrackerSnapshot, times: &[i64]) -> Vec<Vec<f64>> {
    let slot = snap.slot_ms;
    let mut whole = vec![0f64; snap.routes.len()];
    let mut next = 0;
    times
        .iter()
        .map(|&t| {
            while let Some(s) = snap.slots.get(next)
                && s.start_ms + slot <= t
            {
                for (w, &c) in whole.iter_mut().zip(&s.counts) {
                    *w += c as f64;
                }
                next += 1;
            }
            let mut at = whole.clone();
            if let Some(s) = snap.slots.get(next)
                && s.start_ms < t
            {
                let share = (t - s.start_ms) as f64 / slot as f64;
                for (a, &c) in at.iter_mut().zip(&s.counts) {
                    *a += c as f64 * share;
                }
            }
            at
        })
        .collect()
}

/// Requests per route at each floor point, cumulated from the first point.
struct Design {
    /// `cum[k * nr + r]`: requests on route `r` from the first point up to point `k`.
    cum: Vec<f64>,
    nr: usize,
    times: Vec<i64>,
}

impl Design {
    /// Requests on route `r` from point `start` up to point `k` (0 up to the start).
    fn since(&self, start: usize, k: usize, r: usize) -> f64 {
        if k > start {
            self.cum[k * self.nr + r] - self.cum[start * self.nr + r]
        } else {
            0.0
        }
    }

    /// Requests on route `r` since point `start`, at every point.
    fn route_since(&self, start: usize, r: usize) -> Vec<f64> {
        (0..self.times.len())
            .map(|k| self.since(start, k, r))
            .collect()
    }

    /// The design (row-major, one row per point) for growth starting at point `start`: one
    /// column per route of `own`, one for the sum of `pooled` (when not empty), and the
    /// seconds since the start for the background.
    fn matrix(&self, start: usize, own: &[usize], pooled: &[usize]) -> Vec<f64> {
        let n = self.times.len();
        let p = own.len() + usize::from(!pooled.is_empty()) + 1;
        let mut a = vec![0.0; n * p];
        for k in start + 1..n {
            let row = &mut a[k * p..(k + 1) * p];
            for (j, &r) in own.iter().enumerate() {
                row[j] = self.since(start, k, r);
            }
            if !pooled.is_empty() {
                row[own.len()] = pooled.iter().map(|&r| self.since(start, k, r)).sum();
            }
            row[p - 1] = (self.times[k] - self.times[start]) as f64 / 1000.0;
        }
        a
    }
}
