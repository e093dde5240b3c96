//! XmR (individuals and moving range) charts (METRICS.md §6.3).

use super::rules::{RuleSet, Signal, Zoned, signals};
use crate::stats::StatsError;

/// E₂ for the natural process limits; exactly 2.660 (D-31), not 3/1.128.
pub const E2: f64 = 2.660;
/// D₄ for the moving-range chart; exactly 3.267 (D-31), not Wheeler's 3.268.
pub const D4: f64 = 3.267;
/// The baseline length used when the caller does not choose one (D-30).
pub const BASELINE_DEFAULT: usize = 20;
/// Fewer baseline points than this give limits too unstable to act on (D-30).
pub const BASELINE_MIN: usize = 12;
/// Nelson's screen: moving ranges above 3.5·m̄R are left out of m̄R.
const SCREEN: f64 = 3.5;

/// Limits frozen from a baseline; recompute only for a confirmed process
/// change, as a new phase (D-30).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct XmrLimits {
    /// X̄ of the baseline.
    pub center: f64,
    /// m̄R = Σ|xᵢ − xᵢ₋₁|/(k − 1).
    pub mr_bar: f64,
    /// `X̄ + 2.660·m̄R`.
    pub unpl: f64,
    /// `X̄ − 2.660·m̄R` (not clamped: the values may be anything).
    pub lnpl: f64,
    /// `3.267·m̄R`, the upper range limit of the mR chart.
    pub url: f64,
    /// The zone width σ̂ = 2.660·m̄R/3.
    pub sigma: f64,
}

impl XmrLimits {
    /// Limits from exactly the points given; `Err` below [`BASELINE_MIN`]
    /// points or for a non-finite value.
    pub fn from_baseline(baseline: &[f64]) -> Result<Self, StatsError> {
        let ranges = moving_ranges(checked(baseline)?);
        Ok(Self::from_parts(mean(baseline), mean(&ranges)))
    }

    /// Limits from the first [`BASELINE_DEFAULT`] points of `values` (or all
    /// of them if fewer, but at least [`BASELINE_MIN`]).
    pub fn from_series(values: &[f64]) -> Result<Self, StatsError> {
        Self::from_baseline(&values[..values.len().min(BASELINE_DEFAULT)])
    }

    /// As [`Self::from_baseline`], but moving ranges above 3.5·m̄R are left
    /// out of m̄R (Nelson 1982, as QI Macros applies it): one wild jump in
    /// the baseline would otherwise widen the limits for good.
    pub fn from_baseline_screened(baseline: &[f64]) -> Result<Self, StatsError> {
        let ranges = moving_ranges(checked(baseline)?);
        let cut = SCREEN * mean(&ranges);
        let kept: Vec<f64> = ranges.into_iter().filter(|&r| r <= cut).collect();
        Ok(Self::from_parts(mean(baseline), mean(&kept)))
    }

    fn from_parts(center: f64, mr_bar: f64) -> Self {
        let half = E2 * mr_bar;
        Self { center, mr_bar, unpl: center + half, lnpl: center - half, url: D4 * mr_bar, sigma: half / 3.0 }
    }

    /// `values` with their zone lines; the outer line is exactly UNPL/LNPL.
    pub fn zoned(&self, values: &[f64]) -> Vec<Zoned> {
        let three_sigma = E2 * self.mr_bar;
        values.iter().map(|&value| Zoned { value, center: self.center, sigma: self.sigma, three_sigma }).collect()
    }

    /// Special-cause signals of the individuals under `rules`.
    pub fn signals(&self, values: &[f64], rules: &RuleSet) -> Vec<Signal> {
        signals(&self.zoned(values), rules)
    }

    /// Indices `i` whose moving range `|xᵢ − xᵢ₋₁|` exceeds the URL.
    pub fn moving_range_signals(&self, values: &[f64]) -> Vec<usize> {
        (1..values.len()).filter(|&i| (values[i] - values[i - 1]).abs() > self.url).collect()
    }
}

