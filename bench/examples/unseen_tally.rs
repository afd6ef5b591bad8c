//! What holds the unseen generator's leaks back with traffic (docs/design/detector.md section 48):
//! for each leak shape of seeds 100..140 that the traffic column alerts at least 1 h after the
//! series alone, the hours, from the series alone's first firing to the traffic column's, by
//! the analysis's `not_a_leak_because` (or pending), sampled every 5 min. `unseen_tally SHAPE
//! SEED` prints one series' events with traffic and its floor with loads (`EVERY=1`: the state
//! and reason every 30 min). `SET=key=value,...` overrides options; `VERBOSE=1` lists series.
use leaksense_bench::unseen::{Shape, generate};
use leaksense_bench::{fed_rates, feed_traffic};
use leaksense_core::detect::{AlertState, Detector};
use std::collections::BTreeMap;

fn first_firing(
    s: &leaksense_bench::unseen::Series,
    traffic: bool,
    start: i64,
    tally: Option<&mut BTreeMap<String, f64>>,
) -> Option<i64> {
    let mut d = Detector::new(leaksense_bench::unseen_config(
        s,
        &leaksense_bench::overrides_from_env(),
    ))
    .unwrap();
    let mut rates = fed_rates(&s.traffic, traffic);
    let mut last_probe = 0i64;
    let mut tally = tally;
    let end = s.truth.growth_stop_ms.unwrap_or(i64::MAX);
    for smp in &s.samples {
        feed_traffic(&mut d, &mut rates, smp.ts_ms);
        d.update(*smp).unwrap();
        if smp.ts_ms >= start && d.state() == AlertState::Firing {
            return Some(smp.ts_ms);
        }
        if smp.ts_ms >= start && smp.ts_ms < end && smp.ts_ms.saturating_sub(last_probe) >= 300_000
        {
            last_probe = smp.ts_ms;
            if let Some(t) = tally.as_deref_mut() {
                let a = d.analysis();
                let key = match (d.state(), a.not_a_leak_because) {
                    (AlertState::Pending, _) => "pending".to_string(),
                    (_, Some(r)) => format!("{r:?}"),
                    (_, None) => {
                        if a.growth_start_ms.is_some() {
                            "none(rise)".into()
                        } else {
                            "no_rise".into()
                        }
                    }
                };
                *t.entry(key).or_default() += 300.0 / 3600.0;
            }
        }
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() > 2 {
        let shape = Shape::ALL
            .into_iter()
            .find(|x| x.name() == args[1])
            .unwrap();
        trace(shape, args[2].parse().unwrap());
        return;
    }
    let shapes = [
        Shape::LinearLeak,
        Shape::RampLeak,
        Shape::CountBurstLeak,
        Shape::StoppingLeak,
        Shape::AcceleratingLeak,
        Shape::ChunkLeak,
    ];
    let verbose = std::env::var_os("VERBOSE").is_some();
    for shape in shapes {
        let mut tally: BTreeMap<String, f64> = BTreeMap::new();
        let mut n = 0;
        for seed in 100..140 {
            let s = generate(shape, seed);
            let Some(start) = s.truth.leak_start_ms else {
                continue;
            };
            let alone = first_firing(&s, false, start, None);
            let Some(alone_at) = alone else { continue };
            let mut t: BTreeMap<String, f64> = BTreeMap::new();
            let with = first_firing(&s, true, alone_at.max(start), Some(&mut t));
            let late = with.map_or(f64::INFINITY, |w| (w - alone_at) as f64 / 3.6e6);
            if late < 1.0 {
                continue;
            }
            n += 1;
            if verbose {
                println!(
                    "{} {seed}: alone {:.2} h, traffic {:?} h, start {:.2} h: {:?}",
                    shape.name(),
                    (alone_at - s.samples[0].ts_ms) as f64 / 3.6e6,
                    with.map(|w| (w - s.samples[0].ts_ms) as f64 / 3.6e6),
                    (start - s.samples[0].ts_ms) as f64 / 3.6e6,
                    t
                );
            }
            for (k, v) in t {
                *tally.entry(k).or_default() += v;
            }
        }
        println!(
            "{} ({n} series ≥1 h later with traffic): {:?}",
            shape.name(),
            tally
                .iter()
                .map(|(k, v)| format!("{k} {v:.1}"))
                .collect::<Vec<_>>()
        );
    }
}

/// `unseen_tally SHAPE SEED`: events with traffic, then floor points with loads.
pub fn trace(shape: Shape, seed: u64) {
    let s = generate(shape, seed);
    let t0 = s.samples[0].ts_ms;
    let h = |t: i64| (t - t0) as f64 / 3.6e6;
    println!(
        "limit {:?} truth {:?}",
        s.limit,
        s.truth.leak_start_ms.map(h)
    );
    let overrides: Vec<_> = std::env::var("SET")
        .unwrap_or_default()
        .split(',')
        .filter(|kv| !kv.is_empty())
        .map(|kv| leaksense_bench::parse_set(kv).unwrap())
        .collect();
    let cfg = leaksense_bench::unseen_config(&s, &overrides);
    let mut d = Detector::new(cfg).unwrap();
    let mut rates = s.traffic.iter().peekable();
    let mut last = 0i64;
    for smp in &s.samples {
        feed_traffic(&mut d, &mut rates, smp.ts_ms);
        let ev = d.update(*smp).unwrap();
        if std::env::var_os("EVERY").is_some() && smp.ts_ms.saturating_sub(last) >= 1_800_000 {
            last = smp.ts_ms;
            let a = d.analysis();
            let fl = d.floor().last().map(|p| p.value);
            let ld = s
                .traffic
                .iter()
                .rev()
                .find(|r| r.ts_ms <= smp.ts_ms)
                .map(|r| r.value);
            println!(
                "  {:.2} floor {:?} load {:.1} {:?} start {:?} because {:?}",
                h(smp.ts_ms),
                fl.map(|v| (v * 1000.0).round() / 1000.0),
                ld.unwrap_or(f64::NAN),
                d.state(),
                a.growth_start_ms
                    .map(h)
                    .map(|x| (x * 100.0).round() / 100.0),
                a.not_a_leak_because
            );
        }
        if let Some(e) = ev {
            let a = d.analysis();
            println!(
                "{:.2} h {:?} -> {:?}: start {:?} rate_low {:?} floor {:?}",
                h(e.ts_ms),
                e.from,
                e.to,
                a.growth_start_ms.map(h),
                a.rate_low,
                a.baseline
            );
        }
    }
    let mut t = s.traffic.iter().peekable();
    for (i, p) in d.floor().iter().enumerate() {
        let mut load = f64::NAN;
        while let Some(r) = t.next_if(|r| r.ts_ms <= p.ts_ms) {
            load = r.value;
        }
        if i % 3 == 0 {
            println!("{:.2} {:.4e} {:.1}", h(p.ts_ms), p.value, load);
        }
    }
}
