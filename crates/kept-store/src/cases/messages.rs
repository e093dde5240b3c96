//! Replies, customer messages and internal notes.

use super::create::{insert_message, message_event_kind, open_follow_up};
use super::update::after_status_change;
use super::{CaseDetail, detail_in_tx, detail_tagged, events, load_for_change, save_case};
use crate::Store;
use crate::db::{Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{AuthorRole, NewEvent, Status, author_role, set_status, status_after_message};
use kept_core::ids::{CaseId, MessageId, UserId};
use kept_core::permissions::{CaseScope, Principal};
use kept_core::values::MessageBody;

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub body: MessageBody,
    /// `false` for an internal note (staff of the serving team only).
    pub public: bool,
    /// A status to set with the message ("reply and set pending").
    pub status: Option<Status>,
}

/// What adding a message did: the message, and the case it landed on — the
/// same case, or a new follow-up if the case was closed.
#[derive(Debug, Clone)]
pub struct MessageOutcome {
    pub message: MessageView,
    pub case: CaseDetail,
    pub follow_up: bool,
}

/// A message with its author's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub id: MessageId,
    pub case_id: CaseId,
    pub author_id: UserId,
    pub author_name: String,
    pub author_role: AuthorRole,
    pub public: bool,
    pub body: String,
    pub created_at: Timestamp,
}

impl Store {
    pub async fn add_message(
        &self,
        by: &Principal,
        id: CaseId,
        new: NewMessage,
        now: Timestamp,
    ) -> Result<MessageOutcome> {
        let mut tx = self.db.begin().await?;
        let outcome = self.add_message_in(&mut tx, by, id, new, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Adds a message inside `tx` (e.g. with the record of the email that carried it).
    pub(crate) async fn add_message_in(
        &self,
        tx: &mut Tx,
        by: &Principal,
        id: CaseId,
        new: NewMessage,
        now: Timestamp,
    ) -> Result<MessageOutcome> {
        let (mut case, now) = load_for_change(tx, by, id, now).await?;
        let role = author_role(by, &case);
        let works = by.can_work_case(CaseScope::from(&case));
        if role == AuthorRole::Customer || !works {
            if !new.public {
                return Err(DomainError::invalid(
                    "not_allowed",
                    "public",
                    "internal notes are for the team working the case",
                )
                .into());
            }
            if new.status.is_some() {
                return Err(DomainError::invalid(
                    "not_allowed",
                    "status",
                    "only the team working the case sets its status",
                )
                .into());
            }
        }
        let role = if works { role } else { AuthorRole::Customer };
        if case.status == Status::Closed {
            if role != AuthorRole::Customer {
                return Err(DomainError::conflict(
                    "case_closed",
                    None,
                    "this case is closed; open a new case to continue",
                )
                .into());
            }
            let follow_up = open_follow_up(tx, by, &case, new.body, now).await?;
            self.recompute(tx, follow_up, now).await?;
            let opened = super::load_visible(tx, &Principal::system(), follow_up, "").await?;
            crate::mail::notices::case_opened(tx, &self.mail, &opened, Vec::new(), now).await?;
            let detail = detail_in_tx(tx, follow_up).await?;
            let message = first_message(tx, follow_up).await?;
            return Ok(MessageOutcome { message, case: detail, follow_up: true });
        }
        let message_id = insert_message(tx, case.id, by.user_id, role, new.public, new.body.as_str(), now).await?;
        let mut recorded = vec![NewEvent::message(message_event_kind(role, new.public), by.user_id, now, message_id)];
        let was = case.clone();
        // An explicit status replaces the implicit one (new + reply + pending
        // goes straight to pending, not through open).
        let status_event = match new.status.filter(|s| *s != case.status) {
            Some(to) => Some(set_status(&mut case, to, by.actor(), now)?),
            None => status_after_message(&mut case, role, new.public, by.actor(), now)?,
        };
        recorded.extend(status_event);
        case.updated_at = now;
        save_case(tx, &case, Some(&was), false).await?;
        events::append(tx, case.id, &recorded).await?;
        after_status_change(tx, by, &case, was.status, now).await?;
        self.recompute(tx, case.id, now).await?;
        if new.public {
            let body = new.body.as_str();
            crate::mail::notices::reply_sent(tx, &self.mail, &case, message_id, (by.user_id, role), body, now).await?;
        }
        let detail = detail_tagged(tx, case.id, case.tags).await?;
        let message = message_by_id(tx, message_id).await?;
        Ok(MessageOutcome { message, case: detail, follow_up: false })
    }

    /// The conversation, oldest first; contacts see public messages only.
    pub async fn case_messages(&self, by: &Principal, id: CaseId) -> Result<Vec<MessageView>> {
        self.get_case(by, id).await?;
        let rows = self
            .db
            .fetch_all(
                "SELECT m.id, m.case_id, m.author_id, u.name AS author_name, m.author_role, m.public, m.body, m.created_at \
                 FROM messages m JOIN users u ON u.id = m.author_id WHERE m.case_id = $1 AND (m.public = TRUE OR $2 = TRUE) ORDER BY m.id",
                args![id.0, by.is_staff()],
            )
            .await?;
        rows.iter().map(message_from_row).collect()
    }
}

fn message_from_row(row: &crate::db::DbRow) -> Result<MessageView> {
    Ok(MessageView {
        id: MessageId(row.int("id")?),
        case_id: CaseId(row.int("case_id")?),
        author_id: UserId(row.int("author_id")?),
        author_name: row.text("author_name")?,
        author_role: AuthorRole::parse("author_role", &row.text("author_role")?)
            .map_err(|_| crate::StoreError::Corrupt("messages".into()))?,
        public: row.flag("public")?,
        body: row.text("body")?,
        created_at: row.time("created_at")?,
    })
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.case_id, m.author_id, u.name AS author_name, m.author_role, m.public, m.body, m.created_at \
     FROM messages m JOIN users u ON u.id = m.author_id";

async fn message_by_id(tx: &mut crate::db::Tx, id: MessageId) -> Result<MessageView> {
    let sql = crate::db::Sql::built(format!("{MESSAGE_SELECT} WHERE m.id = $1"));
    message_from_row(&tx.fetch_one(sql, args![id.0]).await?)
}

async fn first_message(tx: &mut crate::db::Tx, case: CaseId) -> Result<MessageView> {
    let sql = crate::db::Sql::built(format!("{MESSAGE_SELECT} WHERE m.case_id = $1 ORDER BY m.id LIMIT 1"));
    message_from_row(&tx.fetch_one(sql, args![case.0]).await?)
}
