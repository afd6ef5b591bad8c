//! What a detector did on a labelled series, and the tallies the quality benchmarks print:
//! leaksense with and without the traffic covariate, and the article's Prometheus rule.

use crate::feed_traffic;
use leaksense_core::detect::inflection::{ARTICLE_RATIO, ARTICLE_WINDOW, find_growth_inflection};
use leaksense_core::detect::prom::{WindowRule, deriv_at};
use leaksense_core::detect::scenarios::Scenario;
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, SeriesKind};
use leaksense_core::series::Sample;
use std::collections::HashMap;

/// The detectors compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// leaksense fed the series' traffic (the in-process monitor).
    Covariate,
    /// leaksense on the series alone (`leaksense analyze` on a file).
    Plain,
    /// Another version of leaksense on the series alone, replayed from its timeline.
    Previous,
    /// The article's rule.
    Article,
}

impl Who {
    /// How a table's heading names it.
    pub fn label(self) -> &'static str {
        match self {
            Who::Covariate => "leaksense with traffic",
            Who::Plain => "leaksense on the series alone",
            Who::Previous => "the previous detector",
            Who::Article => "article",
        }
    }
}

/// The labels a run needs, taken from a scenario (or another generator).
#[derive(Debug, Clone, Copy)]
pub struct Truth {
    pub leak_start_ms: Option<i64>,
    pub growth_stop_ms: Option<i64>,
    pub limit_reached_ms: Option<i64>,
}

impl From<&Scenario> for Truth {
    fn from(sc: &Scenario) -> Self {
        Truth {
            leak_start_ms: sc.leak_start_ms,
            growth_stop_ms: sc.growth_stop_ms,
            limit_reached_ms: sc.limit_reached_ms,
        }
    }
}

/// What one detector did on one series.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// Fired on a healthy series or before the leak began.
    pub false_alarm: bool,
    /// Began firing on a healthy series more than a day after its first sample (the daily
    /// profile has then seen yesterday's cycle).
    pub second_day_alarm: bool,
    /// Seconds from leak start to the first firing evaluation at or after it.
    pub delay_secs: Option<f64>,
    /// The alert counted in `delay_secs` began firing at or after the leak start, rather than
    /// being a false alarm from before it that was still firing.
    pub caught_by_new_alert: bool,
    /// |estimated - true| growth start in seconds, as reported at that firing.
    pub start_err_secs: Option<f64>,
    /// Stopped firing after it first fired, while the leak was still growing.
    pub resolved_while_leaking: bool,
    /// When the growth stopped (a leak that stops, a warm-up) and the alert was firing at or
    /// after that time: seconds from the stop until it stopped firing for good, `INFINITY`
    /// when it still fired at the end.
    pub resolve_secs: Option<f64>,
    /// Seconds from the first firing to when the leak's live data reaches the limit, negative
    /// when the alert came after; `None` when the series does not reach its limit or the alert
    /// never fired.
    pub lead_secs: Option<f64>,
    /// The leak reaches its limit within the series and was alerted with at least half of its
    /// time to limit (from the leak start) still ahead; `None` when it does not reach it.
    pub half_ttl: Option<bool>,
    /// leaksense's time to limit at the first firing, over the true time left.
    pub ttl_ratio: Option<f64>,
}

/// Follows the alert state over a run and fills an [`Outcome`].
#[derive(Debug, Default)]
struct Watch {
    out: Outcome,
    first_ms: Option<i64>,
    firing: bool,
    /// When the current firing began.
    began_ms: i64,
    /// The last time it stopped firing after the growth stop.
    last_off_ms: Option<i64>,
    fired_after_stop: bool,
}

