//! Which traffic rule holds a leak that the series alone already alerts on, and under what
//! load (docs/design/detector.md section 63): `cargo run --release -p leaksense-bench
//! --features probe --example gap_tally -- 0..50` (quality seeds). For every leak that the
//! series alone alerts on before the traffic column (first firing after the leak start), the
//! minutes from the series alone's first pending (its condition first met) to the traffic
//! column's first firing (or the growth's stop,
//! or the end), by the traffic column's `not_a_leak_because` at each bucket close, refined by
//! the detector's diagnostic tags (core feature `probe`) of the judgement on the usable floor:
//! the load veto's branch (`record`: beyond the linear response at record loads; `iso`: the
//! isotonic fits; `reuse`/`lately`: a reused verdict) and the warm-up test's holder
//! (`traffic`: the deceleration test only the traffic column applies after a flat baseline;
//! `bound`: `warmup_bound`; `shape`: the tests the series alone applies too), and by the
//! load's state then (30-min means: `record` at a new high, else `rising` / `falling` by 5 %
//! of the range seen so far, else `level`). `V=1` lists each leak; `SET=field=value,...`
//! overrides options; `ALL=1` keeps leaks under 5 %/h; `HOLD=1` prints, per column, the hold
//! from the first pending to the first firing and how often a pending alert fell back to
//! inactive, by reason. `ONLY=count_leak_stops,count_burst_leak` restricts it to those
//! situations or unseen shapes, `LATE=60` to the leaks alerted at least that many minutes
//! later with traffic; a second argument (`100..140`) adds the unseen generator's
//! leaks of those seeds (docs/design/detector.md section 70). It also counts the traffic
//! column's reason at the bucket close where the series alone first fires (`pending`: its own
//! hold begun later; per situation with `AT=1`, per leak in `V=1`; section 76). A diagnostic
//! for tuning on training seeds.

use leaksense_bench::held::update_tagged;
use leaksense_bench::unseen::{self, Shape};
use leaksense_bench::{config, fed_rates, overrides_from_env, par_map, parse_seeds};
use leaksense_core::Sample;
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, probe};
use std::collections::BTreeMap;

struct Leak {
    name: &'static str,
    /// One of the first nineteen quality situations.
    legacy: bool,
    seed: u64,
    cfg: DetectorConfig,
    samples: Vec<Sample>,
    traffic: Vec<Sample>,
    start_ms: i64,
    stop_ms: Option<i64>,
}

