//! The clock engine (METRICS.md §2.3 pausing, §3.1 met/breached, §3.2
//! prediction). It replays a case's history from creation to `now` and
//! returns every promise with its state and transitions. Being a pure
//! function of the history, it gives the same answer on every replica and
//! when metrics are rebuilt from the event log.
//!
//! Rules beyond METRICS.md (docs/PROMISES.md explains them to users):
//! - The policy in force is re-chosen whenever the case's attributes, a
//!   policy or a calendar changes. A clock keeps the time it has used and
//!   takes the new target ("keeps elapsed, applies the new target"); if the
//!   new target is already used up, it breaches at that moment. A clock
//!   that no policy targets any more is cancelled.
//! - A clock that no policy targeted at its natural start starts when one
//!   first does, from zero: no promise was made before.
//! - Solved and closed stop every clock from counting; closing cancels
//!   response clocks still owed. Reopening a solved case resumes total
//!   resolution (first resolution stays decided).
//! - Met is inclusive (D-25): fulfilled exactly at the breach instant is met.

use super::clock::{ClockEval, ClockStatus, Segment, SegmentKind, Transition, TransitionKind};
use super::facts::{Books, CaseFacts, FixedClock, MessageFact};
use super::policy::{CaseAttrs, ClockKind, Target};
use crate::calendar::{add_business_millis, business_millis};
use crate::cases::{AuthorRole, Status};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;

/// The target a clock runs against, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Active {
    policy_id: i64,
    version: i64,
    calendar_id: Option<i64>,
    human_only: bool,
    target: Target,
}

#[derive(Debug, Clone)]
struct Clock {
    kind: ClockKind,
    ordinal: i64,
    start: Timestamp,
    active: Option<Active>,
    last: Option<Active>,
    elapsed: i64,
    counting: bool,
    fulfilled: Option<Timestamp>,
    breached: Option<Timestamp>,
    pending_breach: Option<Timestamp>,
    warned: Option<Timestamp>,
    cancelled: Option<Timestamp>,
    transitions: Vec<Transition>,
    segments: Vec<Segment>,
}

impl Clock {
    fn new(kind: ClockKind, ordinal: i64, start: Timestamp) -> Self {
        Clock {
            kind,
            ordinal,
            start,
            active: None,
            last: None,
            elapsed: 0,
            counting: false,
            fulfilled: None,
            breached: None,
            pending_breach: None,
            warned: None,
            cancelled: None,
            transitions: Vec::new(),
            segments: Vec::new(),
        }
    }

    fn live(&self) -> bool {
        self.cancelled.is_none() && self.fulfilled.is_none()
    }

    fn note(&mut self, at: Timestamp, kind: TransitionKind, detail: Option<String>) {
        self.transitions.push(Transition { at, kind, detail });
    }
}

struct Walk<'a> {
    books: &'a Books,
    status: Status,
    attrs: CaseAttrs,
    agent_replied: bool,
    clocks: Vec<Clock>,
    detail: bool,
}

/// Evaluates every promise of a case as of `now`. With `detail`, each clock
/// also carries its segments (for explanations).
pub fn evaluate(
    facts: &CaseFacts,
    books: &Books,
    fixed: &[FixedClock],
    now: Timestamp,
    detail: bool,
) -> Vec<ClockEval> {
    let mut out = policy_clocks(facts, books, now, detail);
    out.extend(fixed.iter().map(|f| fixed_clock(f, now)));
    out
}

fn policy_clocks(facts: &CaseFacts, books: &Books, now: Timestamp, detail: bool) -> Vec<ClockEval> {
    let Some((_, first_attrs)) = facts.attrs.first() else { return Vec::new() };
    let start = facts.created_at;
    let now = now.max(start);
    let mut w = Walk {
        books,
        status: Status::New,
        attrs: first_attrs.clone(),
        agent_replied: false,
        clocks: Vec::new(),
        detail,
    };
    let mut natural = vec![ClockKind::FirstResponse, ClockKind::FirstResolution, ClockKind::TotalResolution];
    if facts.internal {
        natural.push(ClockKind::InternalHandoff);
    }
    for kind in natural {
        w.clocks.push(Clock::new(kind, 1, start));
    }
    let mut points: BTreeSet<Timestamp> = facts.statuses.iter().map(|(t, _)| *t).collect();
    points.extend(facts.messages.iter().map(|m| m.at));
    points.extend(facts.attrs.iter().map(|(t, _)| *t));
    points.extend(books.change_points());
    points.insert(now);
    let points: Vec<Timestamp> = points.into_iter().filter(|t| *t >= start && *t <= now).collect();
    w.retarget(start);
    let mut previous = start;
    for p in points {
        if p > previous {
            w.advance(previous, p);
        }
        w.apply_at(facts, p);
        previous = p;
    }
    w.settle(now);
    w.clocks.iter().filter(|c| c.last.is_some()).map(|c| w.report(c, now)).collect()
}

