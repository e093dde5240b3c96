//! Recomputing a case's clocks inside the transaction that changed it (or
//! that runs its due job): run the engine, store each clock, append the
//! transitions not yet recorded as events (exactly once: the stored count,
//! the case lock and a unique key on each event), open recovery for new
//! breaches, and move the case's job to its next deadline.

use super::facts;
use crate::Store;
use crate::cases::events::{append, append_keyed};
use crate::db::{Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::calendar::add_business_millis;
use kept_core::cases::{EventKind, NewEvent, Priority};
use kept_core::ids::CaseId;
use kept_core::promises::{Books, ClockEval, ClockKind, ClockStatus, RecoveryRule, TransitionKind, evaluate};
use serde_json::json;
use std::collections::HashMap;

/// What one recompute did, for callers and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecomputeOutcome {
    pub transitions: usize,
    pub breaches: usize,
    pub recoveries_opened: usize,
}

impl Store {
    /// Recomputes the clocks of `case` as of `now`, inside `tx` (which must
    /// hold the case's lock when the case already existed).
    pub(crate) async fn recompute(&self, tx: &mut Tx, case: CaseId, now: Timestamp) -> Result<RecomputeOutcome> {
        let now = crate::cases::case_now(tx, case, now).await?;
        tx.execute("UPDATE cases SET clocks_at = $1 WHERE id = $2", args![now, case.0]).await?;
        let books = self.books(tx).await?;
        let mut outcome = RecomputeOutcome::default();
        // Opening recovery or raising the priority changes the inputs: look again (bounded).
        for _ in 0..3 {
            let loaded = facts::load(tx, case.0).await?;
            let fixed = facts::fixed(tx, case.0).await?;
            let evals = evaluate(&loaded.facts, &books, &fixed, now, false);
            let pass = store_evals(tx, case, &evals, now).await?;
            outcome.transitions += pass.transitions;
            outcome.breaches += pass.breached.len();
            let mut changed = false;
            for (instance, eval, at) in pass.breached {
                if let Some(rule) = recovery_rule(&books, &eval) {
                    changed |= open_recovery(tx, case, &loaded, instance, &eval, &rule, &books, at).await?;
                    outcome.recoveries_opened += 1;
                }
            }
            if !changed {
                schedule(tx, case, &evals, now).await?;
                return Ok(outcome);
            }
        }
        let loaded = facts::load(tx, case.0).await?;
        let fixed = facts::fixed(tx, case.0).await?;
        schedule(tx, case, &evaluate(&loaded.facts, &books, &fixed, now, false), now).await?;
        Ok(outcome)
    }
}

struct Pass {
    transitions: usize,
    /// (instance id, clock, breach instant) for breaches recorded in this pass.
    breached: Vec<(i64, ClockEval, Timestamp)>,
}

async fn store_evals(tx: &mut Tx, case: CaseId, evals: &[ClockEval], now: Timestamp) -> Result<Pass> {
    let mut stored: HashMap<(String, i64), (i64, usize)> = HashMap::new();
    for r in tx
        .fetch_all("SELECT id, kind, ordinal, transitions FROM promise_instances WHERE case_id = $1", args![case.0])
        .await?
    {
        stored.insert((r.text("kind")?, r.int("ordinal")?), (r.int("id")?, r.int("transitions")? as usize));
    }
    let mut pass = Pass { transitions: 0, breached: Vec::new() };
    for e in evals {
        let key = (e.kind.as_str().to_owned(), e.ordinal);
        let values = args![
            e.policy_id,
            e.policy_version,
            e.calendar_id,
            e.business,
            e.class.as_str(),
            e.target_ms,
            e.status.as_str(),
            e.started_at,
            e.elapsed_ms,
            e.remaining_ms,
            e.breach_at,
            e.warn_at,
            e.fulfilled_at,
            e.determined_at,
            // Never lower the count: what is in the log stays in the log.
            (e.transitions.len().max(stored.get(&key).map_or(0, |s| s.1))) as i64,
            now
        ];
        let (id, emitted) = match stored.get(&key) {
            Some((id, emitted)) => {
                let mut a = values;
                a.push((*id).into());
                tx.execute(
                    "UPDATE promise_instances SET policy_id = $1, policy_version = $2, calendar_id = $3, business = $4, class = $5, \
                     target_ms = $6, status = $7, started_at = $8, elapsed_ms = $9, remaining_ms = $10, breach_at = $11, warn_at = $12, \
                     fulfilled_at = $13, determined_at = $14, transitions = $15, updated_at = $16 WHERE id = $17",
                    a,
                )
                .await?;
                (*id, *emitted)
            }
            None => {
                let mut a = args![case.0, key.0.clone(), e.ordinal];
                a.extend(values);
                let id = tx
                    .insert(
                        "INSERT INTO promise_instances (case_id, kind, ordinal, policy_id, policy_version, calendar_id, business, class, \
                         target_ms, status, started_at, elapsed_ms, remaining_ms, breach_at, warn_at, fulfilled_at, determined_at, \
                         transitions, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
                         RETURNING id",
                        a,
                    )
                    .await?;
                (id, 0)
            }
        };
        for (i, t) in e.transitions.iter().enumerate().skip(emitted) {
            let kind = EventKind::parse("kind", t.kind.as_str())?;
            let data = json!({
                "promise_id": id, "clock": e.kind, "ordinal": e.ordinal, "target_ms": e.target_ms,
                "policy_id": e.policy_id, "policy_version": e.policy_version, "detail": t.detail,
            });
            let event = NewEvent::new(kind, None, t.at).with_data(data);
            append_keyed(tx, case, &event, &format!("promise:{case}:{}:{}:{i}", e.kind, e.ordinal)).await?;
            pass.transitions += 1;
            if t.kind == TransitionKind::Breached {
                pass.breached.push((id, e.clone(), t.at));
            }
        }
    }
    Ok(pass)
}

