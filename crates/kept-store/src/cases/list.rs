//! Reading cases: one, a filtered and sorted page (keyset pagination), and
//! full-text search. Lists apply the same visibility rule as
//! `Principal::can_see_case`, in SQL.

use super::{CASE_SELECT, CaseDetail, attach_tags};
use crate::Store;
use crate::db::{Backend, Sql, SqlBuilder, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{Channel, Priority, Status};
use kept_core::ids::{AccountId, CaseId, TeamId, UserId};
use kept_core::people::Role;
use kept_core::permissions::{CaseScope, Principal};
use kept_core::values::Slug;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    CreatedAt,
    #[default]
    UpdatedAt,
    Priority,
    /// The nearest promise deadline; cases without one come last.
    NextBreach,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            SortKey::CreatedAt => "c.created_at",
            SortKey::UpdatedAt => "c.updated_at",
            SortKey::Priority => "c.priority",
            SortKey::NextBreach => "COALESCE(c.next_breach_at, 9000000000000000)",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::CreatedAt => "created_at",
            SortKey::UpdatedAt => "updated_at",
            SortKey::Priority => "priority",
            SortKey::NextBreach => "next_breach_at",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaseSort {
    pub key: SortKey,
    pub direction: SortDirection,
}

impl CaseSort {
    /// Parses `updated_at`, `-updated_at` (descending), `priority`, ….
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let (direction, name) = match raw.strip_prefix('-') {
            Some(rest) => (SortDirection::Desc, rest),
            None => (SortDirection::Asc, raw),
        };
        let key = match name {
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            "priority" => SortKey::Priority,
            "next_breach_at" => SortKey::NextBreach,
            _ => {
                return Err(DomainError::invalid(
                    "invalid_sort",
                    "sort",
                    "must be created_at, updated_at, priority or next_breach_at, with '-' for descending",
                ));
            }
        };
        Ok(Self { key, direction })
    }

    pub fn as_param(self) -> String {
        let sign = if self.direction == SortDirection::Desc { "-" } else { "" };
        format!("{sign}{}", self.key.as_str())
    }
}

/// Where the previous page ended: the sort it belongs to, and the last row's
/// sort value and id. Rendered as a short opaque-looking string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub sort: CaseSort,
    pub value: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.sort.as_param(), self.value, self.id)
    }

    /// Parses a cursor and checks it belongs to `sort`.
    pub fn decode(raw: &str, sort: CaseSort) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::invalid("invalid_cursor", "cursor", "is not a cursor from a previous page with the same sort")
        };
        let mut parts = raw.rsplitn(3, '.');
        let id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
        let value = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
        let sort_part = parts.next().ok_or_else(invalid)?;
        if CaseSort::parse(sort_part).map_err(|_| invalid())? != sort {
            return Err(invalid());
        }
        Ok(Self { sort, value, id })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    User(UserId),
    Unassigned,
}

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<Status>,
    pub team_id: Option<TeamId>,
    pub assignee: Option<AssigneeFilter>,
    pub account_id: Option<AccountId>,
    pub requester_id: Option<UserId>,
    pub priorities: Vec<Priority>,
    pub channel: Option<Channel>,
    pub tag: Option<Slug>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    /// Internal requests raised for this case.
    pub parent_case_id: Option<CaseId>,
}

/// One page of cases and the cursor of the next, if there is one.
#[derive(Debug, Clone)]
pub struct CaseList {
    pub cases: Vec<CaseDetail>,
    pub next_cursor: Option<String>,
}

/// Appends the visibility rule of `by` (mirror of `Principal::can_see_case`).
fn visible_to(q: &mut SqlBuilder, by: &Principal) {
    match by.role {
        Role::Admin => {}
        Role::Manager | Role::Agent if by.team_ids.is_empty() => {
            q.push(" AND 1 = 0");
        }
        Role::Manager | Role::Agent => {
            q.push(" AND (c.team_id IN ").bind_list(by.team_ids.iter().map(|t| t.0));
            q.push(" OR c.requesting_team_id IN ").bind_list(by.team_ids.iter().map(|t| t.0)).push(")");
        }
        Role::Contact => {
            q.push(" AND c.requesting_team_id IS NULL AND c.account_id = ").bind(by.account_id.map_or(-1, |a| a.0));
        }
    }
}

