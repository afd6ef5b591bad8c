//! Which series `first_collection_slow_share` (design section 78) acts on: for every training
//! series of the situations named in `ONLY` (comma-separated; all by default), whether an early
//! first collection was taken for a slow one (confirmed after a slow period) or cancelled by
//! another fall, when, and the first firing at 0 and at `SHARE` (with traffic; `ALONE=1`: the
//! series alone). Prints one line per series whose first firing moved.
//!
//! `cargo run --release -p leaksense-bench --features probe --example earlyslow_tally -- 0..250`
//! (`SHARE=` the option's value, 0.17 by default; `SET=field=value,...` overrides options for
//! both runs).

use leaksense_bench::held::update_tagged;
use leaksense_bench::{config, fed_rates, overrides_from_env, parse_seeds};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, probe};
use std::collections::BTreeMap;

const H: f64 = 3.6e6;

fn main() {
    let seeds = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = parse_seeds(&seeds).expect("seeds A..B");
    let traffic = std::env::var_os("ALONE").is_none();
    let share: f64 = std::env::var("SHARE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.17);
    let only: Option<Vec<String>> = std::env::var("ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let mut base = overrides_from_env();
    let mut with = base.clone();
    base.push(("first_collection_slow_share".into(), serde_json::json!(0.0)));
    with.push((
        "first_collection_slow_share".into(),
        serde_json::json!(share),
    ));
    probe::enable();
    let mut tally: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for sit in Situation::ALL {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == sit.name()))
        {
            continue;
        }
        for seed in a..b {
            let sc = generate(sit, seed, 15);
            let first = sc.samples[0].ts_ms;
            let run = |ov: &[(String, serde_json::Value)]| {
                let mut d = Detector::new(config(&sc, ov)).expect("valid config");
                let mut rates = fed_rates(&sc.traffic, traffic);
                let (mut fired, mut events) = (None, Vec::new());
                for s in &sc.samples {
                    let (_, tags) = update_tagged(&mut d, &mut rates, *s);
                    let h = (s.ts_ms - first) as f64 / H;
                    for t in tags.iter().filter(|t| t.contains("gc early")) {
                        events.push(format!("{h:.2} {}", t.trim_start_matches("gc early ")));
                    }
                    if fired.is_none() && d.state() == AlertState::Firing {
                        fired = Some(h);
                    }
                }
                (fired, events)
            };
            let (f0, _) = run(&base);
            let (f1, events) = run(&with);
            let confirmed = events.iter().any(|e| e.ends_with(" slow"));
            let t = tally.entry(sit.name().to_string()).or_default();
            t[0] += usize::from(!events.is_empty());
            t[1] += usize::from(confirmed);
            t[2] += usize::from(f0 != f1);
            t[3] += usize::from(confirmed && f0 != f1);
            if f0 != f1 {
                let leak = sc
                    .leak_start_ms
                    .map_or("-".into(), |l| format!("{:.2}", (l - first) as f64 / H));
                println!(
                    "{} {seed}: leak {leak}, fired {:?} -> {:?}, {:?}",
                    sit.name(),
                    f0.map(|h| (h * 100.0).round() / 100.0),
                    f1.map(|h| (h * 100.0).round() / 100.0),
                    events
                );
            }
        }
    }
    println!(
        "\n| situation | early candidates | confirmed | first firing moved | of them confirmed |"
    );
    for (k, t) in tally {
        println!("| {k} | {} | {} | {} | {} |", t[0], t[1], t[2], t[3]);
    }
}
