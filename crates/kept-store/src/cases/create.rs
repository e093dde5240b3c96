//! Opening cases: by customers, by agents on a customer's behalf, as
//! internal requests from one team to another, and as follow-ups of closed
//! cases.

use super::{
    CaseDetail, NewCase, NewInternalRequest, check_assignee, check_tags, check_team, detail_in_tx, detail_tagged,
    events, insert_tags, load_for_change,
};
use crate::Store;
use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use crate::search_index;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{
    AuthorRole, Case, Channel, DEFAULT_CASE_TYPE, EventKind, NewEvent, Priority, Status, creation_event,
};
use kept_core::ids::{AccountId, CaseId, MessageId, TeamId, UserId};
use kept_core::people::Role;
use kept_core::permissions::{CaseScope, Principal};
use kept_core::values::{MessageBody, Slug};
use std::collections::BTreeSet;

/// An `Idempotency-Key` and a fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// Everything needed to insert a case and its first message.
pub(crate) struct CaseDraft {
    pub case: Case,
    pub body: MessageBody,
    pub author: UserId,
    pub author_role: AuthorRole,
    pub actor: Option<UserId>,
}

impl Store {
    /// Opens a case. With an idempotency key, a retry of the same request
    /// returns the case the first attempt created (`false` = not new).
    pub async fn create_case(
        &self,
        by: &Principal,
        new: NewCase,
        now: Timestamp,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<(CaseDetail, bool)> {
        if let Some(key) = &idempotency
            && let Some(existing) = self.replay(by, key).await?
        {
            return Ok((existing, false));
        }
        match self.create_case_once(by, new, now, idempotency.as_ref()).await {
            // A concurrent request with the same key won the race: answer as a retry.
            Err(StoreError::Conflict { constraint }) if constraint == "idempotency_keys_user_id_key_key" => {
                let key = idempotency.as_ref().ok_or(StoreError::Conflict { constraint })?;
                self.db.settle().await?;
                let existing = self.replay(by, key).await?;
                existing.map(|d| (d, false)).ok_or_else(|| StoreError::Corrupt("idempotency_keys".into()))
            }
            other => other.map(|d| (d, true)),
        }
    }

    async fn replay(&self, by: &Principal, key: &IdempotencyKey) -> Result<Option<CaseDetail>> {
        let row = self
            .db
            .fetch_optional(
                "SELECT case_id, fingerprint FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                args![by.user_id.0, key.key.as_str()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.text("fingerprint")? != key.fingerprint {
            return Err(DomainError::invalid(
                "idempotency_key_reused",
                "Idempotency-Key",
                "this key was already used with a different request",
            )
            .into());
        }
        Ok(Some(self.get_case(by, CaseId(row.int("case_id")?)).await?))
    }

    async fn create_case_once(
        &self,
        by: &Principal,
        new: NewCase,
        now: Timestamp,
        key: Option<&IdempotencyKey>,
    ) -> Result<CaseDetail> {
        let mut tx = self.db.begin().await?;
        let (id, tags) = self.open_case_in(&mut tx, by, new, now, Vec::new()).await?;
        if let Some(key) = key {
            tx.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, case_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                args![by.user_id.0, key.key.as_str(), key.fingerprint.as_str(), id.0, now],
            )
            .await?;
        }
        let detail = detail_tagged(&mut tx, id, tags).await?;
        tx.commit().await?;
        Ok(detail)
    }

    /// Opens a case inside `tx`; a customer who opened it is sent an
    /// acknowledgement, threaded after `earlier` (the email that opened it).
    /// Returns the case and its tags.
    pub(crate) async fn open_case_in(
        &self,
        tx: &mut Tx,
        by: &Principal,
        new: NewCase,
        now: Timestamp,
        earlier: Vec<String>,
    ) -> Result<(CaseId, BTreeSet<Slug>)> {
        let draft = draft_case(tx, by, new, now).await?;
        let by_requester = draft.case.requester_id == by.user_id;
        let tags = draft.case.tags.clone();
        let id = insert_case(tx, draft).await?;
        self.recompute(tx, id, now).await?;
        if by_requester {
            let case = super::load_visible(tx, &Principal::system(), id, "").await?;
            crate::mail::notices::case_opened(tx, &self.mail, &case, earlier, now).await?;
        }
        Ok((id, tags))
    }

