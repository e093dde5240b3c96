//! Appending to and reading the event log.

use crate::Store;
use crate::db::{Arg, DbRow, Tx, args};
use crate::error::{Result, StoreError};
use kept_core::cases::{Event, EventKind, NewEvent};
use kept_core::ids::{CaseId, EventId, UserId};
use kept_core::permissions::Principal;
use serde_json::Value;

pub(crate) async fn append(tx: &mut Tx, case: CaseId, events: &[NewEvent]) -> Result<()> {
    let rows: Vec<Vec<Arg>> = events.iter().map(|e| event_values(case, e)).collect();
    tx.insert_rows(
        "INSERT INTO events (case_id, kind, actor_id, at, before_value, after_value, data) VALUES ",
        "",
        &rows,
    )
    .await
}

/// An event's values in the column order of the INSERTs above.
pub(crate) fn event_values(case: CaseId, e: &NewEvent) -> Vec<Arg> {
    args![
        case.0,
        e.kind.as_str(),
        e.actor.map(|a| a.0),
        e.at,
        e.before.as_ref().map(Value::to_string),
        e.after.as_ref().map(Value::to_string),
        e.data.to_string()
    ]
}

fn json(text: Option<String>) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(|_| StoreError::Corrupt("events".into()))).transpose()
}

fn event_from_row(row: &DbRow) -> Result<Event> {
    Ok(Event {
        id: EventId(row.int("id")?),
        case_id: CaseId(row.int("case_id")?),
        kind: EventKind::parse("kind", &row.text("kind")?).map_err(|_| StoreError::Corrupt("events.kind".into()))?,
        actor: row.opt_int("actor_id")?.map(UserId),
        at: row.time("at")?,
        before: json(row.opt_text("before_value")?)?,
        after: json(row.opt_text("after_value")?)?,
        data: json(Some(row.text("data")?))?.unwrap_or(Value::Null),
    })
}

/// An event with the name of whoever did it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub event: Event,
    pub actor_name: Option<String>,
}

impl Store {
    /// The timeline of a case, oldest first. Contacts see only what concerns
    /// them (no notes, assignments or internal requests).
    pub async fn case_events(&self, by: &Principal, id: CaseId) -> Result<Vec<TimelineEntry>> {
        self.get_case(by, id).await?;
        let rows = self
            .db
            .fetch_all(
                "SELECT e.id, e.case_id, e.kind, e.actor_id, e.at, e.before_value, e.after_value, e.data, u.name AS actor_name \
                 FROM events e LEFT JOIN users u ON u.id = e.actor_id WHERE e.case_id = $1 ORDER BY e.id",
                args![id.0],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let event = event_from_row(row)?;
            if by.is_staff() || event.kind.visible_to_contacts() {
                out.push(TimelineEntry { event, actor_name: row.opt_text("actor_name")? });
            }
        }
        Ok(out)
    }

    /// Every event of every case in id order, `limit` after `after` — the raw
    /// log, for audits and rebuilding metrics. Admins only.
    pub async fn event_log(&self, by: &Principal, after: Option<EventId>, limit: u32) -> Result<Vec<Event>> {
        by.require_admin()?;
        let rows = self
            .db
            .fetch_all(
                "SELECT id, case_id, kind, actor_id, at, before_value, after_value, data FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                args![after.map_or(0, |e| e.0), i64::from(limit.clamp(1, 10_000))],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }
}
