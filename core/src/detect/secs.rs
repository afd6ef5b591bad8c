//! Unix-second entry points for the bindings and the shared test vectors.
//!
//! Python, Node, Go and the CLI call exactly these, so every language validates input and
//! rounds timestamps the same way. The window is the whole given series.

use super::prom;
use crate::error::InputError;
use crate::series::{Sample, samples_from_secs};

/// PromQL `deriv` over the whole series (unix seconds): `Ok(None)` with fewer than two samples,
/// as Prometheus returns no value.
pub fn deriv_secs(timestamps: &[f64], values: &[f64]) -> Result<Option<f64>, InputError> {
    let samples = samples_from_secs(timestamps, values)?;
    Ok(prom::deriv(&samples))
}

/// PromQL `predict_linear(v, horizon)` over the whole series evaluated at `eval_time` (unix
/// seconds; x is measured from it). `Ok(None)` with fewer than two samples.
pub fn predict_linear_secs(
    timestamps: &[f64],
    values: &[f64],
    eval_time: f64,
    horizon: f64,
) -> Result<Option<f64>, InputError> {
    let samples = samples_from_secs(timestamps, values)?;
    if !horizon.is_finite() {
        return Err(InputError::invalid_option(
            "horizon",
            format!("must be finite, got {horizon}"),
        ));
    }
    let eval = Sample::from_secs(eval_time, 0.0).map_err(|_| {
        InputError::invalid_option(
            "eval_time",
            format!("must be a finite unix time, got {eval_time}"),
        )
    })?;
    Ok(prom::predict_linear(&samples, eval.ts_ms, horizon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn whole_series_math_in_seconds() {
        assert_eq!(deriv_secs(&[10.0, 20.0], &[1.0, 6.0]).unwrap(), Some(0.5));
        assert_eq!(deriv_secs(&[10.0], &[1.0]).unwrap(), None);
        assert_eq!(deriv_secs(&[], &[]).unwrap(), None);
        assert_eq!(
            predict_linear_secs(&[10.0, 20.0], &[1.0, 6.0], 30.0, 10.0).unwrap(),
            Some(16.0)
        );
        assert_eq!(
            predict_linear_secs(&[10.0], &[1.0], 30.0, 10.0).unwrap(),
            None
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let code = |r: Result<Option<f64>, InputError>| r.unwrap_err().code();
        assert_eq!(
            code(deriv_secs(&[1.0, 2.0], &[1.0, f64::NAN])),
            ErrorCode::NonFiniteValue
        );
        assert_eq!(
            code(deriv_secs(&[2.0, 1.0], &[1.0, 2.0])),
            ErrorCode::OutOfOrder
        );
        assert_eq!(code(deriv_secs(&[1.0], &[])), ErrorCode::InvalidOption);
        let (t, v) = ([1.0, 2.0], [1.0, 2.0]);
        assert_eq!(
            code(predict_linear_secs(&t, &v, f64::NAN, 1.0)),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            code(predict_linear_secs(&t, &v, 1e300, 1.0)),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            code(predict_linear_secs(&t, &v, 3.0, f64::INFINITY)),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            code(predict_linear_secs(&t, &[f64::INFINITY, 1.0], 3.0, 1.0)),
            ErrorCode::NonFiniteValue
        );
    }
}
