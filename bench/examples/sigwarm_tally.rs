//! The unseen generator's warm-ups that alarm (docs/design/detector.md section 56): for each
//! `sigmoid_warmup` / `exp_warmup` seed of 100..140 (`SHAPE=...`, `SEEDS=a..b`) that goes
//! pending with traffic (`ALONE=1`: on the series alone), what the detector and the load see at
//! its first pending and first firing: the time, the warm-up's progress (share of its total
//! rise done, hours since its midpoint for a sigmoid), the analysis's growth start, its rate
//! as %/h of the baseline, the rise since the growth start over the baseline, the time to
//! limit, and the load's mean over the rise's second half over its first half.
//! Also the sigmoid's b (its scale is b/2) and its true rates over the newest two quarters of
//! the detector's segment (growth start to the event), in %/h of the base (section 82).
//! Needs feature `probe`. `SET=key=value,...` overrides options. `TAGS=1` adds the
//! warm-up tests' probe tags of each event's evaluation (with `lo2`, section 89: the load's
//! half rises and whether the floor with the load's part out would hold a rise after a flat
//! baseline); `FLOOR=1` prints, at the first firing,
//! the detector's floor hourly against the true warm-up (floor / base − 1 and the true share).
use leaksense_bench::held::{FirstTransition, first_transitions, tags_with};
use leaksense_bench::unseen::{Shape, generate};
use leaksense_core::detect::{Detector, probe};

fn main() {
    let shape_name = std::env::var("SHAPE").unwrap_or_else(|_| "sigmoid_warmup".into());
    let shape = Shape::ALL
        .into_iter()
        .find(|s| s.name() == shape_name)
        .expect("a shape");
    let seeds = std::env::var("SEEDS").unwrap_or_else(|_| "100..140".into());
    let (a, b) = seeds.split_once("..").expect("a..b");
    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
    let traffic = std::env::var_os("ALONE").is_none();
    let overrides = leaksense_bench::overrides_from_env();
    let tags = std::env::var_os("TAGS").is_some();
    probe::enable();
    println!(
        "| seed | event | h | done | h from mid | growth start h | rate %/h | rise/base | ttl h | load 2nd/1st half | true rate %/h | b h | true 3rd / newest quarter %/h |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for seed in a..b {
        let s = generate(shape, seed);
        let [base, share, pb, pc] = s.plan;
        let amp = share * base;
        let g = |t: f64| match shape {
            Shape::SigmoidWarmup => amp / (1.0 + (-(t - pc - 2.0 * pb) / (pb / 2.0)).exp()),
            _ => amp * (1.0 - (-t / pb).exp()),
        };
        let mid = match shape {
            Shape::SigmoidWarmup => pc + 2.0 * pb,
            _ => 0.0,
        };
        let t0 = s.samples[0].ts_ms;
        let secs = |ts: i64| (ts - t0) as f64 / 1000.0;
        let load_ratio = |from: i64, to: i64| leaksense_bench::load_ratio(&s.traffic, from, to);
        let mut d = Detector::new(leaksense_bench::unseen_config(&s, &overrides)).unwrap();
        first_transitions(&mut d, &s.traffic, traffic, &s.samples, base, |d, tr| {
            let FirstTransition {
                first,
                ts_ms,
                growth_start_ms: gs,
                ..
            } = tr;
            let t = secs(ts_ms);
            let true_rate = (g(t + 60.0) - g(t - 60.0)) / 120.0 * 3600.0 / base * 100.0;
            // The true warm-up's rate over the segment's newest two quarters (section 82).
            let q = (t - secs(gs)) / 4.0;
            let pct = |a: f64, b: f64| (g(b) - g(a)) / q * 3600.0 / base * 100.0;
            let (q3, q4) = (pct(t - 2.0 * q, t - q), pct(t - q, t));
            println!(
                "| {seed} | {first} | {:.2} | {:.2} | {:+.2} | {:.2} | {:.1} | {:.3} | {} | {:.2} | {:.1} | {:.1} | {:.1} / {:.1} |",
                t / 3600.0,
                g(t) / amp,
                (t - mid) / 3600.0,
                secs(gs) / 3600.0,
                tr.rate_pct_per_h,
                tr.rise,
                tr.time_to_limit_secs
                    .map_or("–".into(), |x| format!("{:.1}", x / 3600.0)),
                load_ratio(gs, ts_ms),
                true_rate,
                pb / 3600.0,
                q3,
                q4,
            );
            if std::env::var_os("FLOOR").is_some() && first == "firing" {
                // The floor against the true warm-up, hourly: (h, floor/base − 1, true share).
                let mut next = 0.0;
                let mut row = Vec::new();
                for q in d.floor() {
                    let h = secs(q.ts_ms) / 3600.0;
                    if h >= next {
                        row.push(format!(
                            "{h:.1}:{:.3}/{:.3}",
                            q.value / base - 1.0,
                            g(h * 3600.0) / base
                        ));
                        next = h.floor() + 1.0;
                    }
                }
                println!("    floor {}", row.join(" "));
            }
            if tags {
                let keep = tags_with(&tr.tags, &["shape", "bnd", "wu", "rec", "lo2", "loadout"]);
                println!("    {keep:?}");
            }
        });
    }
}
