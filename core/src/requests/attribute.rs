//! Attribution of floor growth to routes: the article's two rules, and leaksense's
//! non-negative least-squares model.
//!
//! The model. Let `y_k` be the post-GC floor at the k-th observed trough and `C_r(t_k)` the
//! requests route `r` served from the start of growth `τ` up to then. If each request on route
//! `r` retains `β_r` bytes on average, and something unrelated to requests retains `γ` bytes
//! per second, then `y_k = c + Σ_r β_r·C_r(t_k) + γ·(t_k − τ) + ε_k` (with `C` and `t − τ` zero
//! before `τ`). Retained memory cannot be negative, so the fit is NNLS with a free level `c`.
//! The floor's noise may be independent from trough to trough (a post-GC heap) or persist
//! (RSS, which follows a high-water mark), so the errors are taken as AR(1) and the fit runs
//! on Cochrane–Orcutt rows with the correlation that fits best (Hildreth–Lu): 0 fits the levels
//! on cumulative counts, 1 each interval's growth on its counts. `τ` is the detector's growth
//! start refined within an hour by least squares, because a start placed too early makes the
//! flat part look like some busy route's doing. The routes that get their own column are
//! chosen by matching pursuit (the one whose requests best match the growth still
//! unexplained, in turn), the rest pooled in `_other`: choosing by traffic pooled quiet
//! leaking routes. Intervals are profile intervals under `β ≥ 0` (every other coefficient
//! refits for each candidate value), at a level shared among the routes searched
//! (Bonferroni), so a route is named only when no other route, nor a background leak, can
//! explain the same growth. Because the model uses the floor (what survives GC) rather than
//! each request's own allocation delta, concurrent requests do not charge each other, and
//! memory that a request allocates and frees does not count at all. Identification comes from
//! the variation of the traffic mix over time; when traffic is too regular to tell a route
//! from a steady background leak, no suspect is named. `bench/src/bin/attribution-quality.rs`
//! measures all of this.

use serde::{Deserialize, Serialize};

use super::nnls::{self, Gram};
use super::tracker::TrackerSnapshot;
use crate::error::InputError;
use crate::series::{self, Sample};

/// The column that stands for growth not tied to any route's request count.
pub const BACKGROUND: &str = "_background";

/// Options of attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributionConfig {
    /// Routes (by traffic since growth began) that get their own coefficient; the rest are
    /// pooled into `_other`. Reduced automatically when there are few blocks.
    pub top_k: usize,
    /// Minimum spacing in ms of the floor points the model fits (closer ones are skipped);
    /// 0 fits every trough the detector kept.
    pub block_ms: i64,
    /// A suspect must explain at least this share of the floor growth.
    pub min_share: f64,
    /// The article's before-window (6 h), clipped to what the slot ring holds.
    pub before_window_ms: i64,
    /// The article's traffic-increase threshold (0.5 = +50%).
    pub traffic_increase: f64,
    /// Error level of the bytes-per-request intervals (0.05: 95% intervals), shared among the
    /// routes searched; a route is named when its interval excludes 0.
    pub alpha: f64,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            top_k: 16,
            block_ms: 0,
            min_share: 0.10,
            before_window_ms: 6 * 3600 * 1000,
            traffic_increase: 0.5,
            alpha: 0.05,
        }
    }
}

impl AttributionConfig {
    /// Checks every option.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(1..=64).contains(&self.top_k) {
            return Err(InputError::invalid_option("top_k", "must be in 1..=64"));
        }
        if !(0..=7 * 86_400_000).contains(&self.block_ms) {
            return Err(InputError::invalid_option(
                "block_ms",
                "must be between 0 and 7 days",
            ));
        }
        if !(self.min_share.is_finite() && (0.0..=1.0).contains(&self.min_share)) {
            return Err(InputError::invalid_option("min_share", "must be in [0, 1]"));
        }
        if self.before_window_ms <= 0 {
            return Err(InputError::invalid_option(
                "before_window_ms",
                "must be > 0",
            ));
        }
        if !(self.traffic_increase.is_finite() && self.traffic_increase >= 0.0) {
            return Err(InputError::invalid_option(
                "traffic_increase",
                "must be finite and >= 0",
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(InputError::invalid_option("alpha", "must be in (0, 1)"));
        }
        Ok(())
    }
}

/// A route flagged by one of the article's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleSuspect {
    /// The route.
    pub route: String,
    /// The article's reason text.
    pub reason: String,
    /// Requests since growth began.
    pub count: u64,
}

