//! Minimum over 400 runs of `analyze` on one day at 15 s, next to the article's rule over the
//! same day: a load-robust companion to the criterion bench on a shared machine. The
//! `daily_swing` and `swing_leak` days run with their traffic (`analyze_with_traffic`, the load
//! model's work included), the others on the series alone.
//! The two-day situations show the cost of a window that spans a day (per sample).
//! `cargo run --release -p leaksense-bench --example analyze_min [-- field=value...]` (the
//! values override `DetectorConfig` defaults, as `detector-quality --set` does).
//! `ONLY=count_swing,slow_count_leak` times those situations instead (seed 1, with their
//! traffic unless they are of the first nineteen).

use leaksense_bench::{config, parse_set};
use leaksense_core::detect::analyze_with_traffic;
use leaksense_core::detect::prom::{WindowRule, deriv_at};
use leaksense_core::detect::scenarios::{Situation, generate};
use std::hint::black_box;
use std::time::Instant;

/// The fastest of 400 runs of `f`, in milliseconds.
fn min_ms(mut f: impl FnMut()) -> f64 {
    (0..400)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let overrides: Vec<_> = std::env::args()
        .skip(1)
        .map(|kv| parse_set(&kv).expect("field=value, a DetectorConfig field"))
        .collect();
    let only: Option<Vec<Situation>> = std::env::var("ONLY").ok().map(|v| {
        v.split(',')
            .map(|n| Situation::from_name(n).expect("a situation"))
            .collect()
    });
    let sits = only.unwrap_or_else(|| {
        vec![
            Situation::Flat,
            Situation::FastLeak,
            Situation::DailySwing,
            Situation::SwingLeak,
            Situation::DailySwingTwoDays,
            Situation::SwingLeakTwoDays,
        ]
    });
    for sit in sits {
        let sc = generate(sit, 1, 15);
        let traffic: &[_] = if sit.legacy() { &[] } else { &sc.traffic };
        let cfg = config(&sc, &overrides);
        let ours = min_ms(|| {
            black_box(analyze_with_traffic(black_box(&sc.samples), traffic, &cfg).expect("valid"));
        });
        let (first, last) = (sc.samples[0].ts_ms, sc.samples[sc.samples.len() - 1].ts_ms);
        let article = min_ms(|| {
            let mut t = first;
            while t <= last {
                let d = deriv_at(black_box(&sc.samples), t, 7_200_000, WindowRule::Closed);
                black_box(d.is_some_and(|d| d > 10_000.0));
                t += 60_000;
            }
        });
        println!(
            "{}{}: analyze {ours:.3} ms ({:.0} ns/sample), article rule {article:.3} ms, {:.1}x",
            sit.name(),
            if traffic.is_empty() {
                ""
            } else {
                " with traffic"
            },
            ours * 1e6 / sc.samples.len() as f64,
            article / ours
        );
    }
}
