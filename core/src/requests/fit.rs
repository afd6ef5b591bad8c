//! The non-negative least-squares fit behind attribution: Cochrane–Orcutt rows for AR(1)
//! errors, NNLS on unit-norm columns, and profile intervals under `β ≥ 0`.

use super::nnls::{self, Gram};

/// Two-sided Student-t quantile at level `alpha` (Cornish–Fisher expansion around the
/// normal quantile; within 0.5% of the exact value at 95% for dof >= 3, and within 5% at
/// 99.9% for dof >= 5, where it errs low).
fn t_quantile(alpha: f64, dof: usize) -> f64 {
    let z = crate::detect::stats::normal_quantile(1.0 - alpha / 2.0);
    let v = dof as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

/// The Cochrane–Orcutt rows `v_k − rho·v_(k−1)` of a column (one fewer than its points),
/// centred when an intercept is left (`rho < 1`): centring projects the constant intercept
/// column out.
pub(super) fn co_rows(v: &[f64], rho: f64) -> Vec<f64> {
    let rows: Vec<f64> = v.windows(2).map(|w| w[1] - rho * w[0]).collect();
    if rho >= 1.0 || rows.is_empty() {
        return rows;
    }
    let mean = rows.iter().sum::<f64>() / rows.len() as f64;
    rows.iter().map(|x| x - mean).collect()
}

/// Error correlations tried between consecutive floor points.
pub(super) const RHO_GRID: [f64; 8] = [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0];

/// A non-negative fit with a free intercept, kept in the Gram form its intervals need.
pub(super) struct Fit {
    /// `G = AᵀA` and `h = Aᵀy` of the transformed, centred, unit-norm columns, and `yᵀy`.
    gram: Gram,
    h: Vec<f64>,
    yy: f64,
    /// Coefficients on the unit-norm columns, and the columns' norms.
    x: Vec<f64>,
    scale: Vec<f64>,
    /// Residual sum of squares and degrees of freedom of the transformed rows.
    pub(super) rss: f64,
    dof: usize,
}

/// Fits `y = c + A·β + e`, `β ≥ 0`, with AR(1) errors of correlation `rho`, on the
/// Cochrane–Orcutt rows `v_k − rho·v_(k−1)` (the first point only anchors the second), so the
/// residual sums of different `rho` compare. The free intercept, whose column is `1 − rho`, is
/// projected out before NNLS (by Frisch–Waugh–Lovell the constrained fit of the rest is
/// unchanged); at `rho = 1` the differences have no intercept left.
pub(super) fn fit(a: &[f64], y: &[f64], rho: f64) -> Fit {
    let (n, p) = (y.len(), a.len() / y.len());
    let m = n - 1;
    let has_intercept = rho < 1.0;
    let ty = co_rows(y, rho);
    let mut ta = vec![0.0; m * p];
    for j in 0..p {
        let col: Vec<f64> = (0..n).map(|k| a[k * p + j]).collect();
        for (k, v) in co_rows(&col, rho).into_iter().enumerate() {
            ta[k * p + j] = v;
        }
    }
    // Unit-norm columns keep the normal equations well conditioned (counts ~1e3, bytes ~1e6).
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let norm = (0..m).map(|k| ta[k * p + j].powi(2)).sum::<f64>().sqrt();
            if norm > 0.0 { norm } else { 1.0 }
        })
        .collect();
    for k in 0..m {
        for j in 0..p {
            ta[k * p + j] /= scale[j];
        }
    }
    let (gram, h): (Gram, Vec<f64>) = nnls::normal_equations(&ta, &ty, p);
    let x = nnls::nnls(&gram, &h);
    let yy = ty.iter().map(|v| v * v).sum();
    let mut f = Fit {
        gram,
        h,
        yy,
        x,
        scale,
        rss: 0.0,
        dof: m.saturating_sub(p + usize::from(has_intercept)).max(1),
    };
    f.rss = f.rss_at(&f.x);
    f
}

impl Fit {
    /// Coefficients in the columns' own units (bytes per request, bytes per second).
    pub(super) fn betas(&self) -> Vec<f64> {
        self.x.iter().zip(&self.scale).map(|(x, s)| x / s).collect()
    }

    /// Residual standard deviation of the transformed rows.
    pub(super) fn sigma(&self) -> f64 {
        (self.rss / self.dof as f64).sqrt()
    }

