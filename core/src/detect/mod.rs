//! Leak detection: Prometheus-exact math, the article's inflection finder and the robust
//! streaming detector.

pub mod prom;

pub use prom::{WindowRule, deriv, predict_linear};
