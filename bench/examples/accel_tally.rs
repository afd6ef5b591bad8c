//! What an accelerating projection gives (docs/design/detector.md section 58), with traffic
//! (`ALONE=1`: the series alone), on the unseen generator's seeds `USEEN` (100..140):
//! - with `urgent_accel_sigmas` above 0 (`SET=urgent_accel_sigmas=0.01` when `SET` is empty;
//!   core feature `probe` tags each judgement's parabola through the rising segment's block
//!   medians): for each leak that reaches its limit, at the half mark, the raw floor's last
//!   tag (the time to the limit at the parabola's curvature less `urgent_accel_sigmas`
//!   standard errors, over the rise's age, and the curvature in standard errors) and whether
//!   the alert fired by then; for `sigmoid_warmup` and `exp_warmup` the smallest such time
//!   over age among judgements whose curvature stands 2 and 3 standard errors out;
//! - per leak shape, the reported `time_to_limit_secs` at the first firing over the true time
//!   left (`SET=ttl_accel_sigmas=0` for the straight projection alone; the urgency is then
//!   off and the tags are not made, so the second column repeats the first).
//!
//! `cargo run --release -p leaksense-bench --features probe --example accel_tally`.
use leaksense_bench::held::update_tagged;
use leaksense_bench::{fed_rates, overrides_from_env, parse_seeds, unseen, unseen_config};
use leaksense_core::detect::{AlertState, Detector, probe};

/// The raw judgement's accel tags among one update's `tags`: (time over age, curvature in ses).
fn accel(tags: &[String]) -> Vec<(f64, f64)> {
    tags.iter()
        .filter_map(|t| {
            let mut w = t.strip_prefix("raw:accel ")?.split(' ');
            Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
        })
        .collect()
}

fn main() {
    let useeds = parse_seeds(&std::env::var("USEEN").unwrap_or("100..140".into())).unwrap();
    let alone = std::env::var_os("ALONE").is_some();
    let mut over = overrides_from_env();
    if over.is_empty() {
        over = vec![("urgent_accel_sigmas".into(), serde_json::json!(0.01))];
    }
    probe::enable();
    let mut ttl: std::collections::BTreeMap<&str, Vec<(f64, f64)>> = Default::default();
    for shape in unseen::Shape::ALL {
        let healthy = matches!(
            shape,
            unseen::Shape::SigmoidWarmup | unseen::Shape::ExpWarmup
        );
        if !healthy && !shape.leaks() {
            continue;
        }
        for seed in useeds.0..useeds.1 {
            let s = unseen::generate(shape, seed);
            let cfg = unseen_config(&s, &over);
            let mut d = Detector::new(cfg).unwrap();
            let half = match (s.truth.leak_start_ms, s.truth.limit_reached_ms) {
                (Some(l), Some(o)) => Some(l + (o - l) / 2),
                _ if healthy => None,
                _ => continue,
            };
            let mut rates = fed_rates(&s.traffic, !alone);
            let (mut last, mut at_half, mut fired) = (None, None, None);
            let mut analysed = Vec::new();
            let (mut min2, mut min3) = (f64::INFINITY, f64::INFINITY);
            for p in &s.samples {
                let (_, mut tags) = update_tagged(&mut d, &mut rates, *p);
                // The first firing's analysis's tags count first among the next update's.
                tags.splice(0..0, analysed.drain(..));
                for (t, z) in accel(&tags) {
                    last = Some((t, z));
                    if z >= 2.0 {
                        min2 = min2.min(t);
                    }
                    if z >= 3.0 {
                        min3 = min3.min(t);
                    }
                }
                if fired.is_none() && d.state() == AlertState::Firing {
                    fired = Some(p.ts_ms);
                    let a = d.analysis();
                    analysed = probe::take();
                    if let (Some(o), Some(g), Some(lin)) = (
                        s.truth.limit_reached_ms,
                        a.growth_start_ms,
                        a.time_to_limit_secs,
                    ) && o > p.ts_ms
                    {
                        let left = (o - p.ts_ms) as f64 / 1000.0;
                        let age = (p.ts_ms - g) as f64 / 1000.0;
                        let acc = match last {
                            Some((t, z)) if z >= 2.0 && t.is_finite() => (t * age).min(lin),
                            _ => lin,
                        };
                        ttl.entry(shape.name())
                            .or_default()
                            .push((lin / left, acc / left));
                    }
                }
                if let Some(h) = half
                    && at_half.is_none()
                    && p.ts_ms >= h
                {
                    at_half = Some((last, fired.is_some_and(|f| f <= h)));
                }
            }
            if healthy {
                println!(
                    "{} {seed}: fired {}, min time/age at 2 se {min2:.2}, at 3 se {min3:.2}",
                    shape.name(),
                    fired.is_some()
                );
            } else if let Some((last, ok)) = at_half {
                println!(
                    "{} {seed}: by half {ok}, at half {}",
                    shape.name(),
                    last.map_or("-".into(), |(t, z)| format!(
                        "time/age {t:.2} curv {z:.1} se"
                    ))
                );
            }
        }
    }
    // The time to the limit at the first firing over the true time left: the reported
    // (linear) one, and the parabola's where its curvature stands 2 standard errors out.
    for (name, v) in &mut ttl {
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let mut lin: Vec<f64> = v.iter().map(|x| x.0).collect();
        let mut acc: Vec<f64> = v.iter().map(|x| x.1).collect();
        let within = |v: &[f64]| v.iter().filter(|&&r| (0.5..=2.0).contains(&r)).count();
        println!(
            "{name}: ttl at first firing over the true time left, {} leaks: linear median {:.2} \
             (within 0.5-2: {}), accelerating at 2 se median {:.2} (within: {}), shorter than \
             the truth: {} / {}",
            v.len(),
            med(&mut lin),
            within(&lin),
            med(&mut acc),
            within(&acc),
            lin.iter().filter(|&&r| r < 1.0).count(),
            acc.iter().filter(|&&r| r < 1.0).count(),
        );
    }
}
