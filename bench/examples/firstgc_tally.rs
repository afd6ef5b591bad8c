//! The slow-GC false alarms left with the default wait for a first collection: for every
//! training series of `slow_gc`, `v8_slow_gc` and the alarms before the leak of
//! `slow_gc_leak` and `v8_slow_gc_leak` that fire before their leak (healthy: at all), the
//! hour of the first firing under the defaults, without the urgent bypass
//! (`first_collection_urgent` 0), with a 4-h wait and without it, and without any wait.
//!
//! `cargo run --release -p leaksense-bench --example firstgc_tally -- 0..50` (`TRAFFIC=1`
//! feeds the traffic; `EXTRA=field=value,...` adds options to every configuration).

use leaksense_bench::quality::{Truth, leaksense};
use leaksense_bench::{config, first_firing_ms, parse_set, slow_gc_series};
use leaksense_core::detect::scenarios::START_MS;

/// The hour of the first firing before the leak (or at all on a healthy series).
fn first_fire(sc: &leaksense_core::detect::scenarios::Scenario, sets: &[&str]) -> Option<f64> {
    let extra = std::env::var("EXTRA").unwrap_or_default();
    let o: Vec<_> = sets
        .iter()
        .copied()
        .chain(extra.split(',').filter(|kv| !kv.is_empty()))
        .map(|kv| parse_set(kv).expect("field=value"))
        .collect();
    let cfg = config(sc, &o);
    let traffic = std::env::var_os("TRAFFIC").is_some();
    let truth = Truth::from(sc);
    if !leaksense(
        &sc.samples,
        traffic.then_some(&sc.traffic[..]),
        &[],
        &truth,
        cfg.clone(),
    )
    .false_alarm
    {
        return None;
    }
    first_firing_ms(cfg, &sc.samples, traffic.then_some(&sc.traffic[..]))
        .map(|t| (t - START_MS) as f64 / 3.6e6)
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = leaksense_bench::parse_seeds(&arg).expect("A..B");
    let configs: [(&str, &[&str]); 4] = [
        ("default", &[]),
        ("urgent 0", &["first_collection_urgent=0"]),
        (
            "4 h, urgent 0",
            &["first_collection_secs=14400", "first_collection_urgent=0"],
        ),
        ("no wait", &["first_collection_secs=0"]),
    ];
    let names: Vec<&str> = configs.iter().map(|c| c.0).collect();
    println!("| series | seed | {} |", names.join(" | "));
    println!("|---|---|{}", "---|".repeat(configs.len()));
    for (sit, seed, sc) in slow_gc_series(a, b) {
        let cells: Vec<Option<f64>> = configs.iter().map(|(_, s)| first_fire(&sc, s)).collect();
        if cells[0].is_none() {
            continue;
        }
        let shown: Vec<String> = cells
            .iter()
            .map(|c| c.map_or("–".into(), |h| format!("{h:.1} h")))
            .collect();
        println!("| {} | {seed} | {} |", sit.name(), shown.join(" | "));
    }
}
