//! Claiming, sending and retrying queued mail.

use crate::Store;
use crate::db::{Backend, Sql, args};
use crate::error::{Result, StoreError};
use jiff::{SignedDuration, Timestamp};
use kept_core::mail::Envelope;

/// Attempts before a transiently failing message is given up (about a day
/// of backoff: 1 min, 2, 4, … capped at 2 h).
pub const MAX_ATTEMPTS: i64 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => OutboxStatus::Pending,
            "sent" => OutboxStatus::Sent,
            "failed" => OutboxStatus::Failed,
            other => return Err(StoreError::Corrupt(format!("outbox status {other}"))),
        })
    }
}

/// A queued message with what is known of its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: String,
    pub case_id: Option<i64>,
    pub kind: String,
    pub mail: Envelope,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

const COLUMNS: &str = "o.id, m.message_id, m.case_id, m.kind, o.payload, o.status, o.attempts, o.last_error, \
                       o.created_at, o.sent_at";

fn item(r: &crate::db::DbRow) -> Result<OutboxItem> {
    let payload = r.text("payload")?;
    Ok(OutboxItem {
        id: r.int("id")?,
        message_id: r.text("message_id")?,
        case_id: r.opt_int("case_id")?,
        kind: r.text("kind")?,
        mail: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?,
        status: OutboxStatus::parse(&r.text("status")?)?,
        attempts: r.int("attempts")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.time("created_at")?,
        sent_at: r.opt_time("sent_at")?,
    })
}

impl Store {
    /// Claims up to `limit` messages due for sending, for `lease`.
    pub async fn claim_outbox(
        &self,
        worker: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        let skip_locked = if self.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let claim = Sql::built(format!(
            "UPDATE outbox SET locked_by = $1, locked_until = $2 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' \
             AND next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until < $3) ORDER BY next_attempt_at, id \
             LIMIT $4{skip_locked}) RETURNING id"
        ));
        let until = now.checked_add(lease).unwrap_or(now);
        let mut tx = self.db.begin().await?;
        let ids: Vec<i64> = tx
            .fetch_all(claim, args![worker, until, now, i64::from(limit)])
            .await?
            .iter()
            .map(|r| r.int("id"))
            .collect::<Result<_>>()?;
        tx.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = crate::db::SqlBuilder::new(&format!(
            "SELECT {COLUMNS} FROM outbox o JOIN mail_messages m ON m.id = o.mail_id WHERE o.id IN "
        ));
        q.bind_list(ids).push(" ORDER BY o.id");
        let (sql, args) = q.finish();
        self.db.fetch_all(sql, args).await?.iter().map(item).collect()
    }

    /// Records that a claimed message went out.
    pub async fn outbox_sent(&self, id: i64, worker: &str, now: Timestamp) -> Result<()> {
        self.db
            .execute(
                "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, locked_by = NULL, \
                 locked_until = NULL, last_error = NULL WHERE id = $2 AND locked_by = $3",
                args![now, id, worker],
            )
            .await?;
        Ok(())
    }

    /// Records a failed attempt: a permanent failure (or the last attempt)
    /// marks the message failed; otherwise it is retried after a backoff.
    pub async fn outbox_failed(
        &self,
        id: i64,
        worker: &str,
        now: Timestamp,
        error: &str,
        permanent: bool,
    ) -> Result<()> {
        let row = self.db.fetch_optional("SELECT attempts FROM outbox WHERE id = $1", args![id]).await?;
        let attempts = match row {
            Some(r) => r.int("attempts")? + 1,
            None => return Ok(()),
        };
        let give_up = permanent || attempts >= MAX_ATTEMPTS;
        let backoff = SignedDuration::from_secs((60i64 << (attempts - 1).clamp(0, 7)).min(7200));
        let next = now.checked_add(backoff).unwrap_or(now);
        let message: String = error.chars().take(1000).collect();
        self.db
            .execute(
                "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4, locked_by = NULL, \
                 locked_until = NULL WHERE id = $5 AND locked_by = $6",
                args![if give_up { "failed" } else { "pending" }, attempts, next, message, id, worker],
            )
            .await?;
        Ok(())
    }

    /// When the next queued message falls due.
    pub async fn next_outbox_at(&self) -> Result<Option<Timestamp>> {
        let row =
            self.db.fetch_one("SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'", args![]).await?;
        row.opt_time("t")
    }

    /// Queued and sent mail, newest first (admin and tests); optionally of one case.
    pub async fn outbox(&self, case: Option<i64>, limit: u32) -> Result<Vec<OutboxItem>> {
        let mut q = crate::db::SqlBuilder::new(&format!(
            "SELECT {COLUMNS} FROM outbox o JOIN mail_messages m ON m.id = o.mail_id"
        ));
        if let Some(case) = case {
            q.push(" WHERE m.case_id = ").bind(case);
        }
        q.push(" ORDER BY o.id DESC LIMIT ").bind(i64::from(limit));
        let (sql, args) = q.finish();
        self.db.fetch_all(sql, args).await?.iter().map(item).collect()
    }
}