fn checked(baseline: &[f64]) -> Result<&[f64], StatsError> {
    if baseline.len() < BASELINE_MIN {
        return Err(StatsError::BaselineTooShort { len: baseline.len(), min: BASELINE_MIN });
    }
    if baseline.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::invalid("baseline", "values must be finite"));
    }
    Ok(baseline)
}

fn moving_ranges(xs: &[f64]) -> Vec<f64> {
    xs.windows(2).map(|w| (w[1] - w[0]).abs()).collect()
}

/// Mean of a non-empty slice (callers guarantee ≥ 11 ranges).
fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::spc::{Rule, Side};

    /// 10, 11, 10, 11, …: X̄ = 10.5, m̄R = 1.
    fn zigzag(n: usize) -> Vec<f64> {
        (0..n).map(|i| 10.0 + (i % 2) as f64).collect()
    }

    #[test]
    fn a_baseline_of_fewer_than_twelve_points_is_refused() {
        assert_eq!(XmrLimits::from_baseline(&zigzag(11)), Err(StatsError::BaselineTooShort { len: 11, min: 12 }));
        assert!(XmrLimits::from_baseline(&zigzag(12)).is_ok());
        assert!(XmrLimits::from_series(&zigzag(11)).is_err());
    }

    #[test]
    fn non_finite_values_are_refused() {
        let mut v = zigzag(12);
        v[3] = f64::NAN;
        assert!(XmrLimits::from_baseline(&v).is_err());
    }

    #[test]
    fn limits_use_exactly_2_660_and_3_267() {
        let l = XmrLimits::from_baseline(&zigzag(20)).unwrap();
        assert_eq!((l.center, l.mr_bar), (10.5, 1.0));
        assert_eq!((l.unpl, l.lnpl, l.url), (10.5 + 2.660, 10.5 - 2.660, 3.267));
    }

    #[test]
    fn the_default_baseline_is_the_first_twenty_points() {
        let mut v = zigzag(20);
        v.extend([100.0; 5]);
        assert_eq!(XmrLimits::from_series(&v), XmrLimits::from_baseline(&zigzag(20)));
    }

    #[test]
    fn a_point_exactly_on_the_unpl_is_not_a_signal() {
        let l = XmrLimits::from_baseline(&zigzag(20)).unwrap();
        assert!(l.signals(&[l.unpl, l.lnpl], &RuleSet::WESTERN_ELECTRIC).is_empty());
        let above = l.signals(&[l.unpl + 1e-9], &RuleSet::WESTERN_ELECTRIC);
        assert_eq!(above, [Signal { index: 0, rule: Rule::We1, side: Side::Above }]);
    }

    #[test]
    fn a_point_exactly_on_the_centre_line_breaks_a_run() {
        let l = XmrLimits::from_baseline(&zigzag(20)).unwrap();
        let mut v = vec![11.0; 7];
        v.push(l.center);
        v.extend([11.0; 7]);
        assert!(l.signals(&v, &RuleSet::MONITORING).is_empty());
    }

    #[test]
    fn the_screen_drops_one_wild_range() {
        let mut v = zigzag(20);
        v[10] = 40.0;
        let plain = XmrLimits::from_baseline(&v).unwrap();
        let screened = XmrLimits::from_baseline_screened(&v).unwrap();
        assert!(screened.mr_bar < plain.mr_bar);
        // The two ranges of 29 are dropped; the 17 ranges of 1 remain.
        assert_eq!(screened.mr_bar, 1.0);
    }

    #[test]
    fn jumps_beyond_the_url_are_flagged_on_the_range_chart() {
        let l = XmrLimits::from_baseline(&zigzag(20)).unwrap();
        assert_eq!(l.moving_range_signals(&[10.0, 13.0, 16.5, 16.0]), [2]);
    }
}