impl Walk<'_> {
    fn measure(&self, a: &Active, from: Timestamp, to: Timestamp) -> i64 {
        match self.calendar(a, from) {
            Some(cal) => business_millis(cal, from, to),
            None => to.duration_since(from).as_millis() as i64,
        }
    }

    /// The instant `ms` of the clock's time after `from` (`None`: never).
    fn add(&self, a: &Active, from: Timestamp, ms: i64) -> Option<Timestamp> {
        match self.calendar(a, from) {
            Some(cal) => add_business_millis(cal, from, ms),
            None => from.checked_add(SignedDuration::from_millis(ms)).ok(),
        }
    }

    fn calendar(&self, a: &Active, at: Timestamp) -> Option<&crate::calendar::Calendar> {
        if !a.target.business {
            return None;
        }
        a.calendar_id.and_then(|id| self.books.calendar_at(id, at))
    }

    fn counts(&self, c: &Clock) -> bool {
        let Some(a) = &c.active else { return false };
        c.live() && !matches!(self.status, Status::Solved | Status::Closed) && !a.target.pause_on.contains(&self.status)
    }

    /// Lets time run from `a` to `b` (nothing happens strictly between them).
    fn advance(&mut self, a: Timestamp, b: Timestamp) {
        for i in 0..self.clocks.len() {
            let c = &self.clocks[i];
            let (Some(active), true) = (c.active.clone(), c.live()) else { continue };
            if !c.counting {
                if self.detail {
                    let kind = SegmentKind::Paused(self.status);
                    self.clocks[i].segments.push(Segment { from: a, to: b, kind, calendar_id: active.calendar_id });
                }
                continue;
            }
            let measured = self.measure(&active, a, b);
            let (elapsed, target) = (c.elapsed, active.target.target_ms);
            let warn_at = active
                .target
                .warn_elapsed_ms()
                .filter(|w| c.warned.is_none() && c.breached.is_none() && elapsed < *w && elapsed + measured >= *w)
                .and_then(|w| self.add(&active, a, w - elapsed));
            let breach_at = (c.breached.is_none() && elapsed < target && elapsed + measured >= target)
                .then(|| self.add(&active, a, target - elapsed))
                .flatten();
            let c = &mut self.clocks[i];
            if let Some(at) = warn_at {
                c.warned = Some(at);
                c.note(at, TransitionKind::Warned, None);
            }
            if let Some(at) = breach_at {
                if at < b {
                    c.breached = Some(at);
                    c.note(at, TransitionKind::Breached, None);
                } else {
                    c.pending_breach = Some(at);
                }
            }
            c.elapsed += measured;
            if self.detail {
                c.segments.push(Segment {
                    from: a,
                    to: b,
                    kind: SegmentKind::Counting,
                    calendar_id: active.calendar_id.filter(|_| active.target.business),
                });
            }
        }
    }

    /// Applies what happened at `t`: messages, then status changes, then
    /// changes of attributes, policies and calendars.
    fn apply_at(&mut self, facts: &CaseFacts, t: Timestamp) {
        for m in facts.messages.iter().filter(|m| m.at == t) {
            self.message(m);
        }
        for (_, s) in facts.statuses.iter().filter(|(at, _)| *at == t) {
            self.set_status(*s, t);
        }
        if let Some((_, attrs)) = facts.attrs.iter().rev().find(|(at, _)| *at == t) {
            self.attrs = attrs.clone();
        }
        self.retarget(t);
        self.settle(t);
    }

    /// Resolves a breach that falls exactly at `t` once `t`'s events are in:
    /// fulfilled at that very instant is met (D-25).
    fn settle(&mut self, t: Timestamp) {
        for c in &mut self.clocks {
            if let Some(at) = c.pending_breach.filter(|at| *at <= t) {
                c.pending_breach = None;
                if c.fulfilled.is_none_or(|f| f > at) {
                    c.breached = Some(at);
                    c.note(at, TransitionKind::Breached, None);
                }
            }
        }
    }

    fn fulfil(c: &mut Clock, at: Timestamp) {
        if !c.live() || c.active.is_none() {
            return;
        }
        c.fulfilled = Some(at);
        let late = c.breached.is_some_and(|b| b < at) || c.pending_breach.is_some_and(|b| b < at);
        c.note(at, if late { TransitionKind::FulfilledLate } else { TransitionKind::Met }, None);
    }

    fn message(&mut self, m: &MessageFact) {
        if !m.public {
            return;
        }
        match m.role {
            AuthorRole::Customer => {
                let awaiting = self.clocks.iter().any(|c| c.kind == ClockKind::NextReply && c.live());
                if self.agent_replied && !awaiting {
                    let n = self.clocks.iter().filter(|c| c.kind == ClockKind::NextReply).count() as i64 + 1;
                    self.clocks.push(Clock::new(ClockKind::NextReply, n, m.at));
                }
            }
            AuthorRole::Agent | AuthorRole::System => {
                let human = m.role == AuthorRole::Agent;
                for c in &mut self.clocks {
                    let replies =
                        matches!(c.kind, ClockKind::FirstResponse | ClockKind::NextReply | ClockKind::KeepInLoop);
                    let accepted = human || c.active.as_ref().is_some_and(|a| !a.human_only);
                    if replies && accepted {
                        Self::fulfil(c, m.at);
                    }
                }
                if human {
                    self.agent_replied = true;
                }
                if !matches!(self.status, Status::Solved | Status::Closed) {
                    let n = self.clocks.iter().filter(|c| c.kind == ClockKind::KeepInLoop).count() as i64 + 1;
                    self.clocks.push(Clock::new(ClockKind::KeepInLoop, n, m.at));
                }
            }
        }
    }

    fn set_status(&mut self, to: Status, t: Timestamp) {
        let from = std::mem::replace(&mut self.status, to);
        for c in &mut self.clocks {
            match (c.kind, to) {
                // Solving tells the customer too: it keeps them informed.
                (
                    ClockKind::FirstResolution
                    | ClockKind::TotalResolution
                    | ClockKind::InternalHandoff
                    | ClockKind::KeepInLoop,
                    Status::Solved,
                ) => {
                    Self::fulfil(c, t);
                }
                (ClockKind::TotalResolution, s)
                    if from == Status::Solved && s != Status::Closed && c.fulfilled.is_some() =>
                {
                    c.fulfilled = None;
                    c.note(t, TransitionKind::Reopened, None);
                }
                (ClockKind::FirstResponse | ClockKind::NextReply | ClockKind::KeepInLoop, Status::Closed)
                    if c.live() && c.active.is_some() && c.breached.is_none() =>
                {
                    c.cancelled = Some(t);
                    c.note(t, TransitionKind::Cancelled, Some("closed".into()));
                }
                _ => {}
            }
        }
    }

    /// Chooses the policy in force at `t` and gives every live clock its target.
    fn retarget(&mut self, t: Timestamp) {
        let policy = self.books.policy_at(t, &self.attrs).cloned();
        for i in 0..self.clocks.len() {
            if !self.clocks[i].live() {
                continue;
            }
            let new = policy.as_ref().and_then(|p| {
                p.target(self.clocks[i].kind).map(|target| Active {
                    policy_id: p.id,
                    version: p.version,
                    calendar_id: p.calendar_id,
                    human_only: p.human_replies_only,
                    target: target.clone(),
                })
            });
            let c = &mut self.clocks[i];
            match (&c.active, &new) {
                (None, Some(_)) => {
                    c.start = if c.last.is_none() { t.max(c.start) } else { c.start };
                    c.note(t, TransitionKind::Started, None);
                }
                (Some(_), None) => {
                    c.cancelled = Some(t);
                    c.note(t, TransitionKind::Cancelled, Some("no longer promised".into()));
                }
                (Some(old), Some(n)) if old != n => {
                    c.note(t, TransitionKind::Retargeted, Some(n.target.target_ms.to_string()));
                    if c.breached.is_none() && c.elapsed >= n.target.target_ms {
                        c.breached = Some(t);
                        c.note(t, TransitionKind::Breached, None);
                    }
                }
                _ => {}
            }
            if c.cancelled.is_none() {
                c.active = new.clone();
            }
            if new.is_some() {
                c.last = new;
            }
        }
        self.update_counting(t);
    }

    fn update_counting(&mut self, t: Timestamp) {
        for i in 0..self.clocks.len() {
            let counts = self.counts(&self.clocks[i]);
            let status = self.status;
            let c = &mut self.clocks[i];
            if c.active.is_some() && c.live() && counts != c.counting {
                let started_now = c.transitions.last().is_some_and(|tr| {
                    tr.at == t && matches!(tr.kind, TransitionKind::Started | TransitionKind::Reopened)
                });
                if counts && !started_now {
                    c.note(t, TransitionKind::Resumed, None);
                } else if !counts {
                    c.note(t, TransitionKind::Paused, Some(status.as_str().to_owned()));
                }
            }
            c.counting = counts;
        }
    }

    fn report(&self, c: &Clock, now: Timestamp) -> ClockEval {
        let a = c.last.clone().or_else(|| c.active.clone());
        let target = a.as_ref().map_or(0, |a| a.target.target_ms);
        // A breach stays a breach whatever happens later (METRICS §3.1).
        let status = if c.breached.is_some() {
            ClockStatus::Breached
        } else if c.cancelled.is_some() {
            ClockStatus::Cancelled
        } else if c.fulfilled.is_some() {
            ClockStatus::Met
        } else if c.counting {
            ClockStatus::Running
        } else {
            ClockStatus::Paused
        };
        let remaining = target - c.elapsed;
        let projecting = c.counting && c.breached.is_none() && c.live();
        let breach_at =
            c.breached.or_else(|| a.as_ref().filter(|_| projecting).and_then(|a| self.add(a, now, remaining)));
        let warn_at = c.warned.or_else(|| {
            let a = a.as_ref().filter(|_| projecting)?;
            let w = a.target.warn_elapsed_ms().filter(|w| *w > c.elapsed)?;
            self.add(a, now, w - c.elapsed)
        });
        let determined_at = match status {
            ClockStatus::Met => c.fulfilled,
            ClockStatus::Breached => c.breached,
            _ => None,
        };
        ClockEval {
            kind: c.kind,
            ordinal: c.ordinal,
            policy_id: a.as_ref().map(|a| a.policy_id),
            policy_version: a.as_ref().map(|a| a.version),
            class: a.as_ref().map_or(super::policy::ServiceClass::Experience, |a| a.target.class),
            business: a.as_ref().is_some_and(|a| a.target.business),
            calendar_id: a.as_ref().and_then(|a| a.calendar_id),
            target_ms: target,
            status,
            started_at: c.start,
            elapsed_ms: c.elapsed,
            remaining_ms: remaining,
            breach_at,
            warn_at,
            fulfilled_at: c.fulfilled,
            determined_at,
            transitions: c.transitions.clone(),
            segments: c.segments.clone(),
        }
    }
}