impl Watch {
    /// The state at evaluation time `ts_ms`; `at_first` gives the growth start and time to
    /// limit the detector reports when it first fires after the leak began.
    fn see(
        &mut self,
        truth: &Truth,
        ts_ms: i64,
        firing: bool,
        at_first: impl FnOnce() -> (Option<i64>, Option<f64>),
    ) {
        let first = *self.first_ms.get_or_insert(ts_ms);
        if firing && !self.firing && truth.leak_start_ms.is_none() && ts_ms - first >= 86_400_000 {
            self.out.second_day_alarm = true;
        }
        let stopped = truth.growth_stop_ms.is_some_and(|s| ts_ms >= s);
        if stopped && firing {
            self.fired_after_stop = true;
        }
        if self.firing && !firing {
            if stopped {
                self.last_off_ms = Some(ts_ms);
            } else if self.out.delay_secs.is_some() {
                self.out.resolved_while_leaking = true;
            }
        }
        if firing && !self.firing {
            self.began_ms = ts_ms;
        }
        self.firing = firing;
        if !firing {
            return;
        }
        match truth.leak_start_ms {
            Some(l) if ts_ms >= l => {
                if self.out.delay_secs.is_none() {
                    let (start, ttl) = at_first();
                    self.out.delay_secs = Some((ts_ms - l) as f64 / 1000.0);
                    self.out.caught_by_new_alert = self.began_ms >= l;
                    self.out.start_err_secs = start.map(|g| (g - l).abs() as f64 / 1000.0);
                    let left = truth.limit_reached_ms.map(|o| (o - ts_ms) as f64 / 1000.0);
                    self.out.lead_secs = left;
                    self.out.half_ttl = truth.limit_reached_ms.map(|o| 2 * (o - ts_ms) >= o - l);
                    self.out.ttl_ratio = match (left, ttl) {
                        (Some(left), Some(ttl)) if left > 0.0 => Some(ttl / left),
                        _ => None,
                    };
                }
            }
            _ => self.out.false_alarm = true,
        }
    }

    fn finish(mut self, truth: &Truth) -> Outcome {
        if let Some(stop) = truth.growth_stop_ms
            && self.fired_after_stop
        {
            self.out.resolve_secs = Some(match (self.firing, self.last_off_ms) {
                (false, Some(off)) => (off - stop) as f64 / 1000.0,
                _ => f64::INFINITY,
            });
        }
        if truth.limit_reached_ms.is_some() && truth.leak_start_ms.is_some() {
            self.out.half_ttl.get_or_insert(false);
        }
        self.out
    }
}

/// leaksense on one series: with `traffic`, the rates are fed before the memory samples at or
/// after their time; `full_gcs` marks the samples taken right after a full collection (fed
/// through `update_after_full_gc` when `cfg.reports_full_gcs`).
pub fn leaksense(
    samples: &[Sample],
    traffic: Option<&[Sample]>,
    full_gcs: &[usize],
    truth: &Truth,
    cfg: DetectorConfig,
) -> Outcome {
    let marked = cfg.reports_full_gcs;
    let mut d = Detector::new(cfg).expect("valid config");
    let mut w = Watch::default();
    let mut gcs = full_gcs.iter().peekable();
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    for (i, s) in samples.iter().enumerate() {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        if gcs.next_if_eq(&&i).is_some() && marked {
            d.update_after_full_gc(*s)
        } else {
            d.update(*s)
        }
        .expect("generated samples are valid");
        let firing = d.state() == AlertState::Firing;
        w.see(truth, s.ts_ms, firing, || {
            let a = d.analysis();
            (a.growth_start_ms, a.time_to_limit_secs)
        });
    }
    w.finish(truth)
}

/// Another detector's run recorded as a timeline (`bench/examples/timeline.rs`): `changes`
/// are the evaluations where its firing state changed, `first` its first firing evaluation at
/// or after the leak's start with the growth start and time to limit it reported there. Each
/// sample's time is an evaluation, as in [`leaksense`].
pub fn replay(samples: &[Sample], (changes, first): &Timeline, truth: &Truth) -> Outcome {
    let mut w = Watch::default();
    let mut next = changes.iter().peekable();
    let mut firing = false;
    for s in samples {
        while let Some(&(_, f)) = next.next_if(|c| c.0 <= s.ts_ms) {
            firing = f;
        }
        w.see(truth, s.ts_ms, firing, || match *first {
            Some((_, start, ttl)) => (start, ttl),
            None => (None, None),
        });
    }
    w.finish(truth)
}

