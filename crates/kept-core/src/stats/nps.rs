//! Net Promoter Score with the trinomial standard error (METRICS.md §1.2).
//!
//! NPS is a difference of two proportions, not a proportion: its interval
//! comes from the variance of x ∈ {+1, 0, −1}, never from Wilson.

use super::StatsError;
use super::normal::{Z95, two_sided_p};
use super::proportion::Interval;
use super::survey::MAX_RESPONSES;

/// An answer to "how likely are you to recommend us", 0 ..= 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NpsScore(u8);

impl NpsScore {
    pub fn new(v: u8) -> Result<Self, StatsError> {
        (v <= 10).then_some(Self(v)).ok_or(StatsError::invalid("nps_score", "must be 0..=10"))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Promoters (9–10), passives (7–8) and detractors (0–6). Blanks are not
/// passives: they are simply not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NpsCounts {
    promoters: u64,
    passives: u64,
    detractors: u64,
}

impl NpsCounts {
    /// `Err` if the total exceeds any plausible survey.
    pub fn new(promoters: u64, passives: u64, detractors: u64) -> Result<Self, StatsError> {
        let c = Self { promoters, passives, detractors };
        c.checked_n().map(|_| c)
    }

    /// From counts per score; `counts[s]` is the number of answers `s`.
    pub fn from_scores(counts: [u64; 11]) -> Result<Self, StatsError> {
        let sum = |r: std::ops::RangeInclusive<usize>| -> Option<u64> {
            counts[r].iter().try_fold(0u64, |a, &c| a.checked_add(c))
        };
        let overflow = StatsError::invalid("counts", "more responses than any survey can have");
        match (sum(9..=10), sum(7..=8), sum(0..=6)) {
            (Some(p), Some(pa), Some(d)) => Self::new(p, pa, d),
            _ => Err(overflow),
        }
    }

    pub fn record(&mut self, s: NpsScore) -> Result<(), StatsError> {
        let mut next = *self;
        match s.0 {
            9..=10 => next.promoters += 1,
            7..=8 => next.passives += 1,
            _ => next.detractors += 1,
        }
        next.checked_n()?;
        *self = next;
        Ok(())
    }

    pub fn n(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    fn checked_n(&self) -> Result<u64, StatsError> {
        self.promoters
            .checked_add(self.passives)
            .and_then(|s| s.checked_add(self.detractors))
            .filter(|&n| n <= MAX_RESPONSES)
            .ok_or(StatsError::invalid("counts", "more responses than any survey can have"))
    }
}

/// NPS in points (−100 … +100) with its plug-in trinomial SE (D-9).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Nps {
    pub n: u64,
    pub nps: f64,
    /// `Var(x) = p + d − (p − d)²`, in proportion units.
    pub variance: f64,
    /// `100·sqrt(Var(x)/n)`, in points.
    pub se: f64,
    /// `nps ± Z95·se`, clamped to [−100, 100].
    pub ci: Interval,
}

/// NPS from counts; `None` when there are no responses (D-7).
pub fn nps(c: &NpsCounts) -> Option<Nps> {
    let n = i128::from(c.n());
    if n == 0 {
        return None;
    }
    let (p, d) = (i128::from(c.promoters), i128::from(c.detractors));
    // Var(x)·n² = n(P + D) − (P − D)², an exact integer ≥ 0.
    let variance = (n * (p + d) - (p - d).pow(2)) as f64 / (n * n) as f64;
    let nf = n as f64;
    let score = 100.0 * (p - d) as f64 / nf;
    let se = 100.0 * (variance / nf).sqrt();
    let ci = Interval::around(score, Z95 * se).clamped(-100.0, 100.0);
    Some(Nps { n: c.n(), nps: score, variance, se, ci })
}

/// The adjusted-Wald interval (n + 3, P and D + ¾), centred on its own NPS′
/// (D-10); the headline NPS stays the unadjusted one.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NpsAdjusted {
    pub nps: f64,
    pub se: f64,
    /// Clamped to [−100, 100] like the plain interval: a bound outside the
    /// scale carries no information.
    pub ci: Interval,
}

