//! Recomputing cases' clocks inside the transaction that changed them (or
//! that runs their due jobs): run the engine, store each clock, append the
//! transitions not yet recorded as events (exactly once: the stored count,
//! the case lock and a unique key on each event), open recovery for new
//! breaches, and move each case's job to its next deadline.
//!
//! Work is done for a batch of cases at once — a few multi-row statements
//! per batch rather than a score per case — because a storm of deadlines
//! (100,000 promises due in one minute) must be recorded in seconds. A
//! single change is a batch of one.

use super::facts::{self, Loaded};
use crate::Store;
use crate::cases::events::append;
use crate::db::{Arg, SqlBuilder, Tx, args};
use crate::error::Result;
use crate::metrics::sources::Known;
use jiff::Timestamp;
use kept_core::calendar::add_business_millis;
use kept_core::cases::{EventKind, NewEvent, Priority};
use kept_core::ids::CaseId;
use kept_core::promises::{Books, ClockEval, ClockKind, ClockStatus, RecoveryRule, TransitionKind, evaluate};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// What one recompute did, for callers and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecomputeOutcome {
    pub transitions: usize,
    pub breaches: usize,
    pub recoveries_opened: usize,
}

/// Rows per multi-row statement: 19,000 placeholders at most, under both
/// engines' limits (SQLite 32,766, PostgreSQL 65,535). Fewer, larger
/// statements matter on PostgreSQL, where every statement of a batch costs a
/// network round trip (BENCHMARKS.md: 20,000 breaches 14 s at 200 rows, 6 s at 1,000).
const CHUNK: usize = 1000;

impl Store {
    /// Recomputes the clocks of `case` as of `now`, inside `tx` (which must
    /// hold the case's lock when the case already existed).
    pub(crate) async fn recompute(&self, tx: &mut Tx, case: CaseId, now: Timestamp) -> Result<RecomputeOutcome> {
        self.recompute_many(tx, &[case], now).await
    }

    /// Recomputes many cases' clocks in one go (their locks held by `tx`).
    pub(crate) async fn recompute_many(
        &self,
        tx: &mut Tx,
        cases: &[CaseId],
        now: Timestamp,
    ) -> Result<RecomputeOutcome> {
        let mut outcome = RecomputeOutcome::default();
        if cases.is_empty() {
            return Ok(outcome);
        }
        let (books, zone) = self.books_and_zone(tx).await?;
        // The last history read of each case that nothing changed after,
        // for the rollups below.
        let mut histories = BTreeMap::new();
        let mut pending: Vec<CaseId> = cases.to_vec();
        // Opening recovery or raising a priority changes a case's inputs:
        // those cases are looked at again (bounded).
        for pass in 0..3 {
            let loaded = facts::load(tx, &pending, now).await?;
            let evals: HashMap<CaseId, Vec<ClockEval>> =
                loaded.iter().map(|(case, l)| (*case, evaluate(&l.facts, &books, &l.fixed, l.now, false))).collect();
            let breached = store_evals(tx, &evals, now, &mut outcome).await?;
            let mut changed = Vec::new();
            for (case, instance, eval, at) in breached {
                let (Some(rule), Some(l)) = (recovery_rule(&books, &eval), loaded.get(&case)) else { continue };
                if open_recovery(tx, &self.mail, case, l, instance, &eval, &rule, &books, at).await? {
                    outcome.recoveries_opened += 1;
                    changed.push(case);
                }
            }
            changed.sort_unstable();
            changed.dedup();
            let settled: HashMap<CaseId, Vec<ClockEval>> =
                if pass == 2 { evals } else { evals.into_iter().filter(|(case, _)| !changed.contains(case)).collect() };
            schedule(tx, &settled, &loaded).await?;
            for (case, l) in loaded {
                if changed.contains(&case) {
                    histories.remove(&case.0);
                } else {
                    histories.insert(case.0, l.into_history());
                }
            }
            if changed.is_empty() || pass == 2 {
                break;
            }
            pending = changed;
        }
        // The same transaction keeps the scorecards' rollups in step.
        let known = Known { books: Some((books, zone)), cases: histories };
        self.refresh_metrics_known(tx, cases, known).await?;
        Ok(outcome)
    }
}

/// A clock instance's natural key: (case, clock kind, ordinal).
type InstanceKey = (i64, String, i64);

fn key_of(case: CaseId, e: &ClockEval) -> InstanceKey {
    (case.0, e.kind.as_str().to_owned(), e.ordinal)
}

