//! The week's false alarms on the series alone, by the day they began and the judgement that
//! raised them (design section 61): `cargo run --release -p leaksense-bench --features probe
//! --example monday_tally -- A..B` (training seeds 0..50 of `week_swing`; `SIT=late|monday`
//! takes the leaks' weeks, counting only alarms before the leak). For each alert that turns
//! pending before any leak it records which judgement held the condition at each evaluation
//! of its pending spell (`raw`, the usable floor; `yesterday`, against yesterday's floor;
//! `unmasked`), and, when it fires, prints its day (0 Wed … 5 Mon), hour of day, and the
//! judgement at its first pending and at its firing. `SET=...` overrides options.

use leaksense_bench::held::{alarms_before_leak, holder};
use leaksense_bench::{config, overrides_from_env};
use leaksense_core::detect::scenarios::{Situation, generate};
use std::collections::BTreeMap;

const H: i64 = 3_600_000;

fn main() {
    let seeds = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = seeds.split_once("..").expect("A..B");
    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
    let sit = match std::env::var("SIT").as_deref() {
        Ok("late") => Situation::WeekLateLeak,
        Ok("monday") => Situation::WeekMondayLeak,
        _ => Situation::WeekSwing,
    };
    let overrides = overrides_from_env();
    let verbose = std::env::var("V").is_ok();
    let mut tally: BTreeMap<(usize, &str, &str), u32> = BTreeMap::new();
    for seed in a..b {
        let sc = generate(sit, seed, 15);
        let first = sc.samples[0].ts_ms;
        let cfg = config(&sc, &overrides);
        alarms_before_leak(&sc, cfg, false, |_, s, onset, tags| {
            let day = ((s.ts_ms - first) / (24 * H)) as usize;
            let hour = ((s.ts_ms - first) % (24 * H)) as f64 / H as f64;
            let at = holder(tags);
            *tally.entry((day.min(6), onset, at)).or_default() += 1;
            if verbose {
                println!("seed {seed} day {day} hour {hour:.1}: pending {onset}, firing {at}");
            }
        });
    }
    println!("| day | judgement at pending | at firing | alarms |\n|---|---|---|---|");
    for ((day, p, f), n) in &tally {
        println!("| {day} | {p} | {f} | {n} |");
    }
}
