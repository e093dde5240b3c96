//! The agent queue (/queue) and opening a case on a customer's behalf (/cases/new).

use super::form::{WebForm, form_id, given};
use super::session::{Layout, PageError, PageResult, StaffUser, is_htmx, render, see_other};
use super::views::{CaseRow, Choice, choices};
use crate::api::parse::CaseQuery;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use kept_core::cases::{Channel, Priority, Status};
use kept_core::ids::TeamId;
use kept_core::permissions::Principal;
use kept_core::values::{Email, MessageBody, Subject};
use kept_store::{AssigneeFilter, CaseSort, Cursor, NewCase};
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Debug, Default, Deserialize)]
pub struct QueueParams {
    view: Option<String>,
    status: Option<String>,
    team_id: Option<String>,
    priority: Option<String>,
    account_id: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Layout,
    view: String,
    status_options: Vec<Choice>,
    teams: Vec<Choice>,
    priorities: Vec<Choice>,
    q: String,
    rows: Vec<CaseRow>,
    next_url: Option<String>,
}

#[derive(Template)]
#[template(path = "queue_rows.html")]
struct QueueRows {
    rows: Vec<CaseRow>,
    next_url: Option<String>,
}

const STATUS_OPTIONS: &[(&str, &str)] = &[
    ("unsolved", "Unsolved"),
    ("new", "New"),
    ("open", "Open"),
    ("pending", "Pending (customer)"),
    ("on_hold", "On hold"),
    ("solved", "Solved"),
    ("closed", "Closed"),
    ("all", "All"),
];

fn statuses(choice: &str) -> Vec<Status> {
    match choice {
        "all" => Vec::new(),
        "unsolved" => vec![Status::New, Status::Open, Status::Pending, Status::OnHold],
        other => Status::parse("status", other).map(|s| vec![s]).unwrap_or_default(),
    }
}

