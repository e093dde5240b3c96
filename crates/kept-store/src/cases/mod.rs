//! Cases: opening them, changing them, their messages, events, lists and search.
//! Every use case here is one transaction: rule checks (kept-core), the
//! current-state rows, the events, the search index — all or nothing.

mod create;
pub(crate) mod events;
pub(crate) mod history;
mod list;
mod messages;
mod update;

pub use create::IdempotencyKey;
pub use events::TimelineEntry;
pub use history::{CaseHistory, HistoryAction, HistoryStep};
pub use list::{AssigneeFilter, CaseFilter, CaseList, CaseSort, Cursor, SortDirection, SortKey};
pub use messages::{MessageOutcome, MessageView, NewMessage};

use crate::db::{Arg, DbRow, Sql, SqlBuilder, Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{Case, Channel, Priority, Status};
use kept_core::ids::{AccountId, CaseId, TeamId, UserId};
use kept_core::permissions::{CaseScope, Principal};
use kept_core::values::{MessageBody, Slug, Subject};
use std::collections::{BTreeMap, BTreeSet};

/// A case to open. Fields a contact may not choose are ignored for them
/// (their requester and account are themselves).
#[derive(Debug, Clone)]
pub struct NewCase {
    pub subject: Subject,
    pub body: MessageBody,
    pub requester_id: Option<UserId>,
    pub account_id: Option<AccountId>,
    pub team_id: Option<TeamId>,
    pub assignee_id: Option<UserId>,
    pub channel: Channel,
    pub case_type: Option<Slug>,
    pub priority: Option<Priority>,
    pub tags: BTreeSet<Slug>,
}

/// A request from one team to another on behalf of a case.
#[derive(Debug, Clone)]
pub struct NewInternalRequest {
    pub team_id: TeamId,
    pub subject: Subject,
    pub body: MessageBody,
    pub priority: Option<Priority>,
}

/// A case with the names a reader needs next to the ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDetail {
    pub case: Case,
    pub account_name: String,
    pub account_tier: String,
    pub requester_name: String,
    pub requester_email: String,
    pub team_name: String,
    pub assignee_name: Option<String>,
    pub requesting_team_name: Option<String>,
    /// The nearest deadline of the case's owed promises (past if overdue).
    pub next_breach_at: Option<Timestamp>,
}

pub(crate) const CASE_SELECT: &str = "SELECT c.id, c.subject, c.status, c.priority, c.channel, c.case_type, \
    c.account_id, c.requester_id, c.team_id, c.assignee_id, c.parent_case_id, c.requesting_team_id, \
    c.follow_up_of, c.created_by, c.created_at, c.updated_at, c.solved_at, c.closed_at, c.next_breach_at, \
    a.name AS account_name, a.tier AS account_tier, r.name AS requester_name, r.email AS requester_email, \
    t.name AS team_name, s.name AS assignee_name, rt.name AS requesting_team_name \
    FROM cases c \
    JOIN accounts a ON a.id = c.account_id \
    JOIN users r ON r.id = c.requester_id \
    JOIN teams t ON t.id = c.team_id \
    LEFT JOIN users s ON s.id = c.assignee_id \
    LEFT JOIN teams rt ON rt.id = c.requesting_team_id";

fn corrupt<E>(_: E) -> StoreError {
    StoreError::Corrupt("cases".into())
}

pub(crate) fn case_from_row(row: &DbRow) -> Result<Case> {
    Ok(Case {
        id: CaseId(row.int("id")?),
        subject: Subject::parse("subject", &row.text("subject")?).map_err(corrupt)?,
        status: Status::parse("status", &row.text("status")?).map_err(corrupt)?,
        priority: Priority::from_rank(row.int("priority")?).ok_or_else(|| corrupt(()))?,
        channel: Channel::parse("channel", &row.text("channel")?).map_err(corrupt)?,
        case_type: Slug::parse("case_type", &row.text("case_type")?).map_err(corrupt)?,
        account_id: AccountId(row.int("account_id")?),
        requester_id: UserId(row.int("requester_id")?),
        team_id: TeamId(row.int("team_id")?),
        assignee_id: row.opt_int("assignee_id")?.map(UserId),
        tags: BTreeSet::new(),
        parent_case_id: row.opt_int("parent_case_id")?.map(CaseId),
        requesting_team_id: row.opt_int("requesting_team_id")?.map(TeamId),
        follow_up_of: row.opt_int("follow_up_of")?.map(CaseId),
        created_by: row.opt_int("created_by")?.map(UserId),
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        solved_at: row.opt_time("solved_at")?,
        closed_at: row.opt_time("closed_at")?,
    })
}

pub(crate) fn detail_from_row(row: &DbRow) -> Result<CaseDetail> {
    Ok(CaseDetail {
        case: case_from_row(row)?,
        account_name: row.text("account_name")?,
        account_tier: row.text("account_tier")?,
        requester_name: row.text("requester_name")?,
        requester_email: row.text("requester_email")?,
        team_name: row.text("team_name")?,
        assignee_name: row.opt_text("assignee_name")?,
        requesting_team_name: row.opt_text("requesting_team_name")?,
        next_breach_at: row.opt_time("next_breach_at")?,
    })
}

