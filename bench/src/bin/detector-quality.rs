//! Detector quality: leaksense's robust detector against the article's Prometheus rules on
//! labelled synthetic series (`leaksense_core::detect::scenarios`).
//!
//! `cargo run --release -p leaksense-bench --bin detector-quality -- --seeds 1000..1020`
//! (`--set field=value` overrides a `DetectorConfig` default, for tuning on training seeds;
//! `--full-gcs` feeds the V8 situations' post-full-collection samples as a binding that sees
//! its runtime's full GCs would, through `Detector::update_after_full_gc`)
//!
//! The article's rules are `deriv(heap[2h]) > 10000` and `deriv(goroutines[1h]) > 0.1`, each
//! held for 30 min, evaluated every 60 s with Prometheus's `for` semantics. Per situation it
//! prints leaks caught, series with any false alarm (firing on a healthy series or before the
//! leak began), the median detection delay and the median error of the estimated growth start
//! (for the article: its `find_growth_inflection` on 5 min points when its alert fires).

use leaksense_bench::config;
use leaksense_core::detect::inflection::{ARTICLE_RATIO, ARTICLE_WINDOW, find_growth_inflection};
use leaksense_core::detect::prom::{WindowRule, deriv_at};
use leaksense_core::detect::scenarios::{Scenario, Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, SeriesKind};
use leaksense_core::series::Sample;
use std::process::ExitCode;

/// What one detector did on one series.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    /// Fired on a healthy series or before the leak began.
    false_alarm: bool,
    /// Seconds from leak start to the first firing evaluation at or after it.
    delay_secs: Option<f64>,
    /// |estimated - true| growth start in seconds, as reported at that firing.
    start_err_secs: Option<f64>,
    /// Stopped firing after the leak began (the leak goes on to the end of every series).
    resolved_while_leaking: bool,
    /// Seconds from the first firing to when the leak's live data reaches the limit
    /// (`Scenario::limit_reached_ms`), negative when the alert came after; `None` when the
    /// series does not reach its limit or the alert never fired.
    lead_secs: Option<f64>,
    /// leaksense's time to limit at the first firing, over the true time left.
    ttl_ratio: Option<f64>,
}

/// leaksense on one series; with `full_gcs`, the samples taken right after a full collection
/// go through `update_after_full_gc`, as a binding that sees its runtime's full GCs feeds them.
fn leaksense(sc: &Scenario, overrides: &[(String, serde_json::Value)], full_gcs: bool) -> Outcome {
    let mut cfg = config(sc, overrides);
    // Only the V8 situations say when their full collections ran.
    cfg.reports_full_gcs = full_gcs && !sc.full_gcs.is_empty();
    let mut d = Detector::new(cfg).expect("default config is valid");
    let mut out = Outcome::default();
    let mut gcs = sc.full_gcs.iter().peekable();
    for (i, s) in sc.samples.iter().enumerate() {
        if full_gcs && gcs.next_if_eq(&&i).is_some() {
            d.update_after_full_gc(*s)
        } else {
            d.update(*s)
        }
        .expect("generated samples are valid");
        if d.state() != AlertState::Firing {
            out.resolved_while_leaking |= out.delay_secs.is_some();
            continue;
        }
        match sc.leak_start_ms {
            Some(l) if s.ts_ms >= l => {
                if out.delay_secs.is_none() {
                    let a = d.analysis();
                    out.delay_secs = Some((s.ts_ms - l) as f64 / 1000.0);
                    out.start_err_secs = a.growth_start_ms.map(|g| (g - l).abs() as f64 / 1000.0);
                    let left = sc.limit_reached_ms.map(|o| (o - s.ts_ms) as f64 / 1000.0);
                    out.lead_secs = left;
                    out.ttl_ratio = match (left, a.time_to_limit_secs) {
                        (Some(left), Some(ttl)) if left > 0.0 => Some(ttl / left),
                        _ => None,
                    };
                }
            }
            _ => out.false_alarm = true,
        }
    }
    out
}

