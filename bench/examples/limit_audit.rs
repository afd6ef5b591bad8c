//! The generators' heaps against their own memory limit: for every heap series of both
//! generators (the quality bench's situations at 15 s, the unseen bench's shapes), the largest
//! sample over the limit before any leak begins (healthy series: the whole series), and by
//! situation the series with a sample at or above 0.95 and 1.0 of the limit, and those whose
//! samples at or above the limit last longer than a spike (more than 8 in a row).
//! `cargo run --release -p leaksense-bench --example limit_audit -- 0..250 100..240`
//! (quality seeds, unseen seeds). `HASH=1` prints instead one line per series, its situation,
//! seed and a hash of its samples, traffic, post-collection indices and labels (to check which
//! series a generator change moved). `LIST=1` adds one line per series at or above the limit.

use leaksense_bench::parse_seeds;
use leaksense_bench::unseen::{self, Shape};
use leaksense_core::detect::scenarios::{Situation, generate, generate_without_spikes};
use leaksense_core::series::Sample;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Largest sample over the limit before `until` (ms), and the longest run of samples at or
/// above the limit.
fn over(samples: &[Sample], limit: f64, until: Option<i64>) -> (f64, usize) {
    let (mut max, mut run, mut longest) = (0.0_f64, 0, 0);
    for s in samples
        .iter()
        .take_while(|s| until.is_none_or(|u| s.ts_ms < u))
    {
        let r = s.value / limit;
        max = max.max(r);
        run = if r >= 1.0 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    (max, longest)
}

fn hash(samples: &[Sample], traffic: &[Sample], extra: &[i64]) -> u64 {
    let mut h = DefaultHasher::new();
    for s in samples.iter().chain(traffic) {
        (s.ts_ms, s.value.to_bits()).hash(&mut h);
    }
    extra.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct Row {
    heaps: usize,
    near: usize,
    at: usize,
    long: usize,
    max: f64,
    /// The same without the spikes (the quality generator's big temporary allocations).
    calm_near: usize,
    calm_at: usize,
    calm_max: f64,
}

impl Row {
    /// One series: its largest sample over the limit and longest run at or above it, and its
    /// largest without spikes.
    fn add(&mut self, (max, longest): (f64, usize), calm_max: f64) {
        self.heaps += 1;
        self.near += usize::from(max >= 0.95);
        self.at += usize::from(max >= 1.0);
        self.long += usize::from(longest > 8);
        self.max = self.max.max(max);
        self.calm_near += usize::from(calm_max >= 0.95);
        self.calm_at += usize::from(calm_max >= 1.0);
        self.calm_max = self.calm_max.max(calm_max);
    }
    fn merge(&mut self, r: &Row) {
        self.heaps += r.heaps;
        self.near += r.near;
        self.at += r.at;
        self.long += r.long;
        self.max = self.max.max(r.max);
        self.calm_near += r.calm_near;
        self.calm_at += r.calm_at;
        self.calm_max = self.calm_max.max(r.calm_max);
    }
}

fn print(name: &str, r: &Row) {
    if r.heaps > 0 {
        println!(
            "| {name} | {} | {} | {} | {} | {:.2} | {} | {} | {:.2} |",
            r.heaps, r.near, r.at, r.long, r.max, r.calm_near, r.calm_at, r.calm_max
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (qa, qb) = args
        .first()
        .and_then(|s| parse_seeds(s))
        .unwrap_or((0, 250));
    let (ua, ub) = args
        .get(1)
        .and_then(|s| parse_seeds(s))
        .unwrap_or((100, 240));
    let hashing = std::env::var("HASH").is_ok();
    let list = std::env::var("LIST").is_ok();
    let header = "| situation | heap series | ≥ 0.95 limit | ≥ limit | ≥ limit for > 8 samples | largest sample / limit | without spikes: ≥ 0.95 | ≥ limit | largest |\n|---|---|---|---|---|---|---|---|---|";
    if !hashing {
        println!("quality generator, seeds {qa}..{qb} (15 s), before any leak\n\n{header}");
    }
    let mut total = Row::default();
    for sit in Situation::ALL {
        let mut row = Row::default();
        for seed in qa..qb {
            let sc = generate(sit, seed, 15);
            if hashing {
                let mut extra: Vec<i64> = sc.full_gcs.iter().map(|&i| i as i64).collect();
                extra.extend([
                    sc.limit.map_or(0, |l| l.to_bits() as i64),
                    sc.leak_start_ms.unwrap_or(0),
                    sc.limit_reached_ms.unwrap_or(0),
                    sc.growth_stop_ms.unwrap_or(0),
                ]);
                println!(
                    "q {} {seed} {:016x}",
                    sit.name(),
                    hash(&sc.samples, &sc.traffic, &extra)
                );
                continue;
            }
            let Some(limit) = sc.limit else { continue };
            let (max, longest) = over(&sc.samples, limit, sc.leak_start_ms);
            let calm = generate_without_spikes(sit, seed, 15);
            let (calm_max, _) = over(&calm.samples, limit, sc.leak_start_ms);
            row.add((max, longest), calm_max);
            if list && calm_max >= 1.0 {
                println!(
                    "  {} {seed}: {max:.2}, {longest} in a row; without spikes {calm_max:.2}",
                    sit.name()
                );
            }
        }
        print(sit.name(), &row);
        total.merge(&row);
    }
    if !hashing {
        print("**all**", &total);
        println!("\nunseen generator, seeds {ua}..{ub}, before any leak\n\n{header}");
    }
    let mut total = Row::default();
    for shape in Shape::ALL {
        let mut row = Row::default();
        for seed in ua..ub {
            let s = unseen::generate(shape, seed);
            if hashing {
                let extra = [
                    s.limit.map_or(0, |l| l.to_bits() as i64),
                    s.truth.leak_start_ms.unwrap_or(0),
                    s.truth.limit_reached_ms.unwrap_or(0),
                    s.truth.growth_stop_ms.unwrap_or(0),
                ];
                println!(
                    "u {} {seed} {:016x}",
                    shape.name(),
                    hash(&s.samples, &s.traffic, &extra)
                );
                continue;
            }
            let Some(limit) = s.limit else { continue };
            let (max, longest) = over(&s.samples, limit, s.truth.leak_start_ms);
            // No spikes in this generator.
            row.add((max, longest), max);
            if list && max >= 1.0 {
                println!("  {} {seed}: {max:.2}, {longest} in a row", shape.name());
            }
        }
        print(shape.name(), &row);
        total.merge(&row);
    }
    if !hashing {
        print("**all**", &total);
    }
}
