//! Erlang A, M/M/N+M: Erlang C plus exponential patience (METRICS.md §4.5).
//!
//! The waiting states form the birth–death chain of §4.5. Relative to the
//! state with all N agents busy, the state with j callers queued has weight
//! `r_j = Π_{i=1..j} y/(x + i)` with `x = Nμ/θ`, `y = λ/θ`; the states below
//! N are folded in through Erlang B. The series is summed in log space (the
//! terms reach e^y, which overflows for long patience and heavy load) and
//! truncated once the terms are falling and below 1e-18 of the sum.

use super::error::positive;
use super::staffing::{Queue, erlang_b};
use super::{Ppm, StatsError};

/// Relative size below which the remaining terms are dropped (§4.5).
const TRUNCATION: f64 = 1e-18;
/// A series this long means absurd inputs (y in the hundreds of millions).
const MAX_TERMS: u64 = 100_000_000;

/// Mean patience `1/θ` in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Patience(f64);

impl Patience {
    pub fn from_mean_s(mean_s: f64) -> Result<Self, StatsError> {
        positive("patience_s", mean_s).map(Self)
    }

    /// The MLE for exponential patience: total waiting time of all callers
    /// (answered and abandoned) per abandon (§4.5). `None` without abandons:
    /// patience looks infinite, so use Erlang C.
    pub fn estimate(abandoned: u64, total_wait_s: f64) -> Result<Option<Self>, StatsError> {
        if abandoned == 0 {
            return Ok(None);
        }
        Self::from_mean_s(total_wait_s / abandoned as f64).map(Some)
    }

    pub fn mean_s(self) -> f64 {
        self.0
    }
}

/// Erlang A figures for one agent count and one answer threshold.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ErlangA {
    pub agents: u32,
    /// P(W>0): the arrival finds all agents busy.
    pub p_wait: f64,
    /// P(Ab): the arrival hangs up before being answered.
    pub p_abandon: f64,
    /// E[Wq] over all arrivals, including those who abandon: `P(Ab)/θ`.
    pub mean_wait_s: f64,
    /// Fraction of all arrivals answered within the threshold; an abandon
    /// is a failure (the F3 convention of §2.6).
    pub service_level: f64,
}

/// Erlang A for `agents` ≥ 1. Stable for any load, so `N ≤ A` is allowed.
pub fn erlang_a(q: &Queue, agents: u32, patience: Patience, within_s: f64) -> Result<ErlangA, StatsError> {
    if agents == 0 {
        return Err(StatsError::invalid("agents", "must be ≥ 1"));
    }
    if !(within_s.is_finite() && within_s >= 0.0) {
        return Err(StatsError::invalid("within_s", "must be finite and ≥ 0"));
    }
    if q.arrival_rate() == 0.0 {
        // No arrivals: nobody waits, nobody abandons (as Erlang C at A = 0).
        return Ok(ErlangA { agents, p_wait: 0.0, p_abandon: 0.0, mean_wait_s: 0.0, service_level: 1.0 });
    }
    let lambda = positive("arrival_rate", q.arrival_rate())?;
    let theta = 1.0 / patience.0;
    let x = f64::from(agents) / q.aht_s() / theta;
    let y = lambda / theta;
    let eb = erlang_b(agents, q.traffic())?;
    let s = log_series(x, y)?;
    // P(W>0) = T·E_B / (1 − E_B + T·E_B), written so that T = e^700 or
    // E_B = 0 give 1 and 0 instead of ∞/∞.
    let t_eb = (s.log_sum + eb.ln()).exp();
    let p_wait = 1.0 / (1.0 + (1.0 - eb) / t_eb);
    let p_abandon = p_wait * (theta / lambda) * (s.log_weighted - s.log_sum).exp();
    let service_level = 1.0 - p_wait + p_wait * answered_in_time_given_wait(x, y, theta * within_s, s.log_sum)?;
    Ok(ErlangA { agents, p_wait, p_abandon, mean_wait_s: p_abandon / theta, service_level })
}

/// P(answered within T | must wait) = [γ(x+1, y) − γ(x+1, y·e^(−θT))] /
/// (y·γ(x, y)), from the same series: `γ(a, z) = z^a e^(−z)·S(a, z)` with
/// `S(x, y) = e^{log_sum}/x`. `theta_t` is θ·T.
fn answered_in_time_given_wait(x: f64, y: f64, theta_t: f64, log_sum: f64) -> Result<f64, StatsError> {
    let y_late = y * (-theta_t).exp();
    let ratio = x / (x + 1.0);
    let all = ratio * (log_series(x + 1.0, y)?.log_sum - log_sum).exp();
    let exponent = -theta_t * (x + 1.0) + y * (-(-theta_t).exp_m1()) + log_series(x + 1.0, y_late)?.log_sum - log_sum;
    let late = ratio * exponent.exp();
    Ok(all - late)
}

/// `log Σ_j r_j` and `log Σ_j j·r_j` for `r_j = Π_{i=1..j} z/(a + i)`.
struct LogSeries {
    log_sum: f64,
    log_weighted: f64,
}

