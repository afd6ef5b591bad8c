//! Summaries of the blind generator's series (a check of the generator, not the detector):
//! `cargo run --release -p leaksense-bench --example blind_dump -- SITUATION A..B`, or with
//! `CSV=1` and one seed, the series as `ts_ms,value,rate` lines.

use leaksense_bench::blind::{Situation, generate};
use leaksense_bench::parse_seeds;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("go_traffic", String::as_str);
    let (a, b) = args.get(1).and_then(|s| parse_seeds(s)).unwrap_or((0, 5));
    let sit = Situation::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .expect("a situation name");
    for seed in a..b {
        let s = generate(sit, seed);
        if std::env::var("CSV").is_ok() {
            let mut rates = s.traffic.iter().peekable();
            let mut rate = 0.0;
            for x in &s.samples {
                while let Some(r) = rates.next_if(|r| r.ts_ms <= x.ts_ms) {
                    rate = r.value;
                }
                println!("{},{},{rate}", x.ts_ms, x.value);
            }
            continue;
        }
        let v: Vec<f64> = s.samples.iter().map(|x| x.value).collect();
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
        let span_h = (s.samples[s.samples.len() - 1].ts_ms - s.samples[0].ts_ms) as f64 / 3.6e6;
        let step = span_h * 3600.0 / s.samples.len() as f64;
        let rel =
            |t: Option<i64>| t.map(|t| format!("{:.1}h", (t - s.samples[0].ts_ms) as f64 / 3.6e6));
        println!(
            "{name} {seed}: n={} span={span_h:.1}h step~{step:.0}s lo={lo:.3e} hi={hi:.3e} first={:.3e} last={:.3e} limit={:?} leak={:?} stop={:?} reach={:?} share/h={:?} traffic n={} max={:.1}",
            s.samples.len(),
            v[0],
            v[v.len() - 1],
            s.limit.map(|l| format!("{l:.3e}")),
            rel(s.truth.leak_start_ms),
            rel(s.truth.growth_stop_ms),
            rel(s.truth.limit_reached_ms),
            s.share_per_hour.map(|x| format!("{:.3}", x)),
            s.traffic.len(),
            s.traffic.iter().map(|r| r.value).fold(0.0, f64::max),
        );
    }
}