/// Fills in the tags of `cases` with one query.
pub(crate) async fn attach_tags(
    rows: Vec<DbRow>,
    fetch: impl AsyncFnOnce(Sql, Vec<crate::db::Arg>) -> Result<Vec<DbRow>>,
) -> Result<Vec<CaseDetail>> {
    let mut details = rows.iter().map(detail_from_row).collect::<Result<Vec<_>>>()?;
    if details.is_empty() {
        return Ok(details);
    }
    let mut q = SqlBuilder::new("SELECT case_id, tag FROM case_tags WHERE case_id IN ");
    q.bind_list(details.iter().map(|d| d.case.id.0)).push(" ORDER BY tag");
    let (sql, args) = q.finish();
    let mut tags: BTreeMap<i64, BTreeSet<Slug>> = BTreeMap::new();
    for row in fetch(sql, args).await? {
        tags.entry(row.int("case_id")?).or_default().insert(Slug::parse("tag", &row.text("tag")?).map_err(corrupt)?);
    }
    for d in &mut details {
        d.case.tags = tags.remove(&d.case.id.0).unwrap_or_default();
    }
    Ok(details)
}

/// Loads a case inside a write transaction, locked until commit, and checks
/// that `by` may see it (a case one may not see does not exist).
pub(crate) async fn load_for_update(tx: &mut Tx, by: &Principal, id: CaseId) -> Result<Case> {
    let lock = tx.for_update();
    Ok(load_checked(tx, by, id, lock).await?.0)
}

/// [`load_for_update`] and, from the same row, the time to stamp the
/// change with ([`case_now`]).
pub(crate) async fn load_for_change(
    tx: &mut Tx,
    by: &Principal,
    id: CaseId,
    now: Timestamp,
) -> Result<(Case, Timestamp)> {
    let lock = tx.for_update();
    let (case, clocks_at) = load_checked(tx, by, id, lock).await?;
    let now = stamp(now, case.updated_at, clocks_at);
    Ok((case, now))
}

/// Loads a case and checks that `by` may see it, without locking it (reads).
pub(crate) async fn load_visible(tx: &mut Tx, by: &Principal, id: CaseId, lock: &str) -> Result<Case> {
    Ok(load_checked(tx, by, id, lock).await?.0)
}

/// The case, with its tags, and when its clocks were last evaluated.
async fn load_checked(tx: &mut Tx, by: &Principal, id: CaseId, lock: &str) -> Result<(Case, Option<Timestamp>)> {
    let sql = format!(
        "SELECT id, subject, status, priority, channel, case_type, account_id, requester_id, team_id, assignee_id, \
         parent_case_id, requesting_team_id, follow_up_of, created_by, created_at, updated_at, solved_at, closed_at, clocks_at \
         FROM cases c WHERE id = $1{lock}"
    );
    let row = tx.fetch_optional(Sql::built(sql), args![id.0]).await?;
    let Some(row) = row else { return Err(DomainError::NotFound { entity: "case" }.into()) };
    let mut case = case_from_row(&row)?;
    if !by.can_see_case(CaseScope::from(&case)) {
        return Err(DomainError::NotFound { entity: "case" }.into());
    }
    for row in tx.fetch_all("SELECT tag FROM case_tags WHERE case_id = $1", args![id.0]).await? {
        case.tags.insert(Slug::parse("tag", &row.text("tag")?).map_err(corrupt)?);
    }
    Ok((case, row.opt_time("clocks_at")?))
}

/// Takes the case's row lock (PostgreSQL; SQLite's write transaction already
/// excludes other writers) without the visibility checks of a person.
pub(crate) async fn lock_case(tx: &mut Tx, id: CaseId) -> Result<()> {
    let sql = format!("SELECT id FROM cases WHERE id = $1{}", tx.for_update());
    tx.fetch_optional(Sql::built(sql), args![id.0]).await?.ok_or(DomainError::NotFound { entity: "case" })?;
    Ok(())
}

/// The time to stamp a change to `case` with: `now`, but never before the
/// case's last change or clock evaluation. Replicas' clocks differ by a few
/// milliseconds; without this, a change could land "before" a breach that
/// another replica already recorded, and the clocks would contradict the log.
pub(crate) async fn case_now(tx: &mut Tx, case: CaseId, now: Timestamp) -> Result<Timestamp> {
    let row = tx.fetch_optional("SELECT updated_at, clocks_at FROM cases WHERE id = $1", args![case.0]).await?;
    let Some(row) = row else { return Ok(now) };
    Ok(stamp(now, row.time("updated_at")?, row.opt_time("clocks_at")?))
}

fn stamp(now: Timestamp, updated_at: Timestamp, clocks_at: Option<Timestamp>) -> Timestamp {
    now.max(updated_at).max(clocks_at.unwrap_or(now))
}

