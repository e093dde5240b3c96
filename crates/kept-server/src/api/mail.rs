//! Email over the API: inbound messages from mail servers and relays, the
//! outbox, and attachments.

use super::extract::{ApiPath, ApiQuery, Caller};
use super::types::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kept_core::ids::CaseId;
use kept_store::{AttachmentInfo, Ingested, OutboxItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundResponse {
    /// case_opened, reply_added, duplicate or ignored.
    pub outcome: String,
    pub case_id: Option<i64>,
    /// Why an email was ignored (auto_submitted, delivery_report, mailing_list, staff_sender, …).
    pub reason: Option<String>,
}

/// Takes in one raw RFC 5322 message (for mail servers and relay services;
/// an admin's token). A message opens a case or, threaded by
/// In-Reply-To/References or a `[#id]` in the subject, adds to its case.
/// Automatic mail is recorded and ignored; the same Message-ID twice is stored once.
#[utoipa::path(post, path = "/api/v1/inbound/email", tag = "mail",
    request_body(content = String, content_type = "message/rfc822", description = "the raw message"),
    responses((status = 404, body = ErrorBody), (status = 201, body = InboundResponse, description = "a case was opened"),
        (status = 200, body = InboundResponse, description = "added to a case, a duplicate, or ignored"),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn inbound_email(State(state): State<AppState>, caller: Caller, request: Request) -> ApiResult<Response> {
    caller.principal.require_admin()?;
    let limit = state.config.mail.limits.max_total_bytes;
    let raw = axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| ApiError::payload_too_large(limit))?;
    let mail = crate::mail::inbound::convert(&raw, &state.config.mail.limits)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    let outcome = state.store.ingest_email(mail, state.now()).await?;
    let case_id = outcome.case().map(|c| c.0);
    let (status, name, reason) = match outcome {
        Ingested::CaseOpened { .. } => (StatusCode::CREATED, "case_opened", None),
        Ingested::ReplyAdded { .. } => (StatusCode::OK, "reply_added", None),
        Ingested::Duplicate { .. } => (StatusCode::OK, "duplicate", None),
        Ingested::Ignored { reason } => (StatusCode::OK, "ignored", Some(reason)),
    };
    Ok((status, Json(InboundResponse { outcome: name.into(), case_id, reason })).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEntry {
    pub id: i64,
    pub message_id: String,
    pub case_id: Option<i64>,
    /// reply, acknowledgement, promise, notification or survey.
    pub kind: String,
    pub to: String,
    pub subject: String,
    /// pending, sent or failed.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
}

impl From<OutboxItem> for OutboxEntry {
    fn from(o: OutboxItem) -> Self {
        Self {
            id: o.id,
            message_id: o.message_id,
            case_id: o.case_id,
            kind: o.kind,
            to: o.mail.to_email,
            subject: o.mail.subject,
            status: o.status.as_str().into(),
            attempts: o.attempts,
            last_error: o.last_error,
            created_at: rfc3339(o.created_at),
            sent_at: o.sent_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxList {
    pub mail: Vec<OutboxEntry>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Only mail about this case.
    pub case_id: Option<i64>,
    /// At most this many, newest first (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Mail queued and sent, newest first (admins).
#[utoipa::path(get, path = "/api/v1/mail/outbox", tag = "mail", params(OutboxQuery),
    responses((status = 200, body = OutboxList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> ApiResult<Json<OutboxList>> {
    caller.principal.require_admin()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "out_of_range", "limit must be 1–500").with_field("limit")
        );
    }
    let mail = state.store.outbox(q.case_id, limit).await?;
    Ok(Json(OutboxList { mail: mail.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: i64,
    pub message_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Where to download it.
    pub url: String,
}

impl From<AttachmentInfo> for AttachmentResponse {
    fn from(a: AttachmentInfo) -> Self {
        Self {
            url: format!("/api/v1/cases/{}/attachments/{}", a.case_id, a.id),
            id: a.id,
            message_id: a.message_id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            created_at: rfc3339(a.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    pub attachments: Vec<AttachmentResponse>,
}

/// Files that came with the case's messages.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = AttachmentList), (status = 404, body = ErrorBody)))]
pub async fn case_attachments(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AttachmentList>> {
    let list = state.store.case_attachments(&caller.principal, CaseId(id)).await?;
    Ok(Json(AttachmentList { attachments: list.into_iter().map(Into::into).collect() }))
}

/// Downloads an attachment (always as a download, never rendered by the browser).
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{attachment_id}", tag = "mail",
    params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, attachment)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let (info, bytes) = state.store.attachment(&caller.principal, CaseId(id), attachment).await?;
    Ok(download(&info, bytes))
}

/// A file as a download: a type the browser will not run, a safe file
/// name, and a sandbox in case it is opened anyway (mail can carry HTML).
pub fn download(info: &AttachmentInfo, bytes: Vec<u8>) -> Response {
    let safe: String =
        info.filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{safe}\"");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
    );
    response
}
