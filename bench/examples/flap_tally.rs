//! Alerts that resolve while the leak still grows (the benches' "resolved while still growing"):
//! `cargo run --release -p leaksense-bench --features probe --example flap_tally -- quality
//! A..B` (every leaking quality situation) or `-- unseen A..B` (every leaking unseen shape).
//! For each column (with traffic, series alone) it replays the series with the detector's
//! diagnostic tags on (core feature `probe`) and, at each resolution of an alert after the
//! leak was first caught and before its growth-stop label, prints what resolved it: `restart`
//! (the floor reset), `loadout` (`stop_load_out`: the raw floor still rose), `plateau` (the
//! plateau test found a knee), `thirds` (the newest third's rate, no knee), `hinge_short` /
//! `hinge_small` (the hinge fit's newest rising segment shorter than `min_growth_secs`, or its
//! least-squares rate below the practical bar: the cheap gate), `gate` (the
//! segment's rate's lower bound not above 0), `tooshort`, or the analysis' reason; which
//! judgement held the alert at the evaluation before (`raw`, `unmasked`, `yesterday`,
//! `day_hold`); the hours since the leak began and since the alert began firing; the floor's
//! rise over the last hour and the last 2 h as shares of its rise over the 2 h before those;
//! with traffic, the mean load over the plateau's flat part over that over its rise; and how
//! long until it fired again (or `never`). The summary adds the hours the alerts stayed off
//! while the leaks grew (until they fired again, the growth stopped or the series ended).
//! `PREV=FILE` (the timelines of `scripts/detector-previous.sh`) adds whether the previous
//! detector was firing then, and whether it resolved that leak while it grew at all. `V=1`
//! lists each flap; `SET=...` overrides options. A diagnostic for tuning on training seeds (design section 59).

use leaksense_bench::held::{holder, update_tagged};
use leaksense_bench::unseen::{Shape, generate as ugen};
use leaksense_bench::{config, overrides_from_env, unseen_config};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, probe};
use leaksense_core::series::Sample;
use std::collections::{BTreeMap, HashMap};

const H: i64 = 3_600_000;

/// What resolved the alert at this evaluation, from its tags.
fn cause(tags: &[String], restarted: bool, reason: Option<String>) -> String {
    if restarted {
        return "restart".into();
    }
    if tags.iter().any(|t| t == "raw:COND") {
        return "loadout".into();
    }
    let raw: Vec<&str> = tags.iter().filter_map(|t| t.strip_prefix("raw:")).collect();
    if let Some(c) = raw.iter().find(|r| r.starts_with("cheap")) {
        return format!("hinge_{}", c.split(' ').nth(1).unwrap_or(""));
    }
    if raw.contains(&"nohinge") {
        return "nohinge".into();
    }
    if let Some(k) = raw.iter().find(|r| r.starts_with("knee")) {
        let mut w = k.split(' ').skip(1);
        let (rise, flat) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
        return format!("plateau rise {rise} flat {flat} min");
    }
    if raw.contains(&"norate") {
        return "norate".into();
    }
    if raw.contains(&"gate") {
        return "gate".into();
    }
    if raw.contains(&"tooshort") {
        return "tooshort".into();
    }
    // The thirds (the newest third's rate) resolve it; the plateau test's holder says why
    // the knee did not.
    let holder = raw.iter().find(|r| {
        ["noknee", "fewflat", "noise", "loadhides"].contains(*r)
            || r.starts_with("short_")
            || r.starts_with("bound")
    });
    if raw.contains(&"thirds")
        && let Some(h) = holder
    {
        return format!("thirds({})", h.split(' ').next().unwrap_or(""));
    }
    format!("reason:{}", reason.unwrap_or_else(|| "none".into()))
}

/// The rise and flat minutes of a `plateau` cause.
fn plateau_minutes(c: &str) -> Option<(f64, f64)> {
    let w: Vec<&str> = c.split(' ').collect();
    if w.len() < 5 || w[0] != "plateau" {
        return None;
    }
    Some((w[2].parse().ok()?, w[4].parse().ok()?))
}

/// The floor's rise over the `len_h` hours before `to_ms`.
fn rise(floor: &[Sample], to_ms: i64, len_h: i64) -> Option<f64> {
    let at = |t: i64| floor.iter().rev().find(|p| p.ts_ms <= t).map(|p| p.value);
    Some(at(to_ms)? - at(to_ms - len_h * H)?)
}

