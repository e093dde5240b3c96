//! The timeline of a case in plain words, from its events.

use super::views::show_time;
use kept_core::cases::{EventKind, Status};
use kept_core::promises::ClockKind;
use kept_store::TimelineEntry;
use serde_json::Value;
use std::collections::HashMap;

pub struct TimelineLine {
    pub at: String,
    pub at_iso: String,
    pub text: String,
}

/// Names to show for the ids found in events.
#[derive(Default)]
pub struct Names {
    pub people: HashMap<i64, String>,
    pub teams: HashMap<i64, String>,
}

impl Names {
    fn person(&self, v: Option<&Value>) -> String {
        match v.and_then(Value::as_i64) {
            Some(id) => self.people.get(&id).cloned().unwrap_or_else(|| format!("user {id}")),
            None => "nobody".into(),
        }
    }

    fn team(&self, v: Option<&Value>) -> String {
        match v.and_then(Value::as_i64) {
            Some(id) => self.teams.get(&id).cloned().unwrap_or_else(|| format!("team {id}")),
            None => "no team".into(),
        }
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => "none".into(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn status(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).and_then(|s| Status::parse("", s).ok()).map_or_else(|| text(v), |s| s.label().to_owned())
}

pub fn describe(entry: &TimelineEntry, names: &Names) -> TimelineLine {
    let e = &entry.event;
    let who = entry.actor_name.clone().unwrap_or_else(|| "kept".into());
    let (before, after) = (e.before.as_ref(), e.after.as_ref());
    let linked = e.data.get("case_id").and_then(Value::as_i64).map(|id| format!("case {id}")).unwrap_or_default();
    let text = match e.kind {
        EventKind::CaseCreated => format!("{who} opened the case ({})", text(e.data.get("channel"))),
        EventKind::StatusChanged => format!("{who} changed the status from {} to {}", status(before), status(after)),
        EventKind::AssigneeChanged if after.is_some_and(Value::is_null) => format!("{who} unassigned the case"),
        EventKind::AssigneeChanged => format!("{who} assigned the case to {}", names.person(after)),
        EventKind::TeamChanged => format!("{who} moved the case from {} to {}", names.team(before), names.team(after)),
        EventKind::PriorityChanged => format!("{who} changed the priority from {} to {}", text(before), text(after)),
        EventKind::TagsChanged => format!("{who} set the tags to {}", text(after)),
        EventKind::CaseTypeChanged => format!("{who} changed the case type to {}", text(after)),
        EventKind::SubjectChanged => format!("{who} renamed the case to \u{201c}{}\u{201d}", text(after)),
        EventKind::CustomerMessage => format!("{who} wrote"),
        EventKind::AgentReply => format!("{who} replied"),
        EventKind::InternalNote => format!("{who} added an internal note"),
        EventKind::FollowUpCreated => format!("a follow-up was opened: {linked}"),
        EventKind::InternalRequestOpened => {
            format!("{who} asked {} for help: {linked}", names.team(e.data.get("team_id")))
        }
        EventKind::InternalRequestSolved => {
            format!("{} solved the internal request {linked}", names.team(e.data.get("team_id")))
        }
        EventKind::PromiseMade => format!(
            "{who} promised a {} by {}: {}",
            text(e.data.get("clock")),
            e.data
                .get("due_at")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok())
                .map(show_time)
                .unwrap_or_default(),
            text(e.data.get("description"))
        ),
        EventKind::RecoveryOpened => "a recovery task was opened".to_owned(),
        EventKind::RecoveryAction => {
            format!("{who} recorded a recovery action: {}", text(e.data.get("kind")).replace('_', " "))
        }
        EventKind::RecoveryClosed => {
            format!("{who} closed recovery: {}", text(e.data.get("outcome")).replace('_', " "))
        }
        promise => promise_line(promise, &e.data),
    };
    TimelineLine { at: show_time(e.at), at_iso: e.at.to_string(), text }
}

/// "First response promise breached", … for the clock transitions.
fn promise_line(kind: EventKind, data: &Value) -> String {
    let clock =
        data.get("clock").and_then(Value::as_str).and_then(|c| ClockKind::parse("", c).ok()).map_or("A", |c| c.label());
    let what = match kind {
        EventKind::PromiseStarted => "started".to_owned(),
        EventKind::PromisePaused => format!("paused ({})", text(data.get("detail")).replace('_', " ")),
        EventKind::PromiseResumed => "resumed".to_owned(),
        EventKind::PromiseWarned => "at risk".to_owned(),
        EventKind::PromiseBreached => "breached".to_owned(),
        EventKind::PromiseMet => "met".to_owned(),
        EventKind::PromiseFulfilledLate => "kept late".to_owned(),
        EventKind::PromiseRetargeted => {
            let ms: i64 = data.get("detail").and_then(Value::as_str).and_then(|d| d.parse().ok()).unwrap_or(0);
            format!("target changed to {} minutes", ms / 60_000)
        }
        EventKind::PromiseReopened => "reopened".to_owned(),
        _ => "cancelled".to_owned(),
    };
    format!("{clock} promise {what}")
}
