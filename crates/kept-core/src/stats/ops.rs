//! Resolution and contact-centre arithmetic (METRICS.md §2.4–§2.6): FCR,
//! reopen rate, the backlog flow identity, service-level variants,
//! abandonment, AHT, ASA, occupancy and shrinkage.
//!
//! Rates come back as [`Tally`] so that a Wilson interval, a RAG status or a
//! p-chart can be put on them without re-deriving the counts.

use super::{StatsError, Tally};

/// Operational FCR, gross (D-20): one-touch cases among all resolved.
pub fn fcr_gross(one_touch: u64, resolved: u64) -> Result<Tally, StatsError> {
    Tally::new(one_touch, resolved)
}

/// Net FCR: the denominator leaves out cases that policy makes impossible to
/// resolve at first contact. Those cannot be one-touch, so `one_touch` must
/// fit in what is left.
pub fn fcr_net(one_touch: u64, resolved: u64, not_resolvable: u64) -> Result<Tally, StatsError> {
    let eligible = resolved
        .checked_sub(not_resolvable)
        .ok_or(StatsError::invalid("not_resolvable", "more than the resolved cases"))?;
    Tally::new(one_touch, eligible)
}

/// Cases solved in the period and reopened within W days, among those
/// solved (D-21, cohort by solve date).
pub fn reopen_rate(reopened: u64, solved: u64) -> Result<Tally, StatsError> {
    Tally::new(reopened, solved)
}

/// The flow identity `backlog(t1) = backlog(t0) + created + reopened − solved`
/// over `(t0, t1]`; `Err` when more cases were solved than could have been
/// open, which means the inputs disagree.
pub fn backlog_end(start: u64, created: u64, reopened: u64, solved: u64) -> Result<u64, StatsError> {
    start
        .checked_add(created)
        .and_then(|x| x.checked_add(reopened))
        .ok_or(StatsError::Overflow("backlog"))?
        .checked_sub(solved)
        .ok_or(StatsError::invalid("solved", "more than the cases that were open"))
}

/// Little's law: average backlog = arrival rate × mean time in system (in
/// matching units). A cross-check of volume, backlog and resolution time.
pub fn littles_law_backlog(arrival_rate: f64, mean_time_in_system: f64) -> f64 {
    arrival_rate * mean_time_in_system
}

/// Which "X % within Y s" (§2.6). Every SL shown carries its variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum SlVariant {
    /// `(Ans≤ + Ab≤)/(Ans + Ab)`.
    F1,
    /// `Ans≤/Ans`: ignores abandons; not recommended.
    F2,
    /// `Ans≤/(Ans + Ab)`: every abandon is a failure. The default (D-24),
    /// and the convention of the Erlang A service level.
    #[default]
    F3,
    /// `Ans≤/(Ans + Ab>)`: abandons before the threshold are ignored.
    F4,
    /// F5′, `Ans≤/(Ans + Ab − Ab_short)`: short abandons are ignored.
    F5Short,
}

/// Counts for one interval and one threshold, consistent by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ServiceLevelCounts {
    answered: u64,
    abandoned: u64,
    answered_within: u64,
    abandoned_within: u64,
    short_abandoned: u64,
}

/// A service level with the variant it was computed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ServiceLevel {
    pub variant: SlVariant,
    pub tally: Tally,
}

impl ServiceLevel {
    /// `None` when the variant's denominator is empty.
    pub fn rate(&self) -> Option<f64> {
        self.tally.rate()
    }
}

impl ServiceLevelCounts {
    /// `Err` unless the within-threshold counts fit in their totals and the
    /// short abandons in the abandons.
    pub fn new(
        answered: u64,
        abandoned: u64,
        answered_within: u64,
        abandoned_within: u64,
        short_abandoned: u64,
    ) -> Result<Self, StatsError> {
        if answered_within > answered {
            return Err(StatsError::invalid("answered_within", "more than answered"));
        }
        if abandoned_within > abandoned {
            return Err(StatsError::invalid("abandoned_within", "more than abandoned"));
        }
        if short_abandoned > abandoned {
            return Err(StatsError::invalid("short_abandoned", "more than abandoned"));
        }
        answered.checked_add(abandoned).ok_or(StatsError::Overflow("offered"))?;
        Ok(Self { answered, abandoned, answered_within, abandoned_within, short_abandoned })
    }

    /// The service level by `variant`.
    pub fn service_level(&self, variant: SlVariant) -> ServiceLevel {
        let (ans, ab, ans_in) = (self.answered, self.abandoned, self.answered_within);
        let (k, n) = match variant {
            SlVariant::F1 => (ans_in + self.abandoned_within, ans + ab),
            SlVariant::F2 => (ans_in, ans),
            SlVariant::F3 => (ans_in, ans + ab),
            SlVariant::F4 => (ans_in, ans + (ab - self.abandoned_within)),
            SlVariant::F5Short => (ans_in, ans + ab - self.short_abandoned),
        };
        // k ≤ n in every variant given the constructor's checks.
        ServiceLevel { variant, tally: Tally::new(k, n).unwrap_or_default() }
    }
}

