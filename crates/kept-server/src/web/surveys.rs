//! Staff survey pages: /verbatims (comments with their scores, filters,
//! praise to kudos), /kudos (an agent's kudos) and /admin/surveys
//! (definitions and settings, admins).

use super::form::{WebForm, given};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, refusal, render, render_form, see_other};
use super::views::show_time;
use crate::api::parse::instant;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use kept_core::people::Role;
use kept_core::surveys::{SurveyKind, SurveySpec, Thresholds};
use kept_store::{ResponseFilter, SurveySettings};
use serde::Deserialize;

pub struct VerbatimLine {
    id: i64,
    kind: String,
    score: i64,
    dissatisfied: bool,
    comment: String,
    reasons: String,
    when: String,
    when_iso: String,
    case_id: Option<i64>,
    agent: String,
    team: String,
    can_kudos: bool,
    kudos: bool,
}

/// The filter form's values, echoed back.
#[derive(Default)]
pub struct Filters {
    from: String,
    to: String,
    team: String,
    agent: String,
    score: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "verbatims.html")]
struct VerbatimsPage {
    layout: Layout,
    filters: Filters,
    teams: Vec<(i64, String)>,
    agents: Vec<(i64, String)>,
    lines: Vec<VerbatimLine>,
    error: Option<String>,
}

fn param(query: &str, key: &str) -> String {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// A date (`2024-06-03`, read as midnight UTC) or a full RFC 3339 instant.
fn day(field: &str, raw: &str) -> Result<Option<jiff::Timestamp>, PageError> {
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = raw.parse::<jiff::civil::Date>() {
        return Ok(d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp()));
    }
    Ok(Some(instant(field, raw)?))
}

fn number(field: &str, raw: &str) -> Result<Option<i64>, PageError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| kept_core::FieldError::new("invalid_value", field, "must be a number").into())
}

pub async fn verbatims(State(state): State<AppState>, StaffUser(user): StaffUser, RawQuery(q): RawQuery) -> PageResult {
    let q = q.unwrap_or_default();
    let filters = Filters {
        from: param(&q, "from"),
        to: param(&q, "to"),
        team: param(&q, "team"),
        agent: param(&q, "agent"),
        score: param(&q, "score"),
        reason: param(&q, "reason"),
    };
    let by = &user.principal;
    let teams = state.store.list_teams(by).await?.iter().map(|t| (t.id.0, t.name.to_string())).collect();
    let staff = kept_store::UserFilter { staff: Some(true), limit: 500, ..Default::default() };
    let agents = state.store.list_users(by, &staff).await?.iter().map(|u| (u.id.0, u.name.to_string())).collect();
    let parsed = (|| -> Result<ResponseFilter, PageError> {
        Ok(ResponseFilter {
            from: day("from", &filters.from)?,
            // "To" a date includes that whole day.
            to: day("to", &filters.to)?.map(|t| {
                if filters.to.len() == 10 {
                    t.checked_add(jiff::SignedDuration::from_hours(24)).unwrap_or(t)
                } else {
                    t
                }
            }),
            team_id: number("team", &filters.team)?,
            agent_id: number("agent", &filters.agent)?,
            score: number("score", &filters.score)?,
            reason: Some(filters.reason.clone()).filter(|r| !r.is_empty()),
            kind: None,
            with_comment: true,
            limit: Some(500),
        })
    })();
    let (lines, error) = match parsed {
        Ok(f) => match state.store.survey_responses(by, f).await {
            Ok(list) => (list, None),
            Err(e) => (Vec::new(), Some(refusal(e.into())?)),
        },
        Err(e) => (Vec::new(), Some(refusal(e)?)),
    };
    let may_kudos = matches!(by.role, Role::Admin | Role::Manager);
    let lines = lines
        .into_iter()
        .map(|r| VerbatimLine {
            id: r.id,
            kind: r.kind.label().to_owned(),
            score: r.score,
            dissatisfied: r.dissatisfied,
            comment: r.comment.unwrap_or_default(),
            reasons: r.reasons.join(", "),
            when: show_time(r.answered_at),
            when_iso: r.answered_at.to_string(),
            case_id: r.case_id,
            agent: r.agent_name.unwrap_or_else(|| "—".into()),
            team: r.team_name.unwrap_or_else(|| "—".into()),
            can_kudos: may_kudos && r.agent_id.is_some() && !r.kudos,
            kudos: r.kudos,
        })
        .collect();
    let refused = error.is_some();
    let page = VerbatimsPage { layout: user.layout("Verbatims"), filters, teams, agents, lines, error };
    render_form(&page, refused)
}

#[derive(Deserialize)]
pub struct KudosForm {
    csrf: String,
    note: Option<String>,
}

pub async fn give_kudos(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<KudosForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state.store.give_kudos(&user.principal, id, given(&form.note), state.now()).await?;
    Ok(see_other("/verbatims"))
}

pub struct KudosLine {
    score: String,
    comment: String,
    note: String,
    given_by: String,
    when: String,
    when_iso: String,
    case_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "kudos.html")]
struct KudosPage {
    layout: Layout,
    agent: String,
    lines: Vec<KudosLine>,
}

/// An agent's kudos: your own, or (`/kudos/{id}`) a colleague's.
pub async fn my_kudos(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    let id = user.user.id.0;
    kudos_page(&state, &user, id).await
}

pub async fn user_kudos(State(state): State<AppState>, StaffUser(user): StaffUser, Path(id): Path<i64>) -> PageResult {
    kudos_page(&state, &user, id).await
}

