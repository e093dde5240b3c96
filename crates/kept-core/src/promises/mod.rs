//! Promises: policies that say what is promised, and the clocks that keep
//! count on every case (METRICS.md §2.3–§3).
//!
//! What belongs here: the policy model and its validation, the clock
//! engine (a pure function of a case's history, the books of policies and
//! calendars, and `now`), and explanations. What does not: where instances,
//! jobs and events are stored (kept-store), when engines run (on every case
//! change and every due job).

mod clock;
mod engine;
mod explain;
mod facts;
mod policy;

pub use clock::{ClockEval, ClockStatus, Segment, SegmentKind, Transition, TransitionKind};
pub use engine::evaluate;
pub use explain::explain;
pub use facts::{Books, CalendarHistory, CaseFacts, FixedClock, MessageFact, PolicyHistory};
pub use policy::{
    CaseAttrs, ClockKind, Conditions, ConditionsSpec, Policy, PolicySpec, RecoveryRule, RecoverySpec, ServiceClass,
    Target, TargetSpec,
};

/// Risk of a still-owed clock per METRICS §3.2 (D-27).
pub fn risk(clock: &ClockEval) -> Option<crate::stats::RiskStatus> {
    clock.is_owed().then(|| crate::stats::risk_status(clock.remaining_ms / 1000, clock.target_ms / 1000))
}
