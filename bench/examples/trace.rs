//! Prints the alert events of one generated scenario with the estimates at each event, and
//! with a fourth argument the floor points: `cargo run --release -p leaksense-bench --example
//! trace -- step 20 [floor]` (`STEP_SECS=60` changes the sampling step of the first nineteen
//! situations; `TRAFFIC=1` feeds the scenario's traffic). A diagnostic for tuning on training
//! seeds. `SET=field=value,...` overrides options as the benches' `--set` does.
//! With `--features probe`, each event is preceded by the last evaluation's probe tags.

use leaksense_bench::{config, fed_rates, feed_traffic, overrides_from_env};
use leaksense_core::detect::Detector;
use leaksense_core::detect::scenarios::{START_MS, Situation, generate};

fn hours(ts_ms: i64) -> f64 {
    (ts_ms - START_MS) as f64 / 3.6e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: trace SITUATION SEED [floor]";
    let sit = args
        .get(1)
        .and_then(|n| Situation::from_name(n))
        .expect(usage);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let step = std::env::var("STEP_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let sc = generate(sit, seed, step);
    println!(
        "leak start {:?} h, stop {:?} h, share {:?}/h, limit {:?}, reached {:?} h, step {} s",
        sc.leak_start_ms.map(hours),
        sc.growth_stop_ms.map(hours),
        sc.leak_share_per_hour,
        sc.limit,
        sc.limit_reached_ms.map(hours),
        sc.step_secs
    );
    let overrides = overrides_from_env();
    let cfg = config(&sc, &overrides);
    let mut d = Detector::new(cfg).expect("valid config");
    let traffic = std::env::var_os("TRAFFIC").is_some();
    let mut rates = fed_rates(&sc.traffic, traffic);
    leaksense_bench::enable_tags();
    let mut tags: Vec<String> = Vec::new();
    for s in &sc.samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        let event = d.update(*s).expect("valid samples");
        leaksense_bench::keep_tags(&mut tags, event.is_some());
        if let Some(e) = event {
            let a = d.analysis();
            println!(
                "{:.2} h {:?} -> {:?}: growth start {:?} h, rate {:?} [{:?}, {:?}], floor {:?}",
                hours(e.ts_ms),
                e.from,
                e.to,
                a.growth_start_ms.map(hours),
                a.rate_per_sec,
                a.rate_low,
                a.rate_high,
                a.baseline
            );
        }
    }
    if args.len() > 3 {
        let mut t = sc.traffic.iter().peekable();
        for p in d.floor() {
            let mut load = f64::NAN;
            while let Some(r) = t.next_if(|r| r.ts_ms <= p.ts_ms) {
                load = r.value;
            }
            println!("{:.2} {:.4e} {:.1}", hours(p.ts_ms), p.value, load);
        }
    }
}
