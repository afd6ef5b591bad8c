//! The detector on series from an independent generator (`leaksense_bench::unseen`): shapes
//! and GC styles the detector was not tuned on. Run at checkpoints, never while tuning.
//!
//! `cargo run --release -p leaksense-bench --bin detector-unseen -- --seeds 0..40`
//!
//! Cells are `leaksense with traffic / leaksense on the series alone [/ previous] / the
//! article`, as in `detector-quality`; `--previous FILE` adds the timelines of
//! `scripts/detector-previous.sh unseen A B`; `--set field=value` overrides a `DetectorConfig`
//! default, as in `detector-quality`; `--verbose` lists every series with a false alarm, a
//! missed leak or an alert that resolved while the leak still grew (on stderr).

use leaksense_bench::quality::{
    HEADER, Tally, Timelines, Who, add_series, article, leaksense, print_totals, read_timelines,
    replay_previous, row,
};
use leaksense_bench::unseen::{Shape, generate};
use leaksense_bench::{parse_seeds, parse_set};
use std::process::ExitCode;

/// `--seeds A..B` (default 0..40), `--previous FILE`, `--set field=value` overrides and
/// `--verbose`.
type Args = (
    (u64, u64),
    Option<Timelines>,
    Vec<(String, serde_json::Value)>,
    bool,
);

fn parse_args() -> Option<Args> {
    let (mut seeds, mut previous, mut overrides, mut verbose) = ((0, 40), None, Vec::new(), false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--verbose" {
            verbose = true;
            continue;
        }
        let value = args.next()?;
        match flag.as_str() {
            "--seeds" => {
                seeds = parse_seeds(&value)?;
            }
            "--previous" => match read_timelines(&value) {
                Ok(t) => previous = Some(t),
                Err(e) => {
                    eprintln!("{e}");
                    return None;
                }
            },
            "--set" => overrides.push(parse_set(&value)?),
            _ => return None,
        }
    }
    Some((seeds, previous, overrides, verbose))
}

fn main() -> ExitCode {
    let Some(((a, b), previous, overrides, verbose)) = parse_args() else {
        eprintln!(
            "usage: detector-unseen [--seeds A..B] [--previous FILE] [--set field=value]... [--verbose]"
        );
        return ExitCode::from(2);
    };
    let mut who = vec![Who::Covariate, Who::Plain];
    who.extend(previous.as_ref().map(|_| Who::Previous));
    who.push(Who::Article);
    let columns = who.iter().map(|w| w.label()).collect::<Vec<_>>();
    println!(
        "unseen generator, seeds {a}..{b}; cells are {}\n\n{HEADER}",
        columns.join(" / ")
    );
    let mut all = vec![Tally::default(); who.len()];
    for shape in Shape::ALL {
        let mut t = vec![Tally::default(); who.len()];
        for seed in a..b {
            let s = generate(shape, seed);
            if s.samples.len() < 2 {
                continue;
            }
            let cfg = leaksense_bench::unseen_config(&s, &overrides);
            let mut out = vec![
                leaksense(&s.samples, Some(&s.traffic), &[], &s.truth, cfg.clone()),
                leaksense(&s.samples, None, &[], &s.truth, cfg),
            ];
            if let Some(prev) = &previous {
                match replay_previous(prev, (shape.name(), seed), &s.samples, &s.truth) {
                    Ok(o) => out.push(o),
                    Err(e) => {
                        eprintln!("{e}");
                        return ExitCode::from(2);
                    }
                }
            }
            out.push(article(&s.samples, s.kind, &s.truth));
            add_series(
                &mut t,
                &who,
                (shape.name(), seed),
                shape.leaks(),
                s.share_per_hour,
                &out,
                verbose,
            );
        }
        println!("{}", row(shape.name(), &t));
        for (total, t) in all.iter_mut().zip(&t) {
            total.merge(t);
        }
    }
    print_totals(&all);
    ExitCode::SUCCESS
}
