//! leaksense benchmarks. The binaries live in `src/bin`, the criterion benches in `benches/`.

pub mod attribution_sim;
pub mod blind;
#[cfg(feature = "probe")]
pub mod held;
pub mod quality;
pub mod unseen;

use leaksense_core::detect::scenarios::{Scenario, Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, SeriesKind};
use leaksense_core::series::Sample;
use std::iter::Peekable;

/// The detector's defaults for the series' kind and limit, with `key=value` overrides applied
/// (`--set` of `detector-quality`, the arguments of the `delays` example).
pub fn config(sc: &Scenario, overrides: &[(String, serde_json::Value)]) -> DetectorConfig {
    defaults_for(sc.kind, sc.limit, overrides)
}

/// The detector's defaults for an unseen-generator series' kind and limit, with `key=value`
/// overrides applied (a function here, not a method: `examples/timeline` includes
/// `src/unseen.rs` by path).
pub fn unseen_config(
    s: &unseen::Series,
    overrides: &[(String, serde_json::Value)],
) -> DetectorConfig {
    defaults_for(s.kind, s.limit, overrides)
}

/// The detector's defaults for a blind-generator series' kind and limit, with `key=value`
/// overrides applied.
pub fn blind_config(
    s: &blind::Series,
    overrides: &[(String, serde_json::Value)],
) -> DetectorConfig {
    defaults_for(s.kind, s.limit, overrides)
}

/// The detector's defaults for a series' kind and limit, with `key=value` overrides applied.
pub fn defaults_for(
    kind: SeriesKind,
    limit: Option<f64>,
    overrides: &[(String, serde_json::Value)],
) -> DetectorConfig {
    with_overrides(
        DetectorConfig {
            limit,
            ..DetectorConfig::for_kind(kind)
        },
        overrides,
    )
}

/// `cfg` with `key=value` overrides applied.
pub fn with_overrides(
    cfg: DetectorConfig,
    overrides: &[(String, serde_json::Value)],
) -> DetectorConfig {
    let mut v = serde_json::to_value(&cfg).expect("config serializes");
    for (k, x) in overrides {
        v[k] = x.clone();
    }
    serde_json::from_value(v).expect("overrides name valid DetectorConfig fields")
}

/// Parses a `--set field=json_value` override of a `DetectorConfig` default; `None` when the
/// field is unknown or the value makes the config invalid.
pub fn parse_set(kv: &str) -> Option<(String, serde_json::Value)> {
    let (k, v) = kv.split_once('=')?;
    let v: serde_json::Value = serde_json::from_str(v).ok()?;
    let mut probe = serde_json::to_value(DetectorConfig::default()).ok()?;
    probe.get(k)?;
    probe[k] = v.clone();
    serde_json::from_value::<DetectorConfig>(probe)
        .ok()?
        .validate()
        .ok()?;
    Some((k.to_string(), v))
}

/// The overrides in the `SET` environment variable (`field=value,field=value`), as `--set`
/// gives them to the benches; for the diagnostic examples.
pub fn overrides_from_env() -> Vec<(String, serde_json::Value)> {
    std::env::var("SET")
        .unwrap_or_default()
        .split(',')
        .filter(|kv| !kv.is_empty())
        .map(|kv| parse_set(kv).expect("SET=field=value,..."))
        .collect()
}

/// A seed range `A..B` with `A < B`, as the benches and examples take it.
pub fn parse_seeds(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once("..")?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a < b).then_some((a, b))
}

/// The request rates a replay feeds the detector, in order: `traffic` with `on`, none on the
/// series alone.
pub fn fed_rates(traffic: &[Sample], on: bool) -> Peekable<std::slice::Iter<'_, Sample>> {
    (if on { traffic } else { &[] }).iter().peekable()
}

/// The mean request rate over the newer half of `from..to` (unix ms) over the older half's:
/// how the load moved over a rise (the warm-up tallies).
pub fn load_ratio(traffic: &[Sample], from: i64, to: i64) -> f64 {
    let m = from + (to - from) / 2;
    let mean = |lo: i64, hi: i64| {
        let v: Vec<f64> = traffic
            .iter()
            .filter(|r| r.ts_ms >= lo && r.ts_ms < hi)
            .map(|r| r.value)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    mean(m, to) / mean(from, m)
}

/// Names an alert event that is the series' first pending (`pend`) or first firing (`fire`),
/// marking it seen; `None` for any other event (the warm-up tallies).
pub fn first_transition(to: AlertState, pend: &mut bool, fire: &mut bool) -> Option<&'static str> {
    match to {
        AlertState::Pending if !*pend => {
            *pend = true;
            Some("pending")
        }
        AlertState::Firing if !*fire => {
            *fire = true;
            Some("firing")
        }
        _ => None,
    }
}