/// A promise with a fixed deadline, measured in calendar time.
fn fixed_clock(f: &FixedClock, now: Timestamp) -> ClockEval {
    let target = f.due.duration_since(f.start).as_millis() as i64;
    let end = [f.fulfilled_at, f.cancelled_at, Some(now)].into_iter().flatten().min().unwrap_or(now).max(f.start);
    let elapsed = end.duration_since(f.start).as_millis() as i64;
    let mut transitions = vec![Transition { at: f.start, kind: TransitionKind::Started, detail: None }];
    // Cancelling after the deadline does not undo the breach.
    let cancelled = f.cancelled_at.filter(|c| *c <= f.due && f.fulfilled_at.is_none_or(|d| *c < d));
    let breached = cancelled.is_none() && f.fulfilled_at.is_none_or(|d| d > f.due) && now >= f.due;
    if breached {
        transitions.push(Transition { at: f.due, kind: TransitionKind::Breached, detail: None });
    }
    let status = match (cancelled, breached, f.fulfilled_at) {
        (Some(at), _, _) => {
            transitions.push(Transition { at, kind: TransitionKind::Cancelled, detail: None });
            ClockStatus::Cancelled
        }
        (None, true, fulfilled) => {
            if let Some(at) = fulfilled.filter(|at| *at <= now) {
                transitions.push(Transition { at, kind: TransitionKind::FulfilledLate, detail: None });
            }
            ClockStatus::Breached
        }
        (None, false, Some(at)) => {
            transitions.push(Transition { at, kind: TransitionKind::Met, detail: None });
            ClockStatus::Met
        }
        (None, false, None) => ClockStatus::Running,
    };
    ClockEval {
        kind: f.kind,
        ordinal: f.id,
        policy_id: None,
        policy_version: None,
        class: super::policy::ServiceClass::Experience,
        business: false,
        calendar_id: None,
        target_ms: target,
        status,
        started_at: f.start,
        elapsed_ms: elapsed,
        remaining_ms: target - elapsed,
        breach_at: Some(f.due),
        warn_at: None,
        fulfilled_at: f.fulfilled_at,
        determined_at: match status {
            ClockStatus::Met => f.fulfilled_at,
            ClockStatus::Breached => Some(f.due),
            _ => None,
        },
        transitions,
        segments: Vec::new(),
    }
}
