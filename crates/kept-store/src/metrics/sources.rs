//! Keeping the rollups in step with the cases: inside the transaction of a
//! change, each touched case's contribution is computed from its history
//! (kept-core metrics::case_items), compared with what it contributed
//! before, and the difference is applied to the rollups.

use super::rollups::{apply, zone, zone_of};
use crate::Store;
use crate::db::{DbRow, SqlBuilder, Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::cases::{AuthorRole, Status};
use kept_core::ids::CaseId;
use kept_core::metrics::{
    Attribution, CaseInput, Delivered, Items, PromiseOutcome, REPEAT_WINDOW_SECONDS, SurveyAnswer, answer_items,
    case_items, difference,
};
use kept_core::promises::{Books, ClockKind, MessageFact};
use kept_core::surveys::SurveyKind;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Cases per statement when loading (IN lists).
const CHUNK: usize = 1000;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("metric sources: {what}"))
}

async fn rows(tx: &mut Tx, start: &str, ids: &[i64], end: &str) -> Result<Vec<DbRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut q = SqlBuilder::new(start);
        q.bind_list(chunk.iter().copied()).push(end);
        let (sql, args) = q.finish();
        out.extend(tx.fetch_all(sql, args).await?);
    }
    Ok(out)
}

/// What a caller of [`Store::refresh_metrics_known`] already read in the
/// same transaction: the books and the rollups' zone name
/// ([`Store::books_and_zone`]), and some cases' rows and histories
/// ([`Loaded::from_row`], [`Loaded::with_history`]) that nothing in the
/// transaction has changed since.
#[derive(Default)]
pub(crate) struct Known {
    pub books: Option<(Arc<Books>, Option<String>)>,
    pub cases: BTreeMap<i64, Loaded>,
}

/// What the loader reads about one case.
#[derive(Default)]
pub(crate) struct Loaded {
    created_at: Option<Timestamp>,
    requester: i64,
    case_type: String,
    internal: bool,
    parent: Option<i64>,
    attribution: Attribution,
    statuses: Vec<(Timestamp, Status)>,
    messages: Vec<MessageFact>,
    promises: Vec<PromiseOutcome>,
    calendar: Option<i64>,
    recoveries: Vec<(Timestamp, bool)>,
    team_waits: Vec<(Timestamp, Option<Timestamp>)>,
    answers: Vec<SurveyAnswer>,
    delivered: Vec<Delivered>,
    first_done: Option<Timestamp>,
}

impl Loaded {
    /// The case as kept-core's contribution functions read it. Business time
    /// runs on the calendar of the case's first business-time promise, else
    /// on the organisation's first calendar.
    fn input<'a>(&'a self, books: &'a Books, created_at: Timestamp, repeat: bool) -> CaseInput<'a> {
        let calendar = self
            .calendar
            .or_else(|| books.calendars.iter().map(|c| c.id).min())
            .and_then(|c| books.calendar_at(c, created_at));
        CaseInput {
            created_at,
            statuses: &self.statuses,
            messages: &self.messages,
            attribution: self.attribution.clone(),
            internal: self.internal,
            repeat,
            team_waits: &self.team_waits,
            promises: &self.promises,
            recoveries: &self.recoveries,
            answers: &self.answers,
            delivered: &self.delivered,
            calendar,
        }
    }
}

fn frozen(r: &DbRow) -> Result<Attribution> {
    Ok(Attribution {
        team: r.opt_int("team_id")?,
        agent: r.opt_int("agent_id")?,
        account: Some(r.int("account_id")?),
        tier: r.text("account_tier")?,
        channel: r.opt_text("channel")?.unwrap_or_default(),
        case_type: r.opt_text("case_type")?.unwrap_or_default(),
    })
}

fn survey_kind(raw: &str) -> Result<SurveyKind> {
    SurveyKind::parse("kind", raw).map_err(|_| corrupt("survey kind"))
}

