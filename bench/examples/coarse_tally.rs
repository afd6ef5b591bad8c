//! The healthy coarse and gappy series that alarm (docs/design/detector.md, the section on
//! sparse, minute and gappy false alarms): for each `sparse_healthy`, `minute_healthy` and
//! `gappy_healthy` seed of `SEEDS` (0..50) that fires with traffic (`ALONE=1`: on the series
//! alone), the first firing's time, the analysis's growth start, the rise since it over the
//! baseline, the hours since a warm-up's end label (a warm-up that flattened) if any, the
//! longest sampling interval in the 3 h before the firing (a gap), whether the rise was urgent
//! (`time_to_limit_secs` within `urgent_ttl_ratio` times the rise's age), and the reasons the
//! analysis gave over the 3 h before (minutes each, `-` for none: a leak, or no rise seen).
//! `TAGS=1` also prints, at each alert change, the detector's diagnostic tags (core feature
//! `probe`: `raw:COND`, `unm:FOUND` say which judgement held the condition; `shape cont ..
//! shaped .. urgent ..` the rise-goes-on test, the shape tests and the urgency).
//! `SET=field=value,...` overrides options. `RESOLVE=1` also follows each firing series to its
//! first resolution: when, how long after the firing and after the warm-up's end.
//!
//! `cargo run --release -p leaksense-bench --features probe --example coarse_tally`
use leaksense_bench::held::update_tagged;
use leaksense_bench::{config, fed_rates, overrides_from_env, parse_seeds};
use leaksense_core::detect::scenarios::{START_MS, Situation, generate};
use leaksense_core::detect::{AlertState, Detector, probe};
use std::collections::BTreeMap;

fn hours(ts_ms: i64) -> f64 {
    (ts_ms - START_MS) as f64 / 3.6e6
}

fn main() {
    let (lo, hi) = parse_seeds(&std::env::var("SEEDS").unwrap_or_else(|_| "0..50".into()))
        .expect("SEEDS=A..B");
    let alone = std::env::var_os("ALONE").is_some();
    let overrides = overrides_from_env();
    let tags = std::env::var_os("TAGS").is_some();
    let resolve = std::env::var_os("RESOLVE").is_some();
    if tags {
        probe::enable();
    }
    for name in ["sparse_healthy", "minute_healthy", "gappy_healthy"] {
        let sit = Situation::from_name(name).expect("a situation");
        for seed in lo..hi {
            let sc = generate(sit, seed, 15);
            let cfg = config(&sc, &overrides);
            let ratio = cfg.urgent_ttl_ratio;
            let mut d = Detector::new(cfg).expect("valid config");
            let mut rates = fed_rates(&sc.traffic, !alone);
            let mut reasons: Vec<(i64, String)> = Vec::new();
            let mut prev_ts: Option<i64> = None;
            let mut gaps: Vec<(i64, i64)> = Vec::new();
            let mut fired_ms: Option<i64> = None;
            for s in &sc.samples {
                if let Some(p) = prev_ts {
                    gaps.push((s.ts_ms, s.ts_ms - p));
                }
                prev_ts = Some(s.ts_ms);
                let (e, t) = update_tagged(&mut d, &mut rates, *s);
                if tags && e.is_some() {
                    println!(
                        "  {:.2} h {:?}: {}",
                        hours(s.ts_ms),
                        e.map(|e| e.to),
                        t.join(" | ")
                    );
                }
                let a = d.analysis();
                reasons.push((
                    s.ts_ms,
                    a.not_a_leak_because
                        .map_or_else(|| "-".to_string(), |r| format!("{r:?}")),
                ));
                let Some(e) = e else { continue };
                if let Some(f) = fired_ms {
                    if e.to == AlertState::Inactive {
                        let after = sc.growth_stop_ms.map_or_else(
                            || "no warm-up end".to_string(),
                            |g| {
                                format!(
                                    "{:.0} min after the warm-up end",
                                    (s.ts_ms - g) as f64 / 6e4
                                )
                            },
                        );
                        println!(
                            "{name} {seed}: resolves {:.2} h, {:.0} min after firing, {after}",
                            hours(s.ts_ms),
                            (s.ts_ms - f) as f64 / 6e4
                        );
                        break;
                    }
                    continue;
                }
                if e.to != AlertState::Firing {
                    continue;
                }
                let start = a.growth_start_ms.unwrap_or(s.ts_ms);
                let age = (s.ts_ms - start) as f64 / 1000.0;
                let rise = a.rate_per_sec.unwrap_or(0.0) * age / a.baseline.unwrap_or(f64::NAN);
                let urgent = a
                    .time_to_limit_secs
                    .is_some_and(|t| ratio > 0.0 && t <= ratio * age);
                let from = s.ts_ms - 3 * 3_600_000;
                let gap = gaps
                    .iter()
                    .filter(|g| g.0 >= from)
                    .map(|g| g.1)
                    .max()
                    .unwrap_or(0) as f64
                    / 6e4;
                let mut tally: BTreeMap<&str, f64> = BTreeMap::new();
                for w in reasons.windows(2) {
                    if w[1].0 >= from {
                        *tally.entry(w[0].1.as_str()).or_default() +=
                            (w[1].0 - w[0].0) as f64 / 6e4;
                    }
                }
                let stop = sc.growth_stop_ms.map_or_else(
                    || "none".to_string(),
                    |g| format!("{:+.1}", hours(s.ts_ms) - hours(g)),
                );
                let t: Vec<String> = tally.iter().map(|(k, v)| format!("{k} {v:.0}")).collect();
                println!(
                    "{name} {seed}: fires {:.2} h, growth start {:.2} h, rise {:.0} % of baseline, after warm-up end {stop} h, longest interval {gap:.0} min, urgent {urgent}; 3 h before: {}",
                    hours(s.ts_ms),
                    hours(start),
                    100.0 * rise,
                    t.join(", ")
                );
                if !resolve {
                    break;
                }
                fired_ms = Some(s.ts_ms);
            }
        }
    }
}
