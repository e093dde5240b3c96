//! Percentiles of durations (D-6): Hyndman–Fan type 7 by default,
//! nearest-rank when named.
//!
//! The quantile is an integer number of parts per million, so `h = (n−1)·q`
//! and `⌈q·n⌉` are exact: with an f64 q, `0.7 · 10` is 7.000000000000001 and
//! nearest-rank would pick the 8th value instead of the 7th.

use super::StatsError;

const ONE: u128 = 1_000_000;

/// A quantile `q ∈ [0, 1]` in parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantile(u32);

impl Quantile {
    pub const MIN: Self = Self(0);
    pub const MEDIAN: Self = Self(500_000);
    pub const P90: Self = Self(900_000);
    pub const P95: Self = Self(950_000);
    pub const P99: Self = Self(990_000);
    pub const MAX: Self = Self(1_000_000);

    /// `Err` above 1 000 000 ppm.
    pub fn from_ppm(ppm: u32) -> Result<Self, StatsError> {
        (u128::from(ppm) <= ONE).then_some(Self(ppm)).ok_or(StatsError::invalid("quantile", "must be ≤ 1 000 000 ppm"))
    }

    pub fn ppm(self) -> u32 {
        self.0
    }
}

/// Values (e.g. seconds) sorted ascending; sorted by construction, so the
/// percentile functions cannot be handed an unsorted slice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SortedSample(Vec<i64>);

impl SortedSample {
    /// Sorts `values`.
    pub fn new(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        Self(values)
    }

    pub fn as_slice(&self) -> &[i64] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Type 7: `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])` with `h = (n−1)·q`;
    /// `None` for an empty sample.
    pub fn type7(&self, q: Quantile) -> Option<f64> {
        let n = self.0.len();
        let h = (n.checked_sub(1)? as u128) * u128::from(q.0);
        let (lo, frac) = (usize::try_from(h / ONE).ok()?, h % ONE);
        let x_lo = *self.0.get(lo)?;
        if frac == 0 {
            return Some(x_lo as f64);
        }
        let x_hi = *self.0.get(lo + 1)?;
        let step = (i128::from(x_hi) - i128::from(x_lo)) as f64;
        Some(x_lo as f64 + (frac as f64 / ONE as f64) * step)
    }

    /// Nearest rank, `x[⌈q·n⌉ − 1]` (and `x[0]` for q = 0); `None` if empty.
    pub fn nearest_rank(&self, q: Quantile) -> Option<i64> {
        let n = self.0.len() as u128;
        let rank = (u128::from(q.0) * n).div_ceil(ONE);
        let i = usize::try_from(rank.saturating_sub(1)).ok()?;
        self.0.get(i).copied()
    }

    /// The arithmetic mean (for Little's-law arithmetic, not reporting).
    pub fn mean(&self) -> Option<f64> {
        let sum: i128 = self.0.iter().map(|&x| i128::from(x)).sum();
        (!self.0.is_empty()).then(|| sum as f64 / self.0.len() as f64)
    }

    /// The share of values strictly above `threshold` ("older than 48 h").
    pub fn share_above(&self, threshold: i64) -> Option<f64> {
        let above = self.0.len() - self.0.partition_point(|&x| x <= threshold);
        (!self.0.is_empty()).then(|| above as f64 / self.0.len() as f64)
    }
}

impl From<Vec<i64>> for SortedSample {
    fn from(values: Vec<i64>) -> Self {
        Self::new(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(ppm: u32) -> Quantile {
        Quantile::from_ppm(ppm).unwrap()
    }

    #[test]
    fn an_empty_sample_has_no_percentiles() {
        let s = SortedSample::default();
        assert_eq!(s.type7(Quantile::MEDIAN), None);
        assert_eq!(s.nearest_rank(Quantile::MEDIAN), None);
        assert_eq!(s.mean(), None);
        assert_eq!(s.share_above(0), None);
    }

    #[test]
    fn quantiles_above_one_are_refused() {
        assert!(Quantile::from_ppm(1_000_001).is_err());
        assert_eq!(Quantile::from_ppm(1_000_000), Ok(Quantile::MAX));
    }

    #[test]
    fn a_single_value_is_every_percentile() {
        let s = SortedSample::new(vec![42]);
        for p in [0, 1, 500_000, 999_999, 1_000_000] {
            assert_eq!(s.type7(q(p)), Some(42.0));
            assert_eq!(s.nearest_rank(q(p)), Some(42));
        }
    }

    #[test]
    fn nearest_rank_does_not_suffer_from_float_products() {
        // 0.7 · 10 = 7.000000000000001 in f64; the 7th value is wanted.
        let s = SortedSample::new((1..=10).collect());
        assert_eq!(s.nearest_rank(q(700_000)), Some(7));
        assert_eq!(s.nearest_rank(Quantile::MIN), Some(1));
        assert_eq!(s.nearest_rank(Quantile::MAX), Some(10));
    }

    #[test]
    fn type7_endpoints_are_the_minimum_and_maximum() {
        let s = SortedSample::new(vec![9, -3, 4]);
        assert_eq!(s.type7(Quantile::MIN), Some(-3.0));
        assert_eq!(s.type7(Quantile::MAX), Some(9.0));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let s = SortedSample::new(vec![i64::MIN, i64::MAX]);
        assert!(s.type7(Quantile::MEDIAN).is_some_and(|m| m.abs() < 2.0));
        assert!(s.mean().is_some_and(|m| m.abs() < 2.0));
    }

    #[test]
    fn share_above_is_strict() {
        let s = SortedSample::new(vec![48, 48, 49, 50]);
        assert_eq!(s.share_above(48), Some(0.5));
    }

    proptest! {
        #[test]
        fn type7_is_monotone_in_q_and_between_min_and_max(
            mut xs in proptest::collection::vec(-1_000_000_000i64..1_000_000_000, 1..60),
            a in 0u32..=1_000_000, b in 0u32..=1_000_000,
        ) {
            xs.sort_unstable();
            let (lo, hi) = (xs[0] as f64, xs[xs.len() - 1] as f64);
            let s = SortedSample::new(xs);
            let (qa, qb) = (q(a.min(b)), q(a.max(b)));
            let (va, vb) = (s.type7(qa).unwrap(), s.type7(qb).unwrap());
            prop_assert!(va <= vb);
            prop_assert!(lo <= va && vb <= hi);
        }
    }
}
