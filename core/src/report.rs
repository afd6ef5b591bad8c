//! The leak report: the detector's analysis, the ranked suspects and a per-route table.
//! This is what every language and the CLI show; its JSON field names are a stable schema
//! (documented in docs/schema.md).

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::detect::{Analysis, Verdict};
use crate::error::InputError;
use crate::format::{self, bytes, percent, share, utc};
use crate::profile::{HeapProfile, ProfileGrowth, ShareOf};
use crate::requests::{
    ArticleSuspect, AttributionConfig, BACKGROUND, MeasureSummary, ModelFit, OTHER_ROUTE,
    RSS_MEASURE, RouteEstimate, TrackerSnapshot, attribute,
};
use crate::series::Sample;

mod counts;
mod quantity;

pub use counts::CountLine;
pub use quantity::{BYTES, Quantity};

/// Version of the report's JSON schema; bumped on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A route the report names as a likely leak, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Suspect {
    /// The route.
    pub route: String,
    /// Bytes each request retains (survives GC), from the model.
    pub retained_bytes_per_request: f64,
    /// Confidence interval of `retained_bytes_per_request` (at `model.confidence`, 95% by
    /// default).
    pub interval: [f64; 2],
    /// Requests on the route since growth began (in the fitted window).
    pub requests: u64,
    /// Share of the floor growth since growth began that this route explains.
    pub share: f64,
    /// Human-readable reasons, the model's first.
    pub reasons: Vec<String>,
}

/// One row of the per-route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RouteRow {
    /// The route (`_other` for routes beyond the cardinality cap).
    pub route: String,
    /// All requests tracked on this route.
    pub requests: u64,
    /// When the route was first seen (unix ms).
    pub first_seen_ms: Option<i64>,
    /// Requests in the article's before-window, when there is a growth start.
    pub requests_before: Option<u64>,
    /// Requests since growth began.
    pub requests_after: Option<u64>,
    /// Relative change of the request rate since growth began.
    pub traffic_change: Option<f64>,
    /// The model's bytes retained per request, when the route has its own coefficient.
    pub retained_bytes_per_request: Option<f64>,
    /// Its interval (at `model.confidence`).
    pub interval: Option<[f64; 2]>,
    /// Share of the floor growth it explains.
    pub share: Option<f64>,
    /// Per-request delta statistics of each measure (what `end` returned, as seen by the
    /// request itself: concurrent requests' allocations included).
    pub measures: Vec<MeasureSummary>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LeakReport {
    /// Schema version (see [`REPORT_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The detector's analysis (flattened: `verdict`, `state`, `growth_start_ms`,
    /// `rate_per_sec`, `rate_low`, `rate_high`, `time_to_limit_secs`, ...).
    #[serde(flatten)]
    pub analysis: Analysis,
    /// Likely leaking routes, most likely first. Empty unless the verdict is `leak`.
    pub suspects: Vec<Suspect>,
    /// What the article's rules say, as they are (for comparison).
    pub article_suspects: Vec<ArticleSuspect>,
    /// The model fit behind the suspects, when it ran.
    pub model: Option<ModelFit>,
    /// One row per route, busiest first.
    pub routes: Vec<RouteRow>,
    /// The allocation sites whose in-use bytes grew since growth began, from the live-heap
    /// profile (`null` when the profile is off or not fed).
    pub profile: Option<ProfileGrowth>,
    /// Why a part of the report is missing.
    pub notes: Vec<String>,
    /// What the watched series measures (flattened: `series`, `unit`); the analysis's rates,
    /// the floor and every `retained_bytes_per_request` are in its unit.
    #[serde(flatten)]
    pub quantity: Quantity,
    /// The other series a monitor watches, one line each (a memory report's goroutines,
    /// descriptors, handles or threads), once they have a reading.
    #[serde(default)]
    pub counts: Vec<CountLine>,
}

impl LeakReport {
    /// Confidence level of the model's intervals (95% when there is no model).
    pub fn confidence(&self) -> f64 {
        self.model.as_ref().map_or(0.95, |m| m.confidence)
    }

