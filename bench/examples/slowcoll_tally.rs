//! The slow-collection test (`core/src/detect/floor.rs`, design section 4) replayed on the
//! training heap series, to see which of its conditions misses a V8 heap's full collections
//! under scavenges, and what else it would count with another scale for the usual change.
//!
//! For every `v8_slow_gc` / `v8_slow_gc_leak` series (15-s samples, 5-min buckets): each
//! marked full collection (the generator's `full_gcs`) with its fall (% of the heap), the fall
//! over the usual change (main's winsorized EWMA of |step|, and of rises only) and over the
//! largest sample-to-sample fall of the last 30 min (`slow_fall_dense_secs`), and which of
//! the test's other conditions it passes (`land` below the last 30 min by a quarter of the
//! fall, `top` not a spike's top, `grad` a gradual rise, `full` 30 min of buckets kept).
//! Then, for every heap situation, how many falls each scale counts as slow collections
//! (on V8 series: off a marked full collection), the false slow collections of section 4;
//! some scales also look before 30 min of buckets are kept. Sparse series are replayed as
//! generated: the detector's `slow_fall_dense_secs` skips them.
//!
//! `cargo run --release -p leaksense-bench --example slowcoll_tally -- 0..50` (`ALL=1` lists
//! every V8 full collection, not only those main misses).

use leaksense_core::detect::SeriesKind;
use leaksense_core::detect::scenarios::{START_MS, Scenario, Situation, generate};

const BUCKET_MS: i64 = 300_000;
const LOOKBACK: usize = 6;
const MAX_SPAN: usize = 96;
const SLOW_FALL: f64 = 6.0;
const SLOW_SHARE: f64 = 0.05;
const SLOW_BELOW: f64 = 0.25;
const RISE_SHARE: f64 = 0.65;
const N: usize = 10;

/// One fall that passed every condition but the scale's.
struct Cand {
    idx: usize,
    ts_ms: i64,
    fall: f64,
    prev: f64,
    ewma: f64,
    rise_ewma: f64,
    land: bool,
    top: bool,
    grad: bool,
    full: bool,
    /// Buckets kept (closed) when it fell.
    kept: usize,
    /// The largest sample-to-sample fall of the last 30 min (closed buckets and the open one).
    recent_fall: f64,
}

fn ewma(e: f64, x: f64) -> f64 {
    if e > 0.0 {
        e + 0.05 * (x.min(3.0 * e) - e)
    } else {
        x
    }
}

