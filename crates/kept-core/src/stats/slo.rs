//! Promise attainment, breach risk and error budgets (METRICS.md §3.1–§3.3).
//! Burn-rate alerting lives in `slo_alerts.rs`.

use super::proportion::{Interval, wilson};
use super::{Ppm, Ratio, StatsError, Tally};

const ONE: u128 = 1_000_000;

/// `met / (met + breached)` with its Wilson interval (D-26).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Attainment {
    /// `met` of `met + breached`.
    pub tally: Tally,
    pub rate: f64,
    pub ci: Interval,
}

/// Attainment over the instances determined in a period; `None` if none
/// were (D-7). Cancelled instances are simply not counted.
pub fn attainment(met: u64, breached: u64) -> Result<Option<Attainment>, StatsError> {
    let n = met.checked_add(breached).ok_or(StatsError::Overflow("met + breached"))?;
    let tally = Tally::new(met, n)?;
    Ok(tally.rate().zip(wilson(tally)).map(|(rate, ci)| Attainment { tally, rate, ci }))
}

/// D-27 risk status of a running promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RiskStatus {
    OnTrack,
    AtRisk,
    Breached,
}

impl RiskStatus {
    /// The snake_case name used in the API and pages.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskStatus::OnTrack => "on_track",
            RiskStatus::AtRisk => "at_risk",
            RiskStatus::Breached => "breached",
        }
    }
}

/// Fifteen minutes: the floor of the at-risk band (D-27).
const AT_RISK_FLOOR_S: i128 = 15 * 60;

/// D-27: `Breached` if `remaining ≤ 0`, `AtRisk` if
/// `remaining ≤ max(0.25·target, 15 min)`, else `OnTrack`; in seconds.
///
/// Compared as `4·remaining ≤ target` so a quarter of an odd target needs no
/// rounding. A paused promise keeps its frozen `remaining`.
pub fn risk_status(remaining_s: i64, target_s: i64) -> RiskStatus {
    let (r, t) = (i128::from(remaining_s), i128::from(target_s));
    if r <= 0 {
        RiskStatus::Breached
    } else if 4 * r <= t || r <= AT_RISK_FLOOR_S {
        RiskStatus::AtRisk
    } else {
        RiskStatus::OnTrack
    }
}

/// `P(breach | unfulfilled at elapsed e) = S(target)/S(e)` (§3.2) from
/// survival values (e.g. Kaplan–Meier) with `e < target`.
///
/// `Err` unless both are in [0, 1] with `S(target) ≤ S(e)` (survival never
/// rises); `None` when `S(e) = 0`: no comparable instance lasted that long.
pub fn breach_probability(s_target: f64, s_elapsed: f64) -> Result<Option<f64>, StatsError> {
    let unit = 0.0..=1.0;
    if !unit.contains(&s_target) || !unit.contains(&s_elapsed) {
        return Err(StatsError::invalid("survival", "must be in [0, 1]"));
    }
    if s_target > s_elapsed {
        return Err(StatsError::invalid("survival", "S(target) > S(elapsed): survival cannot rise"));
    }
    Ok((s_elapsed > 0.0).then(|| s_target / s_elapsed))
}

/// The same from uncensored counts: of the comparable instances still
/// unfulfilled at `e`, the share still unfulfilled at the target.
pub fn breach_probability_from_counts(open_at_target: u64, open_at_elapsed: u64) -> Result<Option<f64>, StatsError> {
    Ok(Tally::new(open_at_target, open_at_elapsed)?.rate())
}

/// An SLO level `s` with `0 < s < 1`, so the error budget `1 − s` is a
/// positive exact integer of ppm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct SloTarget(Ppm);

impl SloTarget {
    pub fn new(level: Ppm) -> Result<Self, StatsError> {
        let ppm = u128::from(level.get());
        if ppm == 0 || ppm >= ONE {
            return Err(StatsError::invalid("slo", "must be strictly between 0 and 1 000 000 ppm"));
        }
        Ok(Self(level))
    }

    pub fn level(self) -> Ppm {
        self.0
    }

    /// `1 − s` in ppm: exactly 1000 for 99.9 %, where f64 gives
    /// 0.0010000000000000009 (D-3).
    pub fn budget_ppm(self) -> u64 {
        1_000_000 - self.0.get()
    }

    /// SLI ≥ s, exactly: `good·10⁶ ≥ s·valid`; `None` without events.
    pub fn is_met(self, good_of_valid: Tally) -> Option<bool> {
        let t = good_of_valid;
        (t.n() > 0).then(|| u128::from(t.k()) * ONE >= u128::from(self.0.get()) * u128::from(t.n()))
    }

    /// The error budget in events, `(1 − s)·valid`, exactly.
    pub fn budget_events(self, valid: u64) -> Ratio {
        Ratio::new(u128::from(self.budget_ppm()) * u128::from(valid), ONE).unwrap_or(Ratio::integer(0))
    }

