//! Reading what the clock engine needs about cases from the database, for
//! many cases at once (a batch of due jobs) with one query per table.

use crate::db::{DbRow, SqlBuilder, Tx};
use crate::error::{Result, StoreError};
use crate::metrics::sources;
use jiff::Timestamp;
use kept_core::cases::{AuthorRole, Channel, Priority, Status};
use kept_core::ids::CaseId;
use kept_core::promises::{CaseAttrs, CaseFacts, ClockKind, FixedClock, MessageFact};
use serde_json::Value;
use std::collections::HashMap;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("promise facts: {what}"))
}

/// A case's history as facts, plus the bits recompute needs besides.
pub(crate) struct Loaded {
    pub facts: CaseFacts,
    pub team_id: i64,
    pub assignee_id: Option<i64>,
    pub priority: Priority,
    /// The instant to evaluate at: `now`, but never before the case's last
    /// change or evaluation (time on a case only moves forward).
    pub now: Timestamp,
    pub fixed: Vec<FixedClock>,
    /// The case's row as the rollups read it, and its closed recovery tasks
    /// (closed instant, recovered?): with the statuses and messages above,
    /// all the rollups need of the case's history (see [`Loaded::into_history`]).
    metric_row: sources::Loaded,
    closed_recoveries: Vec<(Timestamp, bool)>,
}

impl Loaded {
    /// The case's row and history as the rollups' loader would read them.
    pub fn into_history(self) -> sources::Loaded {
        self.metric_row.with_history(self.facts.statuses, self.facts.messages, self.closed_recoveries)
    }
}

async fn rows(tx: &mut Tx, start: &str, cases: &[CaseId], end: &str) -> Result<Vec<DbRow>> {
    let mut q = SqlBuilder::new(start);
    q.bind_list(cases.iter().map(|c| c.0)).push(end);
    let (sql, args) = q.finish();
    tx.fetch_all(sql, args).await
}

/// Loads every case of `cases` (which must exist) as of `now`.
pub(crate) async fn load(tx: &mut Tx, cases: &[CaseId], now: Timestamp) -> Result<HashMap<CaseId, Loaded>> {
    let mut out = HashMap::new();
    let head = format!(
        "SELECT {}, c.updated_at, c.clocks_at, c.priority FROM cases c JOIN accounts a ON a.id = c.account_id WHERE c.id IN ",
        sources::CASE_COLUMNS
    );
    for r in rows(tx, &head, cases, "").await? {
        let created_at = r.time("created_at")?;
        let at = [Some(now), Some(r.time("updated_at")?), r.opt_time("clocks_at")?]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(now);
        let channel = Channel::parse("channel", &r.text("channel")?).map_err(|_| corrupt("channel"))?;
        let attrs = vec![(created_at, placeholder_attrs(channel, r.text("tier")?))];
        out.insert(
            CaseId(r.int("id")?),
            Loaded {
                facts: CaseFacts {
                    created_at,
                    internal: r.opt_int("requesting_team_id")?.is_some(),
                    statuses: Vec::new(),
                    messages: Vec::new(),
                    attrs,
                },
                team_id: r.int("team_id")?,
                assignee_id: r.opt_int("assignee_id")?,
                priority: Priority::from_rank(r.int("priority")?).ok_or_else(|| corrupt("priority"))?,
                now: at,
                fixed: Vec::new(),
                metric_row: sources::Loaded::from_row(&r)?,
                closed_recoveries: Vec::new(),
            },
        );
    }
    let events = rows(
        tx,
        "SELECT case_id, kind, at, after_value, data FROM events WHERE kind IN \
         ('case_created', 'status_changed', 'priority_changed', 'team_changed', 'case_type_changed') AND case_id IN ",
        cases,
        " ORDER BY case_id, id",
    )
    .await?;
    for e in &events {
        if let Some(l) = out.get_mut(&CaseId(e.int("case_id")?)) {
            apply_event(l, e)?;
        }
    }
    for m in rows(
        tx,
        "SELECT case_id, created_at, author_role, public FROM messages WHERE case_id IN ",
        cases,
        " ORDER BY case_id, id",
    )
    .await?
    {
        if let Some(l) = out.get_mut(&CaseId(m.int("case_id")?)) {
            l.facts.messages.push(MessageFact {
                at: m.time("created_at")?,
                role: AuthorRole::parse("", &m.text("author_role")?).map_err(|_| corrupt("role"))?,
                public: m.flag("public")?,
            });
        }
    }
    load_fixed(tx, cases, &mut out).await?;
    Ok(out)
}