/// Traffic of one route before and after growth began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// The route.
    pub route: String,
    /// Requests in the before-window.
    pub before: u64,
    /// Requests since growth began.
    pub after: u64,
    /// Relative change of the request rate (after vs before), when there was traffic before.
    pub change: Option<f64>,
}

/// The model's estimate for one column (a route, `_other` or `_background`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteEstimate {
    /// The route, `_other` (pooled small routes) or `_background` (bytes per second).
    pub route: String,
    /// Requests in the fitted window (0 for `_background`).
    pub requests: u64,
    /// Bytes retained per request (per second for `_background`).
    pub retained_bytes_per_request: f64,
    /// Confidence interval `[lo, hi]` at the model's `confidence` (95% by default); `lo` is 0
    /// when 0 is plausible.
    pub interval: [f64; 2],
    /// Share of the fitted floor growth in the window that this column explains.
    pub share: f64,
}

/// The NNLS fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFit {
    /// Minimum spacing of the fitted floor points (ms), as configured.
    pub block_ms: i64,
    /// Intervals between the floor points fitted from the model's growth start on.
    pub blocks: usize,
    /// The model's growth start and the last point fitted (unix ms).
    pub window_ms: [i64; 2],
    /// Fitted floor growth over the window (the sum of every column's contribution).
    pub floor_growth: f64,
    /// Residual standard deviation of the (GLS-transformed) fit.
    pub residual_std: f64,
    /// Confidence level of the intervals (`1 - alpha`).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// One estimate per column, in decreasing order of share.
    pub estimates: Vec<RouteEstimate>,
}

fn default_confidence() -> f64 {
    0.95
}

/// Everything attribution found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The article's suspects, computed as the article does.
    pub article_suspects: Vec<ArticleSuspect>,
    /// Per-route traffic before and after growth began.
    pub traffic: Vec<Traffic>,
    /// The model fit, when there was enough data.
    pub model: Option<ModelFit>,
    /// Why something could not be computed.
    pub notes: Vec<String>,
}

/// Runs both attributions for a growth start.
pub fn attribute(
    snapshot: &TrackerSnapshot,
    floor: &[Sample],
    growth_start_ms: i64,
    cfg: &AttributionConfig,
) -> Result<Attribution, InputError> {
    cfg.validate()?;
    series::validate(floor)?;
    for s in floor {
        check_ts("floor timestamp", s.ts_ms)?;
    }
    check_ts("growth_start_ms", growth_start_ms)?;
    validate_snapshot(snapshot)?;
    let mut notes = Vec::new();
    let (article_suspects, traffic) = article_rules(snapshot, growth_start_ms, cfg, &mut notes);
    let model = fit_model(snapshot, floor, growth_start_ms, cfg, &mut notes);
    Ok(Attribution {
        article_suspects,
        traffic,
        model,
        notes,
    })
}

/// Largest timestamp magnitude accepted (about year 287,000, as `Sample::from_secs`); keeping
/// times in this range means sums and differences of two of them cannot overflow.
pub(crate) const MAX_ABS_TS_MS: i64 = 9_000_000_000_000_000;

pub(crate) fn check_ts(what: &'static str, ts_ms: i64) -> Result<(), InputError> {
    if ts_ms.unsigned_abs() > MAX_ABS_TS_MS as u64 {
        return Err(InputError::invalid_option(
            what,
            format!("{ts_ms} ms is out of range"),
        ));
    }
    Ok(())
}

/// A snapshot can come from a file (the CLI), so its shape is checked before indexing by it.
fn validate_snapshot(snap: &TrackerSnapshot) -> Result<(), InputError> {
    if !(1..=86_400_000).contains(&snap.slot_ms) {
        return Err(InputError::invalid_option(
            "slot_ms",
            "must be between 1 ms and 1 day",
        ));
    }
    for r in &snap.routes {
        if let Some(t) = r.first_seen_ms {
            check_ts("first_seen_ms", t)?;
        }
    }
    let mut prev: Option<i64> = None;
    for (index, s) in snap.slots.iter().enumerate() {
        check_ts("slot start", s.start_ms)?;
        if s.counts.len() != snap.routes.len() {
            return Err(InputError::invalid_option(
                "slots",
                format!(
                    "slot {index} has {} counts for {} routes",
                    s.counts.len(),
                    snap.routes.len()
                ),
            ));
        }
        if let Some(prev_ms) = prev
            && s.start_ms <= prev_ms
        {
            return Err(InputError::OutOfOrder {
                index,
                ts_ms: s.start_ms,
                prev_ms,
            });
        }
        prev = Some(s.start_ms);
    }
    Ok(())
}

