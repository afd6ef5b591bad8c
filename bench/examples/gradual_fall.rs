//! A GC whose fall takes several seconds (a concurrent collector's sweep, an RSS that a
//! runtime returns page by page), sampled every second and every 15 s: does the floor still
//! see the sawtooth's drops when no single 1-s step is large? Prints, per fall duration and
//! step, healthy series with a false alarm and leaks caught with their median delay.
//!
//! `cargo run --release -p leaksense-bench --example gradual_fall -- 0..30 [field=json ...]`
//! Each seed draws a heap of 100–1000 MB, a sawtooth of 20–100 % of it with a period of
//! 10–30 min (±20 %), noise of 0.1–0.5 %, and, for the leak, 2–10 %/h from hour 6; 24 h.
//! A second table: collections that fall at once, under noise of 1–3 % correlated over `tau`
//! seconds (an AR(1) with the same spread at every step), at 1 s and 15 s: whether a noise
//! estimate shrinks where successive 1-s samples are alike.

use leaksense_bench::parse_set;
use leaksense_bench::quality::{Truth, leaksense, median_min};
use leaksense_core::detect::DetectorConfig;
use leaksense_core::detect::scenarios::START_MS;
use leaksense_core::series::Sample;

const HOUR: f64 = 3600.0;

/// One day of a sawtooth heap at `step` seconds whose collections fall over `fall_secs`.
fn series(seed: u64, step: f64, fall_secs: f64, leak: bool) -> (Vec<Sample>, f64, f64) {
    series_with_noise(seed, step, fall_secs, leak, None)
}

/// [`series`], or with `Some(tau)` noise of 1–3 % of the heap correlated over `tau` seconds.
fn series_with_noise(
    seed: u64,
    step: f64,
    fall_secs: f64,
    leak: bool,
    tau: Option<f64>,
) -> (Vec<Sample>, f64, f64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let base = 1e8 * (1.0 + 9.0 * rng.f64());
    let amp = base * (0.2 + 0.8 * rng.f64());
    let period = 600.0 + 1200.0 * rng.f64();
    let u = rng.f64();
    let noise = base
        * match tau {
            Some(_) => 0.01 + 0.02 * u,
            None => 0.001 + 0.004 * u,
        };
    // AR(1): each sample keeps `keep` of the last one's deviation, the spread the same.
    let keep = tau.map_or(0.0, |tau| if tau > 0.0 { (-step / tau).exp() } else { 0.0 });
    let mut last_z = 0.0;
    let rate = base * (0.02 + 0.08 * rng.f64()) / HOUR;
    let leak_start = 6.0 * HOUR;
    // Collection times, drawn on their own stream so the step does not change them.
    let mut gc_rng = fastrand::Rng::with_seed(seed ^ 0x5EED);
    let mut gcs = vec![period * gc_rng.f64()];
    while gcs[gcs.len() - 1] < 25.0 * HOUR {
        let next = gcs[gcs.len() - 1] + period * (0.8 + 0.4 * gc_rng.f64());
        gcs.push(next);
    }
    let mut noise_rng = fastrand::Rng::with_seed(seed ^ 0xA015E);
    let mut samples = Vec::new();
    let mut k = 0;
    let mut t = 0.0;
    while t < 24.0 * HOUR {
        while gcs[k + 1] <= t {
            k += 1;
        }
        // The heap climbs from the last collection's end to the next collection, then falls
        // linearly over `fall_secs`.
        let (last, next) = (gcs[k], gcs[k + 1]);
        let phase = if t < last {
            // Before the first collection: part of a cycle.
            1.0 - (last - t) / period
        } else if t < last + fall_secs {
            1.0 - (t - last) / fall_secs
        } else {
            (t - last - fall_secs) / (next - last - fall_secs)
        };
        let floor = base
            + if leak && t >= leak_start {
                rate * (t - leak_start)
            } else {
                0.0
            };
        let u1: f64 = noise_rng.f64().max(1e-300);
        let u2: f64 = noise_rng.f64();
        let fresh = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let z = keep * last_z + (1.0 - keep * keep).sqrt() * fresh;
        last_z = z;
        samples.push(Sample {
            ts_ms: START_MS + (t * 1000.0) as i64,
            value: floor + amp * phase.clamp(0.0, 1.0) + noise * z,
        });
        t += step;
    }
    (samples, base * 3.0, leak_start)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (a, b) = args
        .first()
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect("usage: gradual_fall A..B [field=json]...");
    let overrides: Vec<_> = args[1..]
        .iter()
        .map(|kv| parse_set(kv).expect("field=json, a DetectorConfig field"))
        .collect();
    println!("| fall | step | healthy with a false alarm | leaks caught | median delay |");
    println!("|---|---|---|---|---|");
    for fall in [0.0, 5.0, 20.0, 60.0] {
        for step in [1.0, 15.0] {
            let row = outcomes((a, b), &overrides, |seed, leak| {
                series(seed, step, fall, leak)
            });
            println!("| {fall} s | {step} s | {row} |");
        }
    }
    println!();
    println!(
        "| noise correlated over | step | healthy with a false alarm | leaks caught | median delay |"
    );
    println!("|---|---|---|---|---|");
    for tau in [0.0, 30.0, 120.0] {
        for step in [1.0, 15.0] {
            let row = outcomes((a, b), &overrides, |seed, leak| {
                series_with_noise(seed, step, 0.0, leak, Some(tau))
            });
            println!("| {tau} s | {step} s | {row} |");
        }
    }
}

/// "false alarms | caught | median delay" over the healthy and leaking series of `seeds`, drawn
/// by `draw(seed, leak)` (samples, limit, leak start in seconds).
fn outcomes(
    (a, b): (u64, u64),
    overrides: &[(String, serde_json::Value)],
    draw: impl Fn(u64, bool) -> (Vec<Sample>, f64, f64),
) -> String {
    let (mut alarms, mut caught, mut delays) = (0, 0, Vec::new());
    for seed in a..b {
        for leak in [false, true] {
            let (samples, limit, start) = draw(seed, leak);
            let cfg = leaksense_bench::with_overrides(
                DetectorConfig {
                    limit: Some(limit),
                    ..DetectorConfig::default()
                },
                overrides,
            );
            let truth = Truth {
                leak_start_ms: leak.then(|| START_MS + (start * 1000.0) as i64),
                growth_stop_ms: None,
                limit_reached_ms: None,
            };
            let o = leaksense(&samples, None, &[], &truth, cfg);
            alarms += usize::from(!leak && o.false_alarm);
            if leak {
                caught += usize::from(o.delay_secs.is_some());
                delays.extend(o.delay_secs);
            }
        }
    }
    format!(
        "{alarms}/{n} | {caught}/{n} | {}",
        median_min(&delays),
        n = b - a
    )
}
