//! The blind generator's outcomes by scrape interval (with traffic): healthy series with a false
//! alarm and leaks caught, for each drawn interval (`blind_by_step A..B`, default 0..100): a
//! check that no sampling interval is judged worse than the others for a plain reason.

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::quality::leaksense;
use leaksense_bench::{blind_config, par_map, parse_seeds};
use std::collections::BTreeMap;

fn main() {
    let (a, b) = std::env::args()
        .nth(1)
        .and_then(|s| parse_seeds(&s))
        .unwrap_or((0, 100));
    let runs: Vec<(Situation, u64)> = Situation::ALL
        .into_iter()
        .flat_map(|s| (a..b).map(move |seed| (s, seed)))
        .collect();
    let out = par_map(&runs, |&(sit, seed)| {
        let s = generate(sit, seed);
        let mut dts: Vec<i64> = s
            .samples
            .windows(2)
            .map(|w| w[1].ts_ms - w[0].ts_ms)
            .collect();
        dts.sort_unstable();
        let step = (dts[dts.len() / 2] as f64 / 1000.0).round() as i64;
        let cfg = blind_config(&s, &[]);
        let o = leaksense(&s.samples, Some(&s.traffic), &[], &s.truth, cfg);
        (step, sit.leaks(), o.false_alarm, o.delay_secs.is_some())
    });
    // interval -> (healthy, alarms, leaks, caught)
    let mut t: BTreeMap<i64, (u32, u32, u32, u32)> = BTreeMap::new();
    for (step, leaks, fa, caught) in out {
        // Jittered intervals round to the drawn one within 15 %.
        let key = [10, 15, 30, 60, 120, 300]
            .into_iter()
            .min_by_key(|&k| (k - step).abs())
            .unwrap_or(step);
        let e = t.entry(key).or_default();
        if leaks {
            e.2 += 1;
            e.3 += u32::from(caught);
        } else {
            e.0 += 1;
            e.1 += u32::from(fa);
        }
    }
    println!("| interval | healthy with a false alarm | leaks caught |\n|---|---|---|");
    for (k, (h, fa, l, c)) in t {
        println!("| {k} s | {fa}/{h} | {c}/{l} |");
    }
}
