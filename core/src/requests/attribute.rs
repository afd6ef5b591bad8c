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

use super::model::fit_model;
use super::tracker::TrackerSnapshot;
use crate::error::InputError;
use crate::series::{self, Sample, check_ts};

/// The column that stands for growth not tied to any route's request count.
pub const BACKGROUND: &str = "_background";

/// Options of attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Routes whose current traffic explains part of the floor: what their running requests
    /// hold (garbage-heavy routes, long requests), not what they retain.
    #[serde(default)]
    pub transient: Vec<TransientEstimate>,
}

/// What a route's running requests hold: memory (or a count) that follows its current
/// request rate and goes away with its traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TransientEstimate {
    /// The route.
    pub route: String,
    /// Held per request per second of its current rate (bytes·s per request, or the count's
    /// unit·s): by Little's law, what one request holds times how long it holds it.
    pub held_per_request_per_sec: f64,
    /// What its requests held at its mean rate over the fitted points.
    pub held_at_mean_rate: f64,
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
        synthetic(leak_per_req, 0.0)
    }

    /// As [`synthetic_for_tests`], and `/a`'s running requests hold `held_per_rate` per
    /// request per second of its current rate (a garbage-heavy route): each floor point also
    /// holds that times `/a`'s rate in the minute before it.
    pub(crate) fn synthetic(
        leak_per_req: f64,
        held_per_rate: f64,
    ) -> (TrackerSnapshot, Vec<Sample>, i64) {
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
            let held = held_per_rate * counts[0] as f64 / 60.0;
            slots.push(SlotCounts {
                start_ms: i * slot,
                counts,
            });
            floor.push(Sample {
                ts_ms: (i + 1) * slot,
                value: level + held + rnd(2000) as f64,
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
    use super::fixtures::{route, synthetic, synthetic_for_tests};
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
        // The point estimate moves only as far as the columns refitted without the
        // insignificant ones differ between the levels.
        assert!(
            (st.retained_bytes_per_request - top.retained_bytes_per_request).abs() < 0.01 * 1024.0,
            "{st:?} {top:?}"
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
    fn a_garbage_heavy_route_is_transient_not_retained() {
        // /a holds 100 kB per request/s while it runs: 80–250 kB on the floor as its traffic
        // moves, against 2 kB of noise.
        for leak in [0.0, 1024.0] {
            let (snap, floor, gs) = synthetic(leak, 100e3);
            let m = attribute(&snap, &floor, gs, &AttributionConfig::default())
                .unwrap()
                .model
                .expect("model");
            // Largest first (another route's current traffic may explain a few kB too:
            // transient columns never name a suspect).
            let t = &m.transient[0];
            assert_eq!(t.route, "/a", "{m:#?}");
            assert!((t.held_per_request_per_sec - 100e3).abs() < 10e3, "{t:?}");
            // Its mean rate is about 100 requests a minute.
            assert!(
                (t.held_at_mean_rate - 100e3 * 100.0 / 60.0).abs() < 30e3,
                "{t:?}"
            );
            let named: Vec<&str> = m
                .estimates
                .iter()
                .filter(|e| e.interval[0] > 0.0 && e.share >= 0.1 && e.route != BACKGROUND)
                .map(|e| e.route.as_str())
                .collect();
            // The suspects' rule: significant and at least 10% of the growth.
            let expected: &[&str] = if leak > 0.0 { &["/leak"] } else { &[] };
            assert_eq!(named, expected, "{m:#?}");
        }
        // Without it, no route's traffic explains anything above the noise (a few hundred
        // bytes can reach significance: the fixture's noise and counts come from one
        // xorshift stream).
        let (snap, floor, gs) = synthetic_for_tests(1024.0);
        let m = attribute(&snap, &floor, gs, &AttributionConfig::default())
            .unwrap()
            .model
            .unwrap();
        assert!(
            m.transient.iter().all(|t| t.held_at_mean_rate < 1000.0),
            "{m:#?}"
        );
    }

    #[test]
    fn the_point_estimate_leaves_out_the_routes_that_retain_nothing() {
        // The refit without the insignificant columns moves the estimate toward the truth,
        // within the full fit's interval.
        let (snap, floor, gs) = synthetic_for_tests(1024.0);
        let m = attribute(&snap, &floor, gs, &AttributionConfig::default())
            .unwrap()
            .model
            .unwrap();
        let leak = m.estimates.iter().find(|e| e.route == "/leak").unwrap();
        assert!(
            leak.interval[0] <= leak.retained_bytes_per_request
                && leak.retained_bytes_per_request <= leak.interval[1],
            "{leak:?}"
        );
        assert!(
            (leak.retained_bytes_per_request - 1024.0).abs() < 30.0,
            "{leak:?}"
        );
        for e in m
            .estimates
            .iter()
            .filter(|e| e.interval[0] <= 0.0 && e.route != BACKGROUND)
        {
            assert_eq!(e.retained_bytes_per_request, 0.0, "{e:?}");
            assert_eq!(e.share, 0.0, "{e:?}");
        }
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
