//! When does the floor's whole-window trend first project the limit? (docs/design/detector.md
//! section 90). For every series with a limit of the chosen situations (training seeds: quality
//! `SEEDS` 0..50, unseen `USEEN` 100..140; `ONLY=a,b` restricts them), with traffic (`ALONE=1`:
//! the series alone), every 5 min: a Theil–Sen slope over 24 block medians of the whole floor
//! window (`Detector::floor`, less the first `warmup_secs`), its lower bound at the detector's
//! confidence, and the whole-window urgency, the time to the limit at that bound over the
//! window's span. For a leak that reaches its limit: the urgency at its half mark and when it
//! first falls to `RATIO` (default 2) and to 1, in hours from the half mark; for a healthy
//! series, the lowest urgency reached and the hour of the run. `SET=` overrides options.
use leaksense_bench::quality::Truth;
use leaksense_bench::{feed_traffic, overrides_from_env, parse_seeds, unseen, with_overrides};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{Detector, DetectorConfig, SeriesKind};
use leaksense_core::series::Sample;

/// The normal quantile by bisection on erf's series (diagnostic only).
fn z_of(conf: f64) -> f64 {
    let cdf = |x: f64| 0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2));
    let (mut a, mut b) = (0.0, 10.0);
    for _ in 0..80 {
        let m = 0.5 * (a + b);
        if cdf(m) < 0.5 + conf / 2.0 {
            a = m
        } else {
            b = m
        }
    }
    a
}

fn erf(x: f64) -> f64 {
    // Abramowitz–Stegun 7.1.26.
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    y.copysign(x)
}

/// (rate, lower bound) of a Theil–Sen slope over 24 block medians, per second.
fn window_trend(pts: &[Sample], z: f64) -> Option<(f64, f64)> {
    let nb = 24.min(pts.len());
    if nb < 6 {
        return None;
    }
    let mut blocks = Vec::with_capacity(nb);
    for b in 0..nb {
        let (s, e) = (b * pts.len() / nb, (b + 1) * pts.len() / nb);
        let mut v: Vec<f64> = pts[s..e].iter().map(|p| p.value).collect();
        v.sort_by(f64::total_cmp);
        let t = pts[(s + e) / 2].ts_ms as f64 / 1000.0;
        blocks.push((t, v[v.len() / 2]));
    }
    let mut slopes = Vec::new();
    for i in 0..nb {
        for j in i + 1..nb {
            let dt = blocks[j].0 - blocks[i].0;
            if dt > 0.0 {
                slopes.push((blocks[j].1 - blocks[i].1) / dt);
            }
        }
    }
    slopes.sort_by(f64::total_cmp);
    let n = nb as f64;
    let c = z * (n * (n - 1.0) * (2.0 * n + 5.0) / 18.0).sqrt();
    let m = slopes.len() as f64;
    let lo_i = (((m - c) / 2.0).floor().max(0.0) as usize).min(slopes.len() - 1);
    Some((slopes[slopes.len() / 2], slopes[lo_i]))
}

struct Probe {
    /// (hours from the start, urgency) every 5 min.
    urg: Vec<(f64, f64)>,
}

fn probe(kind: SeriesKind, limit: f64, samples: &[Sample], traffic: Option<&[Sample]>) -> Probe {
    let cfg = with_overrides(
        DetectorConfig {
            limit: Some(limit),
            ..DetectorConfig::for_kind(kind)
        },
        &overrides_from_env(),
    );
    let z = z_of(cfg.confidence);
    let warm_ms = (cfg.warmup_secs * 1000.0) as i64;
    let mut d = Detector::new(cfg).unwrap();
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    let t0 = samples[0].ts_ms;
    let mut last = i64::MIN;
    let mut p = Probe { urg: Vec::new() };
    for s in samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        d.update(*s).unwrap();
        if s.ts_ms.saturating_sub(last) < 300_000 {
            continue;
        }
        last = s.ts_ms;
        let floor = d.floor();
        let from = floor.first().map_or(0, |f| f.ts_ms) + warm_ms;
        let pts: Vec<Sample> = floor.into_iter().filter(|f| f.ts_ms >= from).collect();
        let h = (s.ts_ms - t0) as f64 / 3.6e6;
        let u = match (window_trend(&pts, z), pts.last(), pts.first()) {
            (Some((_, lo)), Some(now), Some(first)) if lo > 0.0 && now.ts_ms > first.ts_ms => {
                let span = (now.ts_ms - first.ts_ms) as f64 / 1000.0;
                ((limit - now.value) / lo / span).max(0.0)
            }
            _ => f64::INFINITY,
        };
        p.urg.push((h, u));
    }
    p
}

