//! Where a leak's wait goes, by sampling step: for each leaking legacy situation and seed, the
//! minutes from the leak start to the first firing evaluation, split by what the analysis said
//! at each evaluation (the test that held it, `not_a_leak_because`; no rise seen; pending). Run
//! at the generator's step and thinned (1 in `K` samples kept, as in `detector-quality --step
//! --thin`), it shows which test the coarser sampling holds longer.
//!
//! `cargo run --release -p leaksense-bench --example step_causes -- 0..50 STEP THIN [traffic]`
//! prints one line per cause: total minutes over the leaks, and minutes per leak. A leak that
//! is never caught counts until the series' end.

use leaksense_bench::{config, fed_rates, feed_traffic};
use leaksense_core::detect::scenarios::{Situation, generate, thin};
use leaksense_core::detect::{AlertState, Detector, Verdict};
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: step_causes A..B STEP THIN [traffic]";
    let (a, b) = args
        .get(1)
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect(usage);
    let step: u32 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let k: usize = args.get(3).and_then(|s| s.parse().ok()).expect(usage);
    let with_traffic = args.get(4).is_some_and(|s| s == "traffic");
    let mut minutes: BTreeMap<String, f64> = BTreeMap::new();
    let mut leaks = 0;
    for sit in Situation::ALL
        .into_iter()
        .filter(|s| s.legacy() && s.leaks())
    {
        let mut by_sit: BTreeMap<String, f64> = BTreeMap::new();
        for seed in a..b {
            let sc = thin(generate(sit, seed, step), k);
            let start = sc.leak_start_ms.expect("a leak");
            let mut d = Detector::new(config(&sc, &[])).expect("valid config");
            let mut rates = fed_rates(&sc.traffic, with_traffic);
            let mut last_eval: Option<i64> = None;
            leaks += 1;
            for s in &sc.samples {
                feed_traffic(&mut d, &mut rates, s.ts_ms);
                d.update(*s).expect("valid samples");
                if s.ts_ms < start {
                    continue;
                }
                if d.state() == AlertState::Firing {
                    break;
                }
                // One look per 5-min bucket (the detector's evaluations), weighted by the
                // time since the previous look.
                let bucket = s.ts_ms / 300_000;
                if last_eval.is_some_and(|l| l / 300_000 == bucket) {
                    continue;
                }
                let since = last_eval.unwrap_or(start);
                last_eval = Some(s.ts_ms);
                let an = d.analysis();
                let cause = match (an.verdict, an.not_a_leak_because) {
                    (Verdict::Leak, _) => "pending".to_string(),
                    (Verdict::Insufficient, None) => "insufficient".to_string(),
                    (_, Some(r)) => format!("{r:?}"),
                    (_, None) => "no rise seen".to_string(),
                };
                *by_sit.entry(cause).or_default() += (s.ts_ms - since) as f64 / 60_000.0;
            }
        }
        let line: Vec<String> = by_sit
            .iter()
            .map(|(c, m)| format!("{c} {:.0}", m / (b - a) as f64))
            .collect();
        println!("{}: {}", sit.name(), line.join(", "));
        for (c, m) in by_sit {
            *minutes.entry(c).or_default() += m;
        }
    }
    println!(
        "all {leaks} leaks, step {step} s, 1 in {k} kept{}: minutes per leak",
        if with_traffic { ", with traffic" } else { "" }
    );
    let total: f64 = minutes.values().sum();
    for (c, m) in &minutes {
        println!("  {c}: {:.0}", m / leaks as f64);
    }
    println!("  total: {:.0}", total / leaks as f64);
}
