//! Recovery comes first: the tasks a breach opens, the actions the front
//! line takes within the limits the organisation sets, and their outcome.

use crate::Store;
use crate::cases::events::append;
use crate::cases::load_for_change;
use crate::db::{DbRow, Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{EventKind, NewEvent};
use kept_core::ids::CaseId;
use kept_core::permissions::{CaseScope, Principal};
use serde_json::json;

/// The recovery actions an agent may record.
pub const ACTION_KINDS: &[&str] =
    &["apology", "callback", "goodwill_credit", "escalation", "priority_upgrade", "other"];

#[derive(Debug, Clone)]
pub struct NewRecoveryAction {
    pub kind: String,
    pub amount_cents: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryActionView {
    pub id: i64,
    pub kind: String,
    pub amount_cents: Option<i64>,
    pub note: String,
    pub actor_name: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryTaskView {
    pub id: i64,
    pub case_id: i64,
    pub reason: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub opened_at: Timestamp,
    pub due_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub outcome: Option<String>,
    pub note: Option<String>,
    /// The survey answer that opened (or joined) this task; `None` for a breach's task.
    pub response_id: Option<i64>,
    pub actions: Vec<RecoveryActionView>,
}

const TASK_SELECT: &str = "SELECT t.id, t.case_id, t.reason, t.owner_id, u.name AS owner_name, t.opened_at, t.due_at, t.closed_at, \
    t.outcome, t.note, t.response_id FROM recovery_tasks t LEFT JOIN users u ON u.id = t.owner_id";

fn task_from_row(r: &DbRow) -> Result<RecoveryTaskView> {
    Ok(RecoveryTaskView {
        id: r.int("id")?,
        case_id: r.int("case_id")?,
        reason: r.text("reason")?,
        owner_id: r.opt_int("owner_id")?,
        owner_name: r.opt_text("owner_name")?,
        opened_at: r.time("opened_at")?,
        due_at: r.time("due_at")?,
        closed_at: r.opt_time("closed_at")?,
        outcome: r.opt_text("outcome")?,
        note: r.opt_text("note")?,
        response_id: r.opt_int("response_id")?,
        actions: Vec::new(),
    })
}

async fn with_actions(tx: &mut Tx, mut tasks: Vec<RecoveryTaskView>) -> Result<Vec<RecoveryTaskView>> {
    for t in &mut tasks {
        let rows = tx
            .fetch_all(
                "SELECT a.id, a.kind, a.amount_cents, a.note, u.name, a.at FROM recovery_actions a JOIN users u ON u.id = a.actor_id \
                 WHERE a.task_id = $1 ORDER BY a.id",
                args![t.id],
            )
            .await?;
        t.actions = rows
            .iter()
            .map(|r| {
                Ok(RecoveryActionView {
                    id: r.int("id")?,
                    kind: r.text("kind")?,
                    amount_cents: r.opt_int("amount_cents")?,
                    note: r.text("note")?,
                    actor_name: r.text("name")?,
                    at: r.time("at")?,
                })
            })
            .collect::<Result<_>>()?;
    }
    Ok(tasks)
}

/// Loads a task and its case, locked, checking that `by` works the case;
/// with the time to stamp the work with (`cases::case_now`).
async fn task_for_work(
    tx: &mut Tx,
    by: &Principal,
    task: i64,
    now: Timestamp,
) -> Result<(RecoveryTaskView, Timestamp)> {
    // Recovery is internal work: to customers it does not exist.
    by.require_staff()?;
    let sql = crate::db::Sql::built(format!("{TASK_SELECT} WHERE t.id = $1"));
    let row = tx.fetch_optional(sql, args![task]).await?.ok_or(DomainError::NotFound { entity: "recovery task" })?;
    let t = task_from_row(&row)?;
    let (case, now) = load_for_change(tx, by, CaseId(t.case_id), now)
        .await
        .map_err(|_| StoreError::from(DomainError::NotFound { entity: "recovery task" }))?;
    if !by.can_work_case(CaseScope::from(&case)) {
        return Err(DomainError::forbidden("only the team working this case recovers it").into());
    }
    if t.closed_at.is_some() {
        return Err(DomainError::conflict("task_closed", None, "this recovery task is closed").into());
    }
    Ok((t, now))
}

impl Store {
    pub async fn case_recovery_tasks(&self, by: &Principal, case: CaseId) -> Result<Vec<RecoveryTaskView>> {
        by.require_staff()?;
        let mut tx = self.db.begin_read().await?;
        crate::cases::load_visible(&mut tx, by, case, "").await?;
        let sql = crate::db::Sql::built(format!("{TASK_SELECT} WHERE t.case_id = $1 ORDER BY t.id"));
        let tasks = tx.fetch_all(sql, args![case.0]).await?.iter().map(task_from_row).collect::<Result<Vec<_>>>()?;
        let tasks = with_actions(&mut tx, tasks).await?;
        tx.commit().await?;
        Ok(tasks)
    }

    /// Open recovery tasks on cases `by` works, soonest due first.
    pub async fn open_recovery_tasks(&self, by: &Principal) -> Result<Vec<RecoveryTaskView>> {
        by.require_staff()?;
        let sql = crate::db::Sql::built(format!(
            "{TASK_SELECT} JOIN cases c ON c.id = t.case_id WHERE t.closed_at IS NULL ORDER BY t.due_at LIMIT 500"
        ));
        let rows = self.db.fetch_all(sql, args![]).await?;
        let mut tasks = Vec::new();
        for r in &rows {
            let t = task_from_row(r)?;
            if self.get_case(by, CaseId(t.case_id)).await.is_ok() {
                tasks.push(t);
            }
        }
        Ok(tasks)
    }

    /// Records what the front line did to recover. Amounts above the limit
    /// of the person's role are refused: those need someone with a higher limit.
    pub async fn record_recovery_action(
        &self,
        by: &Principal,
        task: i64,
        action: NewRecoveryAction,
        now: Timestamp,
    ) -> Result<RecoveryTaskView> {
        if !ACTION_KINDS.contains(&action.kind.as_str()) {
            return Err(DomainError::invalid(
                "invalid_value",
                "kind",
                format!("must be one of: {}", ACTION_KINDS.join(", ")),
            )
            .into());
        }
        let note = kept_core::values::MessageBody::parse("note", &action.note)?;
        let mut tx = self.db.begin().await?;
        let (t, now) = task_for_work(&mut tx, by, task, now).await?;
        match (action.kind.as_str(), action.amount_cents) {
            ("goodwill_credit", None) => {
                return Err(DomainError::invalid("required", "amount_cents", "a goodwill credit has an amount").into());
            }
            (_, Some(a)) if a <= 0 => {
                return Err(DomainError::invalid("invalid_value", "amount_cents", "must be positive").into());
            }
            (kind, Some(amount)) => {
                let limit = tx
                    .fetch_optional(
                        "SELECT max_cents FROM recovery_limits WHERE role = $1 AND kind = $2",
                        args![by.role.as_str(), kind],
                    )
                    .await?
                    .map(|r| r.int("max_cents"))
                    .transpose()?
                    .unwrap_or(0);
                if amount > limit {
                    return Err(DomainError::forbidden(format!(
                        "{amount} cents is above your limit of {limit} for {kind}; ask someone with a higher limit"
                    ))
                    .into());
                }
            }
            _ => {}
        }
        let actor =
            by.actor().ok_or_else(|| DomainError::invalid("required", "actor", "a person records recovery actions"))?;
        tx.insert(
            "INSERT INTO recovery_actions (task_id, case_id, actor_id, kind, amount_cents, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            args![task, t.case_id, actor.0, action.kind.as_str(), action.amount_cents, note.as_str(), now],
        )
        .await?;
        tx.execute(
            "UPDATE recovery_tasks SET first_action_at = COALESCE(first_action_at, $1) WHERE id = $2",
            args![now, task],
        )
        .await?;
        let event = NewEvent::new(EventKind::RecoveryAction, Some(actor), now).with_data(
            json!({"task_id": task, "kind": action.kind, "amount_cents": action.amount_cents, "note": note}),
        );
        let case = CaseId(t.case_id);
        append(&mut tx, case, &[event]).await?;
        tx.execute("UPDATE cases SET updated_at = $1 WHERE id = $2", args![now, case.0]).await?;
        self.recompute(&mut tx, case, now).await?;
        let sql = crate::db::Sql::built(format!("{TASK_SELECT} WHERE t.id = $1"));
        let view = task_from_row(&tx.fetch_one(sql, args![task]).await?)?;
        let mut views = with_actions(&mut tx, vec![view]).await?;
        tx.commit().await?;
        views.pop().ok_or_else(|| StoreError::Corrupt("recovery task".into()))
    }

    pub async fn close_recovery_task(
        &self,
        by: &Principal,
        task: i64,
        recovered: bool,
        note: &str,
        now: Timestamp,
    ) -> Result<()> {
        let note = kept_core::values::MessageBody::parse("note", note)?;
        let mut tx = self.db.begin().await?;
        let (t, now) = task_for_work(&mut tx, by, task, now).await?;
        let outcome = if recovered { "recovered" } else { "not_recovered" };
        tx.execute(
            "UPDATE recovery_tasks SET closed_at = $1, outcome = $2, note = $3 WHERE id = $4",
            args![now, outcome, note.as_str(), task],
        )
        .await?;
        let event = NewEvent::new(EventKind::RecoveryClosed, by.actor(), now)
            .with_data(json!({"task_id": task, "outcome": outcome, "note": note}));
        let case = CaseId(t.case_id);
        append(&mut tx, case, &[event]).await?;
        self.recompute(&mut tx, case, now).await?;
        tx.commit().await
    }

    /// (role, action kind, limit in cents) for every configured limit.
    pub async fn recovery_limits(&self, by: &Principal) -> Result<Vec<(String, String, i64)>> {
        by.require_staff()?;
        let rows =
            self.db.fetch_all("SELECT role, kind, max_cents FROM recovery_limits ORDER BY role, kind", args![]).await?;
        rows.iter().map(|r| Ok((r.text("role")?, r.text("kind")?, r.int("max_cents")?))).collect()
    }

    pub async fn set_recovery_limit(
        &self,
        by: &Principal,
        role: kept_core::people::Role,
        kind: &str,
        max_cents: i64,
    ) -> Result<()> {
        by.require_admin()?;
        if !role.is_staff() || !ACTION_KINDS.contains(&kind) || max_cents < 0 {
            return Err(DomainError::invalid(
                "invalid_value",
                "limit",
                "a staff role, a recovery action kind and a non-negative amount",
            )
            .into());
        }
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO recovery_limits (role, kind, max_cents) VALUES ($1, $2, $3) ON CONFLICT (role, kind) DO UPDATE SET max_cents = excluded.max_cents",
            args![role.as_str(), kind, max_cents],
        )
        .await?;
        tx.commit().await
    }

    /// A person's notifications, newest first.
    pub async fn notifications(
        &self,
        by: &Principal,
        unread_only: bool,
    ) -> Result<Vec<(i64, Option<i64>, String, String, Timestamp, bool)>> {
        let rows = self
            .db
            .fetch_all(
                "SELECT id, case_id, kind, text, created_at, read_at FROM notifications WHERE user_id = $1 AND (read_at IS NULL OR $2 = FALSE) \
                 ORDER BY id DESC LIMIT 200",
                args![by.user_id.0, unread_only],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.int("id")?,
                    r.opt_int("case_id")?,
                    r.text("kind")?,
                    r.text("text")?,
                    r.time("created_at")?,
                    r.opt_int("read_at")?.is_some(),
                ))
            })
            .collect()
    }

    pub async fn mark_notification_read(&self, by: &Principal, id: i64, now: Timestamp) -> Result<()> {
        let n = self
            .db
            .execute(
                "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3",
                args![now, id, by.user_id.0],
            )
            .await?;
        if n == 0 {
            return Err(DomainError::NotFound { entity: "notification" }.into());
        }
        Ok(())
    }
}
