//! One series' evaluations with traffic, with the detector's diagnostic tags (core feature
//! `probe`) of every judgement (`raw`, `unm`, `lo`, `yday`): `count_tags NAME SEED` for a
//! quality situation or an unseen shape (docs/design/detector.md section 70). Prints, every
//! `EVERY` minutes (30), the floor's newest point, the load's 5-min mean, the state, the
//! analysis's growth start and reason, and the tags. `ALONE=1` on the series alone;
//! `SET=field=value,...` overrides options. A diagnostic for tuning on training seeds.

use leaksense_bench::held::update_tagged;
use leaksense_bench::unseen::{self, Shape};
use leaksense_bench::{config, fed_rates, overrides_from_env};
use leaksense_core::Sample;
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{Detector, probe};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: count_tags NAME SEED";
    let name = args.get(1).expect(usage);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let overrides = overrides_from_env();
    let (cfg, samples, traffic, start): (_, Vec<Sample>, Vec<Sample>, _) =
        if let Some(sit) = Situation::from_name(name) {
            let sc = generate(sit, seed, 15);
            (
                config(&sc, &overrides),
                sc.samples,
                sc.traffic,
                sc.leak_start_ms,
            )
        } else {
            let shape = Shape::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .expect(usage);
            let s = unseen::generate(shape, seed);
            (
                leaksense_bench::unseen_config(&s, &overrides),
                s.samples.clone(),
                s.traffic.clone(),
                s.truth.leak_start_ms,
            )
        };
    let every_ms: i64 = std::env::var("EVERY")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(30)
        * 60_000;
    let alone = std::env::var_os("ALONE").is_some();
    let t0 = samples[0].ts_ms;
    let h = |t: i64| (t - t0) as f64 / 3.6e6;
    println!("leak start {:?} h", start.map(h));
    let mut d = Detector::new(cfg).expect("valid config");
    probe::enable();
    let mut rates = fed_rates(&traffic, !alone);
    let mut last = i64::MIN / 2;
    for s in &samples {
        let (ev, tags) = update_tagged(&mut d, &mut rates, *s);
        if let Some(e) = ev {
            println!("{:.2} h {:?} -> {:?}", h(e.ts_ms), e.from, e.to);
        }
        if tags.is_empty() || s.ts_ms - last < every_ms {
            continue;
        }
        last = s.ts_ms;
        let load: Vec<f64> = traffic
            .iter()
            .filter(|r| r.ts_ms <= s.ts_ms && r.ts_ms > s.ts_ms - 300_000)
            .map(|r| r.value)
            .collect();
        let a = d.analysis();
        println!(
            "{:.2} floor {:?} load {:.2} {:?} start {:?} {:?}: {}",
            h(s.ts_ms),
            d.floor().last().map(|p| p.value.round()),
            load.iter().sum::<f64>() / load.len().max(1) as f64,
            d.state(),
            a.growth_start_ms.map(|t| (h(t) * 100.0).round() / 100.0),
            a.not_a_leak_because,
            tags.join(" | ")
        );
    }
}
