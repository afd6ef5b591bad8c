//! Leak detection: Prometheus-exact math, the article's inflection finder and the robust
//! streaming detector.

pub mod prom;
pub mod robust;
#[cfg(any(test, feature = "scenarios"))]
pub mod scenarios;

pub use prom::{WindowRule, deriv, predict_linear};
pub use robust::{
    AlertEvent, AlertState, Analysis, Detector, DetectorConfig, SeriesKind, Verdict, analyze,
};
