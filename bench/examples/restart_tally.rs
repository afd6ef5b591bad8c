//! Epochs between restarts on blind series (`restart_tally SITUATION A..B`, `TRAFFIC=1`,
//! `SET=...`; feature `probe`: the restarts are those the detector reads): per epoch with the
//! leak begun, its length, the rise of its hourly lows from its second hour to its last
//! against their scatter, and where the detector was at its end (verdict, state, the test
//! that held it), then a tally by length and end state (design section 101). For training
//! seeds (0..100).

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::{blind_config, fed_rates, feed_traffic, overrides_from_env, parse_seeds};
use leaksense_core::detect::Detector;
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("restart_leak", String::as_str);
    let (a, b) = args.get(1).and_then(|s| parse_seeds(s)).unwrap_or((0, 100));
    let sit = Situation::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .expect("a situation name");
    let traffic = std::env::var_os("TRAFFIC").is_some();
    leaksense_core::detect::probe::enable();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for seed in a..b {
        let s = generate(sit, seed);
        let cfg = blind_config(&s, &overrides_from_env());
        let mut d = Detector::new(cfg).expect("valid config");
        let mut rates = fed_rates(&s.traffic, traffic);
        let leak0 = s.truth.leak_start_ms.unwrap_or(i64::MAX);
        let mut epoch0 = s.samples[0].ts_ms;
        let mut fired = false;
        let n = s.samples.len();
        for (i, p) in s.samples.iter().enumerate() {
            feed_traffic(&mut d, &mut rates, p.ts_ms);
            let before = d.analysis();
            let e = d.update(*p).expect("valid samples");
            fired |= e.is_some_and(|e| format!("{:?}", e.to).contains("Firing"));
            let restart = leaksense_core::detect::probe::take()
                .iter()
                .any(|t| t.ends_with("gc restart"));
            if restart || i + 1 == n {
                let end = p.ts_ms;
                let leak_on = end > leak0;
                let len_h = (end - epoch0) as f64 / 3.6e6;
                let lo: Vec<f64> = (0..)
                    .map(|h| epoch0 + h * 3_600_000)
                    .take_while(|t| *t < end)
                    .map(|t0| {
                        s.samples
                            .iter()
                            .filter(|q| q.ts_ms >= t0 && q.ts_ms < (t0 + 3_600_000).min(end))
                            .map(|q| q.value)
                            .fold(f64::MAX, f64::min)
                    })
                    .filter(|v| *v < f64::MAX)
                    .collect();
                let (rise, scat) = if lo.len() >= 3 {
                    let r = lo[lo.len() - 1] / lo[1] - 1.0;
                    let mut dd: Vec<f64> =
                        lo.windows(2).map(|w| (w[1] / w[0] - 1.0).abs()).collect();
                    dd.sort_by(f64::total_cmp);
                    (r, dd[dd.len() / 2])
                } else {
                    (f64::NAN, f64::NAN)
                };
                let why = format!(
                    "{:?} {:?} {:?}",
                    before.verdict, before.state, before.not_a_leak_because
                );
                if leak_on {
                    println!(
                        "seed {seed:>3} epoch {:>5.1}-{:>5.1} h len {len_h:>5.1} h leak since {:>5.1} h: lows rise {:>6.3} scatter {:>5.3}{} at end: {why}",
                        (epoch0 - s.samples[0].ts_ms) as f64 / 3.6e6,
                        (end - s.samples[0].ts_ms) as f64 / 3.6e6,
                        (epoch0.max(leak0) - s.samples[0].ts_ms) as f64 / 3.6e6,
                        rise,
                        scat,
                        if i + 1 == n { " (series end)" } else { "" },
                    );
                    let band = match len_h {
                        x if x < 4.0 => "<4h",
                        x if x < 8.0 => "4-8h",
                        x if x < 16.0 => "8-16h",
                        _ => ">=16h",
                    };
                    *tally.entry(format!("{band} {why}")).or_default() += 1;
                }
                epoch0 = end;
            }
        }
        println!("seed {seed:>3} fired {fired}");
    }
    for (k, v) in &tally {
        println!("{v:>4} {k}");
    }
}