fn leak_line(name: &str, seed: u64, truth: &Truth, t0: i64, p: &Probe, ratio: f64) -> String {
    let (l, o) = (
        truth.leak_start_ms.unwrap(),
        truth.limit_reached_ms.unwrap(),
    );
    let half_h = ((l + (o - l) / 2) - t0) as f64 / 3.6e6;
    let at_half = p
        .urg
        .iter()
        .find(|(h, _)| *h >= half_h)
        .map_or(f64::NAN, |x| x.1);
    let first = |r: f64| {
        p.urg
            .iter()
            .find(|(_, u)| *u <= r)
            .map_or("never".into(), |(h, _)| format!("{:+.1} h", h - half_h))
    };
    format!(
        "{name} {seed}: ttl {:.1} h, half at {half_h:.1} h, urgency at half {at_half:.1}, first <= {ratio} {}, first <= 1 {}",
        (o - l) as f64 / 3.6e6,
        first(ratio),
        first(1.0)
    )
}

fn healthy_line(name: &str, seed: u64, p: &Probe, ratio: f64) -> Option<String> {
    let (h, u) = p.urg.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let hours = p.urg.iter().filter(|(_, u)| *u <= ratio).count() as f64 / 12.0;
    (u <= ratio).then(|| {
        format!("{name} {seed}: lowest urgency {u:.2} at {h:.1} h, {hours:.1} h at <= {ratio}")
    })
}

fn main() {
    let seeds = parse_seeds(&std::env::var("SEEDS").unwrap_or("0..50".into())).unwrap();
    let useeds = parse_seeds(&std::env::var("USEEN").unwrap_or("100..140".into())).unwrap();
    let ratio: f64 = std::env::var("RATIO")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2.0);
    let alone = std::env::var_os("ALONE").is_some();
    let only: Option<Vec<String>> = std::env::var("ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));
    let (mut healthy, mut flagged) = (0, 0);
    for sit in Situation::ALL {
        if !wanted(sit.name()) {
            continue;
        }
        for seed in seeds.0..seeds.1 {
            let sc = generate(sit, seed, 15);
            let Some(limit) = sc.limit else { continue };
            let truth = Truth::from(&sc);
            let tr = (!alone).then_some(&sc.traffic[..]);
            let t0 = sc.samples[0].ts_ms;
            if sit.leaks() {
                if truth.limit_reached_ms.is_none() || truth.leak_start_ms.is_none() {
                    continue;
                }
                let p = probe(sc.kind, limit, &sc.samples, tr);
                println!("{}", leak_line(sit.name(), seed, &truth, t0, &p, ratio));
            } else {
                healthy += 1;
                let p = probe(sc.kind, limit, &sc.samples, tr);
                if let Some(line) = healthy_line(sit.name(), seed, &p, ratio) {
                    flagged += 1;
                    println!("{line}");
                }
            }
        }
    }
    for shape in unseen::Shape::ALL {
        if !wanted(shape.name()) {
            continue;
        }
        for seed in useeds.0..useeds.1 {
            let s = unseen::generate(shape, seed);
            let Some(limit) = s.limit else { continue };
            let tr = (!alone).then_some(&s.traffic[..]);
            let t0 = s.samples[0].ts_ms;
            if shape.leaks() {
                if s.truth.limit_reached_ms.is_none() || s.truth.leak_start_ms.is_none() {
                    continue;
                }
                let p = probe(s.kind, limit, &s.samples, tr);
                println!("{}", leak_line(shape.name(), seed, &s.truth, t0, &p, ratio));
            } else {
                healthy += 1;
                let p = probe(s.kind, limit, &s.samples, tr);
                if let Some(line) = healthy_line(shape.name(), seed, &p, ratio) {
                    flagged += 1;
                    println!("{line}");
                }
            }
        }
    }
    println!("healthy series with a limit: {healthy}; reaching an urgency <= {ratio}: {flagged}");
}