/// The columns of `cases c JOIN accounts a` that [`Loaded::from_row`] reads;
/// the clock engine's loader selects them too (promises/facts.rs).
pub(crate) const CASE_COLUMNS: &str = "c.id, c.created_at, c.requester_id, c.team_id, c.assignee_id, c.account_id, \
    c.channel, c.case_type, c.parent_case_id, c.requesting_team_id, a.tier";

impl Loaded {
    /// A case as its row says, before its history is added.
    pub(crate) fn from_row(r: &DbRow) -> Result<Loaded> {
        Ok(Loaded {
            created_at: Some(r.time("created_at")?),
            requester: r.int("requester_id")?,
            case_type: r.text("case_type")?,
            internal: r.opt_int("requesting_team_id")?.is_some(),
            parent: r.opt_int("parent_case_id")?,
            attribution: Attribution {
                team: Some(r.int("team_id")?),
                agent: r.opt_int("assignee_id")?,
                account: Some(r.int("account_id")?),
                tier: r.text("tier")?,
                channel: r.text("channel")?,
                case_type: r.text("case_type")?,
            },
            ..Loaded::default()
        })
    }

    /// Adds the case's history: its status changes and messages in the
    /// order they happened, and its closed recovery tasks (closed instant,
    /// recovered?) in the order they were opened.
    pub(crate) fn with_history(
        mut self,
        statuses: Vec<(Timestamp, Status)>,
        messages: Vec<MessageFact>,
        recoveries: Vec<(Timestamp, bool)>,
    ) -> Loaded {
        self.first_done =
            statuses.iter().find(|(_, s)| matches!(s, Status::Solved | Status::Closed)).map(|(at, _)| *at);
        self.statuses = statuses;
        self.messages = messages;
        self.recoveries = recoveries;
        self
    }
}

/// Loads `ids` whole; those in `known` (row and history read by the clock
/// engine in the same transaction) only from the tables it does not read.
async fn load(tx: &mut Tx, ids: &[i64], mut known: BTreeMap<i64, Loaded>) -> Result<BTreeMap<i64, Loaded>> {
    let wanted: BTreeSet<i64> = ids.iter().copied().collect();
    known.retain(|id, _| wanted.contains(id));
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !known.contains_key(id)).collect();
    let mut out = known;
    out.extend(load_histories(tx, &missing).await?);
    load_outcomes(tx, ids, &mut out).await?;
    Ok(out)
}

/// The case rows and histories of `ids`.
async fn load_histories(tx: &mut Tx, ids: &[i64]) -> Result<BTreeMap<i64, Loaded>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let head = format!("SELECT {CASE_COLUMNS} FROM cases c JOIN accounts a ON a.id = c.account_id WHERE c.id IN ");
    let mut cases = BTreeMap::new();
    for r in rows(tx, &head, ids, "").await? {
        cases.insert(r.int("id")?, (Loaded::from_row(&r)?, Vec::new(), Vec::new(), Vec::new()));
    }
    let sql = "SELECT case_id, at, after_value FROM events WHERE kind = 'status_changed' AND case_id IN ";
    for r in rows(tx, sql, ids, " ORDER BY case_id, id").await? {
        let Some(l) = cases.get_mut(&r.int("case_id")?) else { continue };
        let raw = r.opt_text("after_value")?.unwrap_or_default();
        let to: String = serde_json::from_str(&raw).map_err(|_| corrupt("status"))?;
        l.1.push((r.time("at")?, Status::parse("", &to).map_err(|_| corrupt("status"))?));
    }
    let sql = "SELECT case_id, created_at, author_role, public FROM messages WHERE case_id IN ";
    for r in rows(tx, sql, ids, " ORDER BY case_id, id").await? {
        let Some(l) = cases.get_mut(&r.int("case_id")?) else { continue };
        l.2.push(MessageFact {
            at: r.time("created_at")?,
            role: AuthorRole::parse("", &r.text("author_role")?).map_err(|_| corrupt("role"))?,
            public: r.flag("public")?,
        });
    }
    let sql = "SELECT case_id, closed_at, outcome FROM recovery_tasks WHERE closed_at IS NOT NULL AND case_id IN ";
    for r in rows(tx, sql, ids, " ORDER BY id").await? {
        let Some(l) = cases.get_mut(&r.int("case_id")?) else { continue };
        l.3.push((r.time("closed_at")?, r.opt_text("outcome")?.as_deref() == Some("recovered")));
    }
    Ok(cases
        .into_iter()
        .map(|(id, (l, statuses, messages, rec))| (id, l.with_history(statuses, messages, rec)))
        .collect())
}