/// Reads a case with its names inside a transaction (after a change).
pub(crate) async fn detail_in_tx(tx: &mut Tx, id: CaseId) -> Result<CaseDetail> {
    let sql = Sql::built(format!("{CASE_SELECT} WHERE c.id = $1"));
    let rows = tx.fetch_all(sql, args![id.0]).await?;
    let mut details = attach_tags(rows, async |sql, args| tx.fetch_all(sql, args).await).await?;
    details.pop().ok_or(DomainError::NotFound { entity: "case" }.into())
}

/// [`detail_in_tx`] of a case whose tags the caller holds: it loaded them
/// with the case and wrote any change to them itself.
pub(crate) async fn detail_tagged(tx: &mut Tx, id: CaseId, tags: BTreeSet<Slug>) -> Result<CaseDetail> {
    let sql = Sql::built(format!("{CASE_SELECT} WHERE c.id = $1"));
    let row = tx.fetch_optional(sql, args![id.0]).await?.ok_or(DomainError::NotFound { entity: "case" })?;
    let mut detail = detail_from_row(&row)?;
    detail.case.tags = tags;
    Ok(detail)
}

/// Writes the current state of `case` (after its events were decided).
/// Writes the columns of `case` that differ from `before`, or all of them
/// without it (an import's replayed case). SQLite rewrites the entries of
/// every index on a column an UPDATE sets, changed or not, and the cases
/// table has seven such indexes; a reply changes only `updated_at`.
pub(crate) async fn save_case(tx: &mut Tx, case: &Case, before: Option<&Case>, tags_changed: bool) -> Result<()> {
    let was = before.unwrap_or(case);
    let columns: [(&str, bool, Arg); 9] = [
        ("subject", was.subject != case.subject, case.subject.as_str().into()),
        ("status", was.status != case.status, case.status.as_str().into()),
        ("priority", was.priority != case.priority, case.priority.rank().into()),
        ("case_type", was.case_type != case.case_type, case.case_type.as_str().into()),
        ("team_id", was.team_id != case.team_id, case.team_id.0.into()),
        ("assignee_id", was.assignee_id != case.assignee_id, case.assignee_id.map(|u| u.0).into()),
        ("updated_at", was.updated_at != case.updated_at, case.updated_at.into()),
        ("solved_at", was.solved_at != case.solved_at, case.solved_at.into()),
        ("closed_at", was.closed_at != case.closed_at, case.closed_at.into()),
    ];
    let sets: Vec<(&str, Arg)> =
        columns.into_iter().filter(|(_, changed, _)| before.is_none() || *changed).map(|(c, _, v)| (c, v)).collect();
    if !sets.is_empty() {
        let mut q = SqlBuilder::new("UPDATE cases SET ");
        for (i, (column, value)) in sets.into_iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).push(column).push(" = ").bind(value);
        }
        q.push(" WHERE id = ").bind(case.id.0);
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    if tags_changed {
        write_tags(tx, case.id, &case.tags).await?;
    }
    Ok(())
}

pub(crate) async fn write_tags(tx: &mut Tx, id: CaseId, tags: &BTreeSet<Slug>) -> Result<()> {
    tx.execute("DELETE FROM case_tags WHERE case_id = $1", args![id.0]).await?;
    insert_tags(tx, id, tags).await
}

pub(crate) async fn insert_tags(tx: &mut Tx, id: CaseId, tags: &BTreeSet<Slug>) -> Result<()> {
    for tag in tags {
        tx.execute("INSERT INTO case_tags (case_id, tag) VALUES ($1, $2)", args![id.0, tag.as_str()]).await?;
    }
    Ok(())
}

pub use kept_core::cases::MAX_TAGS;

pub(crate) fn check_tags(tags: &BTreeSet<Slug>) -> Result<(), DomainError> {
    if tags.len() > MAX_TAGS {
        return Err(DomainError::invalid("too_many", "tags", format!("a case carries at most {MAX_TAGS} tags")));
    }
    Ok(())
}

/// Checks that `assignee` is an active staff member of `team`.
pub(crate) async fn check_assignee(tx: &mut Tx, assignee: UserId, team: TeamId) -> Result<()> {
    let row = tx
        .fetch_optional(
            "SELECT u.active, u.role, EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = u.id AND m.team_id = $2) AS member \
             FROM users u WHERE u.id = $1",
            args![assignee.0, team.0],
        )
        .await?;
    let ok = match row {
        Some(r) => r.flag("active")? && r.text("role")? != "contact" && r.flag("member")?,
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "invalid_assignee",
            "assignee_id",
            "the assignee must be an active member of the case's team",
        )
        .into())
    }
}

/// Checks that a team exists.
pub(crate) async fn check_team(tx: &mut Tx, team: TeamId, field: &str) -> Result<bool> {
    let row = tx.fetch_optional("SELECT internal FROM teams WHERE id = $1", args![team.0]).await?;
    match row {
        Some(r) => r.flag("internal"),
        None => Err(DomainError::invalid("unknown_team", field, format!("there is no team {team}")).into()),
    }
}
