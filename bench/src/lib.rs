//! leaksense benchmarks. The binaries live in `src/bin`, the criterion benches in `benches/`.

pub mod attribution_sim;
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
    let mut v = serde_json::to_value(&cfg).expect("config serializes");
    for (k, x) in overrides {
        v[k] = x.clone();
    }
    serde_json::from_value(v).expect("overrides name valid DetectorConfig fields")
}
