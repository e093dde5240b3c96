//! Replaying histories in memory. Every step goes through kept-core's
//! lifecycle rules exactly as a live change would (`apply_patch`,
//! `set_status`, `status_after_message`, `creation_event`); what they decide
//! — each case's final state, its messages and its events — is collected as
//! rows, which `write.rs` stores with a few multi-row statements per batch.
//! Deciding first and writing after is what makes a million cases fast: the
//! rules cost microseconds, a statement per row would cost a round trip each.

use super::{CaseHistory, HistoryAction, HistoryStep};
use crate::cases::create::message_event_kind;
use crate::db::{IdTable, Tx};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{
    AuthorRole, Case, Channel, EventKind, NewEvent, Status, apply_patch, creation_event, set_status,
    status_after_message,
};
use kept_core::ids::{AccountId, CaseId, MessageId, TeamId, UserId};
use kept_core::surveys::{PastAnswer, validate_score};
use kept_core::values::{MessageBody, Slug, Subject};
use std::collections::BTreeSet;

/// A history refused by a rule, and at which of its top-level steps
/// (`None`: the case itself, or its surveys).
#[derive(Debug)]
pub(crate) struct Refused {
    pub step: Option<usize>,
    pub error: StoreError,
}

impl Refused {
    fn at(step: usize) -> impl Fn(DomainError) -> Refused {
        move |e| Refused { step: Some(step), error: e.into() }
    }
}

impl From<Refused> for StoreError {
    fn from(r: Refused) -> Self {
        r.error
    }
}

pub(crate) struct MessageRow {
    pub id: MessageId,
    pub case: CaseId,
    pub author: UserId,
    pub role: AuthorRole,
    pub public: bool,
    pub body: String,
    pub at: Timestamp,
}

/// A past survey answer with its attribution: the case as it stands once
/// its history is replayed (docs/SURVEYS.md: attribution is frozen).
pub(crate) struct AnswerRow {
    pub case: CaseId,
    pub contact: UserId,
    pub account: AccountId,
    pub agent: Option<UserId>,
    pub team: TeamId,
    pub channel: Channel,
    pub case_type: Slug,
    pub answer: PastAnswer,
}

/// An existing case a re-import changed.
pub(crate) struct Updated {
    pub case: Case,
    pub tags_changed: bool,
    pub subject_changed: bool,
}

/// The rows a batch of histories decided on.
#[derive(Default)]
pub(crate) struct Plan {
    /// New cases in their final state, each before the requests it raised.
    pub inserted: Vec<Case>,
    pub updated: Vec<Updated>,
    pub messages: Vec<MessageRow>,
    /// In the order they happened, per case.
    pub events: Vec<(CaseId, NewEvent)>,
    pub answers: Vec<AnswerRow>,
}

impl Plan {
    /// Adds another plan's rows after these (a line's plan joining its batch).
    pub fn append(&mut self, other: Plan) {
        self.inserted.extend(other.inserted);
        self.updated.extend(other.updated);
        self.messages.extend(other.messages);
        self.events.extend(other.events);
        self.answers.extend(other.answers);
    }

    /// Every case the plan creates or changes: the ones to recompute.
    pub fn touched(&self) -> Vec<CaseId> {
        self.inserted.iter().chain(self.updated.iter().map(|u| &u.case)).map(|c| c.id).collect()
    }
}

/// Ids reserved for the cases and messages a batch will write.
pub(crate) struct Ids {
    cases: std::vec::IntoIter<i64>,
    messages: std::vec::IntoIter<i64>,
}

impl Ids {
    pub async fn reserve(tx: &mut Tx, cases: usize, messages: usize) -> Result<Self> {
        let cases = tx.reserve_ids(IdTable::Cases, cases).await?.into_iter();
        let messages = tx.reserve_ids(IdTable::Messages, messages).await?.into_iter();
        Ok(Self { cases, messages })
    }

