//! Whether the blind generator's retried scrapes (a second sample 1 ms after the first) change
//! leaksense's outcome: each series of `A..B` (default 0..100) is judged as drawn and with every
//! sample less than a second after the previous one left out; prints the series whose outcome
//! (false alarm, delay, resolution) differs, with traffic.

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::quality::leaksense;
use leaksense_bench::{blind_config, parse_seeds};

fn main() {
    let (a, b) = std::env::args()
        .nth(1)
        .and_then(|s| parse_seeds(&s))
        .unwrap_or((0, 100));
    let (mut with_retries, mut differ) = (0, 0);
    for sit in Situation::ALL {
        for seed in a..b {
            let s = generate(sit, seed);
            let kept: Vec<_> = s
                .samples
                .iter()
                .enumerate()
                .filter(|(i, p)| *i == 0 || p.ts_ms - s.samples[i - 1].ts_ms >= 1000)
                .map(|(_, p)| *p)
                .collect();
            if kept.len() == s.samples.len() {
                continue;
            }
            with_retries += 1;
            let cfg = blind_config(&s, &[]);
            let x = leaksense(&s.samples, Some(&s.traffic), &[], &s.truth, cfg.clone());
            let y = leaksense(&kept, Some(&s.traffic), &[], &s.truth, cfg);
            let key = |o: &leaksense_bench::quality::Outcome| {
                (
                    o.false_alarm,
                    o.delay_secs.map(|d| d as i64),
                    o.resolve_secs.map(|d| d as i64),
                )
            };
            if key(&x) != key(&y) {
                differ += 1;
                println!(
                    "{} {seed}: with retries {:?}, without {:?}",
                    sit.name(),
                    key(&x),
                    key(&y)
                );
            }
        }
    }
    println!("{differ} of {with_retries} series with retried scrapes judged differently");
}
