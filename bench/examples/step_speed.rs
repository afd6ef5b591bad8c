//! The detector's cost per update and its memory by sampling step: one day of `flat` and
//! `fast_leak` (series alone) and of `traffic_leak` with its traffic, sampled every 1, 5, 15,
//! 60 and 300 s; the fastest of `RUNS` replays (default 20), and the bytes the detector holds
//! after the first day and after a second day of the same series shifted by 24 h (a counting
//! allocator: what `Detector::new` allocated plus what the updates allocated and did not free).
//!
//! `cargo run --release -p leaksense-bench --example step_speed [-- RUNS [field=json ...]]` (the
//! values override `DetectorConfig` defaults, as `detector-quality --set` does).

use leaksense_bench::{config, parse_set};
use leaksense_core::detect::Detector;
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::series::Sample;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

/// Bytes allocated and not yet freed.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Feeds `samples` (and `traffic` before the samples at or after its times) to `d`.
fn feed(d: &mut Detector, samples: &[Sample], traffic: &[Sample]) {
    let mut rates = traffic.iter().peekable();
    for s in samples {
        while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
            d.observe_traffic(*r).expect("valid traffic");
        }
        black_box(d.update(*s).expect("valid samples"));
    }
}

/// `series` moved `ms` later.
fn shifted(series: &[Sample], ms: i64) -> Vec<Sample> {
    series
        .iter()
        .map(|s| Sample {
            ts_ms: s.ts_ms + ms,
            value: s.value,
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(20);
    let overrides: Vec<_> = args
        .iter()
        .skip(1)
        .map(|kv| parse_set(kv).expect("field=json, a DetectorConfig field"))
        .collect();
    println!(
        "| series | step | samples a day | ns per update | ms per day | bytes after day 1 | after day 2 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for sit in [Situation::Flat, Situation::FastLeak, Situation::TrafficLeak] {
        for step in [1, 5, 15, 60, 300] {
            let sc = generate(sit, 1, step);
            let traffic: &[Sample] = if sit == Situation::TrafficLeak {
                &sc.traffic
            } else {
                &[]
            };
            let cfg = config(&sc, &overrides);
            let best = (0..runs)
                .map(|_| {
                    let mut d = Detector::new(cfg.clone()).expect("valid config");
                    let t = Instant::now();
                    feed(&mut d, &sc.samples, traffic);
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            let before = LIVE.load(Ordering::Relaxed);
            let mut d = Detector::new(cfg).expect("valid config");
            feed(&mut d, &sc.samples, traffic);
            let day1 = LIVE.load(Ordering::Relaxed) - before;
            let (next, next_traffic) = (
                shifted(&sc.samples, 86_400_000),
                shifted(traffic, 86_400_000),
            );
            let around = LIVE.load(Ordering::Relaxed);
            feed(&mut d, &next, &next_traffic);
            let day2 = day1 + LIVE.load(Ordering::Relaxed) - around;
            black_box(&d);
            println!(
                "| {}{} | {step} s | {} | {:.0} | {:.2} | {day1} | {day2} |",
                sit.name(),
                if traffic.is_empty() {
                    ""
                } else {
                    " with traffic"
                },
                sc.samples.len(),
                best * 1e9 / sc.samples.len() as f64,
                best * 1e3,
            );
        }
    }
}