    fn case(&mut self) -> Result<CaseId> {
        self.cases.next().map(CaseId).ok_or_else(|| StoreError::Corrupt("history: too few case ids reserved".into()))
    }

    fn message(&mut self) -> Result<MessageId> {
        self.messages
            .next()
            .map(MessageId)
            .ok_or_else(|| StoreError::Corrupt("history: too few message ids reserved".into()))
    }
}

/// How many (cases, messages) a history writes, to reserve their ids.
pub(crate) fn needs(h: &CaseHistory) -> (usize, usize) {
    let (c, m) = steps_need(&h.steps);
    (1 + c, 1 + m)
}

pub(crate) fn steps_need(steps: &[HistoryStep]) -> (usize, usize) {
    steps.iter().fold((0, 0), |(c, m), s| match &s.action {
        HistoryAction::Message { .. } => (c, m + 1),
        HistoryAction::Change(_) => (c, m),
        HistoryAction::InternalRequest { steps, .. } => {
            let (cc, cm) = steps_need(steps);
            (c + 1 + cc, m + 1 + cm)
        }
    })
}

/// Plans a new case and its whole history; returns its id.
pub(crate) fn plan_new(plan: &mut Plan, ids: &mut Ids, h: &CaseHistory) -> Result<CaseId, Refused> {
    let whole = |e: StoreError| Refused { step: None, error: e };
    let case = Case {
        id: ids.case().map_err(whole)?,
        subject: h.subject.clone(),
        status: Status::New,
        priority: h.priority,
        channel: h.channel,
        case_type: h.case_type.clone(),
        account_id: h.account_id,
        requester_id: h.requester_id,
        team_id: h.team_id,
        assignee_id: h.assignee_id,
        tags: h.tags.clone(),
        parent_case_id: None,
        requesting_team_id: None,
        follow_up_of: None,
        created_by: h.created_by,
        created_at: h.created_at,
        updated_at: h.created_at,
        solved_at: None,
        closed_at: None,
    };
    let slot = plan.inserted.len();
    plan.inserted.push(case.clone());
    open(plan, ids, &case, &h.body, h.requester_id, h.created_by.or(Some(h.requester_id))).map_err(whole)?;
    let case = play_steps(plan, ids, case, &h.steps)?;
    answers(plan, &case, &h.surveys)?;
    let id = case.id;
    plan.inserted[slot] = case;
    Ok(id)
}

/// The first two events of every case and its opening message (as
/// `insert_case` writes them for a live case).
fn open(
    plan: &mut Plan,
    ids: &mut Ids,
    case: &Case,
    body: &MessageBody,
    author: UserId,
    actor: Option<UserId>,
) -> Result<()> {
    let message = ids.message()?;
    plan.messages.push(MessageRow {
        id: message,
        case: case.id,
        author,
        role: AuthorRole::Customer,
        public: true,
        body: body.as_str().to_owned(),
        at: case.created_at,
    });
    let said = NewEvent::message(message_event_kind(AuthorRole::Customer, true), author, case.created_at, message);
    plan.events.push((case.id, creation_event(case, actor)));
    plan.events.push((case.id, said));
    Ok(())
}

/// Past survey answers, attributed to `case` as it now stands.
pub(crate) fn answers(plan: &mut Plan, case: &Case, surveys: &[PastAnswer]) -> Result<(), Refused> {
    for (i, a) in surveys.iter().enumerate() {
        validate_score(a.kind, a.score)
            .map_err(|e| Refused { step: None, error: DomainError::from(e.within(&format!("surveys[{i}]"))).into() })?;
        plan.answers.push(AnswerRow {
            case: case.id,
            contact: case.requester_id,
            account: case.account_id,
            agent: case.assignee_id,
            team: case.team_id,
            channel: case.channel,
            case_type: case.case_type.clone(),
            answer: a.clone(),
        });
    }
    Ok(())
}

