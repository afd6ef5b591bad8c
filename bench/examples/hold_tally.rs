//! What keeps an alert firing after the growth stopped (a leak that stops, a warm-up that
//! flattens): `cargo run --release -p leaksense-bench --features probe --example hold_tally --
//! SITUATION A..B` (a quality situation, an unseen shape with seeds 100..140, or
//! `blind:NAME` a blind-generator situation with seeds 0..100). For each
//! column (with traffic, series alone) it replays the series with the detector's diagnostic
//! tags on (core feature `probe`) and prints the median resolution after the growth-stop label,
//! when the floor reached its plateau level (the first floor point at or above the median of
//! the floor 1.5–3 h after the stop) and the resolution after that, which test held each alert
//! still firing at its first evaluation an hour after the stop, and the same over every firing
//! evaluation after the stop. `V=1` lists each series; `SET=field=value,...` overrides options.
//! Tags: `raw`/`unmasked`/`yesterday` the judgement that kept the condition (the floor, it with
//! the load's part out, it against yesterday's), then the plateau test's holder: `noknee` (no
//! "rising, then flat" with F >= 4), `short_*` (flat part shorter than 45 min `recent`, a floor
//! window, the rise's longest `pause`, `stopmin` the minimum flat time), `loadhides`, `noise`,
//! `bound x` (the flat part's rate upper bound at x times the segment's rate), `burst`;
//! `day_hold` is `day_hold_secs`; `refired` an alert that began firing again at that
//! evaluation. A diagnostic for tuning on training seeds (design section 55).

use leaksense_bench::held::update_tagged;
use leaksense_bench::unseen::{Shape, generate as ugen};
use leaksense_bench::{config, overrides_from_env, unseen_config};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, probe};
use leaksense_core::series::Sample;
use std::collections::BTreeMap;

/// What held a firing alert at one evaluation, from its tags.
fn category(tags: &[String]) -> String {
    if tags.iter().any(|t| t.ends_with("dayhold")) {
        return "day_hold".into();
    }
    let reason = |p: &str| -> String {
        let mine: Vec<&String> = tags.iter().filter(|t| t.starts_with(p)).collect();
        if mine.iter().any(|t| t.ends_with(":burst")) {
            return "burst".into();
        }
        for t in &mine {
            let r = &t[p.len()..];
            if r.starts_with("bound") {
                let v: f64 = r
                    .split(' ')
                    .nth(1)
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(f64::NAN);
                let b = if v < 0.45 {
                    "<0.45"
                } else if v < 0.6 {
                    "0.45-0.6"
                } else if v < 1.0 {
                    "0.6-1"
                } else {
                    ">=1"
                };
                return format!("bound {b}");
            }
            if [
                "noknee",
                "noise",
                "loadhides",
                "fewflat",
                "gate",
                "tooshort",
            ]
            .contains(&r)
                || r.starts_with("short_")
            {
                return r.to_string();
            }
        }
        // The evaluation judged the series before it fired: an alert that fired again.
        "refired".into()
    };
    if tags.iter().any(|t| t == "raw:COND") {
        return format!("raw {}", reason("raw:"));
    }
    if tags.iter().any(|t| t == "unm:FOUND") {
        return format!("unmasked {}", reason("unm:"));
    }
    if tags.iter().any(|t| t == "yday:FOUND") {
        return format!("yesterday {}", reason("yday:"));
    }
    format!("other {tags:?}")
}

/// One series' outcome after its growth-stop label.
struct Run {
    evals: BTreeMap<String, usize>,
    at60: Option<String>,
    resolve_min: Option<f64>,
    lag_min: Option<f64>,
    /// Minutes after the stop at which the alert first fired there (0: firing at the stop).
    first_min: Option<f64>,
}

