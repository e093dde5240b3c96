//! /login and /logout.

use super::form::WebForm;
use super::session::{
    LOGIN_CSRF_COOKIE, Layout, PageResult, SESSION_COOKIE, WebUser, build_cookie, cookie_value, render,
};
use crate::api::extract::ClientAddr;
use crate::auth::login::{LoginOutcome, check_password};
use crate::auth::secrets::{constant_time_eq, digest, random_secret};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    login_csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// Shows the login form with a fresh login CSRF token (double-submitted:
/// once in a cookie, once in the form), so another site cannot log a
/// browser in to an account of its choosing.
fn login_page(state: &AppState, email: String, error: Option<String>, status: StatusCode) -> PageResult {
    let token = random_secret()?;
    let page = LoginPage {
        layout: Layout { title: "Log in".into(), ..Layout::default() },
        login_csrf: token.clone(),
        email,
        error,
    };
    let cookie = build_cookie(LOGIN_CSRF_COOKIE, token, state.config.secure_cookies, Some(3600));
    Ok((status, [(SET_COOKIE, cookie)], render(&page)?).into_response())
}

pub async fn show_login(State(state): State<AppState>, user: Option<WebUser>) -> PageResult {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&state, String::new(), None, StatusCode::OK)
}

pub async fn do_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddr,
    WebForm(form): WebForm<LoginForm>,
) -> PageResult {
    let expected = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected, &form.csrf) {
        let msg = "Your login form expired. Please try again.".to_owned();
        return login_page(&state, form.email, Some(msg), StatusCode::FORBIDDEN);
    }
    let user = match check_password(&state, &form.email, &form.password, &client.0).await? {
        LoginOutcome::Ok(user) => user,
        LoginOutcome::Refused => {
            return login_page(
                &state,
                form.email,
                Some("The email or password is wrong.".into()),
                StatusCode::UNAUTHORIZED,
            );
        }
        LoginOutcome::Locked(wait) => {
            let msg = format!("Too many failed attempts. Try again in {} minutes.", wait.div_ceil(60));
            return login_page(&state, form.email, Some(msg), StatusCode::TOO_MANY_REQUESTS);
        }
    };
    let (token, csrf) = (random_secret()?, random_secret()?);
    let now = state.now();
    let ttl = SignedDuration::try_from(state.config.session_ttl).map_err(|e| ApiError::internal(&e))?;
    let expires = now.checked_add(ttl).map_err(|e| ApiError::internal(&e))?;
    state.store.create_session(user.id, &digest(&token), &csrf, now, expires).await?;
    let secure = state.config.secure_cookies;
    let session = build_cookie(SESSION_COOKIE, token, secure, Some(ttl.as_secs()));
    let clear = build_cookie(LOGIN_CSRF_COOKIE, String::new(), secure, Some(0));
    let to = if user.role.is_staff() { "/queue" } else { "/portal" };
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("location", to)
        .header(SET_COOKIE, session)
        .header(SET_COOKIE, clear)
        .body(axum::body::Body::empty())
        .map_err(|e| ApiError::internal(&e))?)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: WebUser,
    WebForm(form): WebForm<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_session(&digest(token)).await?;
    }
    let clear = build_cookie(SESSION_COOKIE, String::new(), state.config.secure_cookies, Some(0));
    Ok((StatusCode::SEE_OTHER, [("location", "/login".to_owned()), (SET_COOKIE.as_str(), clear)]).into_response())
}

pub async fn home(user: Option<WebUser>) -> Response {
    match user {
        Some(u) if u.principal.is_staff() => Redirect::to("/queue").into_response(),
        Some(_) => Redirect::to("/portal").into_response(),
        None => Redirect::to("/login").into_response(),
    }
}
