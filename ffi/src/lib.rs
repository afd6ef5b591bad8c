//! The C ABI of leaksense: the core's [`Monitor`](leaksense_core::monitor::Monitor), series
//! math and metric catalog behind opaque handles, for C programs and the Go binding.
//!
//! Conventions (the same as rustls-ffi and wasmtime's C API):
//! - names are `leaksense_<noun>_<verb>`; each owned type has one `_new` and one NULL-safe `_free`;
//! - a fallible function returns `leaksense_error_t*`, NULL meaning success, and writes its
//!   results through trailing out-parameters (never a thread-local "last error": a goroutine can
//!   move to another OS thread between two cgo calls);
//! - every body runs inside a panic boundary ([`error::guard`]) and checks every pointer;
//! - an input buffer is always followed by its length; strings are UTF-8 `(ptr, len)` pairs,
//!   not NUL-terminated, so Go can pass its strings without copying;
//! - strings handed out are NUL-terminated and freed with `leaksense_string_free`.
#![allow(non_camel_case_types)]

mod args;
pub mod catalog;
pub mod error;
pub mod monitor;
pub mod profile;
pub mod request;
pub mod scrape;
pub mod series;

pub use catalog::*;
pub use error::*;
pub use monitor::*;
pub use profile::*;
pub use request::*;
pub use scrape::*;
pub use series::*;
