//! The append-only event log of a case: who did what, when, from what to what.
//! Events are the audit trail and the source every metric is computed from;
//! they are never updated or deleted (the store enforces it with triggers).

use crate::ids::{CaseId, EventId, MessageId, TeamId, UserId};
use crate::string_enum;
use jiff::Timestamp;
use serde_json::{Value, json};

string_enum!(
    /// What happened.
    EventKind {
        CaseCreated = "case_created",
        StatusChanged = "status_changed",
        AssigneeChanged = "assignee_changed",
        TeamChanged = "team_changed",
        PriorityChanged = "priority_changed",
        TagsChanged = "tags_changed",
        CaseTypeChanged = "case_type_changed",
        SubjectChanged = "subject_changed",
        CustomerMessage = "customer_message",
        AgentReply = "agent_reply",
        InternalNote = "internal_note",
        FollowUpCreated = "follow_up_created",
        InternalRequestOpened = "internal_request_opened",
        InternalRequestSolved = "internal_request_solved",
        PromiseStarted = "promise_started",
        PromisePaused = "promise_paused",
        PromiseResumed = "promise_resumed",
        PromiseWarned = "promise_warned",
        PromiseBreached = "promise_breached",
        PromiseMet = "promise_met",
        PromiseFulfilledLate = "promise_fulfilled_late",
        PromiseRetargeted = "promise_retargeted",
        PromiseReopened = "promise_reopened",
        PromiseCancelled = "promise_cancelled",
        /// An agent promised a callback or an update by a time.
        PromiseMade = "promise_made",
        RecoveryOpened = "recovery_opened",
        RecoveryAction = "recovery_action",
        RecoveryClosed = "recovery_closed",
    }
);

impl EventKind {
    /// Whether a customer contact sees this event in their timeline. Internal
    /// work (notes, assignments, internal requests) stays internal.
    pub fn visible_to_contacts(self) -> bool {
        matches!(
            self,
            EventKind::CaseCreated
                | EventKind::StatusChanged
                | EventKind::SubjectChanged
                | EventKind::CustomerMessage
                | EventKind::AgentReply
                | EventKind::FollowUpCreated
        )
    }
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub actor: Option<UserId>,
    pub at: Timestamp,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub data: Value,
}

impl NewEvent {
    pub fn new(kind: EventKind, actor: Option<UserId>, at: Timestamp) -> Self {
        Self { kind, actor, at, before: None, after: None, data: Value::Null }
    }

    pub fn change(kind: EventKind, actor: Option<UserId>, at: Timestamp, before: Value, after: Value) -> Self {
        Self { before: Some(before), after: Some(after), ..Self::new(kind, actor, at) }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    /// The event recording a message.
    pub fn message(kind: EventKind, author: UserId, at: Timestamp, message_id: MessageId) -> Self {
        Self::new(kind, Some(author), at).with_data(json!({ "message_id": message_id }))
    }

    pub fn follow_up_created(actor: Option<UserId>, at: Timestamp, follow_up: CaseId) -> Self {
        Self::new(EventKind::FollowUpCreated, actor, at).with_data(json!({ "case_id": follow_up }))
    }

    pub fn internal_request(
        kind: EventKind,
        actor: Option<UserId>,
        at: Timestamp,
        child: CaseId,
        team: TeamId,
    ) -> Self {
        Self::new(kind, actor, at).with_data(json!({ "case_id": child, "team_id": team }))
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub case_id: CaseId,
    pub kind: EventKind,
    pub actor: Option<UserId>,
    pub at: Timestamp,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub data: Value,
}
