//! Does the detector find a JVM G1 heap's mixed cycles as slow collections (design section
//! 104)? For blind `jvm_old_gen` and `jvm_old_leak` (training seeds, `jvm_slow_tally A..B`,
//! with traffic): per series the scrape interval, the mixed cycles seen in the samples (a fall
//! landing 10 % of the value below every sample of the last 30 min), the falls the floor
//! took for slow collections (`gc slow` tags), and the ratio of the largest fall to the median
//! fall (how far a mixed cycle stands out of the young collections).

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::{blind_config, fed_rates, feed_traffic, overrides_from_env, parse_seeds};
use leaksense_core::detect::{Detector, probe};

fn main() {
    let (a, b) = std::env::args()
        .nth(1)
        .and_then(|s| parse_seeds(&s))
        .unwrap_or((0, 100));
    probe::enable();
    for sit in [Situation::JvmOldGen, Situation::JvmOldLeak] {
        let (mut tot_mixed, mut tot_slow, mut with_slow, mut with_two) = (0, 0, 0, 0);
        for seed in a..b {
            let s = generate(sit, seed);
            let cfg = blind_config(&s, &overrides_from_env());
            let mut d = Detector::new(cfg).expect("valid config");
            let mut rates = fed_rates(&s.traffic, true);
            let (mut slow, mut slow_times) = (0, Vec::new());
            let _ = probe::take();
            for p in &s.samples {
                feed_traffic(&mut d, &mut rates, p.ts_ms);
                d.update(*p).expect("valid samples");
                for t in probe::take() {
                    if t.contains("gc slow") {
                        slow += 1;
                        slow_times.push(p.ts_ms);
                    }
                }
            }
            let v = &s.samples;
            let step = (v[v.len() - 1].ts_ms - v[0].ts_ms) as f64 / (v.len() - 1) as f64 / 1000.0;
            let mut mixed = 0;
            let mut falls: Vec<f64> = Vec::new();
            let mut j = 0;
            for i in 1..v.len() {
                let f = v[i - 1].value - v[i].value;
                if f > 0.0 {
                    falls.push(f / v[i - 1].value);
                }
                while v[i].ts_ms - v[j].ts_ms > 1_800_000 {
                    j += 1;
                }
                let low = v[j..i].iter().map(|p| p.value).fold(f64::MAX, f64::min);
                if i > 60
                    && v[i].value < low - 0.1 * v[i].value
                    && v[i].ts_ms - v[0].ts_ms > 1_800_000
                {
                    mixed += 1;
                }
            }
            falls.sort_by(f64::total_cmp);
            let med = falls.get(falls.len() / 2).copied().unwrap_or(0.0);
            let max = falls.last().copied().unwrap_or(0.0);
            tot_mixed += mixed;
            tot_slow += slow;
            with_slow += usize::from(slow > 0);
            with_two += usize::from(slow > 1);
            let gaps: Vec<String> = slow_times
                .windows(2)
                .take(6)
                .map(|w| format!("{:.0}", (w[1] - w[0]) as f64 / 60_000.0))
                .collect();
            println!(
                "{} {seed}: step {step:.0} s, {:.0} h, mixed falls {mixed}, slow {slow} (gaps min {}), fall median {:.3} max {:.3} ({:.1}x)",
                sit.name(),
                (v[v.len() - 1].ts_ms - v[0].ts_ms) as f64 / 3.6e6,
                gaps.join(","),
                med,
                max,
                max / med.max(1e-12)
            );
        }
        println!(
            "{}: mixed falls {tot_mixed}, slow collections {tot_slow}, series with one {with_slow}, with two or more {with_two}",
            sit.name()
        );
    }
}
