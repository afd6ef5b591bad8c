//! One day of a week series timed alone, for profiling (`perf record` around it): feeds a
//! detector the days before DAY (0 = the Wednesday, 5 = Monday), then replays DAY from a clone
//! of it REPS times and prints the fastest, in ns per update. Without the other days' work in
//! the profile, what one busy later day costs is what `perf report` shows.
//!
//! `cargo run --release -p leaksense-bench --example week_prof -- SITUATION SEED DAY REPS
//! [traffic|alone]`, e.g. `week_late_leak 1 5 40`. Training seeds only: 0..50. `SET=field=value,...`
//! overrides options as the benches' `--set` does.

use leaksense_bench::{WeekDay, week_day};
use leaksense_core::detect::Detector;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let reps: usize = a[3].parse().unwrap();
    let WeekDay {
        sc,
        cfg,
        start,
        end,
        with_traffic,
    } = week_day(&a, 4);
    let traffic: &[_] = if with_traffic { &sc.traffic } else { &[] };
    let mut d = Detector::new(cfg).unwrap();
    let mut rates = traffic.iter().peekable();
    let mut i = 0;
    while i < sc.samples.len() && sc.samples[i].ts_ms < start {
        let s = sc.samples[i];
        while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
            d.observe_traffic(*r).unwrap();
        }
        d.update(s).unwrap();
        i += 1;
    }
    let ti = traffic
        .iter()
        .position(|r| r.ts_ms > sc.samples[i.saturating_sub(1)].ts_ms)
        .unwrap_or(traffic.len());
    let mut best = f64::INFINITY;
    let mut n = 0;
    for _ in 0..reps {
        let mut d2 = d.clone();
        let mut rates = traffic[ti..].iter().peekable();
        let t = Instant::now();
        n = 0;
        for s in sc.samples[i..].iter().take_while(|s| s.ts_ms < end) {
            while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
                d2.observe_traffic(*r).unwrap();
            }
            black_box(d2.update(black_box(*s)).unwrap());
            n += 1;
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    println!("{n} updates, fastest {best:.0} ns per update");
}
