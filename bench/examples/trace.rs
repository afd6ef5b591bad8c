use leaksense_core::detect::scenarios::{START_MS, Situation, generate};
use leaksense_core::detect::{Detector, DetectorConfig};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let sit = Situation::ALL
        .into_iter()
        .find(|s| s.name() == a[1])
        .unwrap();
    let seed: u64 = a[2].parse().unwrap();
    let sc = generate(sit, seed, 15);
    println!(
        "leak start {:?} h",
        sc.leak_start_ms.map(|l| (l - START_MS) as f64 / 3.6e6)
    );
    let mut d = Detector::new(DetectorConfig {
        limit: sc.limit,
        ..DetectorConfig::for_kind(sc.kind)
    })
    .unwrap();
    for s in &sc.samples {
        if let Some(e) = d.update(*s).unwrap() {
            let an = d.analysis();
            println!(
                "{:.2}h {:?}->{:?} start {:?} rate {:?} low {:?} base {:?}",
                (e.ts_ms - START_MS) as f64 / 3.6e6,
                e.from,
                e.to,
                an.growth_start_ms.map(|g| (g - START_MS) as f64 / 3.6e6),
                an.rate_per_sec,
                an.rate_low,
                an.baseline
            );
        }
    }
    if a.len() > 3 {
        for p in d.floor() {
            println!("{:.2} {:.4e}", (p.ts_ms - START_MS) as f64 / 3.6e6, p.value);
        }
    }
}
