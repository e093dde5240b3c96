//! Proportions: Wilson intervals, comparing two periods, sample sizes
//! (METRICS.md §1.4–§1.6).

use super::error::positive;
use super::normal::{Z95, two_sided_p};
use super::{StatsError, Tally};

/// A closed interval `[lower, upper]`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    /// Whether `x` lies in `[lower, upper]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// `upper − lower`.
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }

    pub(crate) fn around(centre: f64, half: f64) -> Self {
        Self { lower: centre - half, upper: centre + half }
    }

    pub(crate) fn clamped(self, lo: f64, hi: f64) -> Self {
        Self { lower: self.lower.clamp(lo, hi), upper: self.upper.clamp(lo, hi) }
    }
}

/// The 95 % Wilson score interval for `k/n` (§1.4); `None` when `n = 0`.
pub fn wilson(t: Tally) -> Option<Interval> {
    wilson_with_z(t, Z95)
}

/// The Wilson interval with an arbitrary critical value `z`.
///
/// Exists so that D-2's contrast (1.96 against Z95) can be shown; kept itself
/// always uses [`wilson`].
pub fn wilson_with_z(t: Tally, z: f64) -> Option<Interval> {
    let p = t.rate()?;
    let n = t.n() as f64;
    let z2n = z * z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = (z / (1.0 + z2n)) * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt();
    let i = Interval::around(centre, half).clamped(0.0, 1.0);
    // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); rounding
    // would otherwise leave ±1 ulp, an interval that misses p̂ itself.
    Some(Interval { lower: if t.k() == 0 { 0.0 } else { i.lower }, upper: if t.k() == t.n() { 1.0 } else { i.upper } })
}

/// The Wald margin `Z95·sqrt(p̂(1−p̂)/n)`: only for the FPC illustration of
/// §1.6; use [`wilson`] for intervals.
pub fn wald_margin(t: Tally) -> Option<f64> {
    let p = t.rate()?;
    Some(Z95 * (p * (1.0 - p) / t.n() as f64).sqrt())
}

/// Newcombe's hybrid score interval for `p₁ − p₂` (method 10).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Newcombe {
    /// `d = p₁ − p₂`.
    pub diff: f64,
    pub interval: Interval,
}

impl Newcombe {
    /// D-12: a change is "significant" iff the interval excludes 0.
    pub fn significant(&self) -> bool {
        !self.interval.contains(0.0)
    }
}

/// Newcombe's interval for `a − b`; `None` if either has no data.
pub fn newcombe(a: Tally, b: Tally) -> Option<Newcombe> {
    let (p1, p2) = (a.rate()?, b.rate()?);
    let (w1, w2) = (wilson(a)?, wilson(b)?);
    let d = p1 - p2;
    let lower = d - ((p1 - w1.lower).powi(2) + (w2.upper - p2).powi(2)).sqrt();
    let upper = d + ((w1.upper - p1).powi(2) + (p2 - w2.lower).powi(2)).sqrt();
    Some(Newcombe { diff: d, interval: Interval { lower, upper } })
}

/// A z statistic with its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ZTest {
    pub z: f64,
    pub p_value: f64,
}

impl ZTest {
    pub(crate) fn from_z(z: f64) -> Self {
        Self { z, p_value: two_sided_p(z) }
    }
}

/// The pooled two-proportion z test (§1.5), shown as information next to
/// Newcombe (D-12).
///
/// `None` when either side has no data, or when the pooled rate is 0 or 1:
/// then both samples are identical and the statistic is 0/0.
pub fn two_proportion_z(a: Tally, b: Tally) -> Option<ZTest> {
    let (p1, p2) = (a.rate()?, b.rate()?);
    let pooled = Tally::pooled([a, b]).ok()?;
    let pbar = pooled.rate()?;
    let var = pbar * (1.0 - pbar) * (1.0 / a.n() as f64 + 1.0 / b.n() as f64);
    (var > 0.0).then(|| ZTest::from_z((p1 - p2) / var.sqrt()))
}

/// The finite population correction `sqrt((N − n)/(N − 1))` for a sample of
/// `n` out of a population of `N` (§1.6).
///
/// `Err` if `n > N`; `None` when `N ≤ 1` (the factor is 0/0).
pub fn finite_population_correction(population: u64, sample: u64) -> Result<Option<f64>, StatsError> {
    if sample > population {
        return Err(StatsError::invalid("sample", "larger than the population"));
    }
    if population <= 1 {
        return Ok(None);
    }
    Ok(Some(((population - sample) as f64 / (population - 1) as f64).sqrt()))
}