/// A timeline of `bench/examples/timeline.rs`: the evaluations where the firing state changed,
/// and the first firing at or after the leak start with the growth start and time to limit.
pub type Timeline = (Vec<(i64, bool)>, Option<(i64, Option<i64>, Option<f64>)>);

/// Timelines by situation (or shape) name and seed.
pub type Timelines = HashMap<(String, u64), Timeline>;

/// Reads the JSON lines of `bench/examples/timeline.rs`, by situation (or shape) and seed.
pub fn read_timelines(path: &str) -> Result<Timelines, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--previous {path}: {e}"))?;
    let bad = |n: usize| format!("--previous {path}: line {n} is not a timeline");
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|_| bad(n + 1))?;
        let (Some(sit), Some(seed), Some(changes)) = (
            v["situation"].as_str(),
            v["seed"].as_u64(),
            v["changes"].as_array(),
        ) else {
            return Err(bad(n + 1));
        };
        let changes = changes
            .iter()
            .map(|c| Some((c[0].as_i64()?, c[1].as_bool()?)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad(n + 1))?;
        let first = v["first"]
            .as_array()
            .and_then(|f| Some((f[0].as_i64()?, f[1].as_i64(), f[2].as_f64())));
        out.insert((sit.to_string(), seed), (changes, first));
    }
    Ok(out)
}

/// The outcome of the timeline `previous` holds for the series `(name, seed)`.
pub fn replay_previous(
    previous: &Timelines,
    (name, seed): (&str, u64),
    samples: &[Sample],
    truth: &Truth,
) -> Result<Outcome, String> {
    let t = previous
        .get(&(name.to_string(), seed))
        .ok_or_else(|| format!("--previous has no {name} seed {seed}"))?;
    Ok(replay(samples, t, truth))
}

/// The article's alert rule with Prometheus `for` semantics, evaluated every 60 s:
/// `deriv(heap[2h]) > 10000` held 30 min (`deriv(goroutines[1h]) > 0.1` for counts). Its
/// growth start is its `find_growth_inflection` on 5-minute points when it first fires.
pub fn article(samples: &[Sample], kind: SeriesKind, truth: &Truth) -> Outcome {
    let (range_ms, threshold) = match kind {
        SeriesKind::Heap => (2 * 3600 * 1000, 10_000.0),
        SeriesKind::Count => (3600 * 1000, 0.1),
    };
    let for_ms = 30 * 60 * 1000;
    let (first, last) = (samples[0].ts_ms, samples[samples.len() - 1].ts_ms);
    let mut w = Watch::default();
    let mut active_since: Option<i64> = None;
    let mut t = first;
    while t <= last {
        let cond =
            deriv_at(samples, t, range_ms, WindowRule::Closed).is_some_and(|d| d > threshold);
        active_since = if cond { active_since.or(Some(t)) } else { None };
        let firing = active_since.is_some_and(|a| t - a >= for_ms);
        w.see(truth, t, firing, || (article_inflection(samples, t), None));
        t += 60_000;
    }
    w.finish(truth)
}

/// The article's `find_growth_inflection` as it uses it when the alert fires: on the last 24 h
/// queried at a 5 min step (each point the newest sample at or before the step, as
/// `query_range` does).
fn article_inflection(samples: &[Sample], at_ms: i64) -> Option<i64> {
    let step = 300_000;
    let mut t = samples[0].ts_ms.max(at_ms - 24 * 3600 * 1000);
    let mut points = Vec::new();
    while t <= at_ms {
        let i = samples.partition_point(|s| s.ts_ms <= t);
        if i > 0 {
            points.push(Sample {
                ts_ms: t,
                value: samples[i - 1].value,
            });
        }
        t += step;
    }
    find_growth_inflection(&points, ARTICLE_WINDOW, ARTICLE_RATIO).ok()
}

