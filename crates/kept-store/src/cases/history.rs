//! Writing whole case histories at once: the demo generator today, history
//! import tomorrow. Every step goes through the same rules as a live change
//! (kept-core's lifecycle), so replayed events are indistinguishable from
//! events recorded as they happened. Many cases share one transaction for
//! speed; a refused step refuses the whole batch.

use super::create::{CaseDraft, insert_case, insert_message, message_event_kind};
use super::{events, save_case};
use crate::Store;
use crate::db::Tx;
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{
    AuthorRole, Case, CasePatch, Channel, EventKind, NewEvent, Priority, Status, apply_patch, set_status,
    status_after_message,
};
use kept_core::ids::{AccountId, CaseId, TeamId, UserId};
use kept_core::values::{MessageBody, Slug, Subject};
use std::collections::BTreeSet;

/// A case as it was opened, and what happened to it afterwards.
#[derive(Debug, Clone)]
pub struct CaseHistory {
    pub subject: Subject,
    pub body: MessageBody,
    pub channel: Channel,
    pub priority: Priority,
    pub case_type: Slug,
    pub tags: BTreeSet<Slug>,
    pub account_id: AccountId,
    pub requester_id: UserId,
    pub team_id: TeamId,
    pub created_at: Timestamp,
    /// Who typed it in (an agent on the phone); `None` if the customer did.
    pub created_by: Option<UserId>,
    /// In time order, none before `created_at`.
    pub steps: Vec<HistoryStep>,
}

#[derive(Debug, Clone)]
pub struct HistoryStep {
    pub at: Timestamp,
    /// `None` when kept itself acted (e.g. closing solved cases); messages
    /// and internal requests always have an author.
    pub actor: Option<UserId>,
    pub action: HistoryAction,
}

#[derive(Debug, Clone)]
pub enum HistoryAction {
    Message {
        role: AuthorRole,
        public: bool,
        body: MessageBody,
        status: Option<Status>,
    },
    Change(CasePatch),
    /// The case's team asks `team_id`; the request's own steps happen before
    /// the parent's next step.
    InternalRequest {
        team_id: TeamId,
        subject: Subject,
        body: MessageBody,
        steps: Vec<HistoryStep>,
    },
}

impl Store {
    /// Writes `cases` in one transaction, computes their promise clocks as of
    /// `now` (what the current policies make of that history), and returns
    /// their ids.
    pub async fn import_histories(&self, cases: &[CaseHistory], now: Timestamp) -> Result<Vec<CaseId>> {
        let mut tx = self.db.begin().await?;
        let mut ids = Vec::with_capacity(cases.len());
        for history in cases {
            let mut touched = Vec::new();
            let id = replay(&mut tx, history, &mut touched).await?;
            for case in touched.into_iter().chain([id]) {
                self.recompute(&mut tx, case, now).await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }
}

/// Replays one history; internal requests it raised are added to `children`.
async fn replay(tx: &mut Tx, h: &CaseHistory, children: &mut Vec<CaseId>) -> Result<CaseId> {
    let case = Case {
        id: CaseId(0),
        subject: h.subject.clone(),
        status: Status::New,
        priority: h.priority,
        channel: h.channel,
        case_type: h.case_type.clone(),
        account_id: h.account_id,
        requester_id: h.requester_id,
        team_id: h.team_id,
        assignee_id: None,
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
    let draft = CaseDraft {
        case: case.clone(),
        body: h.body.clone(),
        author: h.requester_id,
        author_role: AuthorRole::Customer,
        actor: h.created_by.or(Some(h.requester_id)),
    };
    let id = insert_case(tx, draft).await?;
    play_steps(tx, Case { id, ..case }, &h.steps, children).await?;
    Ok(id)
}

/// Applies steps to a freshly inserted case and saves its final state.
fn play_steps<'a>(
    tx: &'a mut Tx,
    mut case: Case,
    steps: &'a [HistoryStep],
    children: &'a mut Vec<CaseId>,
) -> std::pin::Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        let mut tags_changed = false;
        for step in steps {
            if step.at < case.updated_at {
                return Err(DomainError::invalid("out_of_order", "steps", "history steps must be in time order").into());
            }
            let mut recorded = Vec::new();
            match &step.action {
                HistoryAction::Message { role, public, body, status } => {
                    let author = author(step)?;
                    let message = insert_message(tx, case.id, author, *role, *public, body.as_str(), step.at).await?;
                    recorded.push(NewEvent::message(message_event_kind(*role, *public), author, step.at, message));
                    let change = match status.filter(|s| *s != case.status) {
                        Some(to) => Some(set_status(&mut case, to, step.actor, step.at)?),
                        None => status_after_message(&mut case, *role, *public, step.actor, step.at)?,
                    };
                    recorded.extend(change);
                    case.updated_at = step.at;
                }
                HistoryAction::Change(patch) => {
                    let changes = apply_patch(&mut case, patch.clone(), step.actor, step.at)?;
                    tags_changed |= changes.iter().any(|e| e.kind == EventKind::TagsChanged);
                    recorded.extend(changes);
                }
                HistoryAction::InternalRequest { team_id, subject, body, steps } => {
                    let author = author(step)?;
                    let child = child_case(&case, *team_id, subject.clone(), step.at, author);
                    let draft = CaseDraft {
                        case: child.clone(),
                        body: body.clone(),
                        author,
                        author_role: AuthorRole::Customer,
                        actor: Some(author),
                    };
                    let child_id = insert_case(tx, draft).await?;
                    recorded.push(NewEvent::internal_request(
                        EventKind::InternalRequestOpened,
                        Some(author),
                        step.at,
                        child_id,
                        *team_id,
                    ));
                    events::append(tx, case.id, &recorded).await?;
                    recorded.clear();
                    play_steps(tx, Case { id: child_id, ..child }, steps, children).await?;
                    children.push(child_id);
                    let solved = last_solve(steps);
                    if let Some((at, actor)) = solved {
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
            events::append(tx, case.id, &recorded).await?;
        }
        save_case(tx, &case, tags_changed).await
    })
}

fn author(step: &HistoryStep) -> Result<UserId> {
    step.actor.ok_or_else(|| DomainError::invalid("required", "actor", "messages and requests need an author").into())
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