/// What else the rollups read of `ids`: promise outcomes, internal
/// requests, survey answers and deliveries.
async fn load_outcomes(tx: &mut Tx, ids: &[i64], out: &mut BTreeMap<i64, Loaded>) -> Result<()> {
    // One statement for the four tables (a round trip each on PostgreSQL,
    // and most cases have rows in one). PostgreSQL types a UNION's columns
    // pairwise, so each NULL says its type.
    const N: &str = "CAST(NULL AS BIGINT)";
    const T: &str = "CAST(NULL AS TEXT)";
    let branches = [
        format!(
            "SELECT CAST(0 AS BIGINT) AS src, case_id, id, kind, status, determined_at AS at1, {N} AS at2, {N} AS at3, calendar_id AS ref_id, \
             business AS flag, {N} AS score, {N} AS agent_id, {N} AS team_id, {N} AS account_id, {T} AS channel, \
             {T} AS case_type, {T} AS account_tier FROM promise_instances WHERE case_id IN "
        ),
        format!(
            " UNION ALL SELECT 1, parent_case_id, id, {T}, {T}, created_at, solved_at, closed_at, {N}, CAST(NULL AS BOOLEAN), \
             {N}, {N}, {N}, {N}, {T}, {T}, {T} FROM cases WHERE parent_case_id IN "
        ),
        format!(
            " UNION ALL SELECT 2, r.case_id, r.id, r.kind, {T}, r.answered_at, {N}, {N}, i.resurvey_task_id, CAST(NULL AS BOOLEAN), \
             r.score, r.agent_id, r.team_id, r.account_id, r.channel, r.case_type, r.account_tier \
             FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id WHERE r.case_id IN "
        ),
        format!(
            " UNION ALL SELECT 3, case_id, id, {T}, status, sent_at, {N}, {N}, {N}, CAST(NULL AS BOOLEAN), {N}, agent_id, team_id, \
             account_id, channel, case_type, account_tier FROM survey_invitations WHERE sent_at IS NOT NULL AND case_id IN "
        ),
    ];
    for chunk in ids.chunks(CHUNK) {
        let mut q = SqlBuilder::new("");
        for branch in &branches {
            q.push(branch).bind_list(chunk.iter().copied());
        }
        // Within each table, each case's rows in the order they were made.
        q.push(" ORDER BY src, case_id, id");
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            let Some(l) = out.get_mut(&r.int("case_id")?) else { continue };
            match r.int("src")? {
                0 => {
                    if r.flag("flag")? && l.calendar.is_none() {
                        l.calendar = r.opt_int("ref_id")?;
                    }
                    let status = r.text("status")?;
                    if let (Some(at), "met" | "breached") = (r.opt_time("at1")?, status.as_str()) {
                        let kind = ClockKind::parse("", &r.text("kind")?).map_err(|_| corrupt("clock"))?;
                        l.promises.push(PromiseOutcome { kind, met: status == "met", determined_at: at });
                    }
                }
                1 => {
                    let end = [r.opt_time("at2")?, r.opt_time("at3")?].into_iter().flatten().min();
                    l.team_waits.push((r.time("at1")?, end));
                }
                2 => l.answers.push(SurveyAnswer {
                    kind: survey_kind(&r.text("kind")?)?,
                    score: r.int("score")?,
                    answered_at: r.time("at1")?,
                    resurvey: r.opt_int("ref_id")?.is_some(),
                    attribution: frozen(&r)?,
                }),
                _ => l.delivered.push(Delivered {
                    sent_at: r.time("at1")?,
                    answered: r.text("status")? == "answered",
                    attribution: frozen(&r)?,
                }),
            }
        }
    }
    Ok(())
}