/// Totals of one detector over some series.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub series: usize,
    pub healthy: usize,
    pub leaks: usize,
    pub caught: usize,
    /// Leaks caught by an alert that began at or after the leak start.
    pub caught_by_new_alert: usize,
    pub false_alarms: usize,
    /// False alarms on healthy series only.
    pub healthy_alarms: usize,
    /// Healthy series that began firing after their first day.
    pub second_day_alarms: usize,
    pub delays: Vec<f64>,
    /// Delays of the leaks caught by an alert that began at or after the leak start.
    pub new_alert_delays: Vec<f64>,
    /// Delays of the leaks of at least 5% of their floor per hour.
    pub fast_delays: Vec<f64>,
    /// Leaks of at least 5%/h, and how many were caught.
    pub fast_leaks: usize,
    pub start_errs: Vec<f64>,
    pub resolved_while_leaking: usize,
    pub resolves: Vec<f64>,
    /// Leaks that reach their limit, and of those alerted with half their time to limit left.
    pub reach_limit: usize,
    pub half_ttl: usize,
    pub leads: Vec<f64>,
    pub ttl_ratios: Vec<f64>,
}

impl Tally {
    /// Adds one series: whether it leaks, its leak's share of the floor per hour, the outcome.
    pub fn add(&mut self, leaks: bool, share_per_hour: Option<f64>, o: &Outcome) {
        self.series += 1;
        let fast = share_per_hour.is_some_and(|r| r >= 0.05);
        if leaks {
            self.leaks += 1;
            self.fast_leaks += usize::from(fast);
            self.caught += usize::from(o.delay_secs.is_some());
            self.caught_by_new_alert += usize::from(o.caught_by_new_alert);
        } else {
            self.healthy += 1;
            self.healthy_alarms += usize::from(o.false_alarm);
        }
        self.false_alarms += usize::from(o.false_alarm);
        self.second_day_alarms += usize::from(o.second_day_alarm);
        self.resolved_while_leaking += usize::from(o.resolved_while_leaking);
        self.delays.extend(o.delay_secs);
        if o.caught_by_new_alert {
            self.new_alert_delays.extend(o.delay_secs);
        }
        if fast {
            self.fast_delays.push(o.delay_secs.unwrap_or(f64::INFINITY));
        }
        self.start_errs.extend(o.start_err_secs);
        self.resolves.extend(o.resolve_secs);
        if let Some(h) = o.half_ttl {
            self.reach_limit += 1;
            self.half_ttl += usize::from(h);
        }
        self.leads.extend(o.lead_secs);
        self.ttl_ratios.extend(o.ttl_ratio);
    }

    /// Adds another tally.
    pub fn merge(&mut self, o: &Tally) {
        self.series += o.series;
        self.healthy += o.healthy;
        self.leaks += o.leaks;
        self.caught += o.caught;
        self.caught_by_new_alert += o.caught_by_new_alert;
        self.false_alarms += o.false_alarms;
        self.healthy_alarms += o.healthy_alarms;
        self.second_day_alarms += o.second_day_alarms;
        self.delays.extend(&o.delays);
        self.new_alert_delays.extend(&o.new_alert_delays);
        self.fast_delays.extend(&o.fast_delays);
        self.fast_leaks += o.fast_leaks;
        self.start_errs.extend(&o.start_errs);
        self.resolved_while_leaking += o.resolved_while_leaking;
        self.resolves.extend(&o.resolves);
        self.reach_limit += o.reach_limit;
        self.half_ttl += o.half_ttl;
        self.leads.extend(&o.leads);
        self.ttl_ratios.extend(&o.ttl_ratios);
    }

