//! Non-negative least squares (Lawson & Hanson, "Solving Least Squares Problems", 1974,
//! ch. 23), on the normal equations.
//!
//! Hand-written because the problem is tiny (a few dozen rows, at most ~20 columns) and the
//! crates that offer NNLS pull in a whole linear-algebra stack. Working on the Gram matrix
//! `G = AᵀA` is fine at this size once the columns are scaled to unit norm, which the caller
//! does; a tiny ridge rescues exactly collinear columns (two routes always called together).

/// A dense symmetric matrix stored row-major.
#[derive(Debug, Clone)]
pub(crate) struct Gram {
    pub p: usize,
    pub g: Vec<f64>,
}

impl Gram {
    pub(crate) fn at(&self, i: usize, j: usize) -> f64 {
        self.g[i * self.p + j]
    }

    /// The Gram matrix of the columns `idx` alone (`G[idx, idx]`).
    pub(crate) fn select(&self, idx: &[usize]) -> Gram {
        Gram {
            p: idx.len(),
            g: idx
                .iter()
                .flat_map(|&i| idx.iter().map(move |&j| self.at(i, j)))
                .collect(),
        }
    }
}

/// Cholesky factor of `G[idx, idx]` (lower, row-major), with a small ridge on failure.
fn cholesky(gram: &Gram, idx: &[usize]) -> Option<Vec<f64>> {
    let k = idx.len();
    let trace: f64 = idx.iter().map(|&i| gram.at(i, i)).sum::<f64>().max(1e-300);
    for ridge in [0.0, 1e-12, 1e-9, 1e-6] {
        let mut l = vec![0.0; k * k];
        let mut ok = true;
        'outer: for i in 0..k {
            for j in 0..=i {
                let mut s = gram.at(idx[i], idx[j]);
                if i == j {
                    s += ridge * trace;
                }
                for m in 0..j {
                    s -= l[i * k + m] * l[j * k + m];
                }
                if i == j {
                    if s <= 0.0 || !s.is_finite() {
                        ok = false;
                        break 'outer;
                    }
                    l[i * k + i] = s.sqrt();
                } else {
                    l[i * k + j] = s / l[j * k + j];
                }
            }
        }
        if ok {
            return Some(l);
        }
    }
    None
}

/// Solves `L Lᵀ x = b`.
fn chol_solve(l: &[f64], b: &[f64]) -> Vec<f64> {
    let k = b.len();
    let mut y = vec![0.0; k];
    for i in 0..k {
        let mut s = b[i];
        for m in 0..i {
            s -= l[i * k + m] * y[m];
        }
        y[i] = s / l[i * k + i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let mut s = y[i];
        for m in i + 1..k {
            s -= l[m * k + i] * x[m];
        }
        x[i] = s / l[i * k + i];
    }
    x
}

/// Minimises `‖Ax − b‖²` subject to `x ≥ 0`, given `G = AᵀA` and `h = Aᵀb`.
/// Returns `x`; columns whose coefficient is 0 are the inactive (constrained) set.
pub(crate) fn nnls(gram: &Gram, h: &[f64]) -> Vec<f64> {
    let p = gram.p;
    let mut x = vec![0.0; p];
    let mut passive = vec![false; p];
    let tol = 1e-10 * h.iter().fold(1.0f64, |a, v| a.max(v.abs()));
    let gradient = |x: &[f64]| -> Vec<f64> {
        (0..p)
            .map(|i| h[i] - (0..p).map(|j| gram.at(i, j) * x[j]).sum::<f64>())
            .collect()
    };
    // Each outer step adds a column; the inner loop only removes. 3p steps is the usual bound.
    for _ in 0..3 * p + 3 {
        let w = gradient(&x);
        let Some((j, wj)) = (0..p)
            .filter(|&j| !passive[j])
            .map(|j| (j, w[j]))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            break;
        };
        if wj <= tol {
            break;
        }
        passive[j] = true;
        loop {
            let idx: Vec<usize> = (0..p).filter(|&i| passive[i]).collect();
            let Some(l) = cholesky(gram, &idx) else {
                passive[j] = false;
                return x;
            };
            let hp: Vec<f64> = idx.iter().map(|&i| h[i]).collect();
            let zp = chol_solve(&l, &hp);
            if zp.iter().all(|&z| z > 0.0) {
                for (&i, &z) in idx.iter().zip(&zp) {
                    x[i] = z;
                }
                break;
            }
            // Step from x toward z until the first passive coefficient hits zero.
            let mut alpha = f64::INFINITY;
            let mut blocking = idx[0];
            for (&i, &z) in idx.iter().zip(&zp) {
                if z <= 0.0 {
                    let denom = x[i] - z;
                    let a = if denom > 0.0 { x[i] / denom } else { 0.0 };
                    if a < alpha {
                        alpha = a;
                        blocking = i;
                    }
                }
            }
            let xmax = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for (&i, &z) in idx.iter().zip(&zp) {
                x[i] += alpha * (z - x[i]);
                if i == blocking || x[i] <= 1e-12 * xmax {
                    x[i] = 0.0;
                    passive[i] = false;
                }
            }
            if !passive.iter().any(|&b| b) {
                break;
            }
        }
    }
    x
}