    /// `‖y − A·x‖² = yᵀy − 2hᵀx + xᵀGx`, never below 0 (rounding).
    fn rss_at(&self, x: &[f64]) -> f64 {
        let p = x.len();
        let quad: f64 = (0..p)
            .map(|i| x[i] * (0..p).map(|j| self.gram.at(i, j) * x[j]).sum::<f64>())
            .sum();
        let lin: f64 = self.h.iter().zip(x).map(|(h, x)| h * x).sum();
        (self.yy - 2.0 * lin + quad).max(0.0)
    }

    /// 95% profile intervals of the coefficients of `columns`, in the columns' own units: the values `b`
    /// of `β_j` whose best fit, refitting every other coefficient under `β ≥ 0`, raises the
    /// residual sum by less than `t²·σ²` (the likelihood-ratio form of the t interval).
    /// Textbook intervals from the Gram inverse ignore the constraint, and both ways of using
    /// them failed: from the active set, a route looked certain while a correlated one NNLS
    /// had set to 0 could explain the same growth (healthy busy routes named in the
    /// benchmark); from every column, at steady total traffic every route could trade places
    /// with a background leak that would need other routes to retain negative memory (the
    /// leaking route of the Node example never named). Here the other columns refit, within
    /// the constraint, for each candidate `b`. The low end is 0 when 0 is plausible.
    pub(super) fn profile_intervals(&self, columns: &[usize], alpha: f64) -> Vec<[f64; 2]> {
        let p = self.x.len();
        let t = t_quantile(alpha, self.dof);
        let allowed = self.rss + t * t * self.rss / self.dof as f64;
        columns
            .iter()
            .map(|&j| {
                let others: Vec<usize> = (0..p).filter(|&i| i != j).collect();
                let sub = self.gram.select(&others);
                // The constrained residual sum with β_j held at `b` (scaled units).
                let rss_with = |b: f64| {
                    let h: Vec<f64> = others
                        .iter()
                        .map(|&i| self.h[i] - self.gram.at(i, j) * b)
                        .collect();
                    let rest = nnls::nnls(&sub, &h);
                    let mut x = vec![0.0; p];
                    x[j] = b;
                    for (&i, v) in others.iter().zip(rest) {
                        x[i] = v;
                    }
                    self.rss_at(&x)
                };
                let inside = |b: f64| rss_with(b) <= allowed;
                let xj = self.x[j];
                let lo = if inside(0.0) {
                    0.0
                } else {
                    bisect(0.0, xj, &inside)
                };
                // Step up from the estimate until outside, then narrow down.
                let mut step = xj
                    .max((allowed - self.rss).max(0.0).sqrt())
                    .max(f64::MIN_POSITIVE);
                let mut far = xj + step;
                let mut steps = 0;
                while inside(far) && steps < 64 {
                    step *= 2.0;
                    far = xj + step;
                    steps += 1;
                }
                let hi = if steps == 64 {
                    f64::INFINITY
                } else {
                    bisect(far, xj, &inside)
                };
                [lo / self.scale[j], hi / self.scale[j]]
            })
            .collect()
    }
}

/// The boundary between `outside` (where `inside` is false) and `inner` (where it is true),
/// to 1e-4 of their distance.
fn bisect(mut outside: f64, mut inner: f64, inside: &dyn Fn(f64) -> bool) -> f64 {
    for _ in 0..14 {
        let mid = 0.5 * (outside + inner);
        if inside(mid) {
            inner = mid;
        } else {
            outside = mid;
        }
    }
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_are_close() {
        for (alpha, dof, exact) in [
            (0.05, 3, 3.182),
            (0.05, 5, 2.571),
            (0.05, 10, 2.228),
            (0.05, 30, 2.042),
            (0.05, 1000, 1.962),
            (0.005, 10, 3.581),
            (0.005, 30, 3.030),
            (0.001, 5, 6.869),
            (0.001, 20, 3.850),
        ] {
            let tolerance = if alpha < 0.01 && dof < 10 { 0.05 } else { 0.02 };
            let got = t_quantile(alpha, dof);
            assert!(
                (got - exact).abs() / exact < tolerance,
                "alpha {alpha}, dof {dof}: {got} vs {exact}"
            );
        }
    }
}
