//! Which judgements a day of a week series runs and where each ends (design section 98): feeds
//! a detector the days before DAY (as `week_prof`), then, with the probe on, tallies over DAY
//! the evaluations' judgements by phase (`raw`, `unm`, `yday`) and the last tag each left (the
//! test that ended it). `cargo run --release -p leaksense-bench --features probe --example
//! week_phase_tally -- SITUATION SEED DAY [alone]`. Training seeds only: 0..50.

use leaksense_bench::week_day;
use leaksense_core::detect::Detector;
use leaksense_core::detect::probe;
use std::collections::BTreeMap;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let w = week_day(&a, 3);
    let (sc, start, end) = (&w.sc, w.start, w.end);
    let traffic: &[_] = if w.with_traffic { &sc.traffic } else { &[] };
    let mut d = Detector::new(w.cfg.clone()).unwrap();
    let mut rates = traffic.iter().peekable();
    let mut evals = 0;
    let mut ends: BTreeMap<String, usize> = BTreeMap::new();
    let mut phases: BTreeMap<String, usize> = BTreeMap::new();
    let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
    for s in sc.samples.iter().take_while(|s| s.ts_ms < end) {
        while let Some(r) = rates.next_if(|r| r.ts_ms <= s.ts_ms) {
            d.observe_traffic(*r).unwrap();
        }
        if s.ts_ms >= start {
            probe::enable();
        }
        d.update(*s).unwrap();
        let tags = probe::take();
        if tags.is_empty() {
            continue;
        }
        evals += 1;
        // The last tag of each phase run: a phase's judgement ends at its last tag.
        let mut last: Vec<(String, String)> = Vec::new();
        for t in &tags {
            let (p, tag) = t.split_once(':').unwrap_or(("?", t));
            let word: String = tag.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            // The end marks (`COND`, `HEALTHY`, `FOUND`, `NONE`) follow the test that decided.
            let end_mark = matches!(word.as_str(), "COND" | "HEALTHY" | "FOUND" | "NONE");
            match last.last_mut() {
                Some((q, w)) if q == p => {
                    if !end_mark || w.is_empty() {
                        *w = if end_mark { format!("({word})") } else { word };
                    }
                }
                _ => last.push((
                    p.to_string(),
                    if end_mark { format!("({word})") } else { word },
                )),
            }
        }
        // Which shape test held a rise (`wu plateau`, `wu step`, `wu decel`), by phase.
        for t in &tags {
            if let Some((p, tag)) = t.split_once(':')
                && (tag.starts_with("wu plateau")
                    || tag.starts_with("wu step")
                    || tag.starts_with("wu decel"))
            {
                *shapes.entry(format!("{p}: {tag}")).or_default() += 1;
            }
        }
        for (p, w) in last {
            *phases.entry(p.clone()).or_default() += 1;
            *ends.entry(format!("{p}: {w}")).or_default() += 1;
        }
    }
    println!("{evals} evaluations with tags");
    for (p, n) in &phases {
        println!("phase {p}: {n}");
    }
    for (k, n) in &ends {
        println!("{n:5}  {k}");
    }
    println!("shape tests that held a rise:");
    for (k, n) in &shapes {
        println!("{n:5}  {k}");
    }
}
