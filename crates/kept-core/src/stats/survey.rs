//! CSAT and CES from counts per score, comparing means, response rates and
//! pooling (METRICS.md §1.1, §1.3, §1.5, §1.6). NPS lives in `nps.rs`.
//!
//! Inputs are integer counts per score, never f64 averages (D-1): means and
//! variances are formed from exact integer sums and divided once.

use super::normal::Z95;
use super::proportion::{Interval, wilson};
use super::{StatsError, Tally};

/// More responses than this in one aggregate is a bug, not a survey; the
/// bound keeps every integer moment below 2^128.
pub(crate) const MAX_RESPONSES: u64 = 1 << 40;

/// A CSAT answer on the 5-point scale, 1 (very dissatisfied) ..= 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CsatScore(u8);

impl CsatScore {
    pub fn new(v: u8) -> Result<Self, StatsError> {
        (1..=5).contains(&v).then_some(Self(v)).ok_or(StatsError::invalid("csat_score", "must be 1..=5"))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A CES 2.0 answer, 1 (strongly disagree) ..= 7 (strongly agree); higher
/// is better, unlike CES 1.0, which must never be pooled with it (D-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CesScore(u8);

impl CesScore {
    pub fn new(v: u8) -> Result<Self, StatsError> {
        (1..=7).contains(&v).then_some(Self(v)).ok_or(StatsError::invalid("ces_score", "must be 1..=7"))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Valid CSAT responses per score; `counts[0]` is the number of 1s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsatCounts([u64; 5]);

impl CsatCounts {
    /// `Err` if the total exceeds [`MAX_RESPONSES`].
    pub fn new(counts: [u64; 5]) -> Result<Self, StatsError> {
        checked_total(&counts).map(|_| Self(counts))
    }
    pub fn record(&mut self, s: CsatScore) -> Result<(), StatsError> {
        bump(&mut self.0, usize::from(s.0 - 1))
    }
    pub fn n(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Valid CES 2.0 responses per score; `counts[0]` is the number of 1s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CesCounts([u64; 7]);

impl CesCounts {
    /// `Err` if the total exceeds [`MAX_RESPONSES`].
    pub fn new(counts: [u64; 7]) -> Result<Self, StatsError> {
        checked_total(&counts).map(|_| Self(counts))
    }
    pub fn record(&mut self, s: CesScore) -> Result<(), StatsError> {
        bump(&mut self.0, usize::from(s.0 - 1))
    }
    pub fn n(&self) -> u64 {
        self.0.iter().sum()
    }
}

fn checked_total(counts: &[u64]) -> Result<u64, StatsError> {
    counts
        .iter()
        .try_fold(0u64, |acc, &c| acc.checked_add(c))
        .filter(|&n| n <= MAX_RESPONSES)
        .ok_or(StatsError::invalid("counts", "more responses than any survey can have"))
}

fn bump(counts: &mut [u64], i: usize) -> Result<(), StatsError> {
    if checked_total(counts)? >= MAX_RESPONSES {
        return Err(StatsError::invalid("counts", "more responses than any survey can have"));
    }
    if let Some(c) = counts.get_mut(i) {
        *c += 1;
    }
    Ok(())
}

/// A sample mean with, from two responses on, its spread.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MeanEstimate {
    pub n: u64,
    pub mean: f64,
    /// `None` for a single response: the sample SD needs `n ≥ 2`.
    pub spread: Option<Spread>,
}

/// Sample SD (divisor `n − 1`), `SE = SD/√n` and the z interval
/// `mean ± Z95·SE` (§1.1).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Spread {
    pub sd: f64,
    pub se: f64,
    pub ci: Interval,
}

/// Mean of scores `1..=counts.len()` from counts; `None` when `n = 0`.
pub(crate) fn mean_estimate(counts: &[u64]) -> Option<MeanEstimate> {
    let (mut n, mut s1, mut s2) = (0u128, 0u128, 0u128);
    for (score, &c) in (1u128..).zip(counts) {
        n += u128::from(c);
        s1 += score * u128::from(c);
        s2 += score * score * u128::from(c);
    }
    if n == 0 {
        return None;
    }
    let mean = s1 as f64 / n as f64;
    // n·Σk²nₖ − (Σknₖ)² is an exact non-negative integer (Cauchy–Schwarz), so
    // the variance is divided once and cannot come out as −1e-17.
    let spread = (n >= 2).then(|| {
        let var = (n * s2 - s1 * s1) as f64 / (n * (n - 1)) as f64;
        let sd = var.sqrt();
        let se = sd / (n as f64).sqrt();
        Spread { sd, se, ci: Interval::around(mean, Z95 * se) }
    });
    Some(MeanEstimate { n: n as u64, mean, spread })
}

/// CSAT (§1.1): top-2 share with its Wilson interval, mean and bottom-2.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Csat {
    pub n: u64,
    /// `n₄ + n₅` of `n`: "CSAT" unless stated otherwise.
    pub top2: Tally,
    pub top2_rate: f64,
    pub top2_ci: Interval,
    /// `(n₁ + n₂)/n` (DSAT).
    pub bottom2_rate: f64,
    pub mean: MeanEstimate,
}

/// CSAT from counts; `None` when there are no valid responses (D-7).
pub fn csat(c: &CsatCounts) -> Option<Csat> {
    let [n1, n2, _, n4, n5] = c.0;
    let n = c.n();
    let top2 = Tally::new(n4 + n5, n).ok()?;
    let bottom2 = Tally::new(n1 + n2, n).ok()?;
    Some(Csat {
        n,
        top2,
        top2_rate: top2.rate()?,
        top2_ci: wilson(top2)?,
        bottom2_rate: bottom2.rate()?,
        mean: mean_estimate(&c.0)?,
    })
}

/// CES 2.0 (§1.3): mean, agree (5–7), disagree (1–3) and net.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Ces {
    pub n: u64,
    pub mean: MeanEstimate,
    pub agree: f64,
    pub disagree: f64,
    /// `agree − disagree`, formed from the integer counts.
    pub net: f64,
}

/// CES 2.0 from counts; `None` when there are no valid responses (D-7).
pub fn ces(c: &CesCounts) -> Option<Ces> {
    let [n1, n2, n3, _, n5, n6, n7] = c.0;
    let n = c.n();
    let (agree, disagree) = (n5 + n6 + n7, n1 + n2 + n3);
    // `mean_estimate` is `None` exactly when n = 0, so nf > 0 below.
    let mean = mean_estimate(&c.0)?;
    let nf = n as f64;
    Some(Ces {
        n,
        mean,
        agree: agree as f64 / nf,
        disagree: disagree as f64 / nf,
        net: (i128::from(agree) - i128::from(disagree)) as f64 / nf,
    })
}

/// Welch's statistic `(m₁ − m₂)/sqrt(s₁²/n₁ + s₂²/n₂)` for two means (§1.5).
///
/// `None` when either side has fewer than two responses or both SDs are 0.
pub fn welch_statistic(a: &MeanEstimate, b: &MeanEstimate) -> Option<f64> {
    let (sa, sb) = (a.spread?, b.spread?);
    let denom = sa.se.powi(2) + sb.se.powi(2);
    (denom > 0.0).then(|| (a.mean - b.mean) / denom.sqrt())
}

/// `valid_responses / surveys_delivered` (§1.6); `None` if nothing was delivered.
pub fn response_rate(valid_responses: u64, delivered: u64) -> Result<Option<f64>, StatsError> {
    Ok(Tally::new(valid_responses, delivered)?.rate())
}

/// The pooled rate `Σk / Σn` (D-13): the organisational figure.
pub fn pooled_rate(parts: &[Tally]) -> Result<Option<f64>, StatsError> {
    Ok(Tally::pooled(parts.iter().copied())?.rate())
}

/// The unweighted mean of per-part rates: a separately named metric (D-13),
/// never the organisational figure.
///
/// `None` if there are no parts or any part has no data: silently dropping a
/// team would change what the number means.
pub fn mean_of_rates(parts: &[Tally]) -> Option<f64> {
    let rates: Option<Vec<f64>> = parts.iter().map(|t| t.rate()).collect();
    let rates = rates.filter(|r| !r.is_empty())?;
    Some(rates.iter().sum::<f64>() / rates.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_outside_their_scale_are_refused() {
        assert!(CsatScore::new(0).is_err() && CsatScore::new(6).is_err());
        assert!(CesScore::new(0).is_err() && CesScore::new(8).is_err());
        assert_eq!(CsatScore::new(5).map(CsatScore::get), Ok(5));
    }

    #[test]
    fn recording_a_score_counts_it_under_that_score() {
        let mut c = CsatCounts::default();
        c.record(CsatScore::new(4).unwrap()).unwrap();
        c.record(CsatScore::new(4).unwrap()).unwrap();
        assert_eq!(c, CsatCounts::new([0, 0, 0, 2, 0]).unwrap());
    }

    #[test]
    fn absurd_totals_are_refused() {
        assert!(CsatCounts::new([MAX_RESPONSES, 1, 0, 0, 0]).is_err());
        assert!(CesCounts::new([u64::MAX, 1, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn no_responses_means_no_csat_and_no_ces() {
        assert_eq!(csat(&CsatCounts::default()), None);
        assert_eq!(ces(&CesCounts::default()), None);
    }

    #[test]
    fn a_single_response_has_a_mean_but_no_spread() {
        let c = csat(&CsatCounts::new([0, 0, 0, 1, 0]).unwrap()).unwrap();
        assert_eq!(c.mean.mean, 4.0);
        assert_eq!(c.mean.spread, None);
        assert_eq!(c.top2_rate, 1.0);
    }

    #[test]
    fn identical_answers_have_zero_spread_not_a_rounding_residue() {
        let c = ces(&CesCounts::new([0, 0, 0, 0, 0, 3, 0]).unwrap()).unwrap();
        assert_eq!(c.mean.spread.map(|s| s.sd), Some(0.0));
    }

    #[test]
    fn welch_needs_two_responses_on_each_side() {
        let one = mean_estimate(&[1]).unwrap();
        let two = mean_estimate(&[1, 1]).unwrap();
        assert_eq!(welch_statistic(&one, &two), None);
        assert!(welch_statistic(&two, &two).is_some_and(|w| w == 0.0));
    }

    #[test]
    fn mean_of_rates_refuses_a_team_without_data() {
        let parts = [Tally::new(1, 2).unwrap(), Tally::new(0, 0).unwrap()];
        assert_eq!(mean_of_rates(&parts), None);
        assert_eq!(mean_of_rates(&[]), None);
        assert_eq!(pooled_rate(&parts), Ok(Some(0.5)));
    }

    #[test]
    fn a_response_rate_above_one_is_refused() {
        assert!(response_rate(5, 4).is_err());
        assert_eq!(response_rate(0, 0), Ok(None));
    }
}
