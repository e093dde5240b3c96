//! Targets in exact integers, RAG status and the balanced score
//! (METRICS.md D-3, §5.4).

use super::proportion::wilson;
use super::{StatsError, Tally};

const ONE: u64 = 1_000_000;

/// A target, threshold or SLO level in parts per million of the metric's
/// unit: 85 % is `Ppm(850_000)`, 360 s is `Ppm(360_000_000)` (D-3).
///
/// Integers because `1 − 0.999` is not 0.001 in f64, and a target must be
/// met or missed by the counts, not by rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Ppm(u64);

impl Ppm {
    pub const ZERO: Self = Self(0);
    /// 100 %.
    pub const ONE: Self = Self(ONE);

    pub const fn new(ppm: u64) -> Self {
        Self(ppm)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Basis points (1 bp = 100 ppm); `Err` on overflow.
    pub fn from_basis_points(bp: u64) -> Result<Self, StatsError> {
        bp.checked_mul(100).map(Self).ok_or(StatsError::Overflow("basis points"))
    }

    /// Parses a percentage written in decimal, such as `"99.9"` or `"85"`,
    /// exactly. More than four decimals (finer than 1 ppm) is refused rather
    /// than rounded.
    pub fn from_percent_str(s: &str) -> Result<Self, StatsError> {
        let bad = || StatsError::invalid("percent", "expected digits with at most 4 decimals");
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > 4 || (s.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let int: u64 = int.parse().map_err(|_| bad())?;
        let frac_ppm: u64 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
        int.checked_mul(10_000).and_then(|p| p.checked_add(frac_ppm)).map(Self).ok_or(StatsError::Overflow("percent"))
    }

    /// As a fraction of one; for display and float maths only.
    pub fn as_fraction(self) -> f64 {
        self.0 as f64 / ONE as f64
    }
}

/// Whether higher or lower values of a metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// Red/amber/green, or grey for too little or no data (D-29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Rag {
    Green,
    Amber,
    Red,
    /// `n < n_min` (D-8) or no data (D-7).
    Grey,
}

/// A target with an amber tolerance, a direction and a minimum sample (D-29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RagRule {
    pub target: Ppm,
    pub tolerance: Ppm,
    pub direction: Direction,
    /// Below this many observations the status is Grey (D-8: 30 for surveys).
    pub min_sample: u64,
}

impl RagRule {
    /// Compares `num/den` with the target, exactly: `num·10⁶` against
    /// `target·den` in u128 (D-3). `den` is also the sample size for D-8.
    pub fn classify(&self, num: u64, den: u64) -> Rag {
        if den == 0 || den < self.min_sample {
            return Rag::Grey;
        }
        let x = u128::from(num) * u128::from(ONE);
        let at = |limit: u64| u128::from(limit) * u128::from(den);
        let (t, a) = (self.target.0, self.tolerance.0);
        match self.direction {
            Direction::HigherIsBetter if x >= at(t) => Rag::Green,
            Direction::HigherIsBetter if x >= at(t.saturating_sub(a)) => Rag::Amber,
            Direction::LowerIsBetter if x <= at(t) => Rag::Green,
            Direction::LowerIsBetter if x <= at(t).saturating_add(at(a)) => Rag::Amber,
            _ => Rag::Red,
        }
    }

    /// The RAG status of a proportion.
    pub fn classify_tally(&self, t: Tally) -> Rag {
        self.classify(t.k(), t.n())
    }

    /// "Red (significant)" (§5.4): Red, and the whole Wilson interval lies
    /// beyond the amber band, so chance alone is an unlikely explanation.
    pub fn significantly_red(&self, t: Tally) -> bool {
        let Some(ci) = wilson(t) else { return false };
        if self.classify_tally(t) != Rag::Red {
            return false;
        }
        match self.direction {
            Direction::HigherIsBetter => ci.upper < Ppm(self.target.0.saturating_sub(self.tolerance.0)).as_fraction(),
            Direction::LowerIsBetter => ci.lower > Ppm(self.target.0.saturating_add(self.tolerance.0)).as_fraction(),
        }
    }
}

/// One KPI of a balanced scorecard with its worst/best normalisation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kpi {
    pub actual: f64,
    /// Scores 0. For lower-is-better KPIs worst > best, which the formula
    /// handles without a direction flag.
    pub worst: f64,
    /// Scores 1.
    pub best: f64,
    pub weight: Ppm,
}

impl Kpi {
    /// `clamp((actual − worst)/(best − worst), 0, 1)`.
    pub fn score(&self) -> f64 {
        ((self.actual - self.worst) / (self.best - self.worst)).clamp(0.0, 1.0)
    }
}

/// KPIs whose weights sum to exactly 1 and whose worst ≠ best.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BalancedScorecard(Vec<Kpi>);