/// Builds `G = AᵀA` and `h = Aᵀb` from row-major `a` (n × p).
pub(crate) fn normal_equations(a: &[f64], b: &[f64], p: usize) -> (Gram, Vec<f64>) {
    let n = b.len();
    let mut g = vec![0.0; p * p];
    let mut h = vec![0.0; p];
    for r in 0..n {
        let row = &a[r * p..(r + 1) * p];
        for i in 0..p {
            h[i] += row[i] * b[r];
            for j in 0..p {
                g[i * p + j] += row[i] * row[j];
            }
        }
    }
    (Gram { p, g }, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solve(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
        let (g, h) = normal_equations(a, b, p);
        nnls(&g, &h)
    }

    #[test]
    fn recovers_a_non_negative_solution_exactly() {
        // b = 2*c0 + 0*c1 + 3*c2
        let a = [
            1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 0.0, 3.0, 1.0, 1.0, 1.0, 1.0, 3.0, 0.0, 2.0,
        ];
        let b: Vec<f64> = a.chunks(3).map(|r| 2.0 * r[0] + 3.0 * r[2]).collect();
        let x = solve(&a, &b, 3);
        for (got, want) in x.iter().zip([2.0, 0.0, 3.0]) {
            assert!((got - want).abs() < 1e-9, "{x:?}");
        }
    }

    #[test]
    fn clamps_a_coefficient_that_least_squares_makes_negative() {
        // Unconstrained LS gives x1 < 0; NNLS must set it to 0 and refit x0 alone.
        let a = [1.0, 1.0, 2.0, 1.0, 3.0, 1.0, 4.0, 1.0];
        let b = [1.0, 2.0, 3.0, 4.0].map(|v: f64| v - 2.0 + 1.8);
        let x = solve(&a, &b, 2);
        assert_eq!(x[1], 0.0, "{x:?}");
        // Best x0 alone: sum(a0*b)/sum(a0^2).
        let want = (1.0 * b[0] + 2.0 * b[1] + 3.0 * b[2] + 4.0 * b[3]) / 30.0;
        assert!((x[0] - want).abs() < 1e-9, "{x:?} vs {want}");
    }

    #[test]
    fn all_negative_correlation_gives_zero() {
        let a = [1.0, 2.0, 3.0];
        let b = [-1.0, -2.0, -3.0];
        assert_eq!(solve(&a, &b, 1), vec![0.0]);
    }

    #[test]
    fn collinear_columns_do_not_fail() {
        let a = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        let b = [2.0, 4.0, 6.0];
        let x = solve(&a, &b, 2);
        assert!(x.iter().all(|v| *v >= 0.0));
        assert!((x[0] + x[1] - 2.0).abs() < 1e-4, "{x:?}");
    }

    #[test]
    fn select_takes_the_sub_matrix() {
        let g = Gram {
            p: 3,
            g: vec![1.0, 2.0, 3.0, 2.0, 5.0, 6.0, 3.0, 6.0, 9.0],
        };
        assert_eq!(g.select(&[0, 2]).g, vec![1.0, 3.0, 3.0, 9.0]);
    }
}