    /// Builds the report from the detector's analysis, its post-GC floor and the tracker's
    /// snapshot. Attribution runs only when the analysis has a growth start, and suspects are
    /// named only when the verdict is `leak`, a route's interval excludes 0, and it explains
    /// at least `min_share` of the growth.
    pub fn build(
        analysis: Analysis,
        floor: &[Sample],
        snapshot: &TrackerSnapshot,
        cfg: &AttributionConfig,
    ) -> Result<LeakReport, InputError> {
        Self::build_for(Quantity::default(), analysis, floor, snapshot, cfg)
    }

    /// [`LeakReport::build`] for any watched series, bytes or a count (goroutines,
    /// descriptors, handles): its analysis and troughs are explained by the same requests per
    /// route, and `quantity` gives the report its unit.
    pub fn build_for(
        quantity: Quantity,
        analysis: Analysis,
        floor: &[Sample],
        snapshot: &TrackerSnapshot,
        cfg: &AttributionConfig,
    ) -> Result<LeakReport, InputError> {
        Quantity::new(&quantity.series, &quantity.unit)?;
        cfg.validate()?;
        crate::series::validate(floor)?;
        let mut routes: Vec<RouteRow> = snapshot
            .routes
            .iter()
            .map(|r| RouteRow {
                route: r.route.clone(),
                requests: r.count,
                first_seen_ms: r.first_seen_ms,
                requests_before: None,
                requests_after: None,
                traffic_change: None,
                retained_bytes_per_request: None,
                interval: None,
                share: None,
                measures: r.measures.clone(),
            })
            .collect();
        let mut report = LeakReport {
            schema_version: REPORT_SCHEMA_VERSION,
            analysis,
            suspects: Vec::new(),
            article_suspects: Vec::new(),
            model: None,
            routes: Vec::new(),
            profile: None,
            notes: Vec::new(),
            quantity,
            counts: Vec::new(),
        };
        let Some(gs) = report.analysis.growth_start_ms else {
            routes.sort_by_key(|r| std::cmp::Reverse(r.requests));
            report.routes = routes;
            return Ok(report);
        };
        let att = attribute(snapshot, floor, gs, cfg)?;
        for (row, t) in routes.iter_mut().zip(&att.traffic) {
            row.requests_before = Some(t.before);
            row.requests_after = Some(t.after);
            row.traffic_change = t.change;
        }
        if let Some(m) = &att.model {
            for e in &m.estimates {
                if let Some(row) = routes.iter_mut().find(|r| r.route == e.route) {
                    row.retained_bytes_per_request = Some(e.retained_bytes_per_request);
                    row.interval = Some(e.interval);
                    row.share = Some(e.share);
                }
            }
        }
        if report.analysis.verdict == Verdict::Leak
            && let Some(m) = &att.model
        {
            report.name_suspects(m, &att.article_suspects, snapshot, gs, cfg);
        }
        if report.analysis.verdict == Verdict::Leak {
            report.article_suspects = att.article_suspects;
        }
        report.model = att.model;
        report.notes.extend(att.notes);
        routes.sort_by_key(|r| std::cmp::Reverse(r.requests));
        report.routes = routes;
        Ok(report)
    }

    /// Adds the growth of the live-heap profile since the growth start (since its oldest
    /// snapshot when there is none), with shares of the floor's growth over the same span.
    pub fn attach_profile(&mut self, profile: &HeapProfile, floor: &[Sample]) {
        let gs = self.analysis.growth_start_ms;
        let floor_growth = gs.and_then(|gs| {
            let base = floor
                .iter()
                .rev()
                .find(|s| s.ts_ms <= gs)
                .or(floor.first())?;
            Some(floor.last()?.value - base.value)
        });
        self.profile = profile.growth(gs, floor_growth);
    }

