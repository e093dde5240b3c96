//! Email in the database: the record of every message sent or received (its
//! Message-ID threads replies to their case), and the outbox.
//!
//! Mail is enqueued inside the transaction of the change that causes it, so
//! a reply is recorded and its email queued together or not at all; the
//! sender (kept-server) claims due mail with a lease, like jobs, and marks
//! it sent or schedules a retry.

mod attachments;
mod inbound;
pub(crate) mod notices;
mod outbox;

use crate::db::{Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kept_core::ids::{CaseId, MessageId};
use kept_core::mail::Envelope;

pub use attachments::AttachmentInfo;
pub use inbound::{InboundAttachment, InboundEmail, Ingested};
pub use outbox::{OutboxItem, OutboxStatus};

/// How mail is addressed and dated: set from kept's configuration.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The right-hand side of the Message-IDs kept makes (the from-address's domain).
    pub domain: String,
    /// Deadlines promised in mail ("we will reply by …") are shown in this zone.
    pub time_zone: TimeZone,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self { domain: "kept.localhost".into(), time_zone: TimeZone::UTC }
    }
}

impl MailSettings {
    /// A deadline as customers read it: "Tue 24 Nov 2026 15:00 CET".
    pub fn local(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.time_zone.clone()).strftime("%a %-d %b %Y %H:%M %Z").to_string()
    }
}

/// What an outbound mail is (recorded with it, for the case's mail history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutKind {
    Reply,
    Acknowledgement,
    Promise,
    Notification,
    Survey,
}

impl OutKind {
    fn as_str(self) -> &'static str {
        match self {
            OutKind::Reply => "reply",
            OutKind::Acknowledgement => "acknowledgement",
            OutKind::Promise => "promise",
            OutKind::Notification => "notification",
            OutKind::Survey => "survey",
        }
    }
}

/// A Message-ID no one else will make: random, under our domain.
fn new_message_id(domain: &str, case: Option<CaseId>) -> Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| crate::StoreError::Corrupt(format!("no randomness: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("kept.{}.{hex}@{domain}", case.map(|c| c.0).unwrap_or(0)))
}

/// The Message-IDs of the conversation with the customer so far, oldest
/// first (for threading; staff notifications and surveys are not part of it).
pub(crate) async fn thread_of(tx: &mut Tx, case: CaseId) -> Result<Vec<String>> {
    tx.fetch_all(
        "SELECT message_id FROM mail_messages WHERE case_id = $1 AND kind NOT IN ('notification', 'survey') ORDER BY id",
        args![case.0],
    )
        .await?
        .iter()
        .map(|r| r.text("message_id"))
        .collect()
}

/// Queues `mail` for sending (inside the caller's transaction) and records
/// it; returns its Message-ID.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    settings: &MailSettings,
    case: Option<CaseId>,
    message: Option<MessageId>,
    kind: OutKind,
    mail: &Envelope,
    now: Timestamp,
) -> Result<String> {
    let message_id = new_message_id(&settings.domain, case)?;
    let mail_id = tx
        .insert(
            "INSERT INTO mail_messages (direction, message_id, case_id, message_row_id, kind, address, subject, created_at) \
             VALUES ('out', $1, $2, $3, $4, $5, $6, $7) RETURNING id",
            args![
                message_id.as_str(),
                case.map(|c| c.0),
                message.map(|m| m.0),
                kind.as_str(),
                mail.to_email.as_str(),
                mail.subject.as_str(),
                now
            ],
        )
        .await?;
    let payload =
        serde_json::to_string(mail).map_err(|e| crate::StoreError::Corrupt(format!("outbox payload: {e}")))?;
    tx.execute(
        "INSERT INTO outbox (mail_id, payload, status, next_attempt_at, created_at) VALUES ($1, $2, 'pending', $3, $4)",
        args![mail_id, payload, now, now],
    )
    .await?;
    Ok(message_id)
}
