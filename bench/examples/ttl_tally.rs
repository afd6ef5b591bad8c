//! What holds the leaks that reach their limit without an alert by half their time to it
//! (docs/design/detector.md, the section on time-to-limit urgency): for each such leak of the
//! training seeds (quality 0..50, unseen 100..140; `SEEDS=A..B`, `USEEN=A..B` change them),
//! with traffic, the state and `not_a_leak_because` at the half mark, the hinge's distance from
//! the true start, and the urgency there (the time left to the limit at the rate's lower bound
//! over the rise's age; `urgent_ttl_ratio` is the bar), then the hours from the leak's start to
//! the half mark by reason, sampled every 5 min. `ALONE=1` tallies the series alone instead.
//! `SET=field=value,...` overrides options; `ONLY=sparse_leak,minute_leak` restricts it to
//! those situations or shapes.
use leaksense_bench::quality::Truth;
use leaksense_bench::{feed_traffic, overrides_from_env, parse_seeds, unseen, with_overrides};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, SeriesKind};
use leaksense_core::series::Sample;
use std::collections::BTreeMap;

struct Probe {
    /// First firing at or after the leak's start.
    first_ms: Option<i64>,
    /// At the half mark: state, reason, growth start, rate low, floor.
    at_half: String,
    urgency: Option<f64>,
    hinge_off_h: Option<f64>,
    hours: BTreeMap<String, f64>,
}

fn key(d: &Detector) -> String {
    let a = d.analysis();
    match (d.state(), a.not_a_leak_because) {
        (AlertState::Pending, _) => "pending".into(),
        (AlertState::Firing, _) => "firing".into(),
        (_, Some(r)) => format!("{r:?}"),
        (_, None) if a.growth_start_ms.is_some() => "none(rise)".into(),
        _ => "no_rise".into(),
    }
}

fn probe(
    kind: SeriesKind,
    limit: Option<f64>,
    samples: &[Sample],
    traffic: Option<&[Sample]>,
    truth: &Truth,
) -> Probe {
    let cfg = with_overrides(
        DetectorConfig {
            limit,
            ..DetectorConfig::for_kind(kind)
        },
        &overrides_from_env(),
    );
    let mut d = Detector::new(cfg).unwrap();
    let (l, o) = (
        truth.leak_start_ms.unwrap(),
        truth.limit_reached_ms.unwrap(),
    );
    let half = l + (o - l) / 2;
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    let mut p = Probe {
        first_ms: None,
        at_half: String::new(),
        urgency: None,
        hinge_off_h: None,
        hours: BTreeMap::new(),
    };
    let mut last = i64::MIN;
    let mut halved = false;
    for s in samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        d.update(*s).unwrap();
        if s.ts_ms >= l && p.first_ms.is_none() && d.state() == AlertState::Firing {
            p.first_ms = Some(s.ts_ms);
        }
        if s.ts_ms >= l && s.ts_ms < half && s.ts_ms.saturating_sub(last) >= 300_000 {
            last = s.ts_ms;
            *p.hours.entry(key(&d)).or_default() += 300.0 / 3600.0;
        }
        if s.ts_ms >= half && !halved {
            halved = true;
            let a = d.analysis();
            p.at_half = key(&d);
            p.hinge_off_h = a.growth_start_ms.map(|g| (g - l) as f64 / 3.6e6);
            if let (Some(g), Some(lo), Some(b), Some(lim)) =
                (a.growth_start_ms, a.rate_low, a.baseline, limit)
                && lo > 0.0
            {
                p.urgency = Some((lim - b) / lo / ((s.ts_ms - g) as f64 / 1000.0));
            }
        }
    }
    p
}

fn report(
    name: &str,
    seed: u64,
    truth: &Truth,
    p: &Probe,
    total: &mut BTreeMap<String, (usize, f64)>,
) -> bool {
    let (l, o) = (
        truth.leak_start_ms.unwrap(),
        truth.limit_reached_ms.unwrap(),
    );
    let half = l + (o - l) / 2;
    if p.first_ms.is_some_and(|f| f <= half) {
        return false;
    }
    let late = p
        .first_ms
        .map(|f| format!("{:+.1} h", (f - half) as f64 / 3.6e6));
    println!(
        "{name} {seed}: ttl {:.1} h, first {}, at half {} hinge {} urgency {}; {}",
        (o - l) as f64 / 3.6e6,
        late.as_deref().unwrap_or("never"),
        p.at_half,
        p.hinge_off_h.map_or("-".into(), |h| format!("{h:+.1} h")),
        p.urgency.map_or("-".into(), |u| format!("{u:.1}")),
        p.hours
            .iter()
            .map(|(k, v)| format!("{k} {v:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let e = total.entry(p.at_half.clone()).or_default();
    e.0 += 1;
    for (k, v) in &p.hours {
        total.entry(format!("  hours {k}")).or_default().1 += v;
    }
    true
}

fn main() {
    let seeds = parse_seeds(&std::env::var("SEEDS").unwrap_or("0..50".into())).unwrap();
    let useeds = parse_seeds(&std::env::var("USEEN").unwrap_or("100..140".into())).unwrap();
    let alone = std::env::var_os("ALONE").is_some();
    let only: Option<Vec<String>> = std::env::var("ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));
    let mut total = BTreeMap::new();
    let mut misses = 0;
    for sit in Situation::ALL {
        if !sit.leaks() || !wanted(sit.name()) {
            continue;
        }
        for seed in seeds.0..seeds.1 {
            let sc = generate(sit, seed, 15);
            let truth = Truth::from(&sc);
            if truth.limit_reached_ms.is_none() || truth.leak_start_ms.is_none() {
                continue;
            }
            let tr = (!alone).then_some(&sc.traffic[..]);
            let p = probe(sc.kind, sc.limit, &sc.samples, tr, &truth);
            misses += usize::from(report(sit.name(), seed, &truth, &p, &mut total));
        }
    }
    println!("quality: {misses} misses; at the half mark / hours from the start: {total:?}");
    let mut total = BTreeMap::new();
    let mut misses = 0;
    for shape in unseen::Shape::ALL {
        if !shape.leaks() || !wanted(shape.name()) {
            continue;
        }
        for seed in useeds.0..useeds.1 {
            let s = unseen::generate(shape, seed);
            if s.truth.limit_reached_ms.is_none() || s.truth.leak_start_ms.is_none() {
                continue;
            }
            let tr = (!alone).then_some(&s.traffic[..]);
            let p = probe(s.kind, s.limit, &s.samples, tr, &s.truth);
            misses += usize::from(report(shape.name(), seed, &s.truth, &p, &mut total));
        }
    }
    println!("unseen: {misses} misses; at the half mark / hours from the start: {total:?}");
}
