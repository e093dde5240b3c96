//! /api/v1/teams, /accounts and the raw event log.

use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::parse::opt;
use super::types::{
    AccountList, AccountResponse, EventList, EventResponse, TeamList, TeamResponse, UserList, UserResponse,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kept_core::ids::{AccountId, EventId, TeamId, UserId};
use kept_core::values::{EmailDomain, Name, Slug};
use kept_store::{AccountPatch, NewAccount, NewTeam, TeamPatch, TimelineEntry};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    pub name: String,
    /// An internal team serves other teams (default false).
    #[serde(default)]
    pub internal: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamRequest {
    pub name: Option<String>,
    pub internal: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub name: String,
    /// e.g. standard, premium, enterprise. Default standard.
    pub tier: Option<String>,
    #[serde(default)]
    pub domains: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountRequest {
    pub name: Option<String>,
    pub tier: Option<String>,
    /// Replaces all domains.
    pub domains: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Part of the name.
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// Default 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

fn id_cursor(raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.filter(|c| !c.is_empty())
        .map(|c| {
            c.parse()
                .map_err(|_| ApiError::bad_request("invalid_cursor", "cursor", "is not a cursor from a previous page"))
        })
        .transpose()
}

fn domains(raw: &[String]) -> ApiResult<Vec<EmailDomain>> {
    raw.iter()
        .enumerate()
        .map(|(i, d)| EmailDomain::parse(&format!("domains[{i}]"), d).map_err(ApiError::from))
        .collect()
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "organisation", responses((status = 200, body = TeamList), (status = 404, body = ErrorBody)))]
pub async fn list_teams(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TeamList>> {
    let teams = state.store.list_teams(&caller.principal).await?;
    Ok(Json(TeamList { teams: teams.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "organisation", request_body = CreateTeamRequest,
    responses((status = 404, body = ErrorBody), (status = 201, body = TeamResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTeamRequest>,
) -> ApiResult<(StatusCode, Json<TeamResponse>)> {
    let new = NewTeam { name: Name::parse("name", &req.name)?, internal: req.internal };
    Ok((StatusCode::CREATED, Json(state.store.create_team(&caller.principal, new, state.now()).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "organisation", params(("id" = i64, Path)), responses((status = 200, body = TeamResponse), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TeamResponse>> {
    Ok(Json(state.store.get_team(&caller.principal, TeamId(id)).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = UpdateTeamRequest,
    responses((status = 200, body = TeamResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateTeamRequest>,
) -> ApiResult<Json<TeamResponse>> {
    let patch = TeamPatch { name: opt(req.name.as_deref(), |s| Name::parse("name", s))?, internal: req.internal };
    Ok(Json(state.store.update_team(&caller.principal, TeamId(id), patch, state.now()).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}/members", tag = "organisation", params(("id" = i64, Path)), responses((status = 200, body = UserList), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<UserList>> {
    state.store.get_team(&caller.principal, TeamId(id)).await?;
    let members = state.store.team_members(&caller.principal, TeamId(id)).await?;
    Ok(Json(UserList { users: members.into_iter().map(UserResponse::from).collect(), next_cursor: None }))
}

#[utoipa::path(put, path = "/api/v1/teams/{id}/members/{user_id}", tag = "organisation", params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, user)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state.store.add_team_member(&caller.principal, TeamId(id), UserId(user), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}/members/{user_id}", tag = "organisation", params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, user)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state.store.remove_team_member(&caller.principal, TeamId(id), UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "organisation", params(PageQuery), responses((status = 200, body = AccountList), (status = 404, body = ErrorBody)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<AccountList>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let after = id_cursor(q.cursor.as_deref())?.map(AccountId);
    let accounts = state.store.list_accounts(&caller.principal, q.q.as_deref(), after, limit).await?;
    let next_cursor = (accounts.len() == limit as usize).then(|| accounts.last().map(|a| a.id.to_string())).flatten();
    Ok(Json(AccountList { accounts: accounts.into_iter().map(Into::into).collect(), next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "organisation", request_body = CreateAccountRequest,
    responses((status = 404, body = ErrorBody), (status = 201, body = AccountResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateAccountRequest>,
) -> ApiResult<(StatusCode, Json<AccountResponse>)> {
    let new = NewAccount {
        name: Name::parse("name", &req.name)?,
        tier: Slug::parse("tier", req.tier.as_deref().unwrap_or("standard"))?,
        domains: domains(&req.domains)?,
    };
    Ok((StatusCode::CREATED, Json(state.store.create_account(&caller.principal, new, state.now()).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "organisation", params(("id" = i64, Path)), responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AccountResponse>> {
    Ok(Json(state.store.get_account(&caller.principal, AccountId(id)).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = UpdateAccountRequest,
    responses((status = 200, body = AccountResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateAccountRequest>,
) -> ApiResult<Json<AccountResponse>> {
    let patch = AccountPatch {
        name: opt(req.name.as_deref(), |s| Name::parse("name", s))?,
        tier: opt(req.tier.as_deref(), |s| Slug::parse("tier", s))?,
        domains: req.domains.as_deref().map(domains).transpose()?,
    };
    Ok(Json(state.store.update_account(&caller.principal, AccountId(id), patch, state.now()).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    pub cursor: Option<String>,
    /// 1 to 10,000, default 1,000.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

/// The raw, append-only event log of every case in order (admins): for
/// audits, exports and rebuilding metrics elsewhere.
#[utoipa::path(get, path = "/api/v1/events", tag = "cases", params(LogQuery), responses((status = 404, body = ErrorBody), (status = 200, body = EventList), (status = 403, body = ErrorBody)))]
pub async fn event_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<Json<EventList>> {
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let after = id_cursor(q.cursor.as_deref())?.map(EventId);
    let events = state.store.event_log(&caller.principal, after, limit).await?;
    let next_cursor = (events.len() == limit as usize).then(|| events.last().map(|e| e.id.to_string())).flatten();
    let events =
        events.into_iter().map(|event| EventResponse::from(TimelineEntry { event, actor_name: None })).collect();
    Ok(Json(EventList { events, next_cursor }))
}