fn recovery_rule(books: &Books, eval: &ClockEval) -> Option<RecoveryRule> {
    let (id, version) = (eval.policy_id?, eval.policy_version?);
    let history = books.policies.iter().find(|p| p.id == id)?;
    let policy = history.versions.iter().filter_map(|(_, p)| p.as_ref()).find(|p| p.version == version)?;
    policy.recovery.clone()
}

/// Opens the recovery task of a breach (once per breached promise): owned by
/// the assignee or else a lead of the team, with its own promise, the people
/// responsible notified, and the priority raised if the policy says so.
/// Returns whether the case changed.
#[expect(clippy::too_many_arguments, reason = "one call site; the values are all distinct facts of the breach")]
async fn open_recovery(
    tx: &mut Tx,
    case: CaseId,
    loaded: &facts::Loaded,
    instance: i64,
    eval: &ClockEval,
    rule: &RecoveryRule,
    books: &Books,
    at: Timestamp,
) -> Result<bool> {
    if tx.fetch_optional("SELECT id FROM recovery_tasks WHERE instance_id = $1", args![instance]).await?.is_some() {
        return Ok(false);
    }
    let leads: Vec<i64> = tx
        .fetch_all(
            "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id WHERE m.team_id = $1 AND u.role = 'manager' AND u.active = TRUE ORDER BY u.id",
            args![loaded.team_id],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
    let owner = loaded.assignee_id.or(leads.first().copied());
    let calendar = eval.calendar_id.filter(|_| rule.business).and_then(|id| books.calendar_at(id, at));
    let due = match calendar {
        Some(cal) => add_business_millis(cal, at, rule.target_ms),
        None => at.checked_add(jiff::SignedDuration::from_millis(rule.target_ms)).ok(),
    }
    .unwrap_or(at);
    let reason = format!("{} promise breached", eval.kind.label());
    let task = tx
        .insert(
            "INSERT INTO recovery_tasks (case_id, instance_id, reason, owner_id, opened_at, due_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            args![case.0, instance, reason.as_str(), owner, at, due],
        )
        .await?;
    let opened = NewEvent::new(EventKind::RecoveryOpened, None, at)
        .with_data(json!({"task_id": task, "promise_id": instance, "owner_id": owner, "due_at": due.to_string()}));
    append(tx, case, &[opened]).await?;
    let mut notify: Vec<i64> = owner.into_iter().chain(leads).collect();
    notify.sort_unstable();
    notify.dedup();
    for user in notify {
        tx.execute(
            "INSERT INTO notifications (user_id, case_id, kind, text, created_at) VALUES ($1, $2, 'promise_breached', $3, $4)",
            args![user, case.0, format!("Case {case}: {reason}; recovery is due {due}"), at],
        )
        .await?;
    }
    if rule.raise_priority && loaded.priority < Priority::Urgent {
        let higher = Priority::ALL[loaded.priority.rank() as usize + 1];
        tx.execute("UPDATE cases SET priority = $1 WHERE id = $2", args![higher.rank(), case.0]).await?;
        let raised = NewEvent::change(EventKind::PriorityChanged, None, at, json!(loaded.priority), json!(higher))
            .with_data(json!({"reason": "recovery"}));
        append(tx, case, &[raised]).await?;
    }
    Ok(true)
}

/// Moves the case's clock job to its next warning or deadline (or removes
/// it), and records the nearest deadline on the case for queues.
async fn schedule(tx: &mut Tx, case: CaseId, evals: &[ClockEval], now: Timestamp) -> Result<()> {
    let owed = evals.iter().filter(|e| e.is_owed());
    let next_breach = owed.clone().filter_map(|e| e.breach_at).min();
    let warned = |e: &ClockEval| e.transitions.iter().any(|t| t.kind == TransitionKind::Warned);
    let next_job = owed
        .filter(|e| {
            e.status == ClockStatus::Running
                || e.kind == ClockKind::Callback
                || e.kind == ClockKind::Update
                || e.kind == ClockKind::Recovery
        })
        .flat_map(|e| [e.breach_at.filter(|_| e.status != ClockStatus::Breached), e.warn_at.filter(|_| !warned(e))])
        .flatten()
        .filter(|t| *t > now)
        .min();
    tx.execute("UPDATE cases SET next_breach_at = $1 WHERE id = $2", args![next_breach, case.0]).await?;
    match next_job {
        Some(at) => {
            tx.execute(
                "INSERT INTO jobs (kind, case_id, run_at) VALUES ('promise_clock', $1, $2) \
                 ON CONFLICT (kind, case_id) DO UPDATE SET run_at = excluded.run_at, attempts = 0, locked_by = NULL, locked_until = NULL, last_error = NULL",
                args![case.0, at],
            )
            .await?;
        }
        None => {
            tx.execute("DELETE FROM jobs WHERE kind = 'promise_clock' AND case_id = $1", args![case.0]).await?;
        }
    }
    Ok(())
}