/// Every fall by `SLOW_SHARE` of the heap, with the state main's test sees.
fn replay(sc: &Scenario) -> Vec<Cand> {
    let mut out = Vec::new();
    let s0 = sc.samples[0];
    let (mut start, mut bmin, mut bmax) = (s0.ts_ms, s0.value, s0.value);
    let mut mins: Vec<f64> = Vec::new();
    let (mut prev_max, mut prev_min, mut lookback_low) =
        (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let (mut e, mut re) = (0.0, 0.0);
    let mut bfall = 0.0_f64;
    let mut falls: Vec<f64> = Vec::new();
    for (i, w) in sc.samples.windows(2).enumerate() {
        let (p, s) = (w[0], w[1]);
        let fall = p.value - s.value;
        let _ = prev_min;
        if fall >= SLOW_SHARE * p.value {
            let lowest = lookback_low.min(bmin);
            let grad = {
                let mut newer = bmin;
                let mut largest = 0.0_f64;
                for m in mins.iter().rev() {
                    largest = largest.max(newer - m);
                    if *m <= s.value + SLOW_BELOW * fall {
                        break;
                    }
                    newer = *m;
                }
                largest < RISE_SHARE * fall
            };
            out.push(Cand {
                idx: i + 1,
                ts_ms: s.ts_ms,
                fall,
                prev: p.value,
                ewma: e,
                rise_ewma: re,
                land: s.value < lowest - SLOW_BELOW * fall,
                top: p.value - prev_max < 0.5 * fall,
                grad,
                full: mins.len() >= LOOKBACK,
                kept: mins.len(),
                recent_fall: falls
                    .iter()
                    .rev()
                    .take(LOOKBACK)
                    .copied()
                    .fold(bfall, f64::max),
            });
        }
        e = ewma(e, fall.abs());
        if fall < 0.0 {
            re = ewma(re, -fall);
        }
        if s.ts_ms - start >= BUCKET_MS {
            falls.push(bfall);
            bfall = fall.max(0.0);
            mins.push(bmin);
            if mins.len() > MAX_SPAN {
                mins.remove(0);
            }
            (prev_max, prev_min) = (bmax, bmin);
            lookback_low = mins
                .iter()
                .rev()
                .take(LOOKBACK)
                .copied()
                .fold(f64::INFINITY, f64::min);
            start += (s.ts_ms - start) / BUCKET_MS * BUCKET_MS;
            (bmin, bmax) = (s.value, s.value);
        } else {
            bmin = bmin.min(s.value);
            bfall = bfall.max(fall);
            bmax = bmax.max(s.value);
        }
    }
    out
}

fn hours(ts: i64) -> f64 {
    (ts - START_MS) as f64 / 3.6e6
}

/// Scales: (name, whether a candidate counts).
type Scale = (&'static str, fn(&Cand) -> bool);

fn others(c: &Cand) -> bool {
    c.land && c.top && c.grad
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = leaksense_bench::parse_seeds(&arg).expect("A..B");
    let all = std::env::var_os("ALL").is_some();
    let scales: [Scale; N] = [
        ("main: 6 x |step|", |c| {
            c.full && c.fall > SLOW_FALL * c.ewma
        }),
        ("6 x rises", |c| c.full && c.fall > SLOW_FALL * c.rise_ewma),
        ("4 x |step|", |c| c.full && c.fall > 4.0 * c.ewma),
        ("3 x |step|", |c| c.full && c.fall > 3.0 * c.ewma),
        ("or 1.5 x largest fall", |c| {
            c.full && (c.fall > SLOW_FALL * c.ewma || c.fall > 1.5 * c.recent_fall)
        }),
        ("or 2 x largest fall", |c| {
            c.full && (c.fall > SLOW_FALL * c.ewma || c.fall > 2.0 * c.recent_fall)
        }),
        ("main, 2 buckets kept", |c| {
            c.kept >= 2 && c.fall > SLOW_FALL * c.ewma
        }),
        ("main, 1 bucket kept", |c| {
            c.kept >= 1 && c.fall > SLOW_FALL * c.ewma
        }),
        ("2 buckets kept, 1.5 x largest fall", |c| {
            c.kept >= 2 && c.fall > 1.5 * c.recent_fall
        }),
        ("none", |c| c.full),
    ];
    println!(
        "| series | seed | full GC h | fall % heap | fall / |step| | fall / rises | fall / largest 30-min fall | land | top | grad | full |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut gc_total = 0;
    let mut gc_seen = [0usize; N];
    let mut false_by: Vec<(Situation, [usize; N], [usize; N])> = Vec::new();
    for sit in Situation::ALL {
        let mut falses = [0usize; N];
        let mut series = [0usize; N];
        for seed in a..b {
            let sc = generate(sit, seed, 15);
            if sc.kind != SeriesKind::Heap {
                continue;
            }
            let cands = replay(&sc);
            let v8 = matches!(sit, Situation::V8SlowGc | Situation::V8SlowGcLeak);
            let mut any = [false; N];
            for c in &cands {
                let marked = sc.full_gcs.contains(&c.idx);
                for (k, (_, f)) in scales.iter().enumerate() {
                    if others(c)
                        && f(c)
                        && !(v8 && marked)
                        && !matches!(sit, Situation::SlowGc | Situation::SlowGcLeak)
                    {
                        falses[k] += 1;
                        any[k] = true;
                    }
                }
            }
            for k in 0..N {
                series[k] += any[k] as usize;
            }
            if !v8 {
                continue;
            }
            for &g in &sc.full_gcs {
                gc_total += 1;
                let Some(c) = cands.iter().find(|c| c.idx == g) else {
                    if all {
                        println!(
                            "| {} | {seed} | {:.2} | < 5 % | | | | | | | |",
                            sit.name(),
                            hours(sc.samples[g].ts_ms)
                        );
                    }
                    continue;
                };
                for (k, (_, f)) in scales.iter().enumerate() {
                    gc_seen[k] += (others(c) && f(c)) as usize;
                }
                let seen = others(c) && c.full && c.fall > SLOW_FALL * c.ewma;
                if all || !seen {
                    println!(
                        "| {} | {seed} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
                        sit.name(),
                        hours(c.ts_ms),
                        100.0 * c.fall / c.prev,
                        c.fall / c.ewma,
                        c.fall / c.rise_ewma,
                        c.fall / c.recent_fall,
                        c.land,
                        c.top,
                        c.grad,
                        c.full
                    );
                }
            }
        }
        if falses.iter().any(|&n| n > 0) {
            false_by.push((sit, falses, series));
        }
    }
    println!();
    println!("V8 full collections: {gc_total}; seen by each scale (with the other conditions):");
    for (k, (name, _)) in scales.iter().enumerate() {
        println!("- {name}: {}", gc_seen[k]);
    }
    println!();
    println!(
        "Falls counted off a full collection (falls / series), per situation (slow_gc* skipped: unmarked):"
    );
    println!(
        "| situation | {} |",
        scales.iter().map(|s| s.0).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|{}", "---|".repeat(scales.len()));
    for (sit, f, s) in false_by {
        let cells: Vec<String> = (0..N).map(|k| format!("{} / {}", f[k], s[k])).collect();
        println!("| {} | {} |", sit.name(), cells.join(" | "));
    }
}
