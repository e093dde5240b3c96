//! /api/v1/cases/{id}/promises, recovery tasks, recovery limits and
//! notifications.

use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::parse::instant;
use super::types::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kept_core::ids::{CaseId, UserId};
use kept_core::people::Role;
use kept_core::promises::ClockKind;
use kept_store::{NewAgentPromise, NewRecoveryAction, PromiseView, RecoveryTaskView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct PromiseResponse {
    /// The stored promise instance.
    pub id: Option<i64>,
    /// first_response, next_reply, first_resolution, total_resolution, keep_in_loop, internal_handoff, callback, update or recovery.
    pub clock: String,
    pub label: String,
    /// Repeating clocks count 1, 2, …; agent promises carry their own id.
    pub ordinal: i64,
    /// running, paused, met, breached or cancelled.
    pub status: String,
    /// on_track, at_risk or breached (METRICS §3.2), while still owed.
    pub risk: Option<String>,
    /// core or experience.
    pub class: String,
    /// Measured in business time on a calendar (or calendar time).
    pub business: bool,
    pub target_ms: i64,
    pub elapsed_ms: i64,
    pub remaining_ms: i64,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub breach_at: Option<String>,
    #[schema(format = DateTime)]
    pub warn_at: Option<String>,
    #[schema(format = DateTime)]
    pub fulfilled_at: Option<String>,
    pub policy_id: Option<i64>,
    pub policy_version: Option<i64>,
    /// For promises people made: what was promised, and who keeps it.
    pub description: Option<String>,
    pub owner: Option<String>,
    /// The clock in plain words, one line per step.
    pub explanation: Vec<String>,
}

impl From<PromiseView> for PromiseResponse {
    fn from(p: PromiseView) -> Self {
        let c = p.clock;
        Self {
            id: p.id,
            clock: c.kind.to_string(),
            label: c.kind.label().to_owned(),
            ordinal: c.ordinal,
            status: c.status.to_string(),
            risk: p.risk.map(|r| r.as_str().to_owned()),
            class: c.class.to_string(),
            business: c.business,
            target_ms: c.target_ms,
            elapsed_ms: c.elapsed_ms,
            remaining_ms: c.remaining_ms,
            started_at: rfc3339(c.started_at),
            breach_at: c.breach_at.map(rfc3339),
            warn_at: c.warn_at.map(rfc3339),
            fulfilled_at: c.fulfilled_at.map(rfc3339),
            policy_id: c.policy_id,
            policy_version: c.policy_version,
            description: p.description,
            owner: p.owner_name,
            explanation: p.explanation,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromiseList {
    pub promises: Vec<PromiseResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakePromiseRequest {
    /// callback or update.
    pub kind: String,
    /// When it is due (RFC 3339).
    pub due_at: String,
    /// What is promised, in the customer's words ("Call you back about the invoice").
    pub description: String,
    /// Who keeps it (default: you).
    pub owner_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromiseMade {
    pub id: i64,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/promises", tag = "promises", params(("id" = i64, Path)),
    responses((status = 200, body = PromiseList), (status = 404, body = ErrorBody)))]
pub async fn case_promises(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PromiseList>> {
    let promises =
        state.store.case_promises(&caller.principal, CaseId(id), state.now(), &state.config.time_zone).await?;
    Ok(Json(PromiseList { promises: promises.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/promises", tag = "promises", params(("id" = i64, Path)), request_body = MakePromiseRequest,
    responses((status = 201, body = PromiseMade), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn make_promise(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MakePromiseRequest>,
) -> ApiResult<(StatusCode, Json<PromiseMade>)> {
    let new = NewAgentPromise {
        kind: ClockKind::parse("kind", &req.kind)?,
        due_at: instant("due_at", &req.due_at)?,
        description: req.description,
        owner: req.owner_id.map(UserId),
    };
    let made = state.store.make_promise(&caller.principal, CaseId(id), new, state.now()).await?;
    Ok((StatusCode::CREATED, Json(PromiseMade { id: made })))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/promises/{promise_id}/fulfil", tag = "promises", params(("id" = i64, Path), ("promise_id" = i64, Path)),
    responses((status = 403, body = ErrorBody), (status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn fulfil_promise(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, promise)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state.store.settle_promise(&caller.principal, CaseId(id), promise, true, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/promises/{promise_id}/cancel", tag = "promises", params(("id" = i64, Path), ("promise_id" = i64, Path)),
    responses((status = 403, body = ErrorBody), (status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_promise(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, promise)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state.store.settle_promise(&caller.principal, CaseId(id), promise, false, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryActionResponse {
    pub id: i64,
    pub kind: String,
    pub amount_cents: Option<i64>,
    pub note: String,
    pub actor: String,
    #[schema(format = DateTime)]
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryTaskResponse {
    pub id: i64,
    pub case_id: i64,
    pub reason: String,
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    #[schema(format = DateTime)]
    pub opened_at: String,
    /// The recovery task's own promise: act by then.
    #[schema(format = DateTime)]
    pub due_at: String,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    /// recovered or not_recovered.
    pub outcome: Option<String>,
    pub note: Option<String>,
    /// The survey answer that opened (or joined) this task; null for a breach's task.
    pub response_id: Option<i64>,
    pub actions: Vec<RecoveryActionResponse>,
}

impl From<RecoveryTaskView> for RecoveryTaskResponse {
    fn from(t: RecoveryTaskView) -> Self {
        Self {
            id: t.id,
            case_id: t.case_id,
            reason: t.reason,
            owner_id: t.owner_id,
            owner: t.owner_name,
            opened_at: rfc3339(t.opened_at),
            due_at: rfc3339(t.due_at),
            closed_at: t.closed_at.map(rfc3339),
            outcome: t.outcome,
            note: t.note,
            response_id: t.response_id,
            actions: t
                .actions
                .into_iter()
                .map(|a| RecoveryActionResponse {
                    id: a.id,
                    kind: a.kind,
                    amount_cents: a.amount_cents,
                    note: a.note,
                    actor: a.actor_name,
                    at: rfc3339(a.at),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryTaskList {
    pub tasks: Vec<RecoveryTaskResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryActionRequest {
    /// apology, callback, goodwill_credit, escalation, priority_upgrade or other.
    pub kind: String,
    /// For credits, in cents; within your role's limit.
    pub amount_cents: Option<i64>,
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRecoveryRequest {
    /// recovered or not_recovered.
    pub outcome: String,
    pub note: String,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/recovery-tasks", tag = "promises", params(("id" = i64, Path)),
    responses((status = 200, body = RecoveryTaskList), (status = 404, body = ErrorBody)))]
pub async fn case_recovery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RecoveryTaskList>> {
    let tasks = state.store.case_recovery_tasks(&caller.principal, CaseId(id)).await?;
    Ok(Json(RecoveryTaskList { tasks: tasks.into_iter().map(Into::into).collect() }))
}

/// Open recovery tasks on the cases you work, soonest due first.
#[utoipa::path(get, path = "/api/v1/recovery-tasks", tag = "promises", responses((status = 200, body = RecoveryTaskList), (status = 404, body = ErrorBody)))]
pub async fn open_recovery(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RecoveryTaskList>> {
    let tasks = state.store.open_recovery_tasks(&caller.principal).await?;
    Ok(Json(RecoveryTaskList { tasks: tasks.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/recovery-tasks/{id}/actions", tag = "promises", params(("id" = i64, Path)), request_body = RecoveryActionRequest,
    responses((status = 201, body = RecoveryTaskResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_recovery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RecoveryActionRequest>,
) -> ApiResult<(StatusCode, Json<RecoveryTaskResponse>)> {
    let action = NewRecoveryAction { kind: req.kind, amount_cents: req.amount_cents, note: req.note };
    let task = state.store.record_recovery_action(&caller.principal, id, action, state.now()).await?;
    Ok((StatusCode::CREATED, Json(task.into())))
}

#[utoipa::path(post, path = "/api/v1/recovery-tasks/{id}/close", tag = "promises", params(("id" = i64, Path)), request_body = CloseRecoveryRequest,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close_recovery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CloseRecoveryRequest>,
) -> ApiResult<StatusCode> {
    let recovered = match req.outcome.as_str() {
        "recovered" => true,
        "not_recovered" => false,
        _ => {
            return Err(
                kept_core::FieldError::new("invalid_value", "outcome", "must be recovered or not_recovered").into()
            );
        }
    };
    state.store.close_recovery_task(&caller.principal, id, recovered, &req.note, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryLimit {
    /// admin, manager or agent.
    pub role: String,
    /// A recovery action kind, e.g. goodwill_credit.
    pub kind: String,
    /// The most this role may grant without approval, in cents.
    pub max_cents: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryLimits {
    pub limits: Vec<RecoveryLimit>,
}

#[utoipa::path(get, path = "/api/v1/recovery-limits", tag = "promises", responses((status = 200, body = RecoveryLimits), (status = 404, body = ErrorBody)))]
pub async fn recovery_limits(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RecoveryLimits>> {
    let limits = state.store.recovery_limits(&caller.principal).await?;
    Ok(Json(RecoveryLimits {
        limits: limits.into_iter().map(|(role, kind, max_cents)| RecoveryLimit { role, kind, max_cents }).collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/recovery-limits", tag = "promises", request_body = RecoveryLimit,
    responses((status = 404, body = ErrorBody), (status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_recovery_limit(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RecoveryLimit>,
) -> ApiResult<StatusCode> {
    let role = Role::parse("role", &req.role)?;
    state.store.set_recovery_limit(&caller.principal, role, &req.kind, req.max_cents).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: i64,
    pub case_id: Option<i64>,
    pub kind: String,
    pub text: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<NotificationResponse>,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "promises", params(NotificationQuery), responses((status = 200, body = NotificationList)))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> ApiResult<Json<NotificationList>> {
    let rows = state.store.notifications(&caller.principal, q.unread.unwrap_or(false)).await?;
    let notifications = rows
        .into_iter()
        .map(|(id, case_id, kind, text, at, read)| NotificationResponse {
            id,
            case_id,
            kind,
            text,
            created_at: rfc3339(at),
            read,
        })
        .collect();
    Ok(Json(NotificationList { notifications }))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "promises", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn read_notification(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.mark_notification_read(&caller.principal, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
