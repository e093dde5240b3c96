//! What the engine says about each clock: its state now, and every
//! transition it went through (the events the store appends).

use super::policy::{ClockKind, ServiceClass};
use crate::cases::Status;
use crate::string_enum;
use jiff::Timestamp;

string_enum!(
    /// Where a promise stands.
    ClockStatus {
        Running = "running",
        Paused = "paused",
        Met = "met",
        Breached = "breached",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// What happened to a clock; each becomes an event on the case.
    TransitionKind {
        Started = "promise_started",
        Paused = "promise_paused",
        Resumed = "promise_resumed",
        Warned = "promise_warned",
        Breached = "promise_breached",
        Met = "promise_met",
        FulfilledLate = "promise_fulfilled_late",
        Retargeted = "promise_retargeted",
        Reopened = "promise_reopened",
        Cancelled = "promise_cancelled",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub at: Timestamp,
    pub kind: TransitionKind,
    /// Why it paused (the status), or the new target in ms when retargeted.
    pub detail: Option<String>,
}

/// A stretch of a clock's life, for explaining it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    Counting,
    Paused(Status),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub from: Timestamp,
    pub to: Timestamp,
    pub kind: SegmentKind,
    /// The calendar that measured it (business clocks).
    pub calendar_id: Option<i64>,
}

/// One promise instance as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockEval {
    pub kind: ClockKind,
    /// 1.. for policy clocks (next reply and keep-in-loop repeat); the
    /// promise's id for fixed clocks.
    pub ordinal: i64,
    pub policy_id: Option<i64>,
    pub policy_version: Option<i64>,
    pub class: ServiceClass,
    pub business: bool,
    pub calendar_id: Option<i64>,
    pub target_ms: i64,
    pub status: ClockStatus,
    pub started_at: Timestamp,
    pub elapsed_ms: i64,
    /// target − elapsed; negative when overdue.
    pub remaining_ms: i64,
    /// When it breaches if nothing happens (running), or when it did (breached).
    pub breach_at: Option<Timestamp>,
    /// When it warns (projected), or when it did.
    pub warn_at: Option<Timestamp>,
    pub fulfilled_at: Option<Timestamp>,
    /// When the outcome was decided (METRICS §3.1): fulfilment if met, breach if breached.
    pub determined_at: Option<Timestamp>,
    pub transitions: Vec<Transition>,
    /// Filled only when details are asked for.
    pub segments: Vec<Segment>,
}

impl ClockEval {
    /// Still open: neither fulfilled nor cancelled (an overdue, unfulfilled
    /// promise is breached *and* still owed).
    pub fn is_owed(&self) -> bool {
        self.fulfilled_at.is_none() && self.status != ClockStatus::Cancelled
    }
}
