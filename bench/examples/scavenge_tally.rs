//! Which fall lifts the wait for a first collection (`first_collection_secs`) on the slow-GC
//! series, and what it looks like: for every training series of `slow_gc`, `v8_slow_gc`,
//! `slow_gc_leak` and `v8_slow_gc_leak`, the fall that main's test counts (a fall by 3 % of the
//! heap to below the last bucket or two), replayed on 5-min buckets: its hour, its share of the
//! heap, its share of the rise since the lowest bucket since start, its size over the median of
//! the earlier 3-% falls, whether it lands below every bucket of the last 30 min (and whether
//! 30 min have passed) and below every bucket since start; and the hour of the first fall
//! that the stricter landings count, the first full collection's (V8: the marked sample) and
//! the first firing under the defaults (`-` none; before the leak for the leak situations).
//!
//! `cargo run --release -p leaksense-bench --example scavenge_tally -- 0..50` (`ALL=1` lists
//! every series, not only those that fire before their leak).

use leaksense_bench::{config, first_firing_ms, slow_gc_series};
use leaksense_core::detect::scenarios::START_MS;

const BUCKET_MS: i64 = 300_000;
const LOOKBACK: usize = 6;

fn hours(ts: i64) -> f64 {
    (ts - START_MS) as f64 / 3.6e6
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = leaksense_bench::parse_seeds(&arg).expect("A..B");
    let all = std::env::var_os("ALL").is_some();
    println!(
        "| series | seed | lift h | fall % heap | fall / rise since start | fall / median 3-% fall | below 30 min (full) | below since start | 30-min lift h | since-start lift h | first full GC h | fires h |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (sit, seed, sc) in slow_gc_series(a, b) {
        let leak = sc.leak_start_ms.unwrap_or(i64::MAX);
        let fire = first_firing_ms(config(&sc, &[]), &sc.samples, None).filter(|&t| t < leak);
        if fire.is_none() && !all {
            continue;
        }
        // Replay the buckets and main's collection test.
        let start = sc.samples[0].ts_ms;
        let mut mins: Vec<f64> = Vec::new();
        let mut cur = sc.samples[0].value;
        let mut falls: Vec<f64> = Vec::new();
        let mut lift: Option<String> = None;
        let mut lift30 = None;
        let mut lift_start = None;
        for w in sc.samples.windows(2) {
            let (p, s) = (w[0], w[1]);
            let idx = (s.ts_ms - start) / BUCKET_MS;
            let pidx = (p.ts_ms - start) / BUCKET_MS;
            // `cur` is the open bucket's minimum before `s`, `mins` the closed ones.
            let fall = p.value - s.value;
            let prev_min = mins.last().copied().unwrap_or(f64::INFINITY);
            let recent = prev_min.min(cur);
            let lb: f64 = mins
                .iter()
                .rev()
                .take(LOOKBACK)
                .copied()
                .fold(cur, f64::min);
            let since: f64 = mins.iter().copied().fold(cur, f64::min);
            let big = fall >= 0.03 * p.value;
            if big && s.value < recent {
                if lift.is_none() {
                    let mut sorted = falls.clone();
                    sorted.sort_by(f64::total_cmp);
                    let med = sorted.get(sorted.len() / 2).copied();
                    lift = Some(format!(
                        "{:.2} | {:.1} | {:.2} | {} | {}{} | {}",
                        hours(s.ts_ms),
                        100.0 * fall / p.value,
                        fall / (p.value - since).max(f64::MIN_POSITIVE),
                        med.map_or("–".into(), |m| format!("{:.1}", fall / m)),
                        s.value < lb,
                        if mins.len() >= LOOKBACK {
                            ""
                        } else {
                            " (not full)"
                        },
                        s.value < since
                    ));
                }
                if lift30.is_none() && mins.len() >= LOOKBACK && s.value < lb {
                    lift30 = Some(hours(s.ts_ms));
                }
                if lift_start.is_none() && mins.len() >= LOOKBACK && s.value < since {
                    lift_start = Some(hours(s.ts_ms));
                }
            }
            if big {
                falls.push(fall);
                if falls.len() > 64 {
                    falls.remove(0);
                }
            }
            if idx != pidx {
                mins.push(cur);
                cur = s.value;
            } else {
                cur = cur.min(s.value);
            }
        }
        let gc = sc.full_gcs.first().map(|&i| hours(sc.samples[i].ts_ms));
        let h = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.2}"));
        println!(
            "| {} | {seed} | {} | {} | {} | {} | {} |",
            sit.name(),
            lift.unwrap_or_else(|| "– | | | | |".into()),
            h(lift30),
            h(lift_start),
            h(gc),
            h(fire.map(hours)),
        );
    }
}
