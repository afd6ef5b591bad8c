//! Detector quality: leaksense with and without the traffic covariate against the article's
//! Prometheus rules on labelled synthetic series (`leaksense_core::detect::scenarios`).
//!
//! `cargo run --release -p leaksense-bench --bin detector-quality -- --seeds 1000..1020`
//!
//! Options: `--set field=value` overrides a `DetectorConfig` default (for tuning on training
//! seeds); `--full-gcs` feeds the V8 situations' post-full-collection samples as a binding that
//! sees its runtime's full GCs would (`Detector::update_after_full_gc`); `--only a,b` runs only
//! the named situations, `--only legacy` / `--only new` the first nineteen or the later ones;
//! `--step SECS` samples the first nineteen situations every `SECS` seconds instead of 15 (the
//! later ones keep their own step), `--thin K` keeps 1 in `K` of their samples as a scraper
//! at `K` times the step would (each kept traffic rate the mean over the interval);
//! `--verbose` lists every series with a false alarm, a missed leak, a leak to its limit alerted
//! with less than half its time to limit left, or an alert that resolved
//! while the leak still grew; `--previous FILE` adds
//! another detector's timelines on the same series (`scripts/detector-previous.sh`: the
//! detector before the traffic covariate) as a column before the article's.
//!
//! Cells are `leaksense with traffic / leaksense on the series alone [/ previous] / the
//! article`. The
//! article's rules are `deriv(heap[2h]) > 10000` and `deriv(goroutines[1h]) > 0.1`, each held
//! for 30 min, evaluated every 60 s with Prometheus's `for` semantics; its growth start is its
//! `find_growth_inflection` on 5 min points when its alert fires.

use leaksense_bench::quality::{
    HEADER, Outcome, Tally, Timelines, Truth, Who, article, caught_by_new_alert_line, cells,
    leaksense, median, median_min, read_timelines, replay_previous, row,
};
use leaksense_bench::{config, parse_seeds, parse_set};
use leaksense_core::detect::scenarios::{Scenario, Situation, generate, thin};
use std::process::ExitCode;

struct Args {
    seeds: (u64, u64),
    verbose: bool,
    full_gcs: bool,
    only: Vec<Situation>,
    overrides: Vec<(String, serde_json::Value)>,
    previous: Option<Timelines>,
    /// The legacy situations' sampling step in seconds (the later ones keep their own).
    step_secs: u32,
    /// Keep every `thin`-th sample of the legacy situations, as a scraper at `thin` times the
    /// step would.
    thin: usize,
}

fn parse_only(list: &str) -> Option<Vec<Situation>> {
    match list {
        "legacy" => Some(Situation::ALL.into_iter().filter(|s| s.legacy()).collect()),
        "new" => Some(Situation::ALL.into_iter().filter(|s| !s.legacy()).collect()),
        _ => list.split(',').map(Situation::from_name).collect(),
    }
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seeds: (1000, 1020),
        verbose: false,
        full_gcs: false,
        only: Situation::ALL.to_vec(),
        overrides: Vec::new(),
        previous: None,
        step_secs: 15,
        thin: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--seeds" => {
                a.seeds = parse_seeds(&value()).ok_or("--seeds takes A..B with A < B")?;
            }
            "--verbose" => a.verbose = true,
            "--step" => {
                a.step_secs = value()
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or("--step takes a whole number of seconds > 0")?;
            }
            "--thin" => {
                a.thin = value()
                    .parse()
                    .ok()
                    .filter(|&k| k > 0)
                    .ok_or("--thin takes a whole number > 0")?;
            }
            "--previous" => a.previous = Some(read_timelines(&value())?),
            "--full-gcs" => a.full_gcs = true,
            "--only" => {
                a.only =
                    parse_only(&value()).ok_or("--only takes situation names, legacy or new")?;
            }
            "--set" => {
                let kv = value();
                a.overrides.push(parse_set(&kv).ok_or(format!(
                    "--set takes a valid DetectorConfig field=json_value, got `{kv}`"
                ))?);
            }
            _ => {
                return Err(
                    "usage: detector-quality [--seeds A..B] [--set field=value]... \
                     [--only a,b|legacy|new] [--step SECS] [--thin K] [--full-gcs] [--verbose] \
                     [--previous FILE]"
                        .into(),
                );
            }
        }
    }
    Ok(a)
}