    /// Raises a request from the team working `parent` to `request.team_id`.
    pub async fn open_internal_request(
        &self,
        by: &Principal,
        parent: CaseId,
        request: NewInternalRequest,
        now: Timestamp,
    ) -> Result<CaseDetail> {
        let mut tx = self.db.begin().await?;
        let (parent, now) = load_for_change(&mut tx, by, parent, now).await?;
        if !by.can_work_case(CaseScope::from(&parent)) {
            return Err(DomainError::forbidden("only the team working a case can raise requests for it").into());
        }
        if parent.status == Status::Closed {
            return Err(DomainError::conflict("case_closed", None, "a closed case cannot raise new requests").into());
        }
        check_team(&mut tx, request.team_id, "team_id").await?;
        if request.team_id == parent.team_id {
            return Err(DomainError::invalid(
                "same_team",
                "team_id",
                "a team cannot raise an internal request to itself",
            )
            .into());
        }
        let case = Case {
            subject: request.subject,
            channel: Channel::Internal,
            priority: request.priority.unwrap_or(parent.priority),
            requester_id: by.actor().unwrap_or(parent.requester_id),
            team_id: request.team_id,
            assignee_id: None,
            tags: BTreeSet::new(),
            parent_case_id: Some(parent.id),
            requesting_team_id: Some(parent.team_id),
            follow_up_of: None,
            ..blank_case(&parent, by, now)
        };
        let author = case.requester_id;
        let child = insert_case(
            &mut tx,
            CaseDraft { case, body: request.body, author, author_role: AuthorRole::Customer, actor: by.actor() },
        )
        .await?;
        let opened =
            NewEvent::internal_request(EventKind::InternalRequestOpened, by.actor(), now, child, request.team_id);
        events::append(&mut tx, parent.id, &[opened]).await?;
        self.recompute(&mut tx, child, now).await?;
        let detail = detail_in_tx(&mut tx, child).await?;
        tx.commit().await?;
        Ok(detail)
    }
}

/// A new case with the identity fields of `like` and a fresh life.
fn blank_case(like: &Case, by: &Principal, now: Timestamp) -> Case {
    Case {
        id: CaseId(0),
        status: Status::New,
        created_by: by.actor(),
        created_at: now,
        updated_at: now,
        solved_at: None,
        closed_at: None,
        ..like.clone()
    }
}

/// Decides every field of a new case from the request and who makes it.
async fn draft_case(tx: &mut Tx, by: &Principal, new: NewCase, now: Timestamp) -> Result<CaseDraft> {
    if new.channel == Channel::Internal {
        return Err(DomainError::invalid(
            "invalid_value",
            "channel",
            "internal requests are raised from the case they serve",
        )
        .into());
    }
    check_tags(&new.tags)?;
    let (requester, account) = if by.is_staff() {
        staff_requester(tx, &new).await?
    } else {
        if new.assignee_id.is_some() || new.account_id.is_some_and(|a| Some(a) != by.account_id) {
            return Err(DomainError::invalid(
                "not_allowed",
                "account_id",
                "customers open cases for their own account",
            )
            .into());
        }
        (by.user_id, by.account_id.ok_or_else(|| StoreError::Corrupt("contact without account".into()))?)
    };
    let team = match new.team_id {
        Some(team) => {
            check_team(tx, team, "team_id").await?;
            team
        }
        None => default_team(tx).await?,
    };
    if let Some(assignee) = new.assignee_id {
        check_assignee(tx, assignee, team).await?;
    }
    let case_type = match new.case_type {
        Some(t) => t,
        None => Slug::parse("case_type", DEFAULT_CASE_TYPE)?,
    };
    let case = Case {
        id: CaseId(0),
        subject: new.subject,
        status: Status::New,
        priority: new.priority.unwrap_or(Priority::Normal),
        channel: new.channel,
        case_type,
        account_id: account,
        requester_id: requester,
        team_id: team,
        assignee_id: new.assignee_id,
        tags: if by.is_staff() { new.tags } else { BTreeSet::new() },
        parent_case_id: None,
        requesting_team_id: None,
        follow_up_of: None,
        created_by: by.actor(),
        created_at: now,
        updated_at: now,
        solved_at: None,
        closed_at: None,
    };
    // The first message is the customer's request, even when an agent types
    // it in from a phone call: the case starts with the customer speaking.
    Ok(CaseDraft { case, body: new.body, author: requester, author_role: AuthorRole::Customer, actor: by.actor() })
}

