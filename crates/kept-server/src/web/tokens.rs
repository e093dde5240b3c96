//! /settings/tokens: a person's API tokens, created (shown once) and revoked.

use super::form::WebForm;
use super::session::{Layout, PageError, PageResult, WebUser, render, see_other};
use super::views::show_time;
use crate::auth::secrets::{digest, new_api_token};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use kept_core::ids::TokenId;
use kept_core::values::Name;
use serde::Deserialize;

pub struct TokenLine {
    id: i64,
    name: String,
    prefix: String,
    created: String,
    created_iso: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenLine>,
    new_secret: Option<String>,
    error: Option<String>,
}

async fn tokens_page(
    state: &AppState,
    user: &WebUser,
    new_secret: Option<String>,
    error: Option<String>,
) -> PageResult {
    let tokens = state.store.list_api_tokens(&user.principal, user.user.id).await?;
    let tokens = tokens
        .into_iter()
        .map(|t| TokenLine {
            id: t.id.0,
            name: t.name,
            prefix: t.prefix,
            created: show_time(t.created_at),
            created_iso: t.created_at.to_string(),
            last_used: t.last_used_at.map_or_else(|| "never".into(), show_time),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = TokensPage { layout: user.layout("API tokens"), tokens, new_secret, error };
    // The page may show a secret: never let it be cached.
    Ok((status, [("cache-control", "no-store")], render(&page)?).into_response())
}

pub async fn tokens(State(state): State<AppState>, user: WebUser) -> PageResult {
    tokens_page(&state, &user, None, None).await
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    csrf: String,
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    user: WebUser,
    WebForm(form): WebForm<NewTokenForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let name = match Name::parse("name", &form.name) {
        Ok(n) => n,
        Err(e) => return tokens_page(&state, &user, None, Some(e.message)).await,
    };
    let secret = new_api_token().map_err(|e| PageError::Api(e.into()))?;
    let prefix: String = secret.chars().take(12).collect();
    state
        .store
        .create_api_token(&user.principal, user.user.id, name.as_str(), &digest(&secret), &prefix, state.now())
        .await?;
    tokens_page(&state, &user, Some(secret), None).await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
}

pub async fn revoke_token(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<RevokeForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state.store.revoke_api_token(&user.principal, TokenId(id), state.now()).await?;
    Ok(see_other("/settings/tokens"))
}
