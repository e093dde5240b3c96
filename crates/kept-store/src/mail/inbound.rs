//! An email arriving: one transaction decides what it is (a duplicate,
//! automatic mail, a reply to a case, a new case), writes the message and
//! its attachments, records the email, and queues any acknowledgement — so a
//! mail server that got a 2xx can forget the message, and a redelivery is
//! recognised by its Message-ID.

use crate::Store;
use crate::cases::{NewCase, NewMessage};
use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::Channel;
use kept_core::ids::{AccountId, CaseId, UserId};
use kept_core::permissions::Principal;
use kept_core::values::{MessageBody, Subject};
use sha2::{Digest, Sha256};

/// An email as parsed at the edge (kept-server turns raw RFC 5322 into this).
#[derive(Debug, Clone, Default)]
pub struct InboundEmail {
    pub message_id: Option<String>,
    /// In-Reply-To and References together, newest last.
    pub thread: Vec<String>,
    pub from_email: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// The new text of the message (quoted history removed for replies).
    pub text: String,
    /// Why the message is automatic (bounce, auto-reply, list), if it is.
    pub automatic: Option<String>,
    /// A case number written in the subject ("[#123]").
    pub case_reference: Option<i64>,
    pub attachments: Vec<InboundAttachment>,
    /// Attachments not kept (too large), to say so in the message.
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct InboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What became of an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    CaseOpened {
        case: CaseId,
    },
    ReplyAdded {
        case: CaseId,
    },
    /// Seen before (same Message-ID): nothing was written again.
    Duplicate {
        case: Option<CaseId>,
    },
    /// Bounces, auto-replies, lists, staff writing from outside a thread,
    /// deactivated senders: recorded, never a case, never answered.
    Ignored {
        reason: String,
    },
}

impl Ingested {
    pub fn case(&self) -> Option<CaseId> {
        match self {
            Ingested::CaseOpened { case } | Ingested::ReplyAdded { case } => Some(*case),
            Ingested::Duplicate { case } => *case,
            Ingested::Ignored { .. } => None,
        }
    }
}

/// The record's Message-ID: the sender's, or (rare: a message without one)
/// a digest of what identifies it, so a redelivery is still recognised.
fn record_id(mail: &InboundEmail) -> String {
    match &mail.message_id {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => {
            let mut h = Sha256::new();
            for part in [&mail.from_email, &mail.subject, &mail.text] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            let hex: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("no-message-id.{hex}@kept.invalid")
        }
    }
}

