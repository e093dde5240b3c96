//! Turning raw request values into domain values, each error naming its field.

use crate::error::ApiError;
use jiff::Timestamp;
use kept_core::FieldError;
use kept_core::cases::{CasePatch, Channel, Priority, Status};
use kept_core::ids::{AccountId, TeamId, UserId};
use kept_core::permissions::Principal;
use kept_core::values::{Slug, Subject};
use kept_store::{AssigneeFilter, CaseFilter};
use serde::Deserialize;
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};

pub fn opt<T>(raw: Option<&str>, parse: impl Fn(&str) -> Result<T, FieldError>) -> Result<Option<T>, ApiError> {
    raw.map(|r| parse(r).map_err(ApiError::from)).transpose()
}

/// A comma-separated list (`status=open,pending`); empty items are ignored.
pub fn list<T>(raw: Option<&str>, parse: impl Fn(&str) -> Result<T, FieldError>) -> Result<Vec<T>, ApiError> {
    raw.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).map_err(ApiError::from))
        .collect()
}

/// An RFC 3339 instant with an offset (`2024-06-03T09:00:00Z`, `…-04:00`).
pub fn instant(field: &str, raw: &str) -> Result<Timestamp, FieldError> {
    raw.trim().parse::<Timestamp>().map_err(|_| {
        FieldError::new("invalid_time", field, "must be an RFC 3339 time with an offset, like 2024-06-03T09:00:00Z")
    })
}

pub fn tags(raw: &[String]) -> Result<BTreeSet<Slug>, ApiError> {
    raw.iter().enumerate().map(|(i, t)| Slug::parse(&format!("tags[{i}]"), t).map_err(ApiError::from)).collect()
}

/// Filters shared by the case list of the API and the agent queue.
#[derive(Debug, Default, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Comma-separated statuses, e.g. `open,pending`.
    pub status: Option<String>,
    pub team_id: Option<i64>,
    /// A user id, `me`, or `none` for unassigned cases.
    pub assignee_id: Option<String>,
    pub account_id: Option<i64>,
    pub requester_id: Option<i64>,
    /// Comma-separated priorities, e.g. `high,urgent`.
    pub priority: Option<String>,
    pub channel: Option<String>,
    pub tag: Option<String>,
    /// Cases created at or after this instant (RFC 3339).
    pub created_after: Option<String>,
    /// Cases created before this instant (RFC 3339).
    pub created_before: Option<String>,
    /// `created_at`, `updated_at` or `priority`; prefix `-` for descending. Default `-updated_at`.
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

impl CaseQuery {
    pub fn filter(&self, by: &Principal) -> Result<CaseFilter, ApiError> {
        let assignee = match self.assignee_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("me") => Some(AssigneeFilter::User(by.user_id)),
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some(id) => Some(AssigneeFilter::User(UserId(id.parse().map_err(|_| {
                ApiError::bad_request("invalid_query", "assignee_id", "must be a user id, 'me' or 'none'")
            })?))),
        };
        Ok(CaseFilter {
            statuses: list(self.status.as_deref(), |s| Status::parse("status", s))?,
            team_id: self.team_id.map(TeamId),
            assignee,
            account_id: self.account_id.map(AccountId),
            requester_id: self.requester_id.map(UserId),
            priorities: list(self.priority.as_deref(), |s| Priority::parse("priority", s))?,
            channel: opt(self.channel.as_deref().filter(|c| !c.is_empty()), |s| Channel::parse("channel", s))?,
            tag: opt(self.tag.as_deref().filter(|t| !t.is_empty()), |s| Slug::parse("tag", s))?,
            created_after: opt(self.created_after.as_deref().filter(|t| !t.is_empty()), |s| {
                instant("created_after", s)
            })?,
            created_before: opt(self.created_before.as_deref().filter(|t| !t.is_empty()), |s| {
                instant("created_before", s)
            })?,
            parent_case_id: None,
        })
    }
}

/// The fields of a case that can change, as strings from a form or JSON.
#[derive(Debug, Default, Clone)]
pub struct RawPatch<'a> {
    pub subject: Option<&'a str>,
    pub status: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub team_id: Option<i64>,
    pub assignee_id: Option<Option<i64>>,
    pub case_type: Option<&'a str>,
    pub tags: Option<&'a [String]>,
}

impl RawPatch<'_> {
    pub fn parse(&self) -> Result<CasePatch, ApiError> {
        Ok(CasePatch {
            subject: opt(self.subject, |s| Subject::parse("subject", s))?,
            status: opt(self.status, |s| Status::parse("status", s))?,
            priority: opt(self.priority, |s| Priority::parse("priority", s))?,
            team_id: self.team_id.map(TeamId),
            assignee_id: self.assignee_id.map(|a| a.map(UserId)),
            case_type: opt(self.case_type, |s| Slug::parse("case_type", s))?,
            tags: self.tags.map(tags).transpose()?,
        })
    }
}
