//! Western Electric special-cause rules with the exact semantics of D-32.
//!
//! - Inequalities are strict; a point exactly on a zone line belongs to the
//!   inner zone (JMP's convention).
//! - A point exactly on the centre line is on neither side, so it breaks a
//!   WE4 run.
//! - A signal is attached to point i, the last point of its window, and is
//!   only raised once the whole window exists.
//! - WE2/WE3 also require point i itself to be one of the qualifying points,
//!   so a rule fires when the evidence arrives, not on a later quiet point.

use std::num::NonZeroUsize;

use crate::stats::normal::phi;

/// A charted value with the zone lines that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Zoned {
    pub value: f64,
    pub center: f64,
    /// One zone width, σ (σᵢ on a p-chart, 2.660·m̄R/3 on an XmR chart).
    pub sigma: f64,
    /// The distance to the control limits. Kept apart from `3·sigma` so that
    /// the outer zone line is bit-for-bit the limit the chart shows.
    pub three_sigma: f64,
}

impl Zoned {
    /// Signed zone: ±4 beyond the limits, ±3 in zone A, ±2 in zone B, ±1 in
    /// zone C, 0 exactly on the centre line.
    fn level(&self) -> i8 {
        let (x, c) = (self.value, self.center);
        let lines = [c + self.sigma, c + 2.0 * self.sigma, c + self.three_sigma];
        let lows = [c - self.sigma, c - 2.0 * self.sigma, c - self.three_sigma];
        if x > c {
            1 + lines.iter().filter(|&&l| x > l).count() as i8
        } else if x < c {
            -1 - lows.iter().filter(|&&l| x < l).count() as i8
        } else {
            0
        }
    }
}

/// The four Western Electric rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Rule {
    /// One point beyond the control limits.
    We1,
    /// Two of three beyond 2σ on one side.
    We2,
    /// Four of five beyond 1σ on one side.
    We3,
    /// A run on one side of the centre line (8 WE, 9 Nelson).
    We4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Side {
    Above,
    Below,
}

/// A rule that fired at `index` (the last point of its window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Signal {
    pub index: usize,
    pub rule: Rule,
    pub side: Side,
}

/// Which rules to evaluate, and the WE4 run length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RuleSet {
    pub we1: bool,
    pub we2: bool,
    pub we3: bool,
    /// `None` switches WE4 off.
    pub run_length: Option<NonZeroUsize>,
}

const EIGHT: NonZeroUsize = nonzero(8);
const NINE: NonZeroUsize = nonzero(9);

const fn nonzero(n: usize) -> NonZeroUsize {
    match NonZeroUsize::new(n) {
        Some(n) => n,
        None => NonZeroUsize::MIN,
    }
}

impl RuleSet {
    /// All four rules, runs of 8: for investigation views.
    pub const WESTERN_ELECTRIC: Self = Self { we1: true, we2: true, we3: true, run_length: Some(EIGHT) };
    /// WE1 + WE4 (D-33): for dashboards that watch many series at once.
    pub const MONITORING: Self = Self { we1: true, we2: false, we3: false, run_length: Some(EIGHT) };

    /// The same rules with Nelson's run of 9.
    pub const fn with_nelson_run(self) -> Self {
        Self { run_length: Some(NINE), ..self }
    }
}

/// Every signal in `points`, ordered by index, then rule, then side.
pub fn signals(points: &[Zoned], rules: &RuleSet) -> Vec<Signal> {
    let levels: Vec<i8> = points.iter().map(Zoned::level).collect();
    let mut out = Vec::new();
    for i in 0..levels.len() {
        for (side, sign) in [(Side::Above, 1i8), (Side::Below, -1i8)] {
            let fired = [
                (Rule::We1, rules.we1 && levels[i] * sign == 4),
                (Rule::We2, rules.we2 && k_of_m(&levels, i, 3, 2, 3, sign)),
                (Rule::We3, rules.we3 && k_of_m(&levels, i, 5, 4, 2, sign)),
                (Rule::We4, rules.run_length.is_some_and(|l| k_of_m(&levels, i, l.get(), l.get(), 1, sign))),
            ];
            out.extend(fired.into_iter().filter(|&(_, f)| f).map(|(rule, _)| Signal { index: i, rule, side }));
        }
    }
    out.sort_by_key(|s| (s.index, s.rule as u8, s.side as u8));
    out
}

/// At least `k` of the `m` points ending at `i` are at signed level ≥
/// `level` on `sign`'s side, and point `i` is one of them.
fn k_of_m(levels: &[i8], i: usize, m: usize, k: usize, level: i8, sign: i8) -> bool {
    let Some(start) = (i + 1).checked_sub(m) else {
        return false;
    };
    let beyond = |l: &i8| l * sign >= level;
    levels.get(i).is_some_and(beyond) && levels[start..=i].iter().filter(|l| beyond(l)).count() >= k
}

/// In-control probability of a point beyond ±kσ, `2Φ(−k)`.
pub fn beyond_limits_probability(k_sigma: f64) -> f64 {
    2.0 * phi(-k_sigma)
}

/// In-control average run length of WE1 alone: 1/(2Φ(−3)) ≈ 370.4 points.
pub fn we1_arl() -> f64 {
    1.0 / beyond_limits_probability(3.0)
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