/// Staff open cases for a contact; the account follows from the contact.
async fn staff_requester(tx: &mut Tx, new: &NewCase) -> Result<(UserId, AccountId)> {
    let requester = new
        .requester_id
        .ok_or_else(|| DomainError::invalid("required", "requester_id", "name the contact the case is for"))?;
    let row = tx.fetch_optional("SELECT role, account_id, active FROM users WHERE id = $1", args![requester.0]).await?;
    let invalid = || {
        DomainError::invalid("invalid_requester", "requester_id", "the requester must be an active customer contact")
    };
    let row = row.ok_or_else(invalid)?;
    if row.text("role")? != Role::Contact.as_str() || !row.flag("active")? {
        return Err(invalid().into());
    }
    let account =
        AccountId(row.opt_int("account_id")?.ok_or_else(|| StoreError::Corrupt("contact without account".into()))?);
    if new.account_id.is_some_and(|a| a != account) {
        return Err(
            DomainError::invalid("account_mismatch", "account_id", "the requester belongs to another account").into()
        );
    }
    Ok((requester, account))
}

/// Cases nobody routed go to the oldest customer-facing team.
async fn default_team(tx: &mut Tx) -> Result<TeamId> {
    let row = tx.fetch_optional("SELECT id FROM teams WHERE internal = FALSE ORDER BY id LIMIT 1", args![]).await?;
    row.map(|r| r.int("id").map(TeamId)).transpose()?.ok_or_else(|| {
        DomainError::invalid("no_team", "team_id", "there is no customer-facing team to route the case to").into()
    })
}

/// Inserts a case, its tags, its first message, its events and its search
/// entries. Returns the new id.
pub(crate) async fn insert_case(tx: &mut Tx, draft: CaseDraft) -> Result<CaseId> {
    let c = &draft.case;
    let id = CaseId(
        tx.insert(
            "INSERT INTO cases (subject, status, priority, channel, case_type, account_id, requester_id, team_id, assignee_id, \
             parent_case_id, requesting_team_id, follow_up_of, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
            args![
                c.subject.as_str(),
                c.status.as_str(),
                c.priority.rank(),
                c.channel.as_str(),
                c.case_type.as_str(),
                c.account_id.0,
                c.requester_id.0,
                c.team_id.0,
                c.assignee_id.map(|u| u.0),
                c.parent_case_id.map(|p| p.0),
                c.requesting_team_id.map(|t| t.0),
                c.follow_up_of.map(|f| f.0),
                c.created_by.map(|u| u.0),
                c.created_at
            ],
        )
        .await?,
    );
    // A new case has no tags or subject entry to replace yet.
    insert_tags(tx, id, &c.tags).await?;
    search_index::index(tx, -id.0, c.subject.as_str(), id.0, true);
    let message =
        insert_message(tx, id, draft.author, draft.author_role, true, draft.body.as_str(), c.created_at).await?;
    let created = creation_event(&Case { id, ..c.clone() }, draft.actor);
    let kind = message_event_kind(draft.author_role, true);
    let said = NewEvent::message(kind, draft.author, c.created_at, message);
    events::append(tx, id, &[created, said]).await?;
    Ok(id)
}

pub(crate) fn message_event_kind(role: AuthorRole, public: bool) -> EventKind {
    match (role, public) {
        (AuthorRole::Customer, _) => EventKind::CustomerMessage,
        (_, true) => EventKind::AgentReply,
        (_, false) => EventKind::InternalNote,
    }
}

pub(crate) async fn insert_message(
    tx: &mut Tx,
    case: CaseId,
    author: UserId,
    role: AuthorRole,
    public: bool,
    body: &str,
    at: Timestamp,
) -> Result<MessageId> {
    let id = tx
        .insert(
            "INSERT INTO messages (case_id, author_id, author_role, public, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            args![case.0, author.0, role.as_str(), public, body, at],
        )
        .await?;
    search_index::index(tx, id, body, case.0, public);
    Ok(MessageId(id))
}

/// Reindexes a case's subject. PostgreSQL indexes it through a generated
/// column; SQLite's FTS table keeps it under rowid = -case id.
pub(crate) fn index_subject(tx: &mut Tx, case: CaseId, subject: &str) {
    search_index::reindex(tx, -case.0, subject, case.0, true);
}

/// Opens the follow-up of a closed case when its customer writes again.
pub(crate) async fn open_follow_up(
    tx: &mut Tx,
    by: &Principal,
    closed: &Case,
    body: MessageBody,
    now: Timestamp,
) -> Result<CaseId> {
    let case = Case {
        assignee_id: None,
        follow_up_of: Some(closed.id),
        channel: closed.channel,
        ..blank_case(closed, by, now)
    };
    let author = by.user_id;
    let id =
        insert_case(tx, CaseDraft { case, body, author, author_role: AuthorRole::Customer, actor: by.actor() }).await?;
    events::append(tx, closed.id, &[NewEvent::follow_up_created(by.actor(), now, id)]).await?;
    Ok(id)
}