    /// `caught/leaks`, or a dash without leaks.
    pub fn caught(&self) -> String {
        if self.leaks == 0 {
            "–".into()
        } else {
            format!("{}/{}", self.caught, self.leaks)
        }
    }

    /// `half/reaching`, or a dash when no leak reaches its limit.
    pub fn half_ttl(&self) -> String {
        if self.reach_limit == 0 {
            "–".into()
        } else {
            format!("{}/{}", self.half_ttl, self.reach_limit)
        }
    }

    /// The median resolution delay, and how many never resolved.
    pub fn resolution(&self) -> String {
        if self.resolves.is_empty() {
            return "–".into();
        }
        let never = self.resolves.iter().filter(|r| r.is_infinite()).count();
        let m = median_min(&self.resolves);
        if never > 0 {
            format!("{m} ({never} never)")
        } else {
            m
        }
    }
}

/// The median, `None` when empty (infinities count as the largest values).
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    Some(if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    })
}

/// The median of seconds, in minutes (`n/a` when empty, `never` when infinite).
pub fn median_min(v: &[f64]) -> String {
    match median(v) {
        None => "n/a".into(),
        Some(m) if m.is_infinite() => "never".into(),
        Some(m) => format!("{:.0} min", m / 60.0),
    }
}

/// One cell per detector, `a / b / c`.
pub fn cells(tallies: &[Tally], f: impl Fn(&Tally) -> String) -> String {
    tallies.iter().map(f).collect::<Vec<_>>().join(" / ")
}

/// A markdown row of a situation (or total), one cell per detector.
pub fn row(name: &str, t: &[Tally]) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} |",
        t[0].series,
        cells(t, Tally::caught),
        cells(t, |x| x.false_alarms.to_string()),
        cells(t, |x| median_min(&x.delays)),
        cells(t, |x| median_min(&x.start_errs)),
        cells(t, Tally::resolution),
        cells(t, Tally::half_ttl),
    )
}

/// "Leaks caught by an alert that began after the leak started" for the summary lines: a leak
/// that a false alarm from before it was still covering counts as caught with no delay in the
/// table; this says how many were caught by an alert of their own.
pub fn caught_by_new_alert_line(t: &[Tally]) -> String {
    format!(
        "Leaks caught by an alert that began after the leak started (not a false alarm still \
         firing): {} of {}; their median delay {}.",
        cells(t, |x| x.caught_by_new_alert.to_string()),
        t[0].leaks,
        cells(t, |x| median_min(&x.new_alert_delays))
    )
}

/// The header of [`row`]'s table.
pub const HEADER: &str = "| situation | series | leaks caught | series with a false alarm | median delay | median growth-start error | resolution after the growth stopped | alerted with ≥ half the time to limit left |\n|---|---|---|---|---|---|---|---|";

/// Adds one series' outcomes (one per detector of `who`) to a situation's tallies; with
/// `verbose`, lists on stderr each of the first two detectors' false alarm, missed leak or
/// alert that resolved while the leak still grew (`detector-unseen`, `detector-blind`).
pub fn add_series(
    t: &mut [Tally],
    who: &[Who],
    (name, seed): (&str, u64),
    leaks: bool,
    share_per_hour: Option<f64>,
    out: &[Outcome],
    verbose: bool,
) {
    for (i, o) in out.iter().enumerate() {
        t[i].add(leaks, share_per_hour, o);
    }
    if verbose {
        for (i, who) in who.iter().enumerate().take(2) {
            let missed = leaks && out[i].delay_secs.is_none();
            if out[i].false_alarm || missed || out[i].resolved_while_leaking {
                eprintln!("{name} seed {seed} {who:?}: {:?}", out[i]);
            }
        }
    }
}

