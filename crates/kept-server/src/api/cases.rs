//! /api/v1/cases: open, list, read, change cases; their messages, events and
//! internal requests; search.

use super::extract::{ApiJson, ApiJsonRaw, ApiPath, ApiQuery, Caller};
use super::parse::{CaseQuery, RawPatch, opt, tags};
use super::types::{CaseList, CaseResponse, EventList, MessageCreated, MessageList, double_option};
use crate::auth::secrets::digest;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kept_core::cases::{Channel, Priority, Status};
use kept_core::ids::{AccountId, CaseId, TeamId, UserId};
use kept_core::values::{MessageBody, Slug, Subject};
use kept_store::{CaseSort, Cursor, IdempotencyKey, NewCase, NewInternalRequest, NewMessage};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseRequest {
    pub subject: String,
    /// The first message: what the customer asks.
    pub message: String,
    /// The contact the case is for (staff must give it; contacts are themselves).
    pub requester_id: Option<i64>,
    /// Optional check: must be the requester's account.
    pub account_id: Option<i64>,
    /// Default: the oldest customer-facing team.
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// email, web, phone, chat or api. Default api.
    pub channel: Option<String>,
    /// Default question.
    pub case_type: Option<String>,
    /// low, normal, high or urgent. Default normal.
    pub priority: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCaseRequest {
    pub subject: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub team_id: Option<i64>,
    /// A user id, or null to unassign.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    pub case_type: Option<String>,
    /// Replaces all tags.
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    pub body: String,
    /// false for an internal note. Default true.
    pub public: Option<bool>,
    /// A status to set with the message, e.g. pending after asking a question.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInternalRequest {
    /// The team asked to help.
    pub team_id: i64,
    pub subject: String,
    pub message: String,
    /// Default: the priority of the case it serves.
    pub priority: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find in subjects and messages (all must match).
    pub q: String,
    /// 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

fn idempotency_key(headers: &HeaderMap, body: &[u8]) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else { return Ok(None) };
    let key = raw.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255);
    let key = key.ok_or_else(|| {
        ApiError::bad_request("invalid_header", "Idempotency-Key", "must be 1 to 255 visible ASCII characters")
    })?;
    Ok(Some(IdempotencyKey { key: key.to_owned(), fingerprint: digest(&String::from_utf8_lossy(body)) }))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = CreateCaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first case")),
    responses((status = 201, body = CaseResponse), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: ApiJsonRaw<CreateCaseRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, &body.raw)?;
    let req = body.value;
    let new = NewCase {
        subject: Subject::parse("subject", &req.subject)?,
        body: MessageBody::parse("message", &req.message)?,
        requester_id: req.requester_id.map(UserId),
        account_id: req.account_id.map(AccountId),
        team_id: req.team_id.map(TeamId),
        assignee_id: req.assignee_id.map(UserId),
        channel: opt(req.channel.as_deref(), |s| Channel::parse("channel", s))?.unwrap_or(Channel::Api),
        case_type: opt(req.case_type.as_deref(), |s| Slug::parse("case_type", s))?,
        priority: opt(req.priority.as_deref(), |s| Priority::parse("priority", s))?,
        tags: tags(&req.tags)?,
    };
    let (detail, created) = state.store.create_case(&caller.principal, new, state.now(), key).await?;
    let id = detail.case.id;
    let mut response =
        (StatusCode::CREATED, Json(CaseResponse::new(detail, caller.principal.is_staff()))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/cases/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if !created {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CaseList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Json<CaseList>> {
    let filter = q.filter(&caller.principal).map_err(bad_query)?;
    let sort = CaseSort::parse(q.sort.as_deref().unwrap_or("-updated_at")).map_err(|e| bad_query(e.into()))?;
    let cursor = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode(c, sort))
        .transpose()
        .map_err(|e| bad_query(e.into()))?;
    let page = state.store.list_cases(&caller.principal, &filter, sort, cursor, q.limit.unwrap_or(50)).await?;
    let staff = caller.principal.is_staff();
    Ok(Json(CaseList {
        cases: page.cases.into_iter().map(|d| CaseResponse::new(d, staff)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Malformed query parameters are a 400, whatever the domain calls them.
fn bad_query(mut e: ApiError) -> ApiError {
    e.status = StatusCode::BAD_REQUEST;
    e
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseResponse), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CaseResponse>> {
    let detail = state.store.get_case(&caller.principal, CaseId(id)).await?;
    Ok(Json(CaseResponse::new(detail, caller.principal.is_staff())))
}

#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)), request_body = UpdateCaseRequest,
    responses((status = 403, body = ErrorBody), (status = 200, body = CaseResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateCaseRequest>,
) -> ApiResult<Json<CaseResponse>> {
    let patch = RawPatch {
        subject: req.subject.as_deref(),
        status: req.status.as_deref(),
        priority: req.priority.as_deref(),
        team_id: req.team_id,
        assignee_id: req.assignee_id,
        case_type: req.case_type.as_deref(),
        tags: req.tags.as_deref(),
    }
    .parse()?;
    let detail = state.store.update_case(&caller.principal, CaseId(id), patch, state.now()).await?;
    Ok(Json(CaseResponse::new(detail, caller.principal.is_staff())))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/messages", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = MessageList), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<MessageList>> {
    let messages = state.store.case_messages(&caller.principal, CaseId(id)).await?;
    Ok(Json(MessageList { messages: messages.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/messages", tag = "cases", params(("id" = i64, Path)), request_body = CreateMessageRequest,
    responses((status = 201, body = MessageCreated), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CreateMessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageCreated>)> {
    let new = NewMessage {
        body: MessageBody::parse("body", &req.body)?,
        public: req.public.unwrap_or(true),
        status: opt(req.status.as_deref(), |s| Status::parse("status", s))?,
    };
    let out = state.store.add_message(&caller.principal, CaseId(id), new, state.now()).await?;
    let staff = caller.principal.is_staff();
    Ok((
        StatusCode::CREATED,
        Json(MessageCreated {
            message: out.message.into(),
            case: CaseResponse::new(out.case, staff),
            follow_up: out.follow_up,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/events", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = EventList), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<EventList>> {
    let events = state.store.case_events(&caller.principal, CaseId(id)).await?;
    Ok(Json(EventList { events: events.into_iter().map(Into::into).collect(), next_cursor: None }))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/internal-requests", tag = "cases", params(("id" = i64, Path)), request_body = CreateInternalRequest,
    responses((status = 201, body = CaseResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_internal_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CreateInternalRequest>,
) -> ApiResult<(StatusCode, Json<CaseResponse>)> {
    let request = NewInternalRequest {
        team_id: TeamId(req.team_id),
        subject: Subject::parse("subject", &req.subject)?,
        body: MessageBody::parse("message", &req.message)?,
        priority: opt(req.priority.as_deref(), |s| Priority::parse("priority", s))?,
    };
    let detail = state.store.open_internal_request(&caller.principal, CaseId(id), request, state.now()).await?;
    Ok((StatusCode::CREATED, Json(CaseResponse::new(detail, true))))
}

#[utoipa::path(get, path = "/api/v1/search/cases", tag = "cases", params(SearchQuery),
    responses((status = 200, body = CaseList), (status = 400, body = ErrorBody)))]
pub async fn search_cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<CaseList>> {
    let found = state
        .store
        .search_cases(&caller.principal, &q.q, q.limit.unwrap_or(50))
        .await
        .map_err(|e| bad_query(e.into()))?;
    let staff = caller.principal.is_staff();
    Ok(Json(CaseList { cases: found.into_iter().map(|d| CaseResponse::new(d, staff)).collect(), next_cursor: None }))
}
