//! When the detector fired on each generated series, as JSON lines, for comparing another
//! version of the detector in `detector-quality --previous FILE` and `detector-unseen
//! --previous FILE`. It uses only the API that the detector had before the traffic covariate
//! (commit 3d07fb9, whose scenario generator is the current one), so
//! `scripts/detector-previous.sh` builds it there, with the current `bench/src/unseen.rs`; run
//! on the current tree it gives the current detector on the series alone.
//!
//! `cargo run --release -p leaksense-bench --example timeline -- A B`          (scenarios)
//! `cargo run --release -p leaksense-bench --example timeline -- unseen A B`   (unseen series)
//!
//! Each line: `{"situation", "seed", "changes": [[ts_ms, firing]...], "first": [ts_ms,
//! growth_start_ms, time_to_limit_secs] | null}`, `first` being the first firing evaluation
//! at or after the leak's start.

use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, SeriesKind};
use leaksense_core::series::Sample;

// Not every item of the generator is used here.
#[allow(dead_code)]
#[path = "../src/unseen.rs"]
mod unseen;

/// The labels `unseen.rs` gives its series. The crate's own is `leaksense_bench::quality::Truth`,
/// which the commits this example is built on for comparison do not have.
mod quality {
    // Only the leak start is read here.
    #[allow(dead_code)]
    #[derive(Debug, Clone, Copy)]
    pub struct Truth {
        pub leak_start_ms: Option<i64>,
        pub growth_stop_ms: Option<i64>,
        pub limit_reached_ms: Option<i64>,
    }
}

/// Runs the detector with its defaults for `kind` and `limit`; prints the timeline line.
fn timeline(
    name: &str,
    seed: u64,
    samples: &[Sample],
    (kind, limit): (SeriesKind, Option<f64>),
    leak_start_ms: Option<i64>,
) {
    let cfg = DetectorConfig {
        limit,
        ..DetectorConfig::for_kind(kind)
    };
    let mut d = Detector::new(cfg).expect("valid config");
    let (mut changes, mut first, mut was) = (Vec::new(), None, false);
    for s in samples {
        d.update(*s).expect("generated samples are valid");
        let firing = d.state() == AlertState::Firing;
        if firing != was {
            changes.push(serde_json::json!([s.ts_ms, firing]));
            was = firing;
        }
        if firing && first.is_none() && leak_start_ms.is_some_and(|l| s.ts_ms >= l) {
            let an = d.analysis();
            first = Some(serde_json::json!([
                s.ts_ms,
                an.growth_start_ms,
                an.time_to_limit_secs
            ]));
        }
    }
    println!(
        "{}",
        serde_json::json!({"situation": name, "seed": seed, "changes": changes, "first": first})
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let unseen = args.first().is_some_and(|a| a == "unseen");
    let seeds: Vec<u64> = args[usize::from(unseen)..]
        .iter()
        .map(|a| a.parse().expect("seeds are integers"))
        .collect();
    let [a, b] = seeds[..] else {
        panic!("usage: timeline [unseen] A B (seeds A..B)");
    };
    for seed in a..b {
        if unseen {
            for shape in unseen::Shape::ALL {
                let s = unseen::generate(shape, seed);
                if s.samples.len() >= 2 {
                    let start = s.truth.leak_start_ms;
                    timeline(shape.name(), seed, &s.samples, (s.kind, s.limit), start);
                }
            }
        } else {
            for sit in Situation::ALL {
                let sc = generate(sit, seed, 15);
                let start = sc.leak_start_ms;
                timeline(sit.name(), seed, &sc.samples, (sc.kind, sc.limit), start);
            }
        }
    }
}
