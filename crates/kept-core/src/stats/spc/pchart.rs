//! p-charts with limits that vary with n, and Laney's p′ (METRICS.md §6.2).

use super::rules::{RuleSet, Signal, Zoned, signals};
use crate::stats::{StatsError, Tally};

/// Hartley's d₂ for moving ranges of two, as §6.2 writes it.
const D2: f64 = 1.128;

/// One period on a p-chart.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PPoint {
    pub tally: Tally,
    pub p: f64,
    /// σᵢ = sqrt(p̄(1 − p̄)/nᵢ), times σ_z on a Laney chart.
    pub sigma: f64,
    /// `min(1, p̄ + 3σᵢ)`.
    pub ucl: f64,
    /// `max(0, p̄ − 3σᵢ)`.
    pub lcl: f64,
    /// `(pᵢ − p̄)/σᵢ`: the rules use this scale (D-32).
    pub z: f64,
}

/// A p-chart: the pooled centre line and one point per period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PChart {
    /// p̄ = Σk/Σn, pooled, not the mean of the pᵢ.
    pub center: f64,
    pub points: Vec<PPoint>,
    /// Laney's σ_z when the limits were widened; `None` on a plain p-chart.
    pub laney_sigma_z: Option<f64>,
}

impl PChart {
    /// The points with their own zone lines, for the rules.
    pub fn zoned(&self) -> Vec<Zoned> {
        self.points
            .iter()
            .map(|pt| Zoned { value: pt.p, center: self.center, sigma: pt.sigma, three_sigma: 3.0 * pt.sigma })
            .collect()
    }

    /// Special-cause signals under `rules`.
    pub fn signals(&self, rules: &RuleSet) -> Vec<Signal> {
        signals(&self.zoned(), rules)
    }
}

/// A p-chart of `samples`; `None` for no samples. `Err` if a period has
/// `n = 0`: "no data" is not a point, so leave such periods out.
pub fn p_chart(samples: &[Tally]) -> Result<Option<PChart>, StatsError> {
    chart(samples, 1.0)
}

/// Laney's p′ chart: the p-chart's σᵢ times `σ_z = mean|zᵢ − zᵢ₋₁|/1.128`.
/// `None` with fewer than two samples (no moving range).
pub fn laney_p_chart(samples: &[Tally]) -> Result<Option<PChart>, StatsError> {
    let Some(plain) = chart(samples, 1.0)? else {
        return Ok(None);
    };
    if plain.points.len() < 2 {
        return Ok(None);
    }
    let ranges: Vec<f64> = plain.points.windows(2).map(|w| (w[1].z - w[0].z).abs()).collect();
    let sigma_z = ranges.iter().sum::<f64>() / ranges.len() as f64 / D2;
    Ok(chart(samples, sigma_z)?.map(|mut c| {
        c.laney_sigma_z = Some(sigma_z);
        c
    }))
}

/// The chart with every σᵢ multiplied by `widen` (1 for a plain p-chart).
fn chart(samples: &[Tally], widen: f64) -> Result<Option<PChart>, StatsError> {
    if samples.iter().any(|t| t.n() == 0) {
        return Err(StatsError::invalid("n", "a period without observations cannot be charted"));
    }
    let Some(pbar) = Tally::pooled(samples.iter().copied())?.rate() else {
        return Ok(None);
    };
    let points = samples
        .iter()
        .map(|&tally| {
            let p = tally.rate().unwrap_or(pbar);
            let sigma = (pbar * (1.0 - pbar) / tally.n() as f64).sqrt() * widen;
            PPoint {
                tally,
                p,
                sigma,
                ucl: (pbar + 3.0 * sigma).min(1.0),
                lcl: (pbar - 3.0 * sigma).max(0.0),
                z: z_score(p - pbar, sigma),
            }
        })
        .collect();
    Ok(Some(PChart { center: pbar, points, laney_sigma_z: None }))
}

/// `d/σ`, with σ = 0 (p̄ of 0 or 1) giving 0 on the centre line and ±∞ off it.
fn z_score(d: f64, sigma: f64) -> f64 {
    if sigma > 0.0 {
        d / sigma
    } else if d == 0.0 {
        0.0
    } else {
        d.signum() * f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::spc::{Rule, Side};

    fn tallies(pairs: &[(u64, u64)]) -> Vec<Tally> {
        pairs.iter().map(|&(k, n)| Tally::new(k, n).unwrap()).collect()
    }

    #[test]
    fn no_samples_no_chart_and_an_empty_period_is_refused() {
        assert_eq!(p_chart(&[]), Ok(None));
        assert!(p_chart(&tallies(&[(1, 10), (0, 0)])).is_err());
    }

    #[test]
    fn the_centre_line_is_pooled_not_the_mean_of_rates() {
        let c = p_chart(&tallies(&[(90, 100), (150, 200), (8, 10)])).unwrap().unwrap();
        assert_eq!(c.center, 0.8);
    }

    #[test]
    fn limits_are_wider_for_smaller_samples() {
        let c = p_chart(&tallies(&[(10, 100), (100, 1000)])).unwrap().unwrap();
        let (small, big) = (c.points[0], c.points[1]);
        assert!(small.ucl - small.lcl > big.ucl - big.lcl);
        assert!((small.sigma / big.sigma - 10f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_same_rate_can_signal_on_a_large_sample_only() {
        let c = p_chart(&tallies(&[(6000, 10_000), (7, 10), (700, 1000)])).unwrap().unwrap();
        let s = c.signals(&RuleSet::MONITORING);
        assert_eq!(s, [Signal { index: 2, rule: Rule::We1, side: Side::Above }]);
    }

    #[test]
    fn a_chart_at_zero_percent_has_collapsed_limits_and_no_signals() {
        let c = p_chart(&tallies(&[(0, 10), (0, 20)])).unwrap().unwrap();
        assert_eq!((c.points[0].ucl, c.points[0].lcl, c.points[0].z), (0.0, 0.0, 0.0));
        assert!(c.signals(&RuleSet::WESTERN_ELECTRIC).is_empty());
    }

    #[test]
    fn laney_needs_two_points_and_widens_overdispersed_data() {
        assert_eq!(laney_p_chart(&tallies(&[(5, 10)])), Ok(None));
        let data = tallies(&[(4000, 10000), (5000, 10000), (4200, 10000), (5100, 10000), (4500, 10000)]);
        let plain = p_chart(&data).unwrap().unwrap();
        let laney = laney_p_chart(&data).unwrap().unwrap();
        assert!(laney.laney_sigma_z.is_some_and(|s| s > 1.0));
        assert!(laney.points[0].ucl > plain.points[0].ucl);
        assert!(!plain.signals(&RuleSet::MONITORING).is_empty());
        assert!(laney.signals(&RuleSet::MONITORING).is_empty());
    }
}
