//! Promises people make: "I will call you back by 15:00". Each becomes a
//! clock with an owner, shown to the customer, met when recorded done.

use crate::Store;
use crate::cases::events::append;
use crate::cases::load_for_change;
use crate::db::args;
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{EventKind, NewEvent};
use kept_core::ids::{CaseId, UserId};
use kept_core::permissions::{CaseScope, Principal};
use kept_core::promises::ClockKind;
use serde_json::json;

#[derive(Debug, Clone)]
pub struct NewAgentPromise {
    /// Callback or Update.
    pub kind: ClockKind,
    pub due_at: Timestamp,
    pub description: String,
    /// Who keeps it (default: whoever makes it).
    pub owner: Option<UserId>,
}

impl Store {
    pub async fn make_promise(
        &self,
        by: &Principal,
        case: CaseId,
        new: NewAgentPromise,
        now: Timestamp,
    ) -> Result<i64> {
        if !matches!(new.kind, ClockKind::Callback | ClockKind::Update) {
            return Err(DomainError::invalid("invalid_value", "kind", "must be callback or update").into());
        }
        if new.due_at <= now {
            return Err(DomainError::invalid("in_the_past", "due_at", "a promise is due in the future").into());
        }
        let description = kept_core::values::Subject::parse("description", &new.description)?;
        let mut tx = self.db.begin().await?;
        let (c, now) = load_for_change(&mut tx, by, case, now).await?;
        if !by.can_work_case(CaseScope::from(&c)) {
            return Err(DomainError::forbidden("only the team working this case makes promises on it").into());
        }
        let owner = new
            .owner
            .or(by.actor())
            .ok_or_else(|| DomainError::invalid("required", "owner_id", "name who keeps the promise"))?;
        crate::cases::check_assignee(&mut tx, owner, c.team_id).await.map_err(|_| {
            DomainError::invalid("invalid_owner", "owner_id", "the owner must be an active member of the case's team")
        })?;
        let id = tx
            .insert(
                "INSERT INTO agent_promises (case_id, kind, description, owner_id, made_at, due_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                args![case.0, new.kind.as_str(), description.as_str(), owner.0, now, new.due_at],
            )
            .await?;
        let made = NewEvent::new(EventKind::PromiseMade, by.actor(), now).with_data(json!({
            "agent_promise_id": id, "clock": new.kind, "due_at": new.due_at.to_string(), "owner_id": owner, "description": description,
        }));
        append(&mut tx, case, &[made]).await?;
        self.recompute(&mut tx, case, now).await?;
        crate::mail::notices::promise_made(&mut tx, &self.mail, &c, description.as_str(), new.due_at, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records an agent promise as kept (`fulfil`) or withdrawn.
    pub async fn settle_promise(
        &self,
        by: &Principal,
        case: CaseId,
        promise: i64,
        fulfil: bool,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let (c, now) = load_for_change(&mut tx, by, case, now).await?;
        if !by.can_work_case(CaseScope::from(&c)) {
            return Err(DomainError::forbidden("only the team working this case settles its promises").into());
        }
        let row = tx
            .fetch_optional(
                "SELECT fulfilled_at, cancelled_at FROM agent_promises WHERE id = $1 AND case_id = $2",
                args![promise, case.0],
            )
            .await?
            .ok_or(DomainError::NotFound { entity: "promise" })?;
        if row.opt_int("fulfilled_at")?.is_some() || row.opt_int("cancelled_at")?.is_some() {
            return Err(DomainError::conflict(
                "already_settled",
                None,
                "this promise was already recorded as kept or withdrawn",
            )
            .into());
        }
        let column = if fulfil { "fulfilled_at" } else { "cancelled_at" };
        let sql = crate::db::Sql::built(format!("UPDATE agent_promises SET {column} = $1 WHERE id = $2"));
        tx.execute(sql, args![now, promise]).await?;
        tx.execute("UPDATE cases SET updated_at = $1 WHERE id = $2", args![now, case.0]).await?;
        self.recompute(&mut tx, case, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
