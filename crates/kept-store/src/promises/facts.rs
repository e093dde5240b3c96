//! Reading what the clock engine needs about one case from the database.

use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::cases::{AuthorRole, Channel, Priority, Status};
use kept_core::promises::{CaseAttrs, CaseFacts, ClockKind, FixedClock, MessageFact};
use serde_json::Value;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("promise facts: {what}"))
}

/// The case's history as facts, plus the bits recompute needs besides.
pub(crate) struct Loaded {
    pub facts: CaseFacts,
    pub team_id: i64,
    pub assignee_id: Option<i64>,
    pub priority: Priority,
}

pub(crate) async fn load(tx: &mut Tx, case: i64) -> Result<Loaded> {
    let row = tx
        .fetch_one(
            "SELECT c.created_at, c.channel, c.requesting_team_id, c.team_id, c.assignee_id, c.priority, a.tier \
             FROM cases c JOIN accounts a ON a.id = c.account_id WHERE c.id = $1",
            args![case],
        )
        .await?;
    let created_at = row.time("created_at")?;
    let channel = Channel::parse("channel", &row.text("channel")?).map_err(|_| corrupt("channel"))?;
    let tier = row.text("tier")?;
    let events = tx
        .fetch_all(
            "SELECT kind, at, after_value, data FROM events WHERE case_id = $1 AND kind IN \
             ('case_created', 'status_changed', 'priority_changed', 'team_changed', 'case_type_changed') ORDER BY id",
            args![case],
        )
        .await?;
    let mut statuses = Vec::new();
    let mut attrs: Vec<(Timestamp, CaseAttrs)> = Vec::new();
    for e in &events {
        let at = e.time("at")?;
        let after: Option<Value> =
            e.opt_text("after_value")?.map(|t| serde_json::from_str(&t)).transpose().map_err(|_| corrupt("after"))?;
        let kind = e.text("kind")?;
        if kind == "case_created" {
            let data: Value = serde_json::from_str(&e.text("data")?).map_err(|_| corrupt("data"))?;
            let priority = data["priority"]
                .as_str()
                .and_then(|p| Priority::parse("", p).ok())
                .ok_or_else(|| corrupt("priority"))?;
            let team_id = data["team_id"].as_i64().ok_or_else(|| corrupt("team"))?;
            let case_type = data["case_type"].as_str().unwrap_or("question").to_owned();
            attrs.push((at, CaseAttrs { priority, tier: tier.clone(), channel, case_type, team_id }));
            continue;
        }
        if kind == "status_changed" {
            let to = after
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|s| Status::parse("", s).ok())
                .ok_or_else(|| corrupt("status"))?;
            statuses.push((at, to));
            continue;
        }
        let Some(mut next) = attrs.last().map(|(_, a)| a.clone()) else { return Err(corrupt("no case_created")) };
        match kind.as_str() {
            "priority_changed" => {
                next.priority = after
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(|p| Priority::parse("", p).ok())
                    .ok_or_else(|| corrupt("priority"))?
            }
            "team_changed" => next.team_id = after.as_ref().and_then(Value::as_i64).ok_or_else(|| corrupt("team"))?,
            _ => next.case_type = after.as_ref().and_then(Value::as_str).unwrap_or("question").to_owned(),
        }
        attrs.push((at, next));
    }
    let messages = tx
        .fetch_all("SELECT created_at, author_role, public FROM messages WHERE case_id = $1 ORDER BY id", args![case])
        .await?
        .iter()
        .map(|m| {
            Ok(MessageFact {
                at: m.time("created_at")?,
                role: AuthorRole::parse("", &m.text("author_role")?).map_err(|_| corrupt("role"))?,
                public: m.flag("public")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let priority = Priority::from_rank(row.int("priority")?).ok_or_else(|| corrupt("priority"))?;
    Ok(Loaded {
        facts: CaseFacts {
            created_at,
            internal: row.opt_int("requesting_team_id")?.is_some(),
            statuses,
            messages,
            attrs,
        },
        team_id: row.int("team_id")?,
        assignee_id: row.opt_int("assignee_id")?,
        priority,
    })
}

/// Agent-made promises and recovery tasks of the case, as fixed-deadline clocks.
pub(crate) async fn fixed(tx: &mut Tx, case: i64) -> Result<Vec<FixedClock>> {
    let mut out = Vec::new();
    for r in tx
        .fetch_all(
            "SELECT id, kind, made_at, due_at, fulfilled_at, cancelled_at FROM agent_promises WHERE case_id = $1",
            args![case],
        )
        .await?
    {
        out.push(FixedClock {
            id: r.int("id")?,
            kind: ClockKind::parse("", &r.text("kind")?).map_err(|_| corrupt("kind"))?,
            start: r.time("made_at")?,
            due: r.time("due_at")?,
            fulfilled_at: r.opt_time("fulfilled_at")?,
            cancelled_at: r.opt_time("cancelled_at")?,
        });
    }
    for r in tx
        .fetch_all(
            "SELECT id, opened_at, due_at, first_action_at, closed_at FROM recovery_tasks WHERE case_id = $1",
            args![case],
        )
        .await?
    {
        // Recovery's promise is to act: the first action (or closing the task) fulfils it.
        let fulfilled = [r.opt_time("first_action_at")?, r.opt_time("closed_at")?].into_iter().flatten().min();
        out.push(FixedClock {
            id: r.int("id")?,
            kind: ClockKind::Recovery,
            start: r.time("opened_at")?,
            due: r.time("due_at")?,
            fulfilled_at: fulfilled,
            cancelled_at: None,
        });
    }
    Ok(out)
}
