//! The article's `find_growth_inflection`, reproduced exactly so that users migrating from it
//! can compare its answer with leaksense's change point.
//!
//! The original (Python, from the article this project grew from):
//!
//! ```python
//! def find_growth_inflection(series):
//!     window_size = 12
//!     for i in range(len(series) - window_size):
//!         window = series[i:i + window_size]
//!         growth_count = sum(
//!             1 for j in range(1, len(window))
//!             if window[j].value > window[j-1].value
//!         )
//!         if growth_count >= window_size * 0.8:
//!             return window[0].timestamp
//!     return series[0].timestamp
//! ```
//!
//! Its quirks are kept on purpose: the last possible window (starting at `len - window`) is
//! never tried, a window of `w` points has only `w - 1` steps yet the threshold is `w * ratio`,
//! equal values do not count as growth, and when nothing matches it answers the first timestamp.
//! On a GC sawtooth it therefore usually returns that fallback.

use crate::error::InputError;
use crate::series::{Sample, samples_from_secs, validate};

/// The article's default window: 12 points (one hour at 5-minute scrapes).
pub const ARTICLE_WINDOW: usize = 12;
/// The article's default share of rising steps.
pub const ARTICLE_RATIO: f64 = 0.8;

/// The timestamp (unix ms) where the article's sliding-window rule says growth began: the first
/// window of `window` points with at least `window * ratio` rising steps, else the first sample.
///
/// Errors: an empty series, `window == 0`, a `ratio` outside `[0, 1]` (or NaN), and samples that
/// are not finite or not strictly increasing in time.
pub fn find_growth_inflection(
    points: &[Sample],
    window: usize,
    ratio: f64,
) -> Result<i64, InputError> {
    if window == 0 {
        return Err(InputError::invalid_option("window", "must be at least 1"));
    }
    if !(0.0..=1.0).contains(&ratio) {
        return Err(InputError::invalid_option(
            "ratio",
            format!("must be within [0, 1], got {ratio}"),
        ));
    }
    if points.is_empty() {
        return Err(InputError::Empty {
            what: "find_growth_inflection",
            needed: 1,
            got: 0,
        });
    }
    validate(points)?;
    // Python compares the int count with the float `window_size * ratio` exactly; the count
    // is far below 2^53, so the f64 comparison here is the same comparison.
    let threshold = window as f64 * ratio;
    let starts = points.len().saturating_sub(window);
    for i in 0..starts {
        let w = &points[i..i + window];
        let growth = w.windows(2).filter(|p| p[1].value > p[0].value).count();
        if growth as f64 >= threshold {
            return Ok(w[0].ts_ms);
        }
    }
    Ok(points[0].ts_ms)
}