/// Marks each resolved case whose requester opened another case of the same
/// type within 7 days of the first resolution (D-20).
async fn mark_repeats(tx: &mut Tx, loaded: &BTreeMap<i64, Loaded>) -> Result<BTreeSet<i64>> {
    let resolved: Vec<(&i64, &Loaded, Timestamp)> = loaded
        .iter()
        .filter_map(|(id, l)| l.first_done.map(|fs| (id, l, fs)))
        .filter(|(_, l, _)| !l.internal)
        .collect();
    let mut repeats = BTreeSet::new();
    let (Some(from), Some(to)) =
        (resolved.iter().map(|(_, _, fs)| *fs).min(), resolved.iter().map(|(_, _, fs)| *fs).max())
    else {
        return Ok(repeats);
    };
    let until = Timestamp::from_millisecond(to.as_millisecond() + REPEAT_WINDOW_SECONDS * 1000).unwrap_or(to);
    let requesters: BTreeSet<i64> = resolved.iter().map(|(_, l, _)| l.requester).collect();
    let mut by_requester: HashMap<i64, Vec<(i64, String, Timestamp)>> = HashMap::new();
    let list: Vec<i64> = requesters.into_iter().collect();
    for chunk in list.chunks(CHUNK) {
        let mut q = SqlBuilder::new("SELECT id, requester_id, case_type, created_at FROM cases WHERE requester_id IN ");
        q.bind_list(chunk.iter().copied())
            .push(" AND created_at > ")
            .bind(from)
            .push(" AND created_at <= ")
            .bind(until);
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            by_requester.entry(r.int("requester_id")?).or_default().push((
                r.int("id")?,
                r.text("case_type")?,
                r.time("created_at")?,
            ));
        }
    }
    for (id, l, fs) in resolved {
        let window = REPEAT_WINDOW_SECONDS * 1000;
        let hit = by_requester.get(&l.requester).into_iter().flatten().any(|(other, kind, at)| {
            *other != *id && *kind == l.case_type && *at > fs && at.as_millisecond() - fs.as_millisecond() <= window
        });
        if hit {
            repeats.insert(*id);
        }
    }
    Ok(repeats)
}

/// Cases whose first-contact resolution a newly counted case may change:
/// the same requester's cases of the same type solved in the 7 days before
/// it was opened, unless another of the requester's cases of that type was
/// opened between the solve and the new case — that one already made the
/// solved case a repeat (it lies inside the same window), so the new case
/// changes nothing. Without that, every case a busy requester opens would
/// reload all their cases solved that week.
///
/// "No case opened between the solve and the new one" is asked as "solved
/// no earlier than the requester's last case of that type opened before the
/// new one": one backwards step down the requester's index, then a range of
/// their solves. (A NOT EXISTS per solved case read every case the
/// requester had solved that week: 77 µs per new case under the write lock
/// for a requester with a few hundred.)
const PAIRS_PER_STATEMENT: usize = 100;

