//! The unseen generator's `exp_warmup` seeds that fire (docs/design/detector.md section 88):
//! at the first firing, the detector's segment (growth start to the event) split in halves,
//! and for each half the slope of the detector's floor, of the true warm-up and of the load
//! (its mean share of the series' peak load), so that one sees whether the floor's
//! deceleration was hidden by the load or by the floor's noise. `SEEDS=a..b` (100..240),
//! `ALONE=1` on the series alone, `SET=key=value,...` overrides options. Needs feature `probe`.
use leaksense_bench::held::first_transitions;
use leaksense_bench::unseen::{Shape, generate};
use leaksense_core::detect::{Detector, probe};

/// Least-squares slope of `(t, v)` points, per hour.
fn slope(pts: &[(f64, f64)]) -> f64 {
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return f64::NAN;
    }
    let (tm, vm) = pts
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
    let (num, den) = pts.iter().fold((0.0, 0.0), |(a, b), p| {
        (a + (p.0 - tm) * (p.1 - vm), b + (p.0 - tm) * (p.0 - tm))
    });
    num / den * 3600.0
}

fn main() {
    let seeds = std::env::var("SEEDS").unwrap_or_else(|_| "100..240".into());
    let (a, b) = leaksense_bench::parse_seeds(&seeds).expect("a..b");
    let traffic = std::env::var_os("ALONE").is_none();
    let overrides = leaksense_bench::overrides_from_env();
    probe::enable();
    println!(
        "| seed | h | done | b h | a | step s | gs h | floor 1st / 2nd half %/h | true 1st / 2nd %/h | floor ratio | true ratio | load 1st / 2nd | hinge | `warmup_load_out`'s tags (its load response × mean load / baseline) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for seed in a..b {
        let s = generate(Shape::ExpWarmup, seed);
        let [base, share, pb, _] = s.plan;
        let amp = share * base;
        let g = |t: f64| amp * (1.0 - (-t / pb).exp());
        let t0 = s.samples[0].ts_ms;
        let secs = |ts: i64| (ts - t0) as f64 / 1000.0;
        let step = (secs(s.samples[s.samples.len() - 1].ts_ms)) / s.samples.len() as f64;
        let peak = s.traffic.iter().map(|r| r.value).fold(0.0, f64::max);
        let mut d = Detector::new(leaksense_bench::unseen_config(&s, &overrides)).unwrap();
        first_transitions(&mut d, &s.traffic, traffic, &s.samples, base, |d, tr| {
            let (first, ts_ms, gs, tags) = (tr.first, tr.ts_ms, tr.growth_start_ms, &tr.tags);
            // The shape test's hinge (0: no flat baseline before the rise) and whether the
            // load-out deceleration test ran and held the rise (`wu loadout`).
            let hinge = tags
                .iter()
                .find_map(|t| t.split("hinge ").nth(1))
                .and_then(|r| r.split(' ').next())
                .unwrap_or("?")
                .to_string();
            let loadout = tags
                .iter()
                .filter(|t| t.contains("loadout"))
                .cloned()
                .collect::<Vec<_>>()
                .join(" ");
            if first != "firing" {
                return;
            }
            let (t, g0) = (secs(ts_ms), secs(gs));
            let mid = (t + g0) / 2.0;
            let floor: Vec<(f64, f64)> = d
                .floor()
                .iter()
                .map(|q| (secs(q.ts_ms), q.value))
                .filter(|q| q.0 >= g0 && q.0 <= t)
                .collect();
            let half = |lo: f64, hi: f64, v: &[(f64, f64)]| {
                let p: Vec<(f64, f64)> = v
                    .iter()
                    .copied()
                    .filter(|q| q.0 >= lo && q.0 < hi)
                    .collect();
                slope(&p) / base * 100.0
            };
            let (f1, f2) = (half(g0, mid, &floor), half(mid, t + 1.0, &floor));
            let tr1 = (g(mid) - g(g0)) / (mid - g0) * 3600.0 / base * 100.0;
            let tr2 = (g(t) - g(mid)) / (t - mid) * 3600.0 / base * 100.0;
            let lmean = |lo: f64, hi: f64| {
                let v: Vec<f64> = s
                    .traffic
                    .iter()
                    .filter(|r| secs(r.ts_ms) >= lo && secs(r.ts_ms) < hi)
                    .map(|r| r.value / peak)
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            println!(
                "| {seed} | {:.2} | {:.2} | {:.1} | {:.2} | {:.0} | {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} | {:.2} | {:.2} / {:.2} | {} | {} |",
                t / 3600.0,
                g(t) / amp,
                pb / 3600.0,
                share,
                step,
                g0 / 3600.0,
                f1,
                f2,
                tr1,
                tr2,
                f2 / f1,
                tr2 / tr1,
                lmean(g0, mid),
                lmean(mid, t),
                hinge,
                loadout,
            );
            if std::env::var_os("FLOOR").is_some() {
                // Every 20 min from the growth start: floor / base − 1, the true warm-up's
                // share and the load's share of its peak.
                let mut next = g0;
                let mut row = Vec::new();
                for q in d.floor() {
                    let h = secs(q.ts_ms);
                    if h >= next && h <= t {
                        row.push(format!(
                            "{:.2}:{:.3}/{:.3}/{:.2}",
                            h / 3600.0,
                            q.value / base - 1.0,
                            g(h) / base,
                            lmean(h - 600.0, h + 600.0)
                        ));
                        next = h + 1200.0;
                    }
                }
                println!("    {}", row.join(" "));
            }
        });
    }
}