fn apply_filter(q: &mut SqlBuilder, f: &CaseFilter) {
    if !f.statuses.is_empty() {
        q.push(" AND c.status IN ").bind_list(f.statuses.iter().map(|s| s.as_str()));
    }
    if !f.priorities.is_empty() {
        q.push(" AND c.priority IN ").bind_list(f.priorities.iter().map(|p| p.rank()));
    }
    if let Some(t) = f.team_id {
        q.push(" AND c.team_id = ").bind(t.0);
    }
    match f.assignee {
        Some(AssigneeFilter::User(u)) => {
            q.push(" AND c.assignee_id = ").bind(u.0);
        }
        Some(AssigneeFilter::Unassigned) => {
            q.push(" AND c.assignee_id IS NULL");
        }
        None => {}
    }
    if let Some(a) = f.account_id {
        q.push(" AND c.account_id = ").bind(a.0);
    }
    if let Some(r) = f.requester_id {
        q.push(" AND c.requester_id = ").bind(r.0);
    }
    if let Some(ch) = f.channel {
        q.push(" AND c.channel = ").bind(ch.as_str());
    }
    if let Some(tag) = &f.tag {
        q.push(" AND EXISTS (SELECT 1 FROM case_tags ct WHERE ct.case_id = c.id AND ct.tag = ")
            .bind(tag.as_str())
            .push(")");
    }
    if let Some(p) = f.parent_case_id {
        q.push(" AND c.parent_case_id = ").bind(p.0);
    }
    if let Some(t) = f.created_after {
        q.push(" AND c.created_at >= ").bind(t);
    }
    if let Some(t) = f.created_before {
        q.push(" AND c.created_at < ").bind(t);
    }
}

/// The cursor's bound and the order, after the conditions.
fn paged(q: &mut SqlBuilder, sort: CaseSort, cursor: Option<Cursor>) {
    let column = sort.key.column();
    let (cmp, order) = match sort.direction {
        SortDirection::Asc => (">", "ASC"),
        SortDirection::Desc => ("<", "DESC"),
    };
    if let Some(c) = cursor {
        q.push(&format!(" AND ({column}, c.id) {cmp} (")).bind(c.value).push(", ").bind(c.id).push(")");
    }
    q.push(&format!(" ORDER BY {column} {order}, c.id {order}"));
}

/// One partition's page: the filter, the cursor, the order, the limit.
fn page_of(q: &mut SqlBuilder, filter: &CaseFilter, sort: CaseSort, cursor: Option<Cursor>, limit: u32) {
    apply_filter(q, filter);
    paged(q, sort, cursor);
    q.push(" LIMIT ").bind(i64::from(limit) + 1);
}

/// A team member's queue by last update (the default sort) is read per
/// (team, status): the index on (team_id, status, updated_at) hands each
/// partition's cases in order, so each stops after a page, and only those
/// pages are sorted together. Read as one query, the visibility rule's OR
/// (the teams' cases, or the requests they raised) made SQLite and
/// PostgreSQL sort every visible case matching the filter: the open-case
/// queue took 5 ms with a few hundred open cases and 22 ms with 10,000
/// (`kept bench load`, BENCHMARKS.md). Returns the teams and statuses to
/// read, or None where the plain query is right.
fn team_partitions(by: &Principal, filter: &CaseFilter, sort: CaseSort) -> Option<(Vec<TeamId>, Vec<Status>)> {
    let restricted = matches!(by.role, Role::Manager | Role::Agent) && !by.team_ids.is_empty();
    if !restricted || sort.key != SortKey::UpdatedAt {
        return None;
    }
    let teams = by.team_ids.iter().copied().filter(|t| filter.team_id.is_none_or(|f| f == *t)).collect();
    let statuses = if filter.statuses.is_empty() { Status::ALL.to_vec() } else { filter.statuses.clone() };
    Some((teams, statuses))
}

fn sort_value(d: &CaseDetail, key: SortKey) -> i64 {
    match key {
        SortKey::CreatedAt => d.case.created_at.as_millisecond(),
        SortKey::UpdatedAt => d.case.updated_at.as_millisecond(),
        SortKey::Priority => d.case.priority.rank(),
        SortKey::NextBreach => d.next_breach_at.map_or(9_000_000_000_000_000, |t| t.as_millisecond()),
    }
}

impl Store {
    /// One case, if `by` may see it.
    pub async fn get_case(&self, by: &Principal, id: CaseId) -> Result<CaseDetail> {
        let rows = self.db.fetch_all(Sql::built(format!("{CASE_SELECT} WHERE c.id = $1")), args![id.0]).await?;
        let detail = attach_tags(rows, async |sql, args| self.db.fetch_all(sql, args).await).await?.pop();
        match detail {
            Some(d) if by.can_see_case(CaseScope::from(&d.case)) => Ok(d),
            _ => Err(DomainError::NotFound { entity: "case" }.into()),
        }
    }