async fn affected_by_new(tx: &mut Tx, new: &[&Loaded]) -> Result<Vec<i64>> {
    let Some(earliest) = new.iter().filter_map(|l| l.created_at).min() else { return Ok(Vec::new()) };
    let since =
        Timestamp::from_millisecond(earliest.as_millisecond() - REPEAT_WINDOW_SECONDS * 1000).unwrap_or(earliest);
    // Per requester and case type, the earliest new case: an older case
    // between a solve and it lies before every new case of the pair.
    let mut pairs: BTreeMap<(i64, &str), Timestamp> = BTreeMap::new();
    for l in new {
        let Some(at) = l.created_at else { continue };
        let first = pairs.entry((l.requester, l.case_type.as_str())).or_insert(at);
        *first = (*first).min(at);
    }
    let list: Vec<((i64, &str), Timestamp)> = pairs.into_iter().collect();
    let mut out = Vec::new();
    // SQLite parses a chain of ORs as a tree as deep as the chain and refuses
    // past 1,000 levels; a bulk import brings thousands of pairs at once.
    for chunk in list.chunks(PAIRS_PER_STATEMENT) {
        let mut q = SqlBuilder::new("SELECT c.id FROM cases c WHERE ");
        for (i, ((requester, case_type), first)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(c.requester_id = " } else { " OR (c.requester_id = " });
            q.bind(*requester).push(" AND c.case_type = ").bind(*case_type);
            q.push(" AND c.solved_at >= COALESCE((SELECT y.created_at FROM cases y WHERE y.requester_id = ");
            q.bind(*requester).push(" AND y.case_type = ").bind(*case_type);
            // Not before `since`: the later of the two bounds, in one term
            // the index can range over.
            q.push(" AND y.created_at >= ").bind(since).push(" AND y.created_at < ").bind(*first);
            q.push(" ORDER BY y.created_at DESC LIMIT 1), ").bind(since).push("))");
        }
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            out.push(r.int("id")?);
        }
    }
    Ok(out)
}

async fn stored_items(tx: &mut Tx, kind: &str, ids: &[i64]) -> Result<HashMap<i64, Items>> {
    let start = format!("SELECT source_id, items FROM metric_sources WHERE source_kind = '{kind}' AND source_id IN ");
    let mut out = HashMap::new();
    for r in rows(tx, &start, ids, "").await? {
        let items = Items::decode(&r.bytes("items")?).map_err(|e| corrupt(&e.to_string()))?;
        out.insert(r.int("source_id")?, items);
    }
    Ok(out)
}

async fn store_items(tx: &mut Tx, kind: &str, items: &[(i64, Vec<u8>)]) -> Result<()> {
    for chunk in items.chunks(CHUNK) {
        let mut q = SqlBuilder::new("INSERT INTO metric_sources (source_kind, source_id, items) VALUES ");
        for (i, (id, bytes)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(kind).push(", ").bind(*id).push(", ").bind(bytes.clone()).push(")");
        }
        q.push(" ON CONFLICT (source_kind, source_id) DO UPDATE SET items = excluded.items");
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    Ok(())
}

/// Locks cases this transaction did not lock itself (PostgreSQL), in id order.
async fn lock_more(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    if ids.is_empty() || tx.backend() != crate::Backend::Postgres {
        return Ok(());
    }
    for chunk in ids.chunks(CHUNK) {
        let mut q = SqlBuilder::new("SELECT id FROM cases WHERE id IN ");
        q.bind_list(chunk.iter().copied()).push(" ORDER BY id FOR UPDATE");
        let (sql, args) = q.finish();
        tx.fetch_all(sql, args).await?;
    }
    Ok(())
}

impl Store {
    /// Brings the rollups up to date with `cases` (locked by `tx`), their
    /// parents (internal requests change where a parent's time went) and,
    /// for cases counted for the first time, the requester's recently
    /// solved cases (a repeat undoes a first-contact resolution).
    pub(crate) async fn refresh_metrics(&self, tx: &mut Tx, cases: &[CaseId]) -> Result<()> {
        self.refresh_metrics_known(tx, cases, Known::default()).await
    }

    /// The same, given what the caller already read in this transaction.
    pub(crate) async fn refresh_metrics_known(&self, tx: &mut Tx, cases: &[CaseId], known: Known) -> Result<()> {
        let ids: BTreeSet<i64> = cases.iter().map(|c| c.0).collect();
        self.refresh_case_metrics(tx, ids, true, known).await
    }

    pub(crate) async fn refresh_case_metrics(
        &self,
        tx: &mut Tx,
        mut ids: BTreeSet<i64>,
        expand: bool,
        known: Known,
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let (books, zone_name) = match known.books {
            Some(read) => read,
            None => self.books_and_zone(tx).await?,
        };
        let first: Vec<i64> = ids.iter().copied().collect();
        let mut loaded = load(tx, &first, known.cases).await?;
        let mut old = stored_items(tx, "case", &first).await?;
        if expand {
            let mut more: BTreeSet<i64> = loaded.values().filter_map(|l| l.parent).collect();
            let new: Vec<&Loaded> = loaded.iter().filter(|(id, _)| !old.contains_key(id)).map(|(_, l)| l).collect();
            more.extend(affected_by_new(tx, &new).await?);
            let extra: Vec<i64> = more.into_iter().filter(|id| !ids.contains(id)).collect();
            if !extra.is_empty() {
                lock_more(tx, &extra).await?;
                loaded.extend(load(tx, &extra, BTreeMap::new()).await?);
                old.extend(stored_items(tx, "case", &extra).await?);
                ids.extend(extra);
            }
        }
        let repeats = mark_repeats(tx, &loaded).await?;
        let zone = &zone_of(tx, zone_name, &self.mail.time_zone).await?;
        let mut deltas = BTreeMap::new();
        let mut writes = Vec::with_capacity(loaded.len());
        let empty = Items::default();
        for (id, l) in &loaded {
            let Some(created_at) = l.created_at else { continue };
            let input = l.input(&books, created_at, repeats.contains(id));
            let new = case_items(&input, zone);
            let before = old.get(id).unwrap_or(&empty);
            if *before == new && old.contains_key(id) {
                continue;
            }
            super::rollups::merge(&mut deltas, difference(before, &new));
            writes.push((*id, new.encode()));
        }
        store_items(tx, "case", &writes).await?;
        apply(tx, deltas).await
    }

    /// The same for a survey invitation about no case (relationship NPS).
    pub(crate) async fn refresh_invitation_metrics(&self, tx: &mut Tx, invitation: i64) -> Result<()> {
        let mut answers = Vec::new();
        let sql = "SELECT r.kind, r.score, r.answered_at, r.agent_id, r.team_id, r.account_id, r.channel, r.case_type, \
                   r.account_tier FROM survey_responses r WHERE r.invitation_id = $1";
        for r in tx.fetch_all(sql, args![invitation]).await? {
            answers.push(SurveyAnswer {
                kind: survey_kind(&r.text("kind")?)?,
                score: r.int("score")?,
                answered_at: r.time("answered_at")?,
                resurvey: false,
                attribution: frozen(&r)?,
            });
        }
        let mut delivered = Vec::new();
        let sql = "SELECT sent_at, status, agent_id, team_id, account_id, channel, case_type, account_tier \
                   FROM survey_invitations WHERE id = $1 AND sent_at IS NOT NULL";
        for r in tx.fetch_all(sql, args![invitation]).await? {
            delivered.push(Delivered {
                sent_at: r.time("sent_at")?,
                answered: r.text("status")? == "answered",
                attribution: frozen(&r)?,
            });
        }
        let mut new = Items::default();
        let zone = zone(tx, &self.mail.time_zone).await?;
        answer_items(&mut new, &answers, &delivered, &zone);
        let old = stored_items(tx, "invitation", &[invitation]).await?.remove(&invitation).unwrap_or_default();
        if old == new {
            return Ok(());
        }
        store_items(tx, "invitation", &[(invitation, new.encode())]).await?;
        apply(tx, difference(&old, &new)).await
    }
}

impl Store {
    /// Where a case's time has gone so far (to its last resolution if it
    /// is resolved, else to `now`). Staff only: customers do not see it.
    pub async fn case_time_split(
        &self,
        by: &kept_core::permissions::Principal,
        case: CaseId,
        now: Timestamp,
    ) -> Result<kept_core::metrics::TimeSplit> {
        by.require_staff()?;
        self.get_case(by, case).await?;
        let mut tx = self.db.begin_read().await?;
        let books = self.books(&mut tx).await?;
        let loaded = load(&mut tx, &[case.0], BTreeMap::new()).await?;
        drop(tx);
        let Some(l) = loaded.get(&case.0) else {
            return Err(kept_core::DomainError::NotFound { entity: "case" }.into());
        };
        let created_at = l.created_at.unwrap_or(now);
        // Up to the resolution if the case is resolved now, else up to now.
        let end = match l.statuses.last() {
            Some((at, Status::Solved | Status::Closed)) => *at,
            _ => now,
        };
        let input = l.input(&books, created_at, false);
        Ok(kept_core::metrics::time_split(&input, end.max(created_at)))
    }
}
