//! leaksense-core: memory collection, leak detection and per-request attribution.
//!
//! Everything the Python, Node.js and Go bindings show comes from this crate; the bindings only
//! convert types and errors. See `ARCHITECTURE.md` at the repository root for the data flow.

pub mod catalog;
#[cfg(feature = "collect")]
pub mod collect;
pub mod detect;
pub mod error;
#[cfg(feature = "collect")]
pub mod fork;
pub mod format;
pub mod gauges;
#[cfg(feature = "collect")]
pub mod monitor;
pub mod options;
#[cfg(feature = "otel")]
pub mod otel;
pub mod profile;
pub mod report;
pub mod requests;
pub mod series;

pub use error::{CollectError, ErrorCode, InputError};
pub use series::{EpochUnit, Ring, Sample, Series};