/// The smallest `n` with `Z95·sqrt(variance/n) ≤ margin`: `⌈Z95²·Var/E²⌉`.
///
/// `variance` is the per-respondent variance (`p(1−p)` for a proportion,
/// `Var(x)` for NPS in proportion units); `margin` is in the same units
/// (0.05 = ±5 points).
pub fn sample_size_for_margin(variance: f64, margin: f64) -> Result<u64, StatsError> {
    let margin = positive("margin", margin)?;
    if !(variance.is_finite() && variance >= 0.0) {
        return Err(StatsError::invalid("variance", "must be finite and ≥ 0"));
    }
    let n = (Z95 * Z95 * variance / (margin * margin)).ceil();
    if n >= u64::MAX as f64 {
        return Err(StatsError::Overflow("sample size"));
    }
    Ok(n as u64)
}

/// Sample size for ±`margin` on a proportion near `p`: `⌈Z95²·p(1−p)/E²⌉`.
pub fn sample_size_for_proportion(p: f64, margin: f64) -> Result<u64, StatsError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(StatsError::invalid("p", "must be in [0, 1]"));
    }
    sample_size_for_margin(p * (1.0 - p), margin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(k: u64, n: u64) -> Tally {
        Tally::new(k, n).unwrap()
    }

    #[test]
    fn wilson_has_no_interval_without_data() {
        assert_eq!(wilson(t(0, 0)), None);
    }

    #[test]
    fn wilson_at_k_zero_starts_exactly_at_zero() {
        let i = wilson(t(0, 20)).unwrap();
        assert_eq!(i.lower, 0.0);
        assert!(i.upper > 0.0);
    }

    #[test]
    fn wilson_at_k_equal_n_ends_exactly_at_one() {
        // 77/77 once came out as 0.9999999999999999 before the exact ends.
        for n in [1, 29, 77, 1000] {
            let i = wilson(t(n, n)).unwrap();
            assert_eq!(i.upper, 1.0);
            assert!(i.lower < 1.0);
            assert_eq!(wilson(t(0, n)).unwrap().lower, 0.0);
        }
    }

    #[test]
    fn wilson_of_a_single_trial_is_wide_but_proper() {
        let i = wilson(t(1, 1)).unwrap();
        assert!(i.lower > 0.0 && i.lower < 0.3 && i.upper == 1.0);
    }

    #[test]
    fn identical_samples_are_not_a_significant_change() {
        let n = newcombe(t(40, 50), t(40, 50));
        assert_eq!(n.map(|n| n.significant()), Some(false));
        assert_eq!(n.map(|n| n.diff), Some(0.0));
    }

    #[test]
    fn newcombe_needs_data_on_both_sides() {
        assert_eq!(newcombe(t(1, 2), t(0, 0)), None);
        assert_eq!(newcombe(t(0, 0), t(1, 2)), None);
    }

    #[test]
    fn z_test_is_undefined_when_every_trial_succeeded() {
        assert_eq!(two_proportion_z(t(5, 5), t(7, 7)), None);
        assert_eq!(two_proportion_z(t(0, 5), t(0, 7)), None);
    }

    #[test]
    fn z_test_is_antisymmetric() {
        let ab = two_proportion_z(t(56, 70), t(48, 80));
        let ba = two_proportion_z(t(48, 80), t(56, 70));
        assert_eq!(ab.map(|x| -x.z), ba.map(|x| x.z));
        assert_eq!(ab.map(|x| x.p_value), ba.map(|x| x.p_value));
    }

    #[test]
    fn fpc_refuses_a_sample_bigger_than_the_population() {
        assert!(finite_population_correction(10, 11).is_err());
        assert_eq!(finite_population_correction(1, 1), Ok(None));
        assert_eq!(finite_population_correction(10, 10), Ok(Some(0.0)));
    }

    #[test]
    fn sample_sizes_refuse_a_zero_margin_and_bad_p() {
        assert!(sample_size_for_margin(1.0, 0.0).is_err());
        assert!(sample_size_for_margin(-1.0, 0.05).is_err());
        assert!(sample_size_for_proportion(1.5, 0.05).is_err());
        assert_eq!(sample_size_for_proportion(1.0, 0.05), Ok(0));
    }

    proptest! {
        #[test]
        fn wilson_contains_the_estimate_and_stays_in_the_unit_interval(n in 1u64..5000, k in 0u64..5000) {
            let k = k % (n + 1);
            let i = wilson(t(k, n));
            let i = i.unwrap();
            let p = k as f64 / n as f64;
            prop_assert!(0.0 <= i.lower && i.lower <= p && p <= i.upper && i.upper <= 1.0);
        }

        #[test]
        fn newcombe_contains_the_difference(
            n1 in 1u64..2000, k1 in 0u64..2000, n2 in 1u64..2000, k2 in 0u64..2000,
        ) {
            let (a, b) = (t(k1 % (n1 + 1), n1), t(k2 % (n2 + 1), n2));
            let r = newcombe(a, b);
            prop_assert!(r.is_some_and(|r| r.interval.contains(r.diff)));
            prop_assert!(r.is_some_and(|r| r.interval.lower >= -1.0 && r.interval.upper <= 1.0));
        }
    }
}