/// The outcomes of one series, in the columns' order.
fn run(sc: &Scenario, args: &Args) -> Result<Vec<Outcome>, String> {
    let truth = Truth::from(sc);
    let mut cfg = config(sc, &args.overrides);
    // Only the V8 situations say when their full collections ran.
    cfg.reports_full_gcs = args.full_gcs && !sc.full_gcs.is_empty();
    let ours = |traffic| leaksense(&sc.samples, traffic, &sc.full_gcs, &truth, cfg.clone());
    let mut out = vec![ours(Some(&sc.traffic)), ours(None)];
    if let Some(prev) = &args.previous {
        out.push(replay_previous(
            prev,
            (sc.situation.name(), sc.seed),
            &sc.samples,
            &truth,
        )?);
    }
    out.push(article(&sc.samples, sc.kind, &truth));
    Ok(out)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (a, b) = args.seeds;
    let mut who = vec![Who::Covariate, Who::Plain];
    who.extend(args.previous.as_ref().map(|_| Who::Previous));
    who.push(Who::Article);
    let columns = who.iter().map(|w| w.label()).collect::<Vec<_>>();
    println!(
        "seeds {a}..{b} ({} per situation); cells are {}",
        b - a,
        columns.join(" / ")
    );
    if (args.step_secs, args.thin) != (15, 1) {
        println!(
            "legacy situations sampled every {} s, 1 in {} samples kept",
            args.step_secs, args.thin
        );
    }
    for (k, v) in &args.overrides {
        println!("override: {k} = {v}");
    }
    if args.full_gcs {
        println!("full collections reported (update_after_full_gc)");
    }
    println!("\n{HEADER}");
    let mut totals = vec![vec![Tally::default(); who.len()]; 4];
    let names = [
        "**first nineteen**",
        "**later situations**",
        "**all but slow_gc\\***",
        "**all**",
    ];
    let mut both = (Vec::new(), Vec::new());
    let mut flaps = Vec::new();
    let mut second_day = Vec::new();
    for &sit in &args.only {
        let mut t = vec![Tally::default(); who.len()];
        for seed in a..b {
            let sc = if sit.legacy() {
                thin(generate(sit, seed, args.step_secs), args.thin)
            } else {
                generate(sit, seed, 15)
            };
            let out = match run(&sc, &args) {
                Ok(out) => out,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            for (i, who) in who.iter().enumerate() {
                t[i].add(sit.leaks(), sc.leak_share_per_hour, &out[i]);
                let missed = sit.leaks() && out[i].delay_secs.is_none();
                let flapped = out[i].resolved_while_leaking;
                if args.verbose
                    && *who != Who::Article
                    && (out[i].false_alarm || missed || flapped || out[i].half_ttl == Some(false))
                {
                    eprintln!("{} seed {seed} {who:?}: {:?}", sit.name(), out[i]);
                }
            }
            if let (Some(x), Some(y)) = (out[0].delay_secs, out[who.len() - 1].delay_secs) {
                both.0.push(x);
                both.1.push(y);
            }
        }
        println!("{}", row(sit.name(), &t));
        if matches!(
            sit,
            Situation::DailySwingTwoDays | Situation::BusierDayTwoDays
        ) {
            second_day.push((sit.name(), cells(&t, |x| x.second_day_alarms.to_string())));
        }
        if t.iter().take(2).any(|x| x.resolved_while_leaking > 0) {
            flaps.push(format!(
                "{} {}",
                sit.name(),
                cells(&t, |x| x.resolved_while_leaking.to_string())
            ));
        }
        let group = usize::from(!sit.legacy());
        for (g, keep) in [(group, true), (2, !sit.slow_gc()), (3, true)] {
            if keep {
                for (total, t) in totals[g].iter_mut().zip(&t) {
                    total.merge(t);
                }
            }
        }
    }
    for (name, t) in names.iter().zip(&totals) {
        if t[0].series > 0 {
            println!("{}", row(name, t));
        }
    }
    let all = &totals[3];
    println!(
        "\nHealthy series with a false alarm: {} of {}. Leaks of at least 5%/h: median delay {}; \
         caught {}.",
        cells(all, |x| x.healthy_alarms.to_string()),
        all[0].healthy,
        cells(all, |x| median_min(&x.fast_delays)),
        cells(all, |x| format!(
            "{}/{}",
            x.fast_delays.iter().filter(|d| d.is_finite()).count(),
            x.fast_leaks
        )),
    );
    println!("{}", caught_by_new_alert_line(all));
    for (name, d) in &second_day {
        println!("{name} series that began firing on their second day: {d}.");
    }
    println!(
        "Leaks whose alert resolved while still growing: {} ({}).",
        cells(all, |x| x.resolved_while_leaking.to_string()),
        flaps.join("; ")
    );
    println!(
        "On the {} leaks both leaksense with traffic and the article catch, median delay: {} / {}.",
        both.0.len(),
        median_min(&both.0),
        median_min(&both.1)
    );
    println!(
        "Leaks reaching their limit within the series: alerted at least 1 h before it {}; median \
         lead {}.",
        cells(all, |x| format!(
            "{}/{}",
            x.leads.iter().filter(|&&l| l >= 3600.0).count(),
            x.reach_limit
        )),
        cells(all, |x| median_min(&x.leads)),
    );
    if let Some(m) = median(&all[0].ttl_ratios) {
        println!(
            "leaksense's time to limit at the first firing, over the true time left (with \
             traffic): median {m:.2} over {} leaks.",
            all[0].ttl_ratios.len()
        );
    }
    ExitCode::SUCCESS
}
