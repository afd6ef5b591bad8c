//! Prints the alert events of one unseen-generator series (`trace_unseen SHAPE SEED`;
//! `TRAFFIC=1` feeds its traffic). A diagnostic for tuning on training seeds (100..140).
//! With `--features probe`, each event is preceded by the last evaluation's probe tags.

use leaksense_bench::unseen::{Shape, generate};
use leaksense_bench::{fed_rates, feed_traffic, overrides_from_env};
use leaksense_core::detect::Detector;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: trace_unseen SHAPE SEED";
    let shape = args
        .get(1)
        .and_then(|n| Shape::ALL.into_iter().find(|s| s.name() == n))
        .expect(usage);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let s = generate(shape, seed);
    let t0 = s.samples.first().map_or(0, |p| p.ts_ms);
    let hours = |ts: i64| (ts - t0) as f64 / 3.6e6;
    println!(
        "leak start {:?} h, stop {:?} h, limit reached {:?} h",
        s.truth.leak_start_ms.map(hours),
        s.truth.growth_stop_ms.map(hours),
        s.truth.limit_reached_ms.map(hours)
    );
    let overrides = overrides_from_env();
    let cfg = leaksense_bench::unseen_config(&s, &overrides);
    let mut d = Detector::new(cfg).expect("valid config");
    let traffic = std::env::var_os("TRAFFIC").is_some();
    let mut rates = fed_rates(&s.traffic, traffic);
    leaksense_bench::enable_tags();
    let mut tags: Vec<String> = Vec::new();
    for p in &s.samples {
        feed_traffic(&mut d, &mut rates, p.ts_ms);
        let event = d.update(*p).expect("valid samples");
        leaksense_bench::keep_tags(&mut tags, event.is_some());
        if let Some(e) = event {
            let a = d.analysis();
            println!(
                "{:.2} h {:?} -> {:?}: growth start {:?} h, stop {:?} h, rate {:?}",
                hours(e.ts_ms),
                e.from,
                e.to,
                a.growth_start_ms.map(hours),
                a.growth_stop_ms.map(hours),
                a.rate_per_sec,
            );
        }
    }
}
