//! Erlang C staffing (METRICS.md §4.1–§4.4). Erlang A is in `erlang_a.rs`.
//!
//! Decision for unstable queues (traffic ≥ agents): [`erlang_c`] returns
//! P(W>0) = 1 as §4.2 writes it, but [`ErlangC::compute`] refuses with
//! [`StatsError::Unstable`], because its service level and ASA would be
//! nonsense (the queue grows without bound). The staffing search starts
//! above the traffic, so it never meets that case.

use super::error::positive;
use super::{Ppm, StatsError};

/// Offered load: arrival rate and average handle time, both valid by
/// construction (finite, h > 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Queue {
    arrival_rate: f64,
    aht_s: f64,
    traffic: f64,
}

impl Queue {
    /// `contacts` arriving in `interval_s` seconds, each taking `aht_s`.
    pub fn new(contacts: u64, interval_s: u64, aht_s: f64) -> Result<Self, StatsError> {
        let aht_s = positive("aht_s", aht_s)?;
        if interval_s == 0 {
            return Err(StatsError::invalid("interval_s", "must be > 0"));
        }
        let (c, l) = (contacts as f64, interval_s as f64);
        Ok(Self { arrival_rate: c / l, aht_s, traffic: c * aht_s / l })
    }

    /// λ, contacts per second.
    pub fn arrival_rate(&self) -> f64 {
        self.arrival_rate
    }

    /// h, seconds.
    pub fn aht_s(&self) -> f64 {
        self.aht_s
    }

    /// A = λ·h in erlangs, computed as `C·h/L` so that 100 calls of 180 s in
    /// 1800 s is exactly 10 (λ·h would be 10.000000000000002).
    pub fn traffic(&self) -> f64 {
        self.traffic
    }
}

/// Erlang B by the stable recursion `B(k) = A·B(k−1)/(k + A·B(k−1))`.
pub fn erlang_b(agents: u32, traffic: f64) -> Result<f64, StatsError> {
    let a = non_negative("traffic", traffic)?;
    Ok((1..=agents).fold(1.0, |b, k| next_b(b, k, a)))
}

fn next_b(b: f64, k: u32, a: f64) -> f64 {
    a * b / (f64::from(k) + a * b)
}

fn non_negative(field: &'static str, x: f64) -> Result<f64, StatsError> {
    if x.is_finite() && x >= 0.0 { Ok(x) } else { Err(StatsError::invalid(field, "must be finite and ≥ 0")) }
}

/// Erlang C, P(W>0) = `N·B/(N − A(1 − B))`, and 1 when `N ≤ A` (§4.2).
pub fn erlang_c(agents: u32, traffic: f64) -> Result<f64, StatsError> {
    if agents == 0 {
        return Err(StatsError::invalid("agents", "must be ≥ 1"));
    }
    let b = erlang_b(agents, traffic)?;
    Ok(c_from_b(agents, traffic, b))
}

fn c_from_b(agents: u32, a: f64, b: f64) -> f64 {
    let n = f64::from(agents);
    if n <= a { 1.0 } else { n * b / (n - a * (1.0 - b)) }
}

/// Erlang C figures for one agent count and one answer threshold.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ErlangC {
    pub agents: u32,
    pub traffic: f64,
    /// P(W>0).
    pub p_wait: f64,
    /// `1 − P(W>0)`.
    pub answered_immediately: f64,
    /// `1 − C·exp(−(N − A)·T/h)`.
    pub service_level: f64,
    /// `C·h/(N − A)`, averaged over all contacts including zero waits.
    pub asa_s: f64,
    /// `A/N`.
    pub occupancy: f64,
    /// Mean queue length `C·A/(N − A)`.
    pub queue_length: f64,
    /// `h/(N − A)`: the mean wait of those who wait.
    pub wait_of_waiters_s: f64,
}

impl ErlangC {
    /// `Err(Unstable)` when `N ≤ A`; `Err` for zero agents or a negative or
    /// non-finite threshold.
    pub fn compute(q: &Queue, agents: u32, within_s: f64) -> Result<Self, StatsError> {
        let b = erlang_b(agents, q.traffic)?;
        Self::from_b(q, agents, b, within_s)
    }