struct Flap {
    at_ms: i64,
    hours_in: f64,
    alert_age_h: f64,
    cause: String,
    held_by: &'static str,
    flat1: f64,
    flat2: f64,
    refire_min: Option<f64>,
    left_h: f64,
    load_ratio: f64,
    tags: Vec<String>,
}

/// Replays one series; returns its flaps.
fn run(
    samples: &[Sample],
    traffic: Option<&[Sample]>,
    start: i64,
    stop: Option<i64>,
    cfg: DetectorConfig,
) -> Vec<Flap> {
    let mut d = Detector::new(cfg).expect("valid");
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    let (mut caught, mut firing, mut began, mut last_holder) = (false, false, 0, "?");
    let mut flaps: Vec<Flap> = Vec::new();
    let mut first_floor = None;
    for s in samples {
        let (_, tags) = update_tagged(&mut d, &mut rates, *s);
        let floor = d.floor();
        let first = floor.first().map(|p| p.ts_ms);
        let restarted = first_floor.is_some_and(|f| first != Some(f));
        first_floor = first;
        let now = d.state() == AlertState::Firing;
        let growing = s.ts_ms >= start && stop.is_none_or(|st| s.ts_ms < st);
        if now && !firing {
            began = s.ts_ms;
            if let Some(f) = flaps.last_mut()
                && f.refire_min.is_none()
            {
                f.refire_min = Some((s.ts_ms - f.at_ms) as f64 / 6e4);
            }
        }
        if firing && !now && caught && growing {
            let reason = d.analysis().not_a_leak_because.map(|r| format!("{r:?}"));
            let before = rise(&floor, s.ts_ms - 2 * H, 2);
            let share = |r: Option<f64>, k: f64| match (r, before) {
                (Some(r), Some(b)) if b > 0.0 => r / b * k,
                _ => f64::NAN,
            };
            let c = cause(&tags, restarted, reason);
            let load_ratio = plateau_minutes(&c).map_or(f64::NAN, |(rise, flat)| {
                let knee = s.ts_ms - (flat * 6e4) as i64;
                let from = knee - (rise * 6e4) as i64;
                let m = |a: i64, b: i64| {
                    let v: Vec<f64> = traffic
                        .unwrap_or(&[])
                        .iter()
                        .filter(|r| r.ts_ms >= a && r.ts_ms < b)
                        .map(|r| r.value)
                        .collect();
                    v.iter().sum::<f64>() / v.len() as f64
                };
                m(knee, s.ts_ms) / m(from, knee)
            });
            flaps.push(Flap {
                at_ms: s.ts_ms,
                hours_in: (s.ts_ms - start) as f64 / H as f64,
                alert_age_h: (s.ts_ms - began) as f64 / H as f64,
                cause: c,
                load_ratio,
                held_by: last_holder,
                flat1: share(rise(&floor, s.ts_ms, 1), 2.0),
                flat2: share(rise(&floor, s.ts_ms, 2), 1.0),
                refire_min: None,
                left_h: (samples[samples.len() - 1].ts_ms - s.ts_ms) as f64 / H as f64,
                tags: tags.clone(),
            });
        }
        if now && s.ts_ms >= start {
            caught = true;
        }
        if now && !tags.is_empty() {
            // Which judgement kept the alert firing (`?` for none).
            last_holder = match holder(&tags) {
                "-" => "?",
                h => h,
            };
        }
        firing = now;
    }
    flaps
}

