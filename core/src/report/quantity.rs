//! What a watched series measures: bytes or a count, and how its amounts read.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::format;

/// The unit of bytes, as OpenTelemetry writes it.
pub const BYTES: &str = "By";

/// What a watched series measures, carried into its report so that a count reads as a count
/// ("leaves 1 goroutine per request").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Quantity {
    /// The series' name (`memory`, `goroutines`, `open_fds`, ...).
    #[serde(default = "default_series")]
    pub series: String,
    /// Its unit as OpenTelemetry writes it: `By` for bytes, `{goroutine}`, `{fd}`, ... for a
    /// count.
    #[serde(default = "default_unit")]
    pub unit: String,
}

fn default_series() -> String {
    "memory".into()
}

fn default_unit() -> String {
    BYTES.into()
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity {
            series: default_series(),
            unit: default_unit(),
        }
    }
}

impl Quantity {
    /// A series named `series` in `unit` (`By` for bytes, `{goroutine}` for a count of
    /// goroutines); each must be 1 to 64 printable bytes.
    pub fn new(series: &str, unit: &str) -> Result<Quantity, InputError> {
        let ok =
            |v: &str| !v.trim().is_empty() && v.len() <= 64 && !v.chars().any(char::is_control);
        for (name, v) in [("series", series), ("unit", unit)] {
            if !ok(v) {
                return Err(InputError::invalid_option(
                    name,
                    "must be 1 to 64 printable bytes",
                ));
            }
        }
        Ok(Quantity {
            series: series.into(),
            unit: unit.into(),
        })
    }

    /// Whether the series is bytes (else a count).
    pub fn is_bytes(&self) -> bool {
        self.unit == BYTES
    }

    /// An amount in this unit, through the core's formatter ([`format::amount`]).
    pub fn amount(&self, v: f64) -> String {
        format::amount(&self.unit, v)
    }

    /// A growth rate given per second, shown per hour.
    pub fn rate(&self, per_sec: f64) -> String {
        format!("{}/h", self.amount(per_sec * 3600.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_in_the_unit() {
        let bytes = Quantity::default();
        assert!(bytes.is_bytes());
        assert_eq!(bytes.amount(2048.0), "2 KiB");
        assert_eq!(bytes.rate(1024.0 / 3600.0), "1 KiB/h");
        let g = Quantity::new("goroutines", "{goroutine}").unwrap();
        assert!(!g.is_bytes());
        assert_eq!(g.amount(1.0), "1 goroutine");
        assert_eq!(g.amount(0.98765), "0.9877 goroutines");
        assert_eq!(g.amount(1500.0), "1500 goroutines");
        assert_eq!(g.amount(0.0), "0 goroutines");
        assert_eq!(g.rate(1.0), "3600 goroutines/h");
        assert_eq!(g.rate(1.0 / 3600.0), "1 goroutine/h");
        let fds = Quantity::new("open_fds", "{file_descriptor}").unwrap();
        assert_eq!(fds.amount(1.0), "1 file descriptor");
        assert_eq!(fds.amount(5776.0), "5776 file descriptors");
    }

    #[test]
    fn a_bad_name_or_unit_is_a_typed_error() {
        for (series, unit) in [("", "By"), ("fds", ""), (" ", "By"), ("a\nb", "By")] {
            let e = Quantity::new(series, unit).unwrap_err();
            assert_eq!(
                e.code(),
                crate::ErrorCode::InvalidOption,
                "{series:?} {unit:?}"
            );
        }
        let long = "x".repeat(65);
        assert!(Quantity::new(&long, "By").is_err());
        assert!(Quantity::new("fds", &long).is_err());
        assert!(Quantity::new("open_fds", "{fd}").is_ok());
    }
}