/// The article's alert rule with Prometheus `for` semantics, evaluated every 60 s.
fn article(sc: &Scenario) -> Outcome {
    let (range_ms, threshold) = match sc.kind {
        SeriesKind::Heap => (2 * 3600 * 1000, 10_000.0),
        SeriesKind::Count => (3600 * 1000, 0.1),
    };
    let for_ms = 30 * 60 * 1000;
    let first = sc.samples[0].ts_ms;
    let last = sc.samples[sc.samples.len() - 1].ts_ms;
    let mut out = Outcome::default();
    let mut active_since: Option<i64> = None;
    let mut t = first;
    while t <= last {
        let cond =
            deriv_at(&sc.samples, t, range_ms, WindowRule::Closed).is_some_and(|d| d > threshold);
        active_since = if cond { active_since.or(Some(t)) } else { None };
        let firing = active_since.is_some_and(|a| t - a >= for_ms);
        out.resolved_while_leaking |= !firing && out.delay_secs.is_some();
        if firing {
            match sc.leak_start_ms {
                Some(l) if t >= l => {
                    if out.delay_secs.is_none() {
                        out.delay_secs = Some((t - l) as f64 / 1000.0);
                        out.lead_secs = sc.limit_reached_ms.map(|o| (o - t) as f64 / 1000.0);
                        out.start_err_secs = article_inflection(&sc.samples, t)
                            .map(|g| (g - l).abs() as f64 / 1000.0);
                    }
                }
                _ => out.false_alarm = true,
            }
        }
        t += 60_000;
    }
    out
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

/// Per-situation totals for one detector.
#[derive(Debug, Default)]
struct Tally {
    series: usize,
    leaks: usize,
    caught: usize,
    false_alarms: usize,
    delays: Vec<f64>,
    start_errs: Vec<f64>,
    resolved: usize,
    /// Leaks that reach their limit within the series; lead times of those alerted; time to
    /// limit over the truth at the first firing.
    reach_limit: usize,
    leads: Vec<f64>,
    ttl_ratios: Vec<f64>,
}

impl Tally {
    fn add(&mut self, leaks: bool, reaches_limit: bool, o: Outcome) {
        self.series += 1;
        self.reach_limit += usize::from(leaks && reaches_limit);
        self.leads.extend(o.lead_secs);
        self.ttl_ratios.extend(o.ttl_ratio);
        if leaks {
            self.leaks += 1;
            if o.delay_secs.is_some() {
                self.caught += 1;
            }
        }
        if o.false_alarm {
            self.false_alarms += 1;
        }
        self.resolved += usize::from(o.resolved_while_leaking);
        self.delays.extend(o.delay_secs);
        self.start_errs.extend(o.start_err_secs);
    }

    fn merge(&mut self, o: &Tally) {
        self.series += o.series;
        self.leaks += o.leaks;
        self.caught += o.caught;
        self.false_alarms += o.false_alarms;
        self.resolved += o.resolved;
        self.delays.extend(&o.delays);
        self.start_errs.extend(&o.start_errs);
        self.reach_limit += o.reach_limit;
        self.leads.extend(&o.leads);
        self.ttl_ratios.extend(&o.ttl_ratios);
    }

    /// Of the leaks that reach their limit: alerted at least 1 h before it, and the median
    /// lead of those alerted at all (a leak never alerted counts as no warning).
    fn warning(&self) -> String {
        if self.reach_limit == 0 {
            return "–".into();
        }
        let hour_ahead = self.leads.iter().filter(|&&l| l >= 3600.0).count();
        format!(
            "{hour_ahead}/{} (median lead {})",
            self.reach_limit,
            median_min(&self.leads)
        )
    }

    fn caught(&self) -> String {
        if self.leaks == 0 {
            "–".into()
        } else {
            format!("{}/{}", self.caught, self.leaks)
        }
    }
}

fn median(v: &[f64]) -> Option<f64> {
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

fn median_min(v: &[f64]) -> String {
    median(v).map_or("n/a".into(), |m| format!("{:.0} min", m / 60.0))
}

fn parse_seeds(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once("..")?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a < b).then_some((a, b))
}

fn main() -> ExitCode {
    let mut seeds = (1000u64, 1020u64);
    let mut verbose = false;
    let mut full_gcs = false;
    let mut overrides: Vec<(String, serde_json::Value)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => match args.next().as_deref().and_then(parse_seeds) {
                Some(r) => seeds = r,
                None => {
                    eprintln!("--seeds takes A..B with A < B");
                    return ExitCode::from(2);
                }
            },
            "--verbose" => verbose = true,
            "--full-gcs" => full_gcs = true,
            "--set" => {
                let kv = args.next().unwrap_or_default();
                let parsed = kv.split_once('=').and_then(|(k, v)| {
                    let v: serde_json::Value = serde_json::from_str(v).ok()?;
                    let mut probe = serde_json::to_value(DetectorConfig::default()).ok()?;
                    probe.get(k)?;
                    probe[k] = v.clone();
                    serde_json::from_value::<DetectorConfig>(probe)
                        .ok()?
                        .validate()
                        .ok()?;
                    Some((k.to_string(), v))
                });
                match parsed {
                    Some(p) => overrides.push(p),
                    None => {
                        eprintln!(
                            "--set takes a valid DetectorConfig field=json_value, got `{kv}`"
                        );
                        return ExitCode::from(2);
                    }
                }
            }
            _ => {
                eprintln!(
                    "usage: detector-quality [--seeds A..B] [--set field=value]... [--full-gcs] [--verbose]"
                );
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "seeds {}..{} ({} per situation), 24 h at 15 s; cells are leaksense / article",
        seeds.0,
        seeds.1,
        seeds.1 - seeds.0
    );
    for (k, v) in &overrides {
        println!("override: {k} = {v}");
    }
    if full_gcs {
        println!("full collections reported (update_after_full_gc)");
    }
    println!();
    println!(
        "| situation | series | leaks caught | series with a false alarm | median delay | median growth-start error |"
    );
    println!("|---|---|---|---|---|---|");
    let (mut all_ours, mut all_art) = (Tally::default(), Tally::default());
    // The totals without the slow-GC situations, comparable with ranges measured before
    // they were added.
    let (mut fast_ours, mut fast_art) = (Tally::default(), Tally::default());
    let (mut both_ours, mut both_art) = (Vec::new(), Vec::new());
    let mut warnings = Vec::new();
    for sit in Situation::ALL {
        let (mut ours, mut art) = (Tally::default(), Tally::default());
        for seed in seeds.0..seeds.1 {
            let sc = generate(sit, seed, 15);
            let (o, a) = (leaksense(&sc, &overrides, full_gcs), article(&sc));
            if verbose && (o.false_alarm || (sit.leaks() && o.delay_secs.is_none())) {
                eprintln!("{} seed {seed}: {o:?}", sit.name());
            }
            if let (Some(x), Some(y)) = (o.delay_secs, a.delay_secs) {
                both_ours.push(x);
                both_art.push(y);
            }
            let reaches_limit = sc.limit_reached_ms.is_some();
            ours.add(sit.leaks(), reaches_limit, o);
            art.add(sit.leaks(), reaches_limit, a);
        }
        print_row(sit.name(), &ours, &art);
        if ours.reach_limit > 0 {
            warnings.push(format!(
                "| {} | {} / {} |",
                sit.name(),
                ours.warning(),
                art.warning()
            ));
        }
        if !sit.slow_gc() {
            fast_ours.merge(&ours);
            fast_art.merge(&art);
        }
        all_ours.merge(&ours);
        all_art.merge(&art);
    }
    print_row("**all but slow_gc\\***", &fast_ours, &fast_art);
    print_row("**all**", &all_ours, &all_art);
    println!();
    println!(
        "Leaks whose alert resolved while still leaking: leaksense {}, article {} (all but \
         slow_gc*: {}, {}).",
        all_ours.resolved, all_art.resolved, fast_ours.resolved, fast_art.resolved
    );
    println!(
        "On the {} leaks both catch, median delay: leaksense {}, article {}.",
        both_ours.len(),
        median_min(&both_ours),
        median_min(&both_art)
    );
    println!(
        "\nWarning before the limit, on the leaks whose live data reaches the memory limit within \
         the 24 h (the OOM kill): alerted at least 1 h before it, and the median lead from the \
         first firing to it (negative: after it).\n\n| situation | leaksense | article |\n\
         |---|---|---|"
    );
    for w in &warnings {
        println!("{w}");
    }
    println!(
        "| **all** | {} / {} |",
        all_ours.warning(),
        all_art.warning()
    );
    if let Some(m) = median(&all_ours.ttl_ratios) {
        println!(
            "\nleaksense's time to limit at the first firing, over the true time left: median \
             {m:.2} over {} leaks",
            all_ours.ttl_ratios.len()
        );
    }
    ExitCode::SUCCESS
}

fn print_row(name: &str, ours: &Tally, art: &Tally) {
    println!(
        "| {name} | {} | {} / {} | {} / {} | {} / {} | {} / {} |",
        ours.series,
        ours.caught(),
        art.caught(),
        ours.false_alarms,
        art.false_alarms,
        median_min(&ours.delays),
        median_min(&art.delays),
        median_min(&ours.start_errs),
        median_min(&art.start_errs),
    );
}
