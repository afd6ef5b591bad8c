//! What holds a 60-s leak with traffic that the series alone already alerts on
//! (docs/design/detector.md, the section on minute leaks): for each seed of `SEEDS` (0..50) of
//! the situations in `ONLY` (`minute_leak`), the minutes from the alone column's first pending
//! to the traffic column's first pending, by what held each evaluation with traffic (the keys of
//! `sparse_tally`: `not_a_leak_because` with the warm-up test's part, or which part of the search
//! for a significant rise failed); then the traffic column's key at the half mark of the leaks
//! that reach their limit, fire alone by then and do not with traffic. `ROWS=1` prints a row per
//! leak; `SET=field=value,...` overrides options (both columns).
//!
//! `cargo run --release -p leaksense-bench --features probe --example minute_tally`
use leaksense_bench::held::replay_leak;
use leaksense_bench::{par_map, parse_seeds};
use leaksense_core::detect::scenarios::Situation;
use std::collections::BTreeMap;

fn main() {
    let (lo, hi) = parse_seeds(&std::env::var("SEEDS").unwrap_or_else(|_| "0..50".into()))
        .expect("SEEDS=A..B");
    let only = std::env::var("ONLY").unwrap_or_else(|_| "minute_leak".into());
    let rows = std::env::var_os("ROWS").is_some();
    for name in only.split(',') {
        let sit = Situation::from_name(name).expect("a situation");
        let seeds: Vec<u64> = (lo..hi).collect();
        let with = par_map(&seeds, |&seed| replay_leak(sit, seed, true));
        let alone = par_map(&seeds, |&seed| replay_leak(sit, seed, false));
        let mut held: BTreeMap<String, f64> = BTreeMap::new();
        let mut halves: BTreeMap<String, usize> = BTreeMap::new();
        let (mut n, mut later, mut total) = (0usize, 0usize, 0.0);
        for ((seed, w), a) in seeds.iter().zip(&with).zip(&alone) {
            let (Some(w), Some(a)) = (w, a) else { continue };
            let Some(a0) = a.first_pending_min else {
                continue;
            };
            n += 1;
            let w0 = w.first_pending_min.unwrap_or(f64::INFINITY);
            let mine = w.held_before_pending(a0);
            if w0 > a0 {
                later += 1;
                total += mine.values().sum::<f64>();
            }
            // At the half mark: firing alone, not with traffic.
            let half_key = match (&w.at_half, &a.at_half) {
                (Some((kw, _)), Some((ka, _))) if ka == "firing" && kw != "firing" => {
                    Some(kw.clone())
                }
                _ => None,
            };
            if let Some(k) = &half_key {
                *halves.entry(k.clone()).or_default() += 1;
            }
            if rows {
                println!(
                    "{name} {seed}: alone pending {:?} firing {:?}; traffic pending {:?} firing {:?}; half {half_key:?}; {mine:?}",
                    a.first_pending_min,
                    a.first_firing_min,
                    w.first_pending_min,
                    w.first_firing_min,
                );
            }
            for (k, v) in mine {
                *held.entry(k).or_default() += v;
            }
        }
        let mut parts: Vec<(String, f64)> = held.into_iter().collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let parts: Vec<String> = parts.iter().map(|(k, v)| format!("{k} {v:.0}")).collect();
        println!(
            "{name}: {n} pending alone, {later} later with traffic; {total:.0} min in all from the alone pending to the traffic pending, by key: {}",
            parts.join(", ")
        );
        println!("{name}: firing alone at the half mark, not with traffic: {halves:?}");
    }
}