    /// The suspects of a leak: the model's routes whose interval excludes 0 and that explain
    /// at least `min_share` of the growth, each with its reasons; notes on what the routes do
    /// not explain.
    fn name_suspects(
        &mut self,
        m: &ModelFit,
        article: &[ArticleSuspect],
        snapshot: &TrackerSnapshot,
        gs: i64,
        cfg: &AttributionConfig,
    ) {
        let q = self.quantity.clone();
        for e in &m.estimates {
            if e.route == BACKGROUND || e.interval[0] <= 0.0 || e.share < cfg.min_share {
                continue;
            }
            self.suspects.push(Suspect {
                route: e.route.clone(),
                retained_bytes_per_request: e.retained_bytes_per_request,
                interval: e.interval,
                requests: e.requests,
                share: e.share,
                reasons: reasons(&q, e, m.confidence, article, snapshot, gs),
            });
        }
        if let Some(bg) = m.estimates.iter().find(|e| e.route == BACKGROUND)
            && bg.interval[0] > 0.0
            && bg.share >= cfg.min_share
        {
            self.notes.push(format!(
                "{} of the growth ({}) is not explained by request counts: \
                 look at timers, background tasks or caches",
                share(bg.share),
                q.rate(bg.retained_bytes_per_request)
            ));
        }
        for t in &m.transient {
            self.notes.push(format!(
                "{} holds about {} while its requests run (at its mean rate): it follows the \
                 route's current traffic and is not retained",
                t.route,
                q.amount(t.held_at_mean_rate)
            ));
        }
        if self.suspects.is_empty() {
            self.notes.push(if q.is_bytes() {
                "no route retains memory significantly: traffic may be too regular to \
                 separate routes, or the growth is not tied to requests"
                    .into()
            } else {
                format!(
                    "no route leaves {} significantly: traffic may be too regular to \
                     separate routes, or the growth is not tied to requests",
                    q.series
                )
            });
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail; non-finite floats become null.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as plain text for terminals and logs.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let a = &self.analysis;
        let _ = writeln!(
            s,
            "leaksense: {} (alert {})",
            format::verdict(a.verdict),
            format::state(a.state)
        );
        let q = &self.quantity;
        if !q.is_bytes() {
            let _ = writeln!(s, "  series         {}", q.series);
        }
        if let Some(gs) = a.growth_start_ms {
            let _ = writeln!(s, "  growth began   {}", utc(gs));
        }
        if let Some(r) = a.not_a_leak_because {
            let _ = writeln!(s, "  not a leak     {}", format::not_a_leak(r));
        }
        if let Some(r) = a.rate_per_sec {
            let _ = write!(s, "  rate           {}", q.rate(r));
            if let (Some(lo), Some(hi)) = (a.rate_low, a.rate_high) {
                let _ = write!(
                    s,
                    // The detector's confidence level (95% unless configured otherwise).
                    " (interval {} to {})",
                    q.rate(lo),
                    q.rate(hi)
                );
            }
            s.push('\n');
        }
        if let Some(b) = a.baseline {
            let _ = writeln!(s, "  floor now      {}", q.amount(b));
        }
        if let Some(t) = a.time_to_limit_secs {
            let _ = writeln!(
                s,
                "  limit in       {} (limit {})",
                format::duration(t),
                a.limit.map_or("?".into(), |l| q.amount(l))
            );
        }
        if !self.suspects.is_empty() {
            s.push_str("\nsuspects\n");
            for (i, x) in self.suspects.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  {}. {}  {} per request [{} .. {}]  {} requests, {} of growth",
                    i + 1,
                    x.route,
                    q.amount(x.retained_bytes_per_request),
                    q.amount(x.interval[0]),
                    q.amount(x.interval[1]),
                    x.requests,
                    share(x.share)
                );
                for r in &x.reasons {
                    let _ = writeln!(s, "     - {r}");
                }
            }
        }
        if !self.article_suspects.is_empty() {
            s.push_str("\narticle rules (for comparison)\n");
            for x in &self.article_suspects {
                let _ = writeln!(s, "  {}: {} ({} requests)", x.route, x.reason, x.count);
            }
        }
        if !self.routes.is_empty() {
            self.render_routes(&mut s);
        }
        if let Some(p) = &self.profile {
            render_profile(&mut s, p);
        }
        counts::render(&self.counts, &mut s);
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }
}

/// The measure whose mean per-request delta the route table shows: RSS when read, else the
/// first declared.
fn shown_measure(measures: &[MeasureSummary]) -> Option<&str> {
    measures
        .iter()
        .find(|m| m.measure == RSS_MEASURE)
        .or(measures.first())
        .map(|m| m.measure.as_str())
}

