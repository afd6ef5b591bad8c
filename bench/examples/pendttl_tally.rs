//! The projected time to the limit when an alert goes pending (docs/design/detector.md
//! section 81, `urgent_hold_ttl_share`): for each named quality situation and unseen shape
//! (`ONLY=cache_warmup,sparse_healthy,...`; default the healthy ones the section checks and the
//! short leaks), seeds `SEEDS=A..B` (quality, default 0..250) and `USEEN=A..B` (unseen, default
//! 100..240), with traffic (`ALONE=1`: the series alone), every inactive -> pending change:
//! whether the rise is urgent there (the time to the limit at the rate's lower bound over the
//! rise's age, at most `urgent_ttl_ratio`), that time to the limit in hours, and whether the
//! spell fired. Leak series count only spells begun after the leak's start. Prints per
//! situation the spells, the urgent ones, how many of those fired, and the urgent spells' times
//! to the limit (min / median / max, h). `SET=field=value,...` overrides options.
use leaksense_bench::quality::Truth;
use leaksense_bench::{feed_traffic, overrides_from_env, parse_seeds, unseen, with_overrides};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig};
use leaksense_core::series::Sample;

#[derive(Default)]
struct Tally {
    spells: usize,
    urgent: usize,
    urgent_fired: usize,
    ttl_h: Vec<f64>,
}

fn run(
    cfg: DetectorConfig,
    samples: &[Sample],
    traffic: Option<&[Sample]>,
    from_ms: i64,
    t: &mut Tally,
) {
    let limit = cfg.limit;
    let ratio = cfg.urgent_ttl_ratio;
    let mut d = Detector::new(cfg).unwrap();
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    let mut open: Option<bool> = None;
    for s in samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        let Some(e) = d.update(*s).unwrap() else {
            continue;
        };
        if e.to == AlertState::Firing && open == Some(true) {
            t.urgent_fired += 1;
        }
        if e.to != AlertState::Pending {
            open = None;
            continue;
        }
        if s.ts_ms < from_ms {
            continue;
        }
        let a = d.analysis();
        t.spells += 1;
        let urgent = match (a.growth_start_ms, a.rate_low, a.baseline, limit) {
            (Some(g), Some(lo), Some(b), Some(lim)) if lo > 0.0 => {
                let ttl = (lim - b).max(0.0) / lo;
                let age = (s.ts_ms - g) as f64 / 1000.0;
                (ttl <= ratio * age).then_some(ttl / 3600.0)
            }
            _ => None,
        };
        if let Some(h) = urgent {
            t.urgent += 1;
            t.ttl_h.push(h);
        }
        open = Some(urgent.is_some());
    }
}

fn print(name: &str, t: &mut Tally) {
    t.ttl_h.sort_by(f64::total_cmp);
    let q = |f: f64| t.ttl_h.get(((t.ttl_h.len() as f64 - 1.0) * f) as usize);
    let fmt = |v: Option<&f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    println!(
        "| {name} | {} | {} | {} | {} / {} / {} |",
        t.spells,
        t.urgent,
        t.urgent_fired,
        fmt(q(0.0)),
        fmt(q(0.5)),
        fmt(q(1.0))
    );
}

fn main() {
    let seeds = parse_seeds(&std::env::var("SEEDS").unwrap_or("0..250".into())).unwrap();
    let useeds = parse_seeds(&std::env::var("USEEN").unwrap_or("100..240".into())).unwrap();
    let alone = std::env::var_os("ALONE").is_some();
    let only: Vec<String> = std::env::var("ONLY")
        .unwrap_or("cache_warmup,sparse_healthy,minute_healthy,gappy_healthy,slow_gc,v8_slow_gc,step,fast_leak,request_leak,gappy_leak,swing_leak_2d,sigmoid_warmup,exp_warmup,linear_leak".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    println!(
        "| situation | pending spells | urgent | urgent that fired | urgent ttl h min / median / max |"
    );
    println!("|---|---|---|---|---|");
    for sit in Situation::ALL {
        if !only.iter().any(|n| n == sit.name()) {
            continue;
        }
        let mut t = Tally::default();
        for seed in seeds.0..seeds.1 {
            let sc = generate(sit, seed, 15);
            let from = Truth::from(&sc).leak_start_ms.unwrap_or(i64::MIN);
            let tr = (!alone).then_some(&sc.traffic[..]);
            let cfg = with_overrides(
                DetectorConfig {
                    limit: sc.limit,
                    ..DetectorConfig::for_kind(sc.kind)
                },
                &overrides_from_env(),
            );
            run(cfg, &sc.samples, tr, from, &mut t);
        }
        print(sit.name(), &mut t);
    }
    for shape in unseen::Shape::ALL {
        if !only.iter().any(|n| n == shape.name()) {
            continue;
        }
        let mut t = Tally::default();
        for seed in useeds.0..useeds.1 {
            let s = unseen::generate(shape, seed);
            let from = s.truth.leak_start_ms.unwrap_or(i64::MIN);
            let tr = (!alone).then_some(&s.traffic[..]);
            let cfg = leaksense_bench::unseen_config(&s, &overrides_from_env());
            run(cfg, &s.samples, tr, from, &mut t);
        }
        print(shape.name(), &mut t);
    }
}
