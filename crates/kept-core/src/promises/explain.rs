//! A clock in plain words: "started 09:12; paused 10:05–14:40 waiting on
//! customer; outside business hours 17:00–09:00; met 11:02, 38 business
//! minutes before due". Times are shown in the calendar's time zone.

use super::clock::{ClockEval, ClockStatus, SegmentKind, TransitionKind};
use super::facts::Books;
use crate::calendar::business_windows;
use crate::cases::Status;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The lines explaining `clock`, in order.
pub fn explain(clock: &ClockEval, books: &Books, tz: &TimeZone) -> Vec<String> {
    let at = |t: Timestamp| t.to_zoned_datetime(tz.clone()).strftime("%a %d %b %H:%M").to_string();
    let span = |a: Timestamp, b: Timestamp| format!("{}–{}", at(a), short(a, b, tz));
    let unit = if clock.business { "business minutes" } else { "minutes" };
    let mut lines = vec![format!("started {}", at(clock.started_at))];
    let mut merged: Vec<(Timestamp, Timestamp, String)> = Vec::new();
    for s in &clock.segments {
        let what = match s.kind {
            SegmentKind::Paused(status) => Some(paused_reason(status)),
            SegmentKind::Counting => None,
        };
        if let Some(what) = what {
            push_merged(&mut merged, s.from, s.to, what.to_owned());
        }
        if let (SegmentKind::Counting, Some(cal)) = (s.kind, s.calendar_id.and_then(|id| books.calendar_at(id, s.from)))
        {
            let mut cursor = s.from;
            for (open, close) in business_windows(cal, s.from, s.to) {
                if open > cursor {
                    push_merged(&mut merged, cursor, open, "outside business hours".into());
                }
                cursor = close;
            }
            if cursor < s.to {
                push_merged(&mut merged, cursor, s.to, "outside business hours".into());
            }
        }
    }
    lines.extend(merged.into_iter().map(|(a, b, what)| {
        if what == "outside business hours" {
            format!("{what} {}", span(a, b))
        } else {
            format!("paused {} {what}", span(a, b))
        }
    }));
    for t in &clock.transitions {
        let line = match t.kind {
            TransitionKind::Warned => format!("warning {}", at(t.at)),
            TransitionKind::Retargeted => format!(
                "target changed {} to {}",
                at(t.at),
                minutes(t.detail.as_deref().and_then(|d| d.parse().ok()).unwrap_or(0), unit)
            ),
            TransitionKind::Reopened => format!("reopened {}", at(t.at)),
            TransitionKind::Cancelled => {
                format!("cancelled {} ({})", at(t.at), t.detail.as_deref().unwrap_or("no longer applies"))
            }
            TransitionKind::Breached => format!("breached {}", at(t.at)),
            _ => continue,
        };
        lines.push(line);
    }
    lines.push(match clock.status {
        ClockStatus::Met => {
            let f = clock.fulfilled_at.map(at).unwrap_or_default();
            format!("met {f}, {} before due", minutes(clock.remaining_ms, unit))
        }
        ClockStatus::Breached => match clock.fulfilled_at {
            Some(f) => format!("fulfilled late {}, {} over", at(f), minutes(-clock.remaining_ms, unit)),
            None => format!("overdue by {} — still owed", minutes(-clock.remaining_ms, unit)),
        },
        ClockStatus::Running => match clock.breach_at {
            Some(due) => format!("due {} ({} left)", at(due), minutes(clock.remaining_ms, unit)),
            None => format!("{} left", minutes(clock.remaining_ms, unit)),
        },
        ClockStatus::Paused => format!("paused now, {} left", minutes(clock.remaining_ms, unit)),
        ClockStatus::Cancelled => "no longer applies".to_owned(),
    });
    lines
}

fn paused_reason(status: Status) -> &'static str {
    match status {
        Status::Pending => "waiting on customer",
        Status::OnHold => "waiting on a third party",
        Status::Solved => "solved",
        Status::Closed => "closed",
        Status::New | Status::Open => "paused",
    }
}

/// The end of a span: just the time when on the same local day.
fn short(a: Timestamp, b: Timestamp, tz: &TimeZone) -> String {
    let (za, zb) = (a.to_zoned_datetime(tz.clone()), b.to_zoned_datetime(tz.clone()));
    if za.date() == zb.date() { zb.strftime("%H:%M").to_string() } else { zb.strftime("%a %d %b %H:%M").to_string() }
}

fn push_merged(merged: &mut Vec<(Timestamp, Timestamp, String)>, a: Timestamp, b: Timestamp, what: String) {
    match merged.last_mut() {
        Some((_, end, w)) if *end == a && *w == what => *end = b,
        _ => merged.push((a, b, what)),
    }
}

fn minutes(ms: i64, unit: &str) -> String {
    let m = ms.abs() / 60_000;
    if m >= 120 {
        format!("{} h {} min{}", m / 60, m % 60, unit.strip_prefix("minutes").map_or(" (business)", |_| ""))
    } else {
        format!("{m} {unit}")
    }
}
