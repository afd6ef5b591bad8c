//! What one `LeakReport::build` costs at the route cap: 1,000 routes, the tracker's full ring of
//! 720 one-minute slots and 12 h of 5-minute floor points, the fit running on all of it.
//!
//! `cargo run --release -p leaksense-bench --example report_many_routes`

use leaksense_core::Sample;
use leaksense_core::detect::{AlertState, Analysis, Verdict};
use leaksense_core::report::LeakReport;
use leaksense_core::requests::{AttributionConfig, RouteSnapshot, SlotCounts, TrackerSnapshot};
fn main() {
    let slot = 60_000i64;
    let nr = 1000;
    let mut x = 1u64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let slots: Vec<SlotCounts> = (0..720)
        .map(|i| SlotCounts {
            start_ms: i * slot,
            counts: (0..nr).map(|_| rnd() % 20).collect(),
        })
        .collect();
    let routes = (0..nr)
        .map(|r| RouteSnapshot {
            route: format!("/r{r}"),
            first_seen_ms: Some(0),
            count: 0,
            measures: vec![],
        })
        .collect();
    let snap = TrackerSnapshot {
        measures: vec![],
        slot_ms: slot,
        routes,
        slots,
    };
    let gs = 360 * slot;
    let floor: Vec<Sample> = (0..144)
        .map(|i| Sample {
            ts_ms: i * 300_000,
            value: 1e8
                + if i * 300_000 > gs {
                    (i * 300_000 - gs) as f64 * 10.0
                } else {
                    0.0
                }
                + (rnd() % 100_000) as f64,
        })
        .collect();
    let analysis = Analysis {
        verdict: Verdict::Leak,
        state: AlertState::Firing,
        growth_start_ms: Some(gs),
        growth_stop_ms: None,
        not_a_leak_because: None,
        rate_per_sec: Some(10.0),
        rate_low: Some(9.0),
        rate_high: Some(11.0),
        time_to_limit_secs: None,
        limit: None,
        baseline: Some(1e8),
        samples: 1,
        events: vec![],
    };
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let r = LeakReport::build(
            analysis.clone(),
            &floor,
            &snap,
            &AttributionConfig::default(),
        )
        .unwrap();
        println!(
            "1000 routes, 720 slots, 144 floor points: {:.1} ms, {} estimates",
            t.elapsed().as_secs_f64() * 1e3,
            r.model.map_or(0, |m| m.estimates.len())
        );
    }
}
