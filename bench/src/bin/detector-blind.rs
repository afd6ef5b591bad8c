//! The detector on series from a third generator, written blind (`leaksense_bench::blind`):
//! runtimes (Go's pacer and GOMEMLIMIT, JVM G1, CPython's RSS ratchet, V8, glibc arenas,
//! goroutine counts) and traffic (two peaks, lunch dip, weekends, flash crowds, autoscaling,
//! nightly batches, deploys) the detector was not tuned on. Training seeds 0..100; 1000..1100
//! are held out.
//!
//! `cargo run --release -p leaksense-bench --bin detector-blind -- --seeds 0..100`
//!
//! Cells are `leaksense with traffic / leaksense on the series alone / the article`, as in
//! `detector-unseen`; `--set field=value` overrides a `DetectorConfig` default; `--verbose`
//! lists every series with a false alarm, a missed leak or an alert that resolved while the
//! leak still grew (on stderr).

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::quality::{
    HEADER, Tally, Who, add_series, article, leaksense, print_totals, row,
};
use leaksense_bench::{blind_config, par_map, parse_seeds, parse_set};
use std::process::ExitCode;

type Args = ((u64, u64), Vec<(String, serde_json::Value)>, bool);

fn parse_args() -> Option<Args> {
    let (mut seeds, mut overrides, mut verbose) = ((0, 100), Vec::new(), false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--verbose" {
            verbose = true;
            continue;
        }
        let value = args.next()?;
        match flag.as_str() {
            "--seeds" => seeds = parse_seeds(&value)?,
            "--set" => overrides.push(parse_set(&value)?),
            _ => return None,
        }
    }
    Some((seeds, overrides, verbose))
}

fn main() -> ExitCode {
    let Some(((a, b), overrides, verbose)) = parse_args() else {
        eprintln!("usage: detector-blind [--seeds A..B] [--set field=value]... [--verbose]");
        return ExitCode::from(2);
    };
    let who = [Who::Covariate, Who::Plain, Who::Article];
    let columns = who.iter().map(|w| w.label()).collect::<Vec<_>>();
    println!(
        "blind generator, seeds {a}..{b}; cells are {}\n\n{HEADER}",
        columns.join(" / ")
    );
    let mut all = vec![Tally::default(); who.len()];
    for sit in Situation::ALL {
        let seeds: Vec<u64> = (a..b).collect();
        let runs = par_map(&seeds, |&seed| {
            let s = generate(sit, seed);
            if s.samples.len() < 2 {
                return None;
            }
            let cfg = blind_config(&s, &overrides);
            let out = [
                leaksense(&s.samples, Some(&s.traffic), &[], &s.truth, cfg.clone()),
                leaksense(&s.samples, None, &[], &s.truth, cfg),
                article(&s.samples, s.kind, &s.truth),
            ];
            Some((seed, s.share_per_hour, out))
        });
        let mut t = vec![Tally::default(); who.len()];
        for (seed, share, out) in runs.into_iter().flatten() {
            add_series(
                &mut t,
                &who,
                (sit.name(), seed),
                sit.leaks(),
                share,
                &out,
                verbose,
            );
        }
        println!("{}", row(sit.name(), &t));
        for (total, t) in all.iter_mut().zip(&t) {
            total.merge(t);
        }
    }
    print_totals(&all);
    ExitCode::SUCCESS
}
