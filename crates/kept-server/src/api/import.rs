//! `POST /api/v1/import`: a history import from JSON Lines, the same as
//! `kept import` (docs/IMPORT.md). Admins only; the body is read up to
//! `max_import_bytes` and imported line by line; the answer is the summary
//! with every refused line's number, field and code.

use super::extract::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use kept_store::{Importer, LineError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media types a JSON Lines body may come as.
const ACCEPTED: [&str; 3] = ["application/x-ndjson", "application/jsonl", "text/plain"];

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportLineError {
    /// The line's number in the body, from 1.
    pub line: usize,
    /// The field at fault (`events[3].to`); `null` when the whole line is.
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

impl From<LineError> for ImportLineError {
    fn from(e: LineError) -> Self {
        Self { line: e.line, field: e.field, code: e.code, message: e.message }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// Lines read, blank ones aside.
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    /// Cases imported before that the line brings nothing new to.
    pub unchanged: usize,
    pub rejected: usize,
    /// The first 1,000 refused lines.
    pub errors: Vec<ImportLineError>,
    /// Refused lines beyond those listed.
    pub errors_omitted: usize,
}

/// Imports case histories from another desk: JSON Lines, one case per
/// line. A bad line is refused whole and the rest imported; importing the
/// same external ids again updates their cases and never duplicates them.
#[utoipa::path(post, path = "/api/v1/import", tag = "import",
    request_body(content = String, content_type = "application/x-ndjson", description = "one case per line (docs/IMPORT.md)"),
    responses((status = 404, body = ErrorBody), (status = 200, body = ImportResponse, description = "the summary, with every refused line"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_cases(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<Json<ImportResponse>> {
    caller.principal.require_admin()?;
    let kind = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !ACCEPTED.contains(&kind.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send JSON Lines as application/x-ndjson (or application/jsonl, text/plain)",
        ));
    }
    let limit = state.config.max_import_bytes;
    let body =
        axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| ApiError::payload_too_large(limit))?;
    let mut importer = Importer::new(&state.store, state.now());
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        importer.line(i + 1, line.strip_suffix(b"\r").unwrap_or(line)).await?;
    }
    let summary = importer.finish().await?;
    if summary.lines == 0 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty", "the body holds no lines to import")
            .with_field("body"));
    }
    let errors_omitted = summary.rejected - summary.errors.len();
    Ok(Json(ImportResponse {
        lines: summary.lines,
        created: summary.created,
        updated: summary.updated,
        unchanged: summary.unchanged,
        rejected: summary.rejected,
        errors: summary.errors.into_iter().map(Into::into).collect(),
        errors_omitted,
    }))
}