/// `abandoned / offered` with offered = answered + abandoned (D-23).
pub fn abandonment(abandoned: u64, answered: u64) -> Result<Tally, StatsError> {
    let offered = answered.checked_add(abandoned).ok_or(StatsError::Overflow("offered"))?;
    Tally::new(abandoned, offered)
}

/// `(abandoned − short)/(offered − short)`: abandons within a few seconds
/// (misdials, IVR hang-ups) are not counted as lost contacts.
pub fn abandonment_short_adjusted(abandoned: u64, answered: u64, short: u64) -> Result<Tally, StatsError> {
    let all = abandonment(abandoned, answered)?;
    let long = abandoned.checked_sub(short).ok_or(StatsError::invalid("short", "more than abandoned"))?;
    Tally::new(long, all.n() - short)
}

/// AHT = (talk + hold + after-contact work)/handled, in seconds.
pub fn aht(talk_s: u64, hold_s: u64, after_work_s: u64, handled: u64) -> Option<f64> {
    let total = u128::from(talk_s) + u128::from(hold_s) + u128::from(after_work_s);
    (handled > 0).then(|| total as f64 / handled as f64)
}

/// Measured ASA: total queue time of answered contacts per answered contact.
/// (The Erlang ASA averages over all contacts; this one does not.)
pub fn asa_measured(total_queue_s: u64, answered: u64) -> Option<f64> {
    (answered > 0).then(|| total_queue_s as f64 / answered as f64)
}

/// Measured occupancy = handle time / (handle time + available idle time).
pub fn occupancy_measured(handle_s: u64, idle_s: u64) -> Option<f64> {
    let total = u128::from(handle_s) + u128::from(idle_s);
    (total > 0).then(|| handle_s as f64 / total as f64)
}

/// Shrinkage = paid time not available for contacts / paid time.
pub fn shrinkage_measured(unavailable_s: u64, paid_s: u64) -> Result<Option<f64>, StatsError> {
    Ok(Tally::new(unavailable_s, paid_s)?.rate())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_fcr_refuses_inconsistent_exclusions() {
        assert!(fcr_net(1, 10, 11).is_err());
        assert!(fcr_net(10, 10, 1).is_err());
        assert_eq!(fcr_net(0, 5, 5).map(Tally::rate), Ok(None));
    }

    #[test]
    fn a_negative_backlog_is_an_input_error() {
        assert!(backlog_end(1, 1, 0, 3).is_err());
        assert_eq!(backlog_end(1, 1, 1, 3), Ok(0));
    }

    #[test]
    fn the_default_service_level_is_f3() {
        assert_eq!(SlVariant::default(), SlVariant::F3);
    }

    #[test]
    fn inconsistent_service_level_counts_are_refused() {
        assert!(ServiceLevelCounts::new(10, 5, 11, 0, 0).is_err());
        assert!(ServiceLevelCounts::new(10, 5, 10, 6, 0).is_err());
        assert!(ServiceLevelCounts::new(10, 5, 10, 5, 6).is_err());
    }

    #[test]
    fn an_interval_without_contacts_has_no_service_level() {
        let c = ServiceLevelCounts::new(0, 0, 0, 0, 0).unwrap();
        for v in [SlVariant::F1, SlVariant::F2, SlVariant::F3, SlVariant::F4, SlVariant::F5Short] {
            assert_eq!(c.service_level(v).rate(), None);
        }
    }

    #[test]
    fn only_abandons_give_f2_no_data_but_f3_zero() {
        let c = ServiceLevelCounts::new(0, 4, 0, 1, 0).unwrap();
        assert_eq!(c.service_level(SlVariant::F2).rate(), None);
        assert_eq!(c.service_level(SlVariant::F3).rate(), Some(0.0));
    }

    #[test]
    fn empty_denominators_give_none() {
        assert_eq!(aht(1, 1, 1, 0), None);
        assert_eq!(asa_measured(5, 0), None);
        assert_eq!(occupancy_measured(0, 0), None);
        assert_eq!(shrinkage_measured(0, 0), Ok(None));
        assert_eq!(abandonment(0, 0).map(Tally::rate), Ok(None));
    }

    #[test]
    fn more_short_abandons_than_abandons_are_refused() {
        assert!(abandonment_short_adjusted(3, 10, 4).is_err());
        assert_eq!(abandonment_short_adjusted(3, 0, 3).map(Tally::rate), Ok(None));
    }
}
