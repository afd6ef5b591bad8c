//! leaksense benchmarks. The binaries live in `src/bin`, the criterion benches in `benches/`.

pub mod attribution_sim;
#[cfg(feature = "probe")]
pub mod held;
pub mod quality;
pub mod unseen;

use leaksense_core::detect::DetectorConfig;
use leaksense_core::detect::scenarios::Scenario;

/// The detector's defaults for the series' kind and limit, with `key=value` overrides applied
/// (`--set` of `detector-quality`, the arguments of the `delays` example).
pub fn config(sc: &Scenario, overrides: &[(String, serde_json::Value)]) -> DetectorConfig {
    let cfg = DetectorConfig {
        limit: sc.limit,
        ..DetectorConfig::for_kind(sc.kind)
    };
    with_overrides(cfg, overrides)
}

/// The detector's defaults for an unseen-generator series' kind and limit, with `key=value`
/// overrides applied (a function here, not a method: `examples/timeline` includes
/// `src/unseen.rs` by path).
pub fn unseen_config(
    s: &unseen::Series,
    overrides: &[(String, serde_json::Value)],
) -> DetectorConfig {
    let cfg = DetectorConfig {
        limit: s.limit,
        ..DetectorConfig::for_kind(s.kind)
    };
    with_overrides(cfg, overrides)
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