    fn from_b(q: &Queue, agents: u32, b: f64, within_s: f64) -> Result<Self, StatsError> {
        let within_s = non_negative("within_s", within_s)?;
        if agents == 0 {
            return Err(StatsError::invalid("agents", "must be ≥ 1"));
        }
        let (n, a, h) = (f64::from(agents), q.traffic, q.aht_s);
        if n <= a {
            return Err(StatsError::Unstable { agents });
        }
        let c = c_from_b(agents, a, b);
        Ok(Self {
            agents,
            traffic: a,
            p_wait: c,
            answered_immediately: 1.0 - c,
            service_level: 1.0 - c * (-(n - a) * within_s / h).exp(),
            asa_s: c * h / (n - a),
            occupancy: a / n,
            queue_length: c * a / (n - a),
            wait_of_waiters_s: h / (n - a),
        })
    }

    /// The square-root-staffing β in `N = A + β√A` (§4.6); `None` at A = 0.
    pub fn beta(&self) -> Option<f64> {
        (self.traffic > 0.0).then(|| (f64::from(self.agents) - self.traffic) / self.traffic.sqrt())
    }
}

/// "α answered within T seconds", with the optional caps of §4.3.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StaffingTarget {
    pub service_level: Ppm,
    pub within_s: f64,
    pub max_asa_s: Option<f64>,
    pub max_occupancy: Option<Ppm>,
}

impl StaffingTarget {
    fn met_by(&self, r: &ErlangC) -> bool {
        let ppm = |x: f64| x * 1e6;
        ppm(r.service_level) >= self.service_level.get() as f64
            && self.max_asa_s.is_none_or(|max| r.asa_s <= max)
            // A/N ≤ ρ as A·10⁶ ≤ ρ_ppm·N: one rounding fewer than dividing.
            && self.max_occupancy.is_none_or(|rho| ppm(r.traffic) <= rho.get() as f64 * f64::from(r.agents))
    }
}

/// The smallest `N` meeting the target (§4.3), starting at `⌊A⌋ + 1`, with
/// its figures. Erlang B is carried forward, so the search is linear in N.
pub fn required_agents(q: &Queue, target: &StaffingTarget) -> Result<ErlangC, StatsError> {
    if target.service_level > Ppm::ONE {
        return Err(StatsError::invalid("service_level", "must be ≤ 100 %"));
    }
    if target.max_asa_s.is_some_and(|a| !(a.is_finite() && a >= 0.0)) {
        return Err(StatsError::invalid("max_asa_s", "must be finite and ≥ 0"));
    }
    let first =
        u32::try_from((q.traffic.floor() as u64).saturating_add(1)).map_err(|_| StatsError::Overflow("agents"))?;
    // SL rises towards 1 with N; far beyond A + 10√A + 1000 nothing changes
    // in f64, so a target still unmet there is unreachable (e.g. ASA ≤ 0).
    let max_agents = first.saturating_add((10.0 * q.traffic.sqrt()) as u32).saturating_add(1000);
    let mut b = erlang_b(first, q.traffic)?;
    for agents in first..=max_agents {
        if agents > first {
            b = next_b(b, agents, q.traffic);
        }
        let r = ErlangC::from_b(q, agents, b, target.within_s)?;
        if target.met_by(&r) {
            return Ok(r);
        }
    }
    Err(StatsError::TargetUnreachable { max_agents })
}

