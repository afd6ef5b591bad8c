//! The week's false alarms on the series alone, by the day they began and the judgement that
//! raised them (design section 61): `cargo run --release -p leaksense-bench --features probe
//! --example monday_tally -- A..B` (training seeds 0..50 of `week_swing`; `SIT=late|monday`
//! takes the leaks' weeks, counting only alarms before the leak). For each alert that turns
//! pending before any leak it records which judgement held the condition at each evaluation
//! of its pending spell (`raw`, the usable floor; `yesterday`, against yesterday's floor;
//! `unmasked`), and, when it fires, prints its day (0 Wed … 5 Mon), hour of day, and the
//! judgement at its first pending and at its firing. `SET=...` overrides options.

use leaksense_bench::held::{holder, update_tagged};
use leaksense_bench::{config, overrides_from_env};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, probe};
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
    probe::enable();
    let mut tally: BTreeMap<(usize, &str, &str), u32> = BTreeMap::new();
    for seed in a..b {
        let sc = generate(sit, seed, 15);
        let cfg = config(&sc, &overrides);
        let first = sc.samples[0].ts_ms;
        let leak = sc.leak_start_ms.unwrap_or(i64::MAX);
        let mut d = Detector::new(cfg).expect("valid config");
        let mut state = AlertState::Inactive;
        let mut onset = "-";
        // The series alone.
        let mut rates = [].iter().peekable();
        for s in &sc.samples {
            let (_, tags) = update_tagged(&mut d, &mut rates, *s);
            let now = d.state();
            if s.ts_ms >= leak {
                break;
            }
            if now == AlertState::Pending
                && state != AlertState::Pending
                && state != AlertState::Firing
            {
                onset = holder(&tags);
            }
            if now == AlertState::Firing && state != AlertState::Firing {
                let day = ((s.ts_ms - first) / (24 * H)) as usize;
                let hour = ((s.ts_ms - first) % (24 * H)) as f64 / H as f64;
                let at = holder(&tags);
                *tally.entry((day.min(6), onset, at)).or_default() += 1;
                if verbose {
                    println!("seed {seed} day {day} hour {hour:.1}: pending {onset}, firing {at}");
                }
            }
            state = now;
        }
    }
    println!("| day | judgement at pending | at firing | alarms |\n|---|---|---|---|");
    for ((day, p, f), n) in &tally {
        println!("| {day} | {p} | {f} | {n} |");
    }
}