impl BalancedScorecard {
    pub fn new(kpis: Vec<Kpi>) -> Result<Self, StatsError> {
        let total: u128 = kpis.iter().map(|k| u128::from(k.weight.0)).sum();
        if total != u128::from(ONE) {
            return Err(StatsError::invalid("weight", "weights must sum to exactly 1 000 000 ppm"));
        }
        for k in &kpis {
            if !(k.actual.is_finite() && k.worst.is_finite() && k.best.is_finite()) {
                return Err(StatsError::invalid("kpi", "actual, worst and best must be finite"));
            }
            if k.worst == k.best {
                return Err(StatsError::invalid("kpi", "worst and best must differ"));
            }
        }
        Ok(Self(kpis))
    }

    pub fn kpis(&self) -> &[Kpi] {
        &self.0
    }

    /// `Σ wᵢ·scoreᵢ`.
    pub fn balanced(&self) -> f64 {
        self.0.iter().map(|k| k.weight.as_fraction() * k.score()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(direction: Direction) -> RagRule {
        RagRule { target: Ppm(850_000), tolerance: Ppm(30_000), direction, min_sample: 30 }
    }

    #[test]
    fn percentages_parse_exactly() {
        assert_eq!(Ppm::from_percent_str("99.9"), Ok(Ppm(999_000)));
        assert_eq!(Ppm::from_percent_str("85"), Ok(Ppm(850_000)));
        assert_eq!(Ppm::from_percent_str("0.0001"), Ok(Ppm(1)));
        assert_eq!(Ppm::from_percent_str("105.5"), Ok(Ppm(1_055_000)));
    }

    #[test]
    fn malformed_or_over_precise_percentages_are_refused() {
        for s in ["", ".5", "5.", "99.99999", "-1", "1e2", "9 9", "+5"] {
            assert!(Ppm::from_percent_str(s).is_err(), "{s}");
        }
    }

    #[test]
    fn basis_points_are_hundreds_of_ppm() {
        assert_eq!(Ppm::from_basis_points(3000), Ok(Ppm(300_000)));
    }

    #[test]
    fn exactly_on_the_target_is_green_and_exactly_on_the_amber_line_is_amber() {
        assert_eq!(rule(Direction::HigherIsBetter).classify(85, 100), Rag::Green);
        assert_eq!(rule(Direction::HigherIsBetter).classify(82, 100), Rag::Amber);
        assert_eq!(rule(Direction::LowerIsBetter).classify(85, 100), Rag::Green);
        assert_eq!(rule(Direction::LowerIsBetter).classify(88, 100), Rag::Amber);
        assert_eq!(rule(Direction::LowerIsBetter).classify(881, 1000), Rag::Red);
    }

    #[test]
    fn no_data_or_too_little_data_is_grey() {
        let r = rule(Direction::HigherIsBetter);
        assert_eq!(r.classify(0, 0), Rag::Grey);
        assert_eq!(r.classify(29, 29), Rag::Grey);
        assert_eq!(r.classify(30, 30), Rag::Green);
    }

    #[test]
    fn a_tolerance_bigger_than_the_target_does_not_underflow() {
        let r = RagRule { target: Ppm(10_000), tolerance: Ppm(50_000), ..rule(Direction::HigherIsBetter) };
        assert_eq!(r.classify(0, 100), Rag::Amber);
    }

    #[test]
    fn red_is_significant_only_when_the_whole_interval_is_below_the_amber_band() {
        let r = rule(Direction::HigherIsBetter);
        assert!(!r.significantly_red(Tally::new(24, 30).unwrap()));
        assert!(r.significantly_red(Tally::new(600, 1000).unwrap()));
        assert!(!r.significantly_red(Tally::new(900, 1000).unwrap()));
        let low = rule(Direction::LowerIsBetter);
        assert!(low.significantly_red(Tally::new(950, 1000).unwrap()));
    }

    #[test]
    fn scorecard_weights_must_sum_to_exactly_one() {
        let k = |w| Kpi { actual: 1.0, worst: 0.0, best: 2.0, weight: Ppm(w) };
        assert!(BalancedScorecard::new(vec![k(500_000), k(499_999)]).is_err());
        assert!(BalancedScorecard::new(vec![k(500_000), k(500_000)]).is_ok());
        let flat = Kpi { worst: 1.0, best: 1.0, ..k(1_000_000) };
        assert!(BalancedScorecard::new(vec![flat]).is_err());
    }

    #[test]
    fn kpi_scores_are_clamped_and_work_for_lower_is_better() {
        let cost = |actual| Kpi { actual, worst: 35.0, best: 12.0, weight: Ppm::ONE };
        assert_eq!(cost(40.0).score(), 0.0);
        assert_eq!(cost(10.0).score(), 1.0);
        assert!((cost(23.5).score() - 0.5).abs() < 1e-15);
    }
}
