//! Prometheus-exact `deriv` and `predict_linear`.
//!
//! These reproduce PromQL bit for bit (checked against a real server in the test suite):
//! ordinary least squares over the samples of a range window, with x in seconds and the four
//! sums (x, y, xy, x²) Kahan–Neumaier compensated in sample order. `deriv` measures x from the
//! first sample of the window, `predict_linear` from the evaluation time.

use crate::series::Sample;

/// Which samples a range selector `v[r]` evaluated at time `t` takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum WindowRule {
    /// Prometheus 2.x: the closed window `[t-r, t]`.
    #[default]
    Closed,
    /// Prometheus 3.x: the left-open window `(t-r, t]`.
    LeftOpen,
}

/// The samples of a time-sorted series that a range selector of `range_ms` picks at `eval_ms`.
pub fn select_range(
    samples: &[Sample],
    eval_ms: i64,
    range_ms: i64,
    rule: WindowRule,
) -> &[Sample] {
    let start_ms = eval_ms.saturating_sub(range_ms);
    let lo = match rule {
        WindowRule::Closed => samples.partition_point(|s| s.ts_ms < start_ms),
        WindowRule::LeftOpen => samples.partition_point(|s| s.ts_ms <= start_ms),
    };
    let hi = samples.partition_point(|s| s.ts_ms <= eval_ms);
    if lo >= hi { &[] } else { &samples[lo..hi] }
}

/// One step of Kahan–Neumaier summation, exactly as Prometheus's `kahanSumInc`.
#[inline]
fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Least-squares slope (per second) and intercept of `samples`, with x measured in seconds
/// from `intercept_ms`. Mirrors Prometheus's `linearRegression`, including its constant-series
/// shortcut. Needs at least one sample; callers check for two.
pub fn linear_regression(samples: &[Sample], intercept_ms: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = samples[0].value;
    let mut const_y = true;
    for (i, s) in samples.iter().enumerate() {
        if const_y && i > 0 && s.value != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (s.ts_ms - intercept_ms) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(s.value, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * s.value, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// PromQL `deriv` over the samples of one window: the per-second slope. `None` with fewer
/// than two samples, as Prometheus returns no value.
pub fn deriv(window: &[Sample]) -> Option<f64> {
    if window.len() < 2 {
        return None;
    }
    Some(linear_regression(window, window[0].ts_ms).0)
}

/// PromQL `predict_linear(v[r], horizon_secs)` over the samples of one window evaluated at
/// `eval_ms`. `None` with fewer than two samples.
pub fn predict_linear(window: &[Sample], eval_ms: i64, horizon_secs: f64) -> Option<f64> {
    if window.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(window, eval_ms);
    Some(slope * horizon_secs + intercept)
}

/// `deriv(series[range])` evaluated at `eval_ms`.
pub fn deriv_at(series: &[Sample], eval_ms: i64, range_ms: i64, rule: WindowRule) -> Option<f64> {
    deriv(select_range(series, eval_ms, range_ms, rule))
}

/// `predict_linear(series[range], horizon_secs)` evaluated at `eval_ms`.
pub fn predict_linear_at(
    series: &[Sample],
    eval_ms: i64,
    range_ms: i64,
    horizon_secs: f64,
    rule: WindowRule,
) -> Option<f64> {
    predict_linear(
        select_range(series, eval_ms, range_ms, rule),
        eval_ms,
        horizon_secs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(i64, f64)]) -> Vec<Sample> {
        points
            .iter()
            .map(|&(ts_ms, value)| Sample { ts_ms, value })
            .collect()
    }

    #[test]
    fn window_rules_differ_only_on_the_left_edge() {
        let s = series(&[(0, 1.0), (1000, 2.0), (2000, 3.0), (3000, 4.0)]);
        assert_eq!(select_range(&s, 3000, 2000, WindowRule::Closed).len(), 3);
        assert_eq!(select_range(&s, 3000, 2000, WindowRule::LeftOpen).len(), 2);
        assert_eq!(select_range(&s, 2500, 1000, WindowRule::Closed).len(), 1);
        assert!(select_range(&s, -10, 5, WindowRule::Closed).is_empty());
        assert!(select_range(&[], 0, 5, WindowRule::Closed).is_empty());
    }

    #[test]
    fn deriv_and_predict_linear_follow_promql() {
        let s = series(&[(0, 10.0), (60_000, 70.0), (120_000, 130.0)]);
        assert_eq!(deriv(&s), Some(1.0));
        // At t=120s the fitted line is 130; 60 s later it is 190.
        assert_eq!(predict_linear(&s, 120_000, 60.0), Some(190.0));
        assert_eq!(deriv(&s[..1]), None);
        assert_eq!(predict_linear(&s[..1], 0, 1.0), None);
        let flat = series(&[(0, 5.0), (1000, 5.0)]);
        assert_eq!(deriv(&flat), Some(0.0));
        assert_eq!(predict_linear(&flat, 5000, 100.0), Some(5.0));
        let inf = series(&[(0, f64::INFINITY), (1000, f64::INFINITY)]);
        assert!(deriv(&inf).unwrap().is_nan());
    }

    #[test]
    fn evaluation_at_a_time_selects_the_window() {
        let s: Vec<_> = (0..100)
            .map(|i| Sample {
                ts_ms: i * 15_000,
                value: (i * i) as f64,
            })
            .collect();
        let at = 99 * 15_000;
        let w = select_range(&s, at, 300_000, WindowRule::Closed);
        assert_eq!(deriv_at(&s, at, 300_000, WindowRule::Closed), deriv(w));
        assert_eq!(
            predict_linear_at(&s, at, 300_000, 3600.0, WindowRule::Closed),
            predict_linear(w, at, 3600.0)
        );
    }
}