pub async fn queue(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> PageResult {
    let p: QueueParams = crate::api::extract::parse_query(raw.as_deref().unwrap_or(""))?;
    let view = given(&p.view).unwrap_or("mine").to_owned();
    let status = given(&p.status).unwrap_or("unsolved").to_owned();
    let team_id = form_id("team_id", &p.team_id)?;
    let priority = given(&p.priority).unwrap_or("").to_owned();
    let q = given(&p.q).unwrap_or("").to_owned();
    let by = &user.principal;
    let (rows, next_cursor) = if q.is_empty() {
        let query = CaseQuery {
            priority: Some(priority.clone()),
            account_id: form_id("account_id", &p.account_id)?,
            team_id,
            ..CaseQuery::default()
        };
        let mut filter = query.filter(by)?;
        filter.statuses = statuses(&status);
        filter.assignee = match view.as_str() {
            "mine" => Some(AssigneeFilter::User(by.user_id)),
            "unassigned" => Some(AssigneeFilter::Unassigned),
            _ => None,
        };
        // Nearest deadline first: what will break next comes first.
        let sort = CaseSort { key: kept_store::SortKey::NextBreach, direction: kept_store::SortDirection::Asc };
        let cursor = given(&p.cursor).map(|c| Cursor::decode(c, sort)).transpose()?;
        let page = state.store.list_cases(by, &filter, sort, cursor, 50).await?;
        (page.cases, page.next_cursor)
    } else {
        (state.store.search_cases(by, &q, 100).await?, None)
    };
    let now = state.now();
    let rows: Vec<CaseRow> = rows.iter().map(|d| CaseRow::from(d).with_deadline(d.next_breach_at, now)).collect();
    let next_url = next_cursor.map(|c| {
        let team = team_id.map(|t| t.to_string()).unwrap_or_default();
        format!("/queue?view={view}&status={status}&team_id={team}&priority={priority}&cursor={c}")
    });
    if is_htmx(&headers) {
        return render(&QueueRows { rows, next_url });
    }
    let page = QueuePage {
        layout: user.layout("Queue"),
        status_options: choices(STATUS_OPTIONS.iter().copied(), &status),
        teams: choices(
            std::iter::once((String::new(), "All my teams".to_owned()))
                .chain(my_teams(&state, by).await?.into_iter().map(|(id, n)| (id.to_string(), n))),
            &team_id.map(|t| t.to_string()).unwrap_or_default(),
        ),
        priorities: choices(
            std::iter::once(("", "Any")).chain(Priority::ALL.iter().map(|p| (p.as_str(), p.as_str()))),
            &priority,
        ),
        view,
        q,
        rows,
        next_url,
    };
    render(&page)
}

/// The teams a person belongs to (all teams for an admin without any).
pub async fn my_teams(state: &AppState, by: &Principal) -> Result<Vec<(i64, String)>, PageError> {
    let teams = state.store.list_teams(by).await?;
    let mine: Vec<_> = teams.iter().filter(|t| by.in_team(t.id)).map(|t| (t.id.0, t.name.to_string())).collect();
    Ok(if mine.is_empty() && by.is_admin() {
        teams.iter().map(|t| (t.id.0, t.name.to_string())).collect()
    } else {
        mine
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct NewCaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    requester_email: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    channel: String,
    team_id: Option<i64>,
    #[serde(default)]
    priority: String,
}

#[derive(Template)]
#[template(path = "new_case.html")]
struct NewCasePage {
    layout: Layout,
    form: NewCaseForm,
    channels: Vec<Choice>,
    teams: Vec<Choice>,
    priorities: Vec<Choice>,
    error: Option<String>,
}

async fn new_case_page(
    state: &AppState,
    user: &super::session::WebUser,
    form: NewCaseForm,
    error: Option<String>,
) -> PageResult {
    let teams = state.store.list_teams(&user.principal).await?;
    let page = NewCasePage {
        layout: user.layout("New case"),
        channels: choices(
            Channel::ALL.iter().filter(|c| **c != Channel::Internal).map(|c| (c.as_str(), c.as_str())),
            &form.channel,
        ),
        teams: choices(
            teams.iter().filter(|t| !t.internal).map(|t| (t.id.0, t.name.to_string())),
            &form.team_id.map(|t| t.to_string()).unwrap_or_default(),
        ),
        priorities: choices(Priority::ALL.iter().map(|p| (p.as_str(), p.as_str())), &form.priority),
        form,
        error,
    };
    let status =
        if page.error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    Ok((status, render(&page)?).into_response())
}

use axum::response::IntoResponse;

pub async fn show_new_case(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    // Route to the agent's own customer-facing team unless they choose another.
    let teams = state.store.list_teams(&user.principal).await?;
    let own = teams.iter().find(|t| !t.internal && user.principal.in_team(t.id)).map(|t| t.id.0);
    let form =
        NewCaseForm { channel: "phone".into(), priority: "normal".into(), team_id: own, ..NewCaseForm::default() };
    new_case_page(&state, &user, form, None).await
}

pub async fn create_case(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(form): WebForm<NewCaseForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    match try_create(&state, &user.principal, &form).await {
        Ok(id) => Ok(see_other(&format!("/cases/{id}"))),
        Err(PageError::Api(e)) if e.status.is_client_error() => {
            let message = e.message.clone();
            new_case_page(&state, &user, form, Some(message)).await
        }
        Err(e) => Err(e),
    }
}

async fn try_create(state: &AppState, by: &Principal, form: &NewCaseForm) -> Result<i64, PageError> {
    let email = Email::parse("requester_email", &form.requester_email)?;
    let requester = state.store.user_by_email(&email).await?.filter(|u| !u.role.is_staff()).ok_or_else(|| {
        kept_core::FieldError::new(
            "unknown_contact",
            "requester_email",
            "no customer contact has this email; add them on their account first",
        )
    })?;
    let new = NewCase {
        subject: Subject::parse("subject", &form.subject)?,
        body: MessageBody::parse("message", &form.message)?,
        requester_id: Some(requester.id),
        account_id: None,
        team_id: form.team_id.map(TeamId),
        assignee_id: None,
        channel: Channel::parse("channel", &form.channel)?,
        case_type: None,
        priority: Some(Priority::parse("priority", &form.priority)?),
        tags: BTreeSet::new(),
    };
    let (detail, _) = state.store.create_case(by, new, state.now(), None).await?;
    Ok(detail.case.id.0)
}