/// Scheduled staff `⌈N / (1 − shrinkage)⌉`, in integers: 21 agents at 30 %
/// shrinkage is 30, where f64 gives 30.000000000000004 → 31 (§4.3).
pub fn scheduled_staff(agents: u32, shrinkage: Ppm) -> Result<u64, StatsError> {
    let available = 1_000_000u64
        .checked_sub(shrinkage.get())
        .filter(|&a| a > 0)
        .ok_or(StatsError::invalid("shrinkage", "must be < 100 %"))?;
    let n = u128::from(agents) * 1_000_000;
    u64::try_from(n.div_ceil(u128::from(available))).map_err(|_| StatsError::Overflow("scheduled staff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e1() -> Queue {
        Queue::new(100, 1800, 180.0).unwrap()
    }

    #[test]
    fn traffic_of_e1_is_exactly_ten_erlangs() {
        assert_eq!(e1().traffic(), 10.0);
    }

    #[test]
    fn zero_agents_and_negative_inputs_are_refused() {
        assert!(erlang_c(0, 1.0).is_err());
        assert!(erlang_b(3, -1.0).is_err());
        assert!(erlang_b(3, f64::NAN).is_err());
        assert!(Queue::new(10, 0, 180.0).is_err());
        assert!(Queue::new(10, 1800, 0.0).is_err());
        assert!(ErlangC::compute(&e1(), 0, 20.0).is_err());
        assert!(ErlangC::compute(&e1(), 11, -1.0).is_err());
    }

    #[test]
    fn traffic_at_or_above_the_agents_waits_for_sure_and_is_refused_as_a_report() {
        assert_eq!(erlang_c(10, 10.0), Ok(1.0));
        assert_eq!(erlang_c(3, 7.5), Ok(1.0));
        assert_eq!(ErlangC::compute(&e1(), 10, 20.0), Err(StatsError::Unstable { agents: 10 }));
    }

    #[test]
    fn no_traffic_never_waits() {
        assert_eq!(erlang_c(1, 0.0), Ok(0.0));
        assert_eq!(erlang_b(0, 3.0), Ok(1.0));
    }

    #[test]
    fn an_unreachable_target_is_reported_not_looped_forever() {
        let t = StaffingTarget {
            service_level: Ppm::new(0),
            within_s: 20.0,
            max_asa_s: None,
            max_occupancy: Some(Ppm::ZERO),
        };
        assert!(matches!(required_agents(&e1(), &t), Err(StatsError::TargetUnreachable { .. })));
        let negative = StaffingTarget { max_asa_s: Some(-1.0), max_occupancy: None, ..t };
        assert!(matches!(required_agents(&e1(), &negative), Err(StatsError::Invalid { .. })));
    }

    #[test]
    fn the_occupancy_cap_can_add_agents_beyond_the_service_level() {
        let t = StaffingTarget {
            service_level: Ppm::new(500_000),
            within_s: 20.0,
            max_asa_s: None,
            max_occupancy: Some(Ppm::new(700_000)),
        };
        // SL alone would stop at 12; 10/N ≤ 0.7 needs N = 15.
        assert_eq!(required_agents(&e1(), &t).map(|r| r.agents), Ok(15));
    }

    #[test]
    fn an_occupancy_exactly_at_the_cap_is_allowed() {
        let t = StaffingTarget {
            service_level: Ppm::new(0),
            within_s: 0.0,
            max_asa_s: None,
            max_occupancy: Some(Ppm::new(800_000)),
        };
        // A = 8: at N = 10 the occupancy is exactly the 80 % cap.
        let q = Queue::new(80, 1800, 180.0).unwrap();
        assert_eq!(required_agents(&q, &t).map(|r| r.agents), Ok(10));
    }

    #[test]
    fn full_shrinkage_is_refused() {
        assert!(scheduled_staff(10, Ppm::ONE).is_err());
        assert_eq!(scheduled_staff(10, Ppm::ZERO), Ok(10));
    }

    proptest! {
        #[test]
        fn the_chance_of_waiting_falls_as_agents_are_added(a in 0.1f64..200.0, extra in 0u32..50) {
            let n = a.floor() as u32 + 1 + extra;
            let (c1, c2) = (erlang_c(n, a).unwrap(), erlang_c(n + 1, a).unwrap());
            prop_assert!(c2 < c1 || (c1 == 0.0 && c2 == 0.0));
            prop_assert!((0.0..=1.0).contains(&c2));
        }
    }
}