/// The adjusted-Wald NPS interval; `None` without responses (D-7), even
/// though the adjustment alone would produce a number.
pub fn nps_adjusted_wald(c: &NpsCounts) -> Option<NpsAdjusted> {
    let n = i128::from(c.n());
    if n == 0 {
        return None;
    }
    let (p, d) = (i128::from(c.promoters), i128::from(c.detractors));
    let n3 = n + 3;
    // p′ + d′ = (4P + 4D + 6)/(4n′) and p′ − d′ = (P − D)/n′, so
    // Var′·4n′² = (4P + 4D + 6)·n′ − 4(P − D)²: exact in integers.
    let var_num = (4 * p + 4 * d + 6) * n3 - 4 * (p - d).pow(2);
    let variance = var_num as f64 / (4 * n3 * n3) as f64;
    let n3f = n3 as f64;
    let score = 100.0 * (p - d) as f64 / n3f;
    let se = 100.0 * (variance / n3f).sqrt();
    let ci = Interval::around(score, Z95 * se).clamped(-100.0, 100.0);
    Some(NpsAdjusted { nps: score, se, ci })
}

/// Two independent periods or segments compared (§1.2).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NpsComparison {
    /// `NPS_A − NPS_B`, points.
    pub diff: f64,
    pub se: f64,
    pub z: f64,
    pub p_value: f64,
    /// `|z| > Z95`.
    pub significant: bool,
}

/// `a − b` with `SE = sqrt(SE_a² + SE_b²)`; `None` when both SEs are 0.
pub fn compare_nps(a: &Nps, b: &Nps) -> Option<NpsComparison> {
    let se = (a.se.powi(2) + b.se.powi(2)).sqrt();
    if se <= 0.0 {
        return None;
    }
    let diff = a.nps - b.nps;
    let z = diff / se;
    Some(NpsComparison { diff, se, z, p_value: two_sided_p(z), significant: z.abs() > Z95 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(p: u64, pa: u64, d: u64) -> NpsCounts {
        NpsCounts::new(p, pa, d).unwrap()
    }

    #[test]
    fn scores_are_bucketed_nine_and_ten_promote_seven_and_eight_pass() {
        let c = NpsCounts::from_scores([1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3]).unwrap();
        assert_eq!(c, counts(6, 4, 7));
        let mut r = NpsCounts::default();
        for s in [0, 6, 7, 8, 9, 10] {
            r.record(NpsScore::new(s).unwrap()).unwrap();
        }
        assert_eq!(r, counts(2, 2, 2));
    }

    #[test]
    fn an_eleven_is_not_a_score() {
        assert!(NpsScore::new(11).is_err());
    }

    #[test]
    fn no_responses_means_no_nps_and_no_adjusted_interval() {
        assert_eq!(nps(&NpsCounts::default()), None);
        assert_eq!(nps_adjusted_wald(&NpsCounts::default()), None);
    }

    #[test]
    fn the_interval_is_clamped_at_plus_one_hundred() {
        let r = nps(&counts(9, 1, 0)).unwrap();
        assert_eq!(r.nps, 90.0);
        assert!(r.nps + Z95 * r.se > 100.0);
        assert_eq!(r.ci.upper, 100.0);
        assert!(r.ci.lower < 90.0);
    }

    #[test]
    fn the_interval_is_clamped_at_minus_one_hundred() {
        let r = nps(&counts(0, 1, 9)).unwrap();
        assert_eq!(r.ci.lower, -100.0);
        let a = nps_adjusted_wald(&counts(0, 0, 2)).unwrap();
        assert_eq!(a.ci.lower, -100.0);
    }

    #[test]
    fn all_promoters_have_zero_variance() {
        let r = nps(&counts(5, 0, 0)).unwrap();
        assert_eq!((r.nps, r.variance, r.se), (100.0, 0.0, 0.0));
        assert_eq!(compare_nps(&r, &r), None);
    }

    #[test]
    fn the_closed_form_sanity_check_gives_five_ninths() {
        // p = 1/2, d = 1/6 → Var(x) = 2/3 − 1/9 = 5/9 (§1.2).
        let r = nps(&counts(3, 2, 1)).unwrap();
        assert!((r.variance - 5.0 / 9.0).abs() < 1e-15);
    }

    #[test]
    fn equal_periods_are_not_significantly_different() {
        let a = nps(&counts(90, 60, 50)).unwrap();
        let c = compare_nps(&a, &a).unwrap();
        assert_eq!((c.diff, c.z, c.significant), (0.0, 0.0, false));
        assert_eq!(c.p_value, 1.0);
    }
}