/// The article's rules: "new endpoint" when a route had no requests in the before-window, and
/// "traffic increased N%" when its traffic rose by more than 50%.
///
/// The article compares raw counts of a 6 h before-window with the time since growth began;
/// those windows differ in length, so raw counts would flag every route once the after-window
/// is longer than 9 h (and none while it is shorter than 4 h). We compare request rates, which
/// is what the rule means. The before-window is clipped to what the slot ring holds; if it
/// holds nothing before growth began, the rules cannot run.
fn article_rules(
    snap: &TrackerSnapshot,
    gs: i64,
    cfg: &AttributionConfig,
    notes: &mut Vec<String>,
) -> (Vec<ArticleSuspect>, Vec<Traffic>) {
    let slot = snap.slot_ms;
    let gs_slot = gs.div_euclid(slot) * slot;
    let (Some(first), Some(last)) = (snap.slots.first(), snap.slots.last()) else {
        notes.push("no request counts yet".into());
        return (Vec::new(), Vec::new());
    };
    let before_start = (gs_slot - cfg.before_window_ms).max(first.start_ms);
    let before_ms = (gs_slot - before_start).max(0);
    let after_ms = (last.start_ms + slot - gs_slot).max(0);
    let n = snap.routes.len();
    let (mut before, mut after) = (vec![0u64; n], vec![0u64; n]);
    for s in &snap.slots {
        let target = if s.start_ms >= gs_slot {
            &mut after
        } else if s.start_ms >= before_start {
            &mut before
        } else {
            continue;
        };
        for (t, c) in target.iter_mut().zip(&s.counts) {
            *t += c;
        }
    }
    let traffic: Vec<Traffic> = snap
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| Traffic {
            route: r.route.clone(),
            before: before[i],
            after: after[i],
            change: (before[i] > 0 && before_ms > 0 && after_ms > 0).then(|| {
                (after[i] as f64 / after_ms as f64) / (before[i] as f64 / before_ms as f64) - 1.0
            }),
        })
        .collect();
    if before_ms == 0 {
        notes.push("the slot ring holds nothing before growth began: article rules skipped".into());
        return (Vec::new(), traffic);
    }
    let mut suspects = Vec::new();
    for t in &traffic {
        if t.before == 0 && t.after > 0 {
            suspects.push(ArticleSuspect {
                route: t.route.clone(),
                reason: "New endpoint appeared when leak started".into(),
                count: t.after,
            });
        } else if let Some(c) = t.change
            && c > cfg.traffic_increase
        {
            suspects.push(ArticleSuspect {
                route: t.route.clone(),
                reason: format!("Traffic increased {:.0}% when leak started", c * 100.0),
                count: t.after,
            });
        }
    }
    (suspects, traffic)
}