/// A per-request delta of `measure`: bytes for the presets' byte measures, else a plain number
/// (`gc_count` and `goroutines` are counts, and a C or Rust caller's own measure has no unit).
fn measure_amount(measure: &str, v: f64) -> String {
    const BYTE_MEASURES: [&str; 4] = [RSS_MEASURE, "heap_used", "heap_allocated", "traced_bytes"];
    if BYTE_MEASURES.contains(&measure) {
        bytes(v)
    } else {
        format::quantity(crate::detect::SeriesKind::Count, v)
    }
}

impl LeakReport {
    /// The per-route table of [`LeakReport::render_text`] (routes present).
    fn render_routes(&self, s: &mut String) {
        let w = self
            .routes
            .iter()
            .map(|r| r.route.len())
            .max()
            .unwrap_or(5)
            .max(5);
        // The per-request delta of one measure is what each request saw itself (concurrent
        // requests' allocations included), shown beside the model's estimate: RSS when it is
        // read (what the article's middleware compares), else the first measure.
        let shown = shown_measure(&self.routes[0].measures);
        let mean_head = shown.map_or(String::new(), |m| format!("mean Δ{m}"));
        // Without measures (Go's preset) the last column is empty: no trailing blanks then.
        let line = format!(
            "{:<w$}  {:>10}  {:>8}  {:>14}  {:>25}  {:>6}  {:>14}",
            "route",
            "requests",
            "traffic",
            "retained/req",
            format!("{} CI", percent(self.confidence())),
            "share",
            mean_head
        );
        let _ = writeln!(s, "\n{}", line.trim_end());
        // Routes the model pooled into `_other` have no estimate of their own.
        let pooled = self
            .model
            .as_ref()
            .and_then(|m| m.estimates.iter().find(|e| e.route == OTHER_ROUTE))
            .filter(|_| !self.routes.iter().any(|r| r.route == OTHER_ROUTE));
        let unfitted = if pooled.is_some() { "in _other" } else { "-" };
        let amount = |v: f64| self.quantity.amount(v);
        for r in &self.routes {
            let traffic = r.traffic_change.map_or("-".into(), format::change);
            let retained = r.retained_bytes_per_request.map_or(unfitted.into(), amount);
            let ci = r.interval.map_or("-".into(), |i| {
                format!("{} .. {}", amount(i[0]), amount(i[1]))
            });
            let part = r.share.map_or("-".into(), share);
            let mean = r
                .measures
                .iter()
                .find(|m| Some(m.measure.as_str()) == shown)
                .map_or(String::new(), |m| measure_amount(&m.measure, m.mean));
            let line = format!(
                "{:<w$}  {:>10}  {:>8}  {:>14}  {:>25}  {:>6}  {:>14}",
                r.route, r.requests, traffic, retained, ci, part, mean
            );
            let _ = writeln!(s, "{}", line.trim_end());
        }
        if let Some(e) = pooled {
            let ci = format!("{} .. {}", amount(e.interval[0]), amount(e.interval[1]));
            let _ = writeln!(
                s,
                "{:<w$}  {:>10}  {:>8}  {:>14}  {:>25}  {:>6}",
                OTHER_ROUTE,
                e.requests,
                "",
                amount(e.retained_bytes_per_request),
                ci,
                share(e.share)
            );
        }
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_text())
    }
}

/// The growing allocation sites as text.
fn render_profile(s: &mut String, p: &ProfileGrowth) {
    let of = match p.share_of {
        ShareOf::Floor => "floor",
        ShareOf::Profile => "profile",
    };
    let _ = writeln!(
        s,
        "\ngrowing allocation sites ({} to {}: {} in use now, {} since; shares of the {of} growth)",
        utc(p.from_ms),
        utc(p.to_ms),
        bytes(p.inuse_bytes),
        signed_bytes(p.growth_bytes)
    );
    if p.sites.is_empty() {
        s.push_str("  none grew\n");
    }
    for (i, x) in p.sites.iter().enumerate() {
        let route = x
            .route
            .as_ref()
            .map_or(String::new(), |r| format!("  route {r}"));
        let _ = writeln!(
            s,
            "  {}. {} ({}:{})  {}  {:.0}%{route}",
            i + 1,
            x.function,
            x.file,
            x.line,
            signed_bytes(x.bytes),
            x.share * 100.0
        );
    }
}

