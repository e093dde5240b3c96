//! The customer portal: the account's cases, opening one, replying.

use super::form::{WebForm, given};
use super::session::{ContactUser, Layout, PageError, PageResult, WebUser, is_htmx, render, render_form, see_other};
use super::views::{CaseRow, MessageLine, show_time};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use kept_core::cases::Channel;
use kept_core::ids::CaseId;
use kept_core::values::{MessageBody, Subject};
use kept_store::{CaseFilter, CaseSort, Cursor, NewCase, NewMessage};
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    layout: Layout,
    rows: Vec<CaseRow>,
    next_url: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PortalParams {
    cursor: Option<String>,
}

pub async fn portal(
    State(state): State<AppState>,
    ContactUser(user): ContactUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let p: PortalParams = crate::api::extract::parse_query(raw.as_deref().unwrap_or(""))?;
    let sort = CaseSort::default();
    let cursor = given(&p.cursor).map(|c| Cursor::decode(c, sort)).transpose()?;
    let page = state.store.list_cases(&user.principal, &CaseFilter::default(), sort, cursor, 50).await?;
    let rows = page.cases.iter().map(CaseRow::from).collect();
    let next_url = page.next_cursor.map(|c| format!("/portal?cursor={c}"));
    render(&PortalPage { layout: user.layout("Your cases"), rows, next_url })
}

#[derive(Template)]
#[template(path = "portal_new.html")]
struct PortalNew {
    layout: Layout,
    subject: String,
    message: String,
    error: Option<String>,
}

pub async fn show_new(ContactUser(user): ContactUser) -> PageResult {
    render(&PortalNew {
        layout: user.layout("Open a case"),
        subject: String::new(),
        message: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct NewForm {
    csrf: String,
    subject: String,
    message: String,
}

pub async fn create(
    State(state): State<AppState>,
    ContactUser(user): ContactUser,
    WebForm(form): WebForm<NewForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<i64, PageError> = async {
        let new = NewCase {
            subject: Subject::parse("subject", &form.subject)?,
            body: MessageBody::parse("message", &form.message)?,
            requester_id: None,
            account_id: None,
            team_id: None,
            assignee_id: None,
            channel: Channel::Web,
            case_type: None,
            priority: None,
            tags: BTreeSet::new(),
        };
        Ok(state.store.create_case(&user.principal, new, state.now(), None).await?.0.case.id.0)
    }
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/portal/cases/{id}"))),
        Err(PageError::Api(e)) if e.status.is_client_error() => {
            let page = PortalNew {
                layout: user.layout("Open a case"),
                subject: form.subject,
                message: form.message,
                error: Some(e.message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "portal_case.html")]
struct PortalCase {
    layout: Layout,
    id: i64,
    subject: String,
    status: String,
    status_label: String,
    requester: String,
    created: String,
    created_iso: String,
    follow_up_of: Option<i64>,
    messages: Vec<MessageLine>,
    /// (download link, file name, size)
    attachments: Vec<(String, String, String)>,
    promises: Vec<super::promise_views::PromiseLine>,
    error: Option<String>,
}

async fn case_page(state: &AppState, user: &WebUser, id: CaseId, error: Option<String>) -> PageResult {
    let detail = state.store.get_case(&user.principal, id).await?;
    let messages = state.store.case_messages(&user.principal, id).await?;
    let attachments = super::views::attachment_lines(&state.store.case_attachments(&user.principal, id).await?);
    let now = state.now();
    let promises = state.store.case_promises(&user.principal, id, now, &state.config.time_zone).await?;
    let c = &detail.case;
    let page = PortalCase {
        layout: user.layout(format!("Case {}", c.id)),
        id: c.id.0,
        subject: c.subject.to_string(),
        status: c.status.to_string(),
        status_label: c.status.label().to_owned(),
        requester: detail.requester_name.clone(),
        created: show_time(c.created_at),
        created_iso: c.created_at.to_string(),
        follow_up_of: c.follow_up_of.map(|f| f.0),
        messages: messages.iter().map(MessageLine::from).collect(),
        attachments,
        promises: promises.iter().map(|p| super::promise_views::PromiseLine::new(p, now)).collect(),
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn show_case(
    State(state): State<AppState>,
    ContactUser(user): ContactUser,
    Path(id): Path<i64>,
) -> PageResult {
    case_page(&state, &user, CaseId(id), None).await
}

#[derive(Deserialize)]
pub struct ReplyForm {
    csrf: String,
    body: String,
}

pub async fn reply(
    State(state): State<AppState>,
    ContactUser(user): ContactUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    WebForm(form): WebForm<ReplyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = CaseId(id);
    let body = match MessageBody::parse("body", &form.body) {
        Ok(b) => b,
        Err(e) => return case_page(&state, &user, id, Some(e.message)).await,
    };
    let out = state
        .store
        .add_message(&user.principal, id, NewMessage { body, public: true, status: None }, state.now())
        .await?;
    let to = format!("/portal/cases/{}", out.case.case.id);
    if out.follow_up && is_htmx(&headers) {
        // A closed case continued in a new one: move the whole page there.
        return Ok(([("hx-redirect", to)], StatusCode::OK).into_response());
    }
    Ok(see_other(&to))
}
