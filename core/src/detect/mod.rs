//! Leak detection: Prometheus-exact math, the article's inflection finder and the robust
//! streaming detector.

pub mod alert;
mod alloc_rate;
mod assess;
pub mod detector;
mod floor;
pub mod options;
pub mod prom;
#[cfg(any(test, feature = "scenarios"))]
pub mod scenarios;
pub(crate) mod stats;
mod traffic;

pub use prom::{WindowRule, deriv, predict_linear};
pub mod inflection;
mod load;
#[cfg(feature = "probe")]
pub mod probe;
mod profile;
mod reason;
pub mod secs;
pub use alert::{AlertEvent, AlertState};
pub use detector::{Analysis, Detector, Verdict, analyze, analyze_with_traffic};
pub use inflection::{find_growth_inflection, find_growth_inflection_secs};
pub use options::{DetectorConfig, MAX_FLOOR, SeriesKind};
pub use reason::NoLeakReason;
pub use secs::{deriv_secs, predict_linear_secs};

/// A sample at `ts_secs` seconds (the unit tests' shorthand).
#[cfg(test)]
pub(crate) fn s(ts_secs: i64, value: f64) -> crate::series::Sample {
    crate::series::Sample {
        ts_ms: ts_secs * 1000,
        value,
    }
}