fn signed_bytes(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", bytes(v))
    } else {
        bytes(v)
    }
}

/// Why a route is a suspect: the model's estimate first, then whether it is new, then what
/// the article's rules say about it.
fn reasons(
    q: &Quantity,
    e: &RouteEstimate,
    confidence: f64,
    article: &[ArticleSuspect],
    snapshot: &TrackerSnapshot,
    gs: i64,
) -> Vec<String> {
    // A count is left behind by requests (goroutines, descriptors); bytes are retained.
    let verb = if q.is_bytes() { "retains" } else { "leaves" };
    let mut reasons = vec![format!(
        "{verb} {} per request ({} CI {} to {}), explaining {} of the floor growth since it \
         began",
        q.amount(e.retained_bytes_per_request),
        percent(confidence),
        q.amount(e.interval[0]),
        q.amount(e.interval[1]),
        share(e.share)
    )];
    if e.route == OTHER_ROUTE {
        reasons.push("pooled: routes beyond the top-K by traffic or the cardinality cap".into());
    }
    if let Some(first) = snapshot
        .routes
        .iter()
        .find(|r| r.route == e.route)
        .and_then(|r| r.first_seen_ms)
        && let Some(reason) = new_route_reason(snapshot, first, gs)
    {
        reasons.push(reason);
    }
    reasons.extend(
        article
            .iter()
            .filter(|a| a.route == e.route)
            .map(|a| a.reason.clone()),
    );
    reasons
}

/// How far a route's first appearance may precede the estimated growth start and still be
/// "when growth began": the estimate is uncertain by minutes to tens of minutes (it comes from a
/// hinge fit on floor points several minutes apart), and the article's rule, which needs the
/// route to be absent from the whole before-window, misses a route that appeared just before.
const NEW_ROUTE_TOLERANCE_MS: i64 = 30 * 60 * 1000;

/// "new route" when the route appeared after tracking began and around or after growth began.
fn new_route_reason(snapshot: &TrackerSnapshot, first_seen_ms: i64, gs: i64) -> Option<String> {
    let tracked_since = snapshot.slots.first()?.start_ms + snapshot.slot_ms;
    if first_seen_ms < tracked_since || first_seen_ms < gs - NEW_ROUTE_TOLERANCE_MS {
        return None;
    }
    let minutes = (first_seen_ms - gs) as f64 / 60_000.0;
    let when = if minutes.abs() < 1.0 {
        "when growth began".to_string()
    } else if minutes < 0.0 {
        format!("{:.0} min before growth began", -minutes)
    } else {
        format!("{minutes:.0} min after growth began")
    };
    Some(format!(
        "new route: first seen {} ({when})",
        utc(first_seen_ms)
    ))
}

/// How much stricter (in α) a look for a firing alert's suspects is than a single report.
pub const SUSPECT_ALPHA_DIVISOR: f64 = 5.0;

/// How many consecutive looks must name the same top suspect before it is announced.
pub const SUSPECT_LOOKS: usize = 3;

/// Decides when a firing alert's report names its suspects firmly enough to announce them.
///
/// A look every detector bucket for hours is many tests of the same growing data: announcing
/// the first report that names anyone blamed a healthy route in 12% of simulated route leaks
/// and in 9 of 40 services whose leak was not a route's, against 2% for one report at the
/// firing (`bench/src/bin/attribution-quality.rs`). So a look builds its report with intervals
/// [`SUSPECT_ALPHA_DIVISOR`] times stricter in α, and [`SUSPECT_LOOKS`] consecutive looks must
/// agree on the top suspect.
#[derive(Debug, Clone, PartialEq)]
pub struct SuspectWatch {
    due_ms: i64,
    every_ms: i64,
    top: Option<String>,
    streak: usize,
}

