//! A week of a service (`Situation::WEEK`: a daily swing with a quieter weekend, healthy, with a
//! very slow leak, a leak that begins on day 3–6, and one that begins on Monday's morning), run
//! through leaksense with its traffic and on the series alone. Prints, per situation: the
//! quality table of `detector-quality` (series, caught, series with a false alarm, median
//! delay, growth-start error, resolution, ≥ ½ TTL), the false alarms by the day they began
//! (day 0 a Wednesday, the weekend days 3–4 from Saturday's night low, Monday day 5), and when
//! the very slow leaks were caught; then the detector's heap (every byte it holds, counted by
//! this example's allocator) at the end of each day, and the cost per update on each day
//! (fastest of `--speed` runs).
//!
//! `cargo run --release -p leaksense-bench --example week -- [--seeds 0..50] [--speed 40]
//! [field=json ...]` (the values override `DetectorConfig` defaults, as `detector-quality --set`
//! does). Training seeds only: 0..50.

use leaksense_bench::quality::{Tally, Truth, leaksense, median_min, row};
use leaksense_bench::{config, parse_set};
use leaksense_core::detect::scenarios::{Scenario, Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(live, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        let live = LIVE.fetch_add(size, Relaxed) + size - l.size();
        LIVE.fetch_sub(l.size(), Relaxed);
        PEAK.fetch_max(live, Relaxed);
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(p, l, size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const DAYS: usize = 7;
const DAY_MS: i64 = 86_400_000;

/// One run of a detector over a week, beside the quality outcome.
struct Week {
    /// Firing alerts that began on each day before any leak (false alarms).
    false_onsets: [u32; DAYS],
    /// Bytes the detector holds at the end of each day, and its peak over the week.
    held: [usize; DAYS],
    peak: usize,
    /// Hours from the leak start to the first time a firing alert that began after it stopped
    /// firing while the leak grew.
    resolved_after_h: Option<f64>,
}

/// Feeds `sc` to a detector (with its traffic when `with_traffic`), counting the false
/// alarms' first firings by day and the detector's heap at each day's end.
fn run(sc: &Scenario, with_traffic: bool, cfg: &DetectorConfig) -> Week {
    let first = sc.samples[0].ts_ms;
    let mut w = Week {
        false_onsets: [0; DAYS],
        held: [0; DAYS],
        peak: 0,
        resolved_after_h: None,
    };
    let leak = sc.leak_start_ms.unwrap_or(i64::MAX);
    let mut caught = false;
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let mut d = Detector::new(cfg.clone()).expect("valid config");
    let traffic: &[_] = if with_traffic { &sc.traffic } else { &[] };
    let mut rates = traffic.iter().peekable();
    let mut firing = false;
    for s in &sc.samples {
        while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
            d.observe_traffic(*r).expect("generated traffic is valid");
        }
        d.update(*s).expect("generated samples are valid");
        let day = (((s.ts_ms - first) / DAY_MS) as usize).min(DAYS - 1);
        let now = d.state() == AlertState::Firing;
        if now && !firing && s.ts_ms < leak {
            w.false_onsets[day] += 1;
        }
        caught |= now && !firing && s.ts_ms >= leak;
        if caught && firing && !now && w.resolved_after_h.is_none() {
            w.resolved_after_h = Some((s.ts_ms - leak) as f64 / 3.6e6);
        }
        firing = now;
        w.held[day] = LIVE.load(Relaxed) - base;
    }
    w.peak = PEAK.load(Relaxed) - base;
    drop(d);
    w
}

/// The fastest of `n` runs of each day's updates, in ns per update.
fn per_day_ns(sc: &Scenario, with_traffic: bool, cfg: &DetectorConfig, n: usize) -> [f64; DAYS] {
    let first = sc.samples[0].ts_ms;
    let traffic: &[_] = if with_traffic { &sc.traffic } else { &[] };
    let mut best = [f64::INFINITY; DAYS];
    for _ in 0..n {
        let mut d = Detector::new(cfg.clone()).expect("valid config");
        let mut rates = traffic.iter().peekable();
        let (mut day, mut count, mut t) = (0, 0usize, Instant::now());
        for s in &sc.samples {
            let now = (((s.ts_ms - first) / DAY_MS) as usize).min(DAYS - 1);
            if now != day {
                let ns = t.elapsed().as_secs_f64() * 1e9 / count as f64;
                best[day] = best[day].min(ns);
                (day, count, t) = (now, 0, Instant::now());
            }
            while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
                d.observe_traffic(*r).expect("valid");
            }
            black_box(d.update(black_box(*s)).expect("valid"));
            count += 1;
        }
        let ns = t.elapsed().as_secs_f64() * 1e9 / count as f64;
        best[day] = best[day].min(ns);
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut seeds, mut speed_runs, mut overrides) = (0..50u64, 40usize, Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seeds" => {
                let (x, y) = (it.next())
                    .and_then(|s| s.split_once(".."))
                    .expect("--seeds A..B");
                seeds = x.parse().expect("A")..y.parse().expect("B");
            }
            "--speed" => speed_runs = it.next().and_then(|n| n.parse().ok()).expect("--speed N"),
            kv => overrides.push(parse_set(kv).expect("field=value, a DetectorConfig field")),
        }
    }
    let columns = [("with traffic", true), ("alone", false)];
    println!(
        "Seeds {}..{}; cells: with traffic / series alone.\n",
        seeds.start, seeds.end
    );
    println!(
        "| situation | series | caught | series with a false alarm | median delay | growth-start error | resolution | ≥ ½ TTL |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut by_day = vec![[[0u32; DAYS]; 2]; Situation::WEEK.len()];
    let mut alarms = vec![[0u32; 2]; Situation::WEEK.len()];
    let mut slow_caught_days: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let (mut held, mut peak) = ([[0usize; DAYS]; 2], [0usize; 2]);
    let mut resolved = vec![[0usize; 2]; Situation::WEEK.len()];
    let mut resolved_after: Vec<[Vec<f64>; 2]> =
        vec![[Vec::new(), Vec::new()]; Situation::WEEK.len()];
    for (k, &sit) in Situation::WEEK.iter().enumerate() {
        let mut tallies = [Tally::default(), Tally::default()];
        for seed in seeds.clone() {
            let sc = generate(sit, seed, 15);
            let cfg = config(&sc, &overrides);
            for (c, &(_, with_traffic)) in columns.iter().enumerate() {
                let traffic = with_traffic.then_some(&sc.traffic[..]);
                let o = leaksense(&sc.samples, traffic, &[], &Truth::from(&sc), cfg.clone());
                tallies[c].add(sit.leaks(), sc.leak_share_per_hour, &o);
                resolved[k][c] += usize::from(o.resolved_while_leaking);
                if sit == Situation::WeekSlowLeak
                    && let Some(delay) = o.delay_secs
                {
                    slow_caught_days[c].push(delay / 86_400.0);
                }
                let w = run(&sc, with_traffic, &cfg);
                for day in 0..DAYS {
                    by_day[k][c][day] += w.false_onsets[day];
                    held[c][day] = held[c][day].max(w.held[day]);
                }
                alarms[k][c] += w.false_onsets.iter().sum::<u32>();
                resolved_after[k][c].extend(w.resolved_after_h);
                peak[c] = peak[c].max(w.peak);
            }
        }
        println!("{}", row(sit.name(), &tallies));
    }
    println!(
        "\nFalse alarms (firing alerts that began before any leak), all of them / by the day they \
         began (0 Wed, 1 Thu, 2 Fri, 3 Sat, 4 Sun, 5 Mon, 6 Tue), and alerts resolved while \
         the leak grew:\n"
    );
    println!("| situation | column | alarms | by day | resolved while leaking |");
    println!("|---|---|---|---|---|");
    for (k, sit) in Situation::WEEK.iter().enumerate() {
        for (c, (name, _)) in columns.iter().enumerate() {
            let days: Vec<String> = by_day[k][c].iter().map(u32::to_string).collect();
            println!(
                "| {} | {name} | {} | {} | {} |",
                sit.name(),
                alarms[k][c],
                days.join(" "),
                resolved[k][c]
            );
        }
    }
    println!(
        "\nHours from the leak start to the first resolution, of an alert that began after it, while the leak grew:\n"
    );
    for (k, sit) in Situation::WEEK
        .iter()
        .enumerate()
        .filter(|(_, s)| s.leaks())
    {
        for (c, (name, _)) in columns.iter().enumerate() {
            let mut v = resolved_after[k][c].clone();
            v.sort_by(f64::total_cmp);
            let hours: Vec<String> = v.iter().map(|h| format!("{h:.0}")).collect();
            println!("- {} {name}: {}", sit.name(), hours.join(" "));
        }
    }
    for (c, (name, _)) in columns.iter().enumerate() {
        let mut v = slow_caught_days[c].clone();
        v.sort_by(f64::total_cmp);
        let days: Vec<String> = v.iter().map(|d| format!("{d:.1}")).collect();
        println!(
            "\n`week_slow_leak` {name}: caught after (days) {}; median {}",
            days.join(" "),
            median_min(
                &slow_caught_days[c]
                    .iter()
                    .map(|d| d * 86_400.0)
                    .collect::<Vec<_>>()
            )
        );
    }
    println!("\nDetector heap, the largest over every series, at the end of each day (bytes):\n");
    for (c, (name, _)) in columns.iter().enumerate() {
        let days: Vec<String> = held[c].iter().map(usize::to_string).collect();
        println!("- {name}: {}; peak {}", days.join(" "), peak[c]);
    }
    println!(
        "- `size_of::<Detector>()`: {} bytes",
        std::mem::size_of::<Detector>()
    );
    if speed_runs == 0 {
        return;
    }
    println!("\nCost per update by day, fastest of {speed_runs} runs (ns; seed 1):\n");
    println!("| series | day 0 | 1 | 2 | 3 | 4 | 5 | 6 | ms per day, day 0 / day 6 |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for sit in [Situation::WeekSwing, Situation::WeekLateLeak] {
        let sc = generate(sit, 1, 15);
        let cfg = config(&sc, &overrides);
        for (name, with_traffic) in columns {
            let ns = per_day_ns(&sc, with_traffic, &cfg, speed_runs);
            let cells: Vec<String> = ns.iter().map(|x| format!("{x:.0}")).collect();
            println!(
                "| {} {name} | {} | {:.2} / {:.2} |",
                sit.name(),
                cells.join(" | "),
                ns[0] * 5760.0 / 1e6,
                ns[DAYS - 1] * 5760.0 / 1e6
            );
        }
    }
}