async fn kudos_page(state: &AppState, user: &WebUser, id: i64) -> PageResult {
    let list = state.store.user_kudos(&user.principal, id).await?;
    let agent = match list.first() {
        Some(k) => k.agent_name.clone(),
        None if id == user.user.id.0 => user.user.name.to_string(),
        None => format!("person {id}"),
    };
    let lines = list
        .into_iter()
        .map(|k| KudosLine {
            score: format!("{} {}", k.kind.label(), k.score),
            comment: k.comment.unwrap_or_default(),
            note: k.note.unwrap_or_default(),
            given_by: k.given_by_name.unwrap_or_else(|| "kept".into()),
            when: show_time(k.created_at),
            when_iso: k.created_at.to_string(),
            case_id: k.case_id,
        })
        .collect();
    render(&KudosPage { layout: user.layout("Kudos"), agent, lines })
}

pub struct DefinitionLine {
    id: i64,
    kind: String,
    name: String,
    question: String,
    reasons: String,
    delay_minutes: i64,
    sample_percent: i64,
    every_days: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "surveys_admin.html")]
struct SurveysAdminPage {
    layout: Layout,
    definitions: Vec<DefinitionLine>,
    s: SurveySettings,
    error: Option<String>,
}

async fn admin_page(state: &AppState, user: &WebUser, error: Option<String>) -> PageResult {
    let by = &user.principal;
    by.require_admin().map_err(PageError::from)?;
    let definitions = state
        .store
        .survey_definitions(by)
        .await?
        .into_iter()
        .map(|d| DefinitionLine {
            id: d.id,
            kind: d.spec.kind.label().to_owned(),
            name: d.spec.name,
            question: d.spec.question,
            reasons: d.spec.reasons.join(", "),
            delay_minutes: d.spec.delay_minutes,
            sample_percent: d.spec.sample_percent,
            every_days: d.spec.every_days.map(|d| d.to_string()).unwrap_or_default(),
            active: d.spec.active,
        })
        .collect();
    let s = state.store.survey_settings(by).await?;
    let refused = error.is_some();
    render_form(&SurveysAdminPage { layout: user.layout("Surveys"), definitions, s, error }, refused)
}

pub async fn admin(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    admin_page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: String,
    fatigue_days: String,
    csat_threshold: String,
    ces_threshold: String,
    nps_threshold: String,
    followup_owner: String,
    followup_minutes: String,
    followup_business: Option<String>,
    change_window_minutes: String,
    expiry_days: String,
}

fn required(field: &str, raw: &str) -> Result<i64, PageError> {
    number(field, raw.trim())?.ok_or_else(|| kept_core::FieldError::new("required", field, "is required").into())
}

pub async fn save_settings(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(f): WebForm<SettingsForm>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    let result = async {
        let s = SurveySettings {
            fatigue_days: required("fatigue_days", &f.fatigue_days)?,
            thresholds: Thresholds {
                csat: required("csat_threshold", &f.csat_threshold)?,
                ces: required("ces_threshold", &f.ces_threshold)?,
                nps: required("nps_threshold", &f.nps_threshold)?,
            },
            followup_owner: f.followup_owner.clone(),
            followup_minutes: required("followup_minutes", &f.followup_minutes)?,
            followup_business: f.followup_business.is_some(),
            change_window_minutes: required("change_window_minutes", &f.change_window_minutes)?,
            expiry_days: required("expiry_days", &f.expiry_days)?,
        };
        state.store.set_survey_settings(&user.principal, s, state.now()).await.map_err(PageError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/surveys")),
        Err(e) => admin_page(&state, &user, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct DefinitionForm {
    csrf: String,
    kind: String,
    name: String,
    question: Option<String>,
    comment_prompt: Option<String>,
    /// One reason per line.
    reasons: Option<String>,
    delay_minutes: Option<String>,
    sample_percent: Option<String>,
    every_days: Option<String>,
}

pub async fn create_definition(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(f): WebForm<DefinitionForm>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    let result = async {
        let kind = SurveyKind::parse("kind", &f.kind)?;
        let spec = SurveySpec {
            kind,
            name: f.name.clone(),
            question: given(&f.question).unwrap_or(kind.default_question()).to_owned(),
            comment_prompt: given(&f.comment_prompt).map(str::to_owned),
            reasons: f
                .reasons
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            delay_minutes: number("delay_minutes", given(&f.delay_minutes).unwrap_or("0"))?.unwrap_or(0),
            sample_percent: number("sample_percent", given(&f.sample_percent).unwrap_or("100"))?.unwrap_or(100),
            every_days: number("every_days", given(&f.every_days).unwrap_or(""))?,
            active: true,
        };
        state.store.create_survey_definition(&user.principal, spec, state.now()).await.map_err(PageError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/surveys")),
        Err(e) => admin_page(&state, &user, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// Switches a definition on or off (off: no new invitations; answers to sent ones still count).
pub async fn toggle_definition(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(f): WebForm<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    let by = &user.principal;
    let d = state.store.survey_definition(by, id).await?;
    let spec = SurveySpec { active: !d.spec.active, ..d.spec };
    state.store.update_survey_definition(by, id, spec, state.now()).await?;
    Ok(see_other("/admin/surveys"))
}

/// The re-survey button on a recovery task of the case page.
pub async fn resurvey(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path((id, task)): Path<(i64, i64)>,
    WebForm(f): WebForm<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    state.store.resurvey(&user.principal, task, state.now()).await?;
    Ok(see_other(&format!("/cases/{id}")))
}
