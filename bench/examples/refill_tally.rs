//! When the unseen generator's `deploy_refill` alarms fire relative to the deploy (`c`) and the
//! refill's end (`c + b`, the growth-stop label), and which judgement fires them:
//! `cargo run --release -p leaksense-bench --features probe --example refill_tally -- A..B`.
//! For each column (with traffic, series alone) and each series with a firing alert, it prints
//! `c`, `c + b`, every firing's start and end (hours) with the judgement that held the
//! condition when it began (`raw`, `unmasked`, `yesterday`, `day_hold`) and the slow
//! collections the floor recognised before the first firing, and tallies the firings by when
//! they began: before `c`, during the refill, within 1 h of its end, later.
//! `SET=field=value,...` overrides options; `DUMP=SEED` prints that series' samples (seconds
//! since its start, value) and limit instead, as a core test embeds them. A diagnostic for tuning on training seeds (design
//! section 79).

use leaksense_bench::held::{holder, update_tagged};
use leaksense_bench::unseen::{Shape, generate};
use leaksense_bench::{overrides_from_env, unseen_config};
use leaksense_core::detect::{AlertState, Detector, probe};
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (a, b) = args
        .get(1)
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect("usage: refill_tally A..B");
    let overrides = overrides_from_env();
    if let Some(seed) = std::env::var("DUMP").ok().and_then(|x| x.parse().ok()) {
        let s = generate(Shape::DeployRefill, seed);
        let t0 = s.samples.first().map_or(0, |p| p.ts_ms);
        println!("limit {:?}", s.limit);
        for p in &s.samples {
            println!("({}, {:.0}),", (p.ts_ms - t0) / 1000, p.value);
        }
        return;
    }
    probe::enable();
    for col in ["traffic", "alone"] {
        let mut tally: BTreeMap<String, usize> = BTreeMap::new();
        for seed in a..b {
            let s = generate(Shape::DeployRefill, seed);
            let t0 = s.samples.first().map_or(0, |p| p.ts_ms);
            let h = |ts: i64| (ts - t0) as f64 / 3.6e6;
            let (c, stop) = (s.plan[3] / 3600.0, (s.plan[3] + s.plan[2]) / 3600.0);
            let mut d = Detector::new(unseen_config(&s, &overrides)).expect("valid");
            let tr = if col == "traffic" {
                &s.traffic[..]
            } else {
                &[]
            };
            let mut rates = tr.iter().peekable();
            let mut spells: Vec<(f64, Option<f64>, &str)> = Vec::new();
            let mut firing = false;
            let mut slow = 0;
            for p in &s.samples {
                let (_, tags) = update_tagged(&mut d, &mut rates, *p);
                if spells.is_empty() {
                    slow += tags.iter().filter(|t| t.contains("gc slow")).count();
                }
                let now = d.state() == AlertState::Firing;
                if now && !firing {
                    spells.push((h(p.ts_ms), None, holder(&tags)));
                } else if !now
                    && firing
                    && let Some(l) = spells.last_mut()
                {
                    l.1 = Some(h(p.ts_ms));
                }
                firing = now;
            }
            if spells.is_empty() {
                continue;
            }
            *tally
                .entry(format!("slow collections before the first firing: {slow}"))
                .or_insert(0) += 1;
            for sp in &spells {
                let when = if sp.0 < c {
                    "before c"
                } else if sp.0 < stop {
                    "during refill"
                } else if sp.0 < stop + 1.0 {
                    "within 1 h of c+b"
                } else {
                    "later"
                };
                *tally.entry(format!("{when} {}", sp.2)).or_insert(0) += 1;
            }
            let list: Vec<String> = spells
                .iter()
                .map(|sp| {
                    format!(
                        "{:.1}-{} {}",
                        sp.0,
                        sp.1.map_or("end".into(), |e| format!("{e:.1}")),
                        sp.2
                    )
                })
                .collect();
            println!(
                "{col} {seed}: c {c:.1} c+b {stop:.1} days {:.0} step {:.0}s, slow collections {slow}: {}",
                h(s.samples.last().map_or(t0, |p| p.ts_ms)) / 24.0,
                (s.samples[1].ts_ms - s.samples[0].ts_ms) / 1000,
                list.join(", ")
            );
        }
        println!("{col}: firings by start: {tally:?}");
    }
}