    pub async fn list_cases(
        &self,
        by: &Principal,
        filter: &CaseFilter,
        sort: CaseSort,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<CaseList> {
        let limit = limit.clamp(1, 200);
        let mut q = SqlBuilder::new(CASE_SELECT);
        match team_partitions(by, filter, sort) {
            Some((teams, statuses)) => {
                q.push(" WHERE c.id IN (");
                let mut first = true;
                for team in &teams {
                    for status in &statuses {
                        q.push(if first { "" } else { " UNION ALL " });
                        first = false;
                        q.push("SELECT id FROM (SELECT c.id FROM cases c WHERE c.team_id = ").bind(team.0);
                        q.push(" AND c.status = ").bind(status.as_str());
                        page_of(&mut q, filter, sort, cursor, limit);
                        q.push(") AS p");
                    }
                }
                // Internal requests the teams raised (few: no ordered index).
                q.push(if first { "" } else { " UNION ALL " });
                q.push("SELECT id FROM (SELECT c.id FROM cases c WHERE c.requesting_team_id IN ");
                q.bind_list(by.team_ids.iter().map(|t| t.0));
                page_of(&mut q, filter, sort, cursor, limit);
                q.push(") AS r)");
                paged(&mut q, sort, None);
            }
            None => {
                q.push(" WHERE 1 = 1");
                visible_to(&mut q, by);
                apply_filter(&mut q, filter);
                paged(&mut q, sort, cursor);
            }
        }
        q.push(" LIMIT ").bind(i64::from(limit) + 1);
        let (sql, args) = q.finish();
        let rows = self.db.fetch_all(sql, args).await?;
        let mut cases = attach_tags(rows, async |sql, args| self.db.fetch_all(sql, args).await).await?;
        let next_cursor = if cases.len() > limit as usize {
            cases.truncate(limit as usize);
            cases.last().map(|d| Cursor { sort, value: sort_value(d, sort.key), id: d.case.id.0 }.encode())
        } else {
            None
        };
        Ok(CaseList { cases, next_cursor })
    }

    /// Cases whose subject or a message matches every word of `text`
    /// (contacts: public messages only), most recently updated first.
    pub async fn search_cases(&self, by: &Principal, text: &str, limit: u32) -> Result<Vec<CaseDetail>> {
        let words = search_words(text);
        if words.is_empty() {
            return Err(DomainError::invalid("required", "q", "give at least one word to search for").into());
        }
        let mut q = SqlBuilder::new(CASE_SELECT);
        match self.backend() {
            Backend::Sqlite => {
                let fts: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
                q.push(" WHERE c.id IN (SELECT case_id FROM search_docs WHERE search_docs MATCH ").bind(fts.join(" "));
                q.push(" AND (public = 1 OR ").bind(by.is_staff()).push("))");
            }
            Backend::Postgres => {
                let joined = words.join(" ");
                q.push(" WHERE (c.subject_tsv @@ plainto_tsquery('simple', ").bind(joined.clone()).push(")");
                q.push(" OR EXISTS (SELECT 1 FROM messages m WHERE m.case_id = c.id AND (m.public OR ")
                    .bind(by.is_staff());
                q.push(") AND m.body_tsv @@ plainto_tsquery('simple', ").bind(joined).push(")))");
            }
        }
        visible_to(&mut q, by);
        q.push(" ORDER BY c.updated_at DESC, c.id DESC LIMIT ").bind(i64::from(limit.clamp(1, 200)));
        let (sql, args) = q.finish();
        let rows = self.db.fetch_all(sql, args).await?;
        attach_tags(rows, async |sql, args| self.db.fetch_all(sql, args).await).await
    }
}

/// The words of a search, lower-cased: runs of letters and digits. Anything
/// else (quotes, operators) is a separator, so no input can change the
/// meaning of the query.
fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(16).map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_drop_every_operator() {
        assert_eq!(search_words("printer \"on\" OR fire* -x"), ["printer", "on", "or", "fire", "x"]);
        assert!(search_words(" ** ").is_empty());
    }

    #[test]
    fn a_cursor_round_trips_and_refuses_another_sort() {
        let sort = CaseSort::parse("-updated_at").unwrap();
        let c = Cursor { sort, value: 1_700_000_000_000, id: 42 };
        assert_eq!(Cursor::decode(&c.encode(), sort).unwrap(), c);
        assert!(Cursor::decode(&c.encode(), CaseSort::parse("created_at").unwrap()).is_err());
        assert!(Cursor::decode("garbage", sort).is_err());
        assert!(Cursor::decode("-updated_at.x.1", sort).is_err());
    }
}
