//! Run charts with Anhøj's rules (METRICS.md §6.4): a shift if the longest
//! run is too long, a trend or cycle if the median is crossed too rarely.
//! Both limits are computed in integers, as R computes them.

use crate::stats::StatsError;

/// Anhøj's two tests on a series around its median.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RunChart {
    pub median: f64,
    /// Points not exactly on the median.
    pub useful: usize,
    /// Longest run of useful points on one side (points on the median are
    /// skipped: they neither extend nor break a run).
    pub longest_run: usize,
    /// `round(log2(useful) + 3)`.
    pub longest_run_limit: usize,
    /// Sign changes between consecutive useful points.
    pub crossings: usize,
    /// `qbinom(0.05, useful − 1, 0.5)`.
    pub crossings_limit: usize,
}

impl RunChart {
    /// A shift: `longest_run > longest_run_limit`.
    pub fn shift(&self) -> bool {
        self.longest_run > self.longest_run_limit
    }

    /// Too few crossings: `crossings < crossings_limit`.
    pub fn too_few_crossings(&self) -> bool {
        self.crossings < self.crossings_limit
    }

    /// Either test signals non-random variation.
    pub fn signal(&self) -> bool {
        self.shift() || self.too_few_crossings()
    }
}

/// Anhøj's tests; `None` when no point is off the median (including an
/// empty series); `Err` for non-finite values.
pub fn run_chart(values: &[f64]) -> Result<Option<RunChart>, StatsError> {
    if values.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::invalid("values", "must be finite"));
    }
    let Some(median) = median(values) else {
        return Ok(None);
    };
    let sides: Vec<bool> = values.iter().filter(|&&x| x != median).map(|&x| x > median).collect();
    let useful = sides.len();
    if useful == 0 {
        return Ok(None);
    }
    let crossings = sides.windows(2).filter(|w| w[0] != w[1]).count();
    let longest_run = sides.chunk_by(|a, b| a == b).map(<[bool]>::len).max().unwrap_or(0);
    Ok(Some(RunChart {
        median,
        useful,
        longest_run,
        longest_run_limit: longest_run_limit(useful),
        crossings,
        crossings_limit: crossings_limit(useful),
    }))
}

/// The median (R's `median`, type 7 at ½).
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mid = n.checked_sub(1)? / 2;
    Some(if n % 2 == 1 { v[mid] } else { (v[mid] + v[mid + 1]) / 2.0 })
}

/// `round(log2(n) + 3)` exactly: log2 n is an integer or irrational, so no
/// halves occur, and `round(log2 n) = k` ⇔ `2^(2k−1) ≤ n² < 2^(2k+1)`.
pub fn longest_run_limit(useful: usize) -> usize {
    let sq = (useful as u128).pow(2);
    let bits = (u128::BITS - sq.leading_zeros()).saturating_sub(1) as usize;
    3 + bits.div_ceil(2)
}

/// `qbinom(0.05, n − 1, 0.5)`: the smallest c with P(Bin(n − 1, ½) ≤ c) ≥
/// 0.05 (R's definition). Exact in u128 up to 120 trials; beyond that the
/// CDF is summed in log space, where a tie at exactly 0.05 cannot occur
/// (20·ΣC(m,i) = 2^m has no solution, 5 does not divide a power of two).
pub fn crossings_limit(useful: usize) -> usize {
    let m = useful.saturating_sub(1);
    if m <= 120 { qbinom_exact(m) } else { qbinom_float(m) }
}

fn qbinom_exact(m: usize) -> usize {
    let total = 1u128 << m;
    let (mut coef, mut cdf) = (1u128, 0u128);
    for c in 0..=m {
        cdf += coef;
        if 20 * cdf >= total {
            return c;
        }
        coef = coef * (m - c) as u128 / (c + 1) as u128;
    }
    m
}

fn qbinom_float(m: usize) -> usize {
    let mf = m as f64;
    let ln_total = libm::lgamma(mf + 1.0) - mf * std::f64::consts::LN_2;
    let mut cdf = 0.0;
    for c in 0..=m {
        let cf = c as f64;
        cdf += (ln_total - libm::lgamma(cf + 1.0) - libm::lgamma(mf - cf + 1.0)).exp();
        if cdf >= 0.05 {
            return c;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_match_anhojs_table() {
        // (useful points, longest-run limit, crossings limit) from qicharts2.
        for (n, run, cross) in [(10, 6, 2), (11, 6, 2), (12, 7, 3), (20, 7, 6), (30, 8, 10), (50, 9, 19), (100, 10, 41)]
        {
            assert_eq!((longest_run_limit(n), crossings_limit(n)), (run, cross), "n = {n}");
        }
    }

    #[test]
    fn the_float_and_exact_crossing_limits_agree_where_both_work() {
        for m in [20, 60, 100, 120] {
            assert_eq!(qbinom_exact(m), qbinom_float(m), "m = {m}");
        }
        assert_eq!(crossings_limit(200), 88);
    }

    #[test]
    fn tiny_series_have_tiny_limits() {
        assert_eq!((longest_run_limit(1), crossings_limit(1)), (3, 0));
        assert_eq!((longest_run_limit(2), crossings_limit(2)), (4, 0));
    }

    #[test]
    fn points_on_the_median_are_not_useful_and_do_not_break_runs() {
        let r = run_chart(&[1.0, 2.0, 3.0, 3.0, 3.0, 5.0, 6.0]).unwrap().unwrap();
        assert_eq!(r.median, 3.0);
        assert_eq!((r.useful, r.longest_run, r.crossings), (4, 2, 1));
    }

    #[test]
    fn an_even_series_uses_the_mean_of_the_middle_pair() {
        let r = run_chart(&[4.0, 1.0, 3.0, 2.0]).unwrap().unwrap();
        assert_eq!(r.median, 2.5);
    }

    #[test]
    fn a_flat_or_empty_series_has_no_run_chart() {
        assert_eq!(run_chart(&[]), Ok(None));
        assert_eq!(run_chart(&[2.0, 2.0, 2.0]), Ok(None));
        assert!(run_chart(&[f64::NAN]).is_err());
    }

    #[test]
    fn a_shift_is_detected() {
        let v: Vec<f64> = (0..20).map(|i| if i < 12 { 1.0 + (i % 2) as f64 * 0.1 } else { 5.0 }).collect();
        let r = run_chart(&v).unwrap().unwrap();
        assert!(r.shift() && r.signal());
    }

    #[test]
    fn an_alternating_series_does_not_signal() {
        let v: Vec<f64> = (0..20).map(|i| (i % 2) as f64).collect();
        let r = run_chart(&v).unwrap().unwrap();
        assert_eq!((r.crossings, r.longest_run), (19, 1));
        assert!(!r.signal());
    }
}
