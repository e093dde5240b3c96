//! A case's promises as people see them: state, risk, countdown and a
//! plain-language explanation, computed fresh from the history.

use super::facts;
use crate::Store;
use crate::cases::load_visible;
use crate::db::args;
use crate::error::Result;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use kept_core::ids::CaseId;
use kept_core::permissions::Principal;
use kept_core::promises::{ClockEval, ClockKind, evaluate, explain, risk};
use kept_core::stats::RiskStatus;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct PromiseView {
    /// The stored instance's id (absent until first stored).
    pub id: Option<i64>,
    pub clock: ClockEval,
    pub risk: Option<RiskStatus>,
    /// For agent-made promises: what was promised, and by whom.
    pub description: Option<String>,
    pub owner_name: Option<String>,
    pub explanation: Vec<String>,
}

impl Store {
    /// The promises of a case as of `now`. Customers see the promises
    /// people made to them (callbacks and updates), not internal targets.
    pub async fn case_promises(
        &self,
        by: &Principal,
        case: CaseId,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<Vec<PromiseView>> {
        // One snapshot for all the facts, without taking the write lock.
        let mut tx = self.db.begin_read().await?;
        load_visible(&mut tx, by, case, "").await?;
        let books = self.books(&mut tx).await?;
        let mut loaded = facts::load(&mut tx, &[case], now).await?;
        let loaded = loaded.remove(&case).ok_or(kept_core::DomainError::NotFound { entity: "case" })?;
        let evals = evaluate(&loaded.facts, &books, &loaded.fixed, loaded.now, true);
        let ids: HashMap<(String, i64), i64> = tx
            .fetch_all("SELECT id, kind, ordinal FROM promise_instances WHERE case_id = $1", args![case.0])
            .await?
            .iter()
            .map(|r| Ok(((r.text("kind")?, r.int("ordinal")?), r.int("id")?)))
            .collect::<Result<_>>()?;
        let made: HashMap<i64, (String, String)> = tx
            .fetch_all(
                "SELECT p.id, p.description, u.name FROM agent_promises p JOIN users u ON u.id = p.owner_id WHERE p.case_id = $1",
                args![case.0],
            )
            .await?
            .iter()
            .map(|r| Ok((r.int("id")?, (r.text("description")?, r.text("name")?))))
            .collect::<Result<_>>()?;
        tx.commit().await?;
        let mut out = Vec::new();
        for clock in evals {
            let by_hand = matches!(clock.kind, ClockKind::Callback | ClockKind::Update);
            if !by.is_staff() && !by_hand {
                continue;
            }
            let zone =
                clock.calendar_id.and_then(|id| books.calendar_at(id, clock.started_at)).map(|c| c.time_zone().clone());
            let explanation = explain(&clock, &books, zone.as_ref().unwrap_or(tz));
            let (description, owner_name) = match made.get(&clock.ordinal).filter(|_| by_hand) {
                Some((d, n)) => (Some(d.clone()), Some(n.clone())),
                None => (None, None),
            };
            out.push(PromiseView {
                id: ids.get(&(clock.kind.as_str().to_owned(), clock.ordinal)).copied(),
                risk: risk(&clock),
                clock,
                description,
                owner_name,
                explanation,
            });
        }
        Ok(out)
    }
}