/// Applies `steps` to `case` through the lifecycle rules and returns its
/// final state; the messages and events go into `plan`.
pub(crate) fn play_steps(
    plan: &mut Plan,
    ids: &mut Ids,
    mut case: Case,
    steps: &[HistoryStep],
) -> Result<Case, Refused> {
    for (i, step) in steps.iter().enumerate() {
        let refuse = Refused::at(i);
        let fail = |e: StoreError| Refused { step: Some(i), error: e };
        if step.at < case.updated_at {
            return Err(refuse(DomainError::invalid(
                "out_of_order",
                "at",
                "is before the case's last change; steps must be in time order",
            )));
        }
        let mut recorded = Vec::new();
        match &step.action {
            HistoryAction::Message { role, public, body, status } => {
                let author = author(step).map_err(&refuse)?;
                let id = ids.message().map_err(fail)?;
                plan.messages.push(MessageRow {
                    id,
                    case: case.id,
                    author,
                    role: *role,
                    public: *public,
                    body: body.as_str().to_owned(),
                    at: step.at,
                });
                recorded.push(NewEvent::message(message_event_kind(*role, *public), author, step.at, id));
                let change = match status.filter(|s| *s != case.status) {
                    Some(to) => Some(set_status(&mut case, to, step.actor, step.at).map_err(&refuse)?),
                    None => status_after_message(&mut case, *role, *public, step.actor, step.at).map_err(&refuse)?,
                };
                recorded.extend(change);
                case.updated_at = step.at;
            }
            HistoryAction::Change(patch) => {
                recorded.extend(apply_patch(&mut case, patch.clone(), step.actor, step.at).map_err(&refuse)?);
            }
            HistoryAction::InternalRequest { team_id, subject, body, steps } => {
                let author = author(step).map_err(&refuse)?;
                let child = Case {
                    id: ids.case().map_err(fail)?,
                    ..child_case(&case, *team_id, subject.clone(), step.at, author)
                };
                let slot = plan.inserted.len();
                plan.inserted.push(child.clone());
                open(plan, ids, &child, body, author, Some(author)).map_err(fail)?;
                let opened = NewEvent::internal_request(
                    EventKind::InternalRequestOpened,
                    Some(author),
                    step.at,
                    child.id,
                    *team_id,
                );
                plan.events.push((case.id, opened));
                let child =
                    play_steps(plan, ids, child, steps).map_err(|r| Refused { step: Some(i), error: r.error })?;
                let child_id = child.id;
                plan.inserted[slot] = child;
                if let Some((at, actor)) = last_solve(steps) {
                    recorded.push(NewEvent::internal_request(
                        EventKind::InternalRequestSolved,
                        actor,
                        at,
                        child_id,
                        *team_id,
                    ));
                    case.updated_at = case.updated_at.max(at);
                }
            }
        }
        plan.events.extend(recorded.into_iter().map(|e| (case.id, e)));
    }
    Ok(case)
}

fn author(step: &HistoryStep) -> Result<UserId, DomainError> {
    step.actor.ok_or_else(|| DomainError::invalid("required", "actor", "messages and requests need an author"))
}

fn child_case(parent: &Case, team: TeamId, subject: Subject, at: Timestamp, author: UserId) -> Case {
    Case {
        subject,
        status: Status::New,
        channel: Channel::Internal,
        requester_id: author,
        team_id: team,
        assignee_id: None,
        tags: BTreeSet::new(),
        parent_case_id: Some(parent.id),
        requesting_team_id: Some(parent.team_id),
        follow_up_of: None,
        created_by: Some(author),
        created_at: at,
        updated_at: at,
        solved_at: None,
        closed_at: None,
        ..parent.clone()
    }
}

/// When (and by whom) an internal request was last solved, if it was.
fn last_solve(steps: &[HistoryStep]) -> Option<(Timestamp, Option<UserId>)> {
    steps.iter().rev().find_map(|s| match &s.action {
        HistoryAction::Change(p) if p.status == Some(Status::Solved) => Some((s.at, s.actor)),
        HistoryAction::Message { status: Some(Status::Solved), .. } => Some((s.at, s.actor)),
        _ => None,
    })
}