/// Prints the totals' row and the summary lines under a table (`detector-unseen`,
/// `detector-blind`).
pub fn print_totals(all: &[Tally]) {
    println!("{}", row("**all**", all));
    println!(
        "\nHealthy series with a false alarm: {} of {}. Leaks of at least 5%/h: median delay {}.",
        cells(all, |x| x.healthy_alarms.to_string()),
        all[0].healthy,
        cells(all, |x| median_min(&x.fast_delays)),
    );
    println!("{}", caught_by_new_alert_line(all));
    println!(
        "Leaks whose alert resolved while still growing: {}.",
        cells(all, |x| x.resolved_while_leaking.to_string())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_measures_delay_resolution_and_half_ttl() {
        let truth = Truth {
            leak_start_ms: Some(1000),
            growth_stop_ms: Some(5000),
            limit_reached_ms: Some(9000),
        };
        let mut w = Watch::default();
        for (t, firing) in [
            (0, false),
            (2000, true),
            (4000, true),
            (6000, true),
            (7000, false),
        ] {
            w.see(&truth, t, firing, || (Some(1500), Some(6000.0)));
        }
        let o = w.finish(&truth);
        assert!(!o.false_alarm && !o.resolved_while_leaking && o.caught_by_new_alert);
        assert_eq!(o.delay_secs, Some(1.0));
        assert_eq!(o.start_err_secs, Some(0.5));
        assert_eq!(o.resolve_secs, Some(2.0));
        assert_eq!(o.half_ttl, Some(true));
        assert_eq!(o.ttl_ratio, Some(6000.0 / 7.0));
        let mut w = Watch::default();
        for (t, firing) in [(500, true), (800, false), (6000, true)] {
            w.see(&truth, t, firing, || (None, None));
        }
        let o = w.finish(&truth);
        assert!(o.false_alarm && o.caught_by_new_alert);
        assert_eq!(o.resolve_secs, Some(f64::INFINITY));
        assert_eq!(o.half_ttl, Some(false));
        // A false alarm from before the leak that still fires when it starts catches it with
        // no delay, but not by a new alert.
        let mut w = Watch::default();
        for (t, firing) in [(500, true), (1000, true), (2000, true)] {
            w.see(&truth, t, firing, || (None, None));
        }
        let o = w.finish(&truth);
        assert!(o.false_alarm && !o.caught_by_new_alert);
        assert_eq!(o.delay_secs, Some(0.0));
        assert_eq!(o.half_ttl, Some(true));
        // The tally's median over new alerts leaves that catch out; the plain one keeps it.
        let mut t = Tally::default();
        t.add(true, None, &o);
        assert_eq!((t.delays.len(), t.new_alert_delays.len()), (1, 0));
        let late = Outcome {
            delay_secs: Some(60.0),
            caught_by_new_alert: true,
            ..o
        };
        t.add(true, None, &late);
        assert_eq!(t.new_alert_delays, [60.0]);
        assert_eq!(median_min(&t.new_alert_delays), "1 min");
    }

    #[test]
    fn a_replayed_timeline_scores_like_the_live_watch() {
        let truth = Truth {
            leak_start_ms: Some(1000),
            growth_stop_ms: Some(5000),
            limit_reached_ms: Some(9000),
        };
        let samples: Vec<Sample> = (0..8)
            .map(|i| Sample {
                ts_ms: i * 1000,
                value: 1.0,
            })
            .collect();
        let timeline = (
            vec![(2000, true), (6000, false)],
            Some((2000, Some(1500), Some(6000.0))),
        );
        let o = replay(&samples, &timeline, &truth);
        assert!(!o.false_alarm && !o.resolved_while_leaking);
        assert_eq!(o.delay_secs, Some(1.0));
        assert_eq!(o.start_err_secs, Some(0.5));
        assert_eq!(o.resolve_secs, Some(1.0));
        assert_eq!(o.half_ttl, Some(true));
        let early = replay(&samples, &(vec![(0, true), (500, false)], None), &truth);
        assert!(early.false_alarm && early.delay_secs.is_none());
    }
}
