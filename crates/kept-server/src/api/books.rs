//! /api/v1/calendars and /api/v1/policies: the business calendars and the
//! promise policies (admins write; staff read).

use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::parse::instant;
use super::types::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use kept_core::calendar::{Calendar, CalendarError, CalendarSpec, add_business, holidays_from_csv, holidays_from_ics};
use kept_core::promises::PolicySpec;
use kept_core::values::Name;
use kept_store::{CalendarInfo, PolicyInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

fn calendar_error(e: CalendarError, prefix: &str) -> ApiError {
    let field = if e.field().is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", e.field()) };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.reason()).with_field(field)
}

/// Parses the calendar JSON the API, the pages and the CLI all accept.
pub fn parse_calendar(value: &Value, prefix: &str) -> Result<Calendar, ApiError> {
    let spec = CalendarSpec::from_value(value).map_err(|e| calendar_error(e, prefix))?;
    Calendar::from_spec(&spec).map_err(|e| calendar_error(e, prefix))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarResponse {
    pub id: i64,
    pub name: String,
    /// Each edit is a new version, in force from `effective_from`.
    pub version: i64,
    #[schema(format = DateTime)]
    pub effective_from: String,
    /// `{"time_zone", "weekly": {"mon": [["09:00","17:00"]], …}, "holidays": [...], "overrides": {...}}`
    #[schema(value_type = Object)]
    pub calendar: Value,
}

impl From<CalendarInfo> for CalendarResponse {
    fn from(c: CalendarInfo) -> Self {
        Self {
            id: c.id,
            name: c.name,
            version: c.version,
            effective_from: rfc3339(c.effective_from),
            calendar: serde_json::to_value(c.calendar.to_spec()).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    pub calendars: Vec<CalendarResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCalendarRequest {
    pub name: String,
    #[schema(value_type = Object)]
    pub calendar: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCalendarRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub calendar: Option<Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Start of the promise (RFC 3339); default now.
    pub from: Option<String>,
    /// How many business minutes are promised.
    pub business_minutes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DueResponse {
    #[schema(format = DateTime)]
    pub from: String,
    pub business_minutes: i64,
    /// When the promise is due; absent if the calendar has no working time ahead.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/calendars", tag = "promises", responses((status = 200, body = CalendarList), (status = 404, body = ErrorBody)))]
pub async fn list_calendars(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CalendarList>> {
    let calendars = state.store.list_calendars(&caller.principal).await?;
    Ok(Json(CalendarList { calendars: calendars.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/calendars", tag = "promises", request_body = CreateCalendarRequest,
    responses((status = 201, body = CalendarResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateCalendarRequest>,
) -> ApiResult<(StatusCode, Json<CalendarResponse>)> {
    let name = Name::parse("name", &req.name)?;
    let calendar = parse_calendar(&req.calendar, "calendar")?;
    let made = state.store.create_calendar(&caller.principal, name, &calendar, state.now()).await?;
    Ok((StatusCode::CREATED, Json(made.into())))
}

#[utoipa::path(get, path = "/api/v1/calendars/{id}", tag = "promises", params(("id" = i64, Path)), responses((status = 200, body = CalendarResponse), (status = 404, body = ErrorBody)))]
pub async fn get_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CalendarResponse>> {
    Ok(Json(state.store.get_calendar(&caller.principal, id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/calendars/{id}", tag = "promises", params(("id" = i64, Path)), request_body = UpdateCalendarRequest,
    responses((status = 200, body = CalendarResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateCalendarRequest>,
) -> ApiResult<Json<CalendarResponse>> {
    let name = req.name.as_deref().map(|n| Name::parse("name", n)).transpose()?;
    let calendar = req.calendar.as_ref().map(|c| parse_calendar(c, "calendar")).transpose()?;
    Ok(Json(state.store.update_calendar(&caller.principal, id, name, calendar.as_ref(), state.now()).await?.into()))
}

/// Adds holidays from an iCalendar file (`Content-Type: text/calendar`) or CSV
/// (`text/csv`, lines `date[,name]`) as a new version of the calendar.
#[utoipa::path(post, path = "/api/v1/calendars/{id}/holidays", tag = "promises", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/calendar", description = "An .ics file, or CSV with Content-Type text/csv"),
    responses((status = 200, body = CalendarResponse), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_holidays(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CalendarResponse>> {
    let current = state.store.get_calendar(&caller.principal, id).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("invalid_text", "body", "the file is not UTF-8"))?;
    let kind = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let year = state.now().to_zoned_datetime(jiff::tz::TimeZone::UTC).year();
    let dates = match kind.as_str() {
        "text/calendar" => holidays_from_ics(text, year - 1..=year + 2),
        "text/csv" => holidays_from_csv(text),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send text/calendar (.ics) or text/csv",
            ));
        }
    }
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()).with_field("body"))?;
    let calendar = current.calendar.with_holidays(dates.into_iter().map(|(d, _)| d));
    Ok(Json(state.store.update_calendar(&caller.principal, id, None, Some(&calendar), state.now()).await?.into()))
}

/// When a promise of N business minutes made at `from` falls due on this calendar.
#[utoipa::path(get, path = "/api/v1/calendars/{id}/due", tag = "promises", params(("id" = i64, Path), DueQuery),
    responses((status = 200, body = DueResponse), (status = 400, body = ErrorBody)))]
pub async fn calendar_due(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> ApiResult<Json<DueResponse>> {
    let cal = state.store.get_calendar(&caller.principal, id).await?;
    let from = match q.from.as_deref() {
        Some(f) => instant("from", f).map_err(|e| ApiError::bad_request("invalid_time", "from", e.message))?,
        None => state.now(),
    };
    if !(0..=10_000_000).contains(&q.business_minutes) {
        return Err(ApiError::bad_request("invalid_query", "business_minutes", "must be 0 to 10000000"));
    }
    let due = add_business(&cal.calendar, from, q.business_minutes * 60);
    Ok(Json(DueResponse { from: rfc3339(from), business_minutes: q.business_minutes, due_at: due.map(rfc3339) }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyResponse {
    pub id: i64,
    /// Policies are tried in this order; the first whose conditions match applies.
    pub position: i64,
    pub version: i64,
    pub active: bool,
    #[schema(format = DateTime)]
    pub effective_from: String,
    /// `{"name", "calendar_id", "conditions": {...}, "targets": [{"clock", "minutes", "time", "class", "pause_on", "warn_at_percent", "warn_before_minutes"}], "human_replies_only", "recovery": {"minutes", "time", "raise_priority"}}`
    #[schema(value_type = Object)]
    pub policy: Value,
}

impl From<PolicyInfo> for PolicyResponse {
    fn from(p: PolicyInfo) -> Self {
        Self {
            id: p.id,
            position: p.position,
            version: p.version,
            active: p.active,
            effective_from: rfc3339(p.effective_from),
            policy: serde_json::to_value(&p.spec).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicyResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePolicyRequest {
    #[schema(value_type = Option<Object>)]
    pub policy: Option<Value>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderPolicies {
    /// Policy ids, first tried first.
    pub ids: Vec<i64>,
}

fn policy_spec(value: Value) -> ApiResult<PolicySpec> {
    let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::internal(&e))?;
    super::extract::parse_json::<PolicySpec>(&bytes).map_err(|mut e| {
        e.field = e.field.map(|f| if f.is_empty() { "policy".to_owned() } else { format!("policy.{f}") });
        e
    })
}

#[utoipa::path(get, path = "/api/v1/policies", tag = "promises", responses((status = 200, body = PolicyList), (status = 404, body = ErrorBody)))]
pub async fn list_policies(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PolicyList>> {
    let policies = state.store.list_policies(&caller.principal).await?;
    Ok(Json(PolicyList { policies: policies.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/policies", tag = "promises", request_body(content = Object, description = "A policy (see PolicyResponse.policy)"),
    responses((status = 201, body = PolicyResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(spec): ApiJson<PolicySpec>,
) -> ApiResult<(StatusCode, Json<PolicyResponse>)> {
    Ok((StatusCode::CREATED, Json(state.store.create_policy(&caller.principal, spec, state.now()).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "promises", params(("id" = i64, Path)), responses((status = 200, body = PolicyResponse), (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PolicyResponse>> {
    Ok(Json(state.store.get_policy(&caller.principal, id).await?.into()))
}

/// A new version of the policy (its rules and/or whether it is on), in force from now.
#[utoipa::path(patch, path = "/api/v1/policies/{id}", tag = "promises", params(("id" = i64, Path)), request_body = UpdatePolicyRequest,
    responses((status = 200, body = PolicyResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdatePolicyRequest>,
) -> ApiResult<Json<PolicyResponse>> {
    let spec = req.policy.map(policy_spec).transpose()?;
    Ok(Json(state.store.update_policy(&caller.principal, id, spec, req.active, state.now()).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/policies/order", tag = "promises", request_body = ReorderPolicies,
    responses((status = 404, body = ErrorBody), (status = 200, body = PolicyList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reorder_policies(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ReorderPolicies>,
) -> ApiResult<Json<PolicyList>> {
    let policies = state.store.reorder_policies(&caller.principal, &req.ids, state.now()).await?;
    Ok(Json(PolicyList { policies: policies.into_iter().map(Into::into).collect() }))
}