impl Store {
    /// Takes in one email (see the module's comment).
    pub async fn ingest_email(&self, mail: InboundEmail, now: Timestamp) -> Result<Ingested> {
        // The same email delivered twice at once (PostgreSQL: two
        // transactions), or two first emails of one new sender: the loser
        // of the race sees the winner's rows when it tries again.
        let mut attempt = 0;
        loop {
            match self.ingest_once(&mail, now).await {
                Err(StoreError::Conflict { .. }) if attempt < 2 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn ingest_once(&self, mail: &InboundEmail, now: Timestamp) -> Result<Ingested> {
        let id = record_id(mail);
        let mut tx = self.db.begin().await?;
        if let Some(r) =
            tx.fetch_optional("SELECT case_id FROM mail_messages WHERE message_id = $1", args![id.as_str()]).await?
        {
            return Ok(Ingested::Duplicate { case: r.opt_int("case_id")?.map(CaseId) });
        }
        // Recorded first, so that it precedes the acknowledgement in the thread.
        let record = tx
            .insert(
                "INSERT INTO mail_messages (direction, message_id, kind, address, subject, created_at) \
                 VALUES ('in', $1, 'received', $2, $3, $4) RETURNING id",
                args![id.as_str(), mail.from_email.as_str(), mail.subject.as_str(), now],
            )
            .await?;
        let outcome = self.ingest_in(&mut tx, &id, mail, now).await?;
        let (kind, case, message) = match &outcome {
            (Ingested::CaseOpened { case }, m) => ("case_opened", Some(*case), *m),
            (Ingested::ReplyAdded { case }, m) => ("reply_added", Some(*case), *m),
            (Ingested::Ignored { .. }, _) => ("ignored", None, None),
            (Ingested::Duplicate { .. }, _) => return Ok(outcome.0),
        };
        tx.execute(
            "UPDATE mail_messages SET kind = $1, case_id = $2, message_row_id = $3 WHERE id = $4",
            args![kind, case.map(|c| c.0), message, record],
        )
        .await?;
        tx.commit().await?;
        Ok(outcome.0)
    }

    async fn ingest_in(
        &self,
        tx: &mut Tx,
        id: &str,
        mail: &InboundEmail,
        now: Timestamp,
    ) -> Result<(Ingested, Option<i64>)> {
        let ignored = |reason: &str| Ok((Ingested::Ignored { reason: reason.to_owned() }, None));
        if let Some(reason) = &mail.automatic {
            return ignored(reason);
        }
        let Some(sender) = self.sender(tx, mail, now).await? else { return ignored("inactive_sender") };
        let case = self.thread_case(tx, mail, &sender).await?;
        let body = body_of(mail)?;
        match case {
            Some(case) => {
                let new = NewMessage { body, public: true, status: None };
                let outcome = match self.add_message_in(tx, &sender, case, new, now).await {
                    // Staff answering a closed case by email: nothing to continue.
                    Err(StoreError::Domain(DomainError::Conflict { .. })) => return ignored("case_closed"),
                    other => other?,
                };
                let case = outcome.case.case.id;
                attach(tx, case, outcome.message.id.0, mail, now).await?;
                let event =
                    if outcome.follow_up { Ingested::CaseOpened { case } } else { Ingested::ReplyAdded { case } };
                Ok((event, Some(outcome.message.id.0)))
            }
            None if sender.is_staff() => ignored("staff_sender"),
            None => {
                let subject = Subject::parse("subject", &one_line(&mail.subject, 250))
                    .or_else(|_| Subject::parse("subject", "(no subject)"))?;
                let new = NewCase {
                    subject,
                    body,
                    requester_id: Some(sender.user_id),
                    account_id: None,
                    team_id: None,
                    assignee_id: None,
                    channel: Channel::Email,
                    case_type: None,
                    priority: None,
                    tags: Default::default(),
                };
                let (case, _) = self.open_case_in(tx, &sender, new, now, vec![id.to_owned()]).await?;
                let first =
                    tx.fetch_one("SELECT MIN(id) AS id FROM messages WHERE case_id = $1", args![case.0]).await?;
                let message = first.int("id")?;
                attach(tx, case, message, mail, now).await?;
                Ok((Ingested::CaseOpened { case }, Some(message)))
            }
        }
    }

    /// The person who wrote: an existing user, or a new contact — of the
    /// account that owns the sender's email domain, or else of an account of
    /// their own (never an account shared by chance: customers see their
    /// account's cases). `None` for a deactivated user.
    async fn sender(&self, tx: &mut Tx, mail: &InboundEmail, now: Timestamp) -> Result<Option<Principal>> {
        let email = kept_core::values::Email::parse("from", &mail.from_email)?;
        let sql = crate::db::Sql::built(format!("SELECT {} FROM users WHERE email = $1", crate::people::USER_COLUMNS));
        if let Some(r) = tx.fetch_optional(sql, args![email.as_str()]).await? {
            let user = crate::people::user_from_row(&r)?;
            return Ok(if user.active { Some(self.principal(&user).await?) } else { None });
        }
        let domain = email.as_str().rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
        let owner = tx
            .fetch_optional("SELECT account_id FROM account_domains WHERE domain = $1", args![domain.as_str()])
            .await?;
        let account = match owner {
            Some(r) => r.int("account_id")?,
            None => {
                tx.insert(
                    "INSERT INTO accounts (name, tier, created_at, updated_at) VALUES ($1, 'standard', $2, $2) RETURNING id",
                    args![email.as_str(), now],
                )
                .await?
            }
        };
        let name = mail.from_name.as_deref().map(|n| one_line(n, 200)).filter(|n| !n.is_empty());
        let name = name.unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("customer").to_owned());
        let user = tx
            .insert(
                "INSERT INTO users (email, name, role, account_id, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, 'contact', $3, NULL, TRUE, $4, $4) RETURNING id",
                args![email.as_str(), name, account, now],
            )
            .await?;
        Ok(Some(Principal::contact(UserId(user), AccountId(account))))
    }

    /// The case a message continues: by its threading headers, else by a
    /// case reference in the subject — in either way only a case the sender
    /// may see (a guessed "[#123]" opens a new case instead).
    async fn thread_case(&self, tx: &mut Tx, mail: &InboundEmail, sender: &Principal) -> Result<Option<CaseId>> {
        let mut candidates = Vec::new();
        for reference in mail.thread.iter().rev() {
            let row = tx
                .fetch_optional(
                    "SELECT case_id FROM mail_messages WHERE message_id = $1 AND case_id IS NOT NULL",
                    args![reference.as_str()],
                )
                .await?;
            if let Some(r) = row {
                candidates.push(CaseId(r.int("case_id")?));
            }
        }
        candidates.extend(mail.case_reference.map(CaseId));
        for case in candidates {
            // A case the sender may not see is "not found", as everywhere else.
            match crate::cases::load_visible(tx, sender, case, "").await {
                Ok(_) => return Ok(Some(case)),
                Err(StoreError::Domain(DomainError::NotFound { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// The message text as a case message: never empty, within the size limit,
/// noting attachments that were not kept.
fn body_of(mail: &InboundEmail) -> Result<MessageBody> {
    let mut text: String =
        mail.text.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect::<String>().trim().to_owned();
    if text.is_empty() {
        text = "(no text)".to_owned();
    }
    for skipped in &mail.skipped {
        text.push_str(&format!("\n\n[attachment {skipped} was not kept: too large]"));
    }
    let limit = MessageBody::MAX_CHARS - 100;
    if text.chars().count() > limit {
        text = text.chars().take(limit).collect::<String>() + "\n\n[message shortened]";
    }
    Ok(MessageBody::parse("text", &text)?)
}

fn one_line(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().filter(|c| !c.is_control()).take(max).collect()
}

async fn attach(tx: &mut Tx, case: CaseId, message: i64, mail: &InboundEmail, now: Timestamp) -> Result<()> {
    for a in &mail.attachments {
        let digest: String = Sha256::digest(&a.bytes).iter().map(|b| format!("{b:02x}")).collect();
        tx.execute(
            "INSERT INTO attachments (case_id, message_id, filename, content_type, size, sha256, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![
                case.0,
                message,
                one_line(&a.filename, 200),
                one_line(&a.content_type, 100),
                a.bytes.len() as i64,
                digest,
                a.bytes.clone(),
                now
            ],
        )
        .await?;
    }
    Ok(())
}