/// [`find_growth_inflection`] on parallel arrays of unix-second timestamps and values,
/// answering unix seconds. This is the entry point every binding calls.
pub fn find_growth_inflection_secs(
    timestamps: &[f64],
    values: &[f64],
    window: usize,
    ratio: f64,
) -> Result<f64, InputError> {
    let points = samples_from_secs(timestamps, values)?;
    let ts_ms = find_growth_inflection(&points, window, ratio)?;
    Ok(ts_ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn pts(values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Sample {
                ts_ms: i as i64 * 300_000,
                value,
            })
            .collect()
    }

    #[test]
    fn finds_the_first_window_with_enough_rising_steps() {
        // Flat for 20 points, then rising: the first window that has 10 rising steps out of 11
        // starts one point before the rise.
        let mut v = vec![5.0; 20];
        v.extend((0..30).map(|i| 6.0 + i as f64));
        let p = pts(&v);
        let got = find_growth_inflection(&p, 12, 0.8).unwrap();
        // The window at i holds the steps j -> j+1 for j in i..=i+10; those with j >= 19 rise.
        // 10 rising steps (>= 12 * 0.8 = 9.6) first hold at i = 18.
        assert_eq!(got, p[18].ts_ms);
    }

    #[test]
    fn falls_back_to_the_first_timestamp() {
        let sawtooth: Vec<f64> = (0..100).map(|i| (i % 4) as f64).collect();
        let p = pts(&sawtooth);
        assert_eq!(find_growth_inflection(&p, 12, 0.8).unwrap(), p[0].ts_ms);
        // Too short for any window: the loop never runs.
        let short = pts(&(0..12).map(f64::from).collect::<Vec<_>>());
        assert_eq!(find_growth_inflection(&short, 12, 0.8).unwrap(), 0);
    }

    #[test]
    fn the_article_quirks_are_kept() {
        // range(len - window) never tries the window that starts at len - window: only the
        // final step rises here, so the answer is the fallback.
        let p = pts(&[3.0, 2.0, 1.0, 2.0]);
        assert_eq!(find_growth_inflection(&p, 2, 0.5).unwrap(), p[0].ts_ms);
        let p = pts(&[3.0, 2.0, 1.0, 2.0, 0.0]);
        assert_eq!(find_growth_inflection(&p, 2, 0.5).unwrap(), p[2].ts_ms);
        // A window of w points has only w - 1 steps, so ratio 1 can never match.
        let rising = pts(&(0..50).map(f64::from).collect::<Vec<_>>());
        assert_eq!(find_growth_inflection(&rising, 12, 1.0).unwrap(), 0);
        assert_eq!(
            find_growth_inflection(&rising[5..], 12, 0.8).unwrap(),
            rising[5].ts_ms
        );
        // Equal values are not growth.
        let flat = pts(&[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(
            find_growth_inflection(&flat[1..], 1, 0.0).unwrap(),
            flat[1].ts_ms
        );
        assert_eq!(find_growth_inflection(&flat, 2, 0.5).unwrap(), 0);
        let step = pts(&[1.0, 1.0, 1.0, 2.0, 2.0]);
        assert_eq!(
            find_growth_inflection(&step, 2, 0.5).unwrap(),
            step[2].ts_ms
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let p = pts(&[1.0, 2.0, 3.0]);
        let code = |r: Result<i64, InputError>| r.unwrap_err().code();
        assert_eq!(
            code(find_growth_inflection(&[], 12, 0.8)),
            ErrorCode::EmptyInput
        );
        assert_eq!(
            code(find_growth_inflection(&p, 0, 0.8)),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            code(find_growth_inflection(&p, 2, f64::NAN)),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            code(find_growth_inflection(&p, 2, 1.5)),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            code(find_growth_inflection(&p, 2, -0.1)),
            ErrorCode::InvalidOption
        );
        let mut nan = p.clone();
        nan[1].value = f64::NAN;
        assert_eq!(
            code(find_growth_inflection(&nan, 2, 0.8)),
            ErrorCode::NonFiniteValue
        );
        let mut unsorted = p.clone();
        unsorted[2].ts_ms = 0;
        assert_eq!(
            code(find_growth_inflection(&unsorted, 2, 0.8)),
            ErrorCode::OutOfOrder
        );
    }

    #[test]
    fn seconds_entry_point_round_trips_timestamps() {
        let ts = [1.5, 2.25, 3.125, 4.0];
        assert_eq!(
            find_growth_inflection_secs(&ts, &[1.0, 2.0, 3.0, 4.0], 2, 0.5).unwrap(),
            1.5
        );
        assert_eq!(
            find_growth_inflection_secs(&ts, &[1.0], 2, 0.5)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidOption
        );
        assert_eq!(
            find_growth_inflection_secs(&[], &[], 2, 0.5)
                .unwrap_err()
                .code(),
            ErrorCode::EmptyInput
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_answers_a_sample_time(
            mut ts in proptest::collection::vec(proptest::num::i64::ANY, 0..40),
            sorted in proptest::bool::ANY,
            vs in proptest::collection::vec(proptest::num::f64::ANY, 0..40),
            window in 0usize..20,
            ratio in proptest::num::f64::ANY,
        ) {
            if sorted {
                ts.sort_unstable();
                ts.dedup();
            }
            let points: Vec<Sample> = ts
                .iter()
                .zip(&vs)
                .map(|(&ts_ms, &value)| Sample { ts_ms, value })
                .collect();
            match find_growth_inflection(&points, window, ratio) {
                Ok(t) => proptest::prop_assert!(points.iter().any(|p| p.ts_ms == t)),
                Err(e) => proptest::prop_assert!(
                    window == 0 || !(0.0..=1.0).contains(&ratio) || points.is_empty()
                        || validate(&points).is_err(),
                    "unexpected {e}"
                ),
            }
        }
    }
}
