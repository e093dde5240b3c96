//! How promises look on pages: a badge, a countdown, the explanation.

use super::views::show_time;
use jiff::{SignedDuration, Timestamp};
use kept_core::promises::{ClockKind, ClockStatus};
use kept_store::{PromiseView, RecoveryTaskView};

pub struct PromiseLine {
    pub agent_promise_id: Option<i64>,
    pub label: String,
    pub status: String,
    pub risk: String,
    pub countdown: String,
    /// For a live countdown in kept.js (running clocks only).
    pub due_iso: Option<String>,
    pub due: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub class: String,
    pub explanation: Vec<String>,
    pub settled: bool,
}

/// "2 h 05 min", "3 d 4 h", "12 min".
pub fn duration(d: SignedDuration) -> String {
    let mins = d.as_secs().unsigned_abs() / 60;
    match mins {
        0..=89 => format!("{mins} min"),
        90..=2879 => format!("{} h {:02} min", mins / 60, mins % 60),
        _ => format!("{} d {} h", mins / 1440, (mins % 1440) / 60),
    }
}

pub fn countdown(
    status: ClockStatus,
    breach_at: Option<Timestamp>,
    fulfilled: bool,
    remaining_ms: i64,
    now: Timestamp,
) -> String {
    match (status, breach_at) {
        (ClockStatus::Running, Some(due)) => format!("due in {}", duration(due.duration_since(now))),
        (ClockStatus::Paused, _) => format!("paused, {} left", duration(SignedDuration::from_millis(remaining_ms))),
        (ClockStatus::Breached, Some(due)) if !fulfilled => format!("overdue by {}", duration(now.duration_since(due))),
        (ClockStatus::Breached, _) => "kept late".into(),
        (ClockStatus::Met, _) => "kept".into(),
        (ClockStatus::Cancelled, _) => "no longer applies".into(),
        (ClockStatus::Running, None) => "running".into(),
    }
}

impl PromiseLine {
    pub fn new(p: &PromiseView, now: Timestamp) -> Self {
        let c = &p.clock;
        let by_hand = matches!(c.kind, ClockKind::Callback | ClockKind::Update);
        let running =
            c.status == ClockStatus::Running || (c.status == ClockStatus::Breached && c.fulfilled_at.is_none());
        PromiseLine {
            agent_promise_id: by_hand.then_some(c.ordinal),
            label: match c.kind {
                ClockKind::NextReply | ClockKind::KeepInLoop => format!("{} #{}", c.kind.label(), c.ordinal),
                k => k.label().to_owned(),
            },
            status: c.status.to_string(),
            risk: p.risk.map_or("none", |r| r.as_str()).to_owned(),
            countdown: countdown(c.status, c.breach_at, c.fulfilled_at.is_some(), c.remaining_ms, now),
            due_iso: c.breach_at.filter(|_| running).map(|t| t.to_string()),
            due: c.breach_at.map(show_time),
            description: p.description.clone(),
            owner: p.owner_name.clone(),
            class: c.class.to_string(),
            explanation: p.explanation.clone(),
            settled: c.fulfilled_at.is_some() || c.status == ClockStatus::Cancelled,
        }
    }
}

pub struct TaskLine {
    pub id: i64,
    pub reason: String,
    pub owner: String,
    pub due: String,
    pub due_iso: String,
    pub open: bool,
    pub outcome: String,
    pub actions: Vec<String>,
}

impl From<&RecoveryTaskView> for TaskLine {
    fn from(t: &RecoveryTaskView) -> Self {
        TaskLine {
            id: t.id,
            reason: t.reason.clone(),
            owner: t.owner_name.clone().unwrap_or_else(|| "nobody yet".into()),
            due: show_time(t.due_at),
            due_iso: t.due_at.to_string(),
            open: t.closed_at.is_none(),
            outcome: t.outcome.clone().unwrap_or_default().replace('_', " "),
            actions: t
                .actions
                .iter()
                .map(|a| {
                    let amount = a.amount_cents.map(|c| format!(" ({}.{:02})", c / 100, c % 100)).unwrap_or_default();
                    format!("{} — {}{amount}: {} ({})", show_time(a.at), a.kind.replace('_', " "), a.note, a.actor_name)
                })
                .collect(),
        }
    }
}