/// Until `case_created` is read, the attributes hold only what the case row knows.
fn placeholder_attrs(channel: Channel, tier: String) -> CaseAttrs {
    CaseAttrs { priority: Priority::Normal, tier, channel, case_type: String::new(), team_id: 0 }
}

fn apply_event(l: &mut Loaded, e: &DbRow) -> Result<()> {
    let at = e.time("at")?;
    let after: Option<Value> =
        e.opt_text("after_value")?.map(|t| serde_json::from_str(&t)).transpose().map_err(|_| corrupt("after"))?;
    let kind = e.text("kind")?;
    if kind == "status_changed" {
        let to = after
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|s| Status::parse("", s).ok())
            .ok_or_else(|| corrupt("status"))?;
        l.facts.statuses.push((at, to));
        return Ok(());
    }
    let Some(mut next) = l.facts.attrs.last().map(|(_, a)| a.clone()) else { return Err(corrupt("no case row")) };
    match kind.as_str() {
        "case_created" => {
            let data: Value = serde_json::from_str(&e.text("data")?).map_err(|_| corrupt("data"))?;
            next.priority = data["priority"]
                .as_str()
                .and_then(|p| Priority::parse("", p).ok())
                .ok_or_else(|| corrupt("priority"))?;
            next.team_id = data["team_id"].as_i64().ok_or_else(|| corrupt("team"))?;
            next.case_type = data["case_type"].as_str().unwrap_or("question").to_owned();
            // The creation event replaces the placeholder.
            l.facts.attrs.clear();
        }
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
    l.facts.attrs.push((at, next));
    Ok(())
}

/// Agent-made promises and recovery tasks, as fixed-deadline clocks: one
/// statement for both (most cases have neither; on PostgreSQL each
/// statement is a round trip under the write lock).
async fn load_fixed(tx: &mut Tx, cases: &[CaseId], out: &mut HashMap<CaseId, Loaded>) -> Result<()> {
    let mut q = SqlBuilder::new(
        "SELECT CAST(0 AS BIGINT) AS src, id, case_id, kind, made_at AS start_at, due_at, fulfilled_at, cancelled_at, \
         NULL AS closed_at, NULL AS outcome FROM agent_promises WHERE case_id IN ",
    );
    q.bind_list(cases.iter().map(|c| c.0));
    q.push(
        " UNION ALL SELECT 1, id, case_id, NULL, opened_at, due_at, first_action_at, NULL, closed_at, outcome \
         FROM recovery_tasks WHERE case_id IN ",
    );
    q.bind_list(cases.iter().map(|c| c.0)).push(" ORDER BY src, id");
    let (sql, args) = q.finish();
    for r in tx.fetch_all(sql, args).await? {
        let Some(l) = out.get_mut(&CaseId(r.int("case_id")?)) else { continue };
        if r.int("src")? == 0 {
            l.fixed.push(FixedClock {
                id: r.int("id")?,
                kind: ClockKind::parse("", &r.text("kind")?).map_err(|_| corrupt("kind"))?,
                start: r.time("start_at")?,
                due: r.time("due_at")?,
                fulfilled_at: r.opt_time("fulfilled_at")?,
                cancelled_at: r.opt_time("cancelled_at")?,
            });
            continue;
        }
        let closed_at = r.opt_time("closed_at")?;
        if let Some(at) = closed_at {
            l.closed_recoveries.push((at, r.opt_text("outcome")?.as_deref() == Some("recovered")));
        }
        // Recovery's promise is to act: the first action (or closing the task) fulfils it.
        let fulfilled = [r.opt_time("fulfilled_at")?, closed_at].into_iter().flatten().min();
        l.fixed.push(FixedClock {
            id: r.int("id")?,
            kind: ClockKind::Recovery,
            start: r.time("start_at")?,
            due: r.time("due_at")?,
            fulfilled_at: fulfilled,
            cancelled_at: None,
        });
    }
    Ok(())
}
