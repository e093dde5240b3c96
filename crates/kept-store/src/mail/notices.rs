//! The mail a change to a case sends, queued in the change's transaction:
//! an agent's public reply goes to the requester, a customer's new case is
//! acknowledged with the promise of a first reply, and staff notifications
//! go to the person notified.

use super::{MailSettings, OutKind, enqueue, thread_of};
use crate::db::{Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::cases::{AuthorRole, Case};
use kept_core::ids::{CaseId, MessageId, UserId};
use kept_core::mail::{Envelope, acknowledgement, promise_notice, reply};

struct Person {
    email: String,
    name: String,
    active: bool,
    contact: bool,
}

impl Person {
    fn from_row(r: &crate::db::DbRow) -> Result<Person> {
        Ok(Person {
            email: r.text("email")?,
            name: r.text("name")?,
            active: r.flag("active")?,
            contact: r.text("role")? == "contact",
        })
    }
}

async fn person(tx: &mut Tx, id: UserId) -> Result<Person> {
    let r = tx.fetch_one("SELECT email, name, active, role FROM users WHERE id = $1", args![id.0]).await?;
    Person::from_row(&r)
}

/// Two people in one statement (a reply's requester and author).
async fn two_people(tx: &mut Tx, a: UserId, b: UserId) -> Result<(Person, Person)> {
    let rows =
        tx.fetch_all("SELECT id, email, name, active, role FROM users WHERE id IN ($1, $2)", args![a.0, b.0]).await?;
    let find = |id: UserId| -> Result<Person> {
        let row = rows.iter().find(|r| r.int("id").ok() == Some(id.0));
        Person::from_row(row.ok_or_else(|| crate::error::StoreError::Corrupt(format!("no person {id}")))?)
    };
    Ok((find(a)?, find(b)?))
}

/// Mails an agent's public reply to the requester. Internal requests are
/// between teams and stay in kept; a reply by the requester is not echoed.
pub(crate) async fn reply_sent(
    tx: &mut Tx,
    settings: &MailSettings,
    case: &Case,
    message: MessageId,
    (author, role): (UserId, AuthorRole),
    body: &str,
    now: Timestamp,
) -> Result<()> {
    if case.is_internal() || role != AuthorRole::Agent || author == case.requester_id {
        return Ok(());
    }
    let (to, agent) = two_people(tx, case.requester_id, author).await?;
    if !to.active {
        return Ok(());
    }
    let (subject, text) = reply(case.id.0, case.subject.as_str(), &agent.name, body);
    let mut mail = Envelope::plain(&to.email, Some(&to.name), subject, text);
    // A person wrote this: auto-responders may answer it.
    mail.auto_submitted = false;
    let mail = mail.threaded(thread_of(tx, case.id).await?);
    enqueue(tx, settings, Some(case.id), Some(message), OutKind::Reply, &mail, now).await?;
    Ok(())
}

/// Acknowledges a case a customer opened, with the first reply's deadline
/// (the first-response promise, if a policy gives one). `earlier` holds the
/// Message-ID of the email that opened it, to thread the acknowledgement.
pub(crate) async fn case_opened(
    tx: &mut Tx,
    settings: &MailSettings,
    case: &Case,
    earlier: Vec<String>,
    now: Timestamp,
) -> Result<()> {
    if case.is_internal() {
        return Ok(());
    }
    let to = person(tx, case.requester_id).await?;
    if !to.contact || !to.active {
        return Ok(());
    }
    let due = tx
        .fetch_optional(
            "SELECT breach_at FROM promise_instances WHERE case_id = $1 AND kind = 'first_response' AND status = 'running' \
             ORDER BY ordinal LIMIT 1",
            args![case.id.0],
        )
        .await?;
    let reply_by = match due {
        Some(r) => r.opt_time("breach_at")?.map(|t| settings.local(t)),
        None => None,
    };
    let (subject, text) = acknowledgement(case.id.0, case.subject.as_str(), reply_by.as_deref());
    let mail = Envelope::plain(&to.email, Some(&to.name), subject, text).threaded(earlier);
    enqueue(tx, settings, Some(case.id), None, OutKind::Acknowledgement, &mail, now).await?;
    Ok(())
}

/// Notifies a person in kept (the notification list) and by email.
pub(crate) async fn notification(
    tx: &mut Tx,
    settings: &MailSettings,
    user: i64,
    case: CaseId,
    kind: &str,
    text: &str,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO notifications (user_id, case_id, kind, text, created_at) VALUES ($1, $2, $3, $4, $5)",
        args![user, case.0, kind, text, now],
    )
    .await?;
    notify(tx, settings, UserId(user), case, text, now).await
}

/// Mails a staff notification (e.g. a breach that needs recovery).
async fn notify(
    tx: &mut Tx,
    settings: &MailSettings,
    user: UserId,
    case: CaseId,
    text: &str,
    now: Timestamp,
) -> Result<()> {
    let to = person(tx, user).await?;
    if !to.active {
        return Ok(());
    }
    let subject = tx.fetch_one("SELECT subject FROM cases WHERE id = $1", args![case.0]).await?.text("subject")?;
    let body = format!("{text}\n\nCase #{case}: {subject}");
    let mail = Envelope::plain(&to.email, Some(&to.name), kept_core::mail::case_subject(case.0, &subject), body);
    enqueue(tx, settings, Some(case), None, OutKind::Notification, &mail, now).await?;
    Ok(())
}

/// Tells the requester of a promise an agent made them ("a callback by 15:00").
pub(crate) async fn promise_made(
    tx: &mut Tx,
    settings: &MailSettings,
    case: &Case,
    what: &str,
    due: Timestamp,
    now: Timestamp,
) -> Result<()> {
    if case.is_internal() {
        return Ok(());
    }
    let to = person(tx, case.requester_id).await?;
    if !to.active {
        return Ok(());
    }
    let (subject, text) = promise_notice(case.id.0, case.subject.as_str(), what, &settings.local(due));
    let mail = Envelope::plain(&to.email, Some(&to.name), subject, text).threaded(thread_of(tx, case.id).await?);
    enqueue(tx, settings, Some(case.id), None, OutKind::Promise, &mail, now).await?;
    Ok(())
}