/// How many of the instance's transitions are already logged as events.
fn logged(instances: &HashMap<InstanceKey, (i64, usize)>, case: CaseId, e: &ClockEval) -> usize {
    instances.get(&key_of(case, e)).map_or(0, |(_, n)| *n)
}

/// Upserts every clock and appends its new transitions. Returns the breaches
/// recorded now: (case, instance id, clock, breach instant).
async fn store_evals(
    tx: &mut Tx,
    evals: &HashMap<CaseId, Vec<ClockEval>>,
    now: Timestamp,
    outcome: &mut RecomputeOutcome,
) -> Result<Vec<(CaseId, i64, ClockEval, Timestamp)>> {
    let cases: Vec<CaseId> = evals.keys().copied().collect();
    // Each stored instance's id and how many of its transitions are logged;
    // new instances join with none logged once their ids are known.
    let mut instances: HashMap<InstanceKey, (i64, usize)> = HashMap::new();
    for chunk in cases.chunks(CHUNK) {
        let mut q =
            SqlBuilder::new("SELECT id, case_id, kind, ordinal, transitions FROM promise_instances WHERE case_id IN ");
        q.bind_list(chunk.iter().map(|c| c.0));
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            let key = (r.int("case_id")?, r.text("kind")?, r.int("ordinal")?);
            instances.insert(key, (r.int("id")?, r.int("transitions")? as usize));
        }
    }
    let all: Vec<(CaseId, &ClockEval)> =
        evals.iter().flat_map(|(case, list)| list.iter().map(move |e| (*case, e))).collect();
    for chunk in all.chunks(CHUNK) {
        // A new instance's id is needed only to log its transitions. Without
        // RETURNING, SQLite needs no scratch table for the statement's rows.
        let returning =
            chunk.iter().any(|(case, e)| !e.transitions.is_empty() && !instances.contains_key(&key_of(*case, e)));
        let mut q = SqlBuilder::new(
            "INSERT INTO promise_instances (case_id, kind, ordinal, policy_id, policy_version, calendar_id, business, class, target_ms, \
             status, started_at, elapsed_ms, remaining_ms, breach_at, warn_at, fulfilled_at, determined_at, transitions, updated_at) VALUES ",
        );
        for (i, (case, e)) in chunk.iter().enumerate() {
            // Never lower the count: what is in the log stays in the log.
            let count = e.transitions.len().max(logged(&instances, *case, e)) as i64;
            let values: Vec<Arg> = args![
                case.0,
                e.kind.as_str(),
                e.ordinal,
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
                count,
                now
            ];
            q.push(if i == 0 { "" } else { ", " }).bind_list(values);
        }
        q.push(
            " ON CONFLICT (case_id, kind, ordinal) DO UPDATE SET policy_id = excluded.policy_id, policy_version = excluded.policy_version, \
             calendar_id = excluded.calendar_id, business = excluded.business, class = excluded.class, target_ms = excluded.target_ms, \
             status = excluded.status, started_at = excluded.started_at, elapsed_ms = excluded.elapsed_ms, remaining_ms = excluded.remaining_ms, \
             breach_at = excluded.breach_at, warn_at = excluded.warn_at, fulfilled_at = excluded.fulfilled_at, \
             determined_at = excluded.determined_at, transitions = excluded.transitions, updated_at = excluded.updated_at",
        );
        if !returning {
            let (sql, args) = q.finish();
            tx.execute(sql, args).await?;
            continue;
        }
        q.push(" RETURNING id, case_id, kind, ordinal");
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            let key = (r.int("case_id")?, r.text("kind")?, r.int("ordinal")?);
            instances.entry(key).or_insert((r.int("id")?, 0));
        }
    }
    let mut events: Vec<(CaseId, NewEvent, String)> = Vec::new();
    let mut breached = Vec::new();
    for (case, e) in &all {
        let id = instances.get(&key_of(*case, e)).map_or(0, |(id, _)| *id);
        for (i, t) in e.transitions.iter().enumerate().skip(logged(&instances, *case, e)) {
            let data = json!({
                "promise_id": id, "clock": e.kind, "ordinal": e.ordinal, "target_ms": e.target_ms,
                "policy_id": e.policy_id, "policy_version": e.policy_version, "detail": t.detail,
            });
            let event = NewEvent::new(EventKind::parse("kind", t.kind.as_str())?, None, t.at).with_data(data);
            events.push((*case, event, format!("promise:{case}:{}:{}:{i}", e.kind, e.ordinal)));
            if t.kind == TransitionKind::Breached {
                breached.push((*case, id, (*e).clone(), t.at));
            }
        }
    }
    outcome.transitions += events.len();
    outcome.breaches += breached.len();
    for chunk in events.chunks(CHUNK) {
        let mut q = SqlBuilder::new(
            "INSERT INTO events (case_id, kind, actor_id, at, before_value, after_value, data, dedup_key) VALUES ",
        );
        for (i, (case, e, key)) in chunk.iter().enumerate() {
            let values: Vec<Arg> = args![
                case.0,
                e.kind.as_str(),
                e.actor.map(|a| a.0),
                e.at,
                None::<String>,
                None::<String>,
                e.data.to_string(),
                key.as_str()
            ];
            q.push(if i == 0 { "" } else { ", " }).bind_list(values);
        }
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    Ok(breached)
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
    mail: &crate::MailSettings,
    case: CaseId,
    loaded: &Loaded,
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
        let text = format!("Case {case}: {reason}; recovery is due {}", mail.local(due));
        crate::mail::notices::notification(tx, mail, user, case, "promise_breached", &text, at).await?;
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

/// Moves each case's clock job to its next warning or deadline (or removes
/// it), and records on the case the nearest deadline, for queues, and when
/// its clocks were evaluated (time on a case only moves forward). A case
/// that recovery changed is scheduled when it is evaluated again.
async fn schedule(
    tx: &mut Tx,
    evals: &HashMap<CaseId, Vec<ClockEval>>,
    loaded: &HashMap<CaseId, Loaded>,
) -> Result<()> {
    let mut breach_sets: Vec<(i64, Timestamp, Option<Timestamp>)> = Vec::new();
    let mut jobs: Vec<(i64, Timestamp)> = Vec::new();
    let mut idle: Vec<i64> = Vec::new();
    for (case, list) in evals {
        let now = loaded.get(case).map(|l| l.now).unwrap_or(Timestamp::UNIX_EPOCH);
        let owed = list.iter().filter(|e| e.is_owed());
        breach_sets.push((case.0, now, owed.clone().filter_map(|e| e.breach_at).min()));
        let warned = |e: &ClockEval| e.transitions.iter().any(|t| t.kind == TransitionKind::Warned);
        let fixed = |e: &ClockEval| matches!(e.kind, ClockKind::Callback | ClockKind::Update | ClockKind::Recovery);
        let next = owed
            .filter(|e| e.status == ClockStatus::Running || fixed(e))
            .flat_map(|e| [e.breach_at.filter(|_| e.status != ClockStatus::Breached), e.warn_at.filter(|_| !warned(e))])
            .flatten()
            .filter(|t| *t > now)
            .min();
        match next {
            Some(at) => jobs.push((case.0, at)),
            None => idle.push(case.0),
        }
    }
    for chunk in breach_sets.chunks(CHUNK) {
        let mut q = SqlBuilder::new("UPDATE cases SET clocks_at = ");
        // Usually one instant for all (a change, a storm's minute): a
        // constant spares SQLite a CASE of a thousand arms per row.
        match chunk.iter().all(|(_, now, _)| *now == chunk[0].1) {
            true => q.bind(chunk[0].1),
            false => {
                q.push("CASE id");
                for (id, now, _) in chunk {
                    q.push(" WHEN ").bind(*id).push(" THEN ").bind(*now);
                }
                q.push(" END")
            }
        };
        q.push(", next_breach_at = CASE id");
        for (id, _, at) in chunk {
            q.push(" WHEN ").bind(*id).push(" THEN ").bind(*at);
        }
        q.push(" END WHERE id IN ").bind_list(chunk.iter().map(|(id, _, _)| *id));
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    for chunk in idle.chunks(CHUNK) {
        let mut q = SqlBuilder::new("DELETE FROM jobs WHERE kind = 'promise_clock' AND case_id IN ");
        q.bind_list(chunk.iter().copied());
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    for chunk in jobs.chunks(CHUNK) {
        let mut q = SqlBuilder::new("INSERT INTO jobs (kind, case_id, run_at) VALUES ");
        for (i, (case, at)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "('promise_clock', " } else { ", ('promise_clock', " })
                .bind(*case)
                .push(", ")
                .bind(*at)
                .push(")");
        }
        q.push(
            " ON CONFLICT (kind, case_id) DO UPDATE SET run_at = excluded.run_at, attempts = 0, locked_by = NULL, \
             locked_until = NULL, last_error = NULL",
        );
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    Ok(())
}