impl SuspectWatch {
    /// Starts watching at the firing (`fired_ms`, detector time), looking every `every_ms`.
    pub fn new(fired_ms: i64, every_ms: i64) -> Self {
        SuspectWatch {
            due_ms: fired_ms,
            every_ms: every_ms.max(1),
            top: None,
            streak: 0,
        }
    }

    /// Whether a look is due at `now_ms`.
    pub fn is_due(&self, now_ms: i64) -> bool {
        now_ms >= self.due_ms
    }

    /// The attribution options a look builds its report with.
    pub fn config(base: &AttributionConfig) -> AttributionConfig {
        AttributionConfig {
            alpha: base.alpha / SUSPECT_ALPHA_DIVISOR,
            ..base.clone()
        }
    }

    /// [`SuspectWatch::look`] on the watch in `slot`, if it is still `watch` (the alert may have
    /// resolved, or fired again, while the report was built without the state lock); when the
    /// suspects are to be announced, the watch is taken out of `slot`.
    pub fn look_in(
        slot: &mut Option<SuspectWatch>,
        watch: &SuspectWatch,
        now_ms: i64,
        report: &LeakReport,
    ) -> bool {
        let announce = match slot {
            Some(w) if w == watch => w.look(now_ms, report),
            _ => false,
        };
        if announce {
            *slot = None;
        }
        announce
    }