/// Replays one series, tallying the evaluations that kept the alert firing after `stop`.
fn run(samples: &[Sample], traffic: Option<&[Sample]>, stop: i64, cfg: DetectorConfig) -> Run {
    let mut d = Detector::new(cfg).expect("valid");
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    let mut evals = BTreeMap::new();
    let mut at60 = None;
    let mut fired_after = false;
    let mut last_off = None;
    let mut firing = false;
    let mut seen: Vec<(i64, f64)> = Vec::new();
    let mut first_min = None;
    for s in samples {
        let (_, tags) = update_tagged(&mut d, &mut rates, *s);
        if s.ts_ms >= stop - 7_200_000
            && s.ts_ms <= stop + 4 * 3_600_000
            && let Some(l) = d.floor().last()
            && seen.last().is_none_or(|x| x.1 != l.value)
        {
            seen.push((s.ts_ms, l.value));
        }
        let now = d.state() == AlertState::Firing;
        if s.ts_ms >= stop {
            if now && first_min.is_none() {
                first_min = Some(if firing && !fired_after {
                    0.0
                } else {
                    (s.ts_ms - stop) as f64 / 6e4
                });
            }
            if now {
                fired_after = true;
                if !tags.is_empty() {
                    let c = category(&tags);
                    if at60.is_none() && s.ts_ms >= stop + 3_600_000 {
                        at60 = Some(c.clone());
                    }
                    *evals.entry(c).or_insert(0) += 1;
                }
            } else if firing {
                last_off = Some(s.ts_ms);
            }
        }
        firing = now;
    }
    let resolve_min = fired_after.then(|| {
        if firing {
            f64::INFINITY
        } else {
            last_off.map_or(0.0, |t| (t - stop) as f64 / 6e4)
        }
    });
    let mut plat: Vec<f64> = seen
        .iter()
        .filter(|x| x.0 >= stop + 5_400_000 && x.0 <= stop + 3 * 3_600_000)
        .map(|x| x.1)
        .collect();
    plat.sort_by(f64::total_cmp);
    let lag_min = (!plat.is_empty())
        .then(|| plat[plat.len() / 2])
        .and_then(|p| {
            seen.iter()
                .find(|x| x.0 >= stop - 1_800_000 && x.1 >= p)
                .map(|x| (x.0 - stop) as f64 / 6e4)
        });
    Run {
        evals,
        at60,
        resolve_min,
        lag_min,
        first_min,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: hold_tally SITUATION A..B";
    let which = args.get(1).expect(usage);
    let (a, b) = args
        .get(2)
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect(usage);
    let overrides = overrides_from_env();
    let verbose = std::env::var_os("V").is_some();
    probe::enable();
    for col in ["traffic", "alone"] {
        let mut evals: BTreeMap<String, usize> = BTreeMap::new();
        let mut at60: BTreeMap<String, usize> = BTreeMap::new();
        let mut n = 0;
        let (mut lags, mut rests, mut ress) = (Vec::new(), Vec::new(), Vec::new());
        for seed in a..b {
            let (samples, traffic, stop, cfg) = if let Some(bname) = which.strip_prefix("blind:") {
                let sit = leaksense_bench::blind::Situation::ALL
                    .into_iter()
                    .find(|s| s.name() == bname)
                    .expect("blind name");
                let s = leaksense_bench::blind::generate(sit, seed);
                let cfg = leaksense_bench::blind_config(&s, &overrides);
                let Some(stop) = s.truth.growth_stop_ms else {
                    continue;
                };
                (s.samples, s.traffic, stop, cfg)
            } else if let Some(sit) = Situation::from_name(which) {
                let sc = generate(sit, seed, 15);
                let cfg = config(&sc, &overrides);
                let Some(stop) = sc.growth_stop_ms else {
                    continue;
                };
                (sc.samples, sc.traffic, stop, cfg)
            } else {
                let shape = Shape::ALL
                    .into_iter()
                    .find(|s| s.name() == which)
                    .expect("name");
                let s = ugen(shape, seed);
                let cfg = unseen_config(&s, &overrides);
                let Some(stop) = s.truth.growth_stop_ms else {
                    continue;
                };
                (s.samples, s.traffic, stop, cfg)
            };
            let tr = (col == "traffic").then_some(&traffic[..]);
            let r = run(&samples, tr, stop, cfg);
            if let Some(res) = r.resolve_min {
                n += 1;
                ress.push(res);
                if let Some(l) = r.lag_min {
                    lags.push(l);
                    rests.push(res - l);
                }
            }
            for (k, v) in &r.evals {
                *evals.entry(k.clone()).or_insert(0) += v;
            }
            if let Some(c) = &r.at60 {
                *at60.entry(c.clone()).or_insert(0) += 1;
            }
            if verbose && r.resolve_min.is_some() {
                let mut gaps: Vec<i64> = samples
                    .windows(2)
                    .map(|w| w[1].ts_ms - w[0].ts_ms)
                    .collect();
                gaps.sort_unstable();
                let step = gaps.get(gaps.len() / 2).copied().unwrap_or(0) / 1000;
                println!(
                    "  {which} {seed} {col} step {step}s: first firing after the stop {:?} min, lag {:?} resolve {:?} min, at60 {:?}, evals {:?}",
                    r.first_min.map(|x| x.round()),
                    r.lag_min,
                    r.resolve_min.map(|x| x.round()),
                    r.at60,
                    r.evals
                );
            }
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                f64::NAN
            } else {
                v[v.len() / 2]
            }
        };
        println!(
            "{which} {col}: resolution median {:.0} min, floor at its plateau level {:.0} min after the stop (median of {}), resolution after that {:.0} min",
            med(&mut ress),
            med(&mut lags),
            lags.len(),
            med(&mut rests)
        );
        println!(
            "{which} {col}: {n} fired after stop; held at +60 min: {at60:?}; evals: {evals:?}"
        );
    }
}
