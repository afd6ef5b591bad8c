//! Prints the alert events of one blind-generator series (`trace_blind SITUATION SEED`;
//! `TRAFFIC=1` feeds its traffic, `SET=field=value,...` overrides the config, `HOURLY=1` also
//! prints each hour's lowest and highest reading and mean rate, `EVERY=minutes` the analysis that
//! often; with `--features probe`, the last evaluation's probe tags). For training seeds (0..100).

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::{blind_config, fed_rates, feed_traffic, overrides_from_env};
use leaksense_core::detect::Detector;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: trace_blind SITUATION SEED";
    let sit = args
        .get(1)
        .and_then(|n| Situation::ALL.into_iter().find(|s| s.name() == n))
        .expect(usage);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let s = generate(sit, seed);
    let t0 = s.samples.first().map_or(0, |p| p.ts_ms);
    let hours = |ts: i64| (ts - t0) as f64 / 3.6e6;
    println!(
        "n {} over {:.1} h, limit {:?}; leak start {:?} h, stop {:?} h, limit reached {:?} h",
        s.samples.len(),
        hours(s.samples[s.samples.len() - 1].ts_ms),
        s.limit,
        s.truth.leak_start_ms.map(hours),
        s.truth.growth_stop_ms.map(hours),
        s.truth.limit_reached_ms.map(hours)
    );
    if std::env::var_os("HOURLY").is_some() {
        let mut h = 0;
        while let Some(x) = s
            .samples
            .iter()
            .find(|p| hours(p.ts_ms) >= h as f64)
            .map(|p| p.ts_ms)
        {
            let (lo, hi) = (x, x + 3_600_000);
            let v: Vec<f64> = s
                .samples
                .iter()
                .filter(|p| p.ts_ms >= lo && p.ts_ms < hi)
                .map(|p| p.value)
                .collect();
            let r = leaksense_bench::load_ratio(&s.traffic, lo - 3_600_000, hi);
            let rate: Vec<f64> = s
                .traffic
                .iter()
                .filter(|p| p.ts_ms >= lo && p.ts_ms < hi)
                .map(|p| p.value)
                .collect();
            println!(
                "  h{h:>3}: lo {:.4e} hi {:.4e} rate {:.1} (x{r:.2} on the hour before)",
                v.iter().copied().fold(f64::MAX, f64::min),
                v.iter().copied().fold(0.0, f64::max),
                rate.iter().sum::<f64>() / rate.len().max(1) as f64
            );
            h += 1;
        }
    }
    let cfg = blind_config(&s, &overrides_from_env());
    let mut d = Detector::new(cfg).expect("valid config");
    let traffic = std::env::var_os("TRAFFIC").is_some();
    let mut rates = fed_rates(&s.traffic, traffic);
    let every_ms = std::env::var("EVERY")
        .ok()
        .and_then(|x| x.parse::<f64>().ok())
        .map(|m| (m * 60_000.0) as i64);
    let mut next_ms = t0;
    #[cfg(feature = "probe")]
    leaksense_core::detect::probe::enable();
    #[allow(unused_mut)]
    let mut tags: Vec<String> = Vec::new();
    for p in &s.samples {
        feed_traffic(&mut d, &mut rates, p.ts_ms);
        let event = d.update(*p).expect("valid samples");
        #[cfg(feature = "probe")]
        {
            let t = leaksense_core::detect::probe::take();
            if !t.is_empty() {
                tags = t;
            }
        }
        if let Some(every) = every_ms
            && p.ts_ms >= next_ms
        {
            next_ms = p.ts_ms + every;
            let a = d.analysis();
            println!(
                "  {:.2} h: {:?} {:?} baseline {:?} start {:?} h rate {:?} because {:?} {}",
                hours(p.ts_ms),
                a.verdict,
                a.state,
                a.baseline.map(|b| format!("{b:.4e}")),
                a.growth_start_ms.map(hours),
                a.rate_per_sec.map(|r| format!("{r:.0}")),
                a.not_a_leak_because,
                tags.join(" "),
            );
        }
        if let Some(e) = event {
            let a = d.analysis();
            println!(
                "{:.2} h {:?} -> {:?}: value {:.4e} baseline {:?} growth start {:?} h, stop {:?} h, rate {:?}, ttl {:?} h, because {:?} {}",
                hours(e.ts_ms),
                e.from,
                e.to,
                p.value,
                a.baseline,
                a.growth_start_ms.map(hours),
                a.growth_stop_ms.map(hours),
                a.rate_per_sec,
                a.time_to_limit_secs.map(|x| x / 3600.0),
                a.not_a_leak_because,
                tags.join(" "),
            );
        }
    }
}
