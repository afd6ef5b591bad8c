//! When the detector fired on each generated series, as JSON lines, for comparing another
//! version of the detector in `detector-quality --previous FILE`. It uses only the API that
//! the detector had before the traffic covariate (commit 3d07fb9, whose generator is the
//! current one), so `scripts/detector-previous.sh` builds it there; run on the current tree it
//! gives the current detector on the series alone.
//!
//! `cargo run --release -p leaksense-bench --example timeline -- A B`   (seeds A..B)
//!
//! Each line: `{"situation", "seed", "changes": [[ts_ms, firing]...], "first": [ts_ms,
//! growth_start_ms, time_to_limit_secs] | null}`, `first` being the first firing evaluation
//! at or after the leak's start.

use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("seeds are integers"))
        .collect();
    let [a, b] = args[..] else {
        panic!("usage: timeline A B (seeds A..B)");
    };
    for sit in Situation::ALL {
        for seed in a..b {
            let sc = generate(sit, seed, 15);
            let cfg = DetectorConfig {
                limit: sc.limit,
                ..DetectorConfig::for_kind(sc.kind)
            };
            let mut d = Detector::new(cfg).expect("valid config");
            let (mut changes, mut first, mut was) = (Vec::new(), None, false);
            for s in &sc.samples {
                d.update(*s).expect("generated samples are valid");
                let firing = d.state() == AlertState::Firing;
                if firing != was {
                    changes.push(serde_json::json!([s.ts_ms, firing]));
                    was = firing;
                }
                if firing && first.is_none() && sc.leak_start_ms.is_some_and(|l| s.ts_ms >= l) {
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
                serde_json::json!({"situation": sit.name(), "seed": seed, "changes": changes,
                                   "first": first})
            );
        }
    }
}