/// The first firing at or after `from` (ms), and with `tally`, the minutes per category and
/// load state from `from` on at each bucket close.
fn first_firing(
    l: &Leak,
    traffic: bool,
    from: i64,
    pending_only: bool,
    mut tally: Option<&mut BTreeMap<(String, &'static str), f64>>,
    at: Option<(i64, &mut Option<String>)>,
) -> Option<i64> {
    let (at_ms, mut at_key) = match at {
        Some((t, k)) => (t, Some(k)),
        None => (i64::MAX, None),
    };
    probe::enable();
    let mut d = Detector::new(l.cfg.clone()).expect("valid config");
    let mut rates = fed_rates(&l.traffic, traffic);
    // The load, in either column.
    let mut load = l.traffic.iter().peekable();
    let t0 = l.samples[0].ts_ms;
    let bucket_ms = (l.cfg.bucket_secs * 1000.0) as i64;
    let mut bucket = 0;
    // 5-min means of the load, for its state.
    let mut means: Vec<f64> = Vec::new();
    let (mut sum, mut cnt) = (0.0, 0.0);
    let end = l.stop_ms.unwrap_or(i64::MAX);
    for s in &l.samples {
        while let Some(x) = load.next_if(|x| x.ts_ms <= s.ts_ms) {
            sum += x.value;
            cnt += 1.0;
        }
        update_tagged(&mut d, &mut rates, *s);
        let closed = (s.ts_ms - t0) / bucket_ms != bucket;
        bucket = (s.ts_ms - t0) / bucket_ms;
        if closed && cnt > 0.0 {
            means.push(sum / cnt);
            (sum, cnt) = (0.0, 0.0);
        }
        if s.ts_ms >= from && d.state() == AlertState::Firing {
            return Some(s.ts_ms);
        }
        if pending_only && s.ts_ms >= from && d.state() == AlertState::Pending {
            return Some(s.ts_ms);
        }
        let Some(t) = tally.as_deref_mut() else {
            continue;
        };
        if !closed || s.ts_ms < from || s.ts_ms >= end {
            continue;
        }
        let a = d.analysis();
        // The tags of the analysis's judgement.
        let tags: Vec<String> = probe::take()
            .into_iter()
            .filter(|t| t.starts_with("raw:"))
            .collect();
        let has = |p: &str| tags.iter().rev().find(|t| t.starts_with(p)).cloned();
        use leaksense_core::detect::NoLeakReason as R;
        let key = match (d.state(), a.not_a_leak_because) {
            (AlertState::Pending, _) => "pending".to_string(),
            (_, Some(R::ExplainedByLoad)) => {
                let v = has("raw:veto").unwrap_or_default();
                let kind = v.split(' ').nth(1).unwrap_or("?");
                // At record loads, the linear response fitted before the growth: not above
                // zero at its lower bound (`noresp`) or above, and the load's span before the
                // growth over its rise since.
                let rec = has("raw:rec ").map(|r| {
                    let f: Vec<f64> = r
                        .split(' ')
                        .skip(1)
                        .filter_map(|x| x.parse().ok())
                        .collect();
                    let span = match f.get(1).copied().unwrap_or(f64::NAN) {
                        x if x < 0.25 => "span<0.25",
                        x if x < 0.5 => "span<0.5",
                        x if x < 1.0 => "span<1",
                        x if x >= 1.0 => "span>=1",
                        _ => "span?",
                    };
                    let resp = if f.first().is_some_and(|&z| z > 0.0) {
                        "resp"
                    } else {
                        "noresp"
                    };
                    format!(" {resp} {span}")
                });
                format!("load {kind}{}", rec.unwrap_or_default())
            }
            (_, Some(R::WarmUp)) => {
                let v = has("raw:wu").unwrap_or_default();
                format!("warmup {}", v.split(' ').nth(1).unwrap_or("?"))
            }
            (_, Some(r)) => format!("{r:?}"),
            (_, None) => "none".into(),
        };
        if s.ts_ms >= at_ms
            && let Some(k) = at_key.as_deref_mut()
            && k.is_none()
        {
            *k = Some(key.clone());
        }
        *t.entry((key, load_state(&means))).or_default() += l.cfg.bucket_secs / 60.0;
    }
    None
}

/// The hold (`HOLD=1`): the first pending at or after the leak start, the first firing, and
/// how often the alert fell back from pending to inactive in between, with the traffic
/// column's reason then.
fn hold(
    l: &Leak,
    traffic: bool,
    why: &mut BTreeMap<String, usize>,
) -> (Option<i64>, Option<i64>, usize) {
    let mut d = Detector::new(l.cfg.clone()).expect("valid config");
    let mut rates = fed_rates(&l.traffic, traffic);
    let (mut pending, mut resets, mut prev) = (None, 0, AlertState::Inactive);
    for s in &l.samples {
        update_tagged(&mut d, &mut rates, *s);
        let st = d.state();
        if s.ts_ms >= l.start_ms {
            match st {
                AlertState::Firing => return (pending.or(Some(s.ts_ms)), Some(s.ts_ms), resets),
                AlertState::Pending => {
                    pending.get_or_insert(s.ts_ms);
                }
                AlertState::Inactive if prev == AlertState::Pending && pending.is_some() => {
                    resets += 1;
                    let r = d.analysis().not_a_leak_because;
                    *why.entry(format!("{r:?}")).or_default() += 1;
                }
                _ => {}
            }
        }
        prev = st;
    }
    (pending, None, resets)
}

/// The load's state from its 5-min means: at a new high (30-min mean above every earlier one),
/// rising, falling (30-min mean against the half hour before, by 5 % of the range so far), or
/// level.
fn load_state(means: &[f64]) -> &'static str {
    const W: usize = 6;
    let n = means.len();
    if n < 2 * W {
        return "start";
    }
    let m = |i: usize| means[i + 1 - W..=i].iter().sum::<f64>() / W as f64;
    let now = m(n - 1);
    let prev = m(n - 1 - W);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in W - 1..n - 1 {
        lo = lo.min(m(i));
        hi = hi.max(m(i));
    }
    let range = (hi - lo).max(now - lo);
    if now > hi && now - prev > 0.02 * range {
        "record"
    } else if now - prev > 0.05 * range {
        "rising"
    } else if prev - now > 0.05 * range {
        "falling"
    } else {
        "level"
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let q = args
        .first()
        .and_then(|s| parse_seeds(s))
        .expect("usage: gap_tally A..B");
    let overrides = overrides_from_env();
    let all = std::env::var_os("ALL").is_some();
    let only: Option<Vec<String>> = std::env::var("ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));
    let mut leaks = Vec::new();
    for (i, sit) in Situation::ALL
        .iter()
        .enumerate()
        .filter(|(_, s)| s.leaks() && wanted(s.name()))
    {
        for seed in q.0..q.1 {
            let sc = generate(*sit, seed, 15);
            let (Some(share), Some(start_ms)) = (sc.leak_share_per_hour, sc.leak_start_ms) else {
                continue;
            };
            if share < 0.05 && !all {
                continue;
            }
            leaks.push(Leak {
                name: sit.name(),
                legacy: i < 19,
                seed,
                cfg: config(&sc, &overrides),
                stop_ms: sc.growth_stop_ms,
                samples: sc.samples,
                traffic: sc.traffic,
                start_ms,
            });
        }
    }
    if let Some(u) = args.get(1).and_then(|s| parse_seeds(s)) {
        for shape in Shape::ALL.iter().filter(|s| s.leaks() && wanted(s.name())) {
            for seed in u.0..u.1 {
                let s = unseen::generate(*shape, seed);
                let (Some(share), Some(start_ms)) = (s.share_per_hour, s.truth.leak_start_ms)
                else {
                    continue;
                };
                if share < 0.05 && !all {
                    continue;
                }
                leaks.push(Leak {
                    name: shape.name(),
                    legacy: false,
                    seed,
                    cfg: leaksense_bench::unseen_config(&s, &overrides),
                    stop_ms: s.truth.growth_stop_ms,
                    samples: s.samples,
                    traffic: s.traffic,
                    start_ms,
                });
            }
        }
    }
    if std::env::var_os("HOLD").is_some() {
        let rs: Vec<_> = par_map(&leaks, |l| {
            let (mut wt, mut wa) = (BTreeMap::new(), BTreeMap::new());
            (hold(l, true, &mut wt), hold(l, false, &mut wa), wt, wa)
        });
        for (col, pick) in [("traffic", 0), ("alone", 1)] {
            let mut holds = Vec::new();
            let (mut resets, mut with_reset) = (0, 0);
            let mut why: BTreeMap<String, usize> = BTreeMap::new();
            for r in &rs {
                let (h, w) = if pick == 0 { (r.0, &r.2) } else { (r.1, &r.3) };
                if let (Some(p), Some(f)) = (h.0, h.1) {
                    holds.push((f - p) as f64 / 6e4);
                    resets += h.2;
                    with_reset += usize::from(h.2 > 0);
                }
                for (k, v) in w {
                    *why.entry(k.clone()).or_default() += v;
                }
            }
            holds.sort_by(f64::total_cmp);
            let q = |f: f64| holds[((holds.len() - 1) as f64 * f) as usize];
            println!(
                "{col}: first pending to first firing over {} caught leaks: quartiles {:.0} / {:.0} / {:.0} min; {resets} falls back to inactive in {with_reset} leaks, then: {why:?}",
                holds.len(),
                q(0.25),
                q(0.5),
                q(0.75)
            );
        }
        return;
    }
    type Tally = BTreeMap<(String, &'static str), f64>;
    type Run = (f64, Option<f64>, Tally, Option<String>);
    let runs: Vec<Option<Run>> = par_map(&leaks, |l| {
        let alone = first_firing(l, false, l.start_ms, false, None, None)?;
        // From the series alone's first pending (its condition met) before that firing.
        let alone_pending = first_firing(l, false, l.start_ms, true, None, None)?.min(alone);
        let mut t = Tally::new();
        let mut at_key = None;
        let with = first_firing(
            l,
            true,
            alone_pending,
            false,
            Some(&mut t),
            Some((alone, &mut at_key)),
        );
        Some((
            (alone - l.start_ms) as f64 / 6e4,
            with.map(|w| (w - l.start_ms) as f64 / 6e4),
            t,
            at_key,
        ))
    });
    let verbose = std::env::var_os("V").is_some();
    let min_late: f64 = std::env::var("LATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mut per_sit: BTreeMap<(bool, &str), (usize, f64, Tally)> = BTreeMap::new();
    let mut total = Tally::new();
    let mut at_fire: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut at_all: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for (l, r) in leaks.iter().zip(&runs) {
        let Some((alone, with, t, at_key)) = r else {
            continue;
        };
        // The traffic column's first firing is at or after the series alone's by construction:
        // count the leaks it fires on later (or never).
        let late = with.map_or(f64::INFINITY, |w| w - alone);
        if late <= min_late {
            continue;
        }
        n += 1;
        if verbose {
            let top: Vec<String> = t
                .iter()
                .filter(|(_, v)| **v >= 10.0)
                .map(|((k, s), v)| format!("{k}/{s} {v:.0}"))
                .collect();
            println!(
                "{} {}: alone {alone:.0} min, traffic {:?}, at alone's firing {}: {}",
                l.name,
                l.seed,
                with.map(|w| w.round()),
                at_key.as_deref().unwrap_or("firing or stopped"),
                top.join(", ")
            );
        }
        // The traffic column's reason at the series alone's first firing (`firing` if it fired
        // in the same bucket; the key after the growth's stop is not counted).
        let at = at_key.clone().unwrap_or_else(|| "firing or stopped".into());
        *at_fire
            .entry(l.name)
            .or_default()
            .entry(at.clone())
            .or_default() += 1;
        *at_all.entry(at).or_default() += 1;
        let e = per_sit.entry((!l.legacy, l.name)).or_default();
        e.0 += 1;
        e.1 += late.min(24.0 * 60.0);
        for (k, v) in t {
            *e.2.entry(k.clone()).or_default() += v;
            *total.entry(k.clone()).or_default() += v;
        }
    }
    let show = |t: &Tally| {
        let mut by_key: BTreeMap<&str, f64> = BTreeMap::new();
        for ((k, _), v) in t {
            *by_key.entry(k).or_default() += v;
        }
        let mut v: Vec<(&str, f64)> = by_key.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.iter()
            .map(|(k, m)| format!("{k} {m:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for ((_, name), (k, late, t)) in &per_sit {
        println!(
            "{name} ({k} later, {late:.0} min later in all): {}",
            show(t)
        );
    }
    let mut legacy = Tally::new();
    let mut nl = 0;
    for ((later, _), (k, _, t)) in &per_sit {
        if !later {
            nl += k;
            for (key, v) in t {
                *legacy.entry(key.clone()).or_default() += v;
            }
        }
    }
    println!(
        "first nineteen ({nl} leaks later with traffic): {}",
        show(&legacy)
    );
    println!("all ({n} leaks later with traffic): {}", show(&total));
    // At the series alone's first firing (`AT=1` prints it per situation too).
    let fmt_at = |m: &BTreeMap<String, usize>| {
        let mut v: Vec<(&String, &usize)> = m.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1));
        v.iter()
            .map(|(k, c)| format!("{k} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if std::env::var_os("AT").is_some() {
        for (name, m) in &at_fire {
            println!("at the series alone's firing, {name}: {}", fmt_at(m));
        }
    }
    println!("at the series alone's firing, all: {}", fmt_at(&at_all));
    // By category and load state.
    let mut cats: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for ((k, s), v) in &total {
        *cats.entry(k).or_default().entry(s).or_default() += v;
    }
    for (k, states) in cats {
        let sum: f64 = states.values().sum();
        println!(
            "  {k} {sum:.0} min: {}",
            states
                .iter()
                .map(|(s, v)| format!("{s} {v:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
