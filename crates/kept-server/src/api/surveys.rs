//! Surveys: definitions and settings (admins), a case's invitations,
//! responses (JSON and CSV), verbatims, kudos, re-surveys after recovery.

use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::parse::instant;
use super::types::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kept_core::ids::CaseId;
use kept_core::surveys::{SurveyKind, SurveySpec, Thresholds};
use kept_store::{InvitationView, KudosView, ResponseFilter, ResponseView, SurveyDefinition, SurveySettings};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinitionRequest {
    /// csat (1–5), ces (1–7, CES 2.0) or nps (0–10, relationship).
    pub kind: String,
    pub name: String,
    /// Default: the kind's standard question.
    pub question: Option<String>,
    /// The prompt above the comment box (the default prompt when absent).
    pub comment_prompt: Option<String>,
    /// Reasons the customer may tick.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Minutes after the solve that a CSAT/CES survey is sent (default 0).
    pub delay_minutes: Option<i64>,
    /// Share of solved cases surveyed, whole percent (default 100).
    pub sample_percent: Option<i64>,
    /// NPS only (required for it): days between invitations to one contact.
    pub every_days: Option<i64>,
    /// Default true.
    pub active: Option<bool>,
}

impl SurveyDefinitionRequest {
    fn spec(self) -> ApiResult<SurveySpec> {
        let kind = SurveyKind::parse("kind", &self.kind)?;
        Ok(SurveySpec {
            kind,
            name: self.name,
            question: self.question.unwrap_or_else(|| kind.default_question().to_owned()),
            comment_prompt: self.comment_prompt,
            reasons: self.reasons,
            delay_minutes: self.delay_minutes.unwrap_or(0),
            sample_percent: self.sample_percent.unwrap_or(100),
            every_days: self.every_days,
            active: self.active.unwrap_or(true),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDefinitionResponse {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub question: String,
    pub comment_prompt: Option<String>,
    pub reasons: Vec<String>,
    pub delay_minutes: i64,
    pub sample_percent: i64,
    pub every_days: Option<i64>,
    pub active: bool,
    /// The lowest and highest score.
    pub scale: [i64; 2],
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<SurveyDefinition> for SurveyDefinitionResponse {
    fn from(d: SurveyDefinition) -> Self {
        let (lo, hi) = d.spec.kind.scale();
        Self {
            id: d.id,
            kind: d.spec.kind.to_string(),
            name: d.spec.name,
            question: d.spec.question,
            comment_prompt: d.spec.comment_prompt,
            reasons: d.spec.reasons,
            delay_minutes: d.spec.delay_minutes,
            sample_percent: d.spec.sample_percent,
            every_days: d.spec.every_days,
            active: d.spec.active,
            scale: [lo, hi],
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDefinitionList {
    pub definitions: Vec<SurveyDefinitionResponse>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveySettingsBody {
    /// No contact receives more than one survey within this many days (0–365).
    pub fatigue_days: i64,
    /// CSAT at or below this is dissatisfied (default 2).
    pub csat_threshold: i64,
    /// CES at or below this is dissatisfied (default 3).
    pub ces_threshold: i64,
    /// NPS at or below this is a detractor (default 6).
    pub nps_threshold: i64,
    /// lead or agent: who owns the follow-up of a dissatisfied answer.
    pub followup_owner: String,
    /// The follow-up's promise, in minutes.
    pub followup_minutes: i64,
    /// Count those minutes in business time on the case's calendar.
    pub followup_business: bool,
    /// How long an answer may still be changed, in minutes.
    pub change_window_minutes: i64,
    /// How long an invitation can be answered, in days.
    pub expiry_days: i64,
}

impl From<SurveySettings> for SurveySettingsBody {
    fn from(s: SurveySettings) -> Self {
        Self {
            fatigue_days: s.fatigue_days,
            csat_threshold: s.thresholds.csat,
            ces_threshold: s.thresholds.ces,
            nps_threshold: s.thresholds.nps,
            followup_owner: s.followup_owner,
            followup_minutes: s.followup_minutes,
            followup_business: s.followup_business,
            change_window_minutes: s.change_window_minutes,
            expiry_days: s.expiry_days,
        }
    }
}

impl From<SurveySettingsBody> for SurveySettings {
    fn from(b: SurveySettingsBody) -> Self {
        Self {
            fatigue_days: b.fatigue_days,
            thresholds: Thresholds { csat: b.csat_threshold, ces: b.ces_threshold, nps: b.nps_threshold },
            followup_owner: b.followup_owner,
            followup_minutes: b.followup_minutes,
            followup_business: b.followup_business,
            change_window_minutes: b.change_window_minutes,
            expiry_days: b.expiry_days,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResponseBody {
    pub id: i64,
    pub kind: String,
    pub score: i64,
    pub comment: Option<String>,
    pub reasons: Vec<String>,
    /// At or below the kind's threshold.
    pub dissatisfied: bool,
    #[schema(format = DateTime)]
    pub answered_at: String,
    #[schema(format = DateTime)]
    pub changed_at: Option<String>,
    /// Null for relationship NPS.
    pub case_id: Option<i64>,
    pub contact_id: i64,
    pub contact: String,
    pub account_id: i64,
    /// The assignee when the case was solved.
    pub agent_id: Option<i64>,
    pub agent: Option<String>,
    pub team_id: Option<i64>,
    pub team: Option<String>,
    pub channel: Option<String>,
    pub case_type: Option<String>,
    pub account_tier: String,
    /// The follow-up task of a dissatisfied answer.
    pub recovery_task_id: Option<i64>,
    pub kudos: bool,
}

impl From<ResponseView> for SurveyResponseBody {
    fn from(r: ResponseView) -> Self {
        Self {
            id: r.id,
            kind: r.kind.to_string(),
            score: r.score,
            comment: r.comment,
            reasons: r.reasons,
            dissatisfied: r.dissatisfied,
            answered_at: rfc3339(r.answered_at),
            changed_at: r.changed_at.map(rfc3339),
            case_id: r.case_id,
            contact_id: r.contact_id,
            contact: r.contact_name,
            account_id: r.account_id,
            agent_id: r.agent_id,
            agent: r.agent_name,
            team_id: r.team_id,
            team: r.team_name,
            channel: r.channel,
            case_type: r.case_type,
            account_tier: r.account_tier,
            recovery_task_id: r.recovery_task_id,
            kudos: r.kudos,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResponseList {
    pub responses: Vec<SurveyResponseBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationBody {
    pub id: i64,
    pub definition_id: i64,
    pub kind: String,
    /// scheduled, sent, skipped_fatigue, skipped_sample, skipped_reopened, skipped_inactive, answered or expired.
    pub status: String,
    #[schema(format = DateTime)]
    pub send_at: String,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub agent_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Set on a re-survey after recovery.
    pub resurvey_task_id: Option<i64>,
    pub response: Option<SurveyResponseBody>,
}

impl From<InvitationView> for InvitationBody {
    fn from(i: InvitationView) -> Self {
        Self {
            id: i.id,
            definition_id: i.definition_id,
            kind: i.kind.to_string(),
            status: i.status,
            send_at: rfc3339(i.send_at),
            sent_at: i.sent_at.map(rfc3339),
            expires_at: i.expires_at.map(rfc3339),
            agent_id: i.agent_id,
            team_id: i.team_id,
            resurvey_task_id: i.resurvey_task_id,
            response: i.response.map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub invitations: Vec<InvitationBody>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResponseQuery {
    /// Answered at or after (RFC 3339).
    pub from: Option<String>,
    /// Answered before (RFC 3339).
    pub to: Option<String>,
    pub team: Option<i64>,
    pub agent: Option<i64>,
    pub score: Option<i64>,
    /// One of the definition's reasons.
    pub reason: Option<String>,
    /// csat, ces or nps.
    pub kind: Option<String>,
    /// At most this many (default 500, at most 5000).
    pub limit: Option<i64>,
}

impl ResponseQuery {
    pub fn filter(self, with_comment: bool) -> ApiResult<ResponseFilter> {
        Ok(ResponseFilter {
            from: self.from.as_deref().map(|v| instant("from", v)).transpose()?,
            to: self.to.as_deref().map(|v| instant("to", v)).transpose()?,
            team_id: self.team,
            agent_id: self.agent,
            score: self.score,
            reason: self.reason.filter(|r| !r.trim().is_empty()),
            kind: self.kind.as_deref().filter(|k| !k.is_empty()).map(|k| SurveyKind::parse("kind", k)).transpose()?,
            with_comment,
            limit: self.limit,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KudosRequest {
    /// A word of thanks to go with it.
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KudosBody {
    pub id: i64,
    pub response_id: i64,
    pub agent_id: i64,
    pub agent: String,
    pub given_by: Option<String>,
    pub note: Option<String>,
    pub kind: String,
    pub score: i64,
    pub comment: Option<String>,
    pub case_id: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<KudosView> for KudosBody {
    fn from(k: KudosView) -> Self {
        Self {
            id: k.id,
            response_id: k.response_id,
            agent_id: k.agent_id,
            agent: k.agent_name,
            given_by: k.given_by_name,
            note: k.note,
            kind: k.kind.to_string(),
            score: k.score,
            comment: k.comment,
            case_id: k.case_id,
            created_at: rfc3339(k.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KudosList {
    pub kudos: Vec<KudosBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResurveyResponse {
    /// The fresh invitation; the survey job sends it within seconds.
    pub invitation_id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageRequest {
    /// en or de: the language of survey mail and pages.
    pub language: String,
}

/// Survey definitions (staff).
#[utoipa::path(get, path = "/api/v1/survey-definitions", tag = "surveys",
    responses((status = 200, body = SurveyDefinitionList), (status = 404, body = ErrorBody)))]
pub async fn list_definitions(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SurveyDefinitionList>> {
    let defs = state.store.survey_definitions(&caller.principal).await?;
    Ok(Json(SurveyDefinitionList { definitions: defs.into_iter().map(Into::into).collect() }))
}

/// Defines a survey (admins). CSAT and CES go out after solved cases; NPS on its schedule.
#[utoipa::path(post, path = "/api/v1/survey-definitions", tag = "surveys", request_body = SurveyDefinitionRequest,
    responses((status = 201, body = SurveyDefinitionResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_definition(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SurveyDefinitionRequest>,
) -> ApiResult<(StatusCode, Json<SurveyDefinitionResponse>)> {
    let d = state.store.create_survey_definition(&caller.principal, req.spec()?, state.now()).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

#[utoipa::path(get, path = "/api/v1/survey-definitions/{id}", tag = "surveys", params(("id" = i64, Path)),
    responses((status = 200, body = SurveyDefinitionResponse), (status = 404, body = ErrorBody)))]
pub async fn get_definition(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SurveyDefinitionResponse>> {
    Ok(Json(state.store.survey_definition(&caller.principal, id).await?.into()))
}

/// Replaces a definition (admins); its kind cannot change.
#[utoipa::path(put, path = "/api/v1/survey-definitions/{id}", tag = "surveys", params(("id" = i64, Path)), request_body = SurveyDefinitionRequest,
    responses((status = 200, body = SurveyDefinitionResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_definition(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SurveyDefinitionRequest>,
) -> ApiResult<Json<SurveyDefinitionResponse>> {
    Ok(Json(state.store.update_survey_definition(&caller.principal, id, req.spec()?, state.now()).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/survey-settings", tag = "surveys",
    responses((status = 200, body = SurveySettingsBody), (status = 404, body = ErrorBody)))]
pub async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SurveySettingsBody>> {
    Ok(Json(state.store.survey_settings(&caller.principal).await?.into()))
}

/// Sets fatigue, thresholds, follow-up owner and promise, change window and expiry (admins).
#[utoipa::path(put, path = "/api/v1/survey-settings", tag = "surveys", request_body = SurveySettingsBody,
    responses((status = 404, body = ErrorBody), (status = 200, body = SurveySettingsBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SurveySettingsBody>,
) -> ApiResult<Json<SurveySettingsBody>> {
    Ok(Json(state.store.set_survey_settings(&caller.principal, req.into(), state.now()).await?.into()))
}

/// The case's survey invitations and their answers (staff who see the case).
#[utoipa::path(get, path = "/api/v1/cases/{id}/surveys", tag = "surveys", params(("id" = i64, Path)),
    responses((status = 200, body = InvitationList), (status = 404, body = ErrorBody)))]
pub async fn case_surveys(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<InvitationList>> {
    let list = state.store.case_surveys(&caller.principal, CaseId(id)).await?;
    Ok(Json(InvitationList { invitations: list.into_iter().map(Into::into).collect() }))
}

/// Survey responses, newest first. Admins and managers see all; agents the answers attributed to them.
#[utoipa::path(get, path = "/api/v1/survey-responses", tag = "surveys", params(ResponseQuery),
    responses((status = 200, body = SurveyResponseList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_responses(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ResponseQuery>,
) -> ApiResult<Json<SurveyResponseList>> {
    let list = state.store.survey_responses(&caller.principal, q.filter(false)?).await?;
    Ok(Json(SurveyResponseList { responses: list.into_iter().map(Into::into).collect() }))
}

/// The same responses as CSV (one row each, attribution included).
#[utoipa::path(get, path = "/api/v1/survey-responses.csv", tag = "surveys", params(ResponseQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn responses_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ResponseQuery>,
) -> ApiResult<Response> {
    let list = state.store.survey_responses(&caller.principal, q.filter(false)?).await?;
    let mut out = String::from(
        "id,kind,score,dissatisfied,comment,reasons,answered_at,changed_at,case_id,contact_id,account_id,agent_id,agent,\
         team_id,team,channel,case_type,account_tier,recovery_task_id\r\n",
    );
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    for r in list {
        let row = [
            r.id.to_string(),
            r.kind.to_string(),
            r.score.to_string(),
            r.dissatisfied.to_string(),
            r.comment.unwrap_or_default(),
            r.reasons.join("; "),
            rfc3339(r.answered_at),
            r.changed_at.map(rfc3339).unwrap_or_default(),
            opt(r.case_id),
            r.contact_id.to_string(),
            r.account_id.to_string(),
            opt(r.agent_id),
            r.agent_name.unwrap_or_default(),
            opt(r.team_id),
            r.team_name.unwrap_or_default(),
            r.channel.unwrap_or_default(),
            r.case_type.unwrap_or_default(),
            r.account_tier,
            opt(r.recovery_task_id),
        ];
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"survey-responses.csv\""),
        ],
        out,
    )
        .into_response())
}

/// RFC 4180 quoting; a customer's text that a spreadsheet would run as a
/// formula (=, +, -, @) is prefixed with an apostrophe.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) && v.parse::<f64>().is_err() {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

/// Answers with a comment, newest first, each linked to its case.
#[utoipa::path(get, path = "/api/v1/verbatims", tag = "surveys", params(ResponseQuery),
    responses((status = 200, body = SurveyResponseList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn verbatims(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ResponseQuery>,
) -> ApiResult<Json<SurveyResponseList>> {
    let list = state.store.survey_responses(&caller.principal, q.filter(true)?).await?;
    Ok(Json(SurveyResponseList { responses: list.into_iter().map(Into::into).collect() }))
}

/// Turns an answer's praise into kudos for its agent (admins and managers; once per answer).
#[utoipa::path(post, path = "/api/v1/survey-responses/{id}/kudos", tag = "surveys", params(("id" = i64, Path)), request_body = KudosRequest,
    responses((status = 201, body = KudosBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn give_kudos(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<KudosRequest>,
) -> ApiResult<(StatusCode, Json<KudosBody>)> {
    let k = state.store.give_kudos(&caller.principal, id, req.note.as_deref(), state.now()).await?;
    Ok((StatusCode::CREATED, Json(k.into())))
}

/// A person's kudos, newest first (staff).
#[utoipa::path(get, path = "/api/v1/users/{id}/kudos", tag = "surveys", params(("id" = i64, Path)),
    responses((status = 200, body = KudosList), (status = 404, body = ErrorBody)))]
pub async fn user_kudos(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<KudosList>> {
    let list = state.store.user_kudos(&caller.principal, id).await?;
    Ok(Json(KudosList { kudos: list.into_iter().map(Into::into).collect() }))
}

/// Sends the customer of a recovery task a fresh survey, regardless of sample and fatigue.
#[utoipa::path(post, path = "/api/v1/recovery-tasks/{id}/resurvey", tag = "surveys", params(("id" = i64, Path)),
    responses((status = 201, body = ResurveyResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resurvey(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<ResurveyResponse>)> {
    let invitation_id = state.store.resurvey(&caller.principal, id, state.now()).await?;
    Ok((StatusCode::CREATED, Json(ResurveyResponse { invitation_id })))
}

/// Sets a contact's language for survey mail and pages (staff).
#[utoipa::path(put, path = "/api/v1/contacts/{id}/language", tag = "surveys", params(("id" = i64, Path)), request_body = LanguageRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_language(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<LanguageRequest>,
) -> ApiResult<StatusCode> {
    state.store.set_contact_language(&caller.principal, id, req.language.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-3"), "-3");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
