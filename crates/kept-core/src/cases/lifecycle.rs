//! Applying a change to a case: the rule checks and the events it produces.
//! Facts that need the database (is the assignee on the team?) are checked by
//! the caller before; everything decidable from the case itself is here.

use super::{Case, EventKind, NewEvent, Status};
use crate::cases::{AuthorRole, Priority};
use crate::error::DomainError;
use crate::ids::{TeamId, UserId};
use crate::permissions::Principal;
use crate::values::{Slug, Subject};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A requested change; `None` leaves a field alone. `assignee: Some(None)`
/// unassigns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CasePatch {
    pub subject: Option<Subject>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub team_id: Option<TeamId>,
    pub assignee_id: Option<Option<UserId>>,
    pub case_type: Option<Slug>,
    pub tags: Option<BTreeSet<Slug>>,
}

impl CasePatch {
    pub fn is_empty(&self) -> bool {
        *self == CasePatch::default()
    }
}

/// Applies `patch` to `case` in place and returns the events that record it,
/// in a stable order. A field set to its current value produces no event.
pub fn apply_patch(
    case: &mut Case,
    patch: CasePatch,
    actor: Option<UserId>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, DomainError> {
    if case.status == Status::Closed {
        return Err(DomainError::conflict(
            "case_closed",
            None,
            "a closed case cannot be changed; reply to open a follow-up",
        ));
    }
    let mut events = Vec::new();
    let change = |kind, before: Value, after: Value| NewEvent::change(kind, actor, now, before, after);

    if let Some(subject) = patch.subject.filter(|s| *s != case.subject) {
        events.push(change(EventKind::SubjectChanged, json!(case.subject), json!(subject)));
        case.subject = subject;
    }
    if let Some(priority) = patch.priority.filter(|p| *p != case.priority) {
        events.push(change(EventKind::PriorityChanged, json!(case.priority), json!(priority)));
        case.priority = priority;
    }
    if let Some(team) = patch.team_id.filter(|t| *t != case.team_id) {
        events.push(change(EventKind::TeamChanged, json!(case.team_id), json!(team)));
        case.team_id = team;
    }
    if let Some(assignee) = patch.assignee_id.filter(|a| *a != case.assignee_id) {
        events.push(change(EventKind::AssigneeChanged, json!(case.assignee_id), json!(assignee)));
        case.assignee_id = assignee;
    }
    if let Some(case_type) = patch.case_type.filter(|t| *t != case.case_type) {
        events.push(change(EventKind::CaseTypeChanged, json!(case.case_type), json!(case_type)));
        case.case_type = case_type;
    }
    if let Some(tags) = patch.tags.filter(|t| *t != case.tags) {
        events.push(change(EventKind::TagsChanged, json!(case.tags), json!(tags)));
        case.tags = tags;
    }
    if let Some(status) = patch.status.filter(|s| *s != case.status) {
        events.push(set_status(case, status, actor, now)?);
    }
    if !events.is_empty() {
        case.updated_at = now;
    }
    Ok(events)
}

/// Moves the case to `to` (checked against the lifecycle) and returns the
/// event. Keeps `solved_at`/`closed_at` in step.
pub fn set_status(case: &mut Case, to: Status, actor: Option<UserId>, now: Timestamp) -> Result<NewEvent, DomainError> {
    let from = case.status;
    from.transition(to)?;
    case.status = to;
    case.updated_at = now;
    match to {
        Status::Solved => case.solved_at = Some(now),
        Status::Closed => case.closed_at = Some(now),
        _ => case.solved_at = None,
    }
    Ok(NewEvent::change(EventKind::StatusChanged, actor, now, json!(from), json!(to)))
}

/// How a message by `author` counts on `case`: contacts are customers; on an
/// internal request, staff outside the serving team speak for the requesting
/// team and so are the customer too.
pub fn author_role(author: &Principal, case: &Case) -> AuthorRole {
    if !author.role.is_staff() {
        return AuthorRole::Customer;
    }
    if case.is_internal()
        && !author.team_ids.contains(&case.team_id)
        && author.team_ids.iter().any(|t| Some(*t) == case.requesting_team_id)
    {
        return AuthorRole::Customer;
    }
    AuthorRole::Agent
}

/// The first event of every case: its initial state.
pub fn creation_event(case: &Case, actor: Option<UserId>) -> NewEvent {
    NewEvent::new(EventKind::CaseCreated, actor, case.created_at).with_data(json!({
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "channel": case.channel,
        "case_type": case.case_type,
        "account_id": case.account_id,
        "requester_id": case.requester_id,
        "team_id": case.team_id,
        "assignee_id": case.assignee_id,
        "tags": case.tags,
        "parent_case_id": case.parent_case_id,
        "requesting_team_id": case.requesting_team_id,
        "follow_up_of": case.follow_up_of,
    }))
}

/// The status change a new message causes, applied to `case`, if any.
pub fn status_after_message(
    case: &mut Case,
    role: AuthorRole,
    public: bool,
    actor: Option<UserId>,
    now: Timestamp,
) -> Result<Option<NewEvent>, DomainError> {
    let next = match (role, public) {
        (AuthorRole::Customer, _) => case.status.after_customer_message(),
        (AuthorRole::Agent, true) => case.status.after_agent_reply(),
        _ => None,
    };
    next.map(|to| set_status(case, to, actor, now)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::Channel;
    use crate::ids::{AccountId, CaseId};

    fn case(status: Status) -> Case {
        Case {
            id: CaseId(1),
            subject: Subject::parse("subject", "Printer on fire").unwrap(),
            status,
            priority: Priority::Normal,
            channel: Channel::Email,
            case_type: Slug::parse("t", "incident").unwrap(),
            account_id: AccountId(1),
            requester_id: UserId(10),
            team_id: TeamId(1),
            assignee_id: None,
            tags: BTreeSet::new(),
            parent_case_id: None,
            requesting_team_id: None,
            follow_up_of: None,
            created_by: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            solved_at: None,
            closed_at: None,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn a_patch_records_one_event_per_changed_field_with_before_and_after() {
        let mut c = case(Status::Open);
        let patch = CasePatch {
            priority: Some(Priority::Urgent),
            assignee_id: Some(Some(UserId(5))),
            status: Some(Status::Pending),
            ..CasePatch::default()
        };
        let events = apply_patch(&mut c, patch, Some(UserId(5)), at(60)).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::PriorityChanged, EventKind::AssigneeChanged, EventKind::StatusChanged]);
        assert_eq!(events[0].before, Some(json!("normal")));
        assert_eq!(events[0].after, Some(json!("urgent")));
        assert_eq!(events[1].before, Some(Value::Null));
        assert_eq!(events[1].after, Some(json!(5)));
        assert_eq!(c.status, Status::Pending);
        assert_eq!(c.updated_at, at(60));
    }

    #[test]
    fn setting_a_field_to_its_current_value_records_nothing() {
        let mut c = case(Status::Open);
        let patch = CasePatch { priority: Some(Priority::Normal), status: Some(Status::Open), ..CasePatch::default() };
        assert!(apply_patch(&mut c, patch, None, at(1)).unwrap().is_empty());
        assert_eq!(c.updated_at, Timestamp::UNIX_EPOCH);
    }

    #[test]
    fn an_illegal_transition_changes_nothing() {
        let mut c = case(Status::Open);
        let before = c.clone();
        let patch = CasePatch { priority: Some(Priority::High), status: Some(Status::Closed), ..CasePatch::default() };
        let mut working = c.clone();
        assert_eq!(apply_patch(&mut working, patch, None, at(1)).unwrap_err().code(), "illegal_transition");
        // The caller works on a copy and drops it on error: the original is untouched.
        c = before.clone();
        assert_eq!(c, before);
    }

    #[test]
    fn a_closed_case_refuses_every_change() {
        let mut c = case(Status::Closed);
        let patch = CasePatch { priority: Some(Priority::High), ..CasePatch::default() };
        assert_eq!(apply_patch(&mut c, patch, None, at(1)).unwrap_err().code(), "case_closed");
    }

    #[test]
    fn solving_stamps_solved_at_and_reopening_clears_it() {
        let mut c = case(Status::Open);
        set_status(&mut c, Status::Solved, None, at(100)).unwrap();
        assert_eq!(c.solved_at, Some(at(100)));
        let e = status_after_message(&mut c, AuthorRole::Customer, true, Some(UserId(10)), at(200)).unwrap().unwrap();
        assert_eq!(e.before, Some(json!("solved")));
        assert_eq!(e.after, Some(json!("open")));
        assert_eq!(c.solved_at, None);
    }

    #[test]
    fn internal_notes_never_change_the_status() {
        let mut c = case(Status::New);
        assert!(status_after_message(&mut c, AuthorRole::Agent, false, None, at(1)).unwrap().is_none());
        assert_eq!(c.status, Status::New);
    }

    #[test]
    fn on_an_internal_request_the_requesting_team_speaks_as_the_customer() {
        let mut c = case(Status::Open);
        c.requesting_team_id = Some(TeamId(2));
        let requester = Principal::staff(UserId(7), crate::people::Role::Agent, vec![TeamId(2)]);
        let server = Principal::staff(UserId(8), crate::people::Role::Agent, vec![TeamId(1)]);
        assert_eq!(author_role(&requester, &c), AuthorRole::Customer);
        assert_eq!(author_role(&server, &c), AuthorRole::Agent);
    }
}
