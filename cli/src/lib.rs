//! The `leaksense` command line as a library: the binary (`main.rs`) parses arguments and
//! prints; the fuzz targets and tests call the input readers and the Prometheus client here.
//! All analysis happens in leaksense-core.

pub mod analyze;
pub mod capped;
pub mod error;
pub mod files;
pub mod fleet;
pub mod html;
pub mod icicle;
pub mod input;
pub mod prometheus;
pub mod render;
pub mod rules;
pub mod safe;
pub mod stream;
