//! What holds a 5-minute (or 1-minute) leak (docs/design/detector.md, the section on sparse
//! leaks): for each `sparse_leak` and `minute_leak` seed of `SEEDS` (0..50), with traffic and
//! on the series alone, the minutes from the leak's start to the first pending by what held
//! each evaluation: the analysis's `not_a_leak_because`, or, where it gives none, which part of
//! the search for a significant rise failed on the usable floor (core feature `probe`:
//! `nohinge`, the cheap gate `short` / `small`, `norate`, `gate` = the rate's lower bound ≤ 0
//! or fewer than 6 points). Then the same key at the half mark of the leaks that reach their
//! limit and are not firing by then. `ONLY=sparse_leak` restricts it; `ROWS=1` prints a row
//! per leak; `SET=field=value,...` overrides options.
//!
//! `cargo run --release -p leaksense-bench --features probe --example sparse_tally`
use leaksense_bench::held::{held_key, update_tagged};
use leaksense_bench::{config, overrides_from_env, par_map, parse_seeds};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, probe};
use std::collections::BTreeMap;

struct Run {
    /// Minutes from the leak's start to the first pending, by key.
    held: BTreeMap<String, f64>,
    /// The key at the half mark, for a leak that reaches its limit and is not firing then.
    at_half: Option<String>,
    first_pending_min: Option<f64>,
    first_firing_min: Option<f64>,
}

fn run(sit: Situation, seed: u64, traffic: bool) -> Option<Run> {
    let sc = generate(sit, seed, 15);
    let start = sc.leak_start_ms?;
    let half = sc.limit_reached_ms.map(|o| start + (o - start) / 2);
    let cfg = config(&sc, &overrides_from_env());
    let bucket_min = cfg.bucket_secs / 60.0;
    let mut d = Detector::new(cfg).expect("valid config");
    probe::enable();
    let mut rates = (if traffic { &sc.traffic[..] } else { &[] })
        .iter()
        .peekable();
    let mut r = Run {
        held: BTreeMap::new(),
        at_half: None,
        first_pending_min: None,
        first_firing_min: None,
    };
    let mut key = String::new();
    let mut halved = false;
    for s in &sc.samples {
        let (_, tags) = update_tagged(&mut d, &mut rates, *s);
        let evaluated = !tags.is_empty();
        if evaluated {
            key = held_key(&d, &tags);
        }
        if s.ts_ms < start {
            continue;
        }
        let mins = (s.ts_ms - start) as f64 / 6e4;
        if d.state() != AlertState::Inactive {
            r.first_pending_min.get_or_insert(mins);
        }
        if d.state() == AlertState::Firing {
            r.first_firing_min.get_or_insert(mins);
        }
        if evaluated && r.first_pending_min.is_none() {
            *r.held.entry(key.clone()).or_default() += bucket_min;
        }
        if let Some(h) = half
            && s.ts_ms >= h
            && !halved
        {
            halved = true;
            if r.first_firing_min.is_none() {
                r.at_half = Some(key.clone());
            }
        }
    }
    Some(r)
}

fn main() {
    let (lo, hi) = parse_seeds(&std::env::var("SEEDS").unwrap_or_else(|_| "0..50".into()))
        .expect("SEEDS=A..B");
    let only = std::env::var("ONLY").unwrap_or_else(|_| "sparse_leak,minute_leak".into());
    let rows = std::env::var_os("ROWS").is_some();
    for name in only.split(',') {
        let sit = Situation::from_name(name).expect("a situation");
        let seeds: Vec<u64> = (lo..hi).collect();
        for (col, traffic) in [("traffic", true), ("alone", false)] {
            let runs = par_map(&seeds, |&seed| run(sit, seed, traffic));
            let mut held: BTreeMap<String, f64> = BTreeMap::new();
            let mut halves: BTreeMap<String, usize> = BTreeMap::new();
            let mut n = 0.0;
            for (seed, r) in seeds.iter().zip(&runs) {
                let Some(r) = r else { continue };
                if rows {
                    println!(
                        "{name} {seed} {col}: pending {:?} firing {:?} half {:?}; {:?}",
                        r.first_pending_min, r.first_firing_min, r.at_half, r.held
                    );
                }
                if let Some(h) = &r.at_half {
                    *halves.entry(h.clone()).or_default() += 1;
                }
                if r.first_firing_min.is_none() {
                    continue;
                }
                n += 1.0;
                for (k, v) in &r.held {
                    *held.entry(k.clone()).or_default() += v;
                }
            }
            let parts: Vec<String> = held
                .iter()
                .map(|(k, v)| format!("{k} {:.1}", v / n))
                .collect();
            println!(
                "{name} {col}: mean minutes per caught leak ({n}) before the first pending: {}",
                parts.join(", ")
            );
            println!("{name} {col}: not firing at the half mark: {halves:?}");
        }
    }
}
