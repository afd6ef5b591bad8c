//! The floor of one series with traffic at its first firing (`refill_floor SEED [NAME]`: an
//! unseen shape, `deploy_refill` by default, or a quality situation at 15-s steps; `AT=HOURS`
//! at the first evaluation from then instead): the unmasked judgement's tags there, then
//! every floor point's hour, value and the mean request rate of the 5 min before it, with the
//! unseen plan's deploy (`c`) and refill end (`c + b`). `FALLS=1` prints instead where
//! `unmask_refill_fall` found a refill (`refill from`: the index the unmasking starts at, None
//! while it is skipped). `SET=field=value,...` overrides options. A diagnostic for tuning on
//! training seeds (design section 87).

use leaksense_bench::unseen::{Shape, generate};
use leaksense_bench::{config, fed_rates, feed_traffic, overrides_from_env, unseen_config};
use leaksense_core::detect::scenarios::{self, Situation};
use leaksense_core::detect::{AlertState, Detector, probe};

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("usage: refill_floor SEED");
    let name = std::env::args().nth(2).unwrap_or_default();
    let shape = Shape::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .unwrap_or(Shape::DeployRefill);
    let mut s = generate(shape, seed);
    let sit = Situation::from_name(&name);
    let mut cfg = unseen_config(&s, &overrides_from_env());
    if let Some(sit) = sit {
        let sc = scenarios::generate(sit, seed, 15);
        cfg = config(&sc, &overrides_from_env());
        (s.samples, s.traffic) = (sc.samples, sc.traffic);
    }
    let falls = std::env::var_os("FALLS").is_some();
    let t0 = s.samples.first().map_or(0, |p| p.ts_ms);
    let h = |ts: i64| (ts - t0) as f64 / 3.6e6;
    let mut d = Detector::new(cfg).expect("valid");
    let mut rates = fed_rates(&s.traffic, true);
    probe::enable();
    println!(
        "c {:.2} c+b {:.2}",
        s.plan[3] / 3600.0,
        (s.plan[3] + s.plan[2]) / 3600.0
    );
    println!("leak start {:?}", s.truth.leak_start_ms.map(h));
    for p in &s.samples {
        feed_traffic(&mut d, &mut rates, p.ts_ms);
        d.update(*p).expect("valid");
        let tags = probe::take();
        if falls {
            for t in tags.iter().filter(|t| t.contains("refill")) {
                println!("{:.2} {t}", h(p.ts_ms));
            }
            continue;
        }
        let at: Option<f64> = std::env::var("AT").ok().and_then(|x| x.parse().ok());
        if at.map_or(d.state() == AlertState::Firing, |at| h(p.ts_ms) >= at) {
            println!("firing at {:.2} h", h(p.ts_ms));
            for t in tags
                .iter()
                .filter(|t| t.contains("refill") || t.contains("FOUND"))
            {
                println!("{t}");
            }
            for f in d.floor() {
                let v: Vec<f64> = s
                    .traffic
                    .iter()
                    .filter(|r| r.ts_ms > f.ts_ms - 300_000 && r.ts_ms <= f.ts_ms)
                    .map(|r| r.value)
                    .collect();
                let load = v.iter().sum::<f64>() / v.len().max(1) as f64;
                println!("{:.2} {:.0} {:.1}", h(f.ts_ms), f.value, load);
            }
            return;
        }
    }
}
