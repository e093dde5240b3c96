//! The case page for staff (/cases/{id}): conversation, reply or note,
//! status and assignment, internal requests, timeline.

use super::form::{WebForm, comma_list, form_id, given};
use super::promise_views::{PromiseLine, TaskLine};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, refusal, render_form, see_other};
use super::timeline::{Names, TimelineLine, describe};
use super::views::{Choice, MessageLine, choices, show_time};
use crate::api::parse::{RawPatch, opt};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use kept_core::cases::{Priority, Status};
use kept_core::ids::{CaseId, TeamId};
use kept_core::permissions::CaseScope;
use kept_core::values::{MessageBody, Subject};
use kept_store::{CaseDetail, CaseFilter, CaseSort, NewInternalRequest, NewMessage, UserFilter};
use serde::Deserialize;

pub struct CaseView {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub status_label: String,
    pub priority: String,
    pub channel: String,
    pub case_type: String,
    pub tags: String,
    pub requester: String,
    pub requester_email: String,
    pub account: String,
    pub tier: String,
    pub created: String,
    pub created_iso: String,
}

impl From<&CaseDetail> for CaseView {
    fn from(d: &CaseDetail) -> Self {
        let c = &d.case;
        Self {
            id: c.id.0,
            subject: c.subject.to_string(),
            status: c.status.to_string(),
            status_label: c.status.label().to_owned(),
            priority: c.priority.to_string(),
            channel: c.channel.to_string(),
            case_type: c.case_type.to_string(),
            tags: c.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
            requester: d.requester_name.clone(),
            requester_email: d.requester_email.clone(),
            account: d.account_name.clone(),
            tier: d.account_tier.clone(),
            created: show_time(c.created_at),
            created_iso: c.created_at.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    layout: Layout,
    c: CaseView,
    links: Vec<(String, i64, String)>,
    messages: Vec<MessageLine>,
    /// (download link, file name, size)
    attachments: Vec<(String, String, String)>,
    timeline: Vec<TimelineLine>,
    can_work: bool,
    can_write: bool,
    next_statuses: Vec<(&'static str, &'static str)>,
    priorities: Vec<Choice>,
    teams: Vec<Choice>,
    other_teams: Vec<(i64, String)>,
    assignees: Vec<Choice>,
    promises: Vec<PromiseLine>,
    tasks: Vec<TaskLine>,
    surveys: Vec<SurveyLine>,
    /// Where the case's time went so far.
    time: super::time_bars::TimeBars,
    action_kinds: &'static [&'static str],
    promise_due_default: String,
    time_zone: String,
    error: Option<String>,
}

async fn case_page(state: &AppState, user: &WebUser, id: CaseId, error: Option<String>) -> PageResult {
    let by = &user.principal;
    let detail = state.store.get_case(by, id).await?;
    let messages = state.store.case_messages(by, id).await?;
    let events = state.store.case_events(by, id).await?;
    let attachments = super::views::attachment_lines(&state.store.case_attachments(by, id).await?);
    let teams = state.store.list_teams(by).await?;
    let staff =
        state.store.list_users(by, &UserFilter { staff: Some(true), limit: 500, ..UserFilter::default() }).await?;
    let members = state.store.team_members(by, detail.case.team_id).await?;
    let now = state.now();
    let promises = state.store.case_promises(by, id, now, &state.config.time_zone).await?;
    let tasks = state.store.case_recovery_tasks(by, id).await?;
    let surveys = state.store.case_surveys(by, id).await?;
    let time = super::time_bars::case_bars(&state.store.case_time_split(by, id, now).await?);
    let children = CaseFilter { parent_case_id: Some(id), ..CaseFilter::default() };
    let children = state.store.list_cases(by, &children, CaseSort::default(), None, 50).await?.cases;
    let mut names = Names::default();
    names.people.extend(staff.iter().map(|u| (u.id.0, u.name.to_string())));
    names.teams.extend(teams.iter().map(|t| (t.id.0, t.name.to_string())));
    let c = &detail.case;
    let mut links = Vec::new();
    if let Some(p) = c.parent_case_id {
        links.push(("Internal request for".to_owned(), p.0, String::new()));
    }
    if let Some(f) = c.follow_up_of {
        links.push(("Follow-up of".to_owned(), f.0, String::new()));
    }
    for child in &children {
        let label = format!("Request to {} ({}):", child.team_name, child.case.status.label());
        links.push((label, child.case.id.0, child.case.subject.to_string()));
    }
    let can_work = by.can_work_case(CaseScope::from(c));
    // A customer case moves between customer-facing teams; an internal
    // request between internal ones.
    let same_kind = teams
        .iter()
        .filter(|t| t.id == c.team_id || t.internal == c.is_internal())
        .map(|t| (t.id.0, t.name.to_string()));
    let page = CasePage {
        layout: user.layout(format!("Case {}", c.id)),
        links,
        messages: messages.iter().map(MessageLine::from).collect(),
        attachments,
        timeline: events.iter().map(|e| describe(e, &names)).collect(),
        can_work,
        can_write: !(can_work && c.status == Status::Closed),
        next_statuses: Status::ALL
            .iter()
            .filter(|s| c.status.can_become(**s))
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        priorities: choices(Priority::ALL.iter().map(|p| (p.as_str(), p.as_str())), c.priority.as_str()),
        teams: choices(same_kind, &c.team_id.to_string()),
        other_teams: teams
            .iter()
            .filter(|t| t.id != c.team_id && Some(t.id) != c.requesting_team_id)
            .map(|t| (t.id.0, t.name.to_string()))
            .collect(),
        assignees: choices(
            std::iter::once((String::new(), "Unassigned".to_owned()))
                .chain(members.iter().filter(|u| u.active).map(|u| (u.id.0.to_string(), u.name.to_string()))),
            &c.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
        ),
        promises: promises.iter().map(|p| PromiseLine::new(p, now)).collect(),
        tasks: tasks.iter().map(TaskLine::from).collect(),
        surveys: surveys.iter().map(SurveyLine::from).collect(),
        time,
        action_kinds: kept_store::RECOVERY_ACTION_KINDS,
        promise_due_default: local_input(
            now.checked_add(jiff::SignedDuration::from_hours(2)).unwrap_or(now),
            &state.config.time_zone,
        ),
        time_zone: state.config.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        error,
        c: CaseView::from(&detail),
    };
    render_form(&page, page.error.is_some())
}

pub async fn show_case(State(state): State<AppState>, StaffUser(user): StaffUser, Path(id): Path<i64>) -> PageResult {
    case_page(&state, &user, CaseId(id), None).await
}

/// Runs a change; on a refusal the user sees the case again with the reason.
async fn after(state: &AppState, user: &WebUser, id: CaseId, result: Result<String, PageError>) -> PageResult {
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => case_page(state, user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct ReplyForm {
    csrf: String,
    body: String,
    visibility: Option<String>,
    status: Option<String>,
}

pub async fn reply(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<ReplyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let result = async {
        let new = NewMessage {
            body: MessageBody::parse("body", &form.body)?,
            public: given(&form.visibility) != Some("internal"),
            status: opt(given(&form.status), |s| Status::parse("status", s))?,
        };
        let out = state.store.add_message(&user.principal, id, new, state.now()).await?;
        Ok(format!("/cases/{}", out.case.case.id))
    }
    .await;
    after(&state, &user, id, result).await
}

#[derive(Deserialize)]
pub struct UpdateForm {
    csrf: String,
    status: Option<String>,
    priority: Option<String>,
    team_id: Option<String>,
    assignee_id: Option<String>,
    case_type: Option<String>,
    tags: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<UpdateForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let result = async {
        let tags = comma_list(&form.tags);
        let patch = RawPatch {
            status: given(&form.status),
            priority: given(&form.priority),
            team_id: form_id("team_id", &form.team_id)?,
            assignee_id: Some(form_id("assignee_id", &form.assignee_id)?),
            case_type: given(&form.case_type),
            tags: Some(&tags),
            ..RawPatch::default()
        }
        .parse()?;
        state.store.update_case(&user.principal, id, patch, state.now()).await?;
        Ok(format!("/cases/{id}"))
    }
    .await;
    after(&state, &user, id, result).await
}

#[derive(Deserialize)]
pub struct InternalRequestForm {
    csrf: String,
    team_id: Option<String>,
    subject: String,
    message: String,
}

pub async fn internal_request(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<InternalRequestForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let result = async {
        let team = form_id("team_id", &form.team_id)?
            .ok_or_else(|| kept_core::FieldError::new("required", "team_id", "choose a team"))?;
        let request = NewInternalRequest {
            team_id: TeamId(team),
            subject: Subject::parse("subject", &form.subject)?,
            body: MessageBody::parse("message", &form.message)?,
            priority: None,
        };
        let child = state.store.open_internal_request(&user.principal, id, request, state.now()).await?;
        Ok(format!("/cases/{}", child.case.id))
    }
    .await;
    after(&state, &user, id, result).await
}

/// A `datetime-local` value in the organisation's time zone.
pub fn local_input(t: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string()
}

/// Reads a `datetime-local` value as a time in the organisation's zone
/// (D-16 for times that do not exist or occur twice).
pub fn from_local_input(
    field: &str,
    raw: &str,
    tz: &jiff::tz::TimeZone,
) -> Result<jiff::Timestamp, kept_core::FieldError> {
    let invalid = || kept_core::FieldError::new("invalid_time", field, "must be a date and time like 2024-06-03T15:00");
    let civil: jiff::civil::DateTime = raw.trim().parse().map_err(|_| invalid())?;
    tz.to_timestamp(civil).map_err(|_| invalid())
}

#[derive(Deserialize)]
pub struct PromiseForm {
    csrf: String,
    kind: String,
    due: String,
    description: String,
}

pub async fn make_promise(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<PromiseForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let result = async {
        let new = kept_store::NewAgentPromise {
            kind: kept_core::promises::ClockKind::parse("kind", &form.kind)?,
            due_at: from_local_input("due", &form.due, &state.config.time_zone)?,
            description: form.description.clone(),
            owner: None,
        };
        state.store.make_promise(&user.principal, id, new, state.now()).await?;
        Ok(format!("/cases/{id}"))
    }
    .await;
    after(&state, &user, id, result).await
}

#[derive(Deserialize)]
pub struct SettleForm {
    csrf: String,
}

pub async fn fulfil_promise(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path((id, promise)): Path<(i64, i64)>,
    WebForm(form): WebForm<SettleForm>,
) -> PageResult {
    settle(state, user, id, promise, form, true).await
}

pub async fn cancel_promise(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path((id, promise)): Path<(i64, i64)>,
    WebForm(form): WebForm<SettleForm>,
) -> PageResult {
    settle(state, user, id, promise, form, false).await
}

async fn settle(state: AppState, user: WebUser, id: i64, promise: i64, form: SettleForm, fulfil: bool) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let result = state
        .store
        .settle_promise(&user.principal, id, promise, fulfil, state.now())
        .await
        .map(|()| format!("/cases/{id}"))
        .map_err(PageError::from);
    after(&state, &user, id, result).await
}

#[derive(Deserialize)]
pub struct RecoveryForm {
    csrf: String,
    kind: String,
    amount: Option<String>,
    note: String,
}

pub async fn record_recovery(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path((id, task)): Path<(i64, i64)>,
    WebForm(form): WebForm<RecoveryForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let result = async {
        let amount_cents = given(&form.amount)
            .map(|a| {
                parse_money(a)
                    .ok_or_else(|| kept_core::FieldError::new("invalid_value", "amount", "an amount like 25 or 25.50"))
            })
            .transpose()?;
        let action = kept_store::NewRecoveryAction { kind: form.kind.clone(), amount_cents, note: form.note.clone() };
        state.store.record_recovery_action(&user.principal, task, action, state.now()).await?;
        Ok(format!("/cases/{id}"))
    }
    .await;
    after(&state, &user, id, result).await
}

/// "25" or "25.5" or "25.50" → 2550 cents.
fn parse_money(raw: &str) -> Option<i64> {
    let (whole, frac) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    if frac.len() > 2 || whole.is_empty() {
        return None;
    }
    let cents = format!("{frac:0<2}").parse::<i64>().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

#[derive(Deserialize)]
pub struct CloseForm {
    csrf: String,
    outcome: String,
    note: String,
}

pub async fn close_recovery(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path((id, task)): Path<(i64, i64)>,
    WebForm(form): WebForm<CloseForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let recovered = form.outcome == "recovered";
    let result = state
        .store
        .close_recovery_task(&user.principal, task, recovered, &form.note, state.now())
        .await
        .map(|()| format!("/cases/{id}"))
        .map_err(PageError::from);
    after(&state, &user, id, result).await
}

/// Downloads a file that came with a message (staff and the case's customers).
pub async fn attachment(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<axum::response::Response, PageError> {
    let (info, bytes) = state.store.attachment(&user.principal, CaseId(id), attachment).await?;
    Ok(crate::api::mail::download(&info, bytes))
}

/// A survey invitation on the case page: its status and, once answered, the answer.
pub struct SurveyLine {
    kind: String,
    status: String,
    when: String,
    when_iso: String,
    answer: Option<String>,
    comment: String,
    resurvey: bool,
}

impl From<&kept_store::InvitationView> for SurveyLine {
    fn from(i: &kept_store::InvitationView) -> Self {
        let when = i.response.as_ref().map(|r| r.answered_at).or(i.sent_at).unwrap_or(i.send_at);
        Self {
            kind: i.kind.label().to_owned(),
            status: i.status.replace('_', " "),
            when: super::views::show_time(when),
            when_iso: when.to_string(),
            answer: i.response.as_ref().map(|r| {
                let mut a = r.score.to_string();
                if r.dissatisfied {
                    a.push_str(" (dissatisfied)");
                }
                if !r.reasons.is_empty() {
                    a.push_str(&format!(" — {}", r.reasons.join(", ")));
                }
                a
            }),
            comment: i.response.as_ref().and_then(|r| r.comment.clone()).unwrap_or_default(),
            resurvey: i.resurvey_task_id.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_money;

    #[test]
    fn money_is_read_in_cents() {
        assert_eq!(parse_money("25"), Some(2500));
        assert_eq!(parse_money("25.5"), Some(2550));
        assert_eq!(parse_money("0.07"), Some(7));
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("x"), None);
    }
}