/// Feeds `d` the request rates of `rates` due by `ts_ms` (at or before it): the step before
/// each memory sample of a replay with traffic.
pub fn feed_traffic<'a>(
    d: &mut Detector,
    rates: &mut Peekable<impl Iterator<Item = &'a Sample>>,
    ts_ms: i64,
) {
    while let Some(r) = rates.next_if(|r| r.ts_ms <= ts_ms) {
        d.observe_traffic(*r).expect("valid traffic");
    }
}

/// The slow-GC situations' series of the seeds `a..b` (15-s samples), as (situation, seed,
/// series): `slow_gc`, `v8_slow_gc`, `slow_gc_leak`, `v8_slow_gc_leak` (the examples on the
/// wait for a first collection).
pub fn slow_gc_series(a: u64, b: u64) -> impl Iterator<Item = (Situation, u64, Scenario)> {
    [
        Situation::SlowGc,
        Situation::V8SlowGc,
        Situation::SlowGcLeak,
        Situation::V8SlowGcLeak,
    ]
    .into_iter()
    .flat_map(move |sit| (a..b).map(move |seed| (sit, seed, generate(sit, seed, 15))))
}

/// The time (ms) of the first sample at which a detector with `cfg` fires on `samples`, the
/// request rates of `traffic` (if any) fed before the samples at or after their time.
pub fn first_firing_ms(
    cfg: DetectorConfig,
    samples: &[Sample],
    traffic: Option<&[Sample]>,
) -> Option<i64> {
    let mut d = Detector::new(cfg).expect("valid config");
    let mut rates = traffic.unwrap_or(&[]).iter().peekable();
    for s in samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        d.update(*s).expect("valid samples");
        if d.state() == AlertState::Firing {
            return Some(s.ts_ms);
        }
    }
    None
}

/// `f` over `items` on two threads (the machines these run on have two cores), in order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(2).max(1))
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    })
}

/// One day of a week series, for the one-day examples (`week_prof`, `week_phase_tally`).
pub struct WeekDay {
    pub sc: Scenario,
    /// The defaults for the series with the `SET=` overrides.
    pub cfg: DetectorConfig,
    /// The day's first and last instants (ms).
    pub start: i64,
    pub end: i64,
    /// Whether the series' traffic is fed (not with `alone`).
    pub with_traffic: bool,
}

/// The day named by the arguments `SITUATION SEED DAY` (0 = the Wednesday), with `alone` (the
/// series without its traffic) as the argument at `alone_at` if given.
pub fn week_day(a: &[String], alone_at: usize) -> WeekDay {
    let sit = *Situation::WEEK
        .iter()
        .find(|s| s.name() == a[0])
        .expect("situation");
    let seed: u64 = a[1].parse().unwrap();
    let day: i64 = a[2].parse().unwrap();
    let sc = generate(sit, seed, 15);
    let cfg = config(&sc, &overrides_from_env());
    let start = sc.samples[0].ts_ms + day * 86_400_000;
    WeekDay {
        cfg,
        start,
        end: start + 86_400_000,
        with_traffic: a.get(alone_at).map(|s| s != "alone").unwrap_or(true),
        sc,
    }
}

/// Turns the detector's diagnostic tags on (core feature `probe`; without it, nothing).
pub fn enable_tags() {
    #[cfg(feature = "probe")]
    leaksense_core::detect::probe::enable();
}

/// Keeps in `tags` the probe tags of the newest update that closed an evaluation, and prints
/// them before an event (core feature `probe`; without it, nothing).
#[cfg_attr(not(feature = "probe"), allow(clippy::ptr_arg))]
pub fn keep_tags(tags: &mut Vec<String>, event: bool) {
    #[cfg(feature = "probe")]
    {
        let t = leaksense_core::detect::probe::take();
        if !t.is_empty() {
            *tags = t;
        }
    }
    if event && !tags.is_empty() {
        println!("  tags: {}", tags.join(" "));
    }
}
