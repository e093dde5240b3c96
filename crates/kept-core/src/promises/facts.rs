//! The inputs of the clock engine: what happened to a case, which policies
//! and calendars were in force when, and the promises people made by hand.

use super::policy::{CaseAttrs, ClockKind, Policy};
use crate::calendar::Calendar;
use crate::cases::{AuthorRole, Status};
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFact {
    pub at: Timestamp,
    pub role: AuthorRole,
    pub public: bool,
}

/// A case's history as the clocks see it, each list in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub created_at: Timestamp,
    /// An internal request (its hand-off clock runs).
    pub internal: bool,
    /// Status changes after creation (a case is created `new`).
    pub statuses: Vec<(Timestamp, Status)>,
    pub messages: Vec<MessageFact>,
    /// The case's attributes from creation on; the first entry is at creation.
    pub attrs: Vec<(Timestamp, CaseAttrs)>,
}

/// A policy through time: each version from its instant on; `None` when
/// the policy was switched off.
#[derive(Debug, Clone)]
pub struct PolicyHistory {
    pub id: i64,
    /// Order among policies: the first match wins.
    pub position: i64,
    pub versions: Vec<(Timestamp, Option<Policy>)>,
}

/// A calendar through time: each version from its instant on, so that an
/// edit moves future deadlines but leaves time already measured alone.
#[derive(Debug, Clone)]
pub struct CalendarHistory {
    pub id: i64,
    pub versions: Vec<(Timestamp, Calendar)>,
}

/// Policies and calendars, as known to one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Books {
    pub policies: Vec<PolicyHistory>,
    pub calendars: Vec<CalendarHistory>,
}

impl Books {
    /// The first policy, in position order, in force at `t` whose conditions match.
    pub fn policy_at(&self, t: Timestamp, attrs: &CaseAttrs) -> Option<&Policy> {
        let mut ordered: Vec<&PolicyHistory> = self.policies.iter().collect();
        ordered.sort_by_key(|p| (p.position, p.id));
        ordered.into_iter().find_map(|p| {
            let current = p.versions.iter().rev().find(|(from, _)| *from <= t).and_then(|(_, v)| v.as_ref());
            current.filter(|policy| policy.conditions.matches(attrs))
        })
    }

    pub fn calendar_at(&self, id: i64, t: Timestamp) -> Option<&Calendar> {
        let history = self.calendars.iter().find(|c| c.id == id)?;
        history.versions.iter().rev().find(|(from, _)| *from <= t).or(history.versions.first()).map(|(_, c)| c)
    }

    /// Instants at which something in the books changes.
    pub(crate) fn change_points(&self) -> impl Iterator<Item = Timestamp> + '_ {
        let p = self.policies.iter().flat_map(|p| p.versions.iter().map(|(t, _)| *t));
        let c = self.calendars.iter().flat_map(|c| c.versions.iter().map(|(t, _)| *t));
        p.chain(c)
    }
}

/// A promise with a fixed deadline: made by an agent ("I will call you back
/// by 15:00") or by a recovery task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedClock {
    pub id: i64,
    pub kind: ClockKind,
    pub start: Timestamp,
    pub due: Timestamp,
    pub fulfilled_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
}
