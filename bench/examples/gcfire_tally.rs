//! When and why the slow-GC series alarm (design section 73): for every training series of
//! `slow_gc`, `v8_slow_gc` and the alarms that begin before the leak of `slow_gc_leak` and
//! `v8_slow_gc_leak`, the hour of the first firing with traffic (`ALONE=1`: the series
//! alone), the judgement that held the condition at its first pending and at its firing
//! (`raw`, `unmasked`, `yesterday`), and what the wait for a first collection
//! (`first_collection_secs`) did: the falls the floor counted before the firing (the first
//! collection, slow collections, restarts), whether the urgent bypass let a pending
//! evaluation through, and the first marked full collection (V8 series). The class:
//! `urgent` (the bypass), `restart` (a restart before the firing re-armed the wait; what
//! happened after it), `after 3 h` (no collection seen, the wait ran out), `collected, no
//! slow` (the first collection ended the wait, the slow-collection test saw none before the
//! firing), `collected, slow` (it saw one or more).
//!
//! `cargo run --release -p leaksense-bench --features probe --example gcfire_tally -- 0..250`
//! (`SET=field=value,...` overrides options; `ALL=1` prints every evaluation's gc tags).

use leaksense_bench::held::{holder, update_tagged};
use leaksense_bench::{config, fed_rates, overrides_from_env, parse_seeds, slow_gc_series};
use leaksense_core::detect::{AlertState, Detector, probe};
use std::collections::BTreeMap;

const H: f64 = 3.6e6;

fn main() {
    let seeds = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = parse_seeds(&seeds).expect("seeds A..B");
    let traffic = std::env::var_os("ALONE").is_none();
    let overrides = overrides_from_env();
    probe::enable();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for (sit, seed, sc) in slow_gc_series(a, b) {
        let leak = sc.leak_start_ms.unwrap_or(i64::MAX);
        let first = sc.samples[0].ts_ms;
        let mut d = Detector::new(config(&sc, &overrides)).expect("valid config");
        let mut rates = fed_rates(&sc.traffic, traffic);
        let mut state = AlertState::Inactive;
        let (mut onset, mut pending_h) = ("-", 0.0);
        let mut events: Vec<String> = Vec::new();
        let mut urgent = false;
        let mut epoch = first;
        let mut collected_h: Option<f64> = None;
        let mut slow = 0;
        for s in sc.samples.iter().take_while(|s| s.ts_ms < leak) {
            let (_, tags) = update_tagged(&mut d, &mut rates, *s);
            let h = (s.ts_ms - first) as f64 / H;
            for t in &tags {
                if t.ends_with("gc restart") {
                    epoch = s.ts_ms;
                    collected_h = None;
                    slow = 0;
                    events.push(format!("restart {h:.2}"));
                } else if let Some(i) = t.find("gc ramp") {
                    events.push(format!("ramp {}", &t[i + 8..]));
                } else if let Some(i) = t.find("gc collected") {
                    collected_h = Some(h);
                    events.push(format!("coll {h:.2} ({})", &t[i + 13..]));
                } else if let Some(i) = t.find("gc slow") {
                    slow += 1;
                    if slow <= 2 {
                        events.push(format!("slow {h:.2} ({})", &t[i + 8..]));
                    }
                }
            }
            let now = d.state();
            if now == AlertState::Pending && state == AlertState::Inactive {
                onset = holder(&tags);
                pending_h = h;
                urgent = false;
            }
            if now != AlertState::Inactive && tags.iter().any(|t| t.ends_with("gc urgent")) {
                urgent = true;
            }
            if now == AlertState::Firing && state != AlertState::Firing {
                let since = (s.ts_ms - epoch) as f64 / H;
                let restarted = epoch != first;
                let class = if urgent {
                    "urgent".to_string()
                } else if collected_h.is_none() {
                    format!("{}after 3 h", if restarted { "restart, " } else { "" })
                } else {
                    format!(
                        "{}collected, {}",
                        if restarted { "restart, " } else { "" },
                        if slow > 0 { "slow" } else { "no slow" }
                    )
                };
                *classes
                    .entry(format!("{} | {class}", sit.name()))
                    .or_default() += 1;
                let full = sc.full_gcs.first().map_or("-".into(), |&i| {
                    format!("{:.2}", (sc.samples[i].ts_ms - first) as f64 / H)
                });
                let gc: Vec<&str> = tags
                    .iter()
                    .filter(|t| t.contains("gc cond"))
                    .map(String::as_str)
                    .collect();
                // Where the heap stands against its limit: at the firing, and its highest
                // sample within 4 h after it (before any leak).
                let limit = sc.limit.unwrap_or(f64::INFINITY);
                let top = sc
                    .samples
                    .iter()
                    .filter(|p| p.ts_ms >= s.ts_ms && p.ts_ms < leak.min(s.ts_ms + 4 * 3_600_000))
                    .map(|p| p.value)
                    .fold(f64::NEG_INFINITY, f64::max);
                println!(
                    "{} {seed}: fired {h:.2} h ({since:.2} h since epoch), pending {pending_h:.2} h \
                     {onset}, firing {}, class {class}, first full GC {full}, at {:.2} of the limit, \
                     top {:.2} within 4 h, events [{}], {:?}",
                    sit.name(),
                    holder(&tags),
                    s.value / limit,
                    top / limit,
                    events.join(", "),
                    gc
                );
            }
            if std::env::var_os("ALL").is_some() {
                let g: Vec<&String> = tags.iter().filter(|t| t.contains("gc ")).collect();
                if !g.is_empty() {
                    println!("  {h:.2} {g:?}");
                }
            }
            state = now;
        }
    }
    println!();
    for (k, n) in classes {
        println!("| {k} | {n} |");
    }
}
