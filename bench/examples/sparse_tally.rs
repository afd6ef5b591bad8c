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
use leaksense_bench::held::replay_leak;
use leaksense_bench::{par_map, parse_seeds};
use leaksense_core::detect::scenarios::Situation;
use std::collections::BTreeMap;

fn main() {
    let (lo, hi) = parse_seeds(&std::env::var("SEEDS").unwrap_or_else(|_| "0..50".into()))
        .expect("SEEDS=A..B");
    let only = std::env::var("ONLY").unwrap_or_else(|_| "sparse_leak,minute_leak".into());
    let rows = std::env::var_os("ROWS").is_some();
    for name in only.split(',') {
        let sit = Situation::from_name(name).expect("a situation");
        let seeds: Vec<u64> = (lo..hi).collect();
        for (col, traffic) in [("traffic", true), ("alone", false)] {
            let runs = par_map(&seeds, |&seed| replay_leak(sit, seed, traffic));
            let mut held: BTreeMap<String, f64> = BTreeMap::new();
            let mut halves: BTreeMap<String, usize> = BTreeMap::new();
            let mut n = 0.0;
            for (seed, r) in seeds.iter().zip(&runs) {
                let Some(r) = r else { continue };
                // The key at the half mark of a leak not fired by then.
                let at_half = r.at_half.as_ref().filter(|h| !h.1).map(|h| &h.0);
                // From the leak's start.
                let r_held = r.held_before_pending(0.0);
                if rows {
                    println!(
                        "{name} {seed} {col}: pending {:?} firing {:?} half {:?}; {:?}",
                        r.first_pending_min, r.first_firing_min, at_half, r_held
                    );
                }
                if let Some(h) = at_half {
                    *halves.entry(h.clone()).or_default() += 1;
                }
                if r.first_firing_min.is_none() {
                    continue;
                }
                n += 1.0;
                for (k, v) in &r_held {
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