/// The previous detector's timelines: (situation, seed) → alert changes.
fn read_prev(path: &str) -> HashMap<(String, u64), Vec<(i64, bool)>> {
    let text = std::fs::read_to_string(path).expect("PREV file");
    let mut out = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let sit = v["situation"].as_str().unwrap_or("").to_string();
        let seed = v["seed"].as_u64().unwrap_or(0);
        let ch = v["changes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| (c[0].as_i64().unwrap_or(0), c[1].as_bool().unwrap_or(false)))
                    .collect()
            })
            .unwrap_or_default();
        out.insert((sit, seed), ch);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: flap_tally quality|unseen A..B";
    let which = args.get(1).expect(usage).clone();
    let (a, b) = args
        .get(2)
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect(usage);
    let overrides = overrides_from_env();
    let verbose = std::env::var_os("V").is_some();
    let prev = std::env::var("PREV").ok().map(|p| read_prev(&p));
    probe::enable();
    // (name, seed, samples, traffic, start, stop, cfg)
    type Series = (
        String,
        u64,
        Vec<Sample>,
        Vec<Sample>,
        i64,
        Option<i64>,
        DetectorConfig,
    );
    let mut all: Vec<Series> = Vec::new();
    for seed in a..b {
        if which == "quality" {
            for sit in Situation::ALL.into_iter().filter(|s| s.leaks()) {
                let sc = generate(sit, seed, 15);
                let Some(start) = sc.leak_start_ms else {
                    continue;
                };
                let cfg = config(&sc, &overrides);
                let stop = sc.growth_stop_ms;
                all.push((
                    sit.name().into(),
                    seed,
                    sc.samples,
                    sc.traffic,
                    start,
                    stop,
                    cfg,
                ));
            }
        } else {
            for shape in Shape::ALL.into_iter().filter(|s| s.leaks()) {
                let s = ugen(shape, seed);
                let Some(start) = s.truth.leak_start_ms else {
                    continue;
                };
                let cfg = unseen_config(&s, &overrides);
                let stop = s.truth.growth_stop_ms;
                all.push((
                    shape.name().into(),
                    seed,
                    s.samples,
                    s.traffic,
                    start,
                    stop,
                    cfg,
                ));
            }
        }
    }
    for col in ["traffic", "alone"] {
        let mut by_cause: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_sit: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_holder: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut series, mut n, mut prev_firing, mut prev_flapped) = (0, 0, 0, 0);
        let mut refires = Vec::new();
        let mut off_h = 0.0;
        for (name, seed, samples, traffic, start, stop, cfg) in &all {
            let tr = (col == "traffic").then_some(&traffic[..]);
            let flaps = run(samples, tr, *start, *stop, cfg.clone());
            if flaps.is_empty() {
                continue;
            }
            series += 1;
            let pv = prev.as_ref().and_then(|p| p.get(&(name.clone(), *seed)));
            let pflap = pv.map(|ch| {
                let mut caught = false;
                let mut fl = false;
                for (t, f) in ch {
                    let growing = *t >= *start && stop.is_none_or(|st| *t < st);
                    if !*f && caught && growing {
                        fl = true;
                    }
                    if *f && *t >= *start {
                        caught = true;
                    }
                }
                fl
            });
            if pflap == Some(true) {
                prev_flapped += 1;
            }
            for f in &flaps {
                n += 1;
                *by_cause
                    .entry(f.cause.split(' ').next().unwrap_or("").to_string())
                    .or_insert(0) += 1;
                *by_sit.entry(name.clone()).or_insert(0) += 1;
                *by_holder.entry(f.held_by).or_insert(0) += 1;
                refires.push(f.refire_min.unwrap_or(f64::INFINITY));
                let to_stop = stop.map_or(f.left_h, |st| {
                    ((st - f.at_ms) as f64 / H as f64).min(f.left_h)
                });
                off_h += f.refire_min.map_or(to_stop, |m| (m / 60.0).min(to_stop));
                let pf = pv.map(|ch| {
                    ch.iter()
                        .take_while(|c| c.0 <= f.at_ms)
                        .last()
                        .is_some_and(|c| c.1)
                });
                if pf == Some(true) {
                    prev_firing += 1;
                }
                if verbose {
                    println!(
                        "  {col} {name} {seed}: {:.1} h in ({:.1} h left), alert {:.1} h old, {} (held by {}), flat 1h {:.2} 2h {:.2}, load flat/rise {:.2}, refire {}, prev firing {:?} flapped {:?}",
                        f.hours_in,
                        f.left_h,
                        f.alert_age_h,
                        f.cause,
                        f.held_by,
                        f.flat1,
                        f.flat2,
                        f.load_ratio,
                        f.refire_min
                            .map_or("never".into(), |m| format!("{m:.0} min")),
                        pf,
                        pflap
                    );
                    if std::env::var_os("TAGS").is_some() {
                        println!("    tags {:?}", f.tags);
                    }
                }
            }
        }
        refires.sort_by(f64::total_cmp);
        let med = refires.get(refires.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "{which} {col}: {series} series, {n} resolutions while growing; refire median {med:.0} min, {off_h:.0} h off while growing; prev firing then {prev_firing}, prev flapped on {prev_flapped} of these series"
        );
        println!("  by cause: {by_cause:?}");
        println!("  held before by: {by_holder:?}");
        println!("  by situation: {by_sit:?}");
    }
}
