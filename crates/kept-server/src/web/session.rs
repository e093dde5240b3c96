//! Browser sessions: the cookie, the signed-in person, CSRF checks, and the
//! error page. Session cookies are HttpOnly and SameSite=Lax; every form
//! that changes something carries the session's CSRF token.

use crate::auth::secrets::{constant_time_eq, digest};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kept_core::people::User;
use kept_core::permissions::Principal;
use kept_store::StoreError;

pub const SESSION_COOKIE: &str = "kept_session";
pub const LOGIN_CSRF_COOKIE: &str = "kept_login_csrf";

/// The person signed in to this browser.
pub struct WebUser {
    pub user: User,
    pub principal: Principal,
    pub csrf: String,
}

impl WebUser {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if constant_time_eq(sent, &self.csrf) { Ok(()) } else { Err(PageError::Csrf) }
    }

    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user_name: Some(self.user.name.to_string()),
            staff: self.principal.is_staff(),
            admin: self.principal.is_admin(),
            csrf: self.csrf.clone(),
        }
    }
}

/// What every page's frame needs.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub title: String,
    pub user_name: Option<String>,
    pub staff: bool,
    pub admin: bool,
    pub csrf: String,
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site, Secure when
/// served over TLS. Values are URL-safe base64, so need no quoting.
pub fn build_cookie(name: &'static str, value: String, secure: bool, max_age_secs: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(secs) = max_age_secs {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    c
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie_value(&parts.headers, SESSION_COOKIE).ok_or(PageError::SignIn)?;
        let session = state.store.session(&digest(token), state.now()).await?.ok_or(PageError::SignIn)?;
        Ok(WebUser { user: session.user, principal: session.principal, csrf: session.csrf_token })
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the login page.
    SignIn,
    /// A form without the right CSRF token.
    Csrf,
    /// Anything the API would answer with an error.
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<kept_core::DomainError> for PageError {
    fn from(e: kept_core::DomainError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<kept_core::FieldError> for PageError {
    fn from(e: kept_core::FieldError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<crate::auth::secrets::SecretError> for PageError {
    fn from(e: crate::auth::secrets::SecretError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Api(ApiError::internal(&e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::SignIn => return Redirect::to("/login").into_response(),
            PageError::Csrf => {
                (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.".to_owned())
            }
            PageError::Api(e) => {
                let message = match &e.field {
                    Some(f) if !f.is_empty() => format!("{} ({f})", e.message),
                    _ => e.message.clone(),
                };
                (e.status, message)
            }
        };
        let page = ErrorPage {
            layout: Layout { title: "Error".into(), ..Layout::default() },
            status: status.as_u16(),
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;

/// Renders a template into a response.
pub fn render(t: &impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// Renders a page that may carry a refusal: 422 when it does, so that
/// browsers, tests and monitoring see the form was not accepted.
pub fn render_form(t: &impl Template, refused: bool) -> PageResult {
    let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, render(t)?).into_response())
}

/// The message to show a person on the form they sent, for refusals they
/// can fix (4xx other than "not found"); any other error passes on.
pub fn refusal(e: PageError) -> Result<String, PageError> {
    match e {
        PageError::Api(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            Ok(match e.field.filter(|f| !f.is_empty()) {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message,
            })
        }
        other => Err(other),
    }
}

/// After a successful form post: back to a page (303, so reload does not repost).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Whether htmx made this request (and wants a fragment).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

impl axum::extract::OptionalFromRequestParts<AppState> for WebUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        match <WebUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(PageError::SignIn) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A signed-in member of staff; customers are sent to their portal.
pub struct StaffUser(pub WebUser);

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = <WebUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if user.principal.is_staff() { Ok(StaffUser(user)) } else { Err(Redirect::to("/portal").into_response()) }
    }
}

/// A signed-in customer contact; staff are sent to their queue.
pub struct ContactUser(pub WebUser);

impl FromRequestParts<AppState> for ContactUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = <WebUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if user.principal.is_staff() { Err(Redirect::to("/queue").into_response()) } else { Ok(ContactUser(user)) }
    }
}
