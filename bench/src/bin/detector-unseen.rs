//! The detector on series from an independent generator (`leaksense_bench::unseen`): shapes
//! and GC styles the detector was not tuned on. Run at checkpoints, never while tuning.
//!
//! `cargo run --release -p leaksense-bench --bin detector-unseen -- --seeds 0..40`
//!
//! Cells are `leaksense with traffic / leaksense on the series alone / the article`, as in
//! `detector-quality`.

use leaksense_bench::quality::{HEADER, Tally, Who, article, cells, leaksense, median_min, row};
use leaksense_bench::unseen::{Shape, generate};
use leaksense_core::detect::DetectorConfig;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds = match args.as_slice() {
        [] => Some((0, 40)),
        [flag, r] if flag == "--seeds" => r.split_once("..").and_then(|(a, b)| {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (a < b).then_some((a, b))
        }),
        _ => None,
    };
    let Some((a, b)) = seeds else {
        eprintln!("usage: detector-unseen [--seeds A..B]");
        return ExitCode::from(2);
    };
    println!(
        "unseen generator, seeds {a}..{b}; cells are leaksense with traffic / leaksense on the \
         series alone / article\n\n{HEADER}"
    );
    let mut all: [Tally; 3] = Default::default();
    for shape in Shape::ALL {
        let mut t: [Tally; 3] = Default::default();
        for seed in a..b {
            let s = generate(shape, seed);
            if s.samples.len() < 2 {
                continue;
            }
            let cfg = DetectorConfig {
                limit: s.limit,
                ..DetectorConfig::for_kind(s.kind)
            };
            let out = [
                leaksense(&s.samples, Some(&s.traffic), &[], &s.truth, cfg.clone()),
                leaksense(&s.samples, None, &[], &s.truth, cfg),
                article(&s.samples, s.kind, &s.truth),
            ];
            for (i, o) in out.iter().enumerate() {
                t[i].add(shape.leaks(), s.share_per_hour, o);
            }
            if std::env::var_os("VERBOSE").is_some() {
                for (i, who) in Who::ALL.iter().enumerate().take(2) {
                    let missed = shape.leaks() && out[i].delay_secs.is_none();
                    if out[i].false_alarm || missed {
                        eprintln!("{} seed {seed} {who:?}: {:?}", shape.name(), out[i]);
                    }
                }
            }
        }
        println!("{}", row(shape.name(), &t));
        for i in 0..3 {
            all[i].merge(&t[i]);
        }
    }
    println!("{}", row("**all**", &all));
    println!(
        "\nHealthy series with a false alarm: {} of {}. Leaks of at least 5%/h: median delay {}.",
        cells(&all, |x| x.healthy_alarms.to_string()),
        all[0].healthy,
        cells(&all, |x| median_min(&x.fast_delays)),
    );
    ExitCode::SUCCESS
}