/// Two-sided Student-t quantile at level `alpha` (Cornish–Fisher expansion around the
/// normal quantile; within 0.5% of the exact value at 95% for dof >= 3, and within 5% at
/// 99.9% for dof >= 5, where it errs low).
fn t_quantile(alpha: f64, dof: usize) -> f64 {
    let z = crate::detect::stats::normal_quantile(1.0 - alpha / 2.0);
    let v = dof as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

fn fit_model(
    snap: &TrackerSnapshot,
    floor: &[Sample],
    gs: i64,
    cfg: &AttributionConfig,
    notes: &mut Vec<String>,
) -> Option<ModelFit> {
    let slot = snap.slot_ms;
    if floor.len() < 3 || snap.slots.is_empty() {
        notes.push("model: too few floor points or no request counts".into());
        return None;
    }
    // The floor points observed (troughs of the sawtooth, not interpolated values, which would
    // smear growth across points), at least `block_ms` apart, from an hour before growth began:
    // the detector's growth start is an estimate, so the model looks for its own start nearby,
    // and the points before it pin the level the growth rose from.
    let last_slot_end = snap.slots.last().map_or(0, |s| s.start_ms + slot);
    let mut points: Vec<Sample> = Vec::new();
    for f in floor
        .iter()
        .filter(|f| f.ts_ms >= gs - START_SEARCH_MS && f.ts_ms <= last_slot_end)
    {
        if points
            .last()
            .is_none_or(|l| f.ts_ms - l.ts_ms >= cfg.block_ms)
        {
            points.push(*f);
        }
    }
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

    // Requests per route from the first point up to each point. A slot's requests are spread
    // evenly over it, so a point inside a slot counts the elapsed share of it: snapping to slot
    // edges would shift up to half a slot of requests to the wrong side of a point.
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
    // Keep about two points since growth began per coefficient beyond intercept and background.
    let k_max = cfg.top_k.min((n - at_gs).saturating_sub(4) / 2).max(1);
    let design = Design {
        cum: &cum,
        nr,
        times: &times,
    };
    let y: Vec<f64> = points.iter().map(|f| f.value).collect();

    // The floor's noise is autocorrelated: a trough read late in a busy spell stays high for
    // several points, and RSS follows a high-water mark whose jumps persist. Ignoring that
    // gives intervals too narrow to trust, so the rows are Cochrane–Orcutt transformed with
    // the error correlation `rho` that fits best (Hildreth–Lu grid search): rho = 0 fits the
    // levels, rho = 1 the growth between consecutive points. Both it and the start are chosen
    // with the busiest routes as columns.
    let near_gs = *candidates
        .iter()
        .min_by_key(|&&k| (times[k] - gs).abs())
        .expect("candidates is not empty");
    let (first_own, first_pooled) = busiest.split_at(busiest.len().min(k_max));
    let rss_of =
        |start: usize, rho: f64| fit(&design.matrix(start, first_own, first_pooled), &y, rho).rss;
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

    // The routes with their own coefficient, chosen one at a time as the route whose requests
    // best match the growth still unexplained (orthogonal matching pursuit), the rest pooled
    // in `_other`. Choosing by traffic alone pooled a quiet leaking route, and then the busy
    // route whose traffic looked most like it took the blame.
    let rest = |own: &[usize]| -> Vec<usize> {
        busiest
            .iter()
            .copied()
            .filter(|r| !own.contains(r))
            .collect()
    };
    let mut own: Vec<usize> = Vec::new();
    while own.len() < k_max {
        let pooled = rest(&own);
        let a = design.matrix(start, &own, &pooled);
        let fitted = fit(&a, &y, rho);
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
                let col = co_rows(&design.route_since(start, r), rho);
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
    let pooled = rest(&own);
    let mut names: Vec<String> = own.iter().map(|&r| snap.routes[r].route.clone()).collect();
    if !pooled.is_empty() {
        names.push(super::OTHER_ROUTE.to_string());
    }
    names.push(BACKGROUND.to_string());
    let p = names.len();
    let a = design.matrix(start, &own, &pooled);
    let window = [times[start], times[n - 1]];
    // Each column's growth over the window (what a coefficient of 1 would add): requests on a
    // route column, seconds on the background.
    let spans: Vec<f64> = (0..p).map(|j| a[(n - 1) * p + j]).collect();
    let fit = fit(&a, &y, rho);
    let betas = fit.betas();
    // The routes were searched for the one that best explains the growth, so the level is
    // shared among them (Bonferroni): with many routes, one of them matches the growth by
    // chance more often than a single route does.
    let intervals = fit.profile_intervals(cfg.alpha / busiest.len().max(1) as f64);
    // The fitted growth over the window, which the shares divide.
    let floor_growth: f64 = (0..p).map(|j| betas[j] * spans[j]).sum();
    let mut estimates: Vec<RouteEstimate> = (0..p)
        .map(|j| {
            let beta = betas[j];
            // An unbounded interval ends at the largest finite value (JSON has no infinities).
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
    Some(ModelFit {
        block_ms: cfg.block_ms,
        blocks: n - 1 - start,
        window_ms: window,
        floor_growth,
        residual_std: fit.sigma(),
        confidence: 1.0 - cfg.alpha,
        estimates,
    })
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
struct Design<'a> {
    /// `cum[k * nr + r]`: requests on route `r` from the first point up to point `k`.
    cum: &'a [f64],
    nr: usize,
    times: &'a [i64],
}

impl Design<'_> {
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

/// The Cochrane–Orcutt rows `v_k − rho·v_(k−1)` of a column (one fewer than its points),
/// centred when an intercept is left (`rho < 1`): centring projects the constant intercept
/// column out.
fn co_rows(v: &[f64], rho: f64) -> Vec<f64> {
    let rows: Vec<f64> = v.windows(2).map(|w| w[1] - rho * w[0]).collect();
    if rho >= 1.0 || rows.is_empty() {
        return rows;
    }
    let mean = rows.iter().sum::<f64>() / rows.len() as f64;
    rows.iter().map(|x| x - mean).collect()
}

/// Error correlations tried between consecutive floor points.
const RHO_GRID: [f64; 8] = [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0];

/// A non-negative fit with a free intercept, kept in the Gram form its intervals need.
struct Fit {
    /// `G = AᵀA` and `h = Aᵀy` of the transformed, centred, unit-norm columns, and `yᵀy`.
    gram: Gram,
    h: Vec<f64>,
    yy: f64,
    /// Coefficients on the unit-norm columns, and the columns' norms.
    x: Vec<f64>,
    scale: Vec<f64>,
    /// Residual sum of squares and degrees of freedom of the transformed rows.
    rss: f64,
    dof: usize,
}

/// Fits `y = c + A·β + e`, `β ≥ 0`, with AR(1) errors of correlation `rho`, on the
/// Cochrane–Orcutt rows `v_k − rho·v_(k−1)` (the first point only anchors the second), so the
/// residual sums of different `rho` compare. The free intercept, whose column is `1 − rho`, is
/// projected out before NNLS (by Frisch–Waugh–Lovell the constrained fit of the rest is
/// unchanged); at `rho = 1` the differences have no intercept left.
fn fit(a: &[f64], y: &[f64], rho: f64) -> Fit {
    let (n, p) = (y.len(), a.len() / y.len());
    let m = n - 1;
    let has_intercept = rho < 1.0;
    let ty = co_rows(y, rho);
    let mut ta = vec![0.0; m * p];
    for j in 0..p {
        let col: Vec<f64> = (0..n).map(|k| a[k * p + j]).collect();
        for (k, v) in co_rows(&col, rho).into_iter().enumerate() {
            ta[k * p + j] = v;
        }
    }
    // Unit-norm columns keep the normal equations well conditioned (counts ~1e3, bytes ~1e6).
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let norm = (0..m).map(|k| ta[k * p + j].powi(2)).sum::<f64>().sqrt();
            if norm > 0.0 { norm } else { 1.0 }
        })
        .collect();
    for k in 0..m {
        for j in 0..p {
            ta[k * p + j] /= scale[j];
        }
    }
    let (gram, h): (Gram, Vec<f64>) = nnls::normal_equations(&ta, &ty, p);
    let x = nnls::nnls(&gram, &h);
    let yy = ty.iter().map(|v| v * v).sum();
    let mut f = Fit {
        gram,
        h,
        yy,
        x,
        scale,
        rss: 0.0,
        dof: m.saturating_sub(p + usize::from(has_intercept)).max(1),
    };
    f.rss = f.rss_at(&f.x);
    f
}

impl Fit {
    /// Coefficients in the columns' own units (bytes per request, bytes per second).
    fn betas(&self) -> Vec<f64> {
        self.x.iter().zip(&self.scale).map(|(x, s)| x / s).collect()
    }

    /// Residual standard deviation of the transformed rows.
    fn sigma(&self) -> f64 {
        (self.rss / self.dof as f64).sqrt()
    }

    /// `‖y − A·x‖² = yᵀy − 2hᵀx + xᵀGx`, never below 0 (rounding).
    fn rss_at(&self, x: &[f64]) -> f64 {
        let p = x.len();
        let quad: f64 = (0..p)
            .map(|i| x[i] * (0..p).map(|j| self.gram.at(i, j) * x[j]).sum::<f64>())
            .sum();
        let lin: f64 = self.h.iter().zip(x).map(|(h, x)| h * x).sum();
        (self.yy - 2.0 * lin + quad).max(0.0)
    }

    /// 95% profile intervals of every coefficient, in the columns' own units: the values `b`
    /// of `β_j` whose best fit, refitting every other coefficient under `β ≥ 0`, raises the
    /// residual sum by less than `t²·σ²` (the likelihood-ratio form of the t interval).
    /// Textbook intervals from the Gram inverse ignore the constraint, and both ways of using
    /// them failed: from the active set, a route looked certain while a correlated one NNLS
    /// had set to 0 could explain the same growth (healthy busy routes named in the
    /// benchmark); from every column, at steady total traffic every route could trade places
    /// with a background leak that would need other routes to retain negative memory (the
    /// leaking route of the Node example never named). Here the other columns refit, within
    /// the constraint, for each candidate `b`. The low end is 0 when 0 is plausible.
    fn profile_intervals(&self, alpha: f64) -> Vec<[f64; 2]> {
        let p = self.x.len();
        let t = t_quantile(alpha, self.dof);
        let allowed = self.rss + t * t * self.rss / self.dof as f64;
        (0..p)
            .map(|j| {
                let others: Vec<usize> = (0..p).filter(|&i| i != j).collect();
                let sub = self.gram.select(&others);
                // The constrained residual sum with β_j held at `b` (scaled units).
                let rss_with = |b: f64| {
                    let h: Vec<f64> = others
                        .iter()
                        .map(|&i| self.h[i] - self.gram.at(i, j) * b)
                        .collect();
                    let rest = nnls::nnls(&sub, &h);
                    let mut x = vec![0.0; p];
                    x[j] = b;
                    for (&i, v) in others.iter().zip(rest) {
                        x[i] = v;
                    }
                    self.rss_at(&x)
                };
                let inside = |b: f64| rss_with(b) <= allowed;
                let xj = self.x[j];
                let lo = if inside(0.0) {
                    0.0
                } else {
                    bisect(0.0, xj, &inside)
                };
                // Step up from the estimate until outside, then narrow down.
                let mut step = xj
                    .max((allowed - self.rss).max(0.0).sqrt())
                    .max(f64::MIN_POSITIVE);
                let mut far = xj + step;
                let mut steps = 0;
                while inside(far) && steps < 64 {
                    step *= 2.0;
                    far = xj + step;
                    steps += 1;
                }
                let hi = if steps == 64 {
                    f64::INFINITY
                } else {
                    bisect(far, xj, &inside)
                };
                [lo / self.scale[j], hi / self.scale[j]]
            })
            .collect()
    }
}

/// The boundary between `outside` (where `inside` is false) and `inner` (where it is true),
/// to 1e-4 of their distance.
fn bisect(mut outside: f64, mut inner: f64, inside: &dyn Fn(f64) -> bool) -> f64 {
    for _ in 0..14 {
        let mid = 0.5 * (outside + inner);
        if inside(mid) {
            inner = mid;
        } else {
            outside = mid;
        }
    }
    inner
}

/// Fewest floor points since the start the model fits: intercept, background and one route,
/// with three residual degrees of freedom.
const MIN_POINTS: usize = 6;

/// How far from the detector's growth start the model looks for its own (and how far before
/// it the flat floor is taken in).
const START_SEARCH_MS: i64 = 3600 * 1000;

/// Fixtures shared by the attribution and report tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::requests::{RouteSnapshot, SlotCounts, TrackerSnapshot};
    use crate::series::Sample;

    pub(crate) fn route(name: &str, first_seen_ms: i64) -> RouteSnapshot {
        RouteSnapshot {
            route: name.into(),
            first_seen_ms: Some(first_seen_ms),
            count: 0,
            measures: Vec::new(),
        }
    }

    /// Three routes over 4 h of one-minute slots; growth starts at 2 h. `/leak` retains
    /// `leak_per_req` bytes per request from then on; traffic varies pseudo-randomly per slot.
    pub(crate) fn synthetic_for_tests(leak_per_req: f64) -> (TrackerSnapshot, Vec<Sample>, i64) {
        let slot = 60_000;
        let gs = 120 * slot;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut slots = Vec::new();
        let mut floor = Vec::new();
        let mut level = 50e6;
        for i in 0..240 {
            let counts = vec![50 + rnd(100), 5 + rnd(20), 20 + rnd(40)];
            if i * slot >= gs {
                level += leak_per_req * counts[1] as f64;
            }
            slots.push(SlotCounts {
                start_ms: i * slot,
                counts,
            });
            floor.push(Sample {
                ts_ms: (i + 1) * slot,
                value: level + rnd(2000) as f64,
            });
        }
        let snap = TrackerSnapshot {
            measures: vec![],
            slot_ms: slot,
            routes: vec![route("/a", 0), route("/leak", 0), route("/c", 0)],
            slots,
        };
        (snap, floor, gs)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{route, synthetic_for_tests};
    use super::*;
    use crate::requests::SlotCounts;

    #[test]
    fn model_finds_the_route_that_retains() {
        let (snap, floor, gs) = synthetic_for_tests(1024.0);
        let att = attribute(&snap, &floor, gs, &AttributionConfig::default()).unwrap();
        let m = att.model.expect("model");
        let top = &m.estimates[0];
        assert_eq!(top.route, "/leak", "{m:#?}");
        assert!(
            top.interval[0] > 900.0 && top.interval[1] < 1150.0,
            "{top:?}"
        );
        assert!(top.share > 0.9, "{top:?}");
        for e in &m.estimates[1..] {
            assert!(e.interval[0] <= 0.0 || e.share < 0.05, "{e:?}");
        }
        // A stricter level widens every interval around the same fit.
        let strict = AttributionConfig {
            alpha: 0.01,
            ..Default::default()
        };
        let sm = attribute(&snap, &floor, gs, &strict)
            .unwrap()
            .model
            .unwrap();
        assert_eq!((m.confidence, sm.confidence), (0.95, 0.99));
        let st = sm.estimates.iter().find(|e| e.route == "/leak").unwrap();
        assert_eq!(
            st.retained_bytes_per_request,
            top.retained_bytes_per_request
        );
        assert!(st.interval[0] < top.interval[0] && st.interval[1] > top.interval[1]);
        // Traffic did not change, so the article flags nothing.
        assert!(
            att.article_suspects.is_empty(),
            "{:?}",
            att.article_suspects
        );
    }

    #[test]
    fn flat_floor_gives_no_significant_route() {
        let (snap, floor, gs) = synthetic_for_tests(0.0);
        let att = attribute(&snap, &floor, gs, &AttributionConfig::default()).unwrap();
        for e in &att.model.expect("model").estimates {
            assert!(e.interval[0] <= 0.0 || e.share < 0.1, "{e:?}");
        }
    }

    #[test]
    fn article_rules_flag_new_routes_and_rate_increases() {
        let slot = 60_000;
        let slots: Vec<SlotCounts> = (0..120)
            .map(|i| SlotCounts {
                start_ms: i * slot,
                // /steady 10/slot; /busy 10 then 20 (+100%); /new appears at 60.
                counts: vec![10, if i < 60 { 10 } else { 20 }, if i < 60 { 0 } else { 3 }],
            })
            .collect();
        let snap = TrackerSnapshot {
            measures: vec![],
            slot_ms: slot,
            routes: vec![
                route("/steady", 0),
                route("/busy", 0),
                route("/new", 60 * slot),
            ],
            slots,
        };
        let att = attribute(
            &snap,
            &[Sample {
                ts_ms: 0,
                value: 1.0,
            }],
            60 * slot,
            &AttributionConfig::default(),
        )
        .unwrap();
        let got: Vec<(&str, &str)> = att
            .article_suspects
            .iter()
            .map(|s| (s.route.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/busy", "Traffic increased 100% when leak started"),
                ("/new", "New endpoint appeared when leak started"),
            ]
        );
        assert!(att.model.is_none());
        assert!(!att.notes.is_empty());
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let (snap, mut floor, gs) = synthetic_for_tests(0.0);
        let cfg = AttributionConfig {
            min_share: 2.0,
            ..Default::default()
        };
        assert_eq!(
            attribute(&snap, &floor, gs, &cfg).unwrap_err().code(),
            crate::ErrorCode::InvalidOption
        );
        for alpha in [0.0, 1.0, -0.1, f64::NAN] {
            let cfg = AttributionConfig {
                alpha,
                ..Default::default()
            };
            let e = attribute(&snap, &floor, gs, &cfg).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::InvalidOption, "alpha {alpha}");
        }
        let mut bad = snap.clone();
        bad.slots[5].counts.push(1);
        let e = attribute(&bad, &floor, gs, &AttributionConfig::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidOption);
        let mut bad = snap.clone();
        bad.slots.swap(3, 4);
        let e = attribute(&bad, &floor, gs, &AttributionConfig::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::OutOfOrder);
        let mut bad = snap.clone();
        bad.routes[0].first_seen_ms = Some(i64::MAX);
        let e = attribute(&bad, &floor, gs, &AttributionConfig::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidOption);
        let e = attribute(&snap, &floor, i64::MIN, &AttributionConfig::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidOption);
        let mut bad = snap.clone();
        bad.slot_ms = 0;
        let e = attribute(&bad, &floor, gs, &AttributionConfig::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidOption);
        floor[3].value = f64::NAN;
        assert_eq!(
            attribute(&snap, &floor, gs, &AttributionConfig::default())
                .unwrap_err()
                .code(),
            crate::ErrorCode::NonFiniteValue
        );
    }

    #[test]
    fn t_quantiles_are_close() {
        for (alpha, dof, exact) in [
            (0.05, 3, 3.182),
            (0.05, 5, 2.571),
            (0.05, 10, 2.228),
            (0.05, 30, 2.042),
            (0.05, 1000, 1.962),
            (0.005, 10, 3.581),
            (0.005, 30, 3.030),
            (0.001, 5, 6.869),
            (0.001, 20, 3.850),
        ] {
            let tolerance = if alpha < 0.01 && dof < 10 { 0.05 } else { 0.02 };
            let got = t_quantile(alpha, dof);
            assert!(
                (got - exact).abs() / exact < tolerance,
                "alpha {alpha}, dof {dof}: {got} vs {exact}"
            );
        }
    }

    proptest::proptest! {
        /// Snapshots and floors can come from files: whatever their shape, attribution returns
        /// a result or a typed error, never a panic.
        #[test]
        fn never_panics(
            slot_ms in proptest::prop_oneof![-5i64..200_000, proptest::prelude::any::<i64>(), proptest::strategy::Just(i64::MAX)],
            n_routes in 0usize..4,
            slots in proptest::collection::vec(
                (
                    proptest::prop_oneof![-1_000_000i64..20_000_000, proptest::prelude::any::<i64>(), proptest::strategy::Just(i64::MAX), proptest::strategy::Just(i64::MIN)],
                    proptest::collection::vec(proptest::prelude::any::<u64>(), 0..5),
                ),
                0..40,
            ),
            floor in proptest::collection::vec(
                (
                    proptest::prop_oneof![-1_000_000i64..20_000_000, proptest::prelude::any::<i64>(), proptest::strategy::Just(i64::MAX), proptest::strategy::Just(i64::MIN)],
                    proptest::prelude::any::<f64>(),
                ),
                0..60,
            ),
            gs in proptest::prop_oneof![-2_000_000i64..20_000_000, proptest::prelude::any::<i64>(), proptest::strategy::Just(i64::MAX), proptest::strategy::Just(i64::MIN)],
            block_ms in proptest::prop_oneof![0i64..1_000_000, proptest::prelude::any::<i64>()],
        ) {
            let snap = TrackerSnapshot {
                measures: vec![],
                slot_ms,
                routes: (0..n_routes).map(|i| route(&format!("/r{i}"), 0)).collect(),
                slots: slots
                    .into_iter()
                    .map(|(start_ms, counts)| SlotCounts { start_ms, counts })
                    .collect(),
            };
            let floor: Vec<Sample> = floor
                .into_iter()
                .map(|(ts_ms, value)| Sample { ts_ms, value })
                .collect();
            let cfg = AttributionConfig { block_ms, ..Default::default() };
            let _ = attribute(&snap, &floor, gs, &cfg);
        }

        /// Well-formed input: sorted slots with matching lengths and a sorted floor.
        #[test]
        fn never_panics_on_well_formed_input(
            n_routes in 1usize..5,
            counts in proptest::collection::vec(proptest::collection::vec(0u64..500, 4), 1..200),
            values in proptest::collection::vec(0f64..1e9, 3..200),
            gap in 1_000i64..400_000,
            gs in 0i64..10_000_000,
        ) {
            let slot = 60_000;
            let snap = TrackerSnapshot {
                measures: vec![],
                slot_ms: slot,
                routes: (0..n_routes).map(|i| route(&format!("/r{i}"), 0)).collect(),
                slots: counts
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| SlotCounts {
                        start_ms: i as i64 * slot,
                        counts: c[..n_routes].to_vec(),
                    })
                    .collect(),
            };
            let floor: Vec<Sample> = values
                .iter()
                .enumerate()
                .map(|(i, &value)| Sample { ts_ms: i as i64 * gap, value })
                .collect();
            let att = attribute(&snap, &floor, gs, &AttributionConfig::default()).unwrap();
            if let Some(m) = att.model {
                for e in &m.estimates {
                    proptest::prop_assert!(e.retained_bytes_per_request >= 0.0);
                    proptest::prop_assert!(e.interval[0] <= e.interval[1]);
                    proptest::prop_assert!(e.retained_bytes_per_request.is_finite());
                }
            }
        }
    }
}