    /// `1 − bad/((1 − s)·valid)`; negative once the budget is overspent;
    /// `None` without events.
    pub fn budget_remaining(self, bad_of_valid: Tally) -> Option<f64> {
        let budget = i128::from(self.budget_ppm()) * i128::from(bad_of_valid.n());
        let spent = i128::from(bad_of_valid.k()) * ONE as i128;
        (budget > 0).then(|| (budget - spent) as f64 / budget as f64)
    }

    /// Burn rate `(bad/valid)/(1 − s)` as an exact ratio; `None` without events.
    pub fn burn_rate(self, bad_of_valid: Tally) -> Option<Ratio> {
        let num = u128::from(bad_of_valid.k()) * ONE;
        Ratio::new(num, u128::from(bad_of_valid.n()) * u128::from(self.budget_ppm()))
    }
}

/// Time to exhaust the budget at a constant burn, `P / burn`, in seconds;
/// `None` at burn 0 (never).
pub fn time_to_exhaustion(period_s: u64, burn: Ratio) -> Option<f64> {
    Ratio::integer(u128::from(period_s)).checked_mul(burn.recip()?).map(Ratio::to_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(ppm: u64) -> SloTarget {
        SloTarget::new(Ppm::new(ppm)).unwrap()
    }

    #[test]
    fn attainment_without_determined_instances_is_no_data() {
        assert_eq!(attainment(0, 0), Ok(None));
        assert!(attainment(u64::MAX, 1).is_err());
    }

    #[test]
    fn risk_is_breached_at_zero_remaining() {
        assert_eq!(risk_status(0, 3600), RiskStatus::Breached);
        assert_eq!(risk_status(-5, 3600), RiskStatus::Breached);
    }

    #[test]
    fn risk_uses_a_quarter_of_the_target_inclusive() {
        // 8 h target: at risk from 2 h remaining down.
        assert_eq!(risk_status(7200, 28_800), RiskStatus::AtRisk);
        assert_eq!(risk_status(7201, 28_800), RiskStatus::OnTrack);
    }

    #[test]
    fn risk_uses_the_fifteen_minute_floor_for_short_targets() {
        // 30 min target: a quarter is 7.5 min, so the 15 min floor applies.
        assert_eq!(risk_status(900, 1800), RiskStatus::AtRisk);
        assert_eq!(risk_status(901, 1800), RiskStatus::OnTrack);
    }

    #[test]
    fn a_quarter_of_an_odd_target_is_not_rounded() {
        // target 3601 s: quarter is 900.25 s; 901 s remaining is on track.
        assert_eq!(risk_status(901, 3601), RiskStatus::OnTrack);
        assert_eq!(risk_status(1000, 4001), RiskStatus::AtRisk);
        assert_eq!(risk_status(1001, 4001), RiskStatus::OnTrack);
    }

    #[test]
    fn breach_probability_refuses_rising_survival() {
        assert!(breach_probability(0.5, 0.4).is_err());
        assert!(breach_probability(-0.1, 0.4).is_err());
        assert_eq!(breach_probability(0.0, 0.0), Ok(None));
        assert!(breach_probability_from_counts(81, 80).is_err());
    }

    #[test]
    fn slo_levels_of_zero_or_one_hundred_percent_are_refused() {
        assert!(SloTarget::new(Ppm::ZERO).is_err());
        assert!(SloTarget::new(Ppm::ONE).is_err());
        assert_eq!(slo(999_000).budget_ppm(), 1000);
    }

    #[test]
    fn budget_remaining_goes_negative_when_overspent() {
        let s = slo(950_000);
        assert_eq!(s.budget_remaining(Tally::new(0, 100).unwrap()), Some(1.0));
        assert_eq!(s.budget_remaining(Tally::new(5, 100).unwrap()), Some(0.0));
        assert_eq!(s.budget_remaining(Tally::new(10, 100).unwrap()), Some(-1.0));
        assert_eq!(s.budget_remaining(Tally::new(0, 0).unwrap()), None);
    }

    #[test]
    fn burn_is_exact_and_exhaustion_needs_a_burn() {
        let s = slo(999_000);
        let burn = s.burn_rate(Tally::new(1, 1000).unwrap()).unwrap();
        assert_eq!(burn, Ratio::integer(1));
        assert_eq!(s.burn_rate(Tally::new(0, 0).unwrap()), None);
        let zero = s.burn_rate(Tally::new(0, 10).unwrap()).unwrap();
        assert_eq!(time_to_exhaustion(720 * 3600, zero), None);
    }

    #[test]
    fn meeting_the_slo_exactly_counts_as_met() {
        let s = slo(999_000);
        assert_eq!(s.is_met(Tally::new(999, 1000).unwrap()), Some(true));
        assert_eq!(s.is_met(Tally::new(998, 1000).unwrap()), Some(false));
        assert_eq!(s.is_met(Tally::new(0, 0).unwrap()), None);
    }
}