    /// Records a look's report, built at `now_ms` with [`SuspectWatch::config`]; returns
    /// whether its suspects are to be announced now.
    pub fn look(&mut self, now_ms: i64, report: &LeakReport) -> bool {
        let top = report.suspects.first().map(|s| s.route.clone());
        self.streak = match (&top, &self.top) {
            (Some(t), Some(prev)) if t == prev => self.streak + 1,
            (Some(_), _) => 1,
            (None, _) => 0,
        };
        self.top = top;
        self.due_ms = now_ms.saturating_add(self.every_ms);
        self.streak >= SUSPECT_LOOKS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::AlertState;

    #[test]
    fn a_suspect_watch_announces_after_agreeing_looks_and_looks_once_per_period() {
        let snap = TrackerSnapshot {
            measures: vec![],
            slot_ms: 60_000,
            routes: vec![],
            slots: vec![],
        };
        let none = LeakReport::build(healthy(), &[], &snap, &AttributionConfig::default()).unwrap();
        let naming = |route: &str| {
            let mut r = none.clone();
            r.suspects.push(Suspect {
                route: route.into(),
                retained_bytes_per_request: 1.0,
                interval: [0.5, 1.5],
                requests: 10,
                share: 1.0,
                reasons: vec![],
            });
            r
        };
        let (a, b) = (naming("/a"), naming("/b"));
        let mut w = SuspectWatch::new(1_000, 300);
        assert!(w.is_due(1_000) && !w.is_due(999));
        // A change of top suspect or a report naming nobody starts the count again.
        let looks = [&a, &a, &b, &b, &none, &b, &b];
        for (i, r) in looks.iter().enumerate() {
            let now = 1_000 + 300 * i as i64;
            assert!(w.is_due(now));
            assert!(!w.look(now, r), "look {i}");
            assert!(!w.is_due(now + 299));
        }
        assert!(
            w.look(1_000 + 300 * 7, &b),
            "the third agreeing look in a row"
        );
        assert_eq!(SUSPECT_LOOKS, 3);
        let cfg = SuspectWatch::config(&AttributionConfig::default());
        assert!((cfg.alpha - 0.05 / SUSPECT_ALPHA_DIVISOR).abs() < 1e-15);
    }

    #[test]
    fn the_route_table_shows_rss_when_read_and_counts_as_counts() {
        let summary = |name: &str| MeasureSummary {
            measure: name.into(),
            samples: 1,
            sum: 12.0,
            mean: 12.0,
            variance: 0.0,
            min: 12.0,
            max: 12.0,
            histogram: vec![],
        };
        let (gc, rss) = (summary("gc_count"), summary(RSS_MEASURE));
        assert_eq!(shown_measure(&[gc.clone(), rss.clone()]), Some("rss"));
        assert_eq!(shown_measure(std::slice::from_ref(&gc)), Some("gc_count"));
        assert_eq!(shown_measure(&[]), None);
        assert_eq!(measure_amount("gc_count", 11.82), "11.82");
        assert_eq!(measure_amount("goroutines", 1.0), "1");
        assert_eq!(measure_amount("rss", 2048.0), "2 KiB");
        assert_eq!(measure_amount("heap_used", 12.0), "12 B");
    }

    fn healthy() -> Analysis {
        Analysis {
            verdict: Verdict::Healthy,
            state: AlertState::Inactive,
            growth_start_ms: None,
            growth_stop_ms: None,
            not_a_leak_because: None,
            rate_per_sec: None,
            rate_low: None,
            rate_high: None,
            time_to_limit_secs: None,
            limit: None,
            baseline: Some(1e6),
            samples: 10,
            events: vec![],
        }
    }

    #[test]
    fn healthy_report_has_no_suspects_and_round_trips() {
        let snap = TrackerSnapshot {
            measures: vec!["heap_used".into()],
            slot_ms: 60_000,
            routes: vec![],
            slots: vec![],
        };
        let r = LeakReport::build(healthy(), &[], &snap, &AttributionConfig::default()).unwrap();
        assert!(r.suspects.is_empty());
        let json = r.to_json();
        assert!(json.contains("\"verdict\": \"healthy\""), "{json}");
        assert!(json.contains("\"schema_version\": 1"), "{json}");
        let back: LeakReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert!(r.render_text().starts_with("leaksense: healthy"));
        assert!(!r.render_text().contains("not a leak"));
        // A rise held back says why, in the text and the JSON.
        let held = Analysis {
            growth_start_ms: Some(1_700_000_000_000),
            not_a_leak_because: Some(crate::detect::NoLeakReason::ExplainedByLoad),
            ..healthy()
        };
        let r = LeakReport::build(held, &[], &snap, &AttributionConfig::default()).unwrap();
        let text = r.render_text();
        assert!(
            text.contains("\n  not a leak     the traffic explains the rise\n"),
            "{text}"
        );
        assert!(
            r.to_json()
                .contains("\"not_a_leak_because\": \"explained_by_load\"")
        );
        assert_eq!(serde_json::from_str::<LeakReport>(&r.to_json()).unwrap(), r);
    }

    fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    /// A firing leak analysis whose growth began at `gs`.
    fn firing(gs: i64) -> Analysis {
        Analysis {
            verdict: Verdict::Leak,
            state: AlertState::Firing,
            growth_start_ms: Some(gs),
            growth_stop_ms: None,
            not_a_leak_because: None,
            rate_per_sec: Some(10.0),
            rate_low: Some(9.0),
            rate_high: Some(11.0),
            time_to_limit_secs: Some(3600.0),
            limit: Some(1e9),
            baseline: Some(5e7),
            samples: 240,
            events: vec![],
        }
    }

    /// The JSON field names are a public schema (documented in docs/schema.md): changing one must
    /// fail here and bump `REPORT_SCHEMA_VERSION`.
    #[test]
    fn json_field_names_are_stable() {
        let (snap, floor, gs) = crate::requests::synthetic_for_tests(1024.0);
        let r =
            LeakReport::build(firing(gs), &floor, &snap, &AttributionConfig::default()).unwrap();
        assert_eq!(r.suspects.len(), 1);
        assert_eq!(r.suspects[0].route, "/leak");
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(
            keys(&v),
            [
                "article_suspects",
                "baseline",
                "counts",
                "events",
                "growth_start_ms",
                "growth_stop_ms",
                "limit",
                "model",
                "not_a_leak_because",
                "notes",
                "profile",
                "rate_high",
                "rate_low",
                "rate_per_sec",
                "routes",
                "samples",
                "schema_version",
                "series",
                "state",
                "suspects",
                "time_to_limit_secs",
                "unit",
                "verdict",
            ]
        );
        assert_eq!(
            keys(&v["suspects"][0]),
            [
                "interval",
                "reasons",
                "requests",
                "retained_bytes_per_request",
                "route",
                "share"
            ]
        );
        assert_eq!(
            keys(&v["routes"][0]),
            [
                "first_seen_ms",
                "interval",
                "measures",
                "requests",
                "requests_after",
                "requests_before",
                "retained_bytes_per_request",
                "route",
                "share",
                "traffic_change",
            ]
        );
        assert_eq!(
            keys(&v["model"]),
            [
                "block_ms",
                "blocks",
                "confidence",
                "estimates",
                "floor_growth",
                "residual_std",
                "transient",
                "window_ms"
            ]
        );
        assert_eq!(
            keys(&v["model"]["estimates"][0]),
            [
                "interval",
                "requests",
                "retained_bytes_per_request",
                "route",
                "share"
            ]
        );
        let text = r.render_text();
        assert!(text.contains("suspects\n  1. /leak"), "{text}");
        // serde_json parses floats to within one ulp (no `float_roundtrip` feature).
        // A report written before `series` and `unit` existed reads as bytes.
        let mut old = v.clone();
        old.as_object_mut().unwrap().remove("series");
        old.as_object_mut().unwrap().remove("unit");
        let old: LeakReport = serde_json::from_value(old).unwrap();
        assert_eq!(old.quantity, Quantity::default());
        let back = serde_json::from_value::<LeakReport>(v).unwrap();
        assert_eq!(back.suspects[0].route, r.suspects[0].route);
        let (a, b) = (back.suspects[0].interval, r.suspects[0].interval);
        assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
    }

    #[test]
    fn text_marks_pooled_routes_and_shows_the_pool() {
        let (snap, floor, gs) = crate::requests::synthetic_for_tests(1024.0);
        // One route column: the other two are pooled into `_other`.
        let cfg = AttributionConfig {
            top_k: 1,
            ..AttributionConfig::default()
        };
        let r = LeakReport::build(firing(gs), &floor, &snap, &cfg).unwrap();
        let text = r.render_text();
        let pooled: Vec<&str> = text.lines().filter(|l| l.contains("in _other")).collect();
        assert_eq!(pooled.len(), 2, "{text}");
        assert!(text.lines().any(|l| l.starts_with("_other ")), "{text}");
        // No measures here (as in Go's preset): the empty `mean Δ` column leaves no blanks.
        assert!(text.lines().all(|l| !l.ends_with(' ')), "{text:?}");
    }

    #[test]
    fn new_route_reason_allows_for_growth_start_uncertainty() {
        let (snap, _, _) = crate::requests::synthetic_for_tests(0.0);
        let gs = 120 * 60_000;
        let r = new_route_reason(&snap, gs - 10 * 60_000, gs).unwrap();
        assert!(r.ends_with("(10 min before growth began)"), "{r}");
        assert!(
            new_route_reason(&snap, gs + 5 * 60_000, gs)
                .unwrap()
                .contains("5 min after")
        );
        assert!(
            new_route_reason(&snap, gs, gs)
                .unwrap()
                .contains("when growth began")
        );
        // Too long before growth began, or there from the start of tracking: not new.
        assert_eq!(new_route_reason(&snap, gs - 31 * 60_000, gs), None);
        assert_eq!(new_route_reason(&snap, 0, 30_000), None);
    }

    #[test]
    fn a_bad_quantity_is_a_typed_error() {
        let (snap, floor, gs) = crate::requests::synthetic_for_tests(1024.0);
        let bad = Quantity {
            series: String::new(),
            unit: "{goroutine}".into(),
        };
        let e = LeakReport::build_for(
            bad,
            firing(gs),
            &floor,
            &snap,
            &AttributionConfig::default(),
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidOption);
    }

    #[test]
    fn bad_floor_is_a_typed_error() {
        let snap = TrackerSnapshot {
            measures: vec![],
            slot_ms: 60_000,
            routes: vec![],
            slots: vec![],
        };
        let floor = [
            Sample {
                ts_ms: 2,
                value: 1.0,
            },
            Sample {
                ts_ms: 1,
                value: 1.0,
            },
        ];
        let e =
            LeakReport::build(healthy(), &floor, &snap, &AttributionConfig::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::OutOfOrder);
    }
}
