//! Cases: what a customer (or another team) asked for, and everything that
//! happened to it.

mod events;
mod fields;
mod lifecycle;
mod status;

pub use events::{Event, EventKind, NewEvent};
pub use fields::{AuthorRole, Channel, Priority};
pub use lifecycle::{CasePatch, apply_patch, author_role, creation_event, set_status, status_after_message};
pub use status::Status;

use crate::ids::{AccountId, CaseId, MessageId, TeamId, UserId};
use crate::values::{Slug, Subject};
use jiff::Timestamp;
use std::collections::BTreeSet;

/// The current state of a case (the projection of its events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: CaseId,
    pub subject: Subject,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub case_type: Slug,
    pub account_id: AccountId,
    pub requester_id: UserId,
    /// The team serving the case.
    pub team_id: TeamId,
    pub assignee_id: Option<UserId>,
    pub tags: BTreeSet<Slug>,
    /// For an internal request: the case it was raised for.
    pub parent_case_id: Option<CaseId>,
    /// For an internal request: the team that raised it (the internal customer).
    pub requesting_team_id: Option<TeamId>,
    /// For a follow-up: the closed case it continues.
    pub follow_up_of: Option<CaseId>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The latest solve, cleared when reopened.
    pub solved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

impl Case {
    pub fn is_internal(&self) -> bool {
        self.requesting_team_id.is_some()
    }
}

/// The default case type for cases opened without one.
pub const DEFAULT_CASE_TYPE: &str = "question";

/// The most tags a case may carry: enough for any real use, few enough that
/// a list page stays small.
pub const MAX_TAGS: usize = 20;

/// A message on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub case_id: CaseId,
    pub author_id: UserId,
    pub author_role: AuthorRole,
    /// Public messages are part of the conversation with the customer;
    /// the others are internal notes.
    pub public: bool,
    pub body: String,
    pub created_at: Timestamp,
}
