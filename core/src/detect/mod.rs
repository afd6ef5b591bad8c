//! Leak detection: Prometheus-exact math, the article's inflection finder and the robust
//! streaming detector.

pub mod prom;
pub mod robust;
#[cfg(any(test, feature = "scenarios"))]
pub mod scenarios;

pub use prom::{WindowRule, deriv, predict_linear};
pub mod inflection;
pub mod secs;
pub use inflection::{find_growth_inflection, find_growth_inflection_secs};
pub use robust::{
    AlertEvent, AlertState, Analysis, Detector, DetectorConfig, SeriesKind, Verdict, analyze,
};
pub use secs::{deriv_secs, predict_linear_secs};