fn log_series(a: f64, z: f64) -> Result<LogSeries, StatsError> {
    if z <= 0.0 {
        return Ok(LogSeries { log_sum: 0.0, log_weighted: f64::NEG_INFINITY });
    }
    let (ln_z, ln_eps) = (z.ln(), TRUNCATION.ln());
    // Running sums are scaled by e^(−max) so that nothing overflows.
    let (mut max, mut sum, mut weighted, mut term) = (0.0f64, 1.0f64, 0.0f64, 0.0f64);
    for j in 1..=MAX_TERMS {
        let jf = j as f64;
        term += ln_z - (a + jf).ln();
        if term > max {
            let shrink = (max - term).exp();
            (sum, weighted, max) = (sum * shrink, weighted * shrink, term);
        }
        let scaled = (term - max).exp();
        sum += scaled;
        weighted += jf * scaled;
        let falling = z < a + jf + 1.0;
        let small = term - max - sum.ln() < ln_eps && term + jf.ln() - max - weighted.ln() < ln_eps;
        if falling && small {
            return Ok(LogSeries { log_sum: max + sum.ln(), log_weighted: max + weighted.ln() });
        }
    }
    Err(StatsError::Overflow("erlang a series"))
}

/// The smallest `N ≥ 1` whose Erlang A service level reaches `target`.
pub fn erlang_a_required_agents(
    q: &Queue,
    patience: Patience,
    target: Ppm,
    within_s: f64,
) -> Result<ErlangA, StatsError> {
    if target > Ppm::ONE {
        return Err(StatsError::invalid("service_level", "must be ≤ 100 %"));
    }
    let max_agents =
        (q.traffic().ceil() as u32).saturating_add((10.0 * q.traffic().sqrt()) as u32).saturating_add(1000);
    let meets = |r: &ErlangA| r.service_level * 1e6 >= target.get() as f64;
    let mut best = erlang_a(q, max_agents, patience, within_s)?;
    if !meets(&best) {
        return Err(StatsError::TargetUnreachable { max_agents });
    }
    // SL_A rises with N, so bisect: each evaluation costs O(N + y), and a
    // linear scan from 1 would be quadratic for large centres.
    let (mut lo, mut hi) = (1, max_agents);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let r = erlang_a(q, mid, patience, within_s)?;
        if meets(&r) {
            (hi, best) = (mid, r);
        } else {
            lo = mid + 1;
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::erlang_c;

    fn e1() -> Queue {
        Queue::new(100, 1800, 180.0).unwrap()
    }

    fn patience(s: f64) -> Patience {
        Patience::from_mean_s(s).unwrap()
    }

    #[test]
    fn overloaded_queues_are_stable_under_erlang_a() {
        let r = erlang_a(&e1(), 5, patience(120.0), 20.0).unwrap();
        assert!(r.p_wait > 0.9 && r.p_wait <= 1.0);
        assert!(r.p_abandon > 0.3 && r.p_abandon < 1.0);
        assert!((0.0..=1.0).contains(&r.service_level));
    }

    #[test]
    fn very_patient_callers_approach_erlang_c() {
        let a = erlang_a(&e1(), 14, patience(1e7), 20.0).unwrap();
        let c = erlang_c(14, 10.0).unwrap();
        assert!((a.p_wait - c).abs() < 1e-4);
        assert!(a.p_abandon < 1e-5);
    }

    #[test]
    fn huge_loads_with_long_patience_do_not_overflow() {
        let q = Queue::new(36_000, 3600, 300.0).unwrap();
        let r = erlang_a(&q, 2000, patience(3600.0), 20.0).unwrap();
        assert!(r.p_wait.is_finite() && r.p_abandon.is_finite() && r.service_level.is_finite());
        // Fluid limit: agents serve Nμ = 6.67/s of λ = 10/s, so about a third abandon.
        assert!(r.p_wait > 0.99 && (r.p_abandon - 1.0 / 3.0).abs() < 0.01, "{r:?}");
    }

    #[test]
    fn a_zero_threshold_answers_only_those_who_do_not_wait() {
        let r = erlang_a(&e1(), 12, patience(120.0), 0.0).unwrap();
        assert!((r.service_level - (1.0 - r.p_wait)).abs() < 1e-15);
    }

    #[test]
    fn the_service_level_rises_with_the_threshold_towards_the_non_abandon_share() {
        let sl = |t| erlang_a(&e1(), 12, patience(120.0), t).unwrap();
        assert!(sl(10.0).service_level < sl(20.0).service_level);
        let far = sl(1e6);
        assert!((far.service_level - (1.0 - far.p_abandon)).abs() < 1e-9);
    }

    #[test]
    fn patience_is_estimated_as_waiting_time_per_abandon() {
        assert_eq!(Patience::estimate(0, 100.0), Ok(None));
        assert_eq!(Patience::estimate(4, 480.0).map(|p| p.map(Patience::mean_s)), Ok(Some(120.0)));
        assert!(Patience::from_mean_s(0.0).is_err());
    }

    #[test]
    fn no_arrivals_means_no_waiting() {
        let q = Queue::new(0, 1800, 180.0).unwrap();
        let r = erlang_a(&q, 1, patience(60.0), 20.0).unwrap();
        assert_eq!((r.p_wait, r.p_abandon, r.service_level), (0.0, 0.0, 1.0));
    }

    #[test]
    fn the_required_agents_are_the_smallest_count_that_meets_the_target() {
        let q = Queue::new(3000, 1800, 300.0).unwrap();
        let p = patience(90.0);
        let target = Ppm::new(900_000);
        let r = erlang_a_required_agents(&q, p, target, 30.0).unwrap();
        assert!(r.service_level >= 0.9);
        assert!(erlang_a(&q, r.agents - 1, p, 30.0).unwrap().service_level < 0.9);
        assert!(erlang_a_required_agents(&q, p, Ppm::new(1_000_001), 30.0).is_err());
    }

    #[test]
    fn zero_agents_are_refused() {
        assert!(erlang_a(&e1(), 0, patience(120.0), 20.0).is_err());
    }
}
